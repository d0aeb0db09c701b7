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
