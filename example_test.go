package metalearn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/tensor"
)

// Build a model, compute a loss, take gradients (first and second order)
// and step an optimizer.
func Example() {
	rng := rand.New(rand.NewPCG(1, 2))
	model := nn.NewSequential(nn.NewLinear(rng, 2, 16), nn.Tanh(), nn.NewLinear(rng, 16, 1))

	// y = x0 - 2*x1 on 64 random points
	x := tensor.RandU(rng, tensor.Float32, -1, 1, 64, 2)
	y := tensor.New(tensor.Float32, 64, 1)
	for i := 0; i < 64; i++ {
		y.SetFlat(i, x.At(i, 0)-2*x.At(i, 1))
	}
	xs, ys := autodiff.Const(x), autodiff.Const(y)

	opt := optim.NewAdam(nn.Vars(model), optim.AdamConfig{LR: 0.01})
	var first float64
	for step := 0; step < 300; step++ {
		opt.ZeroGrad()
		loss := nn.MSELoss(nn.Forward(model, xs), ys)
		if step == 0 {
			first = loss.Item()
		}
		loss.Backward() // accumulates into each parameter's Grad
		opt.Step()
		autodiff.Free(loss) // optional: the next step reuses this graph's memory
	}
	last := nn.MSELoss(nn.Forward(model, xs), ys).Item()
	fmt.Printf("loss fell below 1%% of its start: %v\n", last < first/100)

	// Gradients as values, differentiable again (createGraph = true):
	// one MAML-style inner step on fast weights, then the meta-gradient.
	w := nn.Vars(model)
	inner := nn.MSELoss(nn.Forward(model, xs), ys)
	grads := autodiff.Grad([]*autodiff.Var{inner}, w, true)
	fast := make([]*autodiff.Var, len(w))
	for i := range w {
		fast[i] = autodiff.Sub(w[i], autodiff.Scale(grads[i], 0.1))
	}
	outer := nn.MSELoss(model.Apply(fast, xs), ys)
	meta := autodiff.Grad([]*autodiff.Var{outer}, w, false)
	fmt.Println("meta-gradient shapes:", meta[0].Shape(), meta[1].Shape())
	// Output:
	// loss fell below 1% of its start: true
	// meta-gradient shapes: [16 2] [16]
}
