package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

func TestConv4Shape(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	m := Conv4(rng, 1, 64)
	x := autodiff.Const(tensor.RandN(rng, tensor.Float32, 1, 2, 1, 28, 28))
	if got := Forward(m, x).Shape(); !tensor.SameShape(got, []int{2, 64}) {
		t.Fatalf("Conv4 output %v, want [2 64]", got)
	}
	if n := NumParams(m); n != (64*9+64+128)+3*(64*64*9+64+128) {
		t.Fatalf("Conv4 has %d parameters", n)
	}
	mlp := MLP(rng, ReLU, 1, 40, 40, 1)
	if n := NumParams(mlp); n != 40+40+40*40+40+40+1 {
		t.Fatalf("MLP has %d parameters", n)
	}
}

// BenchmarkConv4ForwardBackward: conv4 (64 filters) on a batch of 25 28x28
// images, cross-entropy over 5 classes from a linear head, full backward.
func BenchmarkConv4ForwardBackward(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	m := NewSequential(Conv4(rng, 1, 64), NewLinear(rng, 64, 5))
	x := autodiff.Const(tensor.RandN(rng, tensor.Float32, 1, 25, 1, 28, 28))
	labels := make([]int, 25)
	for i := range labels {
		labels[i] = i % 5
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ZeroGrad(m)
		CrossEntropyLoss(Forward(m, x), labels, 0).Backward()
	}
}

// BenchmarkMLPForwardBackward: the 1-40-40-1 ReLU sinusoid network on a
// batch of 10, MSE loss, full backward.
func BenchmarkMLPForwardBackward(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	m := MLP(rng, ReLU, 1, 40, 40, 1)
	x := autodiff.Const(tensor.RandU(rng, tensor.Float32, -5, 5, 10, 1))
	y := autodiff.Const(tensor.RandN(rng, tensor.Float32, 1, 10, 1))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ZeroGrad(m)
		MSELoss(Forward(m, x), y).Backward()
	}
}

// BenchmarkGRUStep: the gru_step workload, a 1-layer GRU (input and
// hidden size 512) over a batch of 64 sequences of 24 steps, the mean of
// the outputs as the loss, full backward, with autodiff.Free after each
// step as a training loop does.
func BenchmarkGRUStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	m := NewGRU(rng, 512, 512, 1)
	x := autodiff.Const(tensor.RandN(rng, tensor.Float32, 1, 64, 24, 512))
	for b.Loop() {
		ZeroGrad(m)
		loss := autodiff.Mean(m.Apply(Vars(m), x), false)
		loss.Backward()
		autodiff.Free(loss)
	}
}

// BenchmarkTokenCrossEntropy: the loss of the mt_small workload, 64 x 24
// target tokens over a vocabulary of 8,000 with label smoothing 0.1 and
// padding, forward and backward.
func BenchmarkTokenCrossEntropy(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	logits := autodiff.Param(tensor.RandN(rng, tensor.Float32, 1, 64, 24, 8000))
	targets := make([]int, 64*24)
	for i := range targets {
		if i%24 < 20 {
			targets[i] = 1 + rng.IntN(7999)
		}
	}
	opt := SeqLossOptions{LabelSmoothing: 0.1, Ignore: true}
	for b.Loop() {
		loss, _ := TokenCrossEntropy(logits, targets, opt)
		autodiff.Grad([]*autodiff.Var{loss}, []*autodiff.Var{logits}, false)
	}
}
