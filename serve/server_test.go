package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

func TestAdaptPredictAllKinds(t *testing.T) {
	names := []string{"proto", "proto-run", "r2d2", "fomaml", "maml-run", "metasgd", "mamlpp", "anil", "reptile", "sine"}
	dir := writeModels(t, names...)
	_, ts := newTest(t, Config{ModelDir: dir})
	code, b := get(t, ts.URL+"/v1/models", "")
	if code != 200 {
		t.Fatalf("models: %d %s", code, b)
	}
	list := decodeJSON[struct{ Models []ModelInfo }](t, b).Models
	if len(list) != len(names) {
		t.Fatalf("listed %d models, want %d: %s", len(list), len(names), b)
	}
	for _, mi := range list {
		if mi.Error != "" {
			t.Errorf("%s: %s", mi.Name, mi.Error)
		}
		// every Conv4 model without per-step modules runs fused (ANIL: its body)
		wantFused := mi.Dataset == "omniglot" && mi.Name != "mamlpp" && mi.Name != "reptile"
		if mi.Fused != wantFused {
			t.Errorf("%s: fused = %v, want %v", mi.Name, mi.Fused, wantFused)
		}
	}
	e := randomEpisode(1, 5, 1, 2)
	for _, n := range names[:len(names)-1] {
		a := adaptOK(t, ts.URL, AdaptRequest{Model: n, Support: Support{Inputs: e.sIn, Labels: e.sl}})
		p := predictOK(t, ts.URL, PredictRequest{ID: a.ID, Inputs: e.qIn})
		if len(p.Labels) != len(e.ql) || len(p.Probabilities) != len(e.ql) || len(p.Probabilities[0]) != 5 {
			t.Fatalf("%s: predictions %+v", n, p)
		}
		for _, row := range p.Probabilities {
			s := 0.0
			for _, v := range row {
				s += v
			}
			if math.Abs(s-1) > 1e-4 {
				t.Fatalf("%s: probabilities sum to %v", n, s)
			}
		}
		// stateless: the same with an inline support set
		q := predictOK(t, ts.URL, PredictRequest{Model: n, Support: &Support{Inputs: e.sIn, Labels: e.sl}, Inputs: e.qIn})
		for i := range q.Probabilities {
			for j := range q.Probabilities[i] {
				if math.Abs(q.Probabilities[i][j]-p.Probabilities[i][j]) > 1e-6 {
					t.Fatalf("%s: inline and id predictions differ", n)
				}
			}
		}
	}
	// regression: inputs are numbers, the support has targets
	sup := Support{Inputs: []Input{Input("0.5"), Input("[1]"), Input("-2")}, Targets: []float64{0.1, 0.8, -0.3}}
	a := adaptOK(t, ts.URL, AdaptRequest{Model: "sine", Support: sup})
	p := predictOK(t, ts.URL, PredictRequest{ID: a.ID, Inputs: []Input{Input("0"), Input("1.5")}})
	if len(p.Values) != 2 || len(p.Values[0]) != 1 || p.Labels != nil {
		t.Fatalf("regression predictions %+v", p)
	}
}

// Serving must compute what meta's evaluation computes for the same model
// and episode.
func TestMatchesMetaEvaluate(t *testing.T) {
	names := []string{"proto", "r2d2", "fomaml", "maml-run", "metasgd", "mamlpp", "anil", "reptile", "proto-5shot"}
	dir := writeModels(t, names...)
	_, ts := newTest(t, Config{ModelDir: dir})
	for i, n := range names {
		shots := 1
		if n == "proto-5shot" {
			shots = 3
		}
		e := randomEpisode(uint64(10+i), 5, shots, 4)
		b, err := meta.Load(filepath.Join(dir, n+ModelExt))
		if err != nil {
			t.Fatal(err)
		}
		task := data.Task{SupportX: e.sx, QueryX: e.qx, SupportLabels: e.sl, QueryLabels: e.ql, Ways: 5}
		steps := b.Spec.EvalSteps
		sum := meta.Evaluate(b.Algorithm, []data.Task{task}, steps, 1)
		if m, ok := b.Algorithm.(interface{ SetTraining(bool) }); ok {
			m.SetTraining(false)
		}
		want := b.Algorithm.Evaluate(task, steps)

		a := adaptOK(t, ts.URL, AdaptRequest{Model: n, Support: Support{Inputs: e.sIn, Labels: e.sl}})
		p := predictOK(t, ts.URL, PredictRequest{ID: a.ID, Inputs: e.qIn})
		acc := accuracy(p.Labels, e.ql)
		loss := 0.0
		for j, l := range e.ql {
			loss -= math.Log(p.Probabilities[j][l])
		}
		loss /= float64(len(e.ql))
		if acc != sum.Mean || acc != want.Metric {
			t.Errorf("%s: accuracy %v, meta.Evaluate %v / %v", n, acc, sum.Mean, want.Metric)
		}
		if math.Abs(loss-want.Loss) > 1e-4*math.Max(1, want.Loss) {
			t.Errorf("%s: loss %.7f, meta %.7f", n, loss, want.Loss)
		}
	}

	// regression (sinusoid MAML): query MSE after adaptation
	sdir := writeModels(t, "sine")
	_, ts2 := newTest(t, Config{ModelDir: sdir})
	b, err := meta.Load(filepath.Join(sdir, "sine"+ModelExt))
	if err != nil {
		t.Fatal(err)
	}
	task := data.Sinusoid{Support: 10, Query: 10}.Sample(rand.New(rand.NewPCG(3, 4)))
	want := b.Algorithm.Evaluate(task, b.Spec.EvalSteps)
	num := func(x *tensor.Tensor) []Input {
		var in []Input
		for _, v := range x.Values() {
			in = append(in, Input(fmt.Sprint(v)))
		}
		return in
	}
	a := adaptOK(t, ts2.URL, AdaptRequest{Model: "sine", Support: Support{Inputs: num(task.SupportX), Targets: task.SupportY.Values()}})
	p := predictOK(t, ts2.URL, PredictRequest{ID: a.ID, Inputs: num(task.QueryX)})
	mse := 0.0
	for i, y := range task.QueryY.Values() {
		d := p.Values[i][0] - y
		mse += d * d
	}
	mse /= 10
	if math.Abs(mse-want.Loss) > 1e-5*math.Max(1, want.Loss) {
		t.Errorf("sine: MSE %v, meta %v", mse, want.Loss)
	}
}

func weightsHash(m nn.Module) uint64 {
	h := fnv.New64a()
	for _, p := range m.Params() {
		for _, v := range p.V.Value.Values() {
			fmt.Fprintf(h, "%x,", math.Float64bits(v))
		}
	}
	for _, b := range nn.Buffers(m) {
		for _, v := range b.V.Value.Values() {
			fmt.Fprintf(h, "%x,", math.Float64bits(v))
		}
	}
	return h.Sum64()
}

// Concurrent users never see each other's parameters: every user's
// predictions under concurrency equal the ones computed alone, and the
// shared base model is never modified.
func TestIsolationUnderConcurrency(t *testing.T) {
	dir := writeModels(t, "fomaml", "proto", "maml-run")
	s, ts := newTest(t, Config{ModelDir: dir, Workers: 4, Queue: 256, QueueTimeout: time.Minute})
	models := []string{"fomaml", "proto", "maml-run"}
	const users = 12
	ref := make([]PredictResponse, users)
	eps := make([]episode, users)
	for u := 0; u < users; u++ {
		eps[u] = randomEpisode(uint64(100+u), 5, 1, 1)
		a := adaptOK(t, ts.URL, AdaptRequest{Model: models[u%3], Support: Support{Inputs: eps[u].sIn, Labels: eps[u].sl}})
		ref[u] = predictOK(t, ts.URL, PredictRequest{ID: a.ID, Inputs: eps[u].qIn})
	}
	hashes := map[string]uint64{}
	for _, n := range models {
		m, _ := s.reg.get(n)
		hashes[n] = modelHash(m)
	}
	var wg sync.WaitGroup
	errs := make(chan error, users*3)
	for u := 0; u < users; u++ {
		wg.Add(1)
		go func(u int) {
			defer wg.Done()
			for r := 0; r < 3; r++ {
				code, b := post(t, ts.URL+"/v1/adapt", "", AdaptRequest{Model: models[u%3], Support: Support{Inputs: eps[u].sIn, Labels: eps[u].sl}})
				if code != 200 {
					errs <- fmt.Errorf("user %d adapt: %d %s", u, code, b)
					return
				}
				var a AdaptResponse
				_ = json.Unmarshal(b, &a)
				code, b = post(t, ts.URL+"/v1/predict", "", PredictRequest{ID: a.ID, Inputs: eps[u].qIn})
				if code != 200 {
					errs <- fmt.Errorf("user %d predict: %d %s", u, code, b)
					return
				}
				var p PredictResponse
				_ = json.Unmarshal(b, &p)
				for i := range p.Probabilities {
					for j := range p.Probabilities[i] {
						if math.Abs(p.Probabilities[i][j]-ref[u].Probabilities[i][j]) > 1e-6 {
							errs <- fmt.Errorf("user %d: prediction changed under concurrency: %v vs %v", u, p.Probabilities[i], ref[u].Probabilities[i])
							return
						}
					}
				}
			}
		}(u)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, n := range models {
		m, _ := s.reg.get(n)
		if h := modelHash(m); h != hashes[n] {
			t.Errorf("%s: the base model changed", n)
		}
	}
}

func modelHash(m *model) uint64 {
	var h uint64
	for _, mod := range m.modules {
		h = h*31 + weightsHash(mod)
	}
	return h
}

func TestAuth(t *testing.T) {
	dir := writeModels(t, "proto")
	_, ts := newTest(t, Config{ModelDir: dir, Token: "s3cret"})
	e := randomEpisode(1, 5, 1, 1)
	req := AdaptRequest{Model: "proto", Support: Support{Inputs: e.sIn, Labels: e.sl}}
	for _, tc := range []struct {
		token string
		want  int
	}{{"", 401}, {"wrong", 401}, {"s3cret", 200}, {"S3CRET", 401}, {"s3cre", 401}} {
		code, b := post(t, ts.URL+"/v1/adapt", tc.token, req)
		if code != tc.want {
			t.Errorf("token %q: %d %s, want %d", tc.token, code, b, tc.want)
		}
		if code == 401 && !strings.Contains(string(b), "bearer token") {
			t.Errorf("401 without a message: %s", b)
		}
	}
	for _, p := range []string{"/v1/models", "/metrics"} {
		if code, _ := get(t, ts.URL+p, ""); code != 401 {
			t.Errorf("GET %s without token: %d, want 401", p, code)
		}
		if code, _ := get(t, ts.URL+p, "s3cret"); code != 200 {
			t.Errorf("GET %s with token: %d", p, code)
		}
	}
	if code, _ := get(t, ts.URL+"/healthz", ""); code != 200 {
		t.Errorf("healthz needs no token, got %d", code)
	}
}

func TestLimits(t *testing.T) {
	dir := writeModels(t, "fomaml", "proto")
	lim := Limits{MaxBodyBytes: 64 << 10, MaxSupport: 6, MaxQueries: 4, MaxSteps: 7, MaxWays: 6, MaxImageSide: 64, MaxLR: 2}
	_, ts := newTest(t, Config{ModelDir: dir, Limits: lim})
	e := randomEpisode(1, 5, 1, 1)
	big := randomEpisode(2, 7, 1, 5)
	steps := func(n int) *int { return &n }
	lr := func(v float64) *float64 { return &v }
	cases := []struct {
		name string
		path string
		body any
		want int
	}{
		{"body too large", "/v1/adapt", `{"model":"proto","support":{"inputs":[` + strings.Repeat("[0,0,0,0],", 20000) + `[0]],"labels":[0]}}`, 413},
		{"support too large", "/v1/adapt", AdaptRequest{Model: "proto", Support: Support{Inputs: big.sIn, Labels: big.sl}}, 413},
		{"too many queries", "/v1/predict", PredictRequest{Model: "proto", Support: &Support{Inputs: e.sIn, Labels: e.sl}, Inputs: big.qIn[:5]}, 413},
		{"too many steps", "/v1/adapt", AdaptRequest{Model: "fomaml", Support: Support{Inputs: e.sIn, Labels: e.sl}, Steps: steps(8)}, 400},
		{"negative steps", "/v1/adapt", AdaptRequest{Model: "fomaml", Support: Support{Inputs: e.sIn, Labels: e.sl}, Steps: steps(-1)}, 400},
		{"learning rate too large", "/v1/adapt", AdaptRequest{Model: "fomaml", Support: Support{Inputs: e.sIn, Labels: e.sl}, LearningRate: lr(3)}, 400},
		{"learning rate zero", "/v1/adapt", AdaptRequest{Model: "fomaml", Support: Support{Inputs: e.sIn, Labels: e.sl}, LearningRate: lr(0)}, 400},
		{"image too large", "/v1/adapt", `{"model":"proto","support":{"inputs":["` + pngBase64(65, 10) + `"],"labels":[0]}}`, 400},
	}
	for _, tc := range cases {
		code, b := post(t, ts.URL+tc.path, "", tc.body)
		if code != tc.want || !strings.Contains(string(b), `"error"`) {
			t.Errorf("%s: %d %s, want %d with a message", tc.name, code, b, tc.want)
		}
	}
	// at the limits: fine
	if code, b := post(t, ts.URL+"/v1/adapt", "", AdaptRequest{Model: "fomaml", Support: Support{Inputs: e.sIn, Labels: e.sl}, Steps: steps(7), LearningRate: lr(0.1)}); code != 200 {
		t.Errorf("at the limits: %d %s", code, b)
	}
}

func pngBase64(w, h int) string {
	b := PNGInput(EncodePNG(make([]float32, w*h), h, w))
	var s string
	_ = json.Unmarshal(b, &s)
	return s
}

// Every malformed request gets a 4xx with a JSON message, never a 5xx.
func TestBadRequests(t *testing.T) {
	dir := writeModels(t, "fomaml", "proto", "sine", "fomaml-3ways")
	_, ts := newTest(t, Config{ModelDir: dir})
	e := randomEpisode(1, 5, 1, 1)
	sup, _ := json.Marshal(Support{Inputs: e.sIn, Labels: e.sl})
	q, _ := json.Marshal(e.qIn)
	img := string(e.sIn[0])
	adapt := func(fields string) string { return `{"model":"proto",` + fields + `}` }
	fo := func(fields string) string { return `{"model":"fomaml",` + fields + `}` }
	cases := []struct {
		name, path, body string
	}{
		{"empty body", "/v1/adapt", ``},
		{"not JSON", "/v1/adapt", `hello`},
		{"truncated", "/v1/adapt", `{"model":"proto"`},
		{"array body", "/v1/adapt", `[1,2]`},
		{"trailing data", "/v1/adapt", adapt(`"support":`+string(sup)) + `{}`},
		{"unknown field", "/v1/adapt", adapt(`"support":` + string(sup) + `,"stepz":3`)},
		{"no model", "/v1/adapt", `{"support":` + string(sup) + `}`},
		{"unknown model", "/v1/adapt", `{"model":"nope","support":` + string(sup) + `}`},
		{"no support", "/v1/adapt", adapt(``)[:len(adapt(``))-2] + `}`},
		{"empty inputs", "/v1/adapt", adapt(`"support":{"inputs":[],"labels":[]}`)},
		{"labels count", "/v1/adapt", adapt(`"support":{"inputs":[` + img + `],"labels":[0,1]}`)},
		{"label negative", "/v1/adapt", fo(`"support":{"inputs":[` + img + `,` + img + `],"labels":[0,-1]}`)},
		{"label too big", "/v1/adapt", fo(`"support":{"inputs":[` + img + `,` + img + `],"labels":[0,5]}`)},
		{"label not int", "/v1/adapt", adapt(`"support":{"inputs":[` + img + `],"labels":[0.5]}`)},
		{"label missing class", "/v1/adapt", adapt(`"support":{"inputs":[` + img + `,` + img + `],"labels":[0,2]}`)},
		{"one class", "/v1/adapt", adapt(`"support":{"inputs":[` + img + `],"labels":[0]}`)},
		{"wrong length", "/v1/adapt", adapt(`"support":{"inputs":[[1,2,3],` + img + `],"labels":[0,1]}`)},
		{"string values", "/v1/adapt", adapt(`"support":{"inputs":[["a"]],"labels":[0]}`)},
		{"NaN literal", "/v1/adapt", adapt(`"support":{"inputs":[[NaN]],"labels":[0]}`)},
		{"Inf overflow", "/v1/adapt", adapt(`"support":{"inputs":[[1e39,` + strings.Repeat("0,", 782) + `0],` + img + `],"labels":[0,1]}`)},
		{"ragged image", "/v1/adapt", adapt(`"support":{"inputs":[[[1,2],[3]],` + img + `],"labels":[0,1]}`)},
		{"two channels", "/v1/adapt", adapt(`"support":{"inputs":[[[[1]],[[2]]],` + img + `],"labels":[0,1]}`)},
		{"bad base64", "/v1/adapt", adapt(`"support":{"inputs":["***",` + img + `],"labels":[0,1]}`)},
		{"not a PNG", "/v1/adapt", adapt(`"support":{"inputs":["aGVsbG8=",` + img + `],"labels":[0,1]}`)},
		{"object input", "/v1/adapt", adapt(`"support":{"inputs":[{"x":1},` + img + `],"labels":[0,1]}`)},
		{"number for image", "/v1/adapt", adapt(`"support":{"inputs":[1,` + img + `],"labels":[0,1]}`)},
		{"targets for classifier", "/v1/adapt", adapt(`"support":{"inputs":[` + img + `],"targets":[1]}`)},
		{"labels for regression", "/v1/adapt", `{"model":"sine","support":{"inputs":[1],"labels":[0]}}`},
		{"regression targets count", "/v1/adapt", `{"model":"sine","support":{"inputs":[1,2],"targets":[0]}}`},
		{"regression array length", "/v1/adapt", `{"model":"sine","support":{"inputs":[[1,2]],"targets":[0]}}`},
		{"image for regression", "/v1/adapt", `{"model":"sine","support":{"inputs":["aGVsbG8="],"targets":[0]}}`},
		{"steps for protonet", "/v1/adapt", adapt(`"support":` + string(sup) + `,"steps":3`)},
		{"lr for protonet", "/v1/adapt", adapt(`"support":` + string(sup) + `,"learning_rate":0.1`)},
		{"steps not int", "/v1/adapt", fo(`"support":` + string(sup) + `,"steps":1.5`)},
		{"lr NaN string", "/v1/adapt", fo(`"support":` + string(sup) + `,"learning_rate":"NaN"`)},
		{"wrong ways for fixed head", "/v1/adapt", `{"model":"fomaml-3ways","support":` + string(sup) + `}`},
		{"predict nothing", "/v1/predict", `{"inputs":` + string(q) + `}`},
		{"predict no inputs", "/v1/predict", `{"model":"proto","support":` + string(sup) + `}`},
		{"predict unknown id", "/v1/predict", `{"id":"0123","inputs":` + string(q) + `}`},
		{"predict id and support", "/v1/predict", `{"id":"0123","model":"proto","support":` + string(sup) + `,"inputs":` + string(q) + `}`},
		{"predict support without model", "/v1/predict", `{"support":` + string(sup) + `,"inputs":` + string(q) + `}`},
		{"predict bad query", "/v1/predict", `{"model":"proto","support":` + string(sup) + `,"inputs":[[1]]}`},
		{"predict id with steps", "/v1/predict", `{"id":"0123","steps":2,"inputs":` + string(q) + `}`},
	}
	for _, tc := range cases {
		code, b := post(t, ts.URL+tc.path, "", tc.body)
		var er ErrorResponse
		if code < 400 || code >= 500 || json.Unmarshal(b, &er) != nil || er.Error == "" {
			t.Errorf("%s: %d %s, want 4xx with a JSON message", tc.name, code, b)
		}
	}
	// a large learning rate may diverge: 422 or 200, never 5xx
	if code, b := post(t, ts.URL+"/v1/adapt", "", fo(`"support":`+string(sup)+`,"steps":20,"learning_rate":10`)); code >= 500 {
		t.Errorf("diverging adaptation: %d %s", code, b)
	}
	// wrong method, unknown route
	for _, tc := range []struct{ method, path string }{{"GET", "/v1/adapt"}, {"DELETE", "/v1/predict"}, {"POST", "/v1/models"}, {"GET", "/nope"}, {"GET", "/v1/adapt/../models"}} {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		code, b := do(t, req)
		if code < 400 || code >= 500 || !strings.Contains(string(b), `"error"`) {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, code, b)
		}
	}
}

func TestModelNamesAndTraversal(t *testing.T) {
	dir := writeModels(t, "proto")
	// a checkpoint outside the model directory, reachable by a symlink
	outside := writeModels(t, "fomaml")
	if err := os.Symlink(filepath.Join(outside, "fomaml"+ModelExt), filepath.Join(dir, "link"+ModelExt)); err != nil {
		t.Fatal(err)
	}
	_, ts := newTest(t, Config{ModelDir: dir})
	e := randomEpisode(1, 5, 1, 1)
	for _, name := range []string{"../proto", "..", "a/b", "/etc/passwd", `..\proto`, ".hidden", "proto/../proto", "proto\x00", "%2e%2e", strings.Repeat("a", 65), "proto.safetensors/..", "a..b", " proto"} {
		code, b := post(t, ts.URL+"/v1/adapt", "", AdaptRequest{Model: name, Support: Support{Inputs: e.sIn, Labels: e.sl}})
		if code != 400 || !strings.Contains(string(b), "invalid") {
			t.Errorf("name %q: %d %s, want 400 invalid", name, code, b)
		}
	}
	for _, name := range []string{"link", "missing", "proto.v2"} {
		if code, b := post(t, ts.URL+"/v1/adapt", "", AdaptRequest{Model: name, Support: Support{Inputs: e.sIn, Labels: e.sl}}); code != 404 {
			t.Errorf("name %q: %d %s, want 404", name, code, b)
		}
	}
	if !ValidModelName("proto-1.v2_x") || ValidModelName("a..b") {
		t.Error("ValidModelName")
	}
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestCacheLRU(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	c := newCache(3, 100, time.Minute, clk.now)
	add := func(id string, bytes int64) {
		if !c.put(&adapted{id: id, bytes: bytes}) {
			t.Fatalf("put %s refused", id)
		}
	}
	has := func(id string) bool { _, ok := c.get(id); return ok }
	add("a", 10)
	add("b", 10)
	add("c", 10)
	has("a") // a is now the most recently used
	add("d", 10)
	if has("b") || !has("a") || !has("c") || !has("d") {
		t.Fatal("count bound: the least recently used entry (b) should go")
	}
	// order now (most recent first): d, c, a. Adding e (85 bytes) evicts a
	// by count, then c by bytes (10+10+85 > 100).
	add("e", 85)
	if n, b, ev := c.stats(); n != 2 || b != 95 || ev["capacity"] != 2 || ev["bytes"] != 1 || has("c") {
		t.Fatalf("bytes bound: %d entries, %d bytes, evictions %v", n, b, ev)
	}
	if c.put(&adapted{id: "huge", bytes: 101}) {
		t.Fatal("an entry larger than the cache was accepted")
	}
	// TTL counts from the last use
	clk.advance(50 * time.Second)
	has("e")
	clk.advance(20 * time.Second)
	if has("d") || !has("e") {
		t.Fatal("TTL: d (unused for 70s) should have expired, e (used 20s ago) not")
	}
	clk.advance(2 * time.Minute)
	c.sweep()
	if n, b, ev := c.stats(); n != 0 || b != 0 || ev["ttl"] != 2 {
		t.Fatalf("after sweep: %d entries, %d bytes, %v", n, b, ev)
	}
}

func TestCacheThroughServer(t *testing.T) {
	dir := writeModels(t, "proto")
	clk := &fakeClock{t: time.Unix(1000, 0)}
	_, ts := newTest(t, Config{ModelDir: dir, CacheEntries: 2, CacheTTL: time.Minute, Now: clk.now})
	e := randomEpisode(1, 5, 1, 1)
	req := AdaptRequest{Model: "proto", Support: Support{Inputs: e.sIn, Labels: e.sl}}
	ids := []string{adaptOK(t, ts.URL, req).ID, adaptOK(t, ts.URL, req).ID, adaptOK(t, ts.URL, req).ID}
	status := func(id string) int {
		code, _ := post(t, ts.URL+"/v1/predict", "", PredictRequest{ID: id, Inputs: e.qIn})
		return code
	}
	if status(ids[0]) != 404 || status(ids[1]) != 200 || status(ids[2]) != 200 {
		t.Fatal("count eviction through the server")
	}
	clk.advance(61 * time.Second)
	if status(ids[2]) != 404 {
		t.Fatal("TTL expiry through the server")
	}
	_, b := get(t, ts.URL+"/metrics", "")
	for _, want := range []string{`metalearn_cache_evictions_total{reason="capacity"} 1`, `metalearn_cache_evictions_total{reason="ttl"} 2`, "metalearn_cache_entries 0"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestQueueFullAndTimeout(t *testing.T) {
	dir := writeModels(t, "proto")
	s, ts := newTest(t, Config{ModelDir: dir, Workers: 1, Queue: 1, QueueTimeout: 300 * time.Millisecond})
	release := make(chan struct{})
	entered := make(chan struct{}, 8)
	var once sync.Once
	s.beforeCompute = func() {
		entered <- struct{}{}
		once.Do(func() { <-release }) // only the first request blocks
	}
	e := randomEpisode(1, 5, 1, 1)
	req := AdaptRequest{Model: "proto", Support: Support{Inputs: e.sIn, Labels: e.sl}}
	first := make(chan int)
	go func() { c, _ := post(t, ts.URL+"/v1/adapt", "", req); first <- c }()
	<-entered // the only worker is busy
	second := make(chan int)
	go func() { c, _ := post(t, ts.URL+"/v1/adapt", "", req); second <- c }()
	for s.pool.waiting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	code, b := post(t, ts.URL+"/v1/adapt", "", req) // queue full
	if code != 429 || !strings.Contains(string(b), "queue is full") {
		t.Errorf("queue full: %d %s", code, b)
	}
	if c := <-second; c != 503 { // waited 300ms for the busy worker
		t.Errorf("queue timeout: %d, want 503", c)
	}
	close(release)
	if c := <-first; c != 200 {
		t.Errorf("first request: %d", c)
	}
	_, m := get(t, ts.URL+"/metrics", "")
	for _, want := range []string{`metalearn_requests_rejected_total{reason="queue_full"} 1`, `metalearn_requests_rejected_total{reason="queue_timeout"} 1`} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestGracefulShutdown(t *testing.T) {
	dir := writeModels(t, "proto")
	s, err := New(Config{ModelDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error)
	go func() { served <- s.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	release := make(chan struct{})
	entered := make(chan struct{})
	s.beforeCompute = func() { close(entered); <-release }
	e := randomEpisode(1, 5, 1, 1)
	inflight := make(chan int)
	go func() {
		c, _ := post(t, url+"/v1/adapt", "", AdaptRequest{Model: "proto", Support: Support{Inputs: e.sIn, Labels: e.sl}})
		inflight <- c
	}()
	<-entered
	done := make(chan error)
	go func() { done <- s.Shutdown(context.Background()) }()
	select {
	case <-done:
		t.Fatal("Shutdown returned with a request in flight")
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("new connections accepted while draining")
	}
	close(release)
	if c := <-inflight; c != 200 {
		t.Errorf("in-flight request: %d, want 200", c)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func TestMetricsExposition(t *testing.T) {
	dir := writeModels(t, "proto")
	_, ts := newTest(t, Config{ModelDir: dir})
	e := randomEpisode(1, 5, 1, 1)
	a := adaptOK(t, ts.URL, AdaptRequest{Model: "proto", Support: Support{Inputs: e.sIn, Labels: e.sl}})
	predictOK(t, ts.URL, PredictRequest{ID: a.ID, Inputs: e.qIn})
	post(t, ts.URL+"/v1/adapt", "", `{`)
	code, b := get(t, ts.URL+"/metrics", "")
	if code != 200 {
		t.Fatal(code)
	}
	text := string(b)
	for _, want := range []string{
		"# TYPE metalearn_http_requests_total counter",
		`metalearn_http_requests_total{route="/v1/adapt",code="200"} 1`,
		`metalearn_http_requests_total{route="/v1/adapt",code="400"} 1`,
		`metalearn_http_requests_total{route="/v1/predict",code="200"} 1`,
		"# TYPE metalearn_http_request_duration_seconds histogram",
		`metalearn_http_request_duration_seconds_bucket{route="/v1/adapt",le="+Inf"} 2`,
		`metalearn_http_request_duration_seconds_count{route="/v1/predict"} 1`,
		`metalearn_adaptations_total{model="proto"} 1`,
		`metalearn_predictions_total{model="proto"} 1`,
		"metalearn_cache_entries 1",
		"metalearn_cache_bytes ",
		"metalearn_models_loaded 1",
		"metalearn_workers ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// every sample line is NAME{labels} VALUE or NAME VALUE
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if f := strings.Fields(line); len(f) != 2 || !strings.HasPrefix(f[0], "metalearn_") {
			t.Errorf("bad sample line %q", line)
		}
	}
}

func TestPanicBecomes500(t *testing.T) {
	dir := writeModels(t, "proto")
	s, ts := newTest(t, Config{ModelDir: dir})
	s.beforeCompute = func() { panic("boom") }
	e := randomEpisode(1, 5, 1, 1)
	code, b := post(t, ts.URL+"/v1/adapt", "", AdaptRequest{Model: "proto", Support: Support{Inputs: e.sIn, Labels: e.sl}})
	if code != 500 || !strings.Contains(string(b), "internal error: boom") {
		t.Fatalf("%d %s", code, b)
	}
	// the worker slot was released
	s.beforeCompute = nil
	if code, b := post(t, ts.URL+"/v1/adapt", "", AdaptRequest{Model: "proto", Support: Support{Inputs: e.sIn, Labels: e.sl}}); code != 200 {
		t.Fatalf("after a panic: %d %s", code, b)
	}
}

func TestImageInputs(t *testing.T) {
	dir := writeModels(t, "proto")
	s, err := New(Config{ModelDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := s.reg.get("proto")
	// a 56x56 PNG: black ink square on white, with a transparent corner
	rng := rand.New(rand.NewPCG(5, 6))
	ink := make([]float32, 56*56)
	for i := range ink {
		ink[i] = float32(rng.IntN(2))
	}
	fromPNG, err := s.parseInput(m, PNGInput(EncodePNG(ink, 56, 56)))
	if err != nil {
		t.Fatal(err)
	}
	plane := make([][]float32, 56)
	for y := range plane {
		plane[y] = ink[y*56 : (y+1)*56]
	}
	nested, _ := json.Marshal(plane)
	fromArray, err := s.parseInput(m, nested)
	if err != nil {
		t.Fatal(err)
	}
	src := make([]float64, len(ink))
	for i, v := range ink {
		src[i] = float64(v)
	}
	want := data.ResizeArea(src, 56, 56, 28, 28)
	for i := range want {
		if math.Abs(float64(fromPNG[i]-want[i])) > 1e-6 || math.Abs(float64(fromArray[i]-want[i])) > 1e-6 {
			t.Fatalf("pixel %d: png %v array %v want %v", i, fromPNG[i], fromArray[i], want[i])
		}
	}
	// data URL prefix and [1][H][W]
	b := PNGInput(EncodePNG(ink[:784], 28, 28))
	var str string
	_ = json.Unmarshal(b, &str)
	du, _ := json.Marshal("data:image/png;base64," + str)
	if v, err := s.parseInput(m, du); err != nil || math.Abs(float64(v[0]-ink[0])) > 1e-6 {
		t.Fatalf("data URL: %v", err)
	}
	chw, _ := json.Marshal([][][]float32{plane[:28]}) // [1][28][56]: resized
	if v, err := s.parseInput(m, chw); err != nil || len(v) != 784 {
		t.Fatalf("[1][28][56]: %v", err)
	}
}

// The load generator talks only to 127.0.0.1, stops by itself and counts
// errors.
func TestLoadTestHelper(t *testing.T) {
	dir := writeModels(t, "proto", "fomaml")
	_, ts := newTest(t, Config{ModelDir: dir})
	for _, bad := range []string{"http://example.com:80", "http://localhost:8080", "https://127.0.0.1:1", "http://10.0.0.1:80", "ftp://127.0.0.1"} {
		if _, err := LoadTest(context.Background(), LoadConfig{URL: bad, Model: "proto"}); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	for _, mode := range []string{"adapt+predict", "inline"} {
		rep, err := LoadTest(context.Background(), LoadConfig{URL: ts.URL, Model: "fomaml", Concurrency: 4, Operations: 12, Mode: mode, PNG: mode == "inline", Warmup: 1})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Errors != 0 || rep.Operations != 12 || rep.P99 <= 0 || rep.P50 > rep.P99 {
			t.Fatalf("%s: %+v", mode, rep)
		}
	}
	// the duration bound stops it early
	rep, err := LoadTest(context.Background(), LoadConfig{URL: ts.URL, Model: "proto", Concurrency: 2, Operations: 1_000_000, Duration: 300 * time.Millisecond, Warmup: 1})
	if err != nil || rep.Operations >= 1_000_000 || rep.Seconds > 5 {
		t.Fatalf("duration bound: %+v %v", rep, err)
	}
}

// Inference builds no autodiff graph: outputs of the frozen modules do not
// require gradients (and autodiff.NoGrad, process-wide, is not needed).
func TestInferenceRecordsNoGraph(t *testing.T) {
	dir := writeModels(t, "proto", "r2d2", "mamlpp", "anil")
	s, err := New(Config{ModelDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	e := randomEpisode(1, 5, 1, 1)
	task := data.Task{SupportX: e.sx, QueryX: e.qx, SupportLabels: e.sl, Ways: 5}
	for _, n := range []string{"proto", "r2d2"} {
		m, _ := s.reg.get(n)
		if m.proto.Logits(task).RequiresGrad() || m.encoder.Apply(nn.Vars(m.encoder), autodiff.Const(e.qx)).RequiresGrad() {
			t.Errorf("%s: inference records a graph", n)
		}
	}
	for _, n := range []string{"mamlpp", "anil"} {
		m, _ := s.reg.get(n)
		a, err := m.adapt(context.Background(), supportSet{x: e.sx, labels: e.sl, ways: 5}, 2, 0)
		if err != nil {
			t.Fatal(err)
		}
		vs := make([]*autodiff.Var, len(a.weights))
		for i, w := range a.weights {
			vs[i] = autodiff.Const(w)
		}
		if m.maml.ModuleAt(2).Apply(vs, m.features(e.qx)).RequiresGrad() {
			t.Errorf("%s: inference records a graph", n)
		}
	}
}

// The fused Conv4 kernels agree with the generic autodiff path, also when
// the activations have a large mean against their spread.
func TestFusedKernelsMatchGeneric(t *testing.T) {
	for _, bnMode := range []string{"transductive", "running"} {
		for _, algo := range []string{"fomaml", "protonet"} {
			b, err := meta.Build(meta.Spec{Algorithm: algo, Dataset: "omniglot", Hidden: 8, BatchNorm: bnMode, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			// convolution outputs around +20 with a spread of about 1, and
			// running means to match
			var walk func(nn.Module)
			walk = func(x nn.Module) {
				switch l := x.(type) {
				case *nn.Sequential:
					for _, c := range l.Layers {
						walk(c)
					}
				case *nn.Conv2d:
					l.Bias.Value = tensor.AddScalar(l.Bias.Value, 20)
				case *nn.BatchNorm:
					l.RunningMean.Value = tensor.AddScalar(l.RunningMean.Value, 20)
				}
			}
			walk(b.Model)
			m, err := newModel("m", b)
			if err != nil {
				t.Fatal(err)
			}
			if m.fast == nil && m.fastEnc == nil {
				t.Fatalf("%s %s: fused kernels rejected by the load-time check", algo, bnMode)
			}
			e := randomEpisode(7, 5, 2, 2)
			s := supportSet{x: e.sx, labels: e.sl, ways: 5}
			fa, err := m.adapt(context.Background(), s, 3, 0)
			if err != nil {
				t.Fatal(err)
			}
			fast := fa.predict(e.qx)
			m.fast, m.fastEnc = nil, nil
			ga, _ := m.adapt(context.Background(), s, 3, 0)
			slow := ga.predict(e.qx)
			if !tensor.AllClose(fast, slow, 1e-3, 1e-3) {
				t.Errorf("%s %s: fused and generic outputs differ by %g", algo, bnMode, tensor.MaxAbsDiff(fast, slow))
			}
		}
	}
}
