package autodiff

import (
	"math"

	"github.com/metalearn/metalearn/tensor"
)

// BinaryCrossEntropy returns the mean over all elements of
// -(t log p + (1-t) log(1-p)) for probabilities p and targets t of the
// same shape, as a rank-0 Var. As in PyTorch each logarithm's argument is
// clamped below at e^-100, so p = 0 or 1 gives a finite loss; a clamped
// term passes no gradient. The forward pass is one fused kernel and the
// backward one more, whose own backward is written with differentiable
// operations, so gradients of any order are available.
func BinaryCrossEntropy(p, t *Var) *Var {
	n := float64(p.Value.Len())
	return record("BinaryCrossEntropy", tensor.BCE(p.Value, t.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		s := Scale(g, 1/n)
		r := make([]*Var, 2)
		if needs[0] {
			r[0] = bceGrad(s, in[0], in[1])
		}
		if needs[1] { // d/dt = log(1-p) - log(p), clamped as in the forward pass
			tiny := Scalar(in[0].DType(), math.Exp(-100))
			one := Scalar(in[0].DType(), 1)
			r[1] = Mul(s, Sub(Log(Maximum(Sub(one, in[0]), tiny)), Log(Maximum(in[0], tiny))))
		}
		return r
	}, p, t)
}

// bceGrad is s times the derivative of the summed cross-entropy with
// respect to p, s*(-t/p + (1-t)/(1-p)) with clamped terms zero, for a
// rank-0 s (tensor.BCEGrad; the same numbers as Mul(s, BCEGrad(p, t))).
func bceGrad(s, p, t *Var) *Var {
	return record("BCEGrad", tensor.BCEGrad(p.Value, t.Value, s.Value.Item()), func(gg *Var, in []*Var, out *Var, needs []bool) []*Var {
		s, p, t := in[0], in[1], in[2]
		r := make([]*Var, 3)
		if needs[0] { // linear in s
			one := Scalar(s.DType(), 1)
			r[0] = Reshape(Sum(Mul(gg, bceGrad(one, p, t)), false), s.Shape()...)
		}
		if !needs[1] && !needs[2] {
			return r
		}
		gs := Mul(gg, s)
		dt := p.DType()
		tiny, one := Scalar(dt, math.Exp(-100)), Scalar(dt, 1)
		q := Sub(one, p)
		// the masks of the unclamped terms; the clamped denominators keep
		// the masked-out quotients finite
		mp := Const(tensor.Greater(p.Value, tiny.Value))
		mq := Const(tensor.Greater(q.Value, tiny.Value))
		pc, qc := Maximum(p, tiny), Maximum(q, tiny)
		if needs[1] { // t/p^2 + (1-t)/(1-p)^2
			d := Add(Div(Mul(mp, t), Square(pc)), Div(Mul(mq, Sub(one, t)), Square(qc)))
			r[1] = Mul(gs, d)
		}
		if needs[2] { // -1/p - 1/(1-p)
			r[2] = Neg(Mul(gs, Add(Div(mp, pc), Div(mq, qc))))
		}
		return r
	}, s, p, t)
}

// SoftmaxCrossEntropy returns the per-row cross-entropy of logits [..., V]
// (shape [...]): for row r with target t = s.Targets[r] and label
// smoothing eps, (1-eps)(-log p_t) + eps mean_c(-log p_c) with p =
// softmax(row), PyTorch's definition; rows whose target is the ignore
// index (s.IgnoreSet) give 0 and no gradient. It is one fused operation:
// the forward pass keeps one log-sum-exp per row and neither pass stores
// the [N, V] log-probabilities (only the gradient itself is [N, V]). When
// a graph of the gradient is being built, the backward is that of the
// composite LogSumExp - Gather - Mean, recomputed and differentiated
// locally, so gradients of any order are available.
func SoftmaxCrossEntropy(logits *Var, s tensor.XentSpec) *Var {
	value, lse := tensor.SoftmaxCrossEntropy(logits.Value, s)
	s.Targets = append([]int(nil), s.Targets...) // the backward pass must see these targets
	return record("SoftmaxCrossEntropy", value, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		if graphBuilt(g, in) {
			return localGrad(softmaxCrossEntropyComposite(in[0], s), g, in, needs)
		}
		return []*Var{Const(tensor.SoftmaxCrossEntropyBackward(g.Value, in[0].Value, lse, s))}
	}, logits)
}

// softmaxCrossEntropyComposite is SoftmaxCrossEntropy from separate
// differentiable operations.
func softmaxCrossEntropyComposite(x *Var, s tensor.XentSpec) *Var {
	shape := x.Shape()
	v := shape[len(shape)-1]
	rows := len(s.Targets)
	x2 := Reshape(x, rows, v)
	idx := make([]int, rows)
	var keep *tensor.Tensor
	for r, t := range s.Targets {
		if s.IgnoreSet && t == s.Ignore {
			if keep == nil {
				keep = tensor.Ones(x.DType(), rows)
			}
			keep.SetFlat(r, 0)
			continue
		}
		idx[r] = t
	}
	lse := LogSumExp(x2, 1, false)
	picked := Reshape(Gather(x2, 1, idx, []int{rows, 1}), rows)
	loss := Scale(Sub(lse, picked), 1-s.Smoothing)
	if s.Smoothing != 0 {
		loss = Add(loss, Scale(Sub(lse, Mean(x2, false, 1)), s.Smoothing))
	}
	if keep != nil {
		loss = Mul(loss, Const(keep))
	}
	return Reshape(loss, shape[:len(shape)-1]...)
}
