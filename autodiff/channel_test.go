package autodiff

import (
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

// Gradient checks (first and second order, float64, default tolerances) of
// the fused per-channel operations: BatchNorm and the operations its
// backward is built from.
func channelCases() []opCase {
	bn := func(x []*Var) *Var { return BatchNorm(x[0], x[1], x[2], 1e-5) }
	return []opCase{
		{name: "BatchNorm/4d", shapes: [][]int{{3, 2, 3, 2}, {2}, {2}}, f: bn},
		{name: "BatchNorm/2d", shapes: [][]int{{5, 3}, {3}, {3}}, f: bn},
		{name: "BatchNorm/3d", shapes: [][]int{{2, 3, 4}, {3}, {3}}, f: bn},
		{name: "BatchNorm/no-affine", shapes: [][]int{{4, 2, 2, 2}}, f: func(x []*Var) *Var { return BatchNorm(x[0], nil, nil, 1e-5) }},
		{name: "BatchNorm/squared", shapes: [][]int{{3, 2, 2, 2}, {2}, {2}}, f: func(x []*Var) *Var { return Square(bn(x)) }},
		{name: "BatchNorm/twice", shapes: [][]int{{4, 2, 2, 1}, {2}, {2}}, f: func(x []*Var) *Var {
			return BatchNorm(Tanh(bn(x)), x[1], nil, 1e-3)
		}},
		{name: "BatchNormReLU/4d", shapes: [][]int{{3, 2, 3, 2}, {2}, {2}}, f: func(x []*Var) *Var { y, _, _ := BatchNormReLU(x[0], x[1], x[2], 1e-5); return Square(y) }},
		{name: "BatchNormReLU/2d", shapes: [][]int{{6, 3}, {3}, {3}}, f: func(x []*Var) *Var { y, _, _ := BatchNormReLU(x[0], x[1], x[2], 1e-5); return Mul(y, x[0]) }},
		{name: "BatchNormReLU/twice", shapes: [][]int{{4, 2, 2, 1}, {2}, {2}}, f: func(x []*Var) *Var {
			y, _, _ := BatchNormReLU(x[0], x[1], x[2], 1e-5)
			z, _, _ := BatchNormReLU(Tanh(y), x[1], nil, 1e-3)
			return Square(z)
		}},
		{name: "BatchNormReLUPool", shapes: [][]int{{3, 2, 4, 4}, {2}, {2}}, f: func(x []*Var) *Var { y, _, _ := BatchNormReLUPool(x[0], x[1], x[2], 1e-5); return Square(y) }},
		{name: "BatchNormReLUPool/odd", shapes: [][]int{{2, 2, 5, 3}, {2}, {2}}, f: func(x []*Var) *Var { y, _, _ := BatchNormReLUPool(x[0], x[1], x[2], 1e-5); return Mul(y, y) }},
		{name: "BatchNormReLUPool/no-affine", shapes: [][]int{{3, 2, 2, 2}}, f: func(x []*Var) *Var { y, _, _ := BatchNormReLUPool(x[0], nil, nil, 1e-5); return Square(y) }},
		{name: "Conv-BNReLUPool", shapes: [][]int{{3, 1, 4, 4}, {2, 1, 3, 3}, {2}, {2}, {2}}, f: func(x []*Var) *Var {
			y, _, _ := BatchNormReLUPool(Tanh(Conv2dBias(x[0], x[1], x[2], 1, 1)), x[3], x[4], 1e-5)
			return Square(y)
		}},
		{name: "ConvBatchNormReLUPool", shapes: [][]int{{3, 1, 6, 5}, {2, 1, 3, 3}, {2}, {2}, {2}}, f: func(x []*Var) *Var {
			y, _, _ := ConvBatchNormReLUPool(x[0], x[1], x[2], x[3], x[4], 1, 1, 1e-5)
			return Square(y)
		}},
		{name: "ConvBatchNormReLUPool/no-bias-no-affine", shapes: [][]int{{2, 2, 5, 7}, {3, 2, 3, 3}}, f: func(x []*Var) *Var {
			y, _, _ := ConvBatchNormReLUPool(x[0], x[1], nil, nil, nil, 1, 1, 1e-5)
			return Mul(y, y)
		}},
		{name: "ChannelAffine", shapes: [][]int{{2, 3, 2, 2}, {3}, {3}}, f: func(x []*Var) *Var { return Square(ChannelAffine(x[0], x[1], x[2])) }},
		{name: "ChannelAffine/scale-only", shapes: [][]int{{4, 3}, {3}}, f: func(x []*Var) *Var { return Mul(ChannelAffine(x[0], x[1], nil), x[0]) }},
		{name: "ChannelSum", shapes: [][]int{{2, 3, 2, 2}}, f: func(x []*Var) *Var { return Square(ChannelSum(Square(x[0]))) }},
		{name: "ChannelDot", shapes: [][]int{{2, 3, 2}, {2, 3, 2}}, f: func(x []*Var) *Var { return Square(ChannelDot(x[0], x[1])) }},
		{name: "Conv2dBias", shapes: [][]int{{2, 2, 4, 4}, {3, 2, 3, 3}, {3}}, f: func(x []*Var) *Var { return Square(Conv2dBias(x[0], x[1], x[2], 1, 1)) }},
		{name: "Relu/fused-mask", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Mul(Relu(Mul(x[0], x[0])), Relu(x[0])) }},
		{name: "MaxPool2d/int32", shapes: [][]int{{2, 2, 4, 4}}, f: func(x []*Var) *Var { return Mul(MaxPool2d(x[0], 2, 2, 0), MaxPool2d(Square(x[0]), 2, 2, 0)) }},
		{name: "Conv-BN-ReLU-Pool", shapes: [][]int{{3, 1, 4, 4}, {2, 1, 3, 3}, {2}, {2}, {2}}, f: func(x []*Var) *Var {
			y := BatchNorm(Conv2dBias(x[0], x[1], x[2], 1, 1), x[3], x[4], 1e-5)
			return Square(MaxPool2d(Relu(y), 2, 2, 0))
		}},
	}
}

func TestChannelOpsGradCheck(t *testing.T) {
	for i, c := range channelCases() {
		t.Run(c.name, func(t *testing.T) {
			in := randInputs(rand.New(rand.NewPCG(uint64(i), 31)), c.shapes, c.positive)
			if err := GradCheck(c.f, in, CheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestChannelOpsGradGradCheck(t *testing.T) {
	for i, c := range channelCases() {
		t.Run(c.name, func(t *testing.T) {
			in := randInputs(rand.New(rand.NewPCG(uint64(i), 32)), c.shapes, c.positive)
			if err := GradGradCheck(c.f, in, CheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The fused BatchNorm agrees with the composition it replaced, in value,
// gradient and second-order gradient (third order through the composed
// double backward is exercised by differentiating the second-order graph).
func TestBatchNormMatchesComposition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	x0 := tensor.RandN(rng, tensor.Float64, 2, 4, 3, 2, 3)
	g0 := tensor.RandU(rng, tensor.Float64, 0.5, 1.5, 3)
	b0 := tensor.RandN(rng, tensor.Float64, 1, 3)
	r := tensor.RandN(rng, tensor.Float64, 1, 4, 3, 2, 3)
	composed := func(x, g, b *Var) *Var {
		axes := []int{0, 2, 3}
		mean := Mean(x, true, axes...)
		v := Variance(x, false, true, axes...)
		xhat := Div(Sub(x, mean), Sqrt(AddScalar(v, 1e-5)))
		return Add(Mul(xhat, Reshape(g, 1, 3, 1, 1)), Reshape(b, 1, 3, 1, 1))
	}
	fused := func(x, g, b *Var) *Var { return BatchNorm(x, g, b, 1e-5) }
	composedReLU := func(x, g, b *Var) *Var { return Relu(composed(x, g, b)) }
	fusedReLU := func(x, g, b *Var) *Var { y, _, _ := BatchNormReLU(x, g, b, 1e-5); return y }
	run := func(f func(x, g, b *Var) *Var) []*tensor.Tensor {
		x, g, b := Param(x0), Param(g0), Param(b0)
		y := f(x, g, b)
		s := Sum(Mul(Square(y), Const(r)), false)
		d1 := Grad([]*Var{s}, []*Var{x, g, b}, true)
		h := Add(Add(Sum(Square(d1[0]), false), Sum(Square(d1[1]), false)), Sum(Mul(d1[0], x), false))
		d2 := Grad([]*Var{h}, []*Var{x, g, b}, true)
		h2 := Sum(Square(d2[0]), false)
		d3 := Grad([]*Var{h2}, []*Var{x, g}, false)
		return []*tensor.Tensor{y.Value, d1[0].Value, d1[1].Value, d1[2].Value, d2[0].Value, d2[1].Value, d3[0].Value, d3[1].Value}
	}
	for _, pair := range [][2]func(x, g, b *Var) *Var{{composed, fused}, {composedReLU, fusedReLU}} {
		want, got := run(pair[0]), run(pair[1])
		for i := range want {
			if !tensor.AllClose(got[i], want[i], 1e-8, 1e-9) {
				t.Fatalf("output %d differs: max |diff| %g", i, tensor.MaxAbsDiff(got[i], want[i]))
			}
		}
	}
}

// The fused convolution block gives the two operations' values,
// statistics and gradients bit for bit (float32, conv4's first block),
// and its graph-building backward (second order) the same first
// gradients.
func TestConvBatchNormReLUPoolMatchesComposition(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	x := Const(tensor.RandN(rng, tensor.Float32, 1, 4, 1, 28, 28))
	w := Param(tensor.RandN(rng, tensor.Float32, 0.3, 8, 1, 3, 3))
	b := Param(tensor.RandN(rng, tensor.Float32, 0.1, 8))
	gamma := Param(tensor.RandU(rng, tensor.Float32, 0.5, 1.5, 8))
	beta := Param(tensor.RandN(rng, tensor.Float32, 0.1, 8))
	wrt := []*Var{w, b, gamma, beta}
	run := func(fused, createGraph bool) ([]*tensor.Tensor, string) {
		var y *Var
		var mean, variance *tensor.Tensor
		if fused {
			y, mean, variance = ConvBatchNormReLUPool(x, w, b, gamma, beta, 1, 1, 1e-5)
		} else {
			y, mean, variance = BatchNormReLUPool(Conv2dBias(x, w, b, 1, 1), gamma, beta, 1e-5)
		}
		gs := Grad([]*Var{Sum(Square(y), false)}, wrt, createGraph)
		out := []*tensor.Tensor{y.Value, mean, variance}
		for _, g := range gs {
			out = append(out, g.Value)
		}
		return out, y.Op()
	}
	want, _ := run(false, false)
	for _, cg := range []bool{false, true} {
		got, op := run(true, cg)
		if op != "ConvBatchNormReLUPool" {
			t.Fatalf("the fused block ran as %s", op)
		}
		for i := range want {
			if d := tensor.MaxAbsDiff(got[i], want[i]); d != 0 && !(cg && i >= 3 && d < 1e-4) {
				t.Errorf("createGraph %v: result %d differs by %g", cg, i, d)
			}
		}
	}
}
