package meta

import (
	"math"
	"sync"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/tensor"
)

// climber is a one-parameter Algorithm for testing the training loop: its
// pseudo-gradient is -1, so an outer SGD step with learning rate 1 adds 1
// to theta, and its validation metric is peak - |theta - top|.
type climber struct {
	theta *autodiff.Var
	top   float64
	mu    sync.Mutex
	steps []int // the steps Evaluate was called with
}

func newClimber(top float64) *climber {
	return &climber{theta: autodiff.Param(tensor.Scalar(tensor.Float64, 0)), top: top}
}

func (c *climber) Name() string                { return "climber" }
func (c *climber) MetaParams() []*autodiff.Var { return []*autodiff.Var{c.theta} }
func (c *climber) TaskGradient(data.Task, int) ([]*tensor.Tensor, TaskResult) {
	return []*tensor.Tensor{tensor.Scalar(tensor.Float64, -1)}, TaskResult{Loss: 1, Metric: 0.5}
}
func (c *climber) Evaluate(_ data.Task, steps int) TaskResult {
	c.mu.Lock()
	c.steps = append(c.steps, steps)
	c.mu.Unlock()
	v := 1 - math.Abs(c.theta.Value.Item()-c.top)/10
	return TaskResult{Loss: 1 - v, Metric: v}
}

// The library traps of issue 24: an accuracy-validated run keeps the most
// accurate weights without being told the metric's direction, ValSteps 0
// means the algorithm's default, and Progress counts iterations from 1.
func TestTrainTraps(t *testing.T) {
	dist := data.Sinusoid{Support: 2, Query: 2}
	classification := []data.Task{{Ways: 2}, {Ways: 2}}
	regression := []data.Task{{}, {}}
	for _, tc := range []struct {
		name      string
		val       []data.Task
		valSteps  int
		wantTheta float64
		wantSteps int
	}{
		// accuracy peaks at theta = 4 (after iteration 4): higher is better
		{"accuracy keeps the best", classification, 0, 4, -1},
		// the same values read as an MSE: lower is better, so the worst
		// accuracy value (theta = 10, the farthest from 4) is "best"
		{"mse keeps the lowest", regression, NoSteps, 10, 0},
		{"explicit steps", classification, 5, 4, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClimber(4)
			var its []int
			res, err := Train(c, dist, TrainConfig{Iterations: 10, MetaBatch: 1, Outer: "sgd", OuterLR: 1, ValEvery: 1, Val: tc.val,
				ValSteps: tc.valSteps, Workers: 1, Log: func(p Progress) { its = append(its, p.Iteration) }})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.theta.Value.Item(); got != tc.wantTheta {
				t.Errorf("restored theta = %v, want %v (best iteration %d)", got, tc.wantTheta, res.BestIteration)
			}
			if res.BestIteration != int(tc.wantTheta) {
				t.Errorf("best iteration %d, want %v (1-based)", res.BestIteration, tc.wantTheta)
			}
			for _, s := range c.steps {
				if s != tc.wantSteps {
					t.Fatalf("Evaluate called with steps %d, want %d", s, tc.wantSteps)
				}
			}
			if len(its) != 10 || its[0] != 1 || its[9] != 10 {
				t.Errorf("Progress.Iteration went %v, want 1..10", its)
			}
		})
	}
}
