package autodiff_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/tensor"
)

// Training with autodiff.Free after every step (storage reused from step
// to step) gives bit-identical weights to training without it.
func TestFreeKeepsTrainingExact(t *testing.T) {
	train := func(free bool) []float64 {
		rng := rand.New(rand.NewPCG(5, 6))
		m := nn.NewSequential(nn.Conv4(rng, 1, 8), nn.NewLinear(rng, 8, 3))
		x := autodiff.Const(tensor.RandN(rng, tensor.Float32, 1, 30, 1, 28, 28)) // conv outputs above the pooling threshold
		labels := make([]int, 30)
		for i := range labels {
			labels[i] = i % 3
		}
		opt := optim.NewAdam(nn.Vars(m), optim.AdamConfig{LR: 1e-2})
		for step := 0; step < 4; step++ {
			loss := nn.CrossEntropyLoss(nn.Forward(m, x), labels, 0)
			g := autodiff.Grad([]*autodiff.Var{loss}, nn.Vars(m), false)
			gs := make([]*tensor.Tensor, len(g))
			for i := range g {
				gs[i] = g[i].Value
			}
			if free {
				autodiff.Free(loss)
			}
			opt.StepWith(gs)
		}
		var out []float64
		for _, v := range nn.Vars(m) {
			out = append(out, v.Value.Values()...)
		}
		return out
	}
	a, b := train(false), train(true)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("weight %d: %v with Free, %v without", i, b[i], a[i])
		}
	}
}

// Free recycles intermediates (reading one panics), keeps leaves and the
// outputs' values, and a freed output cannot be differentiated again.
func TestFreeRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 64 * 1024
	x := autodiff.Param(tensor.RandN(rng, tensor.Float32, 1, n))
	h := autodiff.Tanh(x)
	same := autodiff.Reshape(x, n) // an op whose value is the leaf's storage
	y := autodiff.Sum(autodiff.Mul(h, same), false)
	xv, yv := x.Value.Values(), y.Item()
	autodiff.Free(y)
	if y.Item() != yv {
		t.Error("the output's value changed")
	}
	for i, v := range x.Value.Values() {
		if v != xv[i] {
			t.Fatal("the leaf's value changed")
		}
	}
	_ = same.Value.Values() // a view of the leaf: still readable
	func() {
		defer func() {
			if recover() == nil {
				t.Error("reading a freed intermediate did not panic")
			}
		}()
		_ = h.Value.F32()[0]
	}()
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "freed") {
			t.Errorf("Grad of a freed output: recover() = %v, want a panic naming Free", r)
		}
	}()
	autodiff.Grad([]*autodiff.Var{y}, []*autodiff.Var{x}, false)
}
