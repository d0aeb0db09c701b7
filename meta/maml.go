package meta

import (
	"fmt"
	"math"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// LRMode selects how the inner-loop learning rate is parameterised.
type LRMode int

const (
	// FixedLR uses the constant InnerLR for every parameter and step (MAML).
	FixedLR LRMode = iota
	// MetaSGD learns one learning rate per parameter element, initialised
	// to InnerLR (Li et al. 2017, eq. 2: theta' = theta - alpha o grad).
	MetaSGD
	// PerLayerPerStep learns one scalar learning rate per parameter tensor
	// and inner step, initialised to InnerLR (MAML++ "LSLR", Antoniou et
	// al. 2019, section 4).
	PerLayerPerStep
)

// MAMLConfig configures the MAML family.
type MAMLConfig struct {
	InnerLR    float64
	InnerSteps int // inner steps during meta-training
	EvalSteps  int // inner steps at evaluation (default InnerSteps)
	FirstOrder bool
	LRMode     LRMode
	// MultiStepLoss optimises a weighted sum of the query losses after every
	// inner step (MAML++ "MSL"); the weights move linearly from uniform to
	// all-on-the-last-step over MSLIterations outer iterations.
	MultiStepLoss bool
	MSLIterations int
	// Recompute trades compute for memory in second-order MAML: the inner
	// loop's graph is rebuilt step by step during the backward pass instead
	// of being kept (see recomputeGradient). Whole-model adaptation only.
	Recompute bool
}

// MAML is model-agnostic meta-learning (Finn, Abbeel & Levine 2017,
// Algorithm 2). For each task, the inner loop adapts the weights by
//
//	theta'_i = theta - alpha * grad_theta L_support(f_theta)          (eq. 1)
//
// (repeated InnerSteps times) and the meta-objective is the query loss
// L_query(f_theta'_i), differentiated through the inner loop back to theta
// (eq. 2 and Algorithm 2, line 10). With FirstOrder the inner gradients are
// treated as constants (the first-order approximation of section 5.2).
//
// With a non-nil Body the method is ANIL (Raghu et al. 2020): the body's
// features are computed once per task with the meta-parameters and only the
// Head is adapted in the inner loop; both are meta-learned.
type MAML struct {
	Body nn.Module // nil for MAML; the feature extractor for ANIL
	Head nn.Module // the adapted network (the whole model for MAML)
	Cfg  MAMLConfig
	// StepModules, when set, holds one structural copy of Head per inner
	// step plus one for the final query pass (InnerSteps+1, or more for
	// longer evaluation); the forward pass at step s runs StepModules[s]
	// with the current fast weights, so each step keeps its own BatchNorm
	// running statistics (MAML++ "BNRS", Antoniou et al. 2019, section
	// 4). Only their buffers are used, never their parameters.
	StepModules []nn.Module
	// lrs[s][i] is the learning rate of head parameter i at step s (all
	// steps share lrs[0] unless LRMode is PerLayerPerStep).
	lrs [][]*autodiff.Var
}

// NewMAML returns a MAML learner over model (Body nil) or, for ANIL, over
// body and head.
func NewMAML(body, head nn.Module, cfg MAMLConfig) (*MAML, error) {
	if head == nil {
		return nil, fmt.Errorf("meta: MAML needs a model (head)")
	}
	if !(cfg.InnerLR > 0) || math.IsInf(cfg.InnerLR, 0) {
		return nil, fmt.Errorf("meta: inner learning rate = %v, want > 0", cfg.InnerLR)
	}
	if cfg.InnerSteps < 1 {
		return nil, fmt.Errorf("meta: inner steps = %d, want >= 1", cfg.InnerSteps)
	}
	if cfg.EvalSteps == 0 {
		cfg.EvalSteps = cfg.InnerSteps
	}
	if cfg.EvalSteps < 0 {
		return nil, fmt.Errorf("meta: evaluation steps = %d, want >= 0", cfg.EvalSteps)
	}
	if cfg.Recompute && (body != nil || cfg.MultiStepLoss || cfg.FirstOrder) {
		return nil, fmt.Errorf("meta: Recompute supports second-order whole-model MAML without the multi-step loss")
	}
	m := &MAML{Body: body, Head: head, Cfg: cfg}
	ps := head.Params()
	dt := tensor.Float32
	if len(ps) > 0 {
		dt = ps[0].V.DType()
	}
	nsets := 1
	if cfg.LRMode == PerLayerPerStep {
		nsets = max(cfg.InnerSteps, cfg.EvalSteps)
	}
	for s := 0; s < nsets; s++ {
		row := make([]*autodiff.Var, len(ps))
		for i, p := range ps {
			switch cfg.LRMode {
			case FixedLR:
				row[i] = autodiff.Scalar(dt, cfg.InnerLR)
			case MetaSGD:
				row[i] = autodiff.Param(tensor.Full(dt, cfg.InnerLR, p.V.Shape()...))
			case PerLayerPerStep:
				row[i] = autodiff.Param(tensor.Scalar(dt, cfg.InnerLR))
			default:
				return nil, fmt.Errorf("meta: unknown learning-rate mode %d", cfg.LRMode)
			}
		}
		m.lrs = append(m.lrs, row)
	}
	return m, nil
}

// Name identifies the variant.
func (m *MAML) Name() string {
	name := "maml"
	switch {
	case m.Body != nil:
		name = "anil"
	case m.Cfg.LRMode == MetaSGD:
		name = "metasgd"
	case m.Cfg.LRMode == PerLayerPerStep || m.Cfg.MultiStepLoss:
		name = "maml++"
	}
	if m.Cfg.FirstOrder {
		name = "fo-" + name
	}
	return name
}

// LearnedLRs returns the learnable inner learning rates (nil for FixedLR).
func (m *MAML) LearnedLRs() []*autodiff.Var {
	if m.Cfg.LRMode == FixedLR {
		return nil
	}
	var out []*autodiff.Var
	for _, row := range m.lrs {
		out = append(out, row...)
	}
	return out
}

// MetaParams lists body, head and learned learning rates.
func (m *MAML) MetaParams() []*autodiff.Var {
	var ps []*autodiff.Var
	if m.Body != nil {
		ps = append(ps, nn.Vars(m.Body)...)
	}
	ps = append(ps, nn.Vars(m.Head)...)
	return append(ps, m.LearnedLRs()...)
}

// StepLRs returns the inner learning rates of adaptation step s, one per
// head parameter (scalars, or tensors of the parameter's shape for
// Meta-SGD), as adaptation uses them.
func (m *MAML) StepLRs(s int) []*autodiff.Var {
	if m.Cfg.LRMode == PerLayerPerStep {
		return m.lrs[min(s, len(m.lrs)-1)]
	}
	return m.lrs[0]
}

// mslWeights returns the multi-step loss weights at outer iteration iter.
func (m *MAML) mslWeights(iter int) []float64 {
	n := m.Cfg.InnerSteps
	w := make([]float64, n)
	frac := 1.0
	if m.Cfg.MSLIterations > 0 {
		frac = math.Min(1, float64(iter)/float64(m.Cfg.MSLIterations))
	}
	for s := range w {
		w[s] = (1 - frac) / float64(n)
	}
	w[n-1] += frac
	return w
}

// adapt runs the inner loop and returns the query losses after each step
// (only the last when all is false) and the final query predictions.
func (m *MAML) adapt(t data.Task, steps int, createGraph, all bool) ([]*autodiff.Var, *autodiff.Var) {
	dt := nn.Vars(m.Head)[0].DType()
	xs, xq := inputs(t, dt)
	if m.Body != nil {
		xs, xq = nn.Forward(m.Body, xs), nn.Forward(m.Body, xq)
	}
	l := NewLearner(m.Head)
	var losses []*autodiff.Var
	for s := 0; s < steps; s++ {
		sl := TaskLoss(m.ModuleAt(s).Apply(l.Weights, xs), t, false)
		l.Adapt(sl, m.StepLRs(s), nil, createGraph)
		if all && s < steps-1 {
			losses = append(losses, TaskLoss(m.ModuleAt(s+1).Apply(l.Weights, xq), t, true))
		}
	}
	pred := m.ModuleAt(steps).Apply(l.Weights, xq)
	losses = append(losses, TaskLoss(pred, t, true))
	return losses, pred
}

// ModuleAt returns the module whose BatchNorm buffers serve inner step s
// (the head itself unless per-step BatchNorm is on); s = the number of
// steps taken is the module of the final (query) pass.
func (m *MAML) ModuleAt(s int) nn.Module {
	if len(m.StepModules) == 0 {
		return m.Head
	}
	return m.StepModules[min(s, len(m.StepModules)-1)]
}

// SetTraining switches every module (body, head, per-step copies) between
// training and evaluation mode; Evaluate uses it when BatchNorm keeps
// running statistics.
func (m *MAML) SetTraining(training bool) {
	if m.Body != nil {
		nn.SetTraining(m.Body, training)
	}
	nn.SetTraining(m.Head, training)
	for _, sm := range m.StepModules {
		nn.SetTraining(sm, training)
	}
}

// TaskGradient implements Algorithm.
func (m *MAML) TaskGradient(t data.Task, iter int) ([]*tensor.Tensor, TaskResult) {
	if m.Cfg.Recompute {
		return m.recomputeGradient(t)
	}
	msl := m.Cfg.MultiStepLoss && m.Cfg.InnerSteps > 1
	losses, pred := m.adapt(t, m.Cfg.InnerSteps, !m.Cfg.FirstOrder, msl)
	obj := losses[len(losses)-1]
	if msl {
		w := m.mslWeights(iter)
		obj = autodiff.Scale(losses[0], w[0])
		for s := 1; s < len(losses); s++ {
			obj = autodiff.Add(obj, autodiff.Scale(losses[s], w[s]))
		}
	}
	grads := autodiff.Grad([]*autodiff.Var{obj}, m.MetaParams(), false)
	res := TaskResult{Loss: losses[len(losses)-1].Item(), Metric: TaskMetric(pred.Value, t, true)}
	autodiff.Free(append(losses, obj, pred)...) // the next task reuses the activations' storage
	return values(grads), res
}

// Evaluate implements Algorithm.
func (m *MAML) Evaluate(t data.Task, steps int) TaskResult {
	if steps < 0 {
		steps = m.Cfg.EvalSteps
	}
	losses, pred := m.adapt(t, steps, false, false)
	res := TaskResult{Loss: losses[len(losses)-1].Item(), Metric: TaskMetric(pred.Value, t, true)}
	autodiff.Free(append(losses, pred)...)
	return res
}
