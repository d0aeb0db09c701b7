package meta_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// learn2learn-style adaptation: clone the learner, take differentiable
// gradient steps on a task's support set, evaluate on its query set. The
// query loss stays a function of the original weights, so its gradient is
// the second-order MAML meta-gradient.
func ExampleLearner() {
	rng := rand.New(rand.NewPCG(1, 2))
	model := nn.MLP(rng, nn.ReLU, 1, 40, 40, 1)
	task := data.Sinusoid{Support: 10, Query: 10}.Sample(rng)
	xs, xq := task.SupportX, task.QueryX

	learner := meta.NewLearner(model).Clone()
	lrs := make([]*autodiff.Var, len(learner.Weights))
	for i := range lrs {
		lrs[i] = autodiff.Scalar(tensor.Float32, 0.01)
	}
	constant := autodiff.Const
	before := meta.TaskLoss(learner.Forward(constant(xs)), task, false).Item()
	for step := 0; step < 5; step++ {
		loss := meta.TaskLoss(learner.Forward(constant(xs)), task, false)
		learner.Adapt(loss, lrs, nil, true)
	}
	after := meta.TaskLoss(learner.Forward(constant(xs)), task, false).Item()
	query := meta.TaskLoss(learner.Forward(constant(xq)), task, true)
	grads := autodiff.Grad([]*autodiff.Var{query}, nn.Vars(model), false)
	fmt.Println("support loss fell:", after < before)
	fmt.Println("meta-gradient for every weight:", len(grads) == len(nn.Vars(model)))
	// Output:
	// support loss fell: true
	// meta-gradient for every weight: true
}

// Meta-train MAML on sinusoid regression and evaluate on fixed test tasks.
func ExampleTrain() {
	b, err := meta.Build(meta.Spec{Algorithm: "maml", Dataset: "sinusoid", Shots: 10, Seed: 1})
	if err != nil {
		panic(err)
	}
	tasks := data.Sinusoid{Support: 10, Query: 10}
	test := data.EvalSet(tasks, 100, 7)
	untrained := meta.Evaluate(b.Algorithm, test, 10, 0)
	if _, err := meta.Train(b.Algorithm, tasks, meta.TrainConfig{Iterations: 200, MetaBatch: 10, OuterLR: 1e-3, Seed: 1}); err != nil {
		panic(err)
	}
	trained := meta.Evaluate(b.Algorithm, test, 10, 0)
	fmt.Println("post-adaptation MSE improved:", trained.Mean < untrained.Mean)
	// Output: post-adaptation MSE improved: true
}
