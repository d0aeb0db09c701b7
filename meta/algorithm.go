package meta

import (
	"metalearn/autodiff"
	"metalearn/data"
	"metalearn/tensor"
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
