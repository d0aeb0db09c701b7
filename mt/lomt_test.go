package mt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/metalearn/metalearn/data"
)

// loMTDir finds ../shared/data/lo-mt ($METALEARN_DATA/lo-mt when set) or
// skips the test.
func loMTDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("METALEARN_DATA"); d != "" {
		p := filepath.Join(d, "lo-mt")
		if _, err := os.Stat(filepath.Join(p, "SHA256SUMS")); err != nil {
			tb.Skipf("METALEARN_DATA=%s is set but has no lo-mt corpus: %v", d, err)
		}
		return p
	}
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "data", "lo-mt")
		if _, err := os.Stat(filepath.Join(p, "SHA256SUMS")); err == nil {
			return p
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	tb.Skipf("skipping: no shared/data/lo-mt in %s or a parent (set METALEARN_DATA to the data folder)", wd)
	return ""
}

func loMTTrain(tb testing.TB) map[string][]string {
	text, err := LoMTText(loMTDir(tb), "train", data.LoMTLanguages())
	if err != nil {
		tb.Fatal(err)
	}
	return text
}

// Every training string of the corpus survives encode -> decode, and no
// encoding uses <unk>.
func TestBPELoMTRoundTrip(t *testing.T) {
	text := loMTTrain(t)
	merges := 8000
	if testing.Short() {
		merges = 1000
	}
	v, err := TrainBPE(text, BPEConfig{Merges: merges})
	if err != nil {
		t.Fatal(err)
	}
	if v.NumMerges() != merges {
		t.Fatalf("%d merges, want %d", v.NumMerges(), merges)
	}
	n, tokens, chars := 0, 0, 0
	for _, l := range append(data.LoMTLanguages(), "en") {
		for _, s := range text[l] {
			roundTrip(t, v, s)
			tokens += len(v.Encode(s))
			chars += len(s)
			n++
		}
	}
	if n < 250000 {
		t.Fatalf("only %d training strings", n)
	}
	t.Logf("%d strings, %d merges: %.2f bytes per token", n, merges, float64(chars)/float64(tokens))
	// Small languages get pieces too: af words are encoded compactly.
	if ids := v.Encode("Kies die lettertipe vir die teks"); len(ids) > 14 {
		t.Errorf("af sentence takes %d tokens", len(ids))
	}
}

// BenchmarkTrainBPE: 8,000 merges on the whole lo-mt training split
// (every language, English once per id), temperature 5.
func BenchmarkTrainBPE(b *testing.B) {
	text := loMTTrain(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := TrainBPE(text, BPEConfig{Merges: 8000}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode encodes the de training targets with an 8,000-merge
// vocabulary on one goroutine, reporting tokens/s (the word cache is
// warm after the first pass, as in training).
func BenchmarkEncode(b *testing.B) {
	text := loMTTrain(b)
	v, err := TrainBPE(text, BPEConfig{Merges: 8000})
	if err != nil {
		b.Fatal(err)
	}
	sents := text["de"]
	ids := make([]int, 0, 1024)
	b.ResetTimer()
	tokens := 0
	for i := 0; i < b.N; i++ {
		for _, s := range sents {
			ids = v.EncodeAppend(ids[:0], s)
			tokens += len(ids)
		}
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
}
