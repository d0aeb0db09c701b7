package tensor

import "math"

// LogSumExp returns log(sum(exp(t))) along axis, computed stably by
// subtracting the maximum first.
func LogSumExp(t *Tensor, axis int, keepDims bool) *Tensor {
	axis = normAxis("LogSumExp", t, axis)
	outer, inner := outerInner(t.shape, axis)
	out := New(t.dtype, reducedShape(t.shape, []int{axis}, keepDims)...)
	if t.dtype == Float32 {
		lseKernel(t.f32, out.f32, nil, outer, t.shape[axis], inner, 0)
	} else {
		lseKernel(t.f64, out.f64, nil, outer, t.shape[axis], inner, 0)
	}
	return out
}

// LogSoftmax returns t - LogSumExp(t) along axis.
func LogSoftmax(t *Tensor, axis int) *Tensor {
	axis = normAxis("LogSoftmax", t, axis)
	outer, inner := outerInner(t.shape, axis)
	out := New(t.dtype, t.shape...)
	if t.dtype == Float32 {
		lseKernel(t.f32, nil, out.f32, outer, t.shape[axis], inner, 1)
	} else {
		lseKernel(t.f64, nil, out.f64, outer, t.shape[axis], inner, 1)
	}
	return out
}

// Softmax returns exp(t) / sum(exp(t)) along axis.
func Softmax(t *Tensor, axis int) *Tensor {
	axis = normAxis("Softmax", t, axis)
	outer, inner := outerInner(t.shape, axis)
	out := New(t.dtype, t.shape...)
	if t.dtype == Float32 {
		lseKernel(t.f32, nil, out.f32, outer, t.shape[axis], inner, 2)
	} else {
		lseKernel(t.f64, nil, out.f64, outer, t.shape[axis], inner, 2)
	}
	return out
}

// lseKernel computes, per (outer, inner) line of length d, the logsumexp
// (mode 0, into lse), the log-softmax (mode 1) or the softmax (mode 2, into full).
func lseKernel[T Float](x, lse, full []T, outer, d, inner, mode int) {
	fx, ff := asF32(x), asF32(full)
	rowsAVX := mode == 1 && inner == 1 && fx != nil && ff != nil && useAVX512Exp
	parallelFor(outer, outer*d*inner*8, func(lo, hi int) {
		if rowsAVX {
			logSoftmaxRowsF32(fx[lo*d:hi*d], ff[lo*d:hi*d], d)
			return
		}
		for p := lo; p < hi; p++ {
			for i := 0; i < inner; i++ {
				base := p*d*inner + i
				m := math.Inf(-1)
				for r := 0; r < d; r++ {
					if v := float64(x[base+r*inner]); v > m {
						m = v
					}
				}
				if math.IsInf(m, -1) {
					m = 0
				}
				s := 0.0
				for r := 0; r < d; r++ {
					s += math.Exp(float64(x[base+r*inner]) - m)
				}
				ls := math.Log(s)
				// The full outputs are formed from x-m, never from x-(m+ls):
				// rounding m+ls would cost ulp(m), i.e. precision in
				// proportion to the inputs' magnitude.
				switch mode {
				case 0:
					lse[p*inner+i] = T(m + ls)
				case 1:
					for r := 0; r < d; r++ {
						full[base+r*inner] = T((float64(x[base+r*inner]) - m) - ls)
					}
				case 2:
					for r := 0; r < d; r++ {
						full[base+r*inner] = T(math.Exp(float64(x[base+r*inner])-m) / s)
					}
				}
			}
		}
	})
}

// logSoftmaxRowsF32 is lseKernel's log-softmax over contiguous float32
// rows of length d with the AVX-512 exponential: the e^(x-m) go through
// the output row (overwritten afterwards) and are summed in float64, and
// the outputs are (x-m) - log(sum) in float64 as in the scalar loop. Only
// the exponentials differ from math.Exp, by float32 rounding (tested).
func logSoftmaxRowsF32(x, out []float32, d int) {
	for r := 0; r+d <= len(x); r += d {
		xr, or := x[r:r+d], out[r:r+d]
		m := math.Inf(-1)
		for _, v := range xr {
			if float64(v) > m {
				m = float64(v)
			}
		}
		if math.IsInf(m, -1) {
			m = 0
		}
		expShift(or, xr, 1, m)
		s := 0.0
		for _, e := range or {
			s += float64(e)
		}
		ls := math.Log(s)
		for i, v := range xr {
			or[i] = float32((float64(v) - m) - ls)
		}
	}
}
