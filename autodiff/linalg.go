package autodiff

import (
	"fmt"

	"github.com/metalearn/metalearn/tensor"
)

// MatMul returns the matrix product with the shapes tensor.MatMul accepts:
// [m,k]x[k,n], [...,m,k]x[k,n] (shared right operand) and batched
// [...,m,k]x[...,k,n].
func MatMul(a, b *Var) *Var {
	return record("MatMul", tensor.MatMul(a.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		if needs[0] {
			r[0] = MatMulNT(g, in[1]) // g b^T
		}
		if needs[1] {
			r[1] = MatMulTN(flattenBatch(in[0], in[1]), flattenBatch(g, in[1])) // a^T g
		}
		return r
	}, a, b)
}

// flattenBatch reshapes a batched operand x [..., r, c] to [-1, c] when
// the other operand is a 2-D matrix shared across the batch, so that the
// shared operand's gradient sums over the batch in one product.
func flattenBatch(x, shared *Var) *Var {
	if len(shared.Shape()) == 2 && len(x.Shape()) > 2 {
		s := x.Shape()
		return Reshape(x, -1, s[len(s)-1])
	}
	return x
}

// MatMulNT returns a @ b^T (transposing b's last two axes) without
// materialising the transpose: a [..., m,k] and b [n,k] (shared) or
// [..., n,k]. The three products NN, NT and TN are each other's
// derivatives, so the set is closed under differentiation:
//
//	C = A B^T:  dA = dC B,    dB = dC^T A
//	C = A^T B:  dA = B dC^T,  dB = A dC
func MatMulNT(a, b *Var) *Var {
	return record("MatMulNT", tensor.MatMulNT(a.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		if needs[0] {
			r[0] = MatMul(g, in[1])
		}
		if needs[1] {
			r[1] = MatMulTN(flattenBatch(g, in[1]), flattenBatch(in[0], in[1]))
		}
		return r
	}, a, b)
}

// MatMulTN returns a^T @ b (transposing a's last two axes) without
// materialising the transpose: a [..., k,m], b [..., k,n] with the same
// batch axes.
func MatMulTN(a, b *Var) *Var {
	return record("MatMulTN", tensor.MatMulTN(a.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		if needs[0] {
			r[0] = MatMulNT(in[1], g)
		}
		if needs[1] {
			r[1] = MatMul(in[0], g)
		}
		return r
	}, a, b)
}

// Linear returns x @ w^T + b for x [..., in], w [out, in] and b [out] (b may
// be nil), the layout of torch.nn.Linear.
func Linear(x, w, b *Var) *Var {
	if len(w.Shape()) != 2 || x.Shape()[len(x.Shape())-1] != w.Shape()[1] {
		panic(fmt.Sprintf("autodiff: Linear: input %v does not match weight %v", x.Shape(), w.Shape()))
	}
	if b == nil {
		return MatMulNT(x, w)
	}
	// one operation: the bias is added in place, and the backward is
	// MatMulNT's plus the bias gradient (the same numbers as
	// Add(MatMulNT(x, w), b))
	return record("Linear", tensor.Linear(x.Value, w.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 3)
		if needs[0] {
			r[0] = MatMul(g, in[1])
		}
		if needs[1] {
			r[1] = MatMulTN(flattenBatch(g, in[1]), flattenBatch(in[0], in[1]))
		}
		if needs[2] {
			r[2] = SumTo(g, in[2].Shape())
		}
		return r
	}, x, w, b)
}

// Solve returns X with A X = B (A square, optionally batched). Gradients:
// gB = A^-T g and gA = -gB X^T, both written with Solve and MatMul so they
// are differentiable again.
func Solve(a, b *Var) *Var {
	return record("Solve", tensor.Solve(a.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		gb := Solve(Transpose(in[0]), g)
		r := []*Var{nil, gb}
		if needs[0] {
			r[0] = Neg(MatMul(gb, Transpose(out)))
		}
		return r
	}, a, b)
}
