package mtl

import (
	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/tensor"
)

// paramAdam applies optim.Adam (Kingma & Ba 2015; weight decay added to
// the gradient as an L2 term, as torch.optim.Adam's weight_decay does) to
// a strategy's own parameters (UW's log-variances, GradNorm's weights,
// FAMO's logits; the toy problem's point), which the strategies keep as a
// []float64 that may be re-made when the number of tasks changes: the
// moments restart then, as they would for a new parameter.
type paramAdam struct {
	lr, weightDecay float64
	x               *autodiff.Var // the parameters, float64 [n]
	opt             *optim.Adam
	optDecay        float64    // the weight decay opt was made with
	pending         *adamState // loaded before the first step
}

func newParamAdam(lr, weightDecay float64) *paramAdam {
	return &paramAdam{lr: lr, weightDecay: weightDecay}
}

// step updates params in place with gradient grad.
func (a *paramAdam) step(params, grad []float64) {
	n := len(params)
	if a.x == nil || a.x.Value.Len() != n {
		a.x = autodiff.Param(tensor.New(tensor.Float64, n))
		a.opt, a.optDecay = optim.NewAdam([]*autodiff.Var{a.x}, optim.AdamConfig{LR: a.lr, WeightDecay: a.weightDecay}), a.weightDecay
		if s := a.pending; s != nil && len(s.M) == n && len(s.V) == n {
			a.opt.LoadState(s.optimState(a.lr, n))
		}
		a.pending = nil
	}
	if a.optDecay != a.weightDecay {
		// same moments, new decay
		st := a.opt.State()
		a.opt, a.optDecay = optim.NewAdam([]*autodiff.Var{a.x}, optim.AdamConfig{LR: a.lr, WeightDecay: a.weightDecay}), a.weightDecay
		a.opt.LoadState(st)
	}
	a.opt.SetLR(a.lr)
	copy(a.x.Value.F64(), params)
	a.opt.StepWith([]*tensor.Tensor{tensor.FromFloat64(grad[:n], n)})
	copy(params, a.x.Value.F64())
}

// WeightOptimizer selects the update rule a strategy applies to its own
// learnable parameters (UW's log-variances, GradNorm's weights, FAMO's
// logits).
type WeightOptimizer int

const (
	// WeightOptAdam is Adam (beta1 0.9, beta2 0.999, eps 1e-8, PyTorch
	// semantics).
	WeightOptAdam WeightOptimizer = iota
	// WeightOptSGD is plain gradient descent p -= lr * (grad + wd * p).
	WeightOptSGD
)

// paramStep applies one update of the chosen optimizer.
func paramStep(opt WeightOptimizer, adam **paramAdam, lr, wd float64, params, grad []float64) {
	if opt == WeightOptSGD {
		for i := range params {
			params[i] -= lr * (grad[i] + wd*params[i])
		}
		return
	}
	if *adam == nil {
		*adam = newParamAdam(lr, wd)
	}
	(*adam).lr, (*adam).weightDecay = lr, wd
	(*adam).step(params, grad)
}
