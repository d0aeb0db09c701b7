package autodiff

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

type attnCase struct {
	name                string
	b, h, tq, tk, d, dv int
	opt                 AttentionOptions
}

// attnCases cover padding masks with ragged lengths (one of them 0: a
// batch entry whose rows see no key), causal masks with Tq = Tk and
// Tq < Tk (decoding with a cache), dropout, Dv != D, and lengths that
// cross the kernels' query and key blocks, and single queries
// (incremental decoding, where the forward pass reads the keys in place).
func attnCases() []attnCase {
	return []attnCase{
		{name: "plain", b: 2, h: 2, tq: 5, tk: 5, d: 4, dv: 4},
		{name: "cross/Tq!=Tk/Dv", b: 2, h: 3, tq: 3, tk: 7, d: 4, dv: 5},
		{name: "key-lengths", b: 3, h: 2, tq: 4, tk: 6, d: 3, dv: 3, opt: AttentionOptions{KeyLengths: []int{6, 2, 0}}},
		{name: "causal", b: 2, h: 2, tq: 6, tk: 6, d: 4, dv: 3, opt: AttentionOptions{Causal: true}},
		{name: "causal/Tq<Tk", b: 2, h: 1, tq: 3, tk: 7, d: 4, dv: 4, opt: AttentionOptions{Causal: true}},
		{name: "causal/Tq>Tk", b: 1, h: 2, tq: 6, tk: 3, d: 4, dv: 4, opt: AttentionOptions{Causal: true}},
		{name: "causal+lengths", b: 3, h: 2, tq: 5, tk: 5, d: 3, dv: 4, opt: AttentionOptions{Causal: true, KeyLengths: []int{5, 3, 1}}},
		{name: "dropout", b: 2, h: 2, tq: 4, tk: 6, d: 4, dv: 4, opt: AttentionOptions{Dropout: 0.3, Seed: 7}},
		{name: "dropout+causal+lengths+scale", b: 2, h: 2, tq: 5, tk: 5, d: 4, dv: 2, opt: AttentionOptions{Dropout: 0.25, Seed: 99, Causal: true, KeyLengths: []int{4, 5}, Scale: 0.7}},
		{name: "blocks", b: 1, h: 2, tq: 70, tk: 150, d: 8, dv: 6, opt: AttentionOptions{KeyLengths: []int{139}}},
		{name: "decode/Tq=1", b: 2, h: 2, tq: 1, tk: 300, d: 8, dv: 5, opt: AttentionOptions{Causal: true, KeyLengths: []int{300, 141}}},
		{name: "decode/Tq=1/small", b: 3, h: 1, tq: 1, tk: 6, d: 4, dv: 3, opt: AttentionOptions{Causal: true, KeyLengths: []int{6, 2, 0}}},
		{name: "blocks/causal+dropout", b: 2, h: 1, tq: 130, tk: 140, d: 5, dv: 7, opt: AttentionOptions{Causal: true, KeyLengths: []int{140, 77}, Dropout: 0.1, Seed: 3}},
	}
}

func attnInputs(rng *rand.Rand, c attnCase, dt tensor.DType) []*tensor.Tensor {
	return []*tensor.Tensor{
		tensor.RandN(rng, dt, 1, c.b, c.h, c.tq, c.d),
		tensor.RandN(rng, dt, 1, c.b, c.h, c.tk, c.d),
		tensor.RandN(rng, dt, 1, c.b, c.h, c.tk, c.dv),
	}
}

// The fused operation gives the composite's values and gradients (of q,
// k and v, for a random output gradient) in float64 and float32, with the
// same dropout mask both ways, and zero rows (not NaN) for queries that
// see no key.
func TestAttentionMatchesComposite(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 2e-5
		}
		for ci, c := range attnCases() {
			t.Run(dt.String()+"/"+c.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(ci), 17))
				in := attnInputs(rng, c, dt)
				seed := tensor.RandN(rng, dt, 1, c.b, c.h, c.tq, c.dv)
				run := func(f func(q, k, v *Var, o AttentionOptions) *Var) []*tensor.Tensor {
					xs := params(in)
					y := f(xs[0], xs[1], xs[2], c.opt)
					gs := GradWithSeeds([]*Var{y}, []*Var{Const(seed)}, xs, false)
					return []*tensor.Tensor{y.Value, gs[0].Value, gs[1].Value, gs[2].Value}
				}
				got, want := run(Attention), run(AttentionComposite)
				for i := range got {
					for j := 0; j < got[i].Len(); j++ {
						if math.IsNaN(got[i].Flat(j)) {
							t.Fatalf("result %d element %d is NaN", i, j)
						}
					}
					scale := 1.0
					for j := 0; j < want[i].Len(); j++ {
						scale = max(scale, math.Abs(want[i].Flat(j)))
					}
					if d := tensor.MaxAbsDiff(got[i], want[i]); d > tol*scale {
						t.Errorf("result %d (0: output, 1-3: dq, dk, dv) differs by %g (scale %g)", i, d, scale)
					}
				}
				if c.opt.KeyLengths != nil {
					for b, n := range c.opt.KeyLengths {
						if n != 0 {
							continue
						}
						for j := 0; j < c.h*c.tq*c.dv; j++ {
							if v := got[0].Flat(b*c.h*c.tq*c.dv + j); v != 0 {
								t.Fatalf("batch entry %d sees no key but its output has %v", b, v)
							}
						}
					}
				}
			})
		}
	}
}

// First and second order against central differences (float64), through
// the fused operation: the first-order check uses the fused backward, the
// second-order check the composite backward built when a graph of the
// gradient is needed (and the fused backward in the finite differences).
func TestAttentionGradCheck(t *testing.T) {
	for ci, c := range attnCases() {
		if c.tq*c.tk > 64 {
			continue // the block-crossing cases are covered by the comparison with the composite
		}
		f := func(x []*Var) *Var { return Attention(x[0], x[1], x[2], c.opt) }
		// squared, so the second derivatives involve every input pair
		f2 := func(x []*Var) *Var { return Square(Attention(x[0], x[1], x[2], c.opt)) }
		t.Run(c.name, func(t *testing.T) {
			in := attnInputs(rand.New(rand.NewPCG(uint64(ci), 23)), c, tensor.Float64)
			if err := GradCheck(f, in, CheckOptions{}); err != nil {
				t.Fatal("first order:", err)
			}
			if err := GradGradCheck(f2, in, CheckOptions{}); err != nil {
				t.Fatal("second order:", err)
			}
		})
	}
}

// The key-length mask makes keys past a length irrelevant: changing them
// changes neither the output nor the query gradients, and their own
// gradients are zero.
func TestAttentionIgnoresPaddedKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	c := attnCase{b: 2, h: 2, tq: 3, tk: 6, d: 4, dv: 4, opt: AttentionOptions{KeyLengths: []int{4, 6}}}
	in := attnInputs(rng, c, tensor.Float64)
	run := func(in []*tensor.Tensor) []*tensor.Tensor {
		xs := params(in)
		y := Attention(xs[0], xs[1], xs[2], c.opt)
		gs := Grad([]*Var{Sum(Square(y), false)}, xs, false)
		return []*tensor.Tensor{y.Value, gs[0].Value, gs[1].Value, gs[2].Value}
	}
	a := run(in)
	in2 := []*tensor.Tensor{in[0], in[1].Clone(), in[2].Clone()}
	for h := 0; h < 2; h++ {
		for j := 4; j < 6; j++ {
			for d := 0; d < 4; d++ {
				in2[1].Set(100, 0, h, j, d)
				in2[2].Set(-50, 0, h, j, d)
			}
		}
	}
	b := run(in2)
	for i := 0; i < 2; i++ {
		if d := tensor.MaxAbsDiff(a[i], b[i]); d > 1e-12 {
			t.Errorf("result %d changed by %g when padded keys changed", i, d)
		}
	}
	for _, g := range a[2:] {
		for h := 0; h < 2; h++ {
			for j := 4; j < 6; j++ {
				for d := 0; d < 4; d++ {
					if v := g.At(0, h, j, d); v != 0 {
						t.Fatalf("padded key %d has gradient %v", j, v)
					}
				}
			}
		}
	}
}

// The fused forward and backward never hold a [Tq, Tk] score matrix:
// their allocations grow linearly with the length. At T = 512 the score
// matrix of one head alone would be 1 MiB (float32), 64 times its size at
// T = 64; the fused passes' allocations grow by about 8 (T) instead.
func TestAttentionMemoryLinear(t *testing.T) {
	alloc := func(T int) float64 {
		rng := rand.New(rand.NewPCG(1, uint64(T)))
		q := Param(tensor.RandN(rng, tensor.Float32, 1, 1, 2, T, 16))
		k := Param(tensor.RandN(rng, tensor.Float32, 1, 1, 2, T, 16))
		v := Param(tensor.RandN(rng, tensor.Float32, 1, 1, 2, T, 16))
		opt := AttentionOptions{Causal: true, Dropout: 0.1, Seed: 1}
		step := func() {
			y := Attention(q, k, v, opt)
			Grad([]*Var{y}, []*Var{q, k, v}, false)
		}
		step() // warm the scratch pools
		var before, after runtime.MemStats
		const runs = 4
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := 0; i < runs; i++ {
			step()
		}
		runtime.ReadMemStats(&after)
		return float64(after.TotalAlloc-before.TotalAlloc) / runs
	}
	small, large := alloc(64), alloc(512)
	quad := float64(2 * 512 * 512 * 4) // the float32 scores of both heads at T = 512
	t.Logf("bytes allocated per forward+backward: T=64 %.0f, T=512 %.0f (scores alone would be %.0f)", small, large, quad)
	if large > 16*small {
		t.Errorf("allocations grew %.1fx from T=64 to T=512 (linear: 8x, quadratic: 64x)", large/small)
	}
	if large > quad/2 {
		t.Errorf("T=512 allocated %.0f bytes, comparable to the score matrix (%.0f)", large, quad)
	}
}

func TestAttentionBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	q := Const(tensor.RandN(rng, tensor.Float32, 1, 2, 1, 3, 4))
	k := Const(tensor.RandN(rng, tensor.Float32, 1, 2, 1, 5, 4))
	cases := []struct {
		name string
		f    func()
	}{
		{"key length too long", func() { Attention(q, k, k, AttentionOptions{KeyLengths: []int{5, 6}}) }},
		{"key lengths count", func() { Attention(q, k, k, AttentionOptions{KeyLengths: []int{5}}) }},
		{"dropout", func() { Attention(q, k, k, AttentionOptions{Dropout: 1}) }},
		{"D mismatch", func() { Attention(q, Const(tensor.New(tensor.Float32, 2, 1, 5, 3)), k, AttentionOptions{}) }},
		{"rank", func() { Attention(Reshape(q, 2, 3, 4), k, k, AttentionOptions{}) }},
		{"composite", func() { AttentionComposite(q, k, k, AttentionOptions{KeyLengths: []int{-1, 2}}) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Fatal("no panic")
				} else {
					t.Log(r)
				}
			}()
			c.f()
		})
	}
}

func BenchmarkAttention(b *testing.B) {
	// the Transformer workloads' shape: batch 64, 4 heads, 24 tokens, head size 64
	rng := rand.New(rand.NewPCG(1, 2))
	shape := []int{64, 4, 24, 64}
	q := Param(tensor.RandN(rng, tensor.Float32, 1, shape...))
	k := Param(tensor.RandN(rng, tensor.Float32, 1, shape...))
	v := Param(tensor.RandN(rng, tensor.Float32, 1, shape...))
	lengths := make([]int, 64)
	for i := range lengths {
		lengths[i] = 12 + i%13
	}
	for _, bc := range []struct {
		name string
		opt  AttentionOptions
	}{
		{"self/lengths", AttentionOptions{KeyLengths: lengths}},
		{"causal/dropout", AttentionOptions{Causal: true, Dropout: 0.1, Seed: 1}},
	} {
		b.Run(bc.name+"/fused", func(b *testing.B) {
			for b.Loop() {
				y := Attention(q, k, v, bc.opt)
				Grad([]*Var{y}, []*Var{q, k, v}, false)
			}
		})
		b.Run(bc.name+"/composite", func(b *testing.B) {
			for b.Loop() {
				y := AttentionComposite(q, k, v, bc.opt)
				Grad([]*Var{y}, []*Var{q, k, v}, false)
			}
		})
	}
}

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

// BenchmarkAttentionDecodeStep: one step of incremental decoding, a
// single query per sentence against 24 cached keys (batch 64, 4 heads,
// head size 64), forward only.
func BenchmarkAttentionDecodeStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 3))
	q := Const(tensor.RandN(rng, tensor.Float32, 1, 64, 4, 1, 64))
	k := Const(tensor.RandN(rng, tensor.Float32, 1, 64, 4, 24, 64))
	v := Const(tensor.RandN(rng, tensor.Float32, 1, 64, 4, 24, 64))
	for b.Loop() {
		Attention(q, k, v, AttentionOptions{Causal: true})
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
