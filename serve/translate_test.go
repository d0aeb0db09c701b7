package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/mt"
)

// toyTranslations are embedded word-for-word "translations": target word
// = the language's prefix + the capitalised English word.
func toyTranslations(n int, langs ...string) map[string][]data.Segment {
	words := []string{"open", "the", "file", "save", "close", "window", "new", "document", "print", "page"}
	out := map[string][]data.Segment{}
	for _, l := range langs {
		for i := 0; i < n; i++ {
			var en, tg []string
			for j := 0; j < 1+i%4; j++ {
				w := words[(i*7+j*3)%len(words)]
				en = append(en, w)
				tg = append(tg, l+strings.ToUpper(w[:1])+w[1:])
			}
			out["en-"+l] = append(out["en-"+l], data.Segment{Source: strings.Join(en, " "), Target: strings.Join(tg, " ")})
		}
	}
	return out
}

var (
	tinyMTOnce sync.Once
	tinyMTFile []byte
	tinyMTErr  error
)

// tinyMTModel trains (once per test binary) a tiny en->de/fr model for a
// few steps on the embedded pairs and returns its file's bytes.
func tinyMTModel(t testing.TB) []byte {
	t.Helper()
	tinyMTOnce.Do(func() {
		dir, err := os.MkdirTemp("", "serve-mt-")
		if err != nil {
			tinyMTErr = err
			return
		}
		defer os.RemoveAll(dir)
		c := mt.DefaultTrainConfig()
		c.Pairs = []string{"en-de", "en-fr"}
		c.TrainData = toyTranslations(40, "de", "fr")
		c.DModel, c.Heads, c.EncoderLayers, c.DecoderLayers, c.FFN = 16, 2, 1, 1, 32
		c.VocabSize = 300
		c.MaxLen, c.MaxTokens = 32, 160
		c.Steps, c.Warmup, c.LR = 60, 10, 3e-3
		c.ValEvery, c.CheckpointEvery = 0, 0
		c.Out = dir
		res, err := mt.Train(c)
		if err != nil {
			tinyMTErr = err
			return
		}
		tinyMTFile, tinyMTErr = os.ReadFile(res.Model)
	})
	if tinyMTErr != nil {
		t.Fatal(tinyMTErr)
	}
	return tinyMTFile
}

// writeMTModel writes the tiny translation model as dir/name.safetensors
// and returns it loaded by package mt (the reference for the server).
func writeMTModel(t testing.TB, dir, name string) *mt.Model {
	t.Helper()
	path := filepath.Join(dir, name+ModelExt)
	if err := os.WriteFile(path, tinyMTModel(t), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, err := mt.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func translateOK(t testing.TB, url string, req TranslateRequest) TranslateResponse {
	t.Helper()
	code, b := post(t, url+"/v1/translate", "", req)
	if code != 200 {
		t.Fatalf("translate: %d %s", code, b)
	}
	return decodeJSON[TranslateResponse](t, b)
}

func intp(v int) *int { return &v }

var userTexts = []string{"open the file", "save the document", "close the window", "", "print page"}

// Translation models load next to the meta-learned ones; /v1/models gives
// their kind and languages; /v1/translate answers what mt.Model.Translate
// answers (greedy and beam with n-best lists).
func TestTranslateServesModel(t *testing.T) {
	dir := writeModels(t, "proto")
	ref := writeMTModel(t, dir, "tiny-mt")
	_, ts := newTest(t, Config{ModelDir: dir})

	code, b := get(t, ts.URL+"/v1/models", "")
	if code != 200 {
		t.Fatalf("models: %d %s", code, b)
	}
	models := decodeJSON[struct{ Models []ModelInfo }](t, b).Models
	kinds := map[string]ModelInfo{}
	for _, m := range models {
		kinds[m.Name] = m
	}
	if kinds["proto"].Kind != KindMetric || kinds["tiny-mt"].Kind != KindTranslation {
		t.Fatalf("models: %+v, want proto (metric) and tiny-mt (translation)", models)
	}
	if got := strings.Join(kinds["tiny-mt"].Languages, ","); got != "de,en,fr" {
		t.Errorf("tiny-mt languages = %q, want de,en,fr", got)
	}

	for _, tc := range []struct {
		beam, nbest int
	}{{1, 1}, {3, 1}, {3, 2}} {
		resp := translateOK(t, ts.URL, TranslateRequest{Model: "tiny-mt", Texts: userTexts, From: "en", To: "fr", Beam: intp(tc.beam), NBest: intp(tc.nbest)})
		want, err := ref.Translate(userTexts, "fr", mt.TranslateOptions{Beam: tc.beam, NBest: tc.nbest, MaxLen: 256})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Translations) != len(userTexts) || len(resp.Scores) != len(userTexts) {
			t.Fatalf("beam %d: %d translations, %d scores for %d texts", tc.beam, len(resp.Translations), len(resp.Scores), len(userTexts))
		}
		for i := range userTexts {
			if resp.Translations[i] != strings.ToValidUTF8(want[i][0].Text, "\uFFFD") || resp.Scores[i] != want[i][0].Score {
				t.Errorf("beam %d, text %d: served %q (%v), mt gives %q (%v)", tc.beam, i, resp.Translations[i], resp.Scores[i], want[i][0].Text, want[i][0].Score)
			}
		}
		if tc.nbest > 1 {
			if len(resp.NBest) != len(userTexts) || len(resp.NBest[0]) != tc.nbest {
				t.Errorf("nbest %d: lists %v", tc.nbest, resp.NBest)
			}
		} else if resp.NBest != nil {
			t.Errorf("nbest 1: got n-best lists")
		}
	}
	if resp := translateOK(t, ts.URL, TranslateRequest{Model: "tiny-mt", Texts: []string{""}, From: "en", To: "de"}); resp.Translations[0] != "" {
		t.Errorf("an empty text translates to %q, want empty", resp.Translations[0])
	}
	_, mb := get(t, ts.URL+"/metrics", "")
	if !strings.Contains(string(mb), `metalearn_translations_total{model="tiny-mt"} 4`) {
		t.Errorf("metrics: no translations count of 4 for tiny-mt")
	}
}

// Bad input is a 4xx naming the field.
func TestTranslateBadInput(t *testing.T) {
	dir := writeModels(t, "proto")
	writeMTModel(t, dir, "tiny-mt")
	_, ts := newTest(t, Config{ModelDir: dir, Limits: Limits{MaxTexts: 3, MaxTextBytes: 40, MaxBeam: 4, MaxLen: 64, MaxPairs: 2, MaxSteps: 5}})
	long := strings.Repeat("x", 41)
	pair := `{"src":"open","tgt":"deOpen","from":"en","to":"de"}`
	for _, tc := range []struct {
		route, body string
		code        int
		want        string
	}{
		{"translate", `{"model":"tiny-mt","from":"en","to":"de"}`, 400, "texts is empty"},
		{"translate", `{"model":"tiny-mt","texts":[],"from":"en","to":"de"}`, 400, "texts is empty"},
		{"translate", `{"texts":["a"],"from":"en","to":"de"}`, 400, "model is required"},
		{"translate", `{"model":"nope","texts":["a"],"from":"en","to":"de"}`, 404, `unknown model "nope"`},
		{"translate", `{"model":"../x","texts":["a"],"from":"en","to":"de"}`, 400, "invalid"},
		{"translate", `{"model":"proto","texts":["a"],"from":"en","to":"de"}`, 400, "not a translation model"},
		{"translate", `{"model":"tiny-mt","id":"abc","texts":["a"],"from":"en","to":"de"}`, 400, "either model or id"},
		{"translate", `{"id":"0123456789abcdef0123456789abcdef","texts":["a"],"from":"en","to":"de"}`, 404, "unknown or expired"},
		{"translate", `{"model":"tiny-mt","texts":["a","b","c","d"],"from":"en","to":"de"}`, 413, "texts"},
		{"translate", `{"model":"tiny-mt","texts":["a","` + long + `"],"from":"en","to":"de"}`, 413, "texts[1] is 41 bytes, the limit is 40"},
		{"translate", `{"model":"tiny-mt","texts":["a"],"to":"de"}`, 400, "from is required"},
		{"translate", `{"model":"tiny-mt","texts":["a"],"from":"xx","to":"de"}`, 400, `from = "xx"`},
		{"translate", `{"model":"tiny-mt","texts":["a"],"from":"en"}`, 400, "to is required"},
		{"translate", `{"model":"tiny-mt","texts":["a"],"from":"en","to":"es"}`, 400, `to = "es"`},
		{"translate", `{"model":"tiny-mt","texts":["a"],"from":"en","to":"de","beam":0}`, 400, "beam = 0, want 1..4"},
		{"translate", `{"model":"tiny-mt","texts":["a"],"from":"en","to":"de","beam":5}`, 400, "beam = 5"},
		{"translate", `{"model":"tiny-mt","texts":["a"],"from":"en","to":"de","max_len":65}`, 400, "max_len = 65, want 2..64"},
		{"translate", `{"model":"tiny-mt","texts":["a"],"from":"en","to":"de","max_len":1}`, 400, "max_len = 1"},
		{"translate", `{"model":"tiny-mt","texts":["a"],"from":"en","to":"de","beam":2,"nbest":3}`, 400, "nbest = 3, want 1..beam (2)"},
		{"translate", `{"model":"tiny-mt","texts":[1],"from":"en","to":"de"}`, 400, "malformed JSON"},
		{"translate", `{"model":"tiny-mt","texts":["a"],"from":"en","to":"de","beam":null}`, 400, "beam is null"},
		{"translate", `{"model":"tiny-mt","texts":["a"],"from":"en","to":"de","to":"fr"}`, 400, `duplicate key "to"`},
		{"translate", `{"model":"tiny-mt","texts":["a"],"from":"en","to":"de","colour":1}`, 400, "unknown field"},
		{"adapt", `{"model":"tiny-mt"}`, 400, "pairs is empty"},
		{"adapt", `{"model":"tiny-mt","pairs":[` + pair + `,` + pair + `,` + pair + `]}`, 413, "pairs"},
		{"adapt", `{"model":"tiny-mt","pairs":[{"src":"","tgt":"x","from":"en","to":"de"}]}`, 400, "pairs[0]: src and tgt must not be empty"},
		{"adapt", `{"model":"tiny-mt","pairs":[{"src":"a","tgt":"` + long + `","from":"en","to":"de"}]}`, 413, "pairs[0].tgt is 41 bytes"},
		{"adapt", `{"model":"tiny-mt","pairs":[{"src":"a","tgt":"b","from":"en","to":"qq"}]}`, 400, `pairs[0].to = "qq"`},
		{"adapt", `{"model":"tiny-mt","pairs":[{"src":"a","tgt":"b","to":"de"}]}`, 400, "pairs[0].from is required"},
		{"adapt", `{"model":"tiny-mt","pairs":[` + pair + `],"steps":6}`, 400, "steps = 6, want 1..5"},
		{"adapt", `{"model":"tiny-mt","pairs":[` + pair + `],"steps":0}`, 400, "steps = 0"},
		{"adapt", `{"model":"tiny-mt","pairs":[` + pair + `],"learning_rate":-1}`, 400, "learning_rate = -1"},
		{"adapt", `{"model":"tiny-mt","pairs":[` + pair + `],"support":{"inputs":[[1]],"labels":[0]}}`, 400, "give pairs, not support"},
		{"adapt", `{"model":"proto","pairs":[` + pair + `]}`, 400, "pairs are for translation models"},
		{"predict", `{"model":"tiny-mt","support":{"inputs":[[1]],"labels":[0]},"inputs":[[1]]}`, 400, "is a translation model: use POST /v1/translate"},
	} {
		code, b := post(t, ts.URL+"/v1/"+tc.route, "", tc.body)
		var e ErrorResponse
		_ = json.Unmarshal(b, &e)
		if code != tc.code || !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s %s:\n got %d %s\nwant %d containing %q", tc.route, tc.body, code, b, tc.code, tc.want)
		}
	}
}

// A user's adaptation is theirs alone: the adapted id translates with the
// weights mt.Model.Adapt gives for that user's pairs, the base model and
// another user's adaptation are unaffected, ids are 128-bit random, and
// an adapted translation id is refused by /v1/predict.
func TestTranslateAdaptIsolation(t *testing.T) {
	dir := t.TempDir()
	ref := writeMTModel(t, dir, "tiny-mt")
	_, ts := newTest(t, Config{ModelDir: dir})
	tr := TranslateRequest{Model: "tiny-mt", Texts: userTexts, From: "en", To: "de"}
	base := translateOK(t, ts.URL, tr)

	users := map[string][]TranslationPair{
		"A": {{Src: "open the file", Tgt: "deOpen deThe deDossier", From: "en", To: "de"}, {Src: "save file", Tgt: "deSave deDossier", From: "en", To: "de"}},
		"B": {{Src: "close the window", Tgt: "deZu deFenster", From: "en", To: "de"}, {Src: "new window", Tgt: "deNeu deFenster", From: "en", To: "fr"}},
	}
	steps, lr := 6, 5e-3
	ids := map[string]string{}
	for _, u := range []string{"A", "B"} {
		code, b := post(t, ts.URL+"/v1/adapt", "", AdaptRequest{Model: "tiny-mt", Pairs: users[u], Steps: &steps, LearningRate: &lr})
		if code != 200 {
			t.Fatalf("adapt %s: %d %s", u, code, b)
		}
		a := decodeJSON[AdaptResponse](t, b)
		if len(a.ID) != 32 || a.Kind != KindTranslation || a.Steps != steps || a.SupportSize != 2 || a.Bytes != ref.Bytes() {
			t.Errorf("adapt %s: %+v", u, a)
		}
		ids[u] = a.ID
	}
	if ids["A"] == ids["B"] {
		t.Fatal("two adaptations got the same id")
	}
	// what each user's adaptation must give: mt's own Adapt on their pairs
	want := map[string][]string{}
	wantScores := map[string][]float64{}
	for u, ps := range users {
		pairs := make([]mt.AdaptPair, len(ps))
		for i, p := range ps {
			pairs[i] = mt.AdaptPair{Src: p.Src, Tgt: p.Tgt, From: p.From, To: p.To}
		}
		am, err := ref.Adapt(context.Background(), pairs, mt.AdaptConfig{Steps: steps, LR: lr, MaxLen: 256, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		out, err := am.Translate(userTexts, "de", mt.TranslateOptions{MaxLen: 256})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			want[u] = append(want[u], strings.ToValidUTF8(o[0].Text, "\uFFFD"))
			wantScores[u] = append(wantScores[u], o[0].Score)
		}
	}
	t.Logf("base: %q\nA: %q\nB: %q", base.Translations, want["A"], want["B"])
	// interleaved: A, B, base, A again
	for _, u := range []string{"A", "B", "", "A"} {
		req := tr
		exp, expScores := base.Translations, base.Scores
		if u != "" {
			req.Model, req.ID, exp, expScores = "", ids[u], want[u], wantScores[u]
			if fmt.Sprint(expScores) == fmt.Sprint(base.Scores) {
				t.Errorf("user %s: the adapted model scores its translations exactly as the base model does", u)
			}
		}
		got := translateOK(t, ts.URL, req)
		if fmt.Sprint(got.Translations) != fmt.Sprint(exp) || fmt.Sprint(got.Scores) != fmt.Sprint(expScores) {
			t.Errorf("user %q: %q %v, want %q %v", u, got.Translations, got.Scores, exp, expScores)
		}
		if u != "" && got.ID != ids[u] {
			t.Errorf("user %s: answered for id %q", u, got.ID)
		}
	}
	// the base model's weights are untouched: still what a fresh load gives
	fresh, err := ref.Translate(userTexts, "de", mt.TranslateOptions{MaxLen: 256})
	if err != nil {
		t.Fatal(err)
	}
	for i := range fresh {
		if base.Translations[i] != strings.ToValidUTF8(fresh[i][0].Text, "\uFFFD") {
			t.Errorf("base text %d: %q, fresh model %q", i, base.Translations[i], fresh[i][0].Text)
		}
	}
	if code, b := post(t, ts.URL+"/v1/predict", "", PredictRequest{ID: ids["A"], Inputs: []Input{ArrayInput([]float32{1})}}); code != 400 || !strings.Contains(string(b), "translation model") {
		t.Errorf("predict with a translation id: %d %s, want 400", code, b)
	}
	// a guessed or mangled id is unknown
	bad := ids["A"][:31] + "0"
	if bad == ids["A"] {
		bad = ids["A"][:31] + "1"
	}
	req := tr
	req.Model, req.ID = "", bad
	if code, _ := post(t, ts.URL+"/v1/translate", "", req); code != 404 {
		t.Errorf("a mangled id: %d, want 404", code)
	}
}

// Adaptation of a translation model stops at the first step after its
// context ends; a request past the request timeout is answered 503 on
// both routes; the token is required.
func TestTranslateLimitsAndCancel(t *testing.T) {
	dir := t.TempDir()
	ref := writeMTModel(t, dir, "tiny-mt")
	pairs := []mt.AdaptPair{{Src: "open the file", Tgt: "deOpen deThe deFile", From: "en", To: "de"}}
	ctx := &countingCtx{Context: context.Background(), n: 3}
	if _, err := ref.Adapt(ctx, pairs, mt.AdaptConfig{Steps: 1000}); err != context.DeadlineExceeded {
		t.Errorf("Adapt with a context ended after 3 checks: %v, want context.DeadlineExceeded", err)
	}
	if n := ctx.calls.Load(); n != 4 {
		t.Errorf("the context was checked %d times, want 4", n)
	}
	ctx = &countingCtx{Context: context.Background(), n: 1}
	texts := make([]string, 3*translateChunk)
	for i := range texts {
		texts[i] = "open the file"
	}
	if _, err := translateContext(ctx, ref, texts, "de", mt.TranslateOptions{}); err != context.DeadlineExceeded {
		t.Errorf("translateContext with a context ended after 1 check: %v", err)
	}

	_, ts := newTest(t, Config{ModelDir: dir, RequestTimeout: 1, Token: "secret"})
	steps := 20
	for route, body := range map[string]any{
		"adapt":     AdaptRequest{Model: "tiny-mt", Pairs: []TranslationPair{{Src: "a", Tgt: "b", From: "en", To: "de"}}, Steps: &steps},
		"translate": TranslateRequest{Model: "tiny-mt", Texts: []string{"open the file"}, From: "en", To: "de"},
	} {
		if code, b := post(t, ts.URL+"/v1/"+route, "", body); code != 401 {
			t.Errorf("%s without the token: %d %s, want 401", route, code, b)
		}
		if code, b := post(t, ts.URL+"/v1/"+route, "secret", body); code != 503 || !strings.Contains(string(b), "request timeout") {
			t.Errorf("%s past the request timeout: %d %s, want 503 naming the request timeout", route, code, b)
		}
	}
}

// The request types round-trip through JSON with the documented names.
func TestTranslateJSONNames(t *testing.T) {
	b, _ := json.Marshal(TranslateRequest{Model: "m", Texts: []string{"x"}, From: "en", To: "de", Beam: intp(2), MaxLen: intp(9), NBest: intp(2)})
	if got := string(b); got != `{"model":"m","texts":["x"],"from":"en","to":"de","beam":2,"max_len":9,"nbest":2}` {
		t.Errorf("TranslateRequest JSON: %s", got)
	}
}

// The load generator's translate mode sends translate requests and counts
// sentences; it refuses a translation model in the image modes.
func TestTranslateLoadTest(t *testing.T) {
	dir := t.TempDir()
	writeMTModel(t, dir, "tiny-mt")
	_, ts := newTest(t, Config{ModelDir: dir})
	rep, err := LoadTest(context.Background(), LoadConfig{URL: ts.URL, Model: "tiny-mt", Mode: "translate", Concurrency: 2, Operations: 6, Queries: 3, To: "fr", Warmup: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 6 || rep.Operations != 6 || rep.Errors != 0 || !(rep.SentencesPerSec > 0) || rep.Queries != 3 {
		t.Errorf("report: %+v", rep)
	}
	if !strings.Contains(rep.String(), "sentences/s") {
		t.Errorf("report text: %s", rep)
	}
	if _, err := LoadTest(context.Background(), LoadConfig{URL: ts.URL, Model: "tiny-mt", Operations: 1}); err == nil || !strings.Contains(err.Error(), "--mode translate") {
		t.Errorf("adapt+predict on a translation model: %v", err)
	}
}

// Concurrent translate requests for the same model and options are
// decoded as one batch while they wait for a worker, and each gets the
// rows mt.Model.Translate gives for the batch.
func TestTranslateBatching(t *testing.T) {
	dir := t.TempDir()
	ref := writeMTModel(t, dir, "tiny-mt")
	s, ts := newTest(t, Config{ModelDir: dir, Workers: 1})
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.beforeCompute = func() {
		once.Do(func() { close(entered); <-release }) // the first batch holds the only worker
	}
	joined := make(chan struct{}, 8)
	s.afterJoin = func() { joined <- struct{}{} }
	texts := [][]string{{"open the file"}, {"save the document", "print page"}, {"close the window"}}
	answers := make([]chan TranslateResponse, len(texts))
	for i, tx := range texts {
		answers[i] = make(chan TranslateResponse, 1)
		go func() {
			answers[i] <- translateOK(t, ts.URL, TranslateRequest{Model: "tiny-mt", Texts: tx, From: "en", To: "de"})
		}()
		<-joined
		if i == 0 {
			<-entered // the first request's batch is decoding: the others wait together
		}
	}
	close(release)
	got := make([]TranslateResponse, len(texts))
	for i := range texts {
		got[i] = <-answers[i]
	}
	want0, err := ref.Translate(texts[0], "de", mt.TranslateOptions{MaxLen: 256})
	if err != nil {
		t.Fatal(err)
	}
	want12, err := ref.Translate(append(append([]string(nil), texts[1]...), texts[2]...), "de", mt.TranslateOptions{MaxLen: 256})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]mt.Translation{want0[0], want12[0], want12[1], want12[2]}
	var gotAll []string
	var gotScores []float64
	for _, g := range got {
		gotAll = append(gotAll, g.Translations...)
		gotScores = append(gotScores, g.Scores...)
	}
	for i, w := range want {
		if gotAll[i] != strings.ToValidUTF8(w[0].Text, "\uFFFD") || gotScores[i] != w[0].Score {
			t.Errorf("row %d: %q %v, want %q %v", i, gotAll[i], gotScores[i], w[0].Text, w[0].Score)
		}
	}
	_, mb := get(t, ts.URL+"/metrics", "")
	if !strings.Contains(string(mb), "metalearn_translate_batches_total 2\n") {
		t.Errorf("3 requests, the last 2 waiting together: want 2 batches decoded; metrics:\n%s", mb)
	}
}

// Many concurrent translate requests (several batches, two workers, greedy
// and beam) on one model answer what each gives alone (run with -race:
// translations only read the shared model).
func TestTranslateConcurrent(t *testing.T) {
	dir := t.TempDir()
	writeMTModel(t, dir, "tiny-mt")
	_, ts := newTest(t, Config{ModelDir: dir, Workers: 2})
	reqs := make([]TranslateRequest, 12)
	want := make([]TranslateResponse, len(reqs))
	for i := range reqs {
		reqs[i] = TranslateRequest{Model: "tiny-mt", Texts: userTexts[i%len(userTexts) : i%len(userTexts)+1], From: "en", To: []string{"de", "fr"}[i%2], Beam: intp(1 + i%3)}
		want[i] = translateOK(t, ts.URL, reqs[i])
	}
	var wg sync.WaitGroup
	got := make([]TranslateResponse, len(reqs))
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = translateOK(t, ts.URL, reqs[i])
		}()
	}
	wg.Wait()
	for i := range reqs {
		if fmt.Sprint(got[i].Translations, got[i].Scores) != fmt.Sprint(want[i].Translations, want[i].Scores) {
			t.Errorf("request %d concurrently: %q %v, alone: %q %v", i, got[i].Translations, got[i].Scores, want[i].Translations, want[i].Scores)
		}
	}
}
