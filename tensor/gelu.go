package tensor

import (
	"fmt"
	"math"
)

// GELU returns x Phi(x) with the exact normal CDF Phi(x) = (1 +
// erf(x/sqrt2))/2, PyTorch's default GELU, in one pass, and Phi(x) itself
// for the backward pass (which then needs an exponential per element, not
// a second error function).
func GELU(x *Tensor) (y, cdf *Tensor) {
	y, cdf = newDirty(x.dtype, x.shape...), newDirty(x.dtype, x.shape...)
	if x.dtype == Float32 {
		geluRun(x.f32, nil, nil, y.f32, cdf.f32)
	} else {
		geluRun(x.f64, nil, nil, y.f64, cdf.f64)
	}
	return y, cdf
}

// GELUBackward returns g (Phi(x) + x phi(x)), the gradient through GELU
// at x (phi: the standard normal density), given cdf = Phi(x) from GELU.
func GELUBackward(g, x, cdf *Tensor) *Tensor {
	mustSameDType("GELUBackward", g, x, cdf)
	if !SameShape(g.shape, x.shape) || !SameShape(cdf.shape, x.shape) {
		panic(fmt.Sprintf("tensor: GELUBackward: gradient %v and CDF %v for input %v", g.shape, cdf.shape, x.shape))
	}
	out := newDirty(x.dtype, x.shape...)
	if x.dtype == Float32 {
		geluRun(x.f32, g.f32, cdf.f32, out.f32, nil)
	} else {
		geluRun(x.f64, g.f64, cdf.f64, out.f64, nil)
	}
	return out
}

// geluRun computes the forward pass (g nil: o = x Phi, into cdf Phi) or
// the backward pass (o = g (Phi + x phi) from the given Phi).
func geluRun[T Float](x, g, phi, o, cdf []T) {
	const invSqrt2, invSqrt2Pi = 1 / math.Sqrt2, 0.3989422804014327
	cost := 24
	if g != nil {
		cost = 12
	}
	parallelFor(len(x), len(x)*cost, func(lo, hi int) {
		if g == nil {
			for i := lo; i < hi; i++ {
				v := float64(x[i])
				c := 0.5 * (1 + math.Erf(v*invSqrt2))
				o[i], cdf[i] = T(v*c), T(c)
			}
			return
		}
		for i := lo; i < hi; i++ {
			v := float64(x[i])
			o[i] = T(float64(g[i]) * (float64(phi[i]) + v*invSqrt2Pi*math.Exp(-0.5*v*v)))
		}
	})
}
