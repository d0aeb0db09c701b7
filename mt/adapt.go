package mt

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/tensor"
)

// AdaptPair is one example of a user's adaptation set: Src in language
// From translates to Tgt in language To.
type AdaptPair struct {
	Src, Tgt string
	From, To string
}

// AdaptConfig configures Model.Adapt. Zero fields take the defaults.
type AdaptConfig struct {
	// Steps is the number of Adam steps (default 10).
	Steps int
	// LR is Adam's constant learning rate (default 1e-4; no warm-up: the
	// model is already trained).
	LR float64
	// BatchPairs is the pairs per step (default 16); each step takes the
	// next BatchPairs pairs of one target language, cycling.
	BatchPairs int
	// MaxLen truncates both sides of a pair to this many tokens (default
	// 128).
	MaxLen int
	// LabelSmoothing of the token cross-entropy (default 0).
	LabelSmoothing float64
	// ClipNorm clips the gradient's global norm (default 1; negative: off).
	ClipNorm float64
	// Seed seeds the dropout streams.
	Seed uint64
}

func (c *AdaptConfig) defaults() {
	if c.Steps <= 0 {
		c.Steps = 10
	}
	if !(c.LR > 0) {
		c.LR = 1e-4
	}
	if c.BatchPairs <= 0 {
		c.BatchPairs = 16
	}
	if c.MaxLen <= 0 {
		c.MaxLen = 128
	}
	if c.ClipNorm == 0 {
		c.ClipNorm = 1
	}
}

// ErrDiverged is returned by Adapt when a step's loss or gradient is not
// finite.
var ErrDiverged = errors.New("mt: adaptation diverged (non-finite loss or gradient)")

// Clone returns a copy of m that owns its weights (the vocabulary, which
// is read-only and safe for concurrent use, is shared).
func (m *Model) Clone() (*Model, error) {
	c, err := NewModel(m.Spec, m.Vocab)
	if err != nil {
		return nil, err
	}
	src, dst := m.Params(), c.Params()
	for i := range src {
		dst[i].V.Value = src[i].V.Value.Clone()
	}
	c.SetTraining(false)
	return c, nil
}

// Adapt fine-tunes a copy of m in memory on a user's pairs (continued
// training, as in Zoph et al. 2016 and Train with Init, but without files:
// for serving) and returns the copy; m is only read. Each step draws the
// next batch of one target language (languages in turn, pairs cycling)
// and takes one Adam step on its token cross-entropy. ctx is checked
// before every step: when it ends, Adapt returns ctx's error.
func (m *Model) Adapt(ctx context.Context, pairs []AdaptPair, c AdaptConfig) (*Model, error) {
	c.defaults()
	if len(pairs) == 0 {
		return nil, errors.New("mt: no adaptation pairs")
	}
	byTgt := map[string][]int{}
	for i, p := range pairs {
		if _, ok := m.Vocab.LanguageID(p.From); !ok {
			return nil, fmt.Errorf("mt: pair %d: unknown source language %q (the model knows %v)", i, p.From, m.Vocab.Languages())
		}
		if err := m.CanTranslateInto(p.To); err != nil {
			return nil, fmt.Errorf("pair %d: %w", i, err)
		}
		byTgt[p.To] = append(byTgt[p.To], i)
	}
	langs := make([]string, 0, len(byTgt))
	for l := range byTgt {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	src := make([][]int, len(pairs))
	tgt := make([][]int, len(pairs))
	for i, p := range pairs {
		var err error
		if src[i], err = m.EncodeSource(p.Src, p.To, c.MaxLen); err != nil {
			return nil, err
		}
		tgt[i] = m.EncodeTarget(p.Tgt, c.MaxLen)
	}
	a, err := m.Clone()
	if err != nil {
		return nil, err
	}
	params := a.Params()
	vars := make([]*autodiff.Var, len(params))
	index := map[*autodiff.Var]int{}
	for i, p := range params {
		vars[i] = p.V
		index[p.V] = i
	}
	opt := optim.NewAdam(vars, optim.AdamConfig{LR: c.LR, Beta1: 0.9, Beta2: 0.98, Eps: 1e-9})
	cursor := make([]int, len(langs))
	defer a.SetTraining(false)
	for step := 0; step < c.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		g := step % len(langs)
		lang, idx := langs[g], byTgt[langs[g]]
		rows := make([]int, 0, min(c.BatchPairs, len(idx)))
		for len(rows) < cap(rows) {
			rows = append(rows, idx[cursor[g]%len(idx)])
			cursor[g]++
		}
		a.SetTraining(true)
		a.reseed(c.Seed ^ (uint64(step)+1)*0x94d049bb133111eb)
		net, w, err := a.net(lang)
		if err != nil {
			return nil, err
		}
		loss, _ := net.Loss(w, padRows(src, rows), padRows(tgt, rows), c.LabelSmoothing)
		if lv := loss.Item(); lv != lv || lv > 1e300 || lv < -1e300 {
			return nil, ErrDiverged
		}
		gs := autodiff.Grad([]*autodiff.Var{loss}, w, false)
		grads := make([]*tensor.Tensor, len(vars))
		var list []*tensor.Tensor
		for j, gv := range gs {
			if gv != nil {
				grads[index[w[j]]] = gv.Value
				list = append(list, gv.Value)
			}
		}
		if c.ClipNorm > 0 {
			if n := optim.ClipGradNorm(list, c.ClipNorm); n != n || n > 1e300 {
				return nil, ErrDiverged
			}
		}
		opt.StepWith(grads)
	}
	for _, p := range params {
		if p.V.Value.HasNaNOrInf() {
			return nil, ErrDiverged
		}
	}
	return a, nil
}

// Bytes is the memory the model's weights take.
func (m *Model) Bytes() int64 {
	var n int64
	for _, p := range m.Params() {
		size := int64(4)
		if p.V.Value.DType() == tensor.Float64 {
			size = 8
		}
		n += int64(p.V.Value.Len()) * size
	}
	return n
}
