package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// A declared ConvBlock runs BatchNorm, ReLU and 2x2 max-pooling fused,
// with the convolution when that is cheap to recompute (2 input
// channels: 18 values per output) or without (4: 36); the result, the
// gradients (first order by the fused kernels and as a graph, and second
// order) and the running statistics match running the layers one by one.
func TestSequentialFusedBatchNormReLU(t *testing.T) {
	for _, c := range []struct {
		train bool
		in    int
		op    string
	}{{true, 2, "ConvBatchNormReLUPool"}, {true, 4, "BatchNormReLUPool"}, {false, 2, ""}} {
		train := c.train
		r := rand.New(rand.NewPCG(9, 9))
		conv, bn := NewConv2d(r, c.in, 3, 3, 1, 1), randBN(r, 3, train)
		seq := NewSequential()
		seq.AppendBlock(&ConvBlock{Conv: conv, BN: bn, ReLU: ReLU(), Pool: MaxPool2d(2, 2, 0).(*MaxPool)})
		Cast(seq, tensor.Float64)
		x := autodiff.Const(tensor.RandN(r, tensor.Float64, 1, 4, c.in, 6, 6))
		rm0, rv0 := bn.RunningMean.Value.Clone(), bn.RunningVar.Value.Clone()
		run := func(fused bool) ([]*tensor.Tensor, *tensor.Tensor, *tensor.Tensor) {
			bn.RunningMean.Value, bn.RunningVar.Value = rm0.Clone(), rv0.Clone()
			w := Vars(seq)
			var y *autodiff.Var
			if fused {
				y = seq.Apply(w, x)
				if op := y.Op(); train && op != c.op {
					t.Fatalf("%d input channels: the fused block ends in %s, want %s", c.in, op, c.op)
				}
			} else {
				y = conv.Apply(w[:2], x)
				y = bn.Apply(w[2:], y)
				y = autodiff.Relu(y)
				y = autodiff.MaxPool2d(y, 2, 2, 0)
			}
			l := autodiff.Sum(autodiff.Square(y), false)
			g1 := autodiff.Grad([]*autodiff.Var{l}, w, false) // the fused kernels' backward
			gs := autodiff.Grad([]*autodiff.Var{l}, w, true)  // the composite's, kept as a graph
			h := autodiff.Sum(autodiff.Square(gs[0]), false)
			gg := autodiff.Grad([]*autodiff.Var{h}, w, false)
			out := []*tensor.Tensor{y.Value}
			for i := range gs {
				out = append(out, g1[i].Value, gs[i].Value, gg[i].Value)
			}
			return out, bn.RunningMean.Value, bn.RunningVar.Value
		}
		want, wm, wv := run(false)
		got, gm, gv := run(true)
		for i := range want {
			if !tensor.AllClose(got[i], want[i], 1e-10, 1e-9) { // atol: the conv bias's gradients are 0 up to rounding noise
				t.Fatalf("train=%v: output %d differs by %g", train, i, tensor.MaxAbsDiff(got[i], want[i]))
			}
		}
		if !tensor.AllClose(gm, wm, 1e-12, 1e-14) || !tensor.AllClose(gv, wv, 1e-12, 1e-14) {
			t.Fatalf("train=%v: running statistics differ", train)
		}
	}
}

// Fusion is declared, not guessed: the same layers appended one by one
// run one by one; a block whose layer was replaced runs its layers one by
// one; malformed blocks are refused.
func TestConvBlockDeclared(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	b := NewConvBlock(r, 2, 3, 3, 1, 1, true)
	x := autodiff.Const(tensor.RandN(r, tensor.Float32, 1, 2, 2, 6, 6))
	plain := NewSequential(b.Layers()...)
	if op := plain.Apply(Vars(plain), x).Op(); op != "MaxPool2d" {
		t.Errorf("undeclared layers end in %s, want MaxPool2d", op)
	}
	s := NewSequential()
	s.AppendBlock(b)
	if op := s.Apply(Vars(s), x).Op(); op != "ConvBatchNormReLUPool" {
		t.Errorf("declared block ends in %s, want ConvBatchNormReLUPool", op)
	}
	if us := Units(s); len(us) != 1 || us[0].Block != b {
		t.Errorf("Units = %v, want the block", us)
	}
	names := []string{}
	for _, p := range s.Params() {
		names = append(names, p.Name)
	}
	for _, bf := range s.Buffers() {
		names = append(names, bf.Name)
	}
	if got := fmt.Sprint(names); got != "[0.weight 0.bias 1.weight 1.bias 1.running_mean 1.running_var]" {
		t.Errorf("names %s: not those of the layers", got)
	}
	s.Layers[3] = MaxPool2d(2, 2, 0)
	if op := s.Apply(Vars(s), x).Op(); op != "MaxPool2d" {
		t.Errorf("block with a replaced layer ends in %s, want MaxPool2d", op)
	}
	if us := Units(s); len(us) != 4 {
		t.Errorf("Units of a broken block: %d units, want 4 layers", len(us))
	}
	for _, bad := range []*ConvBlock{
		{Conv: b.Conv, BN: b.BN, ReLU: Tanh()},
		{Conv: b.Conv, BN: b.BN, ReLU: ReLU(), Pool: &MaxPool{K: 3, Stride: 2}},
		{BN: b.BN, ReLU: ReLU()},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AppendBlock accepted %+v", bad)
				}
			}()
			NewSequential().AppendBlock(bad)
		}()
	}
}
