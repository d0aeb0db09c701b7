package autodiff

import (
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

// Tolerances used throughout: central differences with eps = 1e-6 in
// float64, passing when |analytic - numeric| <= 1e-5 + 1e-3*|numeric|
// (the torch.autograd.gradcheck defaults).

type opCase struct {
	name   string
	shapes [][]int
	f      func(xs []*Var) *Var
	// positive restricts inputs to (0.5, 2) for ops like log and sqrt.
	positive bool
}

func randInputs(rng *rand.Rand, shapes [][]int, positive bool) []*tensor.Tensor {
	ts := make([]*tensor.Tensor, len(shapes))
	for i, s := range shapes {
		if positive {
			ts[i] = tensor.RandU(rng, tensor.Float64, 0.5, 2, s...)
		} else {
			ts[i] = tensor.RandN(rng, tensor.Float64, 1, s...)
		}
	}
	return ts
}

func opCases() []opCase {
	return []opCase{
		{name: "Add", shapes: [][]int{{3, 4}, {3, 4}}, f: func(x []*Var) *Var { return Add(x[0], x[1]) }},
		{name: "Add/broadcast", shapes: [][]int{{2, 3, 4}, {3, 1}}, f: func(x []*Var) *Var { return Add(x[0], x[1]) }},
		{name: "Sub/broadcast", shapes: [][]int{{4}, {3, 4}}, f: func(x []*Var) *Var { return Sub(x[0], x[1]) }},
		{name: "Mul/broadcast", shapes: [][]int{{3, 1}, {1, 4}}, f: func(x []*Var) *Var { return Mul(x[0], x[1]) }},
		{name: "Mul/self", shapes: [][]int{{5}}, f: func(x []*Var) *Var { return Mul(x[0], x[0]) }},
		{name: "Div/broadcast", shapes: [][]int{{3, 4}, {4}}, positive: true, f: func(x []*Var) *Var { return Div(x[0], x[1]) }},
		{name: "Pow", shapes: [][]int{{3, 4}, {3, 4}}, positive: true, f: func(x []*Var) *Var { return Pow(x[0], x[1]) }},
		{name: "Pow/scalar-exponent", shapes: [][]int{{3, 4}, {}}, positive: true, f: func(x []*Var) *Var { return Pow(x[0], x[1]) }},
		{name: "Maximum", shapes: [][]int{{3, 4}, {3, 4}}, f: func(x []*Var) *Var { return Maximum(x[0], x[1]) }},
		{name: "Minimum/broadcast", shapes: [][]int{{3, 4}, {4}}, f: func(x []*Var) *Var { return Minimum(x[0], x[1]) }},
		{name: "Where", shapes: [][]int{{3, 4}, {3, 4}}, f: func(x []*Var) *Var {
			cond := tensor.Greater(x[0].Value, tensor.Scalar(tensor.Float64, 0))
			return Where(cond, Square(x[0]), Mul(x[1], x[0]))
		}},
		{name: "Neg", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Neg(Square(x[0])) }},
		{name: "Scale", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Scale(Square(x[0]), -1.5) }},
		{name: "AddScalar", shapes: [][]int{{3}}, f: func(x []*Var) *Var { return Square(AddScalar(x[0], 0.7)) }},
		{name: "Exp", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Exp(x[0]) }},
		{name: "Log", shapes: [][]int{{3, 4}}, positive: true, f: func(x []*Var) *Var { return Log(x[0]) }},
		{name: "Sqrt", shapes: [][]int{{3, 4}}, positive: true, f: func(x []*Var) *Var { return Sqrt(x[0]) }},
		{name: "Square", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Square(x[0]) }},
		{name: "PowScalar", shapes: [][]int{{3, 4}}, positive: true, f: func(x []*Var) *Var { return PowScalar(x[0], 3.5) }},
		{name: "Abs", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Mul(Abs(x[0]), x[0]) }},
		{name: "Tanh", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Tanh(x[0]) }},
		{name: "Sigmoid", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Sigmoid(x[0]) }},
		{name: "BinaryCrossEntropy", shapes: [][]int{{3, 4}, {3, 4}}, f: func(x []*Var) *Var {
			return BinaryCrossEntropy(Sigmoid(x[0]), Sigmoid(x[1]))
		}},
		{name: "BinaryCrossEntropy/hard-targets", shapes: [][]int{{2, 3}}, f: func(x []*Var) *Var {
			t := Const(tensor.FromFloat64([]float64{0, 1, 1, 0, 0, 1}, 2, 3))
			return BinaryCrossEntropy(Sigmoid(x[0]), t)
		}},
		{name: "BCEGrad/scaled", shapes: [][]int{{}, {2, 3}, {2, 3}}, f: func(x []*Var) *Var {
			return Square(bceGrad(x[0], Sigmoid(x[1]), Sigmoid(x[2])))
		}},
		{name: "Softplus", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Softplus(Scale(x[0], 3)) }},
		{name: "Relu", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Mul(Relu(x[0]), x[0]) }},
		{name: "LeakyRelu", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Mul(LeakyRelu(x[0], 0.1), x[0]) }},
		{name: "Erf", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Erf(x[0]) }},
		{name: "GELU", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return GELU(x[0]) }},
		{name: "Sin", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Sin(x[0]) }},
		{name: "Cos", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Cos(x[0]) }},
		{name: "Sum/all", shapes: [][]int{{2, 3, 4}}, f: func(x []*Var) *Var { return Square(Sum(x[0], false)) }},
		{name: "Sum/axes", shapes: [][]int{{2, 3, 4}}, f: func(x []*Var) *Var { return Square(Sum(x[0], false, 0, 2)) }},
		{name: "Sum/keep", shapes: [][]int{{2, 3, 4}}, f: func(x []*Var) *Var { return Mul(Sum(x[0], true, -1), x[0]) }},
		{name: "Mean", shapes: [][]int{{2, 3, 4}}, f: func(x []*Var) *Var { return Square(Mean(x[0], false, 1)) }},
		{name: "Variance", shapes: [][]int{{2, 3, 4}}, f: func(x []*Var) *Var { return Variance(x[0], false, false, 0, 2) }},
		{name: "Variance/unbiased", shapes: [][]int{{5, 3}}, f: func(x []*Var) *Var { return Variance(x[0], true, true, 0) }},
		{name: "Max", shapes: [][]int{{3, 5}}, f: func(x []*Var) *Var { return Square(Max(x[0], false, 1)) }},
		{name: "Min", shapes: [][]int{{3, 5}}, f: func(x []*Var) *Var { return Square(Min(x[0], true, 0)) }},
		{name: "LogSumExp", shapes: [][]int{{3, 5}}, f: func(x []*Var) *Var { return LogSumExp(x[0], 1, false) }},
		{name: "LogSumExp/axis0", shapes: [][]int{{3, 5}}, f: func(x []*Var) *Var { return LogSumExp(x[0], 0, true) }},
		{name: "LogSoftmax", shapes: [][]int{{3, 5}}, f: func(x []*Var) *Var { return LogSoftmax(x[0], -1) }},
		{name: "Softmax", shapes: [][]int{{3, 5}}, f: func(x []*Var) *Var { return Softmax(x[0], 1) }},
		{name: "Softmax/axis0", shapes: [][]int{{3, 5}}, f: func(x []*Var) *Var { return Softmax(x[0], 0) }},
		{name: "SumTo", shapes: [][]int{{2, 3, 4}}, f: func(x []*Var) *Var { return Square(SumTo(x[0], []int{3, 1})) }},
		{name: "BroadcastTo", shapes: [][]int{{3, 1}}, f: func(x []*Var) *Var { return Mul(BroadcastTo(x[0], []int{2, 3, 4}), BroadcastTo(x[0], []int{2, 3, 4})) }},
		{name: "Reshape", shapes: [][]int{{2, 6}}, f: func(x []*Var) *Var { return Square(Reshape(x[0], 3, -1)) }},
		{name: "Permute", shapes: [][]int{{2, 3, 4}}, f: func(x []*Var) *Var { return Square(Permute(x[0], 2, 0, 1)) }},
		{name: "Transpose", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var { return Square(Transpose(x[0])) }},
		{name: "Slice", shapes: [][]int{{4, 5}}, f: func(x []*Var) *Var { return Square(Slice(x[0], 1, 1, 4)) }},
		{name: "Concat", shapes: [][]int{{2, 3}, {2, 2}}, f: func(x []*Var) *Var { return Square(Concat(1, x[0], x[1])) }},
		{name: "Stack", shapes: [][]int{{2, 3}, {2, 3}}, f: func(x []*Var) *Var { return Mul(Stack(0, x[0], x[1]), Stack(0, x[1], x[0])) }},
		{name: "IndexSelect", shapes: [][]int{{4, 3}}, f: func(x []*Var) *Var { return Square(IndexSelect(x[0], 0, []int{2, 0, 2, 3})) }},
		{name: "Gather", shapes: [][]int{{3, 4}}, f: func(x []*Var) *Var {
			return Square(Gather(x[0], 1, []int{1, 3, 0, 0, 2, 2}, []int{3, 2}))
		}},
		{name: "MatMul", shapes: [][]int{{3, 4}, {4, 5}}, f: func(x []*Var) *Var { return Square(MatMul(x[0], x[1])) }},
		{name: "MatMul/batched", shapes: [][]int{{2, 3, 4}, {2, 4, 2}}, f: func(x []*Var) *Var { return Square(MatMul(x[0], x[1])) }},
		{name: "MatMul/shared-rhs", shapes: [][]int{{2, 3, 4}, {4, 2}}, f: func(x []*Var) *Var { return Square(MatMul(x[0], x[1])) }},
		{name: "MatMulNT", shapes: [][]int{{3, 4}, {5, 4}}, f: func(x []*Var) *Var { return Square(MatMulNT(x[0], x[1])) }},
		{name: "MatMulNT/batched", shapes: [][]int{{2, 3, 4}, {2, 5, 4}}, f: func(x []*Var) *Var { return Square(MatMulNT(x[0], x[1])) }},
		{name: "MatMulNT/shared-rhs", shapes: [][]int{{2, 3, 4}, {2, 4}}, f: func(x []*Var) *Var { return Square(MatMulNT(x[0], x[1])) }},
		{name: "MatMulTN", shapes: [][]int{{4, 3}, {4, 5}}, f: func(x []*Var) *Var { return Square(MatMulTN(x[0], x[1])) }},
		{name: "MatMulTN/batched", shapes: [][]int{{2, 4, 3}, {2, 4, 2}}, f: func(x []*Var) *Var { return Square(MatMulTN(x[0], x[1])) }},
		{name: "Linear/batched", shapes: [][]int{{2, 5, 3}, {4, 3}, {4}}, f: func(x []*Var) *Var { return Tanh(Linear(x[0], x[1], x[2])) }},
		{name: "Linear", shapes: [][]int{{5, 3}, {4, 3}, {4}}, f: func(x []*Var) *Var { return Tanh(Linear(x[0], x[1], x[2])) }},
		{name: "Conv2d", shapes: [][]int{{2, 2, 5, 5}, {3, 2, 3, 3}}, f: func(x []*Var) *Var { return Square(Conv2d(x[0], x[1], 1, 1)) }},
		{name: "Conv2d/stride2", shapes: [][]int{{1, 2, 6, 5}, {2, 2, 3, 3}}, f: func(x []*Var) *Var { return Square(Conv2d(x[0], x[1], 2, 0)) }},
		{name: "Solve", shapes: [][]int{{3, 3}, {3, 2}}, f: func(x []*Var) *Var {
			// A = M + 3I keeps the system well conditioned
			eye := tensor.New(tensor.Float64, 3, 3)
			for i := 0; i < 3; i++ {
				eye.Set(3, i, i)
			}
			return Solve(Add(x[0], Const(eye)), x[1])
		}},
		{name: "Solve/batched", shapes: [][]int{{2, 2, 2}, {2, 2, 3}}, f: func(x []*Var) *Var {
			eye := tensor.FromFloat64([]float64{3, 0, 0, 3}, 2, 2)
			return Solve(Add(x[0], Const(eye)), x[1])
		}},
		{name: "MaxPool2d", shapes: [][]int{{2, 2, 4, 4}}, f: func(x []*Var) *Var { return Square(MaxPool2d(x[0], 2, 2, 0)) }},
		{name: "MaxPool2d/pad", shapes: [][]int{{1, 2, 5, 5}}, f: func(x []*Var) *Var { return Square(MaxPool2d(x[0], 3, 2, 1)) }},
		{name: "AvgPool2d", shapes: [][]int{{2, 2, 4, 4}}, f: func(x []*Var) *Var { return Square(AvgPool2d(x[0], 2, 2, 0)) }},
		{name: "AvgPool2d/pad", shapes: [][]int{{1, 1, 5, 5}}, f: func(x []*Var) *Var { return Square(AvgPool2d(x[0], 3, 2, 1)) }},
	}
}

func TestGradCheckOps(t *testing.T) {
	for i, c := range opCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			in := randInputs(rng, c.shapes, c.positive)
			if err := GradCheck(c.f, in, CheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestGradGradCheckOps(t *testing.T) {
	for i, c := range opCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 2))
			in := randInputs(rng, c.shapes, c.positive)
			if err := GradGradCheck(c.f, in, CheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The checker must be able to fail: a deliberately wrong backward is caught.
func TestGradCheckCatchesWrongBackward(t *testing.T) {
	wrong := func(xs []*Var) *Var {
		x := xs[0]
		return record("WrongSquare", tensor.Square(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
			return []*Var{Mul(g, Scale(in[0], 2.01))}
		}, x)
	}
	in := []*tensor.Tensor{tensor.FromFloat64([]float64{1, -2, 3}, 3)}
	if err := GradCheck(wrong, in, CheckOptions{}); err == nil {
		t.Fatal("GradCheck accepted a wrong derivative")
	}
	// right first derivative, wrong second derivative (backward not built
	// from differentiable ops: uses a constant).
	frozen := func(xs []*Var) *Var {
		x := xs[0]
		return record("FrozenSquare", tensor.Square(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
			return []*Var{Mul(g, Const(tensor.Scale(in[0].Value, 2)))}
		}, x)
	}
	if err := GradCheck(frozen, in, CheckOptions{}); err != nil {
		t.Fatalf("first order should pass: %v", err)
	}
	if err := GradGradCheck(frozen, in, CheckOptions{}); err == nil {
		t.Fatal("GradGradCheck accepted a backward that is not differentiable")
	}
}

// f(x) = x^3 has f'(2) = 12 and f”(2) = 12 (the Gorgonia failure case).
func TestThirdPowerDerivatives(t *testing.T) {
	x := Param(tensor.Scalar(tensor.Float64, 2))
	y := Mul(Mul(x, x), x)
	g := Grad([]*Var{y}, []*Var{x}, true)[0]
	if g.Item() != 12 {
		t.Fatalf("f'(2) = %v, want 12", g.Item())
	}
	gg := Grad([]*Var{g}, []*Var{x}, true)[0]
	if gg.Item() != 12 {
		t.Fatalf("f''(2) = %v, want 12", gg.Item())
	}
	ggg := Grad([]*Var{gg}, []*Var{x}, false)[0]
	if ggg.Item() != 6 {
		t.Fatalf("f'''(2) = %v, want 6", ggg.Item())
	}
}

func TestFloat32Gradients(t *testing.T) {
	// Same graph in float32 and float64 agree to float32 precision.
	rng := rand.New(rand.NewPCG(7, 7))
	a64 := tensor.RandN(rng, tensor.Float64, 1, 4, 3)
	b64 := tensor.RandN(rng, tensor.Float64, 1, 3, 2)
	run := func(a, b *tensor.Tensor) []*Var {
		x, y := Param(a), Param(b)
		l := Sum(Tanh(MatMul(x, y)), false)
		return Grad([]*Var{l}, []*Var{x, y}, false)
	}
	g64 := run(a64, b64)
	g32 := run(a64.AsType(tensor.Float32), b64.AsType(tensor.Float32))
	for i := range g64 {
		if d := tensor.MaxAbsDiff(g64[i].Value, g32[i].Value.AsType(tensor.Float64)); d > 1e-5 {
			t.Fatalf("float32 gradient %d differs by %g", i, d)
		}
	}
}

func TestBackwardAccumulatesAndUnusedIsZero(t *testing.T) {
	x := Param(tensor.FromFloat64([]float64{1, 2}, 2))
	unused := Param(tensor.FromFloat64([]float64{5}, 1))
	for i := 0; i < 2; i++ {
		Sum(Square(x), false).Backward()
	}
	want := []float64{4, 8} // two backward passes of 2x
	for i, w := range want {
		if x.Grad.Flat(i) != w {
			t.Fatalf("accumulated grad %v, want %v", x.Grad, want)
		}
	}
	if unused.Grad != nil {
		t.Fatal("unused parameter received a gradient")
	}
	g := Grad([]*Var{Sum(x, false)}, []*Var{unused}, false)[0]
	if g.Value.Flat(0) != 0 || g.RequiresGrad() {
		t.Fatalf("unused gradient = %v", g)
	}
	x.ZeroGrad()
	if x.Grad != nil {
		t.Fatal("ZeroGrad did not clear")
	}
}

func TestNoGradAndDetach(t *testing.T) {
	x := Param(tensor.FromFloat64([]float64{1, 2}, 2))
	var y *Var
	NoGrad(func() { y = Square(x) })
	if y.RequiresGrad() || !y.IsLeaf() {
		t.Fatal("op under NoGrad recorded a graph")
	}
	if !GradEnabled() {
		t.Fatal("NoGrad did not restore recording")
	}
	z := Mul(x.Detach(), x)
	g := Grad([]*Var{Sum(z, false)}, []*Var{x}, false)[0]
	// d/dx (c*x) with c = x detached = c
	if g.Value.Flat(0) != 1 || g.Value.Flat(1) != 2 {
		t.Fatalf("detach gradient %v", g.Value)
	}
	// first-order Grad returns constants (no graph kept)
	if g.RequiresGrad() {
		t.Fatal("createGraph=false returned a gradient that requires grad")
	}
}

// Repeated training steps must not retain graphs: heap use stays flat.
func TestNoLeakAcrossSteps(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	w := Param(tensor.RandN(rng, tensor.Float32, 0.1, 64, 64))
	x := Const(tensor.RandN(rng, tensor.Float32, 1, 32, 64))
	step := func() {
		h := Tanh(MatMul(x, w))
		l := Mean(Square(MatMul(h, w)), false)
		gs := Grad([]*Var{l}, []*Var{w}, true)
		meta := Sum(Square(gs[0]), false)
		meta.Backward()
		w.ZeroGrad()
	}
	for i := 0; i < 20; i++ {
		step()
	}
	before := heapInUse()
	for i := 0; i < 200; i++ {
		step()
	}
	after := heapInUse()
	// Each step allocates ~1 MB of graph; 200 retained steps would be
	// ~200 MB. Allow generous slack for GC timing.
	if after > before+16<<20 {
		t.Fatalf("heap grew from %d to %d bytes over 200 steps", before, after)
	}
}
