package meta

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/tensor"
)

// ReptileConfig configures Reptile.
type ReptileConfig struct {
	InnerLR    float64
	InnerSteps int // k, steps of the inner optimizer per task at training
	EvalSteps  int // steps at evaluation (default InnerSteps)
	// InnerAdam uses Adam with beta1 = 0 (as in the Reptile paper's
	// experiments) instead of plain SGD for the inner loop.
	InnerAdam bool
	// InnerBatch is the number of support examples per inner step at
	// training (0: the whole support set). The Reptile paper trains on
	// 10-shot 5-way tasks in minibatches of 10 (5 steps = one pass). The
	// batches take the classes in turn, so each holds every class equally
	// often. Evaluation always uses the whole support set, as in the paper.
	InnerBatch int
	// CarryAdam (with InnerAdam) keeps the inner Adam's second-moment
	// estimates and step count from one task to the next instead of
	// starting every task with a fresh Adam: the Reptile authors' code
	// resets only the model's variables between tasks, so its Adam
	// statistics accumulate over all of training, and every evaluation
	// task starts from them (and leaves them unchanged). Tasks then run one
	// after another in meta-batch order (see Carrier).
	CarryAdam bool
}

// Reptile (Nichol, Achiam & Schulman 2018, Algorithm 2, batched version):
// for each task in the meta-batch, W_i = the weights after k steps of SGD
// (or Adam) on the task from theta; then theta <- theta + eps * mean_i
// (W_i - theta). TaskGradient returns theta - W_i, so an outer SGD step with
// learning rate eps is exactly that update (eps annealed linearly to 0 in
// the paper: use optim.Linear as the outer schedule).
//
// The inner loop trains on the support set and, as in the paper's
// transductive setting, BatchNorm uses batch statistics.
type Reptile struct {
	Model nn.Module
	Cfg   ReptileConfig

	// With CarryAdam: the inner Adam's v per meta-parameter and its step
	// count. Training tasks update them (one at a time); evaluation reads
	// them.
	adamV    []*tensor.Tensor
	adamStep int
}

// NewReptile validates cfg and returns a Reptile learner.
func NewReptile(model nn.Module, cfg ReptileConfig) (*Reptile, error) {
	if !(cfg.InnerLR > 0) || math.IsInf(cfg.InnerLR, 0) {
		return nil, fmt.Errorf("meta: Reptile inner learning rate = %v, want > 0", cfg.InnerLR)
	}
	if cfg.InnerSteps < 1 {
		return nil, fmt.Errorf("meta: Reptile inner steps = %d, want >= 1", cfg.InnerSteps)
	}
	if cfg.InnerBatch < 0 {
		return nil, fmt.Errorf("meta: Reptile inner batch = %d, want >= 0 (0: the whole support set)", cfg.InnerBatch)
	}
	if cfg.CarryAdam && !cfg.InnerAdam {
		return nil, fmt.Errorf("meta: Reptile CarryAdam needs InnerAdam (there is no Adam state to carry with SGD)")
	}
	if cfg.EvalSteps == 0 {
		cfg.EvalSteps = cfg.InnerSteps
	}
	r := &Reptile{Model: model, Cfg: cfg}
	if cfg.CarryAdam {
		for _, p := range nn.Vars(model) {
			r.adamV = append(r.adamV, tensor.ZerosLike(p.Value))
		}
	}
	return r, nil
}

// CarriedState returns copies of the carried inner Adam state (v for every
// meta-parameter, then the step count as a one-element float64 tensor),
// or nil without CarryAdam.
func (r *Reptile) CarriedState() []*tensor.Tensor {
	if !r.Cfg.CarryAdam {
		return nil
	}
	out := make([]*tensor.Tensor, 0, len(r.adamV)+1)
	for _, v := range r.adamV {
		out = append(out, v.Clone())
	}
	return append(out, tensor.FromValues(tensor.Float64, []float64{float64(r.adamStep)}, 1))
}

// SetCarriedState restores a state CarriedState returned (shapes, signs
// and the step count are checked).
func (r *Reptile) SetCarriedState(ts []*tensor.Tensor) error {
	if !r.Cfg.CarryAdam {
		return errors.New("meta: Reptile: no carried state without CarryAdam")
	}
	if len(ts) != len(r.adamV)+1 {
		return fmt.Errorf("meta: Reptile carried state has %d tensors, want %d (v per meta-parameter + step)", len(ts), len(r.adamV)+1)
	}
	vs := make([]*tensor.Tensor, len(r.adamV))
	for i, t := range ts[:len(r.adamV)] {
		if !tensor.SameShape(t.Shape(), r.adamV[i].Shape()) {
			return fmt.Errorf("meta: Reptile carried Adam v %d has shape %v, parameter has %v", i, t.Shape(), r.adamV[i].Shape())
		}
		if t.HasNaNOrInf() || slices.Min(t.Values()) < 0 {
			return fmt.Errorf("meta: Reptile carried Adam v %d holds negative or non-finite values", i)
		}
		vs[i] = t.AsType(r.adamV[i].DType()).Clone()
	}
	st := ts[len(r.adamV)]
	if st.Len() != 1 {
		return fmt.Errorf("meta: Reptile carried Adam step has %d values, want 1", st.Len())
	}
	step := st.Values()[0]
	if !(step >= 0) || step > 1<<50 || step != math.Trunc(step) {
		return fmt.Errorf("meta: Reptile carried Adam step = %v, want a whole number >= 0", step)
	}
	r.adamV, r.adamStep = vs, int(step)
	return nil
}

// adamState is the carried state as the inner optimizer's State, with
// learning rate lr.
func (r *Reptile) adamState(lr float64) *optim.State {
	vs := make([]*optim.SlotValue, len(r.adamV))
	for i, v := range r.adamV {
		vs[i] = &optim.SlotValue{Shape: v.Shape(), DType: v.DType(), Values: v.Values()}
	}
	return &optim.State{Algorithm: "adam", Step: r.adamStep, LR: lr,
		Slots: map[string][]*optim.SlotValue{"m": make([]*optim.SlotValue, len(vs)), "v": vs}}
}

func (r *Reptile) Name() string { return "reptile" }

func (r *Reptile) MetaParams() []*autodiff.Var { return nn.Vars(r.Model) }

// train runs steps of the inner optimizer on a private copy of the weights
// and returns the copy and the query predictions with it.
func (r *Reptile) train(t data.Task, steps, batch int, keep bool) ([]*autodiff.Var, *autodiff.Var) {
	w := r.adaptWeights(t, steps, batch, keep, 0)
	_, xq := inputs(t, w[0].DType())
	return w, r.Model.Apply(w, xq)
}

// adaptWeights runs steps of the inner optimizer (learning rate lr, or the
// configured one for 0) on a private copy of the weights and returns it.
// With CarryAdam the inner Adam starts from the carried state, and a
// training call (keep) stores its final state back.
func (r *Reptile) adaptWeights(t data.Task, steps, batch int, keep bool, lr float64) []*autodiff.Var {
	w, _ := r.adaptWeightsContext(context.Background(), t, steps, batch, keep, lr)
	return w
}

// adaptWeightsContext is adaptWeights stopping with ctx's error, before
// any step, once ctx is done.
func (r *Reptile) adaptWeightsContext(ctx context.Context, t data.Task, steps, batch int, keep bool, lr float64) ([]*autodiff.Var, error) {
	if lr <= 0 {
		lr = r.Cfg.InnerLR
	}
	theta := nn.Vars(r.Model)
	w := make([]*autodiff.Var, len(theta))
	for i, p := range theta {
		w[i] = autodiff.Param(p.Value.Clone())
	}
	dt := theta[0].DType()
	xs := autodiff.Const(t.SupportX.AsType(dt))
	var opt optim.Optimizer
	if r.Cfg.InnerAdam {
		opt = optim.NewAdam(w, optim.AdamConfig{LR: lr, Beta1: 0, Beta2: 0.999, ExplicitBetas: true})
		if r.Cfg.CarryAdam {
			if err := opt.LoadState(r.adamState(lr)); err != nil {
				panic(err) // shapes are checked by SetCarriedState and NewReptile
			}
		}
	} else {
		opt = optim.NewSGD(w, optim.SGDConfig{LR: lr})
	}
	var order []int // minibatches: the support examples with classes in turn
	if n := t.SupportX.Shape()[0]; batch > 0 && batch < n {
		order = classTurns(t)
	}
	for s := 0; s < steps; s++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var loss *autodiff.Var
		if order != nil {
			mb := minibatch(t, order, s*batch, batch)
			loss = TaskLoss(r.Model.Apply(w, autodiff.Const(mb.SupportX.AsType(dt))), mb, false)
		} else {
			loss = TaskLoss(r.Model.Apply(w, xs), t, false)
		}
		g := autodiff.Grad([]*autodiff.Var{loss}, w, false)
		opt.StepWith(values(g))
		autodiff.Free(loss)
	}
	if keep && r.Cfg.CarryAdam {
		st := opt.State()
		for i, v := range st.Slots["v"] {
			if v != nil {
				r.adamV[i] = tensor.FromValues(r.adamV[i].DType(), v.Values, v.Shape...)
			}
		}
		r.adamStep = st.Step
	}
	return w, nil
}

// TaskGradient returns theta - W for the task.
func (r *Reptile) TaskGradient(t data.Task, iter int) ([]*tensor.Tensor, TaskResult) {
	w, pred := r.train(t, r.Cfg.InnerSteps, r.Cfg.InnerBatch, true)
	theta := nn.Vars(r.Model)
	g := make([]*tensor.Tensor, len(w))
	for i := range w {
		g[i] = tensor.Sub(theta[i].Value, w[i].Value)
	}
	loss := TaskLoss(pred, t, true)
	res := TaskResult{Loss: loss.Item(), Metric: TaskMetric(pred.Value, t, true)}
	autodiff.Free(loss)
	return g, res
}

// Evaluate fine-tunes a copy on the support set and reports on the query set.
func (r *Reptile) Evaluate(t data.Task, steps int) TaskResult {
	if steps < 0 {
		steps = r.Cfg.EvalSteps
	}
	_, pred := r.train(t, steps, 0, false)
	loss := TaskLoss(pred, t, true)
	res := TaskResult{Loss: loss.Item(), Metric: TaskMetric(pred.Value, t, true)}
	autodiff.Free(loss)
	return res
}

// SetTraining switches the model between training and evaluation mode
// (BatchNorm with running statistics uses them at evaluation).
func (r *Reptile) SetTraining(training bool) { nn.SetTraining(r.Model, training) }

// classTurns orders the support examples so that classes take turns
// (first example of every class, then the second, ...); regression tasks
// keep their order.
func classTurns(t data.Task) []int {
	n := t.SupportX.Shape()[0]
	if t.Ways == 0 || len(t.SupportLabels) != n {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		return order
	}
	byClass := make([][]int, t.Ways)
	for i, l := range t.SupportLabels {
		byClass[l] = append(byClass[l], i)
	}
	order := make([]int, 0, n)
	for k := 0; len(order) < n; k++ {
		for _, c := range byClass {
			if k < len(c) {
				order = append(order, c[k])
			}
		}
	}
	return order
}

// minibatch returns the task whose support set is the size examples of
// order starting at from (wrapping around).
func minibatch(t data.Task, order []int, from, size int) data.Task {
	idx := make([]int, size)
	labels := make([]int, 0, size)
	for i := range idx {
		idx[i] = order[(from+i)%len(order)]
		if len(t.SupportLabels) > 0 {
			labels = append(labels, t.SupportLabels[idx[i]])
		}
	}
	mb := t
	mb.SupportX = tensor.IndexSelect(t.SupportX, 0, idx)
	if t.SupportY != nil {
		mb.SupportY = tensor.IndexSelect(t.SupportY, 0, idx)
	}
	mb.SupportLabels = labels
	return mb
}
