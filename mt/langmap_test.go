package mt

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLangMapAutoSource(t *testing.T) {
	nan := math.NaN()
	m := &LangMap{Languages: []string{"es", "pt", "gl", "de"}, Metric: "chrF", Gain: [][]float64{
		{5, 3, 9, -1},
		{4, 6, 12, 0},
		{2, 1, 7, nan},
		{-2, -1, 1, 8},
	}}
	for _, tc := range []struct {
		target string
		cands  []string
		want   string
		gain   float64
	}{
		{"gl", nil, "pt", 12},                 // argmax of column gl, itself excluded
		{"gl", []string{"es", "de"}, "es", 9}, // restricted to candidates
		{"es", nil, "pt", 4},                  // diagonal excluded
		{"de", nil, "pt", 0},                  // NaN (gl) skipped
	} {
		got, g, err := m.AutoSource(tc.target, tc.cands)
		if err != nil || got != tc.want || g != tc.gain {
			t.Errorf("AutoSource(%s, %v) = %s, %v, %v; want %s, %v", tc.target, tc.cands, got, g, err, tc.want, tc.gain)
		}
	}
	if _, _, err := m.AutoSource("eu", nil); err == nil || !strings.Contains(err.Error(), "eu") {
		t.Errorf("unknown target: %v", err)
	}
	if _, _, err := m.AutoSource("de", []string{"gl"}); err == nil {
		t.Error("only an unmeasured candidate: no error")
	}
	path := filepath.Join(t.TempDir(), "map.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadLangMap(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Languages, m.Languages) || !math.IsNaN(back.Gain[2][3]) || back.Gain[1][2] != 12 {
		t.Fatalf("round trip: %+v", back)
	}
	for _, bad := range []*LangMap{
		{Languages: []string{"a", "b"}, Gain: [][]float64{{1, 2}}},
		{Languages: []string{"a", "a"}, Gain: [][]float64{{1, 2}, {3, 4}}},
		{Languages: []string{"a", "b"}, Gain: [][]float64{{1, 2}, {3}}},
		{Languages: []string{"a", "b"}, Gain: [][]float64{{1, math.Inf(1)}, {3, 4}}},
		{},
	} {
		if err := bad.Save(filepath.Join(t.TempDir(), "bad.json")); err == nil {
			t.Errorf("Save(%+v): no error", bad)
		}
	}
}

// Two blocks of mutually helpful languages are recovered by the grouping.
func TestLangMapGroups(t *testing.T) {
	langs := []string{"es", "pt", "gl", "de", "nl", "af", "eu"}
	block := map[string]int{"es": 0, "pt": 0, "gl": 0, "de": 1, "nl": 1, "af": 1, "eu": 2}
	g := make([][]float64, len(langs))
	for i, a := range langs {
		g[i] = make([]float64, len(langs))
		for j, b := range langs {
			switch {
			case i == j:
				g[i][j] = 10
			case block[a] == block[b]:
				g[i][j] = 5 + float64(i+j)/10
			default:
				g[i][j] = -2
			}
		}
	}
	m := &LangMap{Languages: langs, Gain: g}
	r, err := m.Groups(3)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Best.String()
	for _, want := range []string{"es", "af", "eu"} {
		if !strings.Contains(got, want) {
			t.Fatalf("grouping %s lacks %s", got, want)
		}
	}
	for _, grp := range r.Best.Groups {
		b := -1
		for _, i := range grp {
			if b >= 0 && block[langs[i]] != b {
				t.Fatalf("grouping %s mixes blocks", got)
			}
			b = block[langs[i]]
		}
	}
	if _, err := m.Groups(9); err == nil {
		t.Error("9 groups of 7 languages: no error")
	}
}

// The TAG affinity measured during a tiny multilingual run: a square
// matrix over the directions, finite, one lookahead per `every` steps,
// and (small lookahead rate) a step on a language lowers its own loss.
func TestLanguageAffinity(t *testing.T) {
	c := tinyConfig(t, ArchShared)
	c.Pairs = []string{"en-de", "en-fr", "en-es"}
	c.TrainData = toyPairs(1, 40, "de", "fr", "es")
	c.Steps, c.ValEvery, c.CheckpointEvery = 6, 0, 0
	a, res, err := LanguageAffinity(c, 2, 1e-3, 16)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 6 || a.Lookaheads != 3 {
		t.Fatalf("steps %d, lookaheads %d: want 6 and 3", res.Steps, a.Lookaheads)
	}
	if len(a.Z) != 3 || !slices.Equal(a.Tasks, c.Pairs) {
		t.Fatalf("affinity over %v, %d rows", a.Tasks, len(a.Z))
	}
	for i, row := range a.Z {
		if len(row) != 3 {
			t.Fatalf("row %d has %d entries", i, len(row))
		}
		for _, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("non-finite affinity %v", a.Z)
			}
		}
		if !(row[i] > 0) {
			t.Errorf("Z[%d][%d] = %v: a small step on a language should lower its own loss", i, i, row[i])
		}
	}
	if _, _, err := LanguageAffinity(c, 0, 1e-3, 16); err == nil {
		t.Error("every = 0: no error")
	}
}

func TestCurves(t *testing.T) {
	runs := []NewLangRun{
		{Lang: "gl", K: 100, Method: "finetune", Seed: 1, ChrF: 30, BLEU: 5},
		{Lang: "gl", K: 100, Method: "finetune", Seed: 2, ChrF: 34, BLEU: 7},
		{Lang: "gl", K: 100, Method: "scratch", Seed: 1, ChrF: 10, BLEU: 1},
		{Lang: "gl", K: 500, Method: "finetune", Seed: 1, ChrF: 40, BLEU: 9},
	}
	ps := Curves(runs)
	if len(ps) != 3 || ps[0].Method != "finetune" || ps[0].K != 100 || ps[0].Seeds != 2 || ps[0].ChrF != 32 {
		t.Fatalf("curves %+v", ps)
	}
	// 95% t interval of {30, 34}: sd = 2*sqrt(2), half = t(0.975, 1) * sd / sqrt(2) = 12.706 * 2
	if math.Abs(ps[0].ChrFHalf-2*12.7062047) > 1e-3 {
		t.Errorf("half-width %v, want %v", ps[0].ChrFHalf, 2*12.7062047)
	}
	if ps[2].ChrFHalf != 0 {
		t.Errorf("one seed: half-width %v, want 0", ps[2].ChrFHalf)
	}
	files, err := PlotCurves(ps, filepath.Join(t.TempDir(), "curve"))
	if err != nil || len(files) != 2 {
		t.Fatalf("plot: %v %v", files, err)
	}
	if !strings.Contains(CurvesTable(ps), "| gl | finetune | 100 | 2 | 32.00 ±") {
		t.Errorf("table:\n%s", CurvesTable(ps))
	}
}

// The whole map on lo-mt at tiny scale: gain = adapted - scratch in every
// cell, the JSON and heatmaps written, the affinity over the directions.
func TestBuildLangMapLoMT(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "lo-mt")
	if _, err := os.Stat(filepath.Join(dir, "train", "en-gl.tsv")); err != nil {
		t.Skipf("lo-mt not found at %s: skipping the language-map run", dir)
	}
	src := DefaultTrainConfig()
	src.DModel, src.Heads, src.EncoderLayers, src.DecoderLayers, src.FFN = 16, 2, 1, 1, 32
	src.VocabSize, src.MaxPairs, src.MaxTokens, src.MaxLen, src.Steps, src.Warmup = 400, 100, 512, 32, 3, 1
	src.ValEvery, src.CheckpointEvery = 0, 0
	tgt := src
	tgt.Steps = 2
	out := t.TempDir()
	rep, err := BuildLangMap(LangMapOptions{Map: TransferMapConfig{Data: dir, Languages: []string{"es", "gl"}, Source: src, Target: tgt,
		K: 20, Seed: 1, EvalSentences: 5, Out: out}, Affinity: 1, AffinitySentences: 4, Groups: 2})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Map
	for i := range m.Languages {
		for j := range m.Languages {
			if math.Abs(m.Gain[i][j]-(m.Adapted[i][j]-m.Scratch[j])) > 1e-9 {
				t.Fatalf("gain[%d][%d] = %v, adapted %v, scratch %v", i, j, m.Gain[i][j], m.Adapted[i][j], m.Scratch[j])
			}
		}
	}
	if m.Affinity == nil || m.Affinity.Lookaheads != 3 || len(m.Affinity.Z) != 2 {
		t.Fatalf("affinity %+v: want 3 lookaheads over 2 directions", m.Affinity)
	}
	back, err := LoadLangMap(filepath.Join(out, "langmap.json"))
	if err != nil || !slices.Equal(back.Languages, m.Languages) {
		t.Fatalf("saved map: %v %v", back, err)
	}
	for _, f := range []string{"langmap-gain.png", "langmap-affinity.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if rep.Groups == nil || rep.AffGroup == nil {
		t.Error("no groups")
	}
}
