package autodiff

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

// Tests of the fused sequence operations besides attention: each against
// central differences (first and second order, float64) and against its
// composite (values and gradients, float32 and float64).

// The fused GRU gates: first and second order, and equal to the composite
// in float32 and float64.
func TestGRUCell(t *testing.T) {
	shapes := [][]int{{3, 12}, {3, 12}, {3, 4}}
	in := randInputs(rand.New(rand.NewPCG(9, 9)), shapes, false)
	f := func(x []*Var) *Var { return Square(GRUCell(x[0], x[1], x[2])) }
	if err := GradCheck(f, in, CheckOptions{}); err != nil {
		t.Fatal("first order:", err)
	}
	if err := GradGradCheck(f, in, CheckOptions{}); err != nil {
		t.Fatal("second order:", err)
	}
	for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
		rng := rand.New(rand.NewPCG(10, 10))
		// 37 units: the AVX-512 paths and their scalar tails
		xs := []*Var{Param(tensor.RandN(rng, dt, 2, 5, 111)), Param(tensor.RandN(rng, dt, 2, 5, 111)), Param(tensor.RandN(rng, dt, 1, 5, 37))}
		seed := Const(tensor.RandN(rng, dt, 1, 5, 37))
		tol := 1e-14
		if dt == tensor.Float32 {
			tol = 2e-6
		}
		var res [2][]*tensor.Tensor
		for i, op := range []func(a, b, c *Var) *Var{GRUCell, GRUCellComposite} {
			y := op(xs[0], xs[1], xs[2])
			gs := GradWithSeeds([]*Var{y}, []*Var{seed}, xs, false)
			res[i] = []*tensor.Tensor{y.Value, gs[0].Value, gs[1].Value, gs[2].Value}
		}
		for i := range res[0] {
			if d := tensor.MaxAbsDiff(res[0][i], res[1][i]); d > tol {
				t.Errorf("%v: result %d differs from the composite by %g", dt, i, d)
			}
		}
	}
}

// The fused GRU recurrence: first and second order with ragged lengths
// (one of them 0) and without, and equal to the step-by-step composite in
// values and gradients of all four inputs.
func TestGRUSequence(t *testing.T) {
	for ci, lengths := range [][]int{nil, {4, 1, 0}, {2, 4, 3}} {
		const T, B, H = 4, 3, 2
		shapes := [][]int{{T, B, 3 * H}, {3 * H, H}, {3 * H}, {B, H}}
		in := randInputs(rand.New(rand.NewPCG(uint64(ci), 19)), shapes, false)
		f := func(x []*Var) *Var { return Square(GRUSequence(x[0], x[1], x[2], x[3], lengths)) }
		if err := GradCheck(f, in, CheckOptions{}); err != nil {
			t.Fatal(lengths, "first order:", err)
		}
		if err := GradGradCheck(f, in, CheckOptions{}); err != nil {
			t.Fatal(lengths, "second order:", err)
		}
	}
	for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
		rng := rand.New(rand.NewPCG(20, 20))
		const T, B, H = 6, 5, 37
		lengths := []int{6, 3, 0, 1, 5}
		xs := []*Var{Param(tensor.RandN(rng, dt, 1, T, B, 3*H)), Param(tensor.RandN(rng, dt, 0.2, 3*H, H)), Param(tensor.RandN(rng, dt, 0.5, 3*H)), Param(tensor.RandN(rng, dt, 1, B, H))}
		seed := Const(tensor.RandN(rng, dt, 1, T, B, H))
		tol := 1e-13
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		var res [2][]*tensor.Tensor
		for i, op := range []func(a, b, c, d *Var, l []int) *Var{GRUSequence, GRUSequenceComposite} {
			y := op(xs[0], xs[1], xs[2], xs[3], lengths)
			gs := GradWithSeeds([]*Var{y}, []*Var{seed}, xs, false)
			res[i] = []*tensor.Tensor{y.Value, gs[0].Value, gs[1].Value, gs[2].Value, gs[3].Value}
		}
		for i := range res[0] {
			if d := tensor.MaxAbsDiff(res[0][i], res[1][i]); d > tol {
				t.Errorf("%v: result %d differs from the composite by %g", dt, i, d)
			}
		}
	}
}

// The fused LayerNorm: first and second order (with and without the
// affine parameters), and equal to the composite in float32 and float64.
func TestLayerNormFused(t *testing.T) {
	cases := []struct {
		name   string
		shapes [][]int
		f      func(x []*Var) *Var
	}{
		{"affine", [][]int{{2, 3, 5}, {5}, {5}}, func(x []*Var) *Var { return Square(LayerNorm(x[0], x[1], x[2], 1e-5)) }},
		{"plain", [][]int{{4, 6}}, func(x []*Var) *Var { return Square(LayerNorm(x[0], nil, nil, 1e-3)) }},
		{"gamma-only", [][]int{{3, 4}, {4}}, func(x []*Var) *Var { return Mul(LayerNorm(x[0], x[1], nil, 1e-5), x[0]) }},
	}
	for i, c := range cases {
		in := randInputs(rand.New(rand.NewPCG(uint64(i), 27)), c.shapes, false)
		if err := GradCheck(c.f, in, CheckOptions{}); err != nil {
			t.Fatal(c.name, "first order:", err)
		}
		if err := GradGradCheck(c.f, in, CheckOptions{}); err != nil {
			t.Fatal(c.name, "second order:", err)
		}
	}
	for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
		rng := rand.New(rand.NewPCG(28, 28))
		xs := []*Var{Param(tensor.RandN(rng, dt, 2, 7, 5, 67)), Param(tensor.RandN(rng, dt, 1, 67)), Param(tensor.RandN(rng, dt, 1, 67))}
		seed := Const(tensor.RandN(rng, dt, 1, 7, 5, 67))
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 2e-5
		}
		var res [2][]*tensor.Tensor
		for i, op := range []func(a, b, c *Var, eps float64) *Var{LayerNorm, LayerNormComposite} {
			y := op(xs[0], xs[1], xs[2], 1e-5)
			gs := GradWithSeeds([]*Var{y}, []*Var{seed}, xs, false)
			res[i] = []*tensor.Tensor{y.Value, gs[0].Value, gs[1].Value, gs[2].Value}
		}
		for i := range res[0] {
			if d := tensor.MaxAbsDiff(res[0][i], res[1][i]); d > tol {
				t.Errorf("%v: result %d differs from the composite by %g", dt, i, d)
			}
		}
	}
}

// The fused LSTM recurrence, as TestGRUSequence.
func TestLSTMSequence(t *testing.T) {
	for ci, lengths := range [][]int{nil, {4, 1, 0}, {2, 4, 3}} {
		const T, B, H = 4, 3, 2
		shapes := [][]int{{T, B, 4 * H}, {4 * H, H}, {4 * H}, {B, H}, {B, H}}
		in := randInputs(rand.New(rand.NewPCG(uint64(ci), 29)), shapes, false)
		f := func(x []*Var) *Var { return Square(LSTMSequence(x[0], x[1], x[2], x[3], x[4], lengths)) }
		if err := GradCheck(f, in, CheckOptions{}); err != nil {
			t.Fatal(lengths, "first order:", err)
		}
		if err := GradGradCheck(f, in, CheckOptions{}); err != nil {
			t.Fatal(lengths, "second order:", err)
		}
	}
	for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
		rng := rand.New(rand.NewPCG(30, 30))
		const T, B, H = 6, 5, 37
		lengths := []int{6, 3, 0, 1, 5}
		xs := []*Var{Param(tensor.RandN(rng, dt, 1, T, B, 4*H)), Param(tensor.RandN(rng, dt, 0.2, 4*H, H)), Param(tensor.RandN(rng, dt, 0.5, 4*H)),
			Param(tensor.RandN(rng, dt, 1, B, H)), Param(tensor.RandN(rng, dt, 1, B, H))}
		seed := Const(tensor.RandN(rng, dt, 1, 2, T, B, H))
		tol := 1e-13
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		var res [2][]*tensor.Tensor
		for i, op := range []func(a, b, c, d, e *Var, l []int) *Var{LSTMSequence, LSTMSequenceComposite} {
			y := op(xs[0], xs[1], xs[2], xs[3], xs[4], lengths)
			gs := GradWithSeeds([]*Var{y}, []*Var{seed}, xs, false)
			res[i] = []*tensor.Tensor{y.Value, gs[0].Value, gs[1].Value, gs[2].Value, gs[3].Value, gs[4].Value}
		}
		for i := range res[0] {
			if d := tensor.MaxAbsDiff(res[0][i], res[1][i]); d > tol {
				t.Errorf("%v: result %d differs from the composite by %g", dt, i, d)
			}
		}
	}
}

// A Var passed to a fused operation more than once (self-attention on x
// itself, LSTM states h0 = c0) gets its gradient once per use to first
// order and once in all to second order (localGrad's graph-building
// backward).
func TestFusedRepeatedInputs(t *testing.T) {
	cases := []struct {
		name   string
		shapes [][]int
		f      func(x []*Var) *Var
	}{
		{"Attention(x,x,x)", [][]int{{2, 1, 3, 4}}, func(x []*Var) *Var {
			return Square(Attention(x[0], x[0], x[0], AttentionOptions{KeyLengths: []int{3, 2}}))
		}},
		{"LSTMSequence(h0=c0)", [][]int{{3, 2, 8}, {8, 2}, {8}, {2, 2}}, func(x []*Var) *Var {
			return Square(LSTMSequence(x[0], x[1], x[2], x[3], x[3], []int{3, 1}))
		}},
		{"LayerNorm(x,g,g)", [][]int{{3, 4}, {4}}, func(x []*Var) *Var { return Square(LayerNorm(x[0], x[1], x[1], 1e-5)) }},
	}
	for i, c := range cases {
		in := randInputs(rand.New(rand.NewPCG(uint64(i), 33)), c.shapes, false)
		if err := GradCheck(c.f, in, CheckOptions{}); err != nil {
			t.Fatal(c.name, "first order:", err)
		}
		if err := GradGradCheck(c.f, in, CheckOptions{}); err != nil {
			t.Fatal(c.name, "second order:", err)
		}
	}
}

// The fused GELU: first, second and third order (the backward's backward
// is composite), and equal to the composite.
func TestGELUFused(t *testing.T) {
	in := randInputs(rand.New(rand.NewPCG(34, 34)), [][]int{{3, 5}}, false)
	in[0] = tensor.Scale(in[0], 2)
	f := func(x []*Var) *Var { return Mul(GELU(x[0]), x[0]) }
	if err := GradCheck(f, in, CheckOptions{}); err != nil {
		t.Fatal("first order:", err)
	}
	if err := GradGradCheck(f, in, CheckOptions{}); err != nil {
		t.Fatal("second order:", err)
	}
	// third order: the second-order gradient's own gradient
	third := func(x []*Var) *Var {
		// through a Var that requires gradients also when the checker
		// evaluates f on constants
		xx := Add(x[0], Param(tensor.ZerosLike(x[0].Value)))
		g := Grad([]*Var{Sum(GELU(xx), false)}, []*Var{xx}, true)[0]
		return Grad([]*Var{Sum(Square(g), false)}, []*Var{xx}, true)[0]
	}
	if err := GradCheck(third, in, CheckOptions{}); err != nil {
		t.Fatal("third order:", err)
	}
	for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
		x := Param(tensor.Scale(tensor.RandN(rand.New(rand.NewPCG(35, 35)), dt, 1, 4, 33), 3))
		a, b := GELU(x), GELUComposite(x)
		ga := Grad([]*Var{Sum(Square(a), false)}, []*Var{x}, false)[0]
		gb := Grad([]*Var{Sum(Square(b), false)}, []*Var{x}, false)[0]
		tol := 1e-14
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		if d := tensor.MaxAbsDiff(a.Value, b.Value) + tensor.MaxAbsDiff(ga.Value, gb.Value); d > tol {
			t.Errorf("%v: fused GELU differs from the composite by %g", dt, d)
		}
	}
}

// BenchmarkLayerNorm: the Transformer workloads' activations, 64 x 24
// tokens of 256 features, forward and backward, fused vs composite.
func BenchmarkLayerNorm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 4))
	x := Param(tensor.RandN(rng, tensor.Float32, 1, 64, 24, 256))
	g, bb := Param(tensor.RandU(rng, tensor.Float32, 0.5, 1.5, 256)), Param(tensor.RandN(rng, tensor.Float32, 0.1, 256))
	for _, c := range []struct {
		name string
		f    func(x, g, b *Var, eps float64) *Var
	}{{"fused", LayerNorm}, {"composite", LayerNormComposite}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				y := c.f(x, g, bb, 1e-5)
				Grad([]*Var{y}, []*Var{x, g, bb}, false)
			}
		})
	}
}

// Dropout from a hashed mask: about p of the elements dropped, the rest
// scaled by 1/(1-p), the same mask for the same seed, and first and
// second order (a fixed linear map).
func TestDropoutHashed(t *testing.T) {
	x := Const(tensor.Ones(tensor.Float32, 20000))
	for _, p := range []float64{0.1, 0.5} {
		a, b := Dropout(x, p, 3), Dropout(x, p, 3)
		c := Dropout(x, p, 4)
		if tensor.MaxAbsDiff(a.Value, b.Value) != 0 || tensor.MaxAbsDiff(a.Value, c.Value) == 0 {
			t.Fatalf("p=%v: the mask is not a fixed function of the seed", p)
		}
		dropped := 0
		for i := 0; i < a.Value.Len(); i++ {
			switch v := a.Value.Flat(i); {
			case v == 0:
				dropped++
			case math.Abs(v-1/(1-p)) > 1e-6:
				t.Fatalf("p=%v: kept value %v", p, v)
			}
		}
		if f := float64(dropped) / 20000; math.Abs(f-p) > 0.015 {
			t.Fatalf("p=%v: dropped %.3f", p, f)
		}
	}
	in := randInputs(rand.New(rand.NewPCG(36, 36)), [][]int{{4, 6}}, false)
	f := func(x []*Var) *Var { return Square(Dropout(Mul(x[0], x[0]), 0.3, 9)) }
	if err := GradCheck(f, in, CheckOptions{}); err != nil {
		t.Fatal("first order:", err)
	}
	if err := GradGradCheck(f, in, CheckOptions{}); err != nil {
		t.Fatal("second order:", err)
	}
}

// BenchmarkGELU: the feed-forward activations of the Transformer
// workloads (64 x 24 tokens, 1024 units), forward and backward.
func BenchmarkGELU(b *testing.B) {
	x := Param(tensor.RandN(rand.New(rand.NewPCG(1, 5)), tensor.Float32, 1, 1536, 1024))
	for _, c := range []struct {
		name string
		f    func(*Var) *Var
	}{{"fused", GELU}, {"composite", GELUComposite}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				Grad([]*Var{c.f(x)}, []*Var{x}, false)
			}
		})
	}
}
