package meta

import (
	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/tensor"
)

// TaskResult is what one task reports.
type TaskResult struct {
	// Loss is the query loss after adaptation (the meta-objective).
	Loss float64
	// Metric is the query accuracy (classification) or MSE (regression)
	// after adaptation.
	Metric float64
}

// Algorithm is a meta-learning method.
type Algorithm interface {
	Name() string
	// MetaParams are the parameters the outer loop updates.
	MetaParams() []*autodiff.Var
	// TaskGradient returns, for one task, the gradient of the meta-objective
	// with respect to MetaParams (a pseudo-gradient for Reptile), one tensor
	// per meta-parameter. iter is the outer iteration (for annealed options).
	// It must be safe to call concurrently for different tasks.
	TaskGradient(t data.Task, iter int) ([]*tensor.Tensor, TaskResult)
	// Evaluate adapts to the task's support set with the given number of
	// steps (negative: the algorithm's evaluation default; ignored by
	// metric-based methods) and reports on its query set.
	Evaluate(t data.Task, steps int) TaskResult
}

func values(vs []*autodiff.Var) []*tensor.Tensor {
	ts := make([]*tensor.Tensor, len(vs))
	for i, v := range vs {
		ts[i] = v.Value
	}
	return ts
}

// Carrier is implemented by algorithms that may carry state from one task
// to the next besides their meta-parameters (Reptile with CarryAdam: the
// inner Adam's statistics). When CarriedState is not nil, Train runs the
// tasks of a meta-batch one after another in order (so results stay
// deterministic), keeps the state with the best validated meta-parameters
// and restores both at the end; checkpoints hold it next to the weights.
type Carrier interface {
	// CarriedState returns copies of the state (nil: nothing carried).
	CarriedState() []*tensor.Tensor
	// SetCarriedState replaces the state with ts (as CarriedState returned).
	SetCarriedState(ts []*tensor.Tensor) error
}

// carrier returns alg as a Carrier when it carries state, else nil.
func carrier(alg Algorithm) Carrier {
	if c, ok := alg.(Carrier); ok && c.CarriedState() != nil {
		return c
	}
	return nil
}
