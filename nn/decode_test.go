package nn

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

// tinySeq2Seq is a small float64 model in evaluation mode and a batch of
// ragged sources.
func tinySeq2Seq(t *testing.T, normFirst bool) (*Seq2Seq, Tokens) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 5))
	m, err := NewSeq2Seq(rng, 9, TransformerConfig{DModel: 8, Heads: 2, EncoderLayers: 2, DecoderLayers: 2, FFN: 12, Dropout: 0.1, NormFirst: normFirst})
	if err != nil {
		t.Fatal(err)
	}
	Cast(m, tensor.Float64)
	m.Embed.Weight.Value = tensor.RandN(rng, tensor.Float64, 1, 9, 8) // sharper distributions
	m.SetTraining(false)
	src := Tokens{IDs: []int{3, 4, 5, 6, 7, 2, 8, 1, 1, 1, 5, 5, 6, 7, 1}, Lens: []int{5, 2, 4}, T: 5}
	return m, src
}

// Cached incremental decoding gives the log-probabilities of a full
// recomputation over the whole prefix at every step, also after beams are
// reordered.
func TestCachedDecodingMatchesRecomputation(t *testing.T) {
	for _, normFirst := range []bool{false, true} {
		m, src := tinySeq2Seq(t, normFirst)
		w := Vars(m)
		st := m.StartDecoding(w, src)
		rng := rand.New(rand.NewPCG(1, 2))
		b := src.Batch()
		prefix := make([][]int, b) // tokens fed so far, per row
		rowSrc := []int{0, 1, 2}
		for step := 0; step < 6; step++ {
			if step == 3 { // reorder: drop row 1, duplicate row 2
				st.Reorder([]int{0, 2, 2})
				prefix = [][]int{prefix[0], prefix[2], append([]int(nil), prefix[2]...)}
				rowSrc = []int{0, 2, 2}
			}
			if step == 4 { // a beam-style reorder within sentences: swap the two rows of source 2
				st.Reorder([]int{0, 2, 1})
				prefix = [][]int{prefix[0], prefix[2], prefix[1]}
			}
			tokens := make([]int, len(prefix))
			for r := range prefix {
				tokens[r] = rng.IntN(9)
				prefix[r] = append(prefix[r], tokens[r])
			}
			got := st.Step(tokens)
			// full recomputation with the sources of the current rows
			rs := Tokens{T: src.T}
			tg := Tokens{T: step + 1}
			for r, s := range rowSrc {
				rs.IDs = append(rs.IDs, src.IDs[s*src.T:(s+1)*src.T]...)
				rs.Lens = append(rs.Lens, src.Lens[s])
				tg.IDs = append(tg.IDs, prefix[r]...)
				tg.Lens = append(tg.Lens, step+1)
			}
			logits := m.Decode(w, tg, m.Encode(w, rs), rs.Lens)
			last := tensor.Reshape(tensor.Slice(logits.Value, 1, step, step+1), len(rowSrc), -1)
			want := tensor.LogSoftmax(last, -1)
			if d := tensor.MaxAbsDiff(got, want); d > 1e-6 || d != d {
				t.Fatalf("normFirst=%v step %d: cached log-probabilities differ from recomputation by %.3g", normFirst, step, d)
			}
		}
	}
}

func TestBeamOneEqualsGreedy(t *testing.T) {
	for _, alpha := range []float64{0, 0.6} {
		m, src := tinySeq2Seq(t, true)
		w := Vars(m)
		cfg := SearchConfig{Beam: 1, LengthPenalty: alpha, MaxLenRatio: 1.5, MaxLenConst: 2, BOS: 2, EOS: 4}
		g, err := Greedy(m.StartDecoding(w, src), src.Lens, cfg)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := BeamSearch(m.StartDecoding(w, src), src.Lens, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("alpha %v greedy: %+v", alpha, g)
		for s := range g {
			if len(bs[s]) != 1 {
				t.Fatalf("sentence %d: %d hypotheses from beam 1", s, len(bs[s]))
			}
			h := bs[s][0]
			if !reflect.DeepEqual(h.Tokens, g[s].Tokens) && !(len(h.Tokens) == 0 && len(g[s].Tokens) == 0) {
				t.Errorf("alpha %v sentence %d: beam 1 %v, greedy %v", alpha, s, h.Tokens, g[s].Tokens)
			}
			if math.Abs(h.Score-g[s].Score) > 1e-12 || math.Abs(h.LogProb-g[s].LogProb) > 1e-12 {
				t.Errorf("alpha %v sentence %d: beam 1 scores %v/%v, greedy %v/%v", alpha, s, h.LogProb, h.Score, g[s].LogProb, g[s].Score)
			}
		}
	}
}

// On the toy model (whose outputs end at varied lengths) too.
func TestBeamOneEqualsGreedyToy(t *testing.T) {
	srcLens := []int{1, 2, 3, 4, 5, 6}
	for _, alpha := range []float64{0, 0.6} {
		cfg := SearchConfig{Beam: 1, LengthPenalty: alpha, MaxLenRatio: 1, MaxLenConst: 2, BOS: 5, EOS: 0}
		g, err := Greedy(newToy(6, len(srcLens)), srcLens, cfg)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := BeamSearch(newToy(6, len(srcLens)), srcLens, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for s := range g {
			if h := bs[s][0]; !reflect.DeepEqual(h.Tokens, g[s].Tokens) || math.Abs(h.Score-g[s].Score) > 1e-12 {
				t.Errorf("alpha %v sentence %d: beam 1 %v %v, greedy %v %v", alpha, s, h.Tokens, h.Score, g[s].Tokens, g[s].Score)
			}
		}
		t.Logf("alpha %v greedy: %+v", alpha, g)
	}
}

// toyState is a decoder whose next-token distribution is a fixed
// pseudo-random function of the source sentence and the prefix, so that
// every output sequence's probability can be enumerated.
type toyState struct {
	v      int
	src    []int   // sentence of each row
	prefix [][]int // tokens fed so far, per row
	steps  int
}

func toyLogProbs(v, src int, prefix []int) []float64 {
	h := fnv.New64a()
	h.Write([]byte{byte(src)})
	for _, p := range prefix {
		h.Write([]byte{byte(p)})
	}
	rng := rand.New(rand.NewPCG(h.Sum64(), 3))
	l := make([]float64, v)
	for i := range l {
		l[i] = 2 * rng.NormFloat64()
	}
	return tensor.LogSoftmax(tensor.FromFloat64(l, 1, v), -1).Values()
}

func (s *toyState) Step(tokens []int) *tensor.Tensor {
	out := make([]float64, 0, len(tokens)*s.v)
	for r, tok := range tokens {
		s.prefix[r] = append(s.prefix[r], tok)
		out = append(out, toyLogProbs(s.v, s.src[r], s.prefix[r])...)
	}
	s.steps++
	return tensor.FromFloat64(out, len(tokens), s.v)
}

func (s *toyState) Reorder(rows []int) {
	src, prefix := make([]int, len(rows)), make([][]int, len(rows))
	for i, r := range rows {
		src[i], prefix[i] = s.src[r], append([]int(nil), s.prefix[r]...)
	}
	s.src, s.prefix = src, prefix
}

func newToy(v, n int) *toyState {
	s := &toyState{v: v, src: make([]int, n), prefix: make([][]int, n)}
	for i := range s.src {
		s.src[i] = i
	}
	return s
}

// exhaustive returns the best score over all outputs of sentence src with
// at most maxLen tokens (the last forced to EOS at maxLen).
func exhaustive(v, src, maxLen, bos, eos int, alpha float64) (best float64, tokens []int) {
	best = math.Inf(-1)
	var walk func(prefix []int, lp float64)
	walk = func(prefix []int, lp float64) {
		logp := toyLogProbs(v, src, prefix)
		n := len(prefix) // output tokens so far, BOS excluded, +1 for this one
		for tok := 0; tok < v; tok++ {
			if n == maxLen && tok != eos {
				continue
			}
			if tok == eos {
				if s := (lp + logp[tok]) / lengthPenalty(n, alpha); s > best {
					best, tokens = s, append([]int(nil), prefix[1:]...)
				}
				continue
			}
			walk(append(append([]int(nil), prefix...), tok), lp+logp[tok])
		}
	}
	walk([]int{bos}, 0)
	return best, tokens
}

// With a beam wide enough to hold every prefix, beam search is exhaustive:
// it must return the best-scoring sequence (and, batched, the same as for
// each sentence alone).
func TestBeamSearchFindsBestOnToyModel(t *testing.T) {
	const v, bos, eos = 4, 3, 0
	srcLens := []int{1, 2, 3}
	for _, alpha := range []float64{0, 0.6, 2} {
		cfg := SearchConfig{Beam: 40, LengthPenalty: alpha, MaxLenRatio: 1, MaxLenConst: 2, BOS: bos, EOS: eos, NBest: 5}
		got, err := BeamSearch(newToy(v, len(srcLens)), srcLens, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for s, n := range srcLens {
			best, tokens := exhaustive(v, s, n+2, bos, eos, alpha)
			greedy, _ := Greedy(&toyState{v: v, src: []int{s}, prefix: make([][]int, 1)}, []int{n}, cfg)
			t.Logf("alpha %v sentence %d: best %v %.4f, greedy %v %.4f", alpha, s, tokens, best, greedy[0].Tokens, greedy[0].Score)
			h := got[s]
			if len(h) != 5 {
				t.Fatalf("alpha %v sentence %d: %d hypotheses, want the 5-best", alpha, s, len(h))
			}
			if math.Abs(h[0].Score-best) > 1e-12 || !reflect.DeepEqual(h[0].Tokens, tokens) {
				t.Errorf("alpha %v sentence %d: beam best %v (%v), exhaustive %v (%v)", alpha, s, h[0].Tokens, h[0].Score, tokens, best)
			}
			for i := 1; i < len(h); i++ {
				if h[i].Score > h[i-1].Score {
					t.Errorf("alpha %v sentence %d: n-best not sorted: %v", alpha, s, h)
				}
			}
			// the same sentence alone
			alone := &toyState{v: v, src: []int{s}, prefix: make([][]int, 1)}
			one, err := BeamSearch(alone, []int{n}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(one[0], h) {
				t.Errorf("alpha %v sentence %d: batched %v, alone %v", alpha, s, h, one[0])
			}
		}
	}
	// a narrow beam still returns valid, scored hypotheses within the length limit
	got, err := BeamSearch(newToy(v, 3), srcLens, SearchConfig{Beam: 2, MaxLenRatio: 1, MaxLenConst: 2, BOS: bos, EOS: eos, NBest: 2})
	if err != nil {
		t.Fatal(err)
	}
	for s, hs := range got {
		for _, h := range hs {
			if len(h.Tokens)+1 > srcLens[s]+2 {
				t.Errorf("sentence %d: hypothesis %v longer than the limit %d", s, h.Tokens, srcLens[s]+2)
			}
			lp, prefix := 0.0, []int{bos}
			for _, tok := range append(append([]int(nil), h.Tokens...), eos) {
				lp += toyLogProbs(v, s, prefix)[tok]
				prefix = append(prefix, tok)
			}
			if math.Abs(lp-h.LogProb) > 1e-12 {
				t.Errorf("sentence %d: hypothesis %v log-probability %v, recomputed %v", s, h.Tokens, h.LogProb, lp)
			}
		}
	}
}

func TestSearchRejectsBadLengths(t *testing.T) {
	_, err := Greedy(newToy(3, 1), []int{2}, SearchConfig{MaxLenRatio: 0, MaxLenConst: 0})
	if err == nil {
		t.Fatal("max length 0 accepted")
	}
	_, err = BeamSearch(newToy(3, 1), []int{2}, SearchConfig{MaxLenRatio: -1, MaxLenConst: 5})
	if err == nil {
		t.Fatal("negative ratio accepted")
	}
	for _, eos := range []int{-1, 3} {
		if _, err := Greedy(newToy(3, 1), []int{2}, SearchConfig{MaxLenConst: 5, EOS: eos}); err == nil || !strings.Contains(err.Error(), "end-of-sentence id") {
			t.Errorf("greedy with EOS %d in a vocabulary of 3: error %v", eos, err)
		}
		if _, err := BeamSearch(newToy(3, 1), []int{2}, SearchConfig{Beam: 2, MaxLenConst: 5, EOS: eos}); err == nil || !strings.Contains(err.Error(), "end-of-sentence id") {
			t.Errorf("beam search with EOS %d in a vocabulary of 3: error %v", eos, err)
		}
	}
}
