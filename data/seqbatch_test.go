package data

import (
	"errors"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"
)

func checkBatches(t *testing.T, pairs []SeqPair, bs []SeqBatch, cfg TokenBatchConfig) {
	t.Helper()
	seen := make([]int, len(pairs))
	for bi, b := range bs {
		if b.PaddedTokens() > cfg.MaxTokens {
			t.Fatalf("batch %d: %d padded tokens > budget %d", bi, b.PaddedTokens(), cfg.MaxTokens)
		}
		if cfg.MaxSentences > 0 && len(b.Index) > cfg.MaxSentences {
			t.Fatalf("batch %d: %d pairs > %d", bi, len(b.Index), cfg.MaxSentences)
		}
		for r, i := range b.Index {
			seen[i]++
			p := pairs[i]
			src := b.Src.IDs[r*b.Src.T : (r+1)*b.Src.T]
			tgt := b.Tgt.IDs[r*b.Tgt.T : (r+1)*b.Tgt.T]
			if b.Src.Lens[r] != len(p.Src) || b.Tgt.Lens[r] != len(p.Tgt) || !reflect.DeepEqual(src[:len(p.Src)], p.Src) || !reflect.DeepEqual(tgt[:len(p.Tgt)], p.Tgt) {
				t.Fatalf("batch %d row %d does not hold pair %d", bi, r, i)
			}
			for _, id := range append(append([]int(nil), src[len(p.Src):]...), tgt[len(p.Tgt):]...) {
				if id != cfg.Pad {
					t.Fatalf("batch %d row %d: padding holds %d, want %d", bi, r, id, cfg.Pad)
				}
			}
		}
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("pair %d is in %d batches", i, n)
		}
	}
}

func TestTokenBatchesSynthetic(t *testing.T) {
	var pairs []SeqPair
	for i := 0; i < 300; i++ {
		s, tt := make([]int, 1+i%17), make([]int, 2+(i*7)%13)
		for j := range s {
			s[j] = i + 1
		}
		for j := range tt {
			tt[j] = i + 2
		}
		pairs = append(pairs, SeqPair{s, tt})
	}
	cases := []TokenBatchConfig{
		{MaxTokens: 200, Seed: 1},
		{MaxTokens: 64, Pad: -1, Seed: 2},
		{MaxTokens: 1000, MaxSentences: 7, Seed: 3},
	}
	for _, cfg := range cases {
		bs, err := TokenBatches(pairs, cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkBatches(t, pairs, bs, cfg)
		again, _ := TokenBatches(pairs, cfg)
		if !reflect.DeepEqual(bs, again) {
			t.Fatalf("%+v: not deterministic", cfg)
		}
		cfg.Seed += 100
		other, _ := TokenBatches(pairs, cfg)
		if reflect.DeepEqual(bs, other) {
			t.Fatalf("%+v: another seed gives the same batches", cfg)
		}
	}
}

func TestTokenBatchesBadInput(t *testing.T) {
	pairs := []SeqPair{{[]int{1, 2}, []int{3}}, {make([]int, 30), make([]int, 40)}}
	for _, c := range []struct {
		cfg  TokenBatchConfig
		want string
	}{
		{TokenBatchConfig{MaxTokens: 0}, "max tokens 0"},
		{TokenBatchConfig{MaxTokens: 100, MaxSentences: -1}, "max sentences -1"},
		{TokenBatchConfig{MaxTokens: 50}, "pair 1 has 30 source + 40 target tokens"},
	} {
		if _, err := TokenBatches(pairs, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
}

// On a real corpus (lo-mt en-de train, whitespace tokens plus begin/end of
// sentence on the target; the few pairs over 1,024 tokens left out)
// batches of 1,024 and 4,096 tokens waste under 10% on padding.
func TestTokenBatchesPaddingRealCorpus(t *testing.T) {
	dir := "../../shared/data/lo-mt"
	if _, err := os.Stat(LoMTPath(dir, "train", "de")); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not present; skipping the real-corpus padding check", LoMTPath(dir, "train", "de"))
	}
	segs, err := LoadLoMT(dir, "train", "de")
	if err != nil {
		t.Fatal(err)
	}
	vocab := map[string]int{"<pad>": 0, "<s>": 1, "</s>": 2}
	id := func(w string) int {
		if i, ok := vocab[w]; ok {
			return i
		}
		vocab[w] = len(vocab)
		return vocab[w]
	}
	var pairs []SeqPair
	for _, sg := range segs {
		var p SeqPair
		for _, w := range strings.Fields(sg.Source) {
			p.Src = append(p.Src, id(w))
		}
		p.Tgt = []int{1}
		for _, w := range strings.Fields(sg.Target) {
			p.Tgt = append(p.Tgt, id(w))
		}
		p.Tgt = append(p.Tgt, 2)
		if len(p.Src)+len(p.Tgt) <= 1024 {
			pairs = append(pairs, p)
		}
	}
	for _, maxTokens := range []int{1024, 4096} {
		cfg := TokenBatchConfig{MaxTokens: maxTokens, Seed: 7}
		bs, err := TokenBatches(pairs, cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkBatches(t, pairs, bs, cfg)
		pad := PaddingFraction(bs)
		t.Logf("%d pairs, max tokens %d: %d batches, padding %.2f%%", len(pairs), maxTokens, len(bs), 100*pad)
		if pad >= 0.10 {
			t.Errorf("max tokens %d: padding %.2f%% >= 10%%", maxTokens, 100*pad)
		}
	}
}
