package autodiff

import (
	"github.com/metalearn/metalearn/tensor"
)

// Training-mode batch normalisation of x [N, C, ...] over every axis but
// 1, alone or fused with ReLU and 2x2 max pooling. Each forward is one fused
// kernel; the backward rules are fused operations whose own backward rules
// are compositions of differentiable operations (second order works).

// bnStats are the batch statistics of one BatchNorm input: per-channel
// mean and 1/sqrt(var+eps) in float64, and the count per channel.
type bnStats struct {
	mean, rstd []float64
	m          float64
}

// BatchNorm is training-mode batch normalisation of x [N,C,...] over every
// axis but 1: gamma*(x-mean)/sqrt(var+eps) + beta with the batch mean and
// biased variance; gamma and beta hold C values (nil: 1 and 0).
func BatchNorm(x, gamma, beta *Var, eps float64) *Var {
	y, _, _ := BatchNormTrain(x, gamma, beta, eps)
	return y
}

// BatchNormTrain is BatchNorm that also returns the batch mean and biased
// variance [C] (x's dtype), for running estimates.
func BatchNormTrain(x, gamma, beta *Var, eps float64) (y *Var, mean, variance *tensor.Tensor) {
	st, mean, variance := batchStats(x, gamma, beta, eps)
	return bnApply(x, gamma, beta, st, false), mean, variance
}

// BatchNormReLU is Relu(BatchNormTrain(x, gamma, beta, eps)) fused: the
// normalised values are never stored apart from the result, and the
// backward masks the incoming gradient on the fly.
func BatchNormReLU(x, gamma, beta *Var, eps float64) (y *Var, mean, variance *tensor.Tensor) {
	st, mean, variance := batchStats(x, gamma, beta, eps)
	return bnApply(x, gamma, beta, st, true), mean, variance
}

// BatchNormReLUPool is MaxPool2d(BatchNormReLU(x, gamma, beta, eps), 2, 2, 0)
// fused for x [N,C,H,W]: the normalised tensor is never stored (each plane
// is normalised into scratch and pooled from there), and the backward pass
// touches the chosen elements and makes one affine pass over x, instead of
// scattering into and masking a tensor the size of x. Values equal the
// composite's. When a graph of the gradient is being built (MAML's inner
// loop), the backward is the composite's, recomputed from the inputs, so
// gradients of any order are those of the composite.
func BatchNormReLUPool(x, gamma, beta *Var, eps float64) (y *Var, mean, variance *tensor.Tensor) {
	st, mean, variance := batchStats(x, gamma, beta, eps)
	value, idx := tensor.BatchNormReLUMaxPool2(x.Value, st.mean, st.rstd, valueOrNil(gamma), valueOrNil(beta))
	inputs, gi, bi := bnInputs(x, gamma, beta)
	y = record("BatchNormReLUPool", value, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		gam, bet := optInput(in, gi), optInput(in, bi)
		if graphBuilt(g, in) {
			return localGrad(MaxPool2d(bnApply(in[0], gam, bet, st, true), 2, 2, 0), g, in, needs)
		}
		r := make([]*Var, len(in))
		dx, dgamma, dbeta := tensor.BatchNormReLUMaxPool2Backward(g.Value, out.Value, idx, in[0].Value, st.mean, st.rstd, valueOrNil(gam))
		if needs[0] {
			r[0] = Const(dx)
		}
		if gi >= 0 && needs[gi] {
			r[gi] = Const(tensor.Reshape(dgamma, gam.Shape()...))
		}
		if bi >= 0 && needs[bi] {
			r[bi] = Const(tensor.Reshape(dbeta, bet.Shape()...))
		}
		return r
	}, inputs...)
	return y, mean, variance
}

// bnInputs lists a BatchNorm's inputs, x then gamma and beta when present,
// and the positions of gamma and beta (-1 when absent).
func bnInputs(x, gamma, beta *Var) (inputs []*Var, gi, bi int) {
	inputs, gi, bi = []*Var{x}, -1, -1
	if gamma != nil {
		gi = len(inputs)
		inputs = append(inputs, gamma)
	}
	if beta != nil {
		bi = len(inputs)
		inputs = append(inputs, beta)
	}
	return inputs, gi, bi
}

func batchStats(x, gamma, beta *Var, eps float64) (*bnStats, *tensor.Tensor, *tensor.Tensor) {
	c := channelsOf("BatchNorm", x.Shape())
	checkVec("BatchNorm", gamma, c)
	checkVec("BatchNorm", beta, c)
	mu, v := tensor.BatchNormStats(x.Value)
	st := &bnStats{mean: mu, rstd: tensor.InvStd(v, eps), m: float64(x.Value.Len() / max(c, 1))}
	dt := x.DType()
	return st, tensor.FromFloat64(mu, c).AsType(dt), tensor.FromFloat64(v, c).AsType(dt)
}

func valueOrNil(v *Var) *tensor.Tensor {
	if v == nil {
		return nil
	}
	return v.Value
}

// masked applies the ReLU mask of y (y > 0) to g; y nil: g itself.
func masked(g *Var, y *tensor.Tensor) *Var {
	if y == nil {
		return g
	}
	return reluMask(g, y)
}

// bnApply normalises x with its batch statistics st and applies gamma, beta
// (and a ReLU when relu is set).
func bnApply(x, gamma, beta *Var, st *bnStats, relu bool) *Var {
	apply, op := tensor.BatchNormApply, "BatchNorm"
	if relu {
		apply, op = tensor.BatchNormApplyReLU, "BatchNormReLU"
	}
	value := apply(x.Value, st.mean, st.rstd, valueOrNil(gamma), valueOrNil(beta))
	inputs, gi, bi := bnInputs(x, gamma, beta)
	return record(op, value, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		gam := optInput(in, gi)
		var mask *tensor.Tensor
		if relu {
			mask = out.Value
		}
		dx, dgamma, dbeta := tensor.BatchNormReLUBackward(g.Value, mask, in[0].Value, st.mean, st.rstd, valueOrNil(gam))
		r := make([]*Var, len(in))
		if needs[0] {
			r[0] = bnGradX(g, in[0], gam, st, mask, dx)
		}
		if gi >= 0 && needs[gi] {
			r[gi] = asShape(bnGradGamma(g, in[0], st, mask, dgamma), gam)
		}
		if bi >= 0 && needs[bi] {
			r[bi] = asShape(maskedChannelSum(g, mask, dbeta), in[bi])
		}
		return r
	}, inputs...)
}

// maskedChannelSum is ChannelSum(masked(g, mask)) with a precomputed value.
func maskedChannelSum(g *Var, mask, value *tensor.Tensor) *Var {
	if mask == nil {
		return channelSumOp(g, value)
	}
	shape := append([]int(nil), g.Shape()...)
	return record("ChannelSum", value, func(v *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{reluMask(channelCombine(shape, nil, nil, v), mask)}
	}, g)
}

// bnInvStd returns 1/sqrt(var(x)+eps) [C] as a differentiable function of x.
func bnInvStd(x *Var, st *bnStats) *Var {
	c := len(st.rstd)
	shape := append([]int(nil), x.Shape()...)
	value := tensor.FromFloat64(append([]float64(nil), st.rstd...), c).AsType(x.DType())
	return record("BatchNormInvStd", value, func(v *Var, in []*Var, out *Var, needs []bool) []*Var {
		// d rstd_c / dx_i = -rstd_c^2 * xhat_i / m
		r := bnInvStd(in[0], st)
		xhat := bnApply(in[0], nil, nil, st, false)
		return []*Var{channelCombine(shape, []*Var{xhat}, []*Var{Scale(Mul(v, Mul(r, r)), -1/st.m)}, nil)}
	}, x)
}

// bnGradX is the input gradient of BatchNorm,
// D(g, x, gamma) = gamma*r*(g - mean(g) - xhat*mean(g*xhat)) per channel,
// as a differentiable operation (value: precomputed or nil). With a mask
// (a ReLU output y), g stands for g masked where y <= 0.
func bnGradX(g, x, gamma *Var, st *bnStats, mask, value *tensor.Tensor) *Var {
	if value == nil {
		value, _, _ = tensor.BatchNormReLUBackward(g.Value, mask, x.Value, st.mean, st.rstd, valueOrNil(gamma))
	}
	shape := append([]int(nil), x.Shape()...)
	inputs := []*Var{g, x}
	if gamma != nil {
		inputs = append(inputs, gamma)
	}
	return record("BatchNormGradX", value, func(u *Var, in []*Var, out *Var, needs []bool) []*Var {
		x := in[1]
		var gam *Var
		if len(in) > 2 {
			gam = in[2]
		}
		r := make([]*Var, len(in))
		// D is linear in g and symmetric: its adjoint in g is D itself
		// (then masked).
		if needs[0] {
			r[0] = masked(bnGradX(u, x, gam, st, nil, nil), mask)
		}
		needGamma := gam != nil && needs[2]
		if !needs[1] && !needGamma {
			return r
		}
		g := masked(in[0], mask)
		// With per-channel means ub = mean(u), gb = mean(g), k = mean(u*xhat),
		// m = mean(g*xhat), ug = mean(u*g) and base = ug - ub*gb - k*m:
		//   d<u,D>/dgamma = r*M*base
		//   d<u,D>/dx = -gamma*r^2*(xhat*(base - 2km) + k*(g-gb) + m*(u-ub))
		inv := 1 / st.m
		xhat := bnApply(x, nil, nil, st, false)
		rr := bnInvStd(x, st)
		ub, gb := Scale(ChannelSum(u), inv), Scale(ChannelSum(g), inv)
		k, m := Scale(ChannelDot(u, xhat), inv), Scale(ChannelDot(g, xhat), inv)
		km := Mul(k, m)
		base := Sub(Sub(Scale(ChannelDot(u, g), inv), Mul(ub, gb)), km)
		if needGamma {
			r[2] = asShape(Scale(Mul(rr, base), st.m), gam)
		}
		if needs[1] {
			pre := Neg(Mul(rr, rr))
			if gam != nil {
				pre = Mul(pre, Reshape(gam, -1))
			}
			a1 := Mul(pre, Sub(base, Scale(km, 2)))
			a4 := Neg(Mul(pre, Add(Mul(k, gb), Mul(m, ub))))
			r[1] = channelCombine(shape, []*Var{xhat, g, u}, []*Var{a1, Mul(pre, k), Mul(pre, m)}, a4)
		}
		return r
	}, inputs...)
}

// bnGradGamma is the gamma gradient of BatchNorm, sum(g*xhat) per channel,
// as a differentiable operation (g masked by mask as in bnGradX).
func bnGradGamma(g, x *Var, st *bnStats, mask, value *tensor.Tensor) *Var {
	shape := append([]int(nil), x.Shape()...)
	return record("BatchNormGradGamma", value, func(v *Var, in []*Var, out *Var, needs []bool) []*Var {
		x := in[1]
		r := make([]*Var, 2)
		xhat := bnApply(x, nil, nil, st, false)
		if needs[0] {
			r[0] = masked(channelCombine(shape, []*Var{xhat}, []*Var{v}, nil), mask)
		}
		if needs[1] {
			// d/dx sum(g*xhat) * v = v*r*(g - mean(g) - xhat*mean(g*xhat))
			g := masked(in[0], mask)
			inv := 1 / st.m
			vr := Mul(v, bnInvStd(x, st))
			gb, m := Scale(ChannelSum(g), inv), Scale(ChannelDot(g, xhat), inv)
			r[1] = channelCombine(shape, []*Var{g, xhat}, []*Var{vr, Neg(Mul(vr, m))}, Neg(Mul(vr, gb)))
		}
		return r
	}, g, x)
}
