package mt

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// SampleK returns k of pairs drawn without replacement by a generator
// seeded by seed, in their original order. The draw is a prefix of one
// seeded permutation, so for one seed the K = 100 subset is inside the
// K = 500 one, which is inside the K = 2000 one (nested learning curves).
func SampleK(pairs []data.Segment, k int, seed uint64) ([]data.Segment, error) {
	if k < 1 {
		return nil, fmt.Errorf("mt: K = %d pairs, want >= 1", k)
	}
	if k > len(pairs) {
		return nil, fmt.Errorf("mt: K = %d pairs but only %d available", k, len(pairs))
	}
	idx := rand.New(rand.NewPCG(seed, 0x4b2d70616972)).Perm(len(pairs))[:k]
	sort.Ints(idx)
	out := make([]data.Segment, k)
	for i, j := range idx {
		out[i] = pairs[j]
	}
	return out, nil
}

// AddLanguage returns a copy of m that also translates into lang: the
// vocabulary gets the tag <2lang> (appended after the existing ids, so
// every other id keeps its meaning) and the tag's embedding row is the
// mean of the rows of the tags of the languages in from (Zoph et al.
// 2016 initialise the child from the parent; here the new tag starts
// where its relatives are). Empty from: a row drawn like the others'
// (normal, std d_model^-1/2, seeded). With separate decoders the new
// language gets a copy of from[0]'s decoder. A language the model already
// has is an error.
func AddLanguage(m *Model, lang string, from []string, seed uint64) (*Model, error) {
	if lang == "" || strings.ContainsAny(lang, " \t<>") {
		return nil, fmt.Errorf("mt: bad language code %q", lang)
	}
	if _, ok := m.Vocab.LanguageID(lang); ok {
		return nil, fmt.Errorf("mt: the model already has language %q", lang)
	}
	var fromIDs []int
	for _, f := range from {
		id, ok := m.Vocab.LanguageID(f)
		if !ok {
			return nil, fmt.Errorf("mt: tag initialisation from %q: the model knows %s", f, strings.Join(m.Vocab.Languages(), ", "))
		}
		fromIDs = append(fromIDs, id)
	}
	if m.Spec.Arch == ArchSeparateDecoders && len(from) == 0 {
		return nil, fmt.Errorf("mt: a separate-decoders model needs a related language (--tag-from) whose decoder the new language %q starts from", lang)
	}
	vb, err := m.Vocab.Marshal()
	if err != nil {
		return nil, err
	}
	voc, err := UnmarshalVocab(vb)
	if err != nil {
		return nil, err
	}
	if _, err := voc.AddLanguageTags(lang); err != nil {
		return nil, fmt.Errorf("mt: %w", err)
	}
	newID, _ := voc.LanguageID(lang)
	spec := m.Spec
	spec.Pairs = slices.Clone(m.Spec.Pairs)
	spec.Targets = slices.Clone(m.Spec.Targets)
	if spec.Arch == ArchSeparateDecoders {
		spec.Targets = append(spec.Targets, lang)
		sort.Strings(spec.Targets)
	}
	out, err := NewModel(spec, voc)
	if err != nil {
		return nil, err
	}
	old := map[string]*tensor.Tensor{}
	for _, p := range m.Params() {
		old[p.Name] = p.V.Value
	}
	rng := rand.New(rand.NewPCG(seed, 0x746167))
	for _, p := range out.Params() {
		name := p.Name
		if spec.Arch == ArchSeparateDecoders && strings.HasPrefix(name, "decoder."+lang+".") {
			name = "decoder." + from[0] + "." + strings.TrimPrefix(name, "decoder."+lang+".")
		}
		src, ok := old[name]
		if !ok {
			return nil, fmt.Errorf("mt: internal: no weight %s in the model", name)
		}
		if name != "embed.weight" {
			p.V.Value = src.Clone()
			continue
		}
		// the embedding has one more row: the old rows, then the new tag
		// (the tag is the last id, after every old one)
		d := src.Shape()[1]
		if newID != src.Shape()[0] {
			return nil, fmt.Errorf("mt: internal: new tag id %d, embedding has %d rows", newID, src.Shape()[0])
		}
		vals := append(src.Values(), make([]float64, d)...)
		row := vals[newID*d:]
		if len(fromIDs) > 0 {
			for _, id := range fromIDs {
				for k := range d {
					row[k] += vals[id*d+k] / float64(len(fromIDs))
				}
			}
		} else {
			std := 1 / math.Sqrt(float64(d))
			for k := range d {
				row[k] = rng.NormFloat64() * std
			}
		}
		p.V.Value = tensor.FromValues(src.DType(), vals, newID+1, d)
	}
	return out, nil
}

// MetaConfig is the meta-learning stage over languages as tasks (Gu,
// Wang, Chen, Cho & Li 2018, "Meta-Learning for Low-Resource Neural
// Machine Translation", MetaNMT): each task is one training direction of
// the multilingual model with a support batch and a query batch drawn from
// its training pairs.
type MetaConfig struct {
	// Algorithm is "fomaml", "reptile" or "maml" (second order).
	Algorithm string `json:"algorithm"`
	// Steps outer updates; MetaBatch languages per update; InnerSteps SGD
	// steps of rate InnerLR on each language's support batch; OuterLR the
	// outer rate (beta for FOMAML, epsilon for Reptile).
	Steps      int     `json:"steps"`
	MetaBatch  int     `json:"meta_batch"`
	InnerSteps int     `json:"inner_steps"`
	InnerLR    float64 `json:"inner_lr"`
	OuterLR    float64 `json:"outer_lr"`
	// MaxTokens is the token budget of a support or query batch.
	MaxTokens int    `json:"max_tokens"`
	Seed      uint64 `json:"seed"`
}

// DefaultMetaConfig: FOMAML, 200 outer steps of 4 languages, 1 inner SGD
// step of 0.1, the algorithm's default outer rate (plain SGD on the outer
// gradient), batches of 2,048 tokens. These are untuned starting points.
func DefaultMetaConfig() MetaConfig {
	return MetaConfig{Algorithm: "fomaml", Steps: 200, MetaBatch: 4, InnerSteps: 1, InnerLR: 0.1, MaxTokens: 2048, Seed: 1}
}

// outerLR is OuterLR or the algorithm's default.
func (c MetaConfig) outerLR() float64 {
	switch {
	case c.OuterLR != 0:
		return c.OuterLR
	case c.Algorithm == "reptile":
		return 0.5
	}
	// FOMAML and MAML
	return 0.1
}

func (c MetaConfig) validate() error {
	switch {
	case c.Algorithm != "fomaml" && c.Algorithm != "reptile" && c.Algorithm != "maml":
		return fmt.Errorf("mt meta: algorithm %q, want fomaml, reptile or maml (second order)", c.Algorithm)
	case c.Steps < 1 || c.MetaBatch < 1 || c.InnerSteps < 1:
		return fmt.Errorf("mt meta: steps = %d, meta_batch = %d, inner_steps = %d: want >= 1", c.Steps, c.MetaBatch, c.InnerSteps)
	case !(c.InnerLR > 0) || !(c.OuterLR >= 0):
		return fmt.Errorf("mt meta: inner_lr = %v, outer_lr = %v: want > 0", c.InnerLR, c.OuterLR)
	case c.MaxTokens < 8:
		return fmt.Errorf("mt meta: max_tokens = %d, want >= 8", c.MaxTokens)
	}
	return nil
}

// gradFunc returns the loss and its gradient at weights w for task t on
// its support (query = false) or query batch.
type gradFunc func(t int, query bool, w []*tensor.Tensor) (float64, []*tensor.Tensor, error)

// metaOuterStep is one outer update over tasks (the language-task outer
// loop; the update rules are those of the meta package's FOMAML and
// Reptile, written on explicit weights):
//
//	for each task i:  phi_i = theta; repeat k: phi_i -= alpha * grad L_support_i(phi_i)
//	FOMAML:  theta <- theta - beta * mean_i grad L_query_i(phi_i)            (Finn et al. 2017, first order)
//	Reptile: theta <- theta + eps  * mean_i (phi_i' - theta), phi_i' = phi_i
//	         after k more steps on the query batch                           (Nichol et al. 2018)
//
// It returns the new weights and the mean query loss at phi_i.
//
// MAML (second order): theta <- theta - beta * mean_i d L_query_i(phi_i(theta)) / d theta,
// differentiating through the inner steps; metaGrad returns that
// derivative and the query loss for one task (nil for the first-order
// algorithms).
func metaOuterStep(theta []*tensor.Tensor, tasks []int, grad gradFunc, metaGrad func(t int, theta []*tensor.Tensor) (float64, []*tensor.Tensor, error), c MetaConfig) ([]*tensor.Tensor, float64, error) {
	sum := make([]*tensor.Tensor, len(theta))
	qloss := 0.0
	add := func(contrib []*tensor.Tensor) {
		for k, g := range contrib {
			if g == nil {
				continue
			}
			if sum[k] == nil {
				sum[k] = g.Clone()
			} else {
				sum[k] = tensor.Add(sum[k], g)
			}
		}
	}
	for _, t := range tasks {
		if c.Algorithm == "maml" {
			l, g, err := metaGrad(t, theta)
			if err != nil {
				return nil, 0, err
			}
			qloss += l
			add(g)
			continue
		}
		phi := slices.Clone(theta)
		inner := func(query bool) error {
			for range c.InnerSteps {
				_, g, err := grad(t, query, phi)
				if err != nil {
					return err
				}
				for k := range phi {
					if g[k] != nil {
						phi[k] = tensor.Sub(phi[k], tensor.Scale(g[k], c.InnerLR))
					}
				}
			}
			return nil
		}
		if err := inner(false); err != nil {
			return nil, 0, err
		}
		var contrib []*tensor.Tensor
		if c.Algorithm == "fomaml" {
			l, g, err := grad(t, true, phi)
			if err != nil {
				return nil, 0, err
			}
			qloss += l
			contrib = g
		} else {
			l, _, err := grad(t, true, phi)
			if err != nil {
				return nil, 0, err
			}
			qloss += l
			if err := inner(true); err != nil {
				return nil, 0, err
			}
			contrib = make([]*tensor.Tensor, len(phi))
			for k := range phi {
				contrib[k] = tensor.Sub(theta[k], phi[k]) // pseudo-gradient theta - phi'
			}
		}
		add(contrib)
	}
	out := make([]*tensor.Tensor, len(theta))
	scale := c.outerLR() / float64(len(tasks))
	for k := range theta {
		if sum[k] == nil {
			out[k] = theta[k]
			continue
		}
		out[k] = tensor.Sub(theta[k], tensor.Scale(sum[k], scale))
	}
	return out, qloss / float64(len(tasks)), nil
}

// MetaTrain runs the meta-learning stage on m in place (Gu et al. 2018's meta-learning stage): the tasks are the
// directions of train (pair -> pairs, e.g. en-de, en-pt, ...), each outer
// step draws MetaBatch of them (seeded by (seed, step)) and a support and
// a query batch of each (disjoint halves of a seeded shuffle of the
// direction's pairs, cut to MaxTokens). Dropout is off (the inner loop
// must see one function). It returns the mean query loss of each step.
func MetaTrain(m *Model, train map[string][]data.Segment, c MetaConfig, maxLen int) ([]float64, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if maxLen < 4 {
		return nil, fmt.Errorf("mt meta: max_len = %d, want >= 4", maxLen)
	}
	names := make([]string, 0, len(train))
	for p := range train {
		names = append(names, p)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, errors.New("mt meta: no source languages (tasks)")
	}
	type langTask struct {
		tgt   string
		pairs []data.SeqPair
	}
	tasks := make([]langTask, len(names))
	for i, p := range names {
		_, tgt, err := ParsePair(p)
		if err != nil {
			return nil, fmt.Errorf("mt meta: %w", err)
		}
		if err := m.CanTranslateInto(tgt); err != nil {
			return nil, fmt.Errorf("mt meta: task %s: %w", p, err)
		}
		if len(train[p]) < 2 {
			return nil, fmt.Errorf("mt meta: task %s has %d pairs, want >= 2 (a support and a query batch)", p, len(train[p]))
		}
		tasks[i].tgt = tgt
		for _, s := range train[p] {
			src, err := m.EncodeSource(s.Source, tgt, maxLen)
			if err != nil {
				return nil, err
			}
			tasks[i].pairs = append(tasks[i].pairs, data.SeqPair{Src: src, Tgt: m.EncodeTarget(s.Target, maxLen)})
		}
	}
	m.SetTraining(false)
	params := m.Params()
	// current support/query batches, redrawn every outer step
	type sq struct{ sup, qry data.SeqBatch }
	cur := map[int]sq{}
	batchOf := func(ps []data.SeqPair) (data.SeqBatch, error) {
		bs, err := data.TokenBatches(ps, data.TokenBatchConfig{MaxTokens: c.MaxTokens, Pad: PAD, Seed: 1})
		if err != nil || len(bs) == 0 {
			return data.SeqBatch{}, fmt.Errorf("mt meta: batching: %v", err)
		}
		return bs[0], nil
	}
	grad := func(t int, query bool, w []*tensor.Tensor) (float64, []*tensor.Tensor, error) {
		for i, p := range params {
			p.V.Value = w[i]
		}
		net, vars, err := m.net(tasks[t].tgt)
		if err != nil {
			return 0, nil, err
		}
		b := cur[t].sup
		if query {
			b = cur[t].qry
		}
		loss, _ := net.Loss(vars, b.Src, b.Tgt, 0)
		gs := autodiff.Grad([]*autodiff.Var{loss}, vars, false)
		at := map[*autodiff.Var]int{}
		for i, p := range params {
			at[p.V] = i
		}
		out := make([]*tensor.Tensor, len(params))
		for i, g := range gs {
			if g != nil {
				out[at[vars[i]]] = g.Value
			}
		}
		return loss.Item(), out, nil
	}
	secondOrder := func(t int, w []*tensor.Tensor) (float64, []*tensor.Tensor, error) {
		for i, p := range params {
			p.V.Value = w[i]
		}
		net, vars, err := m.net(tasks[t].tgt)
		if err != nil {
			return 0, nil, err
		}
		loss, g, err := mamlTaskGrad(net.Loss, vars, cur[t].sup, cur[t].qry, c.InnerSteps, c.InnerLR)
		if err != nil {
			return 0, nil, err
		}
		at := map[*autodiff.Var]int{}
		for i, p := range params {
			at[p.V] = i
		}
		out := make([]*tensor.Tensor, len(params))
		for i, gi := range g {
			out[at[vars[i]]] = gi
		}
		return loss, out, nil
	}
	var curve []float64
	for step := range c.Steps {
		r := rand.New(rand.NewPCG(c.Seed^0x6d6574614e4d54, uint64(step)))
		nb := min(c.MetaBatch, len(tasks))
		chosen := r.Perm(len(tasks))[:nb]
		sort.Ints(chosen)
		for _, t := range chosen {
			perm := r.Perm(len(tasks[t].pairs))
			half := len(perm) / 2
			sup := make([]data.SeqPair, half)
			qry := make([]data.SeqPair, len(perm)-half)
			for i, j := range perm {
				if i < half {
					sup[i] = tasks[t].pairs[j]
				} else {
					qry[i-half] = tasks[t].pairs[j]
				}
			}
			s, err := batchOf(sup)
			if err != nil {
				return nil, err
			}
			q, err := batchOf(qry)
			if err != nil {
				return nil, err
			}
			cur[t] = sq{s, q}
		}
		theta := make([]*tensor.Tensor, len(params))
		for i, p := range params {
			theta[i] = p.V.Value
		}
		next, ql, err := metaOuterStep(theta, chosen, grad, secondOrder, c)
		if err != nil {
			return nil, err
		}
		for i, p := range params {
			p.V.Value = next[i]
		}
		curve = append(curve, ql)
	}
	return curve, nil
}

// lossFunc is nn.Seq2Seq.Loss's shape: the loss of a batch at weights w.
type lossFunc func(w []*autodiff.Var, src, tgt nn.Tokens, smoothing float64) (*autodiff.Var, int)

// mamlTaskGrad is one task's second-order MAML meta-gradient (Finn et al.
// 2017, eq. 1-2): phi = theta - alpha * grad L_support(theta), repeated
// k times with the graph of every inner gradient kept, then the gradient
// of L_query(phi) with respect to theta through the inner steps.
func mamlTaskGrad(loss lossFunc, theta []*autodiff.Var, sup, qry data.SeqBatch, k int, alpha float64) (float64, []*tensor.Tensor, error) {
	phi := slices.Clone(theta)
	for range k {
		l, _ := loss(phi, sup.Src, sup.Tgt, 0)
		gs := autodiff.Grad([]*autodiff.Var{l}, phi, true)
		next := make([]*autodiff.Var, len(phi))
		for i, g := range gs {
			if g == nil {
				next[i] = phi[i]
				continue
			}
			next[i] = autodiff.Sub(phi[i], autodiff.Scale(g, alpha))
		}
		phi = next
	}
	lq, _ := loss(phi, qry.Src, qry.Tgt, 0)
	if v := lq.Item(); math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, nil, fmt.Errorf("mt meta: non-finite query loss %v", v)
	}
	gs := autodiff.Grad([]*autodiff.Var{lq}, theta, false)
	out := make([]*tensor.Tensor, len(gs))
	for i, g := range gs {
		if g != nil {
			out[i] = g.Value
		}
	}
	return lq.Item(), out, nil
}

// Adaptation methods (NewLangConfig.Method).
const (
	MethodScratch  = "scratch"  // same architecture and vocabulary, random weights
	MethodFinetune = "finetune" // continue the multilingual model (Zoph et al. 2016)
	MethodMeta     = "meta"     // MetaTrain over the source languages, then fine-tune (Gu et al. 2018)
	MethodMix      = "mix"      // fine-tune on the new language mixed with a related one (Neubig & Hu 2018)
)

// NewLangConfig configures AdaptNewLanguage: a multilingual model adapted
// to a new target language from a few pairs (English -> Lang).
type NewLangConfig struct {
	// Model is the multilingual model file.
	Model string `json:"model"`
	// Lang is the new target language; Pairs are its English -> Lang
	// training pairs (e.g. SampleK of the lo-mt train split, or a
	// project's translated .po entries).
	Lang  string         `json:"lang"`
	Pairs []data.Segment `json:"-"`
	// Method is MethodScratch, MethodFinetune, MethodMeta or MethodMix.
	Method string `json:"method"`
	// TagFrom are the languages whose tag embeddings' mean initialises
	// the new tag (empty: random).
	TagFrom []string `json:"tag_from"`
	// Related is the related language of MethodMix, and RelatedPairs its
	// English -> Related pairs, mixed in by the training sampler
	// (direction temperature Train.Temperature). With Train.ValEvery > 0
	// the kept weights are those with the best mean dev chrF over both
	// directions (Train's metric), not the new language's alone.
	Related      string         `json:"related,omitempty"`
	RelatedPairs []data.Segment `json:"-"`
	// MetaTasks are the source-language tasks of MethodMeta (pair ->
	// pairs) and Meta its settings.
	MetaTasks map[string][]data.Segment `json:"-"`
	Meta      MetaConfig                `json:"meta"`
	// Train is the adaptation run (Steps, LR, MaxTokens, ...; Data,
	// Pairs, Init and the architecture are set by AdaptNewLanguage). Every method
	// gets the same Train.Steps updates on the new language's run.
	Train TrainConfig `json:"train"`
	// Out is the output folder (model.safetensors is the adapted model).
	Out string `json:"-"`
}

// AdaptNewLanguage adapts c.Model to c.Lang and returns the adaptation
// run's result (its Model is the adapted model file).
func AdaptNewLanguage(c NewLangConfig) (*TrainResult, error) {
	if len(c.Pairs) == 0 {
		return nil, fmt.Errorf("mt adapt: no training pairs for %s", c.Lang)
	}
	if c.Out == "" {
		return nil, errors.New("mt adapt: no output folder")
	}
	base, _, err := LoadModel(c.Model)
	if err != nil {
		return nil, fmt.Errorf("mt adapt: %w", err)
	}
	switch c.Method {
	case MethodScratch, MethodFinetune, MethodMix:
	case MethodMeta:
		if len(c.MetaTasks) == 0 {
			return nil, errors.New("mt adapt: method meta needs source-language tasks (MetaTasks)")
		}
	default:
		return nil, fmt.Errorf("mt adapt: method %q, want scratch, finetune, meta or mix", c.Method)
	}
	if c.Method == MethodMix && (c.Related == "" || len(c.RelatedPairs) == 0) {
		return nil, errors.New("mt adapt: method mix needs a related language and its pairs")
	}
	m := base
	if _, ok := base.Vocab.LanguageID(c.Lang); !ok {
		if m, err = AddLanguage(base, c.Lang, c.TagFrom, c.Train.Seed); err != nil {
			return nil, fmt.Errorf("mt adapt: %w", err)
		}
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return nil, err
	}
	if c.Method == MethodScratch {
		spec := m.Spec
		spec.Seed = c.Train.Seed
		if m, err = NewModel(spec, m.Vocab); err != nil {
			return nil, err
		}
	}
	if c.Method == MethodMeta {
		if _, err := MetaTrain(m, c.MetaTasks, c.Meta, max(c.Train.MaxLen, 4)); err != nil {
			return nil, err
		}
	}
	init := filepath.Join(c.Out, "init.safetensors")
	if err := m.Save(init, map[string]string{"adapt_method": c.Method}); err != nil {
		return nil, err
	}
	tc := c.Train
	tc.Init, tc.Out = init, c.Out
	pair := "en-" + c.Lang
	tc.Pairs = []string{pair}
	tc.TrainData = map[string][]data.Segment{pair: c.Pairs}
	if c.Method == MethodMix {
		rp := "en-" + c.Related
		tc.Pairs = append(tc.Pairs, rp)
		tc.TrainData[rp] = c.RelatedPairs
	}
	return Train(tc)
}
