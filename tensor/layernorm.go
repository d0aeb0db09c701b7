package tensor

import (
	"fmt"
	"math"
)

// LayerNorm normalises each row of x [..., D] over its D features,
// (x - mean) / sqrt(var + eps) with the biased variance, then applies
// gamma and beta [D] (either may be nil: 1 and 0). It returns y and the
// per-row mean and 1/sqrt(var+eps) in float64 (for the backward pass).
func LayerNorm(x, gamma, beta *Tensor, eps float64) (y, mean, rstd *Tensor) {
	d := lnCheck("LayerNorm", x, gamma, beta)
	rows := x.Len() / max(d, 1)
	y = newDirty(x.dtype, x.shape...)
	mean, rstd = New(Float64, rows), New(Float64, rows)
	if x.dtype == Float32 {
		lnForward(x.f32, vec32(gamma), vec32(beta), y.f32, mean.f64, rstd.f64, rows, d, eps)
	} else {
		lnForward(x.f64, vec64(gamma), vec64(beta), y.f64, mean.f64, rstd.f64, rows, d, eps)
	}
	return y, mean, rstd
}

func lnCheck(op string, x, gamma, beta *Tensor) int {
	if x.Dims() == 0 {
		panic(fmt.Sprintf("tensor: %s: input must have a feature axis, got a scalar", op))
	}
	d := x.shape[x.Dims()-1]
	for _, v := range []*Tensor{gamma, beta} {
		if v != nil {
			mustSameDType(op, x, v)
			if v.Len() != d {
				panic(fmt.Sprintf("tensor: %s: affine parameter %v for input %v", op, v.shape, x.shape))
			}
		}
	}
	return d
}

// vec32 and vec64 are v's values (nil for a nil v).
func vec32(v *Tensor) []float32 {
	if v == nil {
		return nil
	}
	return v.f32
}

func vec64(v *Tensor) []float64 {
	if v == nil {
		return nil
	}
	return v.f64
}

func lnForward[T Float](x, gamma, beta, y []T, mean, rstd []float64, rows, d int, eps float64) {
	parallelFor(rows, rows*d*6, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
			m := rowSum(xr) / float64(d)
			rs := 1 / math.Sqrt(rowSqDev(xr, T(m))/float64(d)+eps)
			mean[r], rstd[r] = m, rs
			rowAffine(yr, xr, T(rs), T(-m*rs)) // xhat
			switch {
			case gamma != nil && beta != nil:
				for c := range yr {
					yr[c] = yr[c]*gamma[c] + beta[c]
				}
			case gamma != nil:
				for c := range yr {
					yr[c] *= gamma[c]
				}
			case beta != nil:
				for c := range yr {
					yr[c] += beta[c]
				}
			}
		}
	})
}

// LayerNormBackward returns the gradients of <LayerNorm(x, gamma, beta),
// g> with respect to x, gamma and beta (nil where the parameter is nil),
// from the forward pass's mean and rstd: with xhat = (x - mean) rstd and
// u = g gamma,
//
//	dx = rstd (u - mean(u) - xhat mean(u xhat))   (means over the row)
//	dgamma = sum over rows of g xhat              dbeta = sum of g
func LayerNormBackward(g, x, gamma, beta, mean, rstd *Tensor) (dx, dgamma, dbeta *Tensor) {
	d := lnCheck("LayerNormBackward", x, gamma, beta)
	mustSameDType("LayerNormBackward", g, x)
	rows := x.Len() / max(d, 1)
	if !SameShape(g.shape, x.shape) || mean.Len() != rows || rstd.Len() != rows {
		panic(fmt.Sprintf("tensor: LayerNormBackward: gradient %v, statistics %v %v for input %v", g.shape, mean.shape, rstd.shape, x.shape))
	}
	dx = newDirty(x.dtype, x.shape...)
	if gamma != nil {
		dgamma = New(x.dtype, gamma.shape...)
	}
	if beta != nil {
		dbeta = New(x.dtype, beta.shape...)
	}
	if x.dtype == Float32 {
		lnBackward(g.f32, x.f32, vec32(gamma), dx.f32, vec32(dgamma), vec32(dbeta), mean.f64, rstd.f64, rows, d)
	} else {
		lnBackward(g.f64, x.f64, vec64(gamma), dx.f64, vec64(dgamma), vec64(dbeta), mean.f64, rstd.f64, rows, d)
	}
	return dx, dgamma, dbeta
}

func lnBackward[T Float](g, x, gamma, dx, dgamma, dbeta []T, mean, rstd []float64, rows, d int) {
	parallelFor(rows, rows*d*8, func(lo, hi int) {
		var sc *[]T
		if gamma != nil {
			sc = getScratch[T](d)
			defer putScratch(sc)
		}
		for r := lo; r < hi; r++ {
			u, xr, dr := g[r*d:(r+1)*d], x[r*d:(r+1)*d], dx[r*d:(r+1)*d]
			if gamma != nil {
				gu := (*sc)[:d]
				for c, gv := range u {
					gu[c] = gv * gamma[c]
				}
				u = gu
			}
			m, rs := mean[r], rstd[r]
			// with su = sum(u), sd = sum(u (x - m)), mean(u) = su/d and
			// mean(u xhat) = rs sd/d:
			// dx = rs u - rs^2 (rs sd/d) (x - m) - rs su/d
			su, sd := rowSumDot(u, xr, T(m))
			b := rs * rs * rs * sd / float64(d)
			rowAffine2(dr, u, xr, T(rs), T(-b), T(b*m-rs*su/float64(d)))
		}
	})
	if dgamma == nil && dbeta == nil {
		return
	}
	// the parameter gradients: each column sums over the rows in row
	// order (deterministic), columns split across workers
	parallelFor(d, rows*d*3, func(lo, hi int) {
		for r := 0; r < rows; r++ {
			gr, xr := g[r*d:(r+1)*d], x[r*d:(r+1)*d]
			mt, rt := T(mean[r]), T(rstd[r])
			for c := lo; c < hi; c++ {
				if dgamma != nil {
					dgamma[c] += gr[c] * (xr[c] - mt) * rt
				}
				if dbeta != nil {
					dbeta[c] += gr[c]
				}
			}
		}
	})
}
