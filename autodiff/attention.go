package autodiff

import (
	"math"

	"github.com/metalearn/metalearn/tensor"
)

// AttentionOptions are the masks, scale and dropout of Attention.
type AttentionOptions struct {
	// Scale multiplies q.k; 0 means 1/sqrt(D).
	Scale float64
	// KeyLengths, when not nil, holds one length per batch entry: keys at
	// positions >= KeyLengths[b] are masked (padding).
	KeyLengths []int
	// Causal lets query i see only keys j <= i + (Tk - Tq): the mask is
	// aligned to the last key (as in FlashAttention), so a query block
	// that continues a cached prefix sees the whole prefix. PyTorch's
	// is_causal aligns it to the first key instead; the two agree when
	// Tq == Tk.
	Causal bool
	// Dropout is the probability of dropping each attention weight (the
	// kept ones are scaled by 1/(1-Dropout)); 0 means none.
	Dropout float64
	// Seed selects the dropout mask, a deterministic function of
	// (Seed, b, h, i, j) (tensor.AttentionSpec.Keeps), so the
	// forward and backward passes agree without storing it.
	Seed uint64
}

func (o AttentionOptions) spec() tensor.AttentionSpec {
	return tensor.AttentionSpec{Scale: o.Scale, KeyLengths: o.KeyLengths, Causal: o.Causal, Dropout: o.Dropout, Seed: o.Seed}
}

// Attention is scaled dot-product attention as one fused operation:
// softmax(q k^T * scale + mask) v for q [B,H,Tq,D], k [B,H,Tk,D] and
// v [B,H,Tk,Dv], giving [B,H,Tq,Dv]. Masked keys get zero weight; a query
// row that sees no key (KeyLengths 0) gives zeros. With Dropout the
// weights (after the softmax) are dropped and rescaled.
//
// The forward and backward passes run block-wise over the keys with an
// online softmax (tensor.Attention, FlashAttention-style), so the memory
// they need grows linearly with the sequence length; only the output and
// one log-sum-exp per query row are kept for the backward pass. When a
// graph of the gradient is being built (second order, MAML), the
// backward is that of the composite AttentionComposite, recomputed and
// differentiated locally, so gradients of any order are the composite's.
func Attention(q, k, v *Var, opt AttentionOptions) *Var {
	if opt.KeyLengths != nil { // the backward pass must see these lengths
		opt.KeyLengths = append([]int(nil), opt.KeyLengths...)
	}
	s := opt.spec()
	value, lse := tensor.Attention(q.Value, k.Value, v.Value, s)
	return record("Attention", value, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		if graphBuilt(g, in) {
			return localGrad(AttentionComposite(in[0], in[1], in[2], opt), g, in, needs)
		}
		dq, dk, dv := tensor.AttentionBackward(g.Value, in[0].Value, in[1].Value, in[2].Value, out.Value, lse, s)
		r := make([]*Var, 3)
		for j, t := range []*tensor.Tensor{dq, dk, dv} {
			if needs[j] {
				r[j] = Const(t)
			}
		}
		return r
	}, q, k, v)
}

// AttentionComposite is Attention built from separate differentiable
// operations, materialising the [B,H,Tq,Tk] weights:
// MatMul(Softmax(masked(q k^T * scale)) o mask o dropout, v). It is the
// reference the fused operation is tested against and the path its
// second-order gradients take.
func AttentionComposite(q, k, v *Var, opt AttentionOptions) *Var {
	s := opt.spec()
	qs, ks := q.Shape(), k.Shape()
	if err := s.Validate(qs, ks, v.Shape()); err != nil {
		panic("autodiff: AttentionComposite: " + err.Error())
	}
	b, h, tq, d, tk := qs[0], qs[1], qs[2], qs[3], ks[2]
	scale := opt.Scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(max(d, 1)))
	}
	dt := q.DType()
	scores := Scale(MatMulNT(q, k), scale)
	visible := tensor.AttentionVisible(s, dt, b, tq, tk)
	if visible != nil {
		// a finite fill keeps a row that sees no key finite (uniform
		// weights, zeroed by the mask below)
		scores = Where(visible, scores, Scalar(dt, -1e30))
	}
	w := Softmax(scores, -1)
	if visible != nil {
		w = Mul(w, Const(visible))
	}
	if drop := tensor.AttentionDropoutMask(s, dt, b, h, tq, tk); drop != nil {
		w = Mul(w, Const(drop))
	}
	return MatMul(w, v)
}
