package serve

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzRequests feeds arbitrary bodies to the JSON endpoints (a
// translation model among the models): the server
// must never crash or answer 5xx for a client's bytes (507, an adaptation
// larger than the whole cache, is a capacity answer and allowed), and every
// refusal is a JSON object with a message.
func FuzzRequests(f *testing.F) {
	dir := writeModels(f, "proto", "sine", "fomaml")
	writeMTModel(f, dir, "tiny-mt")
	s, err := New(Config{ModelDir: dir, Workers: 1, Limits: Limits{MaxSteps: 3, MaxSupport: 20, MaxQueries: 20}})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	ep := randomEpisode(1, 2, 1, 1)
	seed := func(v any) []byte { b, _ := json.Marshal(v); return b }
	f.Add("/v1/adapt", seed(map[string]any{"model": "proto", "support": map[string]any{"inputs": ep.sIn, "labels": ep.sl}}))
	f.Add("/v1/predict", seed(map[string]any{"model": "sine", "support": map[string]any{"inputs": [][]float64{{1}, {2}}, "targets": []float64{0.5, 1}}, "inputs": [][]float64{{3}}}))
	f.Add("/v1/predict", []byte(`{"id":"00","inputs":[[1e999]]}`))
	f.Add("/v1/adapt", []byte(`{"model":"fomaml","steps":-1,"learning_rate":"NaN","support":{"inputs":["iVBORw0KGgo="],"labels":[0]}}`))
	f.Add("/v1/adapt", []byte(`{"model":"../x"}`))
	f.Add("/v1/predict", []byte(`[{"inputs":[[[[]]]]}]`))
	f.Add("/v1/translate", []byte(`{"model":"tiny-mt","texts":["open the file",""],"from":"en","to":"de","beam":2,"nbest":2}`))
	f.Add("/v1/adapt", []byte(`{"model":"tiny-mt","pairs":[{"src":"open","tgt":"deOpen","from":"en","to":"fr"}],"steps":2}`))
	f.Add("/v1/translate", []byte(`{"id":"00","texts":["\ud800"],"from":"en","to":"de","max_len":2}`))
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		if path != "/v1/adapt" && path != "/v1/predict" && path != "/v1/translate" {
			path = "/v1/predict"
		}
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusInsufficientStorage {
			t.Fatalf("%s %q: status %d: %s", path, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 {
			var e struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%s %q: status %d without a JSON error message: %q", path, body, rec.Code, rec.Body.String())
			}
		}
	})
}
