package data

import (
	"math/rand/v2"

	"github.com/metalearn/metalearn/tensor"
)

// Task is one few-shot learning problem: a support set to adapt on and a
// query set to evaluate the adapted model.
//
// For regression, SupportY/QueryY hold targets [n, d] and the label slices
// are nil. For N-way classification, SupportLabels/QueryLabels hold class
// ids remapped to 0..N-1 for this task, and SupportY/QueryY are nil.
type Task struct {
	SupportX, SupportY *tensor.Tensor
	QueryX, QueryY     *tensor.Tensor
	SupportLabels      []int
	QueryLabels        []int
	// Ways is N for classification tasks, 0 for regression.
	Ways int
}

// TaskDistribution draws tasks; the same rng state gives the same task.
type TaskDistribution interface {
	Sample(rng *rand.Rand) Task
}
