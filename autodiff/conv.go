package autodiff

import (
	"github.com/metalearn/metalearn/tensor"
)

// Convolution: Conv2d and its input- and weight-gradient operations (each
// the backward of the others), Conv2dBias, and the fused convolution block
// ConvBatchNormReLUPool (conv + training-mode BatchNorm + ReLU + 2x2 max
// pool without storing the convolution's output).

// Conv2d is the cross-correlation of x [N,C,H,W] with w [O,C,KH,KW].
//
// The three kernels conv, input-gradient and weight-gradient are the three
// partial derivatives of the trilinear form <conv(x,w), gy>, so each one's
// backward is written with the other two; this closes the set under
// differentiation to any order.
func Conv2d(x, w *Var, stride, pad int) *Var {
	return record("Conv2d", tensor.Conv2d(x.Value, w.Value, stride, pad), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		if needs[0] {
			r[0] = conv2dInputGrad(g, in[1], in[0].Shape(), stride, pad)
		}
		if needs[1] {
			r[1] = conv2dWeightGrad(in[0], g, in[1].Shape(), stride, pad)
		}
		return r
	}, x, w)
}

func conv2dInputGrad(gy, w *Var, xShape []int, stride, pad int) *Var {
	xShape = append([]int(nil), xShape...)
	return record("Conv2dInputGrad", tensor.Conv2dInputGrad(gy.Value, w.Value, xShape, stride, pad), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		if needs[0] {
			r[0] = Conv2d(g, in[1], stride, pad)
		}
		if needs[1] {
			r[1] = conv2dWeightGrad(g, in[0], in[1].Shape(), stride, pad)
		}
		return r
	}, gy, w)
}

func conv2dWeightGrad(x, gy *Var, wShape []int, stride, pad int) *Var {
	wShape = append([]int(nil), wShape...)
	return record("Conv2dWeightGrad", tensor.Conv2dWeightGrad(x.Value, gy.Value, wShape, stride, pad), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		if needs[0] {
			r[0] = conv2dInputGrad(in[1], g, in[0].Shape(), stride, pad)
		}
		if needs[1] {
			r[1] = Conv2d(in[0], g, stride, pad)
		}
		return r
	}, x, gy)
}

// Conv2dBias is Conv2d(x, w) plus b[o] on output channel o, fused into the
// convolution's output pass; b nil is plain Conv2d.
func Conv2dBias(x, w, b *Var, stride, pad int) *Var {
	if b == nil {
		return Conv2d(x, w, stride, pad)
	}
	return record("Conv2dBias", tensor.Conv2dBias(x.Value, w.Value, b.Value, stride, pad), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 3)
		if needs[0] {
			r[0] = conv2dInputGrad(g, in[1], in[0].Shape(), stride, pad)
		}
		if needs[1] {
			r[1] = conv2dWeightGrad(in[0], g, in[1].Shape(), stride, pad)
		}
		if needs[2] {
			r[2] = asShape(ChannelSum(g), in[2])
		}
		return r
	}, x, w, b)
}

// ConvBatchNormReLUPool is BatchNormReLUPool(Conv2dBias(x, w, b, stride,
// pad), gamma, beta, eps) (b, gamma, beta may be nil) without storing the
// convolution's output, for the convolutions tensor.ConvRecompute accepts
// (few input channels: each pass recomputes it image by image); any other
// convolution runs as the two operations. The values, the statistics and
// the gradients are bit-identical to the two operations'; when a graph of
// the gradient is being built, the backward is theirs, recomputed and
// differentiated locally.
func ConvBatchNormReLUPool(x, w, b, gamma, beta *Var, stride, pad int, eps float64) (y *Var, mean, variance *tensor.Tensor) {
	if !tensor.ConvRecompute(x.Shape(), w.Shape(), stride, pad) {
		return BatchNormReLUPool(Conv2dBias(x, w, b, stride, pad), gamma, beta, eps)
	}
	o := w.Shape()[0]
	checkVec("BatchNorm", gamma, o)
	checkVec("BatchNorm", beta, o)
	mu, v := tensor.ConvBatchNormStats(x.Value, w.Value, valueOrNil(b), stride, pad)
	s := x.Shape()
	oh, ow := tensor.ConvOutSize(s[2], w.Shape()[2], stride, pad), tensor.ConvOutSize(s[3], w.Shape()[3], stride, pad)
	st := &bnStats{mean: mu, rstd: tensor.InvStd(v, eps), m: float64(s[0] * oh * ow)}
	value, idx := tensor.ConvBatchNormReLUMaxPool2(x.Value, w.Value, valueOrNil(b), stride, pad, st.mean, st.rstd, valueOrNil(gamma), valueOrNil(beta))
	inputs := []*Var{x, w}
	at := func(v *Var) int {
		if v == nil {
			return -1
		}
		inputs = append(inputs, v)
		return len(inputs) - 1
	}
	bi, gi, ei := at(b), at(gamma), at(beta)
	y = record("ConvBatchNormReLUPool", value, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		if graphBuilt(g, in) {
			z := Conv2dBias(in[0], in[1], optInput(in, bi), stride, pad)
			return localGrad(MaxPool2d(bnApply(z, optInput(in, gi), optInput(in, ei), st, true), 2, 2, 0), g, in, needs)
		}
		r := make([]*Var, len(in))
		dx, dw, db, dgamma, dbeta := tensor.ConvBatchNormReLUMaxPool2Backward(g.Value, out.Value, idx, in[0].Value, in[1].Value,
			valueOrNil(optInput(in, bi)), stride, pad, st.mean, st.rstd, valueOrNil(optInput(in, gi)), needs[0])
		for j, t := range []*tensor.Tensor{dx, dw, db, dgamma, dbeta} {
			k := []int{0, 1, bi, gi, ei}[j]
			if k >= 0 && needs[k] {
				r[k] = Const(tensor.Reshape(t, in[k].Shape()...))
			}
		}
		return r
	}, inputs...)
	dt := x.DType()
	return y, tensor.FromFloat64(mu, o).AsType(dt), tensor.FromFloat64(v, o).AsType(dt)
}
