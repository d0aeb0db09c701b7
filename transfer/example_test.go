package transfer_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
	"github.com/metalearn/metalearn/transfer"
)

// twoMoons-like toy data: class = sign of x0*x1 (XOR quadrants), with the
// labels of the target swapped, so the source features transfer but the
// head must be relearned.
func xorData(seed uint64, n int, swap bool) transfer.Data {
	rng := rand.New(rand.NewPCG(seed, 0))
	x := tensor.New(tensor.Float32, n, 2)
	y := make([]int, n)
	for i := 0; i < n; i++ {
		a, b := rng.Float64()*2-1, rng.Float64()*2-1
		x.Set(a, i, 0)
		x.Set(b, i, 1)
		if a*b > 0 {
			y[i] = 1
		}
		if swap {
			y[i] = 1 - y[i]
		}
	}
	return transfer.Data{Name: "xor", X: x, Y: y, ClassNames: []string{"neg", "pos"}}
}

// Fine-tune a source network on a target task with a linear probe: only the
// head changes, the first layers stay exactly at the source weights.
func ExampleFineTune() {
	rng := rand.New(rand.NewPCG(1, 1))
	src := nn.MLP(rng, nn.ReLU, 2, 32, 32, 2)
	// 1. Train the source model (from scratch) on the source task.
	if _, err := transfer.FineTune(src, transfer.Target{Train: xorData(1, 400, false)},
		transfer.Strategy{Kind: transfer.Scratch}, transfer.Config{Steps: 300, LR: 0.01}); err != nil {
		fmt.Println(err)
		return
	}
	weights := transfer.Weights(src) // what checkpoint.ReadFile would give back

	// 2. A fresh model of the same architecture, source weights loaded,
	// and a new head for the target classes.
	m := nn.MLP(rand.New(rand.NewPCG(2, 2)), nn.ReLU, 2, 32, 32, 2)
	if err := transfer.LoadSource(m, weights, true, "source"); err != nil {
		fmt.Println(err)
		return
	}
	target := transfer.Target{Train: xorData(2, 20, true), Val: xorData(3, 100, true), Test: xorData(4, 1000, true)}
	r, err := transfer.FineTune(m, target, transfer.Strategy{Kind: transfer.Probe}, transfer.Config{Steps: 200, LR: 0.05})
	if err != nil {
		fmt.Println(err)
		return
	}
	first := transfer.Layers(m)[0]
	same := tensor.MaxAbsDiff(first.Params[0].V.Value, weights[first.Name+".weight"]) == 0
	fmt.Printf("trained layers %v; first layer unchanged: %v; test accuracy > 0.9: %v\n", r.Trained, same, r.TestAcc > 0.9)
	// Output: trained layers [4]; first layer unchanged: true; test accuracy > 0.9: true
}

// Recommend task groups from an affinity matrix (TAG-style grouping).
func ExampleGroupTasks() {
	z := [][]float64{
		{0.3, 0.2, -0.1, -0.1},
		{0.2, 0.3, -0.1, -0.1},
		{-0.1, -0.1, 0.3, 0.1},
		{-0.1, -0.1, 0.1, 0.3},
	}
	r, _ := transfer.GroupTasks(z, []string{"a", "b", "c", "d"}, 2)
	fmt.Printf("%s score %.2f (of %d partitions)\n", r.Best, r.Best.Score, r.Partitions)
	// Output: {a,b}{c,d} score 0.60 (of 7 partitions)
}
