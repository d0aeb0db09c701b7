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

// Attention with a padding mask: the first query weighs its two keys by
// softmax(1, 0) = (0.731, 0.269), giving 0.731*10 + 0.269*20; the second
// sequence has only one real key, so its query returns that key's value.
func ExampleAttention() {
	q := autodiff.Const(tensor.FromFloat64([]float64{1, 0, 0, 1}, 2, 1, 1, 2))             // [B=2, H=1, Tq=1, D=2]
	k := autodiff.Const(tensor.FromFloat64([]float64{1, 0, 0, 1, 1, 0, 5, 5}, 2, 1, 2, 2)) // [2, 1, Tk=2, 2]
	v := autodiff.Const(tensor.FromFloat64([]float64{10, 20, 30, 40}, 2, 1, 2, 1))         // [2, 1, 2, Dv=1]
	y := autodiff.Attention(q, k, v, autodiff.AttentionOptions{Scale: 1, KeyLengths: []int{2, 1}})
	fmt.Printf("%.4f\n", y.Value.Values())
	// Output: [12.6894 30.0000]
}
