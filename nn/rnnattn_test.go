package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// Bahdanau and Luong attention: weights by hand for one query, zero
// weights and context where keys are padded or absent, first and second
// order with ragged lengths.
func TestRNNAttention(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 31))
	const B, Tk, D, A = 3, 4, 3, 5
	lengths := []int{4, 2, 0}
	add := NewAdditiveAttention(r, D, D, A)
	gen := NewLuongAttention(r, D, D, true)
	dot := NewLuongAttention(r, D, D, false)
	for _, m := range []interface{ Params() []Param }{add, gen} {
		for _, p := range m.Params() {
			p.V.Value = p.V.Value.AsType(tensor.Float64)
		}
	}
	vars := func(m interface{ Params() []Param }) []*autodiff.Var {
		var vs []*autodiff.Var
		for _, p := range m.Params() {
			vs = append(vs, p.V)
		}
		return vs
	}
	q := tensor.RandN(r, tensor.Float64, 1, B, D)
	k := tensor.RandN(r, tensor.Float64, 1, B, Tk, D)
	v := tensor.RandN(r, tensor.Float64, 1, B, Tk, 2)
	cases := []struct {
		name  string
		w     []*autodiff.Var
		run   func(w []*autodiff.Var, q, k, v *autodiff.Var) (*autodiff.Var, *autodiff.Var)
		score func(b, j int) float64
	}{
		{"bahdanau", vars(add), func(w []*autodiff.Var, q, k, v *autodiff.Var) (*autodiff.Var, *autodiff.Var) {
			return add.Attend(w, q, add.ProjectKeys(w, k), v, lengths)
		}, func(b, j int) float64 {
			s := 0.0
			for a := 0; a < A; a++ {
				e := 0.0
				for d := 0; d < D; d++ {
					e += add.Query.Value.At(a, d)*q.At(b, d) + add.Key.Value.At(a, d)*k.At(b, j, d)
				}
				s += add.V.Value.Flat(a) * math.Tanh(e)
			}
			return s
		}},
		{"luong-general", vars(gen), func(w []*autodiff.Var, q, k, v *autodiff.Var) (*autodiff.Var, *autodiff.Var) {
			return gen.Attend(w, q, k, v, lengths)
		}, func(b, j int) float64 {
			s := 0.0
			for i := 0; i < D; i++ {
				for d := 0; d < D; d++ {
					s += q.At(b, i) * gen.Weight.Value.At(i, d) * k.At(b, j, d)
				}
			}
			return s
		}},
		{"luong-dot", nil, func(w []*autodiff.Var, q, k, v *autodiff.Var) (*autodiff.Var, *autodiff.Var) {
			return dot.Attend(w, q, k, v, lengths)
		}, func(b, j int) float64 {
			s := 0.0
			for d := 0; d < D; d++ {
				s += q.At(b, d) * k.At(b, j, d)
			}
			return s
		}},
	}
	for _, c := range cases {
		ctx, w := c.run(c.w, autodiff.Const(q), autodiff.Const(k), autodiff.Const(v))
		for b := 0; b < B; b++ {
			z := 0.0
			for j := 0; j < lengths[b]; j++ {
				z += math.Exp(c.score(b, j))
			}
			for j := 0; j < Tk; j++ {
				want := 0.0
				if j < lengths[b] {
					want = math.Exp(c.score(b, j)) / z
				}
				if got := w.Value.At(b, j); math.Abs(got-want) > 1e-12 {
					t.Fatalf("%s: weight (%d,%d) = %v, want %v", c.name, b, j, got, want)
				}
			}
		}
		for d := 0; d < 2; d++ {
			if ctx.Value.At(2, d) != 0 {
				t.Fatalf("%s: a sequence without keys has context %v", c.name, ctx.Value.At(2, d))
			}
		}
		f := func(xs []*autodiff.Var) *autodiff.Var {
			ctx, _ := c.run(xs[3:], xs[0], xs[1], xs[2])
			return autodiff.Square(ctx)
		}
		in := []*tensor.Tensor{q, k, v}
		for _, p := range c.w {
			in = append(in, p.Value)
		}
		for _, ch := range bothChecks {
			if err := ch.f(f, in, autodiff.CheckOptions{}); err != nil {
				t.Fatal(c.name, ch.name, err)
			}
		}
	}
	// Luong's dot score is the fused attention with one head and one query
	ctx, _ := dot.Attend(nil, autodiff.Const(q), autodiff.Const(k), autodiff.Const(v), lengths)
	fused := autodiff.Attention(autodiff.Const(tensor.Reshape(q, B, 1, 1, D)), autodiff.Const(tensor.Reshape(k, B, 1, Tk, D)),
		autodiff.Const(tensor.Reshape(v, B, 1, Tk, 2)), autodiff.AttentionOptions{Scale: 1, KeyLengths: lengths})
	if d := tensor.MaxAbsDiff(ctx.Value, tensor.Reshape(fused.Value, B, 2)); d > 1e-12 {
		t.Fatalf("Luong dot attention differs from the fused attention by %g", d)
	}
	mustPanic(t, "key length 5", func() { dot.Attend(nil, autodiff.Const(q), autodiff.Const(k), autodiff.Const(v), []int{5, 1, 1}) })
}
