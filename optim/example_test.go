package optim_test

import (
	"fmt"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/tensor"
)

// Minimise (w - 3)^2 with Adam and a cosine learning-rate schedule.
func ExampleAdam() {
	w := autodiff.Param(tensor.FromFloat64([]float64{0}, 1))
	opt := optim.NewAdam([]*autodiff.Var{w}, optim.AdamConfig{LR: 0.1})
	sched := optim.Cosine(0.1, 0.001, 500, 0)
	for step := 0; step < 500; step++ {
		opt.SetLR(sched(step))
		opt.ZeroGrad()
		autodiff.Sum(autodiff.Square(autodiff.AddScalar(w, -3)), false).Backward()
		opt.Step()
	}
	fmt.Printf("w = %.3f\n", w.Value.Item())
	// Output: w = 3.000
}
