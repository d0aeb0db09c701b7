package tensor

import (
	"fmt"
	"math"
)

// A convolution block whose convolution is cheap to recompute (few input
// channels: conv4's first layer reads one) followed by BatchNorm with
// batch statistics, ReLU and 2x2 max-pooling, without its convolution
// output: the block's largest tensor (15 MB per 75 Omniglot images) would
// otherwise be written once and streamed from memory five more times
// (statistics, pooling, the BatchNorm backward, the bias and the weight
// gradient). Each pass recomputes one image's convolution into scratch
// (im2col + gemm, a few hundred kilobytes) and consumes it there. Every
// pass does, image by image and channel by channel, what the separate
// operations do (the per-image im2col path of Conv2dBias, BatchNormStats,
// BatchNormReLUMaxPool2 and its backward, and the per-image weight and
// input gradients), and their per-image, per-channel sums are added in
// the same order, so the results are bit-identical to
// BatchNormReLUMaxPool2(Conv2dBias(x, w, b), ...) and its gradients.

// ConvRecompute reports whether the convolution of x [N,C,H,W] by w
// [O,C,KH,KW] qualifies: C*KH*KW <= 32 (recomputing is cheaper than
// reading the output back from memory) on a geometry whose three passes
// run image by image through im2col (so the fused block's numbers are the
// separate operations').
func ConvRecompute(xShape, wShape []int, stride, pad int) bool {
	if len(xShape) != 4 || len(wShape) != 4 || xShape[1] != wShape[1] || stride < 1 || pad < 0 {
		return false
	}
	c, h, w, o, kh, kw := xShape[1], xShape[2], xShape[3], wShape[0], wShape[2], wShape[3]
	if h+2*pad < kh || w+2*pad < kw {
		return false
	}
	oh, ow := ConvOutSize(h, kh, stride, pad), ConvOutSize(w, kw, stride, pad)
	g := convGeom{c, h, w, kh, kw, oh, ow, stride, pad}
	return c*kh*kw <= 32 && oh >= 2 && ow >= 2 && oh*ow >= batchedOHOW &&
		!useImplicit(g, true) && !useImplicit(g, false) && !winoUse[float32](g, o)
}

// convBlock is a recomputable convolution's geometry and operands.
type convBlock[T Float] struct {
	g       convGeom
	n, o    int
	x, w, b []T // b nil: no bias
}

func newConvBlock[T Float](op string, x, w, b *Tensor, stride, pad int, xs, ws, bs []T) convBlock[T] {
	n, c, h, wd, o, kh, kw, oh, ow := convCheck(op, x.shape, w.shape, stride, pad)
	if b != nil {
		mustSameDType(op, x, b)
		if b.Len() != o {
			panic(fmt.Sprintf("tensor: %s: bias %v for %d output channels", op, b.shape, o))
		}
	}
	if !ConvRecompute(x.shape, w.shape, stride, pad) {
		panic(fmt.Sprintf("tensor: %s: input %v, filters %v (stride %d, padding %d) do not qualify (ConvRecompute)", op, x.shape, w.shape, stride, pad))
	}
	return convBlock[T]{convGeom{c, h, wd, kh, kw, oh, ow, stride, pad}, n, o, xs, ws, bs}
}

// image sets z [O, OH*OW] to image i's convolution plus bias, as
// convForward's per-image path computes it; col is [CKK, OH*OW] scratch.
func (cb convBlock[T]) image(i int, col, z []T) {
	chw := cb.g.c * cb.g.h * cb.g.w
	convImage(cb.g, cb.o, cb.x[i*chw:(i+1)*chw], cb.w, cb.b, col, z)
}

// eachImage runs f(i, col, z) for every image with its convolution in z,
// images in parallel.
func (cb convBlock[T]) eachImage(f func(i int, col, z []T)) {
	ckk, ohow := cb.g.ckk(), cb.g.ohow()
	parallelTasks(cb.n, cb.n*cb.o*ckk*ohow, func(i int) {
		pc, pz := getScratch[T](ckk*ohow), getScratch[T](cb.o*ohow)
		cb.image(i, *pc, *pz)
		f(i, *pc, *pz)
		putScratch(pc)
		putScratch(pz)
	})
}

// ConvBatchNormStats returns the batch mean and variance per output
// channel of Conv2dBias(x, w, b, stride, pad) for a geometry ConvRecompute
// accepts: BatchNormStats of that tensor, bit for bit, without it.
func ConvBatchNormStats(x, w, b *Tensor, stride, pad int) (mean, variance []float64) {
	mustSameDType("ConvBatchNormStats", x, w)
	if x.dtype == Float32 {
		cb := newConvBlock("ConvBatchNormStats", x, w, b, stride, pad, x.f32, w.f32, b32(b))
		return convBNStats(cb)
	}
	cb := newConvBlock("ConvBatchNormStats", x, w, b, stride, pad, x.f64, w.f64, b64(b))
	return convBNStats(cb)
}

func b32(b *Tensor) []float32 {
	if b == nil {
		return nil
	}
	return b.f32
}

func b64(b *Tensor) []float64 {
	if b == nil {
		return nil
	}
	return b.f64
}

func convBNStats[T Float](cb convBlock[T]) (mean, variance []float64) {
	n, o, ohow := cb.n, cb.o, cb.g.ohow()
	m := float64(n * ohow)
	// per image and channel, then added in image order: BatchNormStats' sums
	part := make([]float64, n*o)
	cb.eachImage(func(i int, _, z []T) {
		for ch := 0; ch < o; ch++ {
			part[i*o+ch] = rowSum(z[ch*ohow : (ch+1)*ohow])
		}
	})
	mean = make([]float64, o)
	for ch := range mean {
		s := 0.0
		for i := 0; i < n; i++ {
			s += part[i*o+ch]
		}
		mean[ch] = s / m
	}
	cb.eachImage(func(i int, _, z []T) {
		for ch := 0; ch < o; ch++ {
			part[i*o+ch] = rowSqDev(z[ch*ohow:(ch+1)*ohow], T(mean[ch]))
		}
	})
	variance = make([]float64, o)
	for ch := range variance {
		v := 0.0
		for i := 0; i < n; i++ {
			v += part[i*o+ch]
		}
		variance[ch] = bnVariance[T](v, m, mean[ch])
	}
	return mean, variance
}

// ConvBatchNormReLUMaxPool2 is BatchNormReLUMaxPool2(Conv2dBias(x, w, b,
// stride, pad), mean, rstd, gamma, beta) for a geometry ConvRecompute
// accepts, without the convolution's output; the indices are flat
// indices into that (never stored) output [N, O, OH, OW].
func ConvBatchNormReLUMaxPool2(x, w, b *Tensor, stride, pad int, mean, rstd []float64, gamma, beta *Tensor) (*Tensor, []int32) {
	mustSameDType("ConvBatchNormReLUMaxPool2", x, w)
	n, _, _, _, o, _, _, oh, ow := convCheck("ConvBatchNormReLUMaxPool2", x.shape, w.shape, stride, pad)
	if len(mean) != o || len(rstd) != o {
		panic(fmt.Sprintf("tensor: ConvBatchNormReLUMaxPool2: %d/%d statistics for %d channels", len(mean), len(rstd), o))
	}
	if n*o*oh*ow > math.MaxInt32 {
		panic(fmt.Sprintf("tensor: ConvBatchNormReLUMaxPool2: output [%d %d %d %d] too large for int32 indices", n, o, oh, ow))
	}
	checkChannelVec("ConvBatchNormReLUMaxPool2", gamma, o, x.dtype)
	checkChannelVec("ConvBatchNormReLUMaxPool2", beta, o, x.dtype)
	scale, shift := bnScaleShift(mean, rstd, gamma, beta)
	out := newDirty(x.dtype, n, o, oh/2, ow/2)
	idx := make([]int32, out.Len())
	if x.dtype == Float32 {
		cb := newConvBlock("ConvBatchNormReLUMaxPool2", x, w, b, stride, pad, x.f32, w.f32, b32(b))
		convBNPool(cb, out.f32, idx, scale, shift)
	} else {
		cb := newConvBlock("ConvBatchNormReLUMaxPool2", x, w, b, stride, pad, x.f64, w.f64, b64(b))
		convBNPool(cb, out.f64, idx, scale, shift)
	}
	return out, idx
}

func convBNPool[T Float](cb convBlock[T], out []T, idx []int32, scale, shift []float64) {
	o, ohow := cb.o, cb.g.ohow()
	h, w := cb.g.oh, cb.g.ow
	ph, pw := h/2, w/2
	cb.eachImage(func(i int, col, z []T) {
		buf := col[:ohow] // im2col's scratch is free again: CKK >= 1 rows of OH*OW
		for ch := 0; ch < o; ch++ {
			p := i*o + ch
			bnReLUPoolPlane(buf, z[ch*ohow:(ch+1)*ohow], T(scale[ch]), T(shift[ch]), w, ph, pw, out[p*ph*pw:], idx[p*ph*pw:], p*ohow)
		}
	})
}

// ConvBatchNormReLUMaxPool2Backward returns the gradients of
// out, idx = ConvBatchNormReLUMaxPool2(x, w, b, stride, pad, mean, rstd,
// gamma, beta) (mean, rstd: the convolution output's batch statistics)
// given gout, the gradient of out: dx (nil unless needX), dw, db (nil
// without a bias), dgamma and dbeta, bit for bit what the separate
// operations' backward passes give.
func ConvBatchNormReLUMaxPool2Backward(gout, out *Tensor, idx []int32, x, w, b *Tensor, stride, pad int, mean, rstd []float64, gamma *Tensor, needX bool) (dx, dw, db, dgamma, dbeta *Tensor) {
	mustSameDType("ConvBatchNormReLUMaxPool2Backward", gout, x, w)
	n, _, _, _, o, _, _, oh, ow := convCheck("ConvBatchNormReLUMaxPool2Backward", x.shape, w.shape, stride, pad)
	ps := []int{n, o, oh / 2, ow / 2}
	if !SameShape(gout.shape, ps) || !SameShape(out.shape, ps) || out.dtype != gout.dtype || len(idx) != gout.Len() {
		panic(fmt.Sprintf("tensor: ConvBatchNormReLUMaxPool2Backward: gradient %v, output %v and %d indices, want %v", gout.shape, out.shape, len(idx), ps))
	}
	if len(mean) != o || len(rstd) != o {
		panic(fmt.Sprintf("tensor: ConvBatchNormReLUMaxPool2Backward: %d/%d statistics for %d channels", len(mean), len(rstd), o))
	}
	checkChannelVec("ConvBatchNormReLUMaxPool2Backward", gamma, o, x.dtype)
	gam := gammaValues(gamma, o)
	dw, dgamma, dbeta = New(x.dtype, w.shape...), New(x.dtype, o), New(x.dtype, o)
	if b != nil {
		db = New(x.dtype, o)
	}
	if needX {
		dx = New(x.dtype, x.shape...)
	}
	if x.dtype == Float32 {
		cb := newConvBlock("ConvBatchNormReLUMaxPool2Backward", x, w, b, stride, pad, x.f32, w.f32, b32(b))
		convBNPoolBackward(cb, gout.f32, out.f32, idx, mean, rstd, gam, dw.f32, b32(db), dgamma.f32, dbeta.f32, b32(dx))
	} else {
		cb := newConvBlock("ConvBatchNormReLUMaxPool2Backward", x, w, b, stride, pad, x.f64, w.f64, b64(b))
		convBNPoolBackward(cb, gout.f64, out.f64, idx, mean, rstd, gam, dw.f64, b64(db), dgamma.f64, dbeta.f64, b64(dx))
	}
	return dx, dw, db, dgamma, dbeta
}

func convBNPoolBackward[T Float](cb convBlock[T], gout, out []T, idx []int32, mean, rstd, gam []float64, dw, db, dgamma, dbeta, dx []T) {
	g, n, o := cb.g, cb.n, cb.o
	ckk, ohow := g.ckk(), g.ohow()
	pooled := (g.oh / 2) * (g.ow / 2)
	m := float64(n * ohow)
	// dz of image i, channel ch: as bnReLUPoolBackward's planes
	dzPlane := func(i, ch int, gm, dy []T) []T {
		p := i*o + ch
		poolGrad(gout[p*pooled:(p+1)*pooled], out[p*pooled:(p+1)*pooled], idx[p*pooled:(p+1)*pooled], gm, dy, p*ohow)
		return dy
	}
	// the channel sums, per image, then added in image order
	sg, sgx := make([]float64, n*o), make([]float64, n*o)
	cb.eachImage(func(i int, _, z []T) {
		bp := getScratch[T](pooled + ohow)
		gm, dy := (*bp)[:pooled], (*bp)[pooled:]
		for ch := 0; ch < o; ch++ {
			sg[i*o+ch], sgx[i*o+ch] = rowSumDot(dzPlane(i, ch, gm, dy), z[ch*ohow:(ch+1)*ohow], T(mean[ch]))
		}
		putScratch(bp)
	})
	ca, cbb, cc := make([]T, o), make([]T, o), make([]T, o)
	for ch := 0; ch < o; ch++ {
		s, t := 0.0, 0.0
		for i := 0; i < n; i++ {
			s += sg[i*o+ch]
			t += sgx[i*o+ch]
		}
		d := float64(T(mean[ch])) - mean[ch]
		a, b, c := bnBackwardCoef(ch, s, t, d, mean, rstd, gam, m, dgamma, dbeta)
		ca[ch], cbb[ch], cc[ch] = T(a), T(b), T(c)
	}
	// dz, then the convolution's gradients from it: the weight gradient in
	// convWeightGrad's groups and order, the bias gradient's per-image sums
	// (ChannelSum's order), the input gradient image by image
	var wt []T
	if dx != nil {
		wt = make([]T, ckk*o) // w^T [CKK, O]
		transpose2D(cb.w[:o*ckk], wt, o, ckk)
	}
	bsum := make([]float64, n*o)
	groups := convWeightGradGroups(n)
	partial := make([]*[]T, groups)
	colT := ckk < o
	chw := g.c * g.h * g.w
	parallelTasks(groups, 3*n*o*ckk*ohow, func(gr int) {
		pc, pz, pd := getScratch[T](ckk*ohow), getScratch[T](o*ohow), getScratch[T](o*ohow)
		ptr, pb := getScratch[T](ohow*max(o, ckk)), getScratch[T](pooled)
		col, z, dz, tr, gm := *pc, *pz, *pd, *ptr, *pb
		pacc := getScratch[T](ckk * o)
		acc := *pacc
		clear(acc)
		partial[gr] = pacc
		for i := gr * n / groups; i < (gr+1)*n/groups; i++ {
			cb.image(i, col, z)
			for ch := 0; ch < o; ch++ {
				dzc := dz[ch*ohow : (ch+1)*ohow]
				rowAffine2(dzc, dzPlane(i, ch, gm, dzc), z[ch*ohow:], ca[ch], cbb[ch], cc[ch])
				if db != nil {
					bsum[i*o+ch] = rowSum(dzc)
				}
			}
			weightGradImage(col, dz, tr, acc, o, ckk, ohow, colT) // as convWeightGrad
			if dx != nil {
				inputGradImage(g, o, wt, dz, col, dx[i*chw:(i+1)*chw])
			}
		}
		putScratch(pc)
		putScratch(pz)
		putScratch(pd)
		putScratch(ptr)
		putScratch(pb)
	})
	addWeightPartials(partial, dw, o, ckk, colT)
	if db != nil {
		for ch := 0; ch < o; ch++ {
			s := 0.0
			for i := 0; i < n; i++ {
				s += bsum[i*o+ch]
			}
			db[ch] = T(s)
		}
	}
}

// poolGrad sets dy [H*W] to the gradient MaxPool2dBackward then the ReLU
// mask give one plane (flat indices base...) from its pooled gradient g,
// pooled output out and chosen indices idx: 0 + g[j] (masked where
// out[j] <= 0) at the chosen elements, 0 elsewhere; gm is pooled scratch.
func poolGrad[T Float](g, out []T, idx []int32, gm, dy []T, base int) {
	clear(dy)
	maskPositive(g, out, gm)
	for j, v := range gm {
		dy[int(idx[j])-base] = 0 + v // 0 + v: a scattered -0 is +0
	}
}
