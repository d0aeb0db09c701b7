package nn

import (
	"fmt"
	"math"
	"reflect"
	"sort"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// DecodeState decodes a batch of rows one token at a time. Greedy and
// BeamSearch drive it; Seq2Seq.StartDecoding returns one with a key/value
// cache, and any model that can score a next token given the tokens fed so
// far can implement it.
type DecodeState interface {
	// Step feeds one token per row and returns the log-probabilities of
	// each row's next token, [rows, V].
	Step(tokens []int) *tensor.Tensor
	// Reorder makes the current row rows[i] the new row i; rows may repeat
	// (beam expansion) or leave rows out (finished sentences). The slice
	// is the caller's: Reorder must not keep it.
	Reorder(rows []int)
}

// SearchConfig configures Greedy and BeamSearch.
type SearchConfig struct {
	Beam int // beam size (BeamSearch; 0 means 1)
	// LengthPenalty is alpha of Wu et al. (2016, eq. 14): a finished
	// hypothesis Y scores log P(Y) / ((5+|Y|)/6)^alpha, |Y| counting the
	// end-of-sentence token. 0 ranks by log-probability.
	LengthPenalty float64
	// A sentence with a source of n tokens gets at most
	// floor(MaxLenRatio*n) + MaxLenConst output tokens, end-of-sentence
	// included; the last one is forced to be the end of sentence.
	MaxLenRatio float64
	MaxLenConst int
	BOS, EOS    int // begin- and end-of-sentence ids
	NBest       int // hypotheses returned per sentence (BeamSearch; 0 means 1, at most Beam)
}

// Hypothesis is one decoded output.
type Hypothesis struct {
	Tokens  []int   // without the begin- and end-of-sentence ids
	LogProb float64 // sum of the token log-probabilities, end of sentence included
	Score   float64 // LogProb over the length penalty
}

// checkVocab reports ids of c outside the vocabulary of v tokens that a
// first step revealed.
func (c SearchConfig) checkVocab(v int) error {
	if c.EOS < 0 || c.EOS >= v {
		return fmt.Errorf("nn: decoding: end-of-sentence id %d not in the vocabulary [0,%d)", c.EOS, v)
	}
	return nil
}

func (c SearchConfig) maxLens(srcLens []int) ([]int, error) {
	if c.MaxLenRatio < 0 {
		return nil, fmt.Errorf("nn: decoding: max length ratio %v, want >= 0", c.MaxLenRatio)
	}
	out := make([]int, len(srcLens))
	for i, n := range srcLens {
		out[i] = int(math.Floor(c.MaxLenRatio*float64(n))) + c.MaxLenConst
		if out[i] < 1 {
			return nil, fmt.Errorf("nn: decoding: sentence %d (source length %d) gets max length %d = floor(%v*%d)+%d, want >= 1", i, n, out[i], c.MaxLenRatio, n, c.MaxLenConst)
		}
	}
	return out, nil
}

// lengthPenalty is ((5+n)/6)^alpha (Wu et al. 2016).
func lengthPenalty(n int, alpha float64) float64 {
	if alpha == 0 {
		return 1
	}
	return math.Pow((5+float64(n))/6, alpha)
}

// Greedy decodes each row of st (one per source sentence, lengths srcLens)
// by taking the most probable token at every step (the lowest id on ties)
// until the end of sentence or the maximum length. Finished sentences are
// dropped from st, so later steps cost less.
func Greedy(st DecodeState, srcLens []int, c SearchConfig) ([]Hypothesis, error) {
	maxLen, err := c.maxLens(srcLens)
	if err != nil {
		return nil, err
	}
	out := make([]Hypothesis, len(srcLens))
	active := make([]int, len(srcLens)) // sentence of each row
	tokens := make([]int, len(srcLens))
	for i := range active {
		active[i], tokens[i] = i, c.BOS
	}
	for t := 0; len(active) > 0; t++ {
		logp := st.Step(tokens)
		v, vals := logp.Shape()[1], logp.Values()
		if err := c.checkVocab(v); err != nil {
			return nil, err
		}
		var keep, next, nextActive []int
		for r, s := range active {
			row := vals[r*v : (r+1)*v]
			tok := c.EOS
			if t+1 < maxLen[s] {
				tok = argmax(row)
			}
			out[s].LogProb += row[tok]
			if tok == c.EOS {
				out[s].Score = out[s].LogProb / lengthPenalty(len(out[s].Tokens)+1, c.LengthPenalty)
				continue
			}
			out[s].Tokens = append(out[s].Tokens, tok)
			keep, next, nextActive = append(keep, r), append(next, tok), append(nextActive, s)
		}
		if len(keep) != len(active) && len(keep) > 0 {
			st.Reorder(keep)
		}
		active, tokens = nextActive, next
	}
	return out, nil
}

func argmax(row []float64) int {
	best := 0
	for i, x := range row {
		if x > row[best] {
			best = i
		}
	}
	return best
}

// candidate is one extension of a live hypothesis: beam parent by token v.
type candidate struct {
	lp        float64
	parent, v int
}

// topInsert inserts c into cs, kept sorted by decreasing lp and at most n
// long; a candidate ties below those already there.
func topInsert(cs []candidate, n int, c candidate) []candidate {
	if len(cs) == n && !(c.lp > cs[n-1].lp) {
		return cs
	}
	i := len(cs)
	for i > 0 && c.lp > cs[i-1].lp {
		i--
	}
	if len(cs) < n {
		cs = append(cs, candidate{})
	}
	copy(cs[i+1:], cs[i:len(cs)-1])
	cs[i] = c
	return cs
}

// beam is one live hypothesis.
type beam struct {
	tokens  []int
	logProb float64
}

// BeamSearch decodes each row of st (one per source sentence, lengths
// srcLens) with beam search: every step extends each of the Beam live
// hypotheses by every token and keeps the Beam best non-finished
// extensions; an extension by the end of sentence that ranks among the
// Beam best is a finished hypothesis. A sentence stops when Beam
// hypotheses have finished or at its maximum length, and its NBest
// finished hypotheses are returned by Score, best first. All sentences
// advance together as rows of st (Beam rows per unfinished sentence).
func BeamSearch(st DecodeState, srcLens []int, c SearchConfig) ([][]Hypothesis, error) {
	maxLen, err := c.maxLens(srcLens)
	if err != nil {
		return nil, err
	}
	k := max(c.Beam, 1)
	nbest := min(max(c.NBest, 1), k)
	n := len(srcLens)
	finished := make([][]Hypothesis, n)
	live := make([][]beam, n)
	active := make([]int, n)
	rows := make([]int, 0, n*k)
	tokens := make([]int, 0, n*k)
	for s := 0; s < n; s++ {
		active[s] = s
		live[s] = make([]beam, k)
		for j := range live[s] {
			live[s][j].logProb = math.Inf(-1)
			rows = append(rows, s)
			tokens = append(tokens, c.BOS)
		}
		live[s][0].logProb = 0 // one start; the copies only fill the rows
	}
	st.Reorder(rows)
	cands := make([]candidate, 0, 2*k+1)
	for t := 0; len(active) > 0; t++ {
		logp := st.Step(tokens)
		v, vals := logp.Shape()[1], logp.Values()
		if err := c.checkVocab(v); err != nil {
			return nil, err
		}
		rows, tokens = rows[:0], tokens[:0]
		var nextActive []int
		for a, s := range active {
			forced := t+1 == maxLen[s]
			// the 2k best extensions (ties: lower beam, then lower id); at
			// most k of them end the sentence, so k or more go on
			cands = cands[:0]
			for j, b := range live[s] {
				row := vals[(a*k+j)*v : (a*k+j+1)*v]
				if forced {
					cands = append(cands, candidate{b.logProb + row[c.EOS], j, c.EOS})
					continue
				}
				for tok, x := range row {
					cands = topInsert(cands, 2*k, candidate{b.logProb + x, j, tok})
				}
			}
			var next []beam
			for i, cd := range cands {
				if len(next) == k || (forced && i == k) {
					break
				}
				parent := live[s][cd.parent]
				if cd.v == c.EOS {
					if i < k && !math.IsInf(cd.lp, -1) {
						finished[s] = append(finished[s], Hypothesis{
							Tokens: append([]int(nil), parent.tokens...), LogProb: cd.lp,
							Score: cd.lp / lengthPenalty(len(parent.tokens)+1, c.LengthPenalty),
						})
					}
					continue
				}
				next = append(next, beam{append(append([]int(nil), parent.tokens...), cd.v), cd.lp})
				rows = append(rows, a*k+cd.parent)
				tokens = append(tokens, cd.v)
			}
			if forced || len(finished[s]) >= k {
				rows, tokens = rows[:len(rows)-len(next)], tokens[:len(tokens)-len(next)]
				continue
			}
			for len(next) < k { // fewer than k extensions (tiny vocabularies): pad with dead beams
				next = append(next, beam{logProb: math.Inf(-1)})
				rows = append(rows, a*k)
				tokens = append(tokens, c.EOS)
			}
			live[s] = next
			nextActive = append(nextActive, s)
		}
		active = nextActive
		if len(active) > 0 {
			st.Reorder(rows)
		}
	}
	for s := range finished {
		sort.SliceStable(finished[s], func(i, j int) bool { return finished[s][i].Score > finished[s][j].Score })
		if len(finished[s]) > nbest {
			finished[s] = finished[s][:nbest]
		}
	}
	return finished, nil
}

// seq2seqState is the incremental decoder of a Seq2Seq model: the encoder
// memory's keys and values per decoder layer are computed once, and the
// self-attention keys and values of the prefix are cached and extended by
// one position per step, so the prefix is never recomputed.
type seq2seqState struct {
	m          *Seq2Seq
	w          []*autodiff.Var
	memLens    []int
	memK, memV []*autodiff.Var // per decoder layer, [N,H,S,D]
	selfK      []*autodiff.Var // per decoder layer, [N,H,t,D]; nil before the first step
	selfV      []*autodiff.Var
	pos        int
	rowSrc     []int // source sentence of each row
	// outT is the tied output projection transposed, [d_model, vocab],
	// made once per decoding rather than at every step (MatMul on it
	// rounds exactly as MatMulNT on the embedding).
	outT *tensor.Tensor
}

// StartDecoding encodes src with weights w and returns the incremental
// decoder of its rows, for Greedy and BeamSearch. Decode in evaluation
// mode (SetTraining(false)); nothing is recorded for differentiation.
func (m *Seq2Seq) StartDecoding(w []*autodiff.Var, src Tokens) DecodeState {
	st := &seq2seqState{m: m, w: w, memLens: append([]int(nil), src.Lens...), rowSrc: make([]int, src.Batch())}
	for i := range st.rowSrc {
		st.rowSrc[i] = i
	}
	autodiff.NoGrad(func() {
		mem := m.Encode(w, src)
		o := 1 + m.Transformer.decoderOffset()
		for i, l := range m.Transformer.Decoder {
			lw := w[o+i*decoderLayerParams:]
			k, v := l.CrossAttn.projectKV(lw[4:8], mem)
			st.memK, st.memV = append(st.memK, k), append(st.memV, v)
		}
		st.selfK = make([]*autodiff.Var, len(m.Transformer.Decoder))
		st.selfV = make([]*autodiff.Var, len(m.Transformer.Decoder))
		st.outT = tensor.Transpose(w[0].Value)
	})
	return st
}

func (st *seq2seqState) Step(tokens []int) *tensor.Tensor {
	if len(tokens) != len(st.rowSrc) {
		panic(fmt.Sprintf("nn: decoding step: %d tokens for %d rows", len(tokens), len(st.rowSrc)))
	}
	for r, id := range tokens {
		if v := st.m.Vocab(); id < 0 || id >= v {
			panic(fmt.Sprintf("nn: decoding step: token %d of row %d not in the vocabulary [0,%d) (the begin-of-sentence id?)", id, r, v))
		}
	}
	var out *tensor.Tensor
	autodiff.NoGrad(func() {
		w, tr := st.w, st.m.Transformer
		n := len(tokens)
		x := st.m.embed(w[0], tokens, n, 1, st.pos)
		o := 1 + tr.decoderOffset()
		for i, l := range tr.Decoder {
			lw := w[o+i*decoderLayerParams : o+(i+1)*decoderLayerParams]
			x = l.residual(lw[12:14], x, func(h *autodiff.Var) *autodiff.Var {
				q, k, v := l.SelfAttn.projectQKV(lw[0:4], h)
				if old := st.selfK[i]; old != nil {
					oldV := st.selfV[i]
					k, v = autodiff.Concat(2, old, k), autodiff.Concat(2, oldV, v)
					// the shorter cache is dead: its storage serves the
					// next decoding's step of this length
					tensor.Recycle(old.Value)
					tensor.Recycle(oldV.Value)
				}
				st.selfK[i], st.selfV[i] = k, v
				return l.SelfAttn.combine(lw[0:4], q, k, v, AttendOptions{})
			})
			x = l.residual(lw[14:16], x, func(h *autodiff.Var) *autodiff.Var {
				return l.CrossAttn.combine(lw[4:8], l.CrossAttn.projectQ(lw[4:8], h), st.memK[i], st.memV[i], AttendOptions{KeyLengths: st.memLens})
			})
			x = l.residual(lw[16:18], x, func(h *autodiff.Var) *autodiff.Var { return l.feedForward(lw[8:12], h) })
		}
		o += decoderLayerParams * len(tr.Decoder)
		h := layerNorm(w[o:o+2], x)
		logits := tensor.MatMul(h.Value, st.outT)
		out = tensor.LogSoftmax(tensor.Reshape(logits, n, -1), -1)
		tensor.Recycle(logits)
	})
	st.pos++
	return out
}

func (st *seq2seqState) Reorder(rows []int) {
	sel := func(v *autodiff.Var) *autodiff.Var {
		if v == nil {
			return nil
		}
		return autodiff.Const(tensor.IndexSelect(v.Value, 0, rows))
	}
	rowSrc := make([]int, len(rows))
	for i, r := range rows {
		rowSrc[i] = st.rowSrc[r]
	}
	// a beam step reorders rows within each sentence: the memory's rows
	// stay as they are
	sameSources := reflect.DeepEqual(rowSrc, st.rowSrc)
	for i := range st.selfK {
		if !sameSources {
			st.memK[i], st.memV[i] = sel(st.memK[i]), sel(st.memV[i])
		}
		st.selfK[i], st.selfV[i] = sel(st.selfK[i]), sel(st.selfV[i])
	}
	if !sameSources {
		lens := make([]int, len(rows))
		for i, r := range rows {
			lens[i] = st.memLens[r]
		}
		st.memLens = lens
	}
	st.rowSrc = rowSrc
}
