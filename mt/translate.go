package mt

import (
	"fmt"
	"sort"

	"github.com/metalearn/metalearn/nn"
)

// TranslateOptions configures Model.Translate.
type TranslateOptions struct {
	// Beam is the beam size; 0 or 1 decodes greedily.
	Beam int
	// NBest is the number of translations returned per sentence (at most
	// Beam; 0 means 1).
	NBest int
	// LengthPenalty is alpha of Wu et al. (2016) for beam search (0: none).
	LengthPenalty float64
	// BatchSize is the number of sentences decoded together (default 64).
	BatchSize int
	// MaxLen truncates the source to this many tokens (tag and end of
	// sentence included; default 256).
	MaxLen int
	// Progress, when set, is called after each batch with the number of
	// sentences done.
	Progress func(done int)
}

// Translation is one output of Translate.
type Translation struct {
	Text    string  `json:"text"`
	LogProb float64 `json:"logprob"`
	Score   float64 `json:"score"`
}

// Translate translates every line of src into tgt and returns, per line,
// the NBest translations best first. Lines are decoded in batches of
// similar length; the output order is the input order. An empty line
// translates to an empty line.
func (m *Model) Translate(src []string, tgt string, o TranslateOptions) ([][]Translation, error) {
	if err := m.CanTranslateInto(tgt); err != nil {
		return nil, err
	}
	net, w, err := m.net(tgt)
	if err != nil {
		return nil, err
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 64
	}
	if o.MaxLen <= 0 {
		o.MaxLen = 256
	}
	beam := max(o.Beam, 1)
	nbest := max(o.NBest, 1)
	if nbest > beam {
		return nil, fmt.Errorf("mt: %d-best needs a beam of at least %d, got %d", nbest, nbest, beam)
	}
	if !m.evaluating { // already off: concurrent translations only read
		m.SetTraining(false)
	}
	ids := make([][]int, len(src))
	order := make([]int, 0, len(src))
	out := make([][]Translation, len(src))
	for i, s := range src {
		if s == "" {
			out[i] = make([]Translation, nbest)
			continue
		}
		if ids[i], err = m.EncodeSource(s, tgt, o.MaxLen); err != nil {
			return nil, err
		}
		order = append(order, i)
	}
	sort.SliceStable(order, func(a, b int) bool { return len(ids[order[a]]) < len(ids[order[b]]) })
	sc := nn.SearchConfig{Beam: beam, NBest: nbest, LengthPenalty: o.LengthPenalty, MaxLenRatio: 2, MaxLenConst: 10, BOS: BOS, EOS: EOS}
	done := len(src) - len(order)
	for lo := 0; lo < len(order); lo += o.BatchSize {
		rows := order[lo:min(lo+o.BatchSize, len(order))]
		batch := padRows(ids, rows)
		st := net.StartDecoding(w, batch)
		var hyps [][]nn.Hypothesis
		if beam == 1 {
			g, err := nn.Greedy(st, batch.Lens, sc)
			if err != nil {
				return nil, err
			}
			for _, h := range g {
				hyps = append(hyps, []nn.Hypothesis{h})
			}
		} else if hyps, err = nn.BeamSearch(st, batch.Lens, sc); err != nil {
			return nil, err
		}
		for j, r := range rows {
			for _, h := range hyps[j] {
				text, err := m.Vocab.Decode(stripSpecial(m.Vocab, h.Tokens))
				if err != nil {
					return nil, err
				}
				out[r] = append(out[r], Translation{Text: text, LogProb: h.LogProb, Score: h.Score})
			}
		}
		done += len(rows)
		if o.Progress != nil {
			o.Progress(done)
		}
	}
	return out, nil
}

// stripSpecial drops reserved ids and language tags a model may emit.
func stripSpecial(v *Vocab, ids []int) []int {
	out := ids[:0:0]
	for _, id := range ids {
		if id >= 0 && id < v.Size() && !v.IsSpecial(id) {
			out = append(out, id)
		}
	}
	return out
}

// padRows pads ids[rows] into one Tokens batch.
func padRows(ids [][]int, rows []int) nn.Tokens {
	t := 0
	for _, r := range rows {
		t = max(t, len(ids[r]))
	}
	b := nn.Tokens{IDs: make([]int, len(rows)*t), Lens: make([]int, len(rows)), T: t}
	for i, r := range rows {
		copy(b.IDs[i*t:], ids[r])
		b.Lens[i] = len(ids[r])
	}
	return b
}
