package autodiff_test

import (
	"fmt"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// Grad with createGraph returns gradients that are themselves
// differentiable: here the first and second derivative of x^3 at x = 2.
func ExampleGrad() {
	x := autodiff.Param(tensor.FromFloat64([]float64{2}, 1))
	y := autodiff.Sum(autodiff.PowScalar(x, 3), false)
	dy := autodiff.Grad([]*autodiff.Var{y}, []*autodiff.Var{x}, true)[0]                         // 3x^2
	d2y := autodiff.Grad([]*autodiff.Var{autodiff.Sum(dy, false)}, []*autodiff.Var{x}, false)[0] // 6x
	fmt.Println(dy.Value.Values(), d2y.Value.Values())
	// Output: [12] [12]
}
