package autodiff

import (
	"fmt"

	"github.com/metalearn/metalearn/tensor"
)

// This file holds fused per-channel operations on tensors [N, C, ...]
// (channel axis 1): channel sums and dots, channel-wise affine maps, and
// the helpers every fused operation's backward uses (localGrad, optInput).
// Each forward is one fused kernel. Backward rules are again fused
// operations, and the backward rules of those are compositions of
// differentiable operations, so gradients of any order work (MAML
// differentiates through BatchNorm's backward, batchnorm.go).

func channelsOf(op string, shape []int) int {
	if len(shape) < 2 {
		panic(fmt.Sprintf("autodiff: %s: want [N,C,...], got shape %v", op, shape))
	}
	return shape[1]
}

func checkVec(op string, v *Var, c int) {
	if v != nil && v.Value.Len() != c {
		panic(fmt.Sprintf("autodiff: %s: per-channel operand of shape %v for %d channels", op, v.Shape(), c))
	}
}

// asShape reshapes a [C] gradient to the shape of the operand it is for.
func asShape(g *Var, like *Var) *Var { return Reshape(g, like.Shape()...) }

// ChannelSum returns the per-channel sums [C] of x [N,C,...] (the sum over
// every axis but 1).
func ChannelSum(x *Var) *Var {
	channelsOf("ChannelSum", x.Shape())
	return channelSumOp(x, tensor.ChannelSum(x.Value))
}

func channelSumOp(x *Var, value *tensor.Tensor) *Var {
	shape := append([]int(nil), x.Shape()...)
	return record("ChannelSum", value, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{channelCombine(shape, nil, nil, g)}
	}, x)
}

// ChannelDot returns the per-channel sums [C] of a*b for same-shaped a, b
// [N,C,...].
func ChannelDot(a, b *Var) *Var {
	shape := append([]int(nil), a.Shape()...)
	return record("ChannelDot", tensor.ChannelDot(a.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		if needs[0] {
			r[0] = channelCombine(shape, []*Var{in[1]}, []*Var{g}, nil)
		}
		if needs[1] {
			r[1] = channelCombine(shape, []*Var{in[0]}, []*Var{g}, nil)
		}
		return r
	}, a, b)
}

// ChannelAffine returns scale[c]*x + shift[c] for x [N,C,...]; scale and
// shift hold C values each (any shape) and either may be nil (1 and 0).
func ChannelAffine(x, scale, shift *Var) *Var {
	return channelCombine(x.Shape(), []*Var{x}, []*Var{scale}, shift)
}

// channelCombine returns sum_j coefs[j][c]*xs[j] + shift[c] over shape
// (nil coefficient: 1; nil shift: 0; no xs: shift broadcast over shape).
func channelCombine(shape []int, xs, coefs []*Var, shift *Var) *Var {
	shape = append([]int(nil), shape...)
	c := channelsOf("ChannelAffine", shape)
	xt := make([]*tensor.Tensor, len(xs))
	ct := make([]*tensor.Tensor, len(xs))
	inputs := append([]*Var(nil), xs...)
	coefAt := make([]int, len(xs))
	for j, x := range xs {
		xt[j] = x.Value
		coefAt[j] = -1
		if coefs[j] != nil {
			checkVec("ChannelAffine", coefs[j], c)
			ct[j] = coefs[j].Value
			coefAt[j] = len(inputs)
			inputs = append(inputs, coefs[j])
		}
	}
	var st *tensor.Tensor
	shiftAt := -1
	if shift != nil {
		checkVec("ChannelAffine", shift, c)
		st = shift.Value
		shiftAt = len(inputs)
		inputs = append(inputs, shift)
	}
	value := tensor.ChannelCombine(shape, xt, ct, st)
	return record("ChannelAffine", value, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, len(in))
		for j := range xt {
			var cf *Var
			if coefAt[j] >= 0 {
				cf = in[coefAt[j]]
			}
			if needs[j] {
				if cf == nil {
					r[j] = g
				} else {
					r[j] = channelCombine(shape, []*Var{g}, []*Var{cf}, nil)
				}
			}
			if cf != nil && needs[coefAt[j]] {
				r[coefAt[j]] = asShape(ChannelDot(g, in[j]), cf)
			}
		}
		if shiftAt >= 0 && needs[shiftAt] {
			r[shiftAt] = asShape(ChannelSum(g), in[shiftAt])
		}
		return r
	}, inputs...)
}

// localGrad is a fused operation's backward while a graph of the gradient
// is being built: the gradients, given g, of yc (the operation recomputed
// from its inputs in with differentiable operations) for the inputs that
// need one (nil elsewhere); the sweep stops at those inputs.
func localGrad(yc, g *Var, in []*Var, needs []bool) []*Var {
	// an input passed twice (LSTM states h0 = c0, say) gets its whole
	// gradient, the sum over both uses, once: at its first position
	first := func(j int) bool {
		for i := 0; i < j; i++ {
			if in[i] == in[j] {
				return false
			}
		}
		return true
	}
	var wrt []*Var
	for j, v := range in {
		if needs[j] && first(j) {
			wrt = append(wrt, v)
		}
	}
	gs := gradTo([]*Var{yc}, []*Var{g}, wrt, true, true)
	r := make([]*Var, len(in))
	for j := range in {
		if needs[j] && first(j) {
			r[j], gs = gs[0], gs[1:]
		}
	}
	return r
}

// optInput is in[i], or nil for an absent optional input (i < 0).
func optInput(in []*Var, i int) *Var {
	if i < 0 {
		return nil
	}
	return in[i]
}
