package meta

import (
	"fmt"
	"math"

	"metalearn/autodiff"
	"metalearn/data"
	"metalearn/nn"
	"metalearn/optim"
	"metalearn/tensor"
)

// ReptileConfig configures Reptile.
type ReptileConfig struct {
	InnerLR    float64
	InnerSteps int // k, steps of the inner optimizer per task at training
	EvalSteps  int // steps at evaluation (default InnerSteps)
	// InnerAdam uses Adam with beta1 = 0 (as in the Reptile paper's
	// experiments) instead of plain SGD for the inner loop.
	InnerAdam bool
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
}

// NewReptile validates cfg and returns a Reptile learner.
func NewReptile(model nn.Module, cfg ReptileConfig) (*Reptile, error) {
	if !(cfg.InnerLR > 0) || math.IsInf(cfg.InnerLR, 0) {
		return nil, fmt.Errorf("meta: Reptile inner learning rate = %v, want > 0", cfg.InnerLR)
	}
	if cfg.InnerSteps < 1 {
		return nil, fmt.Errorf("meta: Reptile inner steps = %d, want >= 1", cfg.InnerSteps)
	}
	if cfg.EvalSteps == 0 {
		cfg.EvalSteps = cfg.InnerSteps
	}
	return &Reptile{Model: model, Cfg: cfg}, nil
}

func (r *Reptile) Name() string { return "reptile" }

func (r *Reptile) MetaParams() []*autodiff.Var { return nn.Vars(r.Model) }

// train runs steps of the inner optimizer on a private copy of the weights
// and returns the copy and the query predictions with it.
func (r *Reptile) train(t data.Task, steps int) ([]*autodiff.Var, *autodiff.Var) {
	theta := nn.Vars(r.Model)
	w := make([]*autodiff.Var, len(theta))
	for i, p := range theta {
		w[i] = autodiff.Param(p.Value.Clone())
	}
	dt := theta[0].DType()
	xs, xq := inputs(t, dt)
	var opt optim.Optimizer
	if r.Cfg.InnerAdam {
		opt = optim.NewAdam(w, optim.AdamConfig{LR: r.Cfg.InnerLR, Beta1: 0, Beta2: 0.999, ExplicitBetas: true})
	} else {
		opt = optim.NewSGD(w, optim.SGDConfig{LR: r.Cfg.InnerLR})
	}
	for s := 0; s < steps; s++ {
		loss := TaskLoss(r.Model.Apply(w, xs), t, false)
		g := autodiff.Grad([]*autodiff.Var{loss}, w, false)
		opt.StepWith(values(g))
	}
	return w, r.Model.Apply(w, xq)
}

// TaskGradient returns theta - W for the task.
func (r *Reptile) TaskGradient(t data.Task, iter int) ([]*tensor.Tensor, TaskResult) {
	w, pred := r.train(t, r.Cfg.InnerSteps)
	theta := nn.Vars(r.Model)
	g := make([]*tensor.Tensor, len(w))
	for i := range w {
		g[i] = tensor.Sub(theta[i].Value, w[i].Value)
	}
	return g, TaskResult{Loss: TaskLoss(pred, t, true).Item(), Metric: TaskMetric(pred.Value, t, true)}
}

// Evaluate fine-tunes a copy on the support set and reports on the query set.
func (r *Reptile) Evaluate(t data.Task, steps int) TaskResult {
	if steps < 0 {
		steps = r.Cfg.EvalSteps
	}
	_, pred := r.train(t, steps)
	return TaskResult{Loss: TaskLoss(pred, t, true).Item(), Metric: TaskMetric(pred.Value, t, true)}
}

// SetTraining switches the model between training and evaluation mode
// (BatchNorm with running statistics uses them at evaluation).
func (r *Reptile) SetTraining(training bool) { nn.SetTraining(r.Model, training) }
