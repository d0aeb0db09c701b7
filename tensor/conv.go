package tensor

import (
	"fmt"
	"math"
	"sync"
	"unsafe"
)

// ConvOutSize returns the output length of a convolution or pooling window
// of size k with stride s and zero padding p over an input of length n.
func ConvOutSize(n, k, s, p int) int { return (n+2*p-k)/s + 1 }

func convCheck(op string, x, w []int, stride, pad int) (n, c, h, wd, o, kh, kw, oh, ow int) {
	if len(x) != 4 || len(w) != 4 {
		panic(fmt.Sprintf("tensor: %s: want input [N,C,H,W] and weight [O,C,KH,KW], got %v and %v", op, x, w))
	}
	if stride < 1 || pad < 0 {
		panic(fmt.Sprintf("tensor: %s: stride %d must be >= 1 and padding %d >= 0", op, stride, pad))
	}
	n, c, h, wd = x[0], x[1], x[2], x[3]
	o, kh, kw = w[0], w[2], w[3]
	if w[1] != c {
		panic(fmt.Sprintf("tensor: %s: input %v has %d channels but weight %v expects %d", op, x, c, w, w[1]))
	}
	if h+2*pad < kh || wd+2*pad < kw {
		panic(fmt.Sprintf("tensor: %s: kernel %dx%d larger than padded input %v (padding %d)", op, kh, kw, x, pad))
	}
	oh, ow = ConvOutSize(h, kh, stride, pad), ConvOutSize(wd, kw, stride, pad)
	return
}

// Conv2d computes the cross-correlation of x [N,C,H,W] with w [O,C,KH,KW]
// (stride and zero padding on both spatial axes), giving [N,O,OH,OW].
func Conv2d(x, w *Tensor, stride, pad int) *Tensor {
	mustSameDType("Conv2d", x, w)
	n, c, h, wd, o, kh, kw, oh, ow := convCheck("Conv2d", x.shape, w.shape, stride, pad)
	out := newDirty(x.dtype, n, o, oh, ow) // the gemm overwrites every output
	g := convGeom{c, h, wd, kh, kw, oh, ow, stride, pad}
	if x.dtype == Float32 {
		convForward(g, n, o, x.f32, w.f32, nil, out.f32)
	} else {
		convForward(g, n, o, x.f64, w.f64, nil, out.f64)
	}
	return out
}

// Conv2dBias is Conv2d followed by adding b[o] to output channel o, in one
// pass over the output; b nil is plain Conv2d.
func Conv2dBias(x, w, b *Tensor, stride, pad int) *Tensor {
	if b == nil {
		return Conv2d(x, w, stride, pad)
	}
	mustSameDType("Conv2dBias", x, w, b)
	n, c, h, wd, o, kh, kw, oh, ow := convCheck("Conv2dBias", x.shape, w.shape, stride, pad)
	if b.Len() != o {
		panic(fmt.Sprintf("tensor: Conv2dBias: bias %v for %d output channels", b.shape, o))
	}
	out := newDirty(x.dtype, n, o, oh, ow) // the gemm overwrites every output
	g := convGeom{c, h, wd, kh, kw, oh, ow, stride, pad}
	if x.dtype == Float32 {
		convForward(g, n, o, x.f32, w.f32, b.f32, out.f32)
	} else {
		convForward(g, n, o, x.f64, w.f64, b.f64, out.f64)
	}
	return out
}

// Conv2dInputGrad returns dL/dx [xShape] given gy = dL/dy for y = Conv2d(x, w).
// It is linear in gy and in w (a transposed convolution).
func Conv2dInputGrad(gy, w *Tensor, xShape []int, stride, pad int) *Tensor {
	mustSameDType("Conv2dInputGrad", gy, w)
	n, c, h, wd, o, kh, kw, oh, ow := convCheck("Conv2dInputGrad", xShape, w.shape, stride, pad)
	if !SameShape(gy.shape, []int{n, o, oh, ow}) {
		panic(fmt.Sprintf("tensor: Conv2dInputGrad: gradient shape %v, want %v", gy.shape, []int{n, o, oh, ow}))
	}
	gx := New(gy.dtype, xShape...)
	g := convGeom{c, h, wd, kh, kw, oh, ow, stride, pad}
	if gy.dtype == Float32 {
		convInputGrad(g, n, o, gy.f32, w.f32, gx.f32)
	} else {
		convInputGrad(g, n, o, gy.f64, w.f64, gx.f64)
	}
	return gx
}

// Conv2dWeightGrad returns dL/dw [wShape] given gy = dL/dy for y = Conv2d(x, w).
// It is linear in x and in gy.
func Conv2dWeightGrad(x, gy *Tensor, wShape []int, stride, pad int) *Tensor {
	mustSameDType("Conv2dWeightGrad", x, gy)
	n, c, h, wd, o, kh, kw, oh, ow := convCheck("Conv2dWeightGrad", x.shape, wShape, stride, pad)
	if !SameShape(gy.shape, []int{n, o, oh, ow}) {
		panic(fmt.Sprintf("tensor: Conv2dWeightGrad: gradient shape %v, want %v", gy.shape, []int{n, o, oh, ow}))
	}
	gw := New(x.dtype, wShape...)
	g := convGeom{c, h, wd, kh, kw, oh, ow, stride, pad}
	if x.dtype == Float32 {
		convWeightGrad(g, n, o, x.f32, gy.f32, gw.f32)
	} else {
		convWeightGrad(g, n, o, x.f64, gy.f64, gw.f64)
	}
	return gw
}

type convGeom struct {
	c, h, w, kh, kw, oh, ow, stride, pad int
}

func (g convGeom) ckk() int  { return g.c * g.kh * g.kw }
func (g convGeom) ohow() int { return g.oh * g.ow }

// convRange returns the range [lo, hi) of output positions o (0 <= o < out)
// whose input position o*stride - pad + k lies inside [0, in).
func convRange(out, in, stride, pad, k int) (lo, hi int) {
	if d := pad - k; d > 0 {
		lo = (d + stride - 1) / stride
	}
	if e := in - 1 + pad - k; e >= 0 {
		hi = min(out, e/stride+1)
	}
	return min(lo, hi), hi
}

// im2col fills col [C*KH*KW, OH*OW] from one image x [C,H,W].
func im2col[T Float](g convGeom, x, col []T) {
	if smallSame(g) {
		im2colSmall(g, x, col)
		return
	}
	ohow := g.ohow()
	for ci := 0; ci < g.c; ci++ {
		img := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				row := col[((ci*g.kh+ki)*g.kw+kj)*ohow:][:ohow]
				if g.stride == 1 && g.ow == g.w {
					im2colSame(g, img, row, ki, kj)
					continue
				}
				lo, hi := convRange(g.ow, g.w, g.stride, g.pad, kj)
				off := kj - g.pad // input column of output column 0
				for oi := 0; oi < g.oh; oi++ {
					ii := oi*g.stride - g.pad + ki
					dst := row[oi*g.ow : (oi+1)*g.ow]
					if ii < 0 || ii >= g.h {
						clear(dst)
						continue
					}
					src := img[ii*g.w : (ii+1)*g.w]
					clear(dst[:lo])
					clear(dst[hi:])
					if g.stride == 1 {
						copy(dst[lo:hi], src[lo+off:hi+off])
						continue
					}
					for oj := lo; oj < hi; oj++ {
						dst[oj] = src[oj*g.stride+off]
					}
				}
			}
		}
	}
}

// im2colSame fills the row of col for kernel offset (ki, kj) when the
// stride is 1 and the output is as wide as the input: the valid output rows
// then read one contiguous run of the image, shifted by kj-pad, and only the
// wrapped-around border columns need zeroing.
func im2colSame[T Float](g convGeom, img, row []T, ki, kj int) {
	ow := g.ow
	r0, r1 := max(0, g.pad-ki), min(g.oh, g.h+g.pad-ki) // valid output rows
	if r0 >= r1 {
		clear(row)
		return
	}
	clear(row[:r0*ow])
	clear(row[r1*ow:])
	shift := kj - g.pad
	t0, t1 := r0*ow, r1*ow
	s0, s1 := t0+(ki-g.pad)*g.w+shift, t1+(ki-g.pad)*g.w+shift
	if s0 < 0 { // only border elements fall outside the image
		t0, s0 = t0-s0, 0
	}
	if s1 > len(img) {
		t1, s1 = t1-(s1-len(img)), len(img)
	}
	copy(row[t0:t1], img[s0:s1])
	switch {
	case shift < 0:
		for oi := r0; oi < r1; oi++ {
			clear(row[oi*ow : oi*ow+min(-shift, ow)])
		}
	case shift > 0:
		for oi := r0; oi < r1; oi++ {
			clear(row[oi*ow+max(ow-shift, 0) : (oi+1)*ow])
		}
	}
}

// smallSame reports whether im2col and col2im take the padded-plane path:
// stride 1, an output as large as the input and fewer than 16 outputs per
// plane (conv4's 3x3 layer). There the general path's per-row copies are a
// few elements long and their calls cost more than the copying; this path
// pads each plane into scratch once and moves elements in plain loops.
// Measured per layer (forward, input and weight gradient, one goroutine,
// 64 channels): 3x3 planes 15-20% faster, 4x4 and 5x5 even, 6x6 and 7x7
// and strided layers slower (the general path's vector adds win there).
func smallSame(g convGeom) bool {
	return !noSmallPlanes && g.stride == 1 && g.ow == g.w && g.oh*g.ow < 16
}

// noSmallPlanes turns the small-plane path off (tests compare).
var noSmallPlanes bool

// im2colSmall is im2col for smallSame geometries (the same values).
func im2colSmall[T Float](g convGeom, x, col []T) {
	pw := g.w + 2*g.pad
	bp := getScratch[T]((g.h + 2*g.pad) * pw)
	defer putScratch(bp)
	pad := *bp
	clear(pad)
	ohow := g.ohow()
	for ci := 0; ci < g.c; ci++ {
		img := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		planeInterior(g, pad, img, true) // the border stays zero
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				row := col[((ci*g.kh+ki)*g.kw+kj)*ohow:][:ohow]
				for oi := 0; oi < g.oh; oi++ {
					d, s := row[oi*g.ow:][:g.ow], pad[(oi+ki)*pw+kj:][:g.ow]
					for j, v := range s {
						d[j] = v
					}
				}
			}
		}
	}
}

// col2imSmall is col2im for smallSame geometries: each plane is added up in
// padded scratch that starts as the image (so every element receives its
// terms in the same order as in col2im) and the interior is copied back.
func col2imSmall[T Float](g convGeom, col, x []T) {
	pw := g.w + 2*g.pad
	bp := getScratch[T]((g.h + 2*g.pad) * pw)
	defer putScratch(bp)
	pad := *bp
	ohow := g.ohow()
	for ci := 0; ci < g.c; ci++ {
		img := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		clear(pad)
		planeInterior(g, pad, img, true)
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				row := col[((ci*g.kh+ki)*g.kw+kj)*ohow:][:ohow]
				for oi := 0; oi < g.oh; oi++ {
					d, s := pad[(oi+ki)*pw+kj:][:g.ow], row[oi*g.ow:][:g.ow]
					for j, v := range s {
						d[j] += v
					}
				}
			}
		}
		planeInterior(g, pad, img, false)
	}
}

// planeInterior copies image plane img [H,W] into the interior of padded
// plane pad [H+2p, W+2p] (toPad), or back (!toPad). (padPlanes and
// cropGrid do the same for the implicit convolution; on these 3-element
// rows their per-row copy calls and per-plane clearing made the 3x3
// layer's three passes 6-8% slower, measured.)
func planeInterior[T Float](g convGeom, pad, img []T, toPad bool) {
	pw := g.w + 2*g.pad
	for i := 0; i < g.h; i++ {
		in, out := pad[(i+g.pad)*pw+g.pad:][:g.w], img[i*g.w:][:g.w]
		if toPad {
			in, out = out, in
		}
		for j, v := range in {
			out[j] = v
		}
	}
}

// col2im accumulates col [C*KH*KW, OH*OW] into image x [C,H,W].
func col2im[T Float](g convGeom, col, x []T) {
	if smallSame(g) {
		col2imSmall(g, col, x)
		return
	}
	ohow := g.ohow()
	for ci := 0; ci < g.c; ci++ {
		img := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				row := col[((ci*g.kh+ki)*g.kw+kj)*ohow:][:ohow]
				if g.stride == 1 && g.ow == g.w {
					col2imSame(g, row, img, ki, kj)
					continue
				}
				lo, hi := convRange(g.ow, g.w, g.stride, g.pad, kj)
				off := kj - g.pad
				for oi := 0; oi < g.oh; oi++ {
					ii := oi*g.stride - g.pad + ki
					if ii < 0 || ii >= g.h {
						continue
					}
					src := row[oi*g.ow : (oi+1)*g.ow]
					dst := img[ii*g.w : (ii+1)*g.w]
					if g.stride == 1 {
						addTo(dst[lo+off:hi+off], src[lo:hi])
						continue
					}
					for oj := lo; oj < hi; oj++ {
						dst[oj*g.stride+off] += src[oj]
					}
				}
			}
		}
	}
}

// convScratch pools the im2col buffers of the convolution kernels (float32
// and float64), so that repeated calls do not churn the garbage collector.
var convScratch [2]sync.Pool

// getScratch returns a buffer of n elements with unspecified contents.
func getScratch[T Float](n int) *[]T {
	var z T
	p, _ := convScratch[unsafe.Sizeof(z)/8].Get().(*[]T)
	if p == nil {
		p = new([]T)
	}
	if cap(*p) < n {
		*p = make([]T, n)
	}
	*p = (*p)[:n]
	return p
}

func putScratch[T Float](p *[]T) {
	var z T
	convScratch[unsafe.Sizeof(z)/8].Put(p)
}

// col2imSame is the adjoint of im2colSame. It zeroes the entries of the row
// that fall on padding columns (so row is clobbered) and then adds the
// valid output rows to the image in one contiguous run.
func col2imSame[T Float](g convGeom, row, img []T, ki, kj int) {
	ow := g.ow
	r0, r1 := max(0, g.pad-ki), min(g.oh, g.h+g.pad-ki)
	if r0 >= r1 {
		return
	}
	shift := kj - g.pad
	switch {
	case shift < 0:
		for oi := r0; oi < r1; oi++ {
			clear(row[oi*ow : oi*ow+min(-shift, ow)])
		}
	case shift > 0:
		for oi := r0; oi < r1; oi++ {
			clear(row[oi*ow+max(ow-shift, 0) : (oi+1)*ow])
		}
	}
	t0, t1 := r0*ow, r1*ow
	s0, s1 := t0+(ki-g.pad)*g.w+shift, t1+(ki-g.pad)*g.w+shift
	if s0 < 0 {
		t0, s0 = t0-s0, 0
	}
	if s1 > len(img) {
		t1, s1 = t1-(s1-len(img)), len(img)
	}
	addTo(img[s0:s1], row[t0:t1])
}

// batchedOHOW: below this many output positions per image, the
// convolution kernels gather the images' columns into one matrix and run
// one gemm over the batch: per image, the gemm would be too narrow for the
// micro-kernels (a 3x3 output is 9 columns of a 32-wide tile). Measured on
// conv4's shapes (64 channels, batch 25): 3x3 outputs gain 30%, 7x7 ones
// lose to the extra copies, so only the smallest outputs are batched.
const batchedOHOW = 16

// colsBatch fills cols [CKK, N*OHOW] (image i in columns i*OHOW...) with
// every image's im2col columns, or its transpose [N*OHOW, CKK] when trans.
func colsBatch[T Float](g convGeom, n int, x, cols []T, trans bool) {
	ckk, ohow := g.ckk(), g.ohow()
	chw := g.c * g.h * g.w
	parallelTasks(n, n*ckk*ohow, func(i int) {
		buf := getScratch[T](ckk * ohow)
		col := *buf
		im2col(g, x[i*chw:(i+1)*chw], col)
		if trans {
			for r := 0; r < ckk; r++ {
				for p, v := range col[r*ohow : (r+1)*ohow] {
					cols[(i*ohow+p)*ckk+r] = v
				}
			}
		} else {
			for r := 0; r < ckk; r++ {
				copy(cols[r*n*ohow+i*ohow:r*n*ohow+(i+1)*ohow], col[r*ohow:(r+1)*ohow])
			}
		}
		putScratch(buf)
	})
}

// gatherBatch copies y [N, O, OHOW] into yb [O, N*OHOW], or back (scatter).
func gatherBatch[T Float](n, o, ohow int, y, yb []T, scatter bool) {
	for i := 0; i < n; i++ {
		for a := 0; a < o; a++ {
			img := y[(i*o+a)*ohow : (i*o+a+1)*ohow]
			bat := yb[a*n*ohow+i*ohow : a*n*ohow+(i+1)*ohow]
			if scatter {
				copy(img, bat)
			} else {
				copy(bat, img)
			}
		}
	}
}

// addBias adds bias[a] to row a of y [len(bias), n]: rowAffine with
// scale 1, the same sums, vectorised.
func addBias[T Float](y, bias []T, n int) {
	for a, bv := range bias {
		rowAffine(y[a*n:(a+1)*n], y[a*n:(a+1)*n], 1, bv)
	}
}

func convForward[T Float](g convGeom, n, o int, x, w, bias, out []T) {
	if winoUse[T](g, o) {
		convForwardWino(g, n, o, x, w, bias, out)
		return
	}
	if useImplicit(g, true) {
		convForwardImplicit(g, n, o, x, w, bias, out)
		return
	}
	ckk, ohow := g.ckk(), g.ohow()
	chw := g.c * g.h * g.w
	if ohow < batchedOHOW && n > 1 {
		pc, pt := getScratch[T](ckk*n*ohow), getScratch[T](o*n*ohow)
		colsBatch(g, n, x, *pc, false)
		gemmRun(o, n*ohow, ckk, w, ckk, *pc, n*ohow, *pt, n*ohow, false)
		gatherBatch(n, o, ohow, out, *pt, true)
		putScratch(pc)
		putScratch(pt)
		if bias != nil {
			for i := 0; i < n; i++ {
				addBias(out[i*o*ohow:(i+1)*o*ohow], bias[:o], ohow)
			}
		}
		return
	}
	parallelTasks(n, n*o*ckk*ohow, func(i int) {
		buf := getScratch[T](ckk * ohow)
		convImage(g, o, x[i*chw:(i+1)*chw], w, bias, *buf, out[i*o*ohow:(i+1)*o*ohow])
		putScratch(buf)
	})
}

// convImage sets z [O, OH*OW] to one image's convolution (+ bias, when
// set) by im2col into col [CKK, OH*OW] and one gemm: convForward's
// per-image path.
func convImage[T Float](g convGeom, o int, xi, w, bias, col, z []T) {
	ckk, ohow := g.ckk(), g.ohow()
	im2col(g, xi, col)
	gemmSerial(o, ohow, ckk, w, ckk, col, ohow, z, ohow, false)
	if bias != nil {
		addBias(z, bias[:o], ohow)
	}
}

// inputGradImage adds one image's input gradient gx_i [C,H,W] from its
// output gradient gi [O, OH*OW] and the transposed filters wt [CKK, O]
// (col: [CKK, OH*OW] scratch): convInputGrad's per-image path.
func inputGradImage[T Float](g convGeom, o int, wt, gi, col, gxi []T) {
	ckk, ohow := g.ckk(), g.ohow()
	gemmSerial(ckk, ohow, o, wt, o, gi, ohow, col, ohow, false)
	col2im(g, col, gxi)
}

func convInputGrad[T Float](g convGeom, n, o int, gy, w, gx []T) {
	if winoUse[T](g, o) {
		convInputGradWino(g, n, o, gy, w, gx)
		return
	}
	if useImplicit(g, false) {
		convInputGradImplicit(g, n, o, gy, w, gx)
		return
	}
	ckk, ohow := g.ckk(), g.ohow()
	chw := g.c * g.h * g.w
	pwt := getScratch[T](ckk * o)
	defer putScratch(pwt)
	wt := *pwt // w^T [CKK, O]
	transpose2D(w[:o*ckk], wt, o, ckk)
	if ohow < batchedOHOW && n > 1 {
		pg, pc := getScratch[T](o*n*ohow), getScratch[T](ckk*n*ohow)
		gatherBatch(n, o, ohow, gy, *pg, false)
		cols := *pc
		gemmRun(ckk, n*ohow, o, wt, o, *pg, n*ohow, cols, n*ohow, false)
		parallelTasks(n, n*ckk*ohow, func(i int) {
			buf := getScratch[T](ckk * ohow)
			col := *buf
			for r := 0; r < ckk; r++ {
				copy(col[r*ohow:(r+1)*ohow], cols[r*n*ohow+i*ohow:r*n*ohow+(i+1)*ohow])
			}
			col2im(g, col, gx[i*chw:(i+1)*chw])
			putScratch(buf)
		})
		putScratch(pg)
		putScratch(pc)
		return
	}
	parallelTasks(n, n*o*ckk*ohow, func(i int) {
		buf := getScratch[T](ckk * ohow)
		inputGradImage(g, o, wt, gy[i*o*ohow:(i+1)*o*ohow], *buf, gx[i*chw:(i+1)*chw])
		putScratch(buf)
	})
}

// convWeightGradGroups is the number of image groups whose weight-gradient
// partials are formed separately and then added in group order. It depends
// only on the batch size, never on the thread count, so the result is
// bit-identical for any number of threads.
func convWeightGradGroups(n int) int { return min(n, 8) }

func convWeightGrad[T Float](g convGeom, n, o int, x, gy, gw []T) {
	if winoUse[T](g, o) {
		convWeightGradWino(g, n, o, x, gy, gw)
		return
	}
	if useImplicit(g, false) {
		convWeightGradImplicit(g, n, o, x, gy, gw)
		return
	}
	ckk, ohow := g.ckk(), g.ohow()
	chw := g.c * g.h * g.w
	if ohow < batchedOHOW && n > 1 {
		// gw [O, CKK] += gy [O, N*OHOW] * cols^T [N*OHOW, CKK]: one gemm
		pg, pc := getScratch[T](o*n*ohow), getScratch[T](n*ohow*ckk)
		gatherBatch(n, o, ohow, gy, *pg, false)
		colsBatch(g, n, x, *pc, true)
		gemmRun(o, ckk, n*ohow, *pg, n*ohow, *pc, ckk, gw, ckk, true)
		putScratch(pg)
		putScratch(pc)
		return
	}
	// The images are split into a fixed number of contiguous groups; each
	// group accumulates its images' products and the partials are then
	// added into gw in group order. The gemm needs one operand transposed:
	// gy_i (O x OH*OW) or col (CKK x OH*OW), whichever is smaller. colT:
	// gw [O, CKK] += gy_i * col^T; else gw^T [CKK, O] += col * gy_i^T.
	groups := convWeightGradGroups(n)
	partial := make([]*[]T, groups)
	colT := ckk < o
	parallelTasks(groups, n*o*ckk*ohow, func(gr int) {
		buf, bufT := getScratch[T](ckk*ohow), getScratch[T](ohow*max(o, ckk))
		col, tr := *buf, *bufT
		pacc := getScratch[T](ckk * o)
		acc := *pacc
		clear(acc)
		partial[gr] = pacc
		for i := gr * n / groups; i < (gr+1)*n/groups; i++ {
			im2col(g, x[i*chw:(i+1)*chw], col)
			gi := gy[i*o*ohow : (i+1)*o*ohow]
			weightGradImage(col, gi, tr, acc, o, ckk, ohow, colT)
		}
		putScratch(buf)
		putScratch(bufT)
	})
	addWeightPartials(partial, gw, o, ckk, colT)
}

// weightGradImage adds one image's weight gradient, from its im2col
// columns col [CKK, OH*OW] and output gradient gi [O, OH*OW], to acc:
// gw [O, CKK] += gi * col^T (colT) or gw^T [CKK, O] += col * gi^T, the
// smaller operand transposed into tr.
func weightGradImage[T Float](col, gi, tr, acc []T, o, ckk, ohow int, colT bool) {
	if colT {
		transpose2D(col, tr, ckk, ohow) // col^T [OH*OW, CKK]
		gemmSerial(o, ckk, ohow, gi, ohow, tr, ckk, acc, ckk, true)
		return
	}
	transpose2D(gi, tr, o, ohow) // gy_i^T [OH*OW, O]
	gemmSerial(ckk, o, ohow, col, ohow, tr, o, acc, o, true)
}

// addWeightPartials adds the groups' partials (weightGradImage's acc) to
// gw in group order and recycles them.
func addWeightPartials[T Float](partial []*[]T, gw []T, o, ckk int, colT bool) {
	var tp *[]T
	if !colT {
		tp = getScratch[T](o * ckk)
		defer putScratch(tp)
	}
	for _, pp := range partial {
		p := *pp
		if !colT { // a partial of gw^T [CKK, O]: transposed first (tiled)
			transpose2D(p, *tp, ckk, o)
			p = *tp
		}
		addTo(gw[:o*ckk], p)
		putScratch(pp)
	}
}

func poolCheck(op string, x []int, k, stride, pad int) (n, c, h, w, oh, ow int) {
	if len(x) != 4 {
		panic(fmt.Sprintf("tensor: %s: want input [N,C,H,W], got %v", op, x))
	}
	if k < 1 || stride < 1 || pad < 0 || 2*pad > k {
		panic(fmt.Sprintf("tensor: %s: invalid window %d, stride %d, padding %d", op, k, stride, pad))
	}
	n, c, h, w = x[0], x[1], x[2], x[3]
	if h+2*pad < k || w+2*pad < k {
		panic(fmt.Sprintf("tensor: %s: window %d larger than padded input %v", op, k, x))
	}
	return n, c, h, w, ConvOutSize(h, k, stride, pad), ConvOutSize(w, k, stride, pad)
}

// MaxPool2d takes the maximum over k x k windows of x [N,C,H,W]. It returns
// the pooled tensor and, for each output element, the flat index into x of
// the chosen element (padding never wins).
func MaxPool2d(x *Tensor, k, stride, pad int) (*Tensor, []int) {
	n, c, h, w, oh, ow := poolCheck("MaxPool2d", x.shape, k, stride, pad)
	out := New(x.dtype, n, c, oh, ow)
	idx := make([]int, out.Len())
	if x.dtype == Float32 {
		maxPool(x.f32, out.f32, idx, n*c, h, w, oh, ow, k, stride, pad)
	} else {
		maxPool(x.f64, out.f64, idx, n*c, h, w, oh, ow, k, stride, pad)
	}
	return out, idx
}

// MaxPool2dInt32 is MaxPool2d with the chosen flat indices as int32 (half
// the memory); x must have fewer than 2^31 elements.
func MaxPool2dInt32(x *Tensor, k, stride, pad int) (*Tensor, []int32) {
	n, c, h, w, oh, ow := poolCheck("MaxPool2d", x.shape, k, stride, pad)
	if x.Len() > math.MaxInt32 {
		panic(fmt.Sprintf("tensor: MaxPool2dInt32: input %v too large for int32 indices", x.shape))
	}
	out := newDirty(x.dtype, n, c, oh, ow) // every window writes its output
	idx := make([]int32, out.Len())
	if x.dtype == Float32 {
		maxPool(x.f32, out.f32, idx, n*c, h, w, oh, ow, k, stride, pad)
	} else {
		maxPool(x.f64, out.f64, idx, n*c, h, w, oh, ow, k, stride, pad)
	}
	return out, idx
}

// TakeFlatInt32 returns the elements of t at flat indices idx, shaped as
// shape (TakeFlat with int32 indices).
func TakeFlatInt32(t *Tensor, idx []int32, shape []int) *Tensor {
	out := New(t.dtype, shape...)
	if out.Len() != len(idx) {
		panic(fmt.Sprintf("tensor: TakeFlatInt32: %d indices for shape %v", len(idx), shape))
	}
	if t.dtype == Float32 {
		takeFlat32(t.f32, out.f32, idx)
	} else {
		takeFlat32(t.f64, out.f64, idx)
	}
	return out
}

func takeFlat32[T Float](x, out []T, idx []int32) {
	parallelFor(len(idx), len(idx), func(lo, hi int) {
		for j, i := range idx[lo:hi] {
			out[lo+j] = x[i]
		}
	})
}

// ScatterAddFlatInt32 returns zeros of shape with g's elements added at the
// flat indices idx: the adjoint of TakeFlatInt32. Indices must lie in range.
func ScatterAddFlatInt32(g *Tensor, idx []int32, shape []int) *Tensor {
	out := New(g.dtype, shape...)
	if g.Len() != len(idx) {
		panic(fmt.Sprintf("tensor: ScatterAddFlatInt32: %d indices for %d values", len(idx), g.Len()))
	}
	if g.dtype == Float32 {
		for j, i := range idx {
			out.f32[i] += g.f32[j]
		}
	} else {
		for j, i := range idx {
			out.f64[i] += g.f64[j]
		}
	}
	return out
}

func maxPool[T Float, I int | int32](x, out []T, idx []I, planes, h, w, oh, ow, k, stride, pad int) {
	parallelFor(planes, planes*oh*ow*k*k, func(lo, hi int) {
		if k == 2 && stride == 2 && pad == 0 {
			maxPool2x2(x, out, idx, lo, hi, h, w, oh, ow)
			return
		}
		for p := lo; p < hi; p++ {
			base := p * h * w
			for oi := 0; oi < oh; oi++ {
				for oj := 0; oj < ow; oj++ {
					best := T(math.Inf(-1))
					bi := -1
					for ki := 0; ki < k; ki++ {
						ii := oi*stride - pad + ki
						if ii < 0 || ii >= h {
							continue
						}
						for kj := 0; kj < k; kj++ {
							jj := oj*stride - pad + kj
							if jj < 0 || jj >= w {
								continue
							}
							v := x[base+ii*w+jj]
							if bi < 0 || v > best || v != v {
								best, bi = v, base+ii*w+jj
							}
						}
					}
					o := (p*oh+oi)*ow + oj
					out[o], idx[o] = best, I(bi)
				}
			}
		}
	})
}

// AvgPool2d averages k x k windows of x [N,C,H,W]; padded positions count as
// zeros in the average (PyTorch's count_include_pad default).
func AvgPool2d(x *Tensor, k, stride, pad int) *Tensor {
	n, c, h, w, oh, ow := poolCheck("AvgPool2d", x.shape, k, stride, pad)
	out := New(x.dtype, n, c, oh, ow)
	if x.dtype == Float32 {
		avgPool(x.f32, out.f32, n*c, h, w, oh, ow, k, stride, pad, false)
	} else {
		avgPool(x.f64, out.f64, n*c, h, w, oh, ow, k, stride, pad, false)
	}
	return out
}

// AvgPool2dGrad is the adjoint of AvgPool2d: it spreads gy over the windows.
func AvgPool2dGrad(gy *Tensor, xShape []int, k, stride, pad int) *Tensor {
	n, c, h, w, oh, ow := poolCheck("AvgPool2dGrad", xShape, k, stride, pad)
	if !SameShape(gy.shape, []int{n, c, oh, ow}) {
		panic(fmt.Sprintf("tensor: AvgPool2dGrad: gradient shape %v, want %v", gy.shape, []int{n, c, oh, ow}))
	}
	gx := New(gy.dtype, xShape...)
	if gy.dtype == Float32 {
		avgPool(gx.f32, gy.f32, n*c, h, w, oh, ow, k, stride, pad, true)
	} else {
		avgPool(gx.f64, gy.f64, n*c, h, w, oh, ow, k, stride, pad, true)
	}
	return gx
}

// avgPool maps x -> out (or, when adjoint, spreads out back into x).
func avgPool[T Float](x, out []T, planes, h, w, oh, ow, k, stride, pad int, adjoint bool) {
	inv := 1 / T(k*k)
	parallelFor(planes, planes*oh*ow*k*k, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			base := p * h * w
			for oi := 0; oi < oh; oi++ {
				for oj := 0; oj < ow; oj++ {
					o := (p*oh+oi)*ow + oj
					var s T
					g := out[o] * inv
					for ki := 0; ki < k; ki++ {
						ii := oi*stride - pad + ki
						if ii < 0 || ii >= h {
							continue
						}
						for kj := 0; kj < k; kj++ {
							jj := oj*stride - pad + kj
							if jj < 0 || jj >= w {
								continue
							}
							if adjoint {
								x[base+ii*w+jj] += g
							} else {
								s += x[base+ii*w+jj]
							}
						}
					}
					if !adjoint {
						out[o] = s * inv
					}
				}
			}
		}
	})
}

// MaxPool2dBackward scatters gy [N,C,OH,OW] back to an input of shape
// xShape through the indices of MaxPool2dInt32 (the adjoint of
// TakeFlatInt32 for pooling indices, which stay inside their own plane, so
// planes are processed in parallel).
func MaxPool2dBackward(gy *Tensor, idx []int32, xShape []int) *Tensor {
	if len(xShape) != 4 || len(gy.shape) != 4 || gy.shape[0] != xShape[0] || gy.shape[1] != xShape[1] || gy.Len() != len(idx) {
		panic(fmt.Sprintf("tensor: MaxPool2dBackward: gradient %v with %d indices for input %v", gy.shape, len(idx), xShape))
	}
	gx := New(gy.dtype, xShape...)
	planes := xShape[0] * xShape[1]
	per := gy.shape[2] * gy.shape[3]
	if gy.dtype == Float32 {
		maxPoolScatter(gy.f32, gx.f32, idx, planes, per)
	} else {
		maxPoolScatter(gy.f64, gx.f64, idx, planes, per)
	}
	return gx
}

func maxPoolScatter[T Float](g, gx []T, idx []int32, planes, per int) {
	parallelFor(planes, planes*per, func(lo, hi int) {
		for j := lo * per; j < hi*per; j++ {
			gx[idx[j]] += g[j]
		}
	})
}
