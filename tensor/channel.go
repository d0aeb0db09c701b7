package tensor

import (
	"fmt"
	"math"
	"unsafe"
)

// Per-channel kernels for tensors laid out [N, C, ...] (channel axis 1, as
// in NCHW images and [N, C] feature matrices): the building blocks of fused
// batch normalisation, bias addition and their gradients.
//
// Every per-channel reduction sums one channel's values in a fixed order
// (image by image, each image's run with the same lane split) and a channel
// is reduced by a single goroutine, so results do not depend on the number
// of threads. Sums are carried in float64 across images.

// channelLayout returns the (outer, channels, inner) decomposition of shape.
func channelLayout(op string, shape []int) (outer, c, inner int) {
	if len(shape) < 2 {
		panic(fmt.Sprintf("tensor: %s: want a tensor [N,C,...] of rank >= 2, got shape %v", op, shape))
	}
	inner = 1
	for _, d := range shape[2:] {
		inner *= d
	}
	return shape[0], shape[1], inner
}

func checkChannelVec(op string, v *Tensor, c int, dt DType) {
	if v == nil {
		return
	}
	if v.Len() != c {
		panic(fmt.Sprintf("tensor: %s: per-channel vector of shape %v for %d channels", op, v.shape, c))
	}
	if v.dtype != dt {
		panic(fmt.Sprintf("tensor: %s: dtype mismatch %v vs %v", op, dt, v.dtype))
	}
}

// asF32 returns x as a []float32 when T is float32 and the AVX2 kernels
// are enabled (else nil).
func asF32[T Float](x []T) []float32 {
	var z T
	if !useSIMD || unsafe.Sizeof(z) != 4 || len(x) == 0 {
		return nil
	}
	return f32View(x)
}

// f32View is x as []float32, for a T known to be float32 (nil when empty).
func f32View[T Float](x []T) []float32 {
	if len(x) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}

// rowSum returns the sum of x (eight accumulator lanes).
func rowSum[T Float](x []T) float64 {
	if f := asF32(x); f != nil && len(f) >= 32 {
		n := len(f) &^ 31
		return float64(sumF32AVX2(&f[0], n)) + rowSum(x[n:])
	}
	var s [8]T
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		s[0] += v[0]
		s[1] += v[1]
		s[2] += v[2]
		s[3] += v[3]
		s[4] += v[4]
		s[5] += v[5]
		s[6] += v[6]
		s[7] += v[7]
	}
	for ; i < len(x); i++ {
		s[i&7] += x[i]
	}
	return float64((s[0]+s[1])+(s[2]+s[3])) + float64((s[4]+s[5])+(s[6]+s[7]))
}

// rowDot returns sum(a*b).
func rowDot[T Float](a, b []T) float64 {
	b = b[:len(a)]
	if f, g := asF32(a), asF32(b); f != nil && len(f) >= 32 {
		n := len(f) &^ 31
		return float64(dotF32AVX2(&f[0], &g[0], n)) + rowDot(a[n:], b[n:])
	}
	var s [4]T
	i := 0
	for ; i+4 <= len(a); i += 4 {
		x, y := a[i:i+4:i+4], b[i:i+4:i+4]
		s[0] += x[0] * y[0]
		s[1] += x[1] * y[1]
		s[2] += x[2] * y[2]
		s[3] += x[3] * y[3]
	}
	for ; i < len(a); i++ {
		s[i&3] += a[i] * b[i]
	}
	return float64(s[0]+s[1]) + float64(s[2]+s[3])
}

// rowSqDev returns sum((x-m)^2).
func rowSqDev[T Float](x []T, m T) float64 {
	if f := asF32(x); f != nil && len(f) >= 16 {
		n := len(f) &^ 15
		return float64(sqDevF32AVX2(&f[0], n, float32(m))) + rowSqDev(x[n:], m)
	}
	var s [4]T
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		d0, d1, d2, d3 := v[0]-m, v[1]-m, v[2]-m, v[3]-m
		s[0] += d0 * d0
		s[1] += d1 * d1
		s[2] += d2 * d2
		s[3] += d3 * d3
	}
	for ; i < len(x); i++ {
		d := x[i] - m
		s[i&3] += d * d
	}
	return float64(s[0]+s[1]) + float64(s[2]+s[3])
}

// rowSumDot returns sum(g) and sum(g*(x-m)) in one pass.
func rowSumDot[T Float](g, x []T, m T) (float64, float64) {
	x = x[:len(g)]
	if f, y := asF32(g), asF32(x); f != nil && len(f) >= 16 {
		n := len(f) &^ 15
		s, d := sumDotF32AVX2(&f[0], &y[0], n, float32(m))
		s2, d2 := rowSumDot(g[n:], x[n:], m)
		return float64(s) + s2, float64(d) + d2
	}
	var s, d [4]T
	i := 0
	for ; i+4 <= len(g); i += 4 {
		a, b := g[i:i+4:i+4], x[i:i+4:i+4]
		s[0] += a[0]
		s[1] += a[1]
		s[2] += a[2]
		s[3] += a[3]
		d[0] += a[0] * (b[0] - m)
		d[1] += a[1] * (b[1] - m)
		d[2] += a[2] * (b[2] - m)
		d[3] += a[3] * (b[3] - m)
	}
	for ; i < len(g); i++ {
		s[i&3] += g[i]
		d[i&3] += g[i] * (x[i] - m)
	}
	return float64(s[0]+s[1]) + float64(s[2]+s[3]), float64(d[0]+d[1]) + float64(d[2]+d[3])
}

// rowAffine sets o = a*x + b.
func rowAffine[T Float](o, x []T, a, b T) {
	x = x[:len(o)]
	if f, y := asF32(o), asF32(x); f != nil && len(f) >= 16 {
		n := len(f) &^ 15
		affineF32AVX2(&f[0], &y[0], n, float32(a), float32(b))
		o, x = o[n:], x[n:]
	}
	for i, v := range x {
		o[i] = a*v + b
	}
}

// rowAffineRelu sets o = max(a*x + b, 0).
func rowAffineRelu[T Float](o, x []T, a, b T) {
	x = x[:len(o)]
	if f, y := asF32(o), asF32(x); f != nil && len(f) >= 16 {
		n := len(f) &^ 15
		affineReluF32AVX2(&f[0], &y[0], n, float32(a), float32(b))
		o, x = o[n:], x[n:]
	}
	rowAffine(o, x, a, b)
	reluInto(o, o)
}

// rowAffine2 sets o = a*x + b*y + c.
func rowAffine2[T Float](o, x, y []T, a, b, c T) {
	x, y = x[:len(o)], y[:len(o)]
	if f, u, v := asF32(o), asF32(x), asF32(y); f != nil && len(f) >= 16 {
		n := len(f) &^ 15
		affine2F32AVX2(&f[0], &u[0], &v[0], n, float32(a), float32(b), float32(c))
		o, x, y = o[n:], x[n:], y[n:]
	}
	for i := range o {
		o[i] = a*x[i] + b*y[i] + c
	}
}

// channelReduce runs f(ch) for every channel, in parallel over channels.
func channelReduce(c, work int, f func(ch int)) {
	parallelFor(c, work, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			f(ch)
		}
	})
}

// ChannelSum returns the per-channel sums [C] of x [N,C,...].
func ChannelSum(x *Tensor) *Tensor {
	outer, c, inner := channelLayout("ChannelSum", x.shape)
	out := New(x.dtype, c)
	if x.dtype == Float32 {
		channelSumKernel(x.f32, out.f32, outer, c, inner)
	} else {
		channelSumKernel(x.f64, out.f64, outer, c, inner)
	}
	return out
}

func channelSumKernel[T Float](x, out []T, outer, c, inner int) {
	channelReduce(c, outer*c*inner, func(ch int) {
		s := 0.0
		for n := 0; n < outer; n++ {
			s += rowSum(x[(n*c+ch)*inner : (n*c+ch+1)*inner])
		}
		out[ch] = T(s)
	})
}

// ChannelDot returns the per-channel sums [C] of a*b for same-shaped
// a, b [N,C,...].
func ChannelDot(a, b *Tensor) *Tensor {
	mustSameDType("ChannelDot", a, b)
	if !SameShape(a.shape, b.shape) {
		panic(fmt.Sprintf("tensor: ChannelDot: shapes %v and %v differ", a.shape, b.shape))
	}
	outer, c, inner := channelLayout("ChannelDot", a.shape)
	out := New(a.dtype, c)
	if a.dtype == Float32 {
		channelDotKernel(a.f32, b.f32, out.f32, outer, c, inner)
	} else {
		channelDotKernel(a.f64, b.f64, out.f64, outer, c, inner)
	}
	return out
}

func channelDotKernel[T Float](a, b, out []T, outer, c, inner int) {
	channelReduce(c, 2*outer*c*inner, func(ch int) {
		s := 0.0
		for n := 0; n < outer; n++ {
			o := (n*c + ch) * inner
			s += rowDot(a[o:o+inner], b[o:o+inner])
		}
		out[ch] = T(s)
	})
}

// ChannelCombine returns sum_j coefs[j][c]*xs[j] + shift[c] over a tensor of
// the given shape [N,C,...]: every xs[j] has that shape, every coefs[j] and
// shift are per-channel vectors [C] or nil (a nil coefficient is 1, a nil
// shift is 0). With no xs it broadcasts shift over shape.
func ChannelCombine(shape []int, xs, coefs []*Tensor, shift *Tensor) *Tensor {
	if len(coefs) != len(xs) {
		panic(fmt.Sprintf("tensor: ChannelCombine: %d coefficients for %d tensors", len(coefs), len(xs)))
	}
	_, c, _ := channelLayout("ChannelCombine", shape)
	var dt DType
	switch {
	case len(xs) > 0:
		dt = xs[0].dtype
	case shift != nil:
		dt = shift.dtype
	default:
		panic("tensor: ChannelCombine: nothing to combine")
	}
	for j, x := range xs {
		if !SameShape(x.shape, shape) || x.dtype != dt {
			panic(fmt.Sprintf("tensor: ChannelCombine: operand %d is %v %v, want %v %v", j, x.dtype, x.shape, dt, shape))
		}
		checkChannelVec("ChannelCombine", coefs[j], c, dt)
	}
	checkChannelVec("ChannelCombine", shift, c, dt)
	return channelCombine(shape, xs, coefs, shift, dt, false)
}

func channelCombine(shape []int, xs, coefs []*Tensor, shift *Tensor, dt DType, relu bool) *Tensor {
	outer, c, inner := channelLayout("ChannelCombine", shape)
	out := newDirty(dt, shape...) // every row is written
	if dt == Float32 {
		channelCombineRun(out.f32, xs, coefs, shift, outer, c, inner, relu, func(t *Tensor) []float32 { return t.f32 })
	} else {
		channelCombineRun(out.f64, xs, coefs, shift, outer, c, inner, relu, func(t *Tensor) []float64 { return t.f64 })
	}
	return out
}

func channelCombineRun[T Float](out []T, xs, coefs []*Tensor, shift *Tensor, outer, c, inner int, relu bool, data func(*Tensor) []T) {
	k := len(xs)
	xd := make([][]T, k)
	cf := make([][]T, k)
	for j := range xs {
		xd[j] = data(xs[j])
		if coefs[j] != nil {
			cf[j] = data(coefs[j])
		}
	}
	var sh []T
	if shift != nil {
		sh = data(shift)
	}
	coef := func(j, ch int) T {
		if cf[j] == nil {
			return 1
		}
		return cf[j][ch]
	}
	rows := outer * c
	parallelFor(rows, rows*inner*(k+1), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			ch := r % c
			o := out[r*inner : (r+1)*inner]
			var b T
			if sh != nil {
				b = sh[ch]
			}
			switch k {
			case 0:
				fill(o, b)
			case 1:
				if relu {
					rowAffineRelu(o, xd[0][r*inner:], coef(0, ch), b)
					continue
				}
				rowAffine(o, xd[0][r*inner:], coef(0, ch), b)
			default:
				rowAffine2(o, xd[0][r*inner:], xd[1][r*inner:], coef(0, ch), coef(1, ch), b)
				for j := 2; j < k; j++ {
					axpy(o, xd[j][r*inner:(r+1)*inner], coef(j, ch))
				}
			}
			if relu {
				reluInto(o, o)
			}
		}
	})
}

// BatchNormStats returns the per-channel mean and biased variance of
// x [N,C,...] over every axis but 1, in float64 (two passes per channel).
func BatchNormStats(x *Tensor) (mean, variance []float64) {
	outer, c, inner := channelLayout("BatchNormStats", x.shape)
	mean, variance = make([]float64, c), make([]float64, c)
	if x.dtype == Float32 {
		bnStatsKernel(x.f32, mean, variance, outer, c, inner)
	} else {
		bnStatsKernel(x.f64, mean, variance, outer, c, inner)
	}
	return mean, variance
}

func bnStatsKernel[T Float](x []T, mean, variance []float64, outer, c, inner int) {
	m := float64(outer * inner)
	channelReduce(c, 2*outer*c*inner, func(ch int) {
		s := 0.0
		for n := 0; n < outer; n++ {
			s += rowSum(x[(n*c+ch)*inner : (n*c+ch+1)*inner])
		}
		mu := s / m
		v := 0.0
		for n := 0; n < outer; n++ {
			v += rowSqDev(x[(n*c+ch)*inner:(n*c+ch+1)*inner], T(mu))
		}
		mean[ch], variance[ch] = mu, bnVariance[T](v, m, mu)
	})
}

// bnVariance is the variance from the sum of squared deviations from
// T(mean) over m values, corrected for rounding the mean to T (exact in
// float64).
func bnVariance[T Float](sqdev, m, mean float64) float64 {
	d := float64(T(mean)) - mean
	return max(sqdev/m-d*d, 0)
}

// BatchNormApply returns gamma*(x-mean)*rstd + beta per channel for
// x [N,C,...]; gamma and beta are [C] tensors or nil (1 and 0).
func BatchNormApply(x *Tensor, mean, rstd []float64, gamma, beta *Tensor) *Tensor {
	return batchNormApply(x, mean, rstd, gamma, beta, false)
}

// BatchNormApplyReLU is max(BatchNormApply(x, mean, rstd, gamma, beta), 0)
// in the same pass.
func BatchNormApplyReLU(x *Tensor, mean, rstd []float64, gamma, beta *Tensor) *Tensor {
	return batchNormApply(x, mean, rstd, gamma, beta, true)
}

func batchNormApply(x *Tensor, mean, rstd []float64, gamma, beta *Tensor, relu bool) *Tensor {
	_, c, _ := channelLayout("BatchNormApply", x.shape)
	if len(mean) != c || len(rstd) != c {
		panic(fmt.Sprintf("tensor: BatchNormApply: %d/%d statistics for %d channels", len(mean), len(rstd), c))
	}
	checkChannelVec("BatchNormApply", gamma, c, x.dtype)
	checkChannelVec("BatchNormApply", beta, c, x.dtype)
	sc, sh := bnScaleShift(mean, rstd, gamma, beta)
	scale, shift := FromFloat64(sc, c), FromFloat64(sh, c)
	return channelCombine(x.shape, []*Tensor{x}, []*Tensor{scale.AsType(x.dtype)}, shift.AsType(x.dtype), x.dtype, relu)
}

// bnScaleShift folds batch statistics and the affine parameters into one
// scale and shift per channel: y = scale*x + shift.
func bnScaleShift(mean, rstd []float64, gamma, beta *Tensor) (scale, shift []float64) {
	scale, shift = make([]float64, len(mean)), make([]float64, len(mean))
	for ch := range mean {
		s := rstd[ch]
		if gamma != nil {
			s *= gamma.Flat(ch)
		}
		t := -mean[ch] * s
		if beta != nil {
			t += beta.Flat(ch)
		}
		scale[ch], shift[ch] = s, t
	}
	return scale, shift
}

// BatchNormBackward returns, for y = BatchNormApply(x, mean, rstd, gamma,
// beta) with mean and rstd the batch statistics of x, the gradients dx,
// dgamma [C] and dbeta [C] given gy. gamma nil means 1.
func BatchNormBackward(gy, x *Tensor, mean, rstd []float64, gamma *Tensor) (dx, dgamma, dbeta *Tensor) {
	return BatchNormReLUBackward(gy, nil, x, mean, rstd, gamma)
}

// BatchNormReLUBackward is BatchNormBackward for y = relu(batchnorm(x)):
// gy is first masked where y <= 0, on the fly (y nil: no mask).
func BatchNormReLUBackward(gy, y, x *Tensor, mean, rstd []float64, gamma *Tensor) (dx, dgamma, dbeta *Tensor) {
	mustSameDType("BatchNormBackward", gy, x)
	if !SameShape(gy.shape, x.shape) || (y != nil && (!SameShape(y.shape, x.shape) || y.dtype != x.dtype)) {
		panic(fmt.Sprintf("tensor: BatchNormBackward: gradient %v for input %v", gy.shape, x.shape))
	}
	outer, c, inner := channelLayout("BatchNormBackward", x.shape)
	checkChannelVec("BatchNormBackward", gamma, c, x.dtype)
	dx, dgamma, dbeta = newDirty(x.dtype, x.shape...), New(x.dtype, c), New(x.dtype, c) // every dx row is written
	gam := gammaValues(gamma, c)
	if x.dtype == Float32 {
		var ym []float32
		if y != nil {
			ym = y.f32
		}
		bnBackwardKernel(gy.f32, ym, x.f32, dx.f32, dgamma.f32, dbeta.f32, mean, rstd, gam, outer, c, inner)
	} else {
		var ym []float64
		if y != nil {
			ym = y.f64
		}
		bnBackwardKernel(gy.f64, ym, x.f64, dx.f64, dgamma.f64, dbeta.f64, mean, rstd, gam, outer, c, inner)
	}
	return dx, dgamma, dbeta
}

func bnBackwardKernel[T Float](g, y, x, dx, dgamma, dbeta []T, mean, rstd, gam []float64, outer, c, inner int) {
	m := float64(outer * inner)
	channelReduce(c, 4*outer*c*inner, func(ch int) {
		// With a mask, the masked gradient is first written into dx (which
		// the last pass then overwrites in place).
		grad := func(n int, again bool) []T {
			o := (n*c + ch) * inner
			if y == nil {
				return g[o : o+inner]
			}
			if !again {
				maskPositive(g[o:o+inner], y[o:o+inner], dx[o:o+inner])
			}
			return dx[o : o+inner]
		}
		bnBackwardChannel(ch, outer, c, inner, m, grad, x, dx, dgamma, dbeta, mean, rstd, gam)
	})
}

// bnBackwardChannel computes channel ch's dbeta, dgamma and input gradient
// dx = gam*r*(g - sum(g)/m - xhat*sum(g*xhat)/m), xhat = (x-mean)*r, from
// its n planes of the given length in x [N,C,plane] (row kernels: the sums
// by rowSumDot, dx by rowAffine2). grad(i, again) returns plane i's output
// gradient: once for the sums, then again (the same values) for dx, which
// may be written over it.
func bnBackwardChannel[T Float](ch, n, c, plane int, m float64, grad func(i int, again bool) []T, x, dx, dgamma, dbeta []T, mean, rstd, gam []float64) {
	mu := T(mean[ch])
	d := float64(mu) - mean[ch] // rounding of the mean
	sg, sgx := 0.0, 0.0
	for i := 0; i < n; i++ {
		o := (i*c + ch) * plane
		a, b := rowSumDot(grad(i, false), x[o:o+plane], mu)
		sg += a
		sgx += b
	}
	a, b, cst := bnBackwardCoef(ch, sg, sgx, d, mean, rstd, gam, m, dgamma, dbeta)
	for i := 0; i < n; i++ {
		o := (i*c + ch) * plane
		rowAffine2(dx[o:o+plane], grad(i, true), x[o:], T(a), T(b), T(cst))
	}
}

// bnBackwardCoef sets channel ch's dbeta and dgamma from its sums
// sg = sum(g) and sgx = sum(g*(x - T(mean))) (d: T(mean) - mean) and
// returns the input gradient's coefficients, dx = a*g + b*x + cst.
func bnBackwardCoef[T Float](ch int, sg, sgx, d float64, mean, rstd, gam []float64, m float64, dgamma, dbeta []T) (a, b, cst float64) {
	r := rstd[ch]
	sgxhat := (sgx + d*sg) * r // sum(g * xhat)
	dbeta[ch], dgamma[ch] = T(sg), T(sgxhat)
	a = gam[ch] * r
	b = -a * r * sgxhat / m
	cst = -a*sg/m - b*mean[ch]
	return a, b, cst
}

// gammaValues returns BatchNorm's per-channel weights (gamma nil: 1).
func gammaValues(gamma *Tensor, c int) []float64 {
	gam := make([]float64, c)
	for ch := range gam {
		gam[ch] = 1
		if gamma != nil {
			gam[ch] = gamma.Flat(ch)
		}
	}
	return gam
}

// InvStd returns 1/sqrt(v+eps) for each variance.
func InvStd(variance []float64, eps float64) []float64 {
	r := make([]float64, len(variance))
	for i, v := range variance {
		r[i] = 1 / math.Sqrt(v+eps)
	}
	return r
}

// ReluInPlace sets t = max(t, 0) elementwise (NaN becomes 0), in place.
func ReluInPlace(t *Tensor) {
	if t.dtype == Float32 {
		reluRun(t.f32)
	} else {
		reluRun(t.f64)
	}
}

func reluRun[T Float](x []T) {
	parallelFor(len(x), len(x), func(lo, hi int) { reluInto(x[lo:hi], x[lo:hi]) })
}

// AffineReLUMaxPool2 returns the 2x2, stride-2 max-pool of
// relu(scale[c]*x + shift[c]) for float32 x [N,C,H,W] (odd trailing rows
// and columns are dropped, as MaxPool2d does): inference-time BatchNorm
// (folded into scale and shift), ReLU and pooling in one pass over x.
func AffineReLUMaxPool2(x *Tensor, scale, shift []float32) *Tensor {
	if x.dtype != Float32 || len(x.shape) != 4 {
		panic(fmt.Sprintf("tensor: AffineReLUMaxPool2: want a float32 [N,C,H,W] tensor, got %v %v", x.dtype, x.shape))
	}
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	if len(scale) != c || len(shift) != c {
		panic(fmt.Sprintf("tensor: AffineReLUMaxPool2: %d scales and %d shifts for %d channels", len(scale), len(shift), c))
	}
	oh, ow := h/2, w/2
	out := New(Float32, n, c, oh, ow)
	parallelFor(n*c, n*c*h*w, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			a, b := scale[p%c], shift[p%c]
			in, o := x.f32[p*h*w:(p+1)*h*w], out.f32[p*oh*ow:(p+1)*oh*ow]
			for i := 0; i < oh; i++ {
				pool2Row(o[i*ow:(i+1)*ow], in[2*i*w:2*i*w+2*ow], in[(2*i+1)*w:(2*i+1)*w+2*ow], a, b)
			}
		}
	})
	return out
}

// pool2Row writes o[j] = max(0, a*z+b over r0[2j], r0[2j+1], r1[2j], r1[2j+1]).
func pool2Row(o, r0, r1 []float32, a, b float32) {
	if useAVX512Pool && len(o) > 0 {
		pool2AffineReluAVX512(&o[0], &r0[0], &r1[0], len(o), a, b)
		return
	}
	if useSIMD && len(o) >= 8 {
		n := len(o) &^ 7
		pool2AffineReluAVX2(&o[0], &r0[0], &r1[0], n, a, b)
		if n < len(o) { // the last 8 again: outputs depend only on inputs
			k := len(o) - 8
			pool2AffineReluAVX2(&o[k], &r0[2*k], &r1[2*k], 8, a, b)
		}
		return
	}
	for j := range o { // max is branch-free: comparisons mispredict on real data
		v := max(a*r0[2*j]+b, a*r0[2*j+1]+b, a*r1[2*j]+b, a*r1[2*j+1]+b)
		o[j] = max(v, 0)
	}
}

// BatchNormReLUMaxPool2 returns the 2x2, stride-2 max-pool of
// BatchNormApplyReLU(x, mean, rstd, gamma, beta) for x [N,C,H,W] (odd
// trailing rows and columns dropped, as MaxPool2d does) and the flat
// indices into x of the chosen elements, as MaxPool2dInt32 gives them —
// without storing the normalised tensor: each plane is normalised into a
// scratch plane (the same arithmetic as BatchNormApplyReLU) and pooled
// from there (the same as MaxPool2dInt32), so values and indices equal
// the two operations'.
func BatchNormReLUMaxPool2(x *Tensor, mean, rstd []float64, gamma, beta *Tensor) (*Tensor, []int32) {
	n, c, h, w, oh, ow := poolCheck("BatchNormReLUMaxPool2", x.shape, 2, 2, 0)
	if len(mean) != c || len(rstd) != c {
		panic(fmt.Sprintf("tensor: BatchNormReLUMaxPool2: %d/%d statistics for %d channels", len(mean), len(rstd), c))
	}
	if x.Len() > math.MaxInt32 {
		panic(fmt.Sprintf("tensor: BatchNormReLUMaxPool2: input %v too large for int32 indices", x.shape))
	}
	checkChannelVec("BatchNormReLUMaxPool2", gamma, c, x.dtype)
	checkChannelVec("BatchNormReLUMaxPool2", beta, c, x.dtype)
	scale, shift := bnScaleShift(mean, rstd, gamma, beta) // as batchNormApply
	out := newDirty(x.dtype, n, c, oh, ow)                // every window writes its output
	idx := make([]int32, out.Len())
	if x.dtype == Float32 {
		bnReLUPoolRun(x.f32, out.f32, idx, scale, shift, n*c, c, h, w, oh, ow)
	} else {
		bnReLUPoolRun(x.f64, out.f64, idx, scale, shift, n*c, c, h, w, oh, ow)
	}
	return out, idx
}

func bnReLUPoolRun[T Float](x, out []T, idx []int32, scale, shift []float64, planes, c, h, w, oh, ow int) {
	parallelFor(planes, planes*h*w*2, func(lo, hi int) {
		bp := getScratch[T](h * w)
		defer putScratch(bp)
		buf := *bp
		for p := lo; p < hi; p++ {
			ch := p % c
			base := p * h * w
			bnReLUPoolPlane(buf, x[base:base+h*w], T(scale[ch]), T(shift[ch]), w, oh, ow, out[p*oh*ow:], idx[p*oh*ow:], base)
		}
	})
}

// bnReLUPoolPlane normalises one plane x [H, w] into buf (relu(a*x+b)) and
// pools it 2x2 into out [oh, ow] and idx (flat indices: base + the offset
// in the plane).
func bnReLUPoolPlane[T Float](buf, x []T, a, b T, w, oh, ow int, out []T, idx []int32, base int) {
	rowAffineRelu(buf[:len(x)], x, a, b)
	for oi := 0; oi < oh; oi++ {
		maxPool2x2Row(buf[2*oi*w:], w, out[oi*ow:(oi+1)*ow], idx[oi*ow:(oi+1)*ow], base+2*oi*w)
	}
}

// BatchNormReLUMaxPool2Backward returns the gradients dx, dgamma [C] and
// dbeta [C] of out, idx = BatchNormReLUMaxPool2(x, mean, rstd, gamma, beta)
// (mean, rstd: x's batch statistics) given g, the gradient of out: what
// BatchNormReLUBackward gives for MaxPool2dBackward(g, idx), without that
// tensor. Only the chosen elements carry a gradient into the normalisation
// (masked where out <= 0, the ReLU), so the channel sums run over the
// pooled positions; the input gradient is then one affine pass over x plus
// the chosen elements' share.
func BatchNormReLUMaxPool2Backward(g, out *Tensor, idx []int32, x *Tensor, mean, rstd []float64, gamma *Tensor) (dx, dgamma, dbeta *Tensor) {
	mustSameDType("BatchNormReLUMaxPool2Backward", g, x)
	n, c, h, w, oh, ow := poolCheck("BatchNormReLUMaxPool2Backward", x.shape, 2, 2, 0)
	if !SameShape(g.shape, []int{n, c, oh, ow}) || !SameShape(out.shape, g.shape) || out.dtype != g.dtype || len(idx) != g.Len() {
		panic(fmt.Sprintf("tensor: BatchNormReLUMaxPool2Backward: gradient %v, output %v and %d indices for input %v", g.shape, out.shape, len(idx), x.shape))
	}
	checkChannelVec("BatchNormReLUMaxPool2Backward", gamma, c, x.dtype)
	gam := gammaValues(gamma, c)
	dx, dgamma, dbeta = newDirty(x.dtype, x.shape...), New(x.dtype, c), New(x.dtype, c) // every dx plane is written
	if x.dtype == Float32 {
		bnReLUPoolBackward(g.f32, out.f32, idx, x.f32, dx.f32, dgamma.f32, dbeta.f32, mean, rstd, gam, n, c, h*w, oh*ow)
	} else {
		bnReLUPoolBackward(g.f64, out.f64, idx, x.f64, dx.f64, dgamma.f64, dbeta.f64, mean, rstd, gam, n, c, h*w, oh*ow)
	}
	return dx, dgamma, dbeta
}

func bnReLUPoolBackward[T Float](g, out []T, idx []int32, x, dx, dgamma, dbeta []T, mean, rstd, gam []float64, n, c, plane, pooled int) {
	m := float64(n * plane)
	channelReduce(c, 2*n*c*plane, func(ch int) {
		bp := getScratch[T](pooled + plane)
		defer putScratch(bp)
		gm, dy := (*bp)[:pooled], (*bp)[pooled:]
		// dy: plane i's gradient of the normalised values, as
		// MaxPool2dBackward then the ReLU mask give it: the pooled gradient
		// (masked where out <= 0) at the chosen elements, zero elsewhere.
		// Built in a scratch plane, so the sums and the input gradient run
		// the same row kernels on the same numbers as BatchNormReLUBackward.
		grad := func(i int, again bool) []T {
			o, base := (i*c+ch)*pooled, (i*c+ch)*plane
			poolGrad(g[o:o+pooled], out[o:o+pooled], idx[o:o+pooled], gm, dy, base)
			return dy
		}
		bnBackwardChannel(ch, n, c, plane, m, grad, x, dx, dgamma, dbeta, mean, rstd, gam)
	})
}
