package tensor

import (
	"fmt"
	"math"
	"unsafe"
)

// GELU returns x Phi(x) with the exact normal CDF Phi(x) = (1 +
// erf(x/sqrt2))/2, PyTorch's default GELU, in one pass, and Phi(x) itself
// for the backward pass (which then needs an exponential per element, not
// a second error function). Float64 uses math.Erf; float32 the erfc
// formula of normCDF32 with its exponentials vectorised (expShift), within
// 3e-6 relative and 2e-7 absolute of the exact value (gelu_test.go).
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
	var z T
	f32 := unsafe.Sizeof(z) == 4
	parallelFor(len(x), len(x)*cost, func(lo, hi int) {
		if f32 {
			// float32: the exponentials of a block at a time (expShift,
			// vectorised), the rest per element
			const blk = 256
			var arg, ex, tt [blk]T
			for b0 := lo; b0 < hi; b0 += blk {
				n := min(blk, hi-b0)
				xs := x[b0 : b0+n]
				for i, xv := range xs {
					v := float64(xv)
					if g == nil {
						t, a := normCDF32Parts(v)
						tt[i], arg[i] = T(t), T(a)
					} else {
						arg[i] = T(-0.5 * v * v)
					}
				}
				expShift(ex[:n], arg[:n], 1, 0)
				for i, xv := range xs {
					v := float64(xv)
					if g == nil {
						erfc := float64(tt[i]) * float64(ex[i])
						c := 0.5 * erfc
						if v >= 0 {
							c = 1 - c
						}
						o[b0+i], cdf[b0+i] = T(v*c), T(c)
					} else {
						o[b0+i] = T(float64(g[b0+i]) * (float64(phi[b0+i]) + v*invSqrt2Pi*float64(ex[i])))
					}
				}
			}
			return
		}
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

// normCDF32 returns the standard normal CDF Phi(x) = erfc(-x/sqrt2)/2 to
// float32 precision: erfc by the Chebyshev-fitted formula of Numerical
// Recipes (Press et al., section 6.2, fractional error below 1.2e-7
// everywhere), so Phi keeps its relative precision far into the lower
// tail. It costs one exponential, against math.Erf's rational
// approximations several times slower; float64 GELU uses math.Erf.
func normCDF32(x float64) float64 {
	t, a := normCDF32Parts(x)
	erfc := t * math.Exp(a)
	if x >= 0 {
		return 1 - 0.5*erfc
	}
	return 0.5 * erfc
}

// normCDF32Parts returns t and a with erfc(|x|/sqrt2) = t e^a (the
// formula of normCDF32 before its exponential).
func normCDF32Parts(x float64) (t, a float64) {
	z := math.Abs(x) * (1 / math.Sqrt2)
	t = 1 / (1 + 0.5*z)
	p := -0.82215223 + t*0.17087277
	p = 1.48851587 + t*p
	p = -1.13520398 + t*p
	p = 0.27886807 + t*p
	p = -0.18628806 + t*p
	p = 0.09678418 + t*p
	p = 0.37409196 + t*p
	p = 1.00002368 + t*p
	return t, -z*z - 1.26551223 + t*p
}
