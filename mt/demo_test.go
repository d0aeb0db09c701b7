package mt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The demo pipeline end to end at toy size (a handful of steps): the
// three runs exist, the adapted model started from the pretrained one and
// knows gl, the scores are chrF values and demo.json holds them. Quality
// is not asserted at this size.
func TestDemoPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three tiny models")
	}
	out := t.TempDir()
	var log []string
	res, err := Demo(DemoConfig{Out: out, PretrainSteps: 6, AdaptSteps: 3, AdaptPairs: 20, DModel: 16, Heads: 2, FFN: 32, VocabSize: 400,
		Log: func(s string) { log = append(log, s) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []float64{res.ChrFBefore, res.ChrFAfter, res.ChrFScratch, res.PretrainDevChrF} {
		if !(v >= 0 && v <= 100) {
			t.Fatalf("chrF %v", v)
		}
	}
	if res.AdaptPairs != 20 || res.Adapted.TrainPairs != 20 || res.Scratch.TrainPairs != 20 || res.Pretrain.TrainPairs != 6000 {
		t.Errorf("pairs: %d %d %d %d", res.AdaptPairs, res.Adapted.TrainPairs, res.Scratch.TrainPairs, res.Pretrain.TrainPairs)
	}
	pre, _, err := LoadModel(res.Pretrain.Model)
	if err != nil {
		t.Fatal(err)
	}
	ad, _, err := LoadModel(res.Adapted.Model)
	if err != nil {
		t.Fatal(err)
	}
	if ad.Vocab.Size() != pre.Vocab.Size() || pre.CanTranslateInto("gl") != nil {
		t.Errorf("adapted vocabulary %d, pretrained %d", ad.Vocab.Size(), pre.Vocab.Size())
	}
	if len(res.Plots) != 2 {
		t.Errorf("plots %q", res.Plots)
	}
	for _, p := range res.Plots {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("plot %s: %v", p, err)
		}
	}
	var got DemoResult
	b, err := os.ReadFile(filepath.Join(out, "demo.json"))
	if err != nil || json.Unmarshal(b, &got) != nil || got.ChrFAfter != res.ChrFAfter {
		t.Fatalf("demo.json: %v %s", err, b)
	}
	if !strings.Contains(strings.Join(log, "\n"), "chrF after adapting on 20 pairs") {
		t.Errorf("log: %q", log)
	}
	if _, err := Demo(DemoConfig{Out: out, AdaptPairs: 301}); err == nil || !strings.Contains(err.Error(), "301 adaptation pairs, want 1..300") {
		t.Errorf("%v", err)
	}
}
