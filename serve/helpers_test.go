package serve

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/tensor"
)

// tiny test models: Conv4 with 8 filters on 28x28, MLP with 8 units.
var testSpecs = map[string]meta.Spec{
	"proto":        {Algorithm: "protonet", Dataset: "omniglot", Hidden: 8},
	"proto-run":    {Algorithm: "protonet", Dataset: "omniglot", Hidden: 8, BatchNorm: "running"},
	"r2d2":         {Algorithm: "r2d2", Dataset: "omniglot", Hidden: 8},
	"fomaml":       {Algorithm: "fomaml", Dataset: "omniglot", Hidden: 8, EvalSteps: 3},
	"maml-run":     {Algorithm: "maml", Dataset: "omniglot", Hidden: 8, BatchNorm: "running", EvalSteps: 2},
	"metasgd":      {Algorithm: "metasgd", Dataset: "omniglot", Hidden: 8, EvalSteps: 2},
	"mamlpp":       {Algorithm: "maml++", Dataset: "omniglot", Hidden: 8, BatchNorm: "per-step", InnerSteps: 2, EvalSteps: 3},
	"anil":         {Algorithm: "anil", Dataset: "omniglot", Hidden: 8, EvalSteps: 2},
	"reptile":      {Algorithm: "reptile", Dataset: "omniglot", Hidden: 8, EvalSteps: 2},
	"sine":         {Algorithm: "maml", Dataset: "sinusoid", Hidden: 8, EvalSteps: 5},
	"proto-5shot":  {Algorithm: "protonet", Dataset: "omniglot", Hidden: 8, Shots: 5},
	"fomaml-3ways": {Algorithm: "fomaml", Dataset: "omniglot", Hidden: 8, Ways: 3, EvalSteps: 1},
}

// writeModels saves the named test models (random initialisation, a
// different seed each) into a new temporary directory.
func writeModels(t testing.TB, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for i, n := range names {
		s, ok := testSpecs[n]
		if !ok {
			t.Fatalf("no test spec %q", n)
		}
		s.Seed = uint64(i + 1)
		b, err := meta.Build(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Save(filepath.Join(dir, n+ModelExt), nil); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// newTest starts a Server over dir behind an httptest server on 127.0.0.1.
func newTest(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.stopOnce.Do(func() { close(s.stop) })
	})
	return s, ts
}

// post sends v (or raw bytes) as JSON and returns the status and body.
func post(t testing.TB, url, token string, v any) (int, []byte) {
	t.Helper()
	var body []byte
	switch b := v.(type) {
	case []byte:
		body = b
	case string:
		body = []byte(b)
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func get(t testing.TB, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// episode is a random classification episode: ways classes, images drawn
// around one random prototype per class (so adaptation has signal).
type episode struct {
	sx, qx   *tensor.Tensor
	sl, ql   []int
	sIn, qIn []Input
}

func randomEpisode(seed uint64, ways, shots, queries int) episode {
	rng := rand.New(rand.NewPCG(seed, 99))
	protos := make([][]float32, ways)
	for c := range protos {
		protos[c] = make([]float32, 784)
		for i := range protos[c] {
			if rng.Float64() < 0.2 {
				protos[c][i] = 1
			}
		}
	}
	var e episode
	draw := func(c int) []float32 {
		v := make([]float32, 784)
		for i := range v {
			v[i] = protos[c][i]
			if rng.Float64() < 0.1 {
				v[i] = 1 - v[i]
			}
		}
		return v
	}
	var sv, qv []float32
	for c := 0; c < ways; c++ {
		for k := 0; k < shots; k++ {
			v := draw(c)
			sv = append(sv, v...)
			e.sl = append(e.sl, c)
			e.sIn = append(e.sIn, ArrayInput(v))
		}
	}
	for c := 0; c < ways; c++ {
		for k := 0; k < queries; k++ {
			v := draw(c)
			qv = append(qv, v...)
			e.ql = append(e.ql, c)
			e.qIn = append(e.qIn, ArrayInput(v))
		}
	}
	e.sx = tensor.FromFloat32(sv, len(e.sl), 1, 28, 28)
	e.qx = tensor.FromFloat32(qv, len(e.ql), 1, 28, 28)
	return e
}

func decodeJSON[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

func adaptOK(t testing.TB, url string, req AdaptRequest) AdaptResponse {
	t.Helper()
	code, b := post(t, url+"/v1/adapt", "", req)
	if code != 200 {
		t.Fatalf("adapt: %d %s", code, b)
	}
	return decodeJSON[AdaptResponse](t, b)
}

func predictOK(t testing.TB, url string, req PredictRequest) PredictResponse {
	t.Helper()
	code, b := post(t, url+"/v1/predict", "", req)
	if code != 200 {
		t.Fatalf("predict: %d %s", code, b)
	}
	return decodeJSON[PredictResponse](t, b)
}
