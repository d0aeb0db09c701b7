package mt

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

func TestSampleK(t *testing.T) {
	pairs := make([]data.Segment, 50)
	for i := range pairs {
		pairs[i] = data.Segment{ID: string(rune('a'+i%26)) + strings.Repeat("x", i/26), Source: "s", Target: "t"}
	}
	a, err := SampleK(pairs, 10, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SampleK(pairs, 10, 7)
	c, _ := SampleK(pairs, 10, 8)
	big, _ := SampleK(pairs, 30, 7)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different subsets")
	}
	if slices.Equal(a, c) {
		t.Fatal("seeds 7 and 8 drew the same subset")
	}
	ids := map[string]bool{}
	for _, s := range a {
		if ids[s.ID] {
			t.Fatalf("pair %s drawn twice", s.ID)
		}
		ids[s.ID] = true
	}
	for _, s := range a {
		if !slices.Contains(big, s) {
			t.Fatalf("K=10 subset not inside the K=30 subset of the same seed (%s)", s.ID)
		}
	}
	for _, tc := range []struct {
		k    int
		want string
	}{{0, "want >= 1"}, {-3, "want >= 1"}, {51, "only 50 available"}} {
		if _, err := SampleK(pairs, tc.k, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("K = %d: error %v, want %q", tc.k, err, tc.want)
		}
	}
}

// The K-subsets of the lo-mt train split never contain a dev or test id.
func TestSampleKLoMTDisjoint(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "lo-mt")
	if _, err := os.Stat(filepath.Join(dir, "train", "en-gl.tsv")); err != nil {
		t.Skipf("lo-mt not found at %s: skipping the split-disjointness test", dir)
	}
	for _, lang := range []string{"gl", "eu", "af"} {
		train, err := data.LoadLoMTPair(dir, "train", "en", lang)
		if err != nil {
			t.Fatal(err)
		}
		held := map[string]bool{}
		for _, split := range []string{"dev", "test"} {
			segs, err := data.LoadLoMTPair(dir, split, "en", lang)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range segs {
				held[s.ID] = true
			}
		}
		for _, k := range []int{100, 500, 2000} {
			for seed := uint64(1); seed <= 3; seed++ {
				sub, err := SampleK(train, k, seed)
				if err != nil {
					t.Fatal(err)
				}
				again, _ := SampleK(train, k, seed)
				if !slices.Equal(sub, again) {
					t.Fatalf("%s K=%d seed %d: not deterministic", lang, k, seed)
				}
				for _, s := range sub {
					if held[s.ID] {
						t.Fatalf("%s K=%d seed %d: id %s is in dev/test", lang, k, seed, s.ID)
					}
				}
			}
		}
	}
}

// The outer loop's update equals the FOMAML and Reptile updates worked by
// hand on quadratic tasks: L_support_t(w) = (w - a_t)^2 / 2 and
// L_query_t(w) = (w - b_t)^2 / 2, so grad = w - a_t.
func TestMetaOuterStepHandComputed(t *testing.T) {
	a := []float64{1, -2}
	b := []float64{3, 0}
	grad := func(task int, query bool, w []*tensor.Tensor) (float64, []*tensor.Tensor, error) {
		c := a[task]
		if query {
			c = b[task]
		}
		x := w[0].Values()[0]
		return (x - c) * (x - c) / 2, []*tensor.Tensor{tensor.FromValues(tensor.Float64, []float64{x - c}, 1)}, nil
	}
	theta := []*tensor.Tensor{tensor.FromValues(tensor.Float64, []float64{0.5}, 1)}
	// alpha = 0.1, one inner step, outer rate 0.2.
	// phi_0 = 0.5 - 0.1*(0.5-1) = 0.55;  phi_1 = 0.5 - 0.1*(0.5+2) = 0.25
	// FOMAML: g_0 = 0.55-3 = -2.45, g_1 = 0.25-0 = 0.25, mean -1.1
	//         theta' = 0.5 - 0.2*(-1.1) = 0.72
	// Reptile: phi'_0 = 0.55 - 0.1*(0.55-3) = 0.795; phi'_1 = 0.25 - 0.1*0.25 = 0.225
	//          theta' = 0.5 + 0.2*mean(0.295, -0.275) = 0.5 + 0.2*0.01 = 0.502
	for _, tc := range []struct {
		alg  string
		want float64
	}{{"fomaml", 0.72}, {"reptile", 0.502}} {
		c := MetaConfig{Algorithm: tc.alg, InnerSteps: 1, InnerLR: 0.1, OuterLR: 0.2}
		got, ql, err := metaOuterStep(theta, []int{0, 1}, grad, nil, c)
		if err != nil {
			t.Fatal(err)
		}
		if v := got[0].Values()[0]; math.Abs(v-tc.want) > 1e-12 {
			t.Errorf("%s: theta' = %v, want %v", tc.alg, v, tc.want)
		}
		// query losses at phi: (0.55-3)^2/2 = 3.00125, (0.25)^2/2 = 0.03125
		if want := (3.00125 + 0.03125) / 2; math.Abs(ql-want) > 1e-12 {
			t.Errorf("%s: query loss %v, want %v", tc.alg, ql, want)
		}
		if theta[0].Values()[0] != 0.5 {
			t.Fatal("the outer step changed its input weights")
		}
	}
	// two inner steps of FOMAML: phi_0 = 0.55 - 0.1*(0.55-1) = 0.595,
	// phi_1 = 0.25 - 0.1*2.25 = 0.025; g = (-2.405, 0.025), mean -1.19;
	// theta' = 0.5 + 0.2*1.19 = 0.738
	got, _, _ := metaOuterStep(theta, []int{0, 1}, grad, nil, MetaConfig{Algorithm: "fomaml", InnerSteps: 2, InnerLR: 0.1, OuterLR: 0.2})
	if v := got[0].Values()[0]; math.Abs(v-0.738) > 1e-12 {
		t.Errorf("fomaml, 2 inner steps: theta' = %v, want 0.738", v)
	}
}

func tinyModel(t *testing.T) (*Model, string) {
	t.Helper()
	c := tinyConfig(t, ArchShared)
	c.Steps, c.ValEvery, c.CheckpointEvery = 30, 0, 0
	c.Tags = []string{"es"}
	res, err := Train(c)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := LoadModel(res.Model)
	if err != nil {
		t.Fatal(err)
	}
	return m, res.Model
}

func TestAddLanguage(t *testing.T) {
	m, _ := tinyModel(t)
	nm, err := AddLanguage(m, "gl", []string{"de", "fr"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := nm.Vocab.LanguageID("gl")
	if !ok || id != m.Vocab.Size() {
		t.Fatalf("new tag id %d (ok %v), want %d (after every old id)", id, ok, m.Vocab.Size())
	}
	oldE, newE := m.Params()[0].V.Value, nm.Params()[0].V.Value
	if m.Params()[0].Name != "embed.weight" {
		t.Fatalf("first parameter %s, want embed.weight", m.Params()[0].Name)
	}
	d := oldE.Shape()[1]
	de, _ := m.Vocab.LanguageID("de")
	fr, _ := m.Vocab.LanguageID("fr")
	ov, nv := oldE.Values(), newE.Values()
	if !slices.Equal(ov, nv[:len(ov)]) {
		t.Fatal("old embedding rows changed")
	}
	for k := range d {
		if want := (ov[de*d+k] + ov[fr*d+k]) / 2; math.Abs(nv[id*d+k]-want) > 1e-6 {
			t.Fatalf("tag row[%d] = %v, want the mean of de and fr %v", k, nv[id*d+k], want)
		}
	}
	for i, p := range m.Params()[1:] {
		if !slices.Equal(p.V.Value.Values(), nm.Params()[i+1].V.Value.Values()) {
			t.Fatalf("weight %s changed", p.Name)
		}
	}
	for _, tc := range []struct {
		lang string
		from []string
		want string
	}{{"de", nil, "already has"}, {"gl", []string{"xx"}, "tag initialisation from \"xx\""}, {"", nil, "bad language"}} {
		if _, err := AddLanguage(m, tc.lang, tc.from, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AddLanguage(%q, %v): %v, want %q", tc.lang, tc.from, err, tc.want)
		}
	}
}

func TestMetaTrainAndAdaptMethods(t *testing.T) {
	m, path := tinyModel(t)
	tasks := toyPairs(3, 40, "de", "fr")
	before := m.Params()[1].V.Value.Values()
	mc := MetaConfig{Algorithm: "reptile", Steps: 3, MetaBatch: 2, InnerSteps: 1, InnerLR: 0.05, OuterLR: 0.5, MaxTokens: 160, Seed: 1}
	curve, err := MetaTrain(m, tasks, mc, 32)
	if err != nil {
		t.Fatal(err)
	}
	if len(curve) != 3 || slices.ContainsFunc(curve, func(v float64) bool { return !(v > 0) || math.IsInf(v, 0) }) {
		t.Fatalf("meta query losses %v, want 3 finite positive values", curve)
	}
	if slices.Equal(before, m.Params()[1].V.Value.Values()) {
		t.Fatal("MetaTrain did not move the weights")
	}
	gl := toyPairs(4, 30, "gl")["en-gl"]
	es := toyPairs(5, 30, "es")["en-es"]
	for _, method := range []string{MethodScratch, MethodFinetune, MethodMeta, MethodMix} {
		c := NewLangConfig{Model: path, Lang: "gl", Pairs: gl, Method: method, TagFrom: []string{"fr"}, Related: "es", RelatedPairs: es,
			MetaTasks: tasks, Meta: mc, Out: t.TempDir()}
		c.Train = tinyConfig(t, ArchShared)
		c.Train.Steps, c.Train.ValEvery, c.Train.CheckpointEvery = 4, 0, 0
		res, err := AdaptNewLanguage(c)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		am, _, err := LoadModel(res.Model)
		if err != nil {
			t.Fatal(err)
		}
		if err := am.CanTranslateInto("gl"); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if res.Steps != 4 {
			t.Fatalf("%s: %d steps, want 4 (equal compute)", method, res.Steps)
		}
	}
	bad := []struct {
		c    NewLangConfig
		want string
	}{
		{NewLangConfig{Model: path, Lang: "gl", Method: MethodFinetune, Out: t.TempDir()}, "no training pairs"},
		{NewLangConfig{Model: path, Lang: "gl", Pairs: gl, Method: "magic", Out: t.TempDir()}, "want scratch, finetune, meta or mix"},
		{NewLangConfig{Model: path, Lang: "gl", Pairs: gl, Method: MethodMix, Out: t.TempDir()}, "needs a related language"},
		{NewLangConfig{Model: path, Lang: "gl", Pairs: gl, Method: MethodMeta, Out: t.TempDir()}, "needs source-language tasks"},
		{NewLangConfig{Model: filepath.Join(t.TempDir(), "none.safetensors"), Lang: "gl", Pairs: gl, Method: MethodFinetune, Out: t.TempDir()}, "none.safetensors"},
		{NewLangConfig{Model: path, Lang: "gl", Pairs: gl, Method: MethodFinetune}, "no output folder"},
	}
	for _, tc := range bad {
		if _, err := AdaptNewLanguage(tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AdaptNewLanguage(%s): %v, want %q", tc.c.Method, err, tc.want)
		}
	}
	for _, mc := range []MetaConfig{{Algorithm: "magic", Steps: 1, MetaBatch: 1, InnerSteps: 1, InnerLR: 1, OuterLR: 1, MaxTokens: 100},
		{Algorithm: "fomaml", Steps: 0, MetaBatch: 1, InnerSteps: 1, InnerLR: 1, OuterLR: 1, MaxTokens: 100}} {
		if _, err := MetaTrain(m, tasks, mc, 32); err == nil {
			t.Errorf("MetaTrain(%+v): no error", mc)
		}
	}
	if _, err := MetaTrain(m, map[string][]data.Segment{"en-xx": gl}, DefaultMetaConfig(), 32); err == nil || !strings.Contains(err.Error(), "xx") {
		t.Errorf("MetaTrain on an unknown language: %v", err)
	}
}

// Fine-tuning a multilingual (es, pt) model on K = 300 gl pairs beats the
// same architecture and vocabulary trained from random weights for the
// same number of steps, on 100 gl dev sentences. Steps, not time, bound it.
func TestFinetuneBeatsScratchLoMT(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "lo-mt")
	if _, err := os.Stat(filepath.Join(dir, "train", "en-gl.tsv")); err != nil {
		t.Skipf("lo-mt not found at %s: skipping the real-data transfer test", dir)
	}
	if testing.Short() {
		t.Skip("-short: skipping the lo-mt transfer run (minutes on 2 cores)")
	}
	c := DefaultTrainConfig()
	c.Data, c.Pairs = dir, []string{"en-es", "en-pt"}
	c.MaxPairs, c.VocabSize = 3000, 600
	c.DModel, c.Heads, c.EncoderLayers, c.DecoderLayers, c.FFN = 64, 4, 1, 1, 256
	c.MaxTokens, c.MaxLen, c.Steps, c.Warmup, c.LR = 2048, 64, 300, 50, 5e-3
	c.ValEvery, c.CheckpointEvery = 0, 0
	c.Out = t.TempDir()
	res, err := Train(c)
	if err != nil {
		t.Fatal(err)
	}
	all, err := data.LoadLoMTPair(dir, "train", "en", "gl")
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := SampleK(all, 300, 1)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := data.LoadLoMTPair(dir, "dev", "en", "gl")
	if err != nil {
		t.Fatal(err)
	}
	score := map[string]float64{}
	for _, method := range []string{MethodScratch, MethodFinetune} {
		tc := c
		tc.Steps, tc.Warmup = 60, 10
		tc.Out = ""
		r, err := AdaptNewLanguage(NewLangConfig{Model: res.Model, Lang: "gl", Pairs: pairs, Method: method, TagFrom: []string{"es", "pt"}, Train: tc, Out: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		am, _, err := LoadModel(r.Model)
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := devChrF(am, []*direction{{name: "en-gl", tgt: "gl", dev: dev[:100]}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		score[method] = v
	}
	t.Logf("gl dev chrF after 60 steps on K=300: scratch %.2f, fine-tuned from es+pt %.2f", score[MethodScratch], score[MethodFinetune])
	if score[MethodFinetune] < score[MethodScratch]+3 {
		t.Fatalf("fine-tuned %.2f vs scratch %.2f: want at least 3 chrF better", score[MethodFinetune], score[MethodScratch])
	}
}

// Second-order MAML on the quadratic toy: phi = (1-alpha) theta + alpha a,
// so dL_query(phi)/dtheta = (phi - b)(1 - alpha) per inner step; with
// theta 0.5, a 1, b 3, alpha 0.1: one step -2.45 * 0.9 = -2.205 (FOMAML
// would give -2.45); two steps: phi = 0.595, (0.595 - 3) * 0.81 = -1.94805.
func TestMAMLSecondOrderHandComputed(t *testing.T) {
	quad := func(w []*autodiff.Var, src, _ nn.Tokens, _ float64) (*autodiff.Var, int) {
		c := 1.0 // support
		if src.T == 2 {
			c = 3 // query
		}
		d := autodiff.Sub(w[0], autodiff.Const(tensor.FromValues(tensor.Float64, []float64{c}, 1)))
		return autodiff.Scale(autodiff.Sum(autodiff.Square(d), false), 0.5), 1
	}
	sup := data.SeqBatch{Src: nn.Tokens{T: 1}}
	qry := data.SeqBatch{Src: nn.Tokens{T: 2}}
	for _, tc := range []struct {
		k    int
		want float64
	}{{1, -2.205}, {2, -1.94805}} {
		theta := []*autodiff.Var{autodiff.Param(tensor.FromValues(tensor.Float64, []float64{0.5}, 1))}
		_, g, err := mamlTaskGrad(quad, theta, sup, qry, tc.k, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		if v := g[0].Values()[0]; math.Abs(v-tc.want) > 1e-12 {
			t.Errorf("k = %d: meta-gradient %v, want %v", tc.k, v, tc.want)
		}
	}
}

// One second-order MAML outer step through the tiny Transformer runs and
// moves the weights differently from a first-order one.
func TestMetaTrainSecondOrder(t *testing.T) {
	tasks := toyPairs(3, 20, "de", "fr")
	var after [2][]float64
	for i, alg := range []string{"maml", "fomaml"} {
		m, _ := tinyModel(t)
		mc := MetaConfig{Algorithm: alg, Steps: 1, MetaBatch: 2, InnerSteps: 1, InnerLR: 0.1, OuterLR: 0.1, MaxTokens: 160, Seed: 1}
		curve, err := MetaTrain(m, tasks, mc, 32)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if len(curve) != 1 || !(curve[0] > 0) {
			t.Fatalf("%s: query losses %v", alg, curve)
		}
		after[i] = m.Params()[len(m.Params())-1].V.Value.Values()
	}
	if slices.Equal(after[0], after[1]) {
		t.Fatal("second-order and first-order steps gave the same weights")
	}
}

// BenchmarkMetaStep measures one outer step (2 languages, 1 inner step)
// on the tiny test model; -benchmem's B/op is the memory of a first- and
// a second-order step (the graph of the inner gradient is what second
// order keeps).
func BenchmarkMetaStep(b *testing.B) {
	tasks := toyPairs(3, 20, "de", "fr")
	for _, alg := range []string{"fomaml", "maml"} {
		b.Run(alg, func(b *testing.B) {
			c := DefaultTrainConfig()
			c.Pairs = []string{"en-de", "en-fr"}
			c.TrainData = toyPairs(1, 60, "de", "fr")
			c.DModel, c.Heads, c.EncoderLayers, c.DecoderLayers, c.FFN = 16, 2, 1, 1, 32
			c.VocabSize, c.MaxLen, c.MaxTokens, c.Steps, c.Warmup = 320, 32, 160, 1, 1
			c.ValEvery, c.CheckpointEvery = 0, 0
			c.Out = b.TempDir()
			res, err := Train(c)
			if err != nil {
				b.Fatal(err)
			}
			m, _, err := LoadModel(res.Model)
			if err != nil {
				b.Fatal(err)
			}
			mc := MetaConfig{Algorithm: alg, Steps: 1, MetaBatch: 2, InnerSteps: 1, InnerLR: 0.1, MaxTokens: 160, Seed: 1}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := MetaTrain(m, tasks, mc, 32); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
