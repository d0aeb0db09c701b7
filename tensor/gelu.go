package tensor

import (
	"fmt"
	"math"
)

// GELU returns x Phi(x) with the exact normal CDF Phi(x) = (1 +
// erf(x/sqrt2))/2, PyTorch's default GELU, in one pass.
func GELU(x *Tensor) *Tensor {
	out := newDirty(x.dtype, x.shape...)
	if x.dtype == Float32 {
		geluRun(x.f32, nil, out.f32)
	} else {
		geluRun(x.f64, nil, out.f64)
	}
	return out
}

// GELUBackward returns g (Phi(x) + x phi(x)), the gradient through GELU
// at x (phi: the standard normal density).
func GELUBackward(g, x *Tensor) *Tensor {
	mustSameDType("GELUBackward", g, x)
	if !SameShape(g.shape, x.shape) {
		panic(fmt.Sprintf("tensor: GELUBackward: gradient %v for input %v", g.shape, x.shape))
	}
	out := newDirty(x.dtype, x.shape...)
	if x.dtype == Float32 {
		geluRun(x.f32, g.f32, out.f32)
	} else {
		geluRun(x.f64, g.f64, out.f64)
	}
	return out
}

func geluRun[T Float](x, g, o []T) {
	const invSqrt2, invSqrt2Pi = 1 / math.Sqrt2, 0.3989422804014327
	parallelFor(len(x), len(x)*24, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := float64(x[i])
			cdf := 0.5 * (1 + math.Erf(v*invSqrt2))
			if g == nil {
				o[i] = T(v * cdf)
				continue
			}
			o[i] = T(float64(g[i]) * (cdf + v*invSqrt2Pi*math.Exp(-0.5*v*v)))
		}
	})
}
