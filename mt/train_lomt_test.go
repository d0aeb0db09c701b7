package mt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/metalearn/metalearn/data"
)

// A tiny model trained for a fixed number of steps on 3,000 lo-mt en-de
// training pairs translates the first 100 dev sentences with a clearly
// higher chrF than the same architecture untrained (same vocabulary).
// Steps, not time, bound the run.
func TestTrainLoMTBeatsUntrained(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "lo-mt")
	if _, err := os.Stat(filepath.Join(dir, "train", "en-de.tsv")); err != nil {
		t.Skipf("lo-mt not found at %s: skipping the real-data training test", dir)
	}
	if testing.Short() {
		t.Skip("-short: skipping the lo-mt training run (about a minute on 2 cores)")
	}
	c := DefaultTrainConfig()
	c.Data, c.Pairs = dir, []string{"en-de"}
	c.MaxPairs, c.VocabSize = 3000, 600
	c.DModel, c.Heads, c.EncoderLayers, c.DecoderLayers, c.FFN = 64, 4, 1, 1, 256
	c.MaxTokens, c.Steps, c.Warmup, c.LR = 2048, 300, 50, 5e-3
	c.ValEvery, c.CheckpointEvery = 0, 0
	c.Out = t.TempDir()
	res, err := Train(c)
	if err != nil {
		t.Fatal(err)
	}
	trained, _, err := LoadModel(res.Model)
	if err != nil {
		t.Fatal(err)
	}
	untrained, err := NewModel(trained.Spec, trained.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := data.LoadLoMTPair(dir, "dev", "en", "de")
	if err != nil {
		t.Fatal(err)
	}
	dirs := []*direction{{name: "en-de", src: "en", tgt: "de", dev: dev[:100]}}
	after, _, err := devChrF(trained, dirs, 0)
	if err != nil {
		t.Fatal(err)
	}
	before, _, err := devChrF(untrained, dirs, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dev chrF on 100 sentences: untrained %.2f, after %d steps %.2f", before, res.Steps, after)
	if after < before+5 {
		t.Fatalf("dev chrF after training %.2f, untrained %.2f: want at least 5 points better", after, before)
	}
}
