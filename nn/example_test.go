package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// A module's parameters are named like PyTorch's state_dict, and Apply runs
// it with any weights of the same shapes (MAML's fast weights).
func ExampleMLP() {
	rng := rand.New(rand.NewPCG(1, 1))
	m := nn.MLP(rng, nn.ReLU, 1, 40, 40, 1)
	for _, p := range m.Params() {
		fmt.Println(p.Name, p.V.Shape())
	}
	x := autodiff.Const(tensor.New(tensor.Float32, 5, 1))
	fmt.Println("output", nn.Forward(m, x).Shape())
	// Output:
	// 0.weight [40 1]
	// 0.bias [40]
	// 2.weight [40 40]
	// 2.bias [40]
	// 4.weight [1 40]
	// 4.bias [1]
	// output [5 1]
}
