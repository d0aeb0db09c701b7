package tensor

import (
	"fmt"
	"math"
)

// This file holds fused kernels for losses and activation derivatives:
// one pass over the data where the composite expression would make
// several (and allocate a tensor per step).

// bceTiny is the clamp of BCE's logarithms, e^-100 (log >= -100 as in
// PyTorch), rounded to T.
func bceTiny[T Float]() float64 { return float64(T(math.Exp(-100))) }

// BCE returns the mean binary cross-entropy of probabilities p against
// targets t (same shape), -(t log p + (1-t) log(1-p)), as a rank-0 tensor.
// Each logarithm's argument is clamped below at e^-100 (rounded to the
// dtype), so p = 0 or 1 gives a finite loss. The sum runs in float64, in
// index order.
func BCE(p, t *Tensor) *Tensor {
	mustSameDType("BCE", p, t)
	if !SameShape(p.shape, t.shape) {
		panic(fmt.Sprintf("tensor: BCE: probabilities %v and targets %v differ in shape", p.shape, t.shape))
	}
	var s float64
	if p.dtype == Float32 {
		s = bceSum(p.f32, t.f32)
	} else {
		s = bceSum(p.f64, t.f64)
	}
	if n := len(p.f32) + len(p.f64); n > 0 {
		s /= float64(n)
	} else {
		s = math.NaN() // the mean of nothing, as Mean gives
	}
	return Scalar(p.dtype, s)
}

func bceSum[T Float](p, t []T) float64 {
	tiny := bceTiny[T]()
	t = t[:len(p)]
	// A hard target (0 or 1) contributes -log of one clamped probability:
	// the sum of those logarithms is taken as the logarithm of their
	// product, carried as prod * 2^exp (renormalised before it can
	// underflow: each factor is >= e^-100 > 2^-145), so it costs one
	// multiplication per element and four logarithms in all (four running
	// products, so consecutive multiplications do not wait for each
	// other). Soft targets take both logarithms.
	prod := [4]float64{1, 1, 1, 1}
	var exp [4]int
	var soft float64
	for i, pv := range p {
		tv, x := float64(t[i]), float64(pv)
		if tv != 0 && tv != 1 {
			soft -= tv*math.Log(max(x, tiny)) + (1-tv)*math.Log(max(1-x, tiny))
			continue
		}
		x = tv*x + (1-tv)*(1-x) // p or 1-p, exactly, without a branch
		if !(x >= tiny) && x == x {
			x = tiny // the clamp (NaN passes through)
		}
		k := i & 3
		prod[k] *= x
		if prod[k] < 0x1p-500 {
			f, e := math.Frexp(prod[k])
			prod[k], exp[k] = f, exp[k]+e
		}
	}
	logs := float64(exp[0]+exp[1]+exp[2]+exp[3]) * math.Ln2
	for _, q := range prod {
		logs += math.Log(q)
	}
	return soft - logs
}

// BCEGrad returns scale times the derivative of the summed binary
// cross-entropy with respect to p, elementwise: scale*(-t/p + (1-t)/(1-p)),
// where each term is zero while its logarithm's clamp is active (p <=
// e^-100, resp. 1-p <= e^-100, as in BCE), the gradient a clamp passes.
// The derivative is rounded to the dtype before the scaling (as
// Mul(Scalar(scale), BCEGrad(p, t, 1)) would).
func BCEGrad(p, t *Tensor, scale float64) *Tensor {
	mustSameDType("BCEGrad", p, t)
	if !SameShape(p.shape, t.shape) {
		panic(fmt.Sprintf("tensor: BCEGrad: probabilities %v and targets %v differ in shape", p.shape, t.shape))
	}
	out := newDirty(p.dtype, p.shape...)
	if p.dtype == Float32 {
		bceGradRun(p.f32, t.f32, out.f32, float32(scale))
	} else {
		bceGradRun(p.f64, t.f64, out.f64, scale)
	}
	return out
}

func bceGradRun[T Float](p, t, o []T, scale T) {
	tiny := T(bceTiny[T]())
	t, o = t[:len(p)], o[:len(p)]
	for i, pv := range p {
		tv, q := t[i], 1-pv
		if pv > tiny && q > tiny {
			// -t/p + (1-t)/(1-p) over one denominator: one division
			g := (pv - tv) / (pv * q)
			o[i] = scale * g
			continue
		}
		var g T
		if pv > tiny {
			g = -tv / pv
		}
		if q > tiny {
			g += (1 - tv) / q
		}
		o[i] = scale * g
	}
}

// SigmoidBackward returns g*y*(1-y) (same shapes): the gradient through a
// sigmoid given its output y, in one pass.
func SigmoidBackward(g, y *Tensor) *Tensor {
	return activationBackward("SigmoidBackward", g, y, true)
}

// TanhBackward returns g*(1-y*y) (same shapes): the gradient through tanh
// given its output y, in one pass.
func TanhBackward(g, y *Tensor) *Tensor {
	return activationBackward("TanhBackward", g, y, false)
}

func activationBackward(name string, g, y *Tensor, sigmoid bool) *Tensor {
	mustSameDType(name, g, y)
	if !SameShape(g.shape, y.shape) {
		panic(fmt.Sprintf("tensor: %s: gradient %v for output %v", name, g.shape, y.shape))
	}
	out := newDirty(g.dtype, g.shape...)
	if g.dtype == Float32 {
		activationBackwardRun(sigmoid, g.f32, y.f32, out.f32)
	} else {
		activationBackwardRun(sigmoid, g.f64, y.f64, out.f64)
	}
	return out
}

func activationBackwardRun[T Float](sigmoid bool, g, y, o []T) {
	parallelFor(len(g), len(g), func(lo, hi int) {
		g, y, o := g[lo:hi], y[lo:hi], o[lo:hi]
		if sigmoid {
			for i, gv := range g {
				yv := y[i]
				o[i] = gv * yv * (1 - yv)
			}
			return
		}
		for i, gv := range g {
			yv := y[i]
			o[i] = gv * (1 - yv*yv)
		}
	})
}
