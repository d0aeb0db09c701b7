package meta

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
)

// Adapt + Predict (what the model server calls) reproduce Evaluate's
// adaptation: the same query loss after the same steps, and the
// meta-parameters are left unchanged.
func TestAdapterMatchesEvaluate(t *testing.T) {
	for _, s := range []Spec{
		{Algorithm: "maml"}, {Algorithm: "anil"}, {Algorithm: "metasgd"}, {Algorithm: "maml++"}, {Algorithm: "pretrain"},
		{Algorithm: "reptile"}, {Algorithm: "reptile", InnerAdam: true, CarryAdam: true, InnerLR: 0.01},
	} {
		name := s.Algorithm
		if s.CarryAdam {
			name += "-carry-adam"
		}
		t.Run(name, func(t *testing.T) {
			s.Dataset, s.Hidden, s.Seed, s.Shots = "sinusoid", 16, 3, 5
			b, err := Build(s)
			if err != nil {
				t.Fatal(err)
			}
			dist := data.Sinusoid{Support: 5, Query: 5}
			if s.CarryAdam { // give the carried statistics some content
				if _, err := Train(b.Algorithm, dist, TrainConfig{Iterations: 3, MetaBatch: 2, Outer: "sgd", OuterLR: 0.5, Seed: 1}); err != nil {
					t.Fatal(err)
				}
			}
			a := b.Algorithm.(Adapter)
			before := b.Tensors()
			task := dist.Sample(rand.New(rand.NewPCG(9, 9)))
			for _, steps := range []int{0, 1, 4} {
				want := b.Algorithm.Evaluate(task, steps)
				w := a.Adapt(task, steps, 0)
				pred := a.Predict(w, steps, task.QueryX)
				got := TaskLoss(autodiff.Const(pred), task, true).Item()
				if math.Abs(got-want.Loss) > 1e-5*math.Max(1, math.Abs(want.Loss)) {
					t.Errorf("%d steps: Adapt+Predict loss %v, Evaluate %v", steps, got, want.Loss)
				}
			}
			after := b.Tensors()
			for i := range before {
				x, y := before[i].Tensor.Values(), after[i].Tensor.Values()
				for j := range x {
					if x[j] != y[j] {
						t.Fatalf("adaptation changed %s", before[i].Name)
					}
				}
			}
		})
	}
}

// stepCtx is a context whose Err turns non-nil after n calls: a
// deterministic stand-in for a deadline passing during adaptation.
type stepCtx struct {
	context.Context
	n, calls int
}

func (c *stepCtx) Err() error {
	if c.calls++; c.calls > c.n {
		return context.DeadlineExceeded
	}
	return nil
}

// AdaptContext checks its context before every step and stops with its
// error at the first check after it is done; with a live context it is
// Adapt.
func TestAdaptContextStops(t *testing.T) {
	for _, algo := range []string{"maml", "anil", "pretrain", "reptile"} {
		t.Run(algo, func(t *testing.T) {
			b, err := Build(Spec{Algorithm: algo, Dataset: "sinusoid", Hidden: 8, Seed: 2, Shots: 5})
			if err != nil {
				t.Fatal(err)
			}
			a := b.Algorithm.(ContextAdapter)
			task := data.Sinusoid{Support: 5, Query: 5}.Sample(rand.New(rand.NewPCG(4, 4)))
			ctx := &stepCtx{Context: context.Background(), n: 3}
			if _, err := a.AdaptContext(ctx, task, 100, 0); err != context.DeadlineExceeded {
				t.Fatalf("err = %v, want context.DeadlineExceeded", err)
			}
			if ctx.calls != 4 {
				t.Errorf("context checked %d times for 100 steps cancelled after 3, want 4", ctx.calls)
			}
			got, err := a.AdaptContext(context.Background(), task, 3, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := a.Adapt(task, 3, 0)
			for i := range want {
				g, w := got[i].Values(), want[i].Values()
				for j := range w {
					if g[j] != w[j] {
						t.Fatalf("tensor %d element %d: AdaptContext %v, Adapt %v", i, j, g[j], w[j])
					}
				}
			}
		})
	}
}
