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

// A GRU over a padded batch: the second sequence is 2 steps long, so its
// outputs after that are zero and its final state is the one at step 2;
// the token loss skips the padding targets (id 0) and counts the rest.
func ExampleRunGRU() {
	rng := rand.New(rand.NewPCG(1, 1))
	emb := nn.NewEmbeddingPadded(rng, 10, 4, 0)
	gru := nn.NewGRU(rng, 4, 8, 1)
	head := nn.NewLinear(rng, 8, 10)
	ids := []int{3, 5, 7, 2, 9, 0, 0, 0} // [B=2, T=4], padded with 0
	x := emb.Embed(emb.Weight, ids, 2, 4)
	out, h := gru.Run(nn.Vars(gru), x, []int{4, 2}, nil)
	fmt.Println("outputs", out.Shape(), "final states", h.Shape())
	fmt.Println("output at a padded step:", out.Value.At(1, 3, 0))
	targets := []int{5, 7, 2, 1, 9, 1, 0, 0}
	loss, tokens := nn.TokenCrossEntropy(nn.Forward(head, out), targets, nn.SeqLossOptions{LabelSmoothing: 0.1, Ignore: true})
	fmt.Println("tokens", tokens, "loss is a scalar:", len(loss.Shape()) == 0)
	// Output:
	// outputs [2 4 8] final states [1 2 8]
	// output at a padded step: 0
	// tokens 6 loss is a scalar: true
}
