package meta

import (
	"fmt"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// Learner is a model together with the weights its forward pass uses.
// Adapt replaces the weights by gradient steps; with createGraph the new
// weights stay differentiable functions of the old ones, so a loss computed
// after adaptation can be differentiated back to the meta-parameters.
type Learner struct {
	Module  nn.Module
	Weights []*autodiff.Var
}

// NewLearner returns a Learner using m's own parameters.
func NewLearner(m nn.Module) *Learner { return &Learner{Module: m, Weights: nn.Vars(m)} }

// Clone returns a Learner sharing the module and the current weight Vars
// (so gradients flow back through the clone to the original weights).
func (l *Learner) Clone() *Learner {
	return &Learner{Module: l.Module, Weights: append([]*autodiff.Var(nil), l.Weights...)}
}

// Forward runs the module with the learner's weights.
func (l *Learner) Forward(x *autodiff.Var) *autodiff.Var { return l.Module.Apply(l.Weights, x) }

// Adapt takes one gradient step on loss: w_i <- w_i - lr_i * dloss/dw_i for
// every i with adapt[i] (all when adapt is nil). lrs[i] is a scalar or a
// tensor of w_i's shape (Meta-SGD); it may itself require gradients (learned
// learning rates). With createGraph the step is differentiable
// (second-order MAML); otherwise the gradient is a constant (first order).
func (l *Learner) Adapt(loss *autodiff.Var, lrs []*autodiff.Var, adapt []bool, createGraph bool) {
	if len(lrs) != len(l.Weights) {
		panic(fmt.Sprintf("meta: Adapt: %d learning rates for %d weights", len(lrs), len(l.Weights)))
	}
	var wrt []*autodiff.Var
	var idx []int
	for i, w := range l.Weights {
		if adapt == nil || adapt[i] {
			wrt = append(wrt, w)
			idx = append(idx, i)
		}
	}
	grads := autodiff.Grad([]*autodiff.Var{loss}, wrt, createGraph)
	for j, i := range idx {
		l.Weights[i] = autodiff.Sub(l.Weights[i], autodiff.Mul(lrs[i], grads[j]))
	}
}

// TaskLoss is the loss of predictions on one side of a task: cross-entropy
// for classification tasks (Ways > 0), mean squared error otherwise.
func TaskLoss(pred *autodiff.Var, t data.Task, query bool) *autodiff.Var {
	if t.Ways > 0 {
		labels := t.SupportLabels
		if query {
			labels = t.QueryLabels
		}
		return nn.CrossEntropyLoss(pred, labels, 0)
	}
	y := t.SupportY
	if query {
		y = t.QueryY
	}
	return nn.MSELoss(pred, autodiff.Const(y.AsType(pred.DType())))
}

// TaskMetric is accuracy for classification tasks and mean squared error
// for regression tasks, on the query (or support) side.
func TaskMetric(pred *tensor.Tensor, t data.Task, query bool) float64 {
	if t.Ways > 0 {
		labels := t.SupportLabels
		if query {
			labels = t.QueryLabels
		}
		return nn.Accuracy(pred, labels)
	}
	y := t.SupportY
	if query {
		y = t.QueryY
	}
	d := tensor.Sub(pred, y.AsType(pred.DType()))
	return tensor.Mean(tensor.Square(d), false).Item()
}

func inputs(t data.Task, dt tensor.DType) (xs, xq *autodiff.Var) {
	return autodiff.Const(t.SupportX.AsType(dt)), autodiff.Const(t.QueryX.AsType(dt))
}
