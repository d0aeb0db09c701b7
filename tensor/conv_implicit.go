package tensor

// Implicit-gemm convolution for stride 1 (no im2col matrix).
//
// With the input zero-padded into planes of HP x WP = (H+2p) x (W+2p),
// output position (i, j) reads input (i+ki, j+kj) of the padded plane for
// kernel tap (ki, kj). Computing the output on a grid of width WP instead
// of OW makes that read a fixed offset, ki*WP + kj, from the output's own
// index q = i*WP + j. So for every tap the convolution is one gemm,
//
//	Y[O, q] += W_tap[O, C] * Xpad[C, q + ki*WP + kj],
//
// whose B operand is the padded input itself (leading dimension HP*WP),
// read in place: KH*KW gemms with inner dimension C replace one gemm with
// inner dimension C*KH*KW over a copied, KH*KW times larger matrix. The
// grid's last WP - OW columns of each row are junk and dropped. The input
// gradient is the same construction on the zero-padded output gradient
// with the transposed, flipped taps, and the weight gradient multiplies
// the shifted padded input by the (transposed, junk-zeroed) output
// gradient. It pays when C is large enough for the per-tap gemms to run
// at full speed and the image large enough that the junk columns are few:
// useImplicit decides.

// useImplicit reports whether the convolution g runs as an implicit gemm
// (forward: the output pass; else the two gradient passes). Stride 1 and
// padding below the kernel size only. Below 8 channels the per-tap gemms
// are too shallow; on small images the junk columns cost more than im2col
// saves: measured (BenchmarkConvImplicit) on conv4's 64-channel layers,
// the forward pass gains from 7x7 outputs, the gradients from 14x14.
func useImplicit(g convGeom, forward bool) bool {
	side := 14
	if forward {
		side = 7
	}
	return !noImplicit && g.stride == 1 && g.pad < g.kh && g.pad < g.kw &&
		g.c >= 8 && g.oh >= side && g.ow >= side
}

// noImplicit turns the implicit path off (tests and benchmarks compare).
var noImplicit bool

// implicitGeom describes the padded planes of an implicit convolution.
type implicitGeom struct {
	hp, wp int // padded input plane
	cols   int // output grid length: (OH-1)*WP + OW
	// input gradient: the output gradient padded by (KH-1-p, KW-1-p) on
	// each side, and the input-gradient grid over it
	gh, gw int
	gcols  int // (H-1)*GW + W
}

func newImplicitGeom(g convGeom) implicitGeom {
	hp, wp := g.h+2*g.pad, g.w+2*g.pad
	gh, gw := g.h+g.kh-1, g.w+g.kw-1
	return implicitGeom{hp: hp, wp: wp, cols: (g.oh-1)*wp + g.ow, gh: gh, gw: gw, gcols: (g.h-1)*gw + g.w}
}

// padPlanes copies x [C, H, W] into xp [C, HP, WP] at row pt, column pl of
// every plane, with zeros everywhere else.
func padPlanes[T Float](x, xp []T, c, h, w, hp, wp, pt, pl int) {
	clear(xp[:c*hp*wp])
	for ci := 0; ci < c; ci++ {
		src := x[ci*h*w : (ci+1)*h*w]
		dst := xp[ci*hp*wp+pt*wp+pl:]
		for i := 0; i < h; i++ {
			copy(dst[i*wp:i*wp+w], src[i*w:(i+1)*w])
		}
	}
}

// tapWeights rearranges w [O, C, KH, KW] into one matrix per tap: taps
// [KH*KW, O, C] (trans false) or [KH*KW, C, O] (trans true).
func tapWeights[T Float](g convGeom, o int, w, taps []T, trans bool) {
	kk := g.kh * g.kw
	if trans {
		for a := 0; a < o; a++ {
			for ci := 0; ci < g.c; ci++ {
				for t, v := range w[(a*g.c+ci)*kk : (a*g.c+ci+1)*kk] {
					taps[(t*g.c+ci)*o+a] = v
				}
			}
		}
		return
	}
	// sequential writes: row (t, a) of taps gathers w[a, :, t]
	for t := 0; t < kk; t++ {
		for a := 0; a < o; a++ {
			row := taps[(t*o+a)*g.c : (t*o+a+1)*g.c]
			src := w[a*g.c*kk+t:]
			for ci := range row {
				row[ci] = src[ci*kk]
			}
		}
	}
}

func convForwardImplicit[T Float](g convGeom, n, o int, x, w, bias, out []T) {
	ig := newImplicitGeom(g)
	kk, plane := g.kh*g.kw, ig.hp*ig.wp
	pw := getScratch[T](kk * o * g.c)
	defer putScratch(pw)
	taps := *pw
	tapWeights(g, o, w, taps, false)
	chw, ohow := g.c*g.h*g.w, g.ohow()
	parallelTasks(n, n*o*g.ckk()*ohow, func(i int) {
		px, py := getScratch[T](g.c*plane), getScratch[T](o*ig.cols)
		xp, yt := *px, *py
		padPlanes(x[i*chw:(i+1)*chw], xp, g.c, g.h, g.w, ig.hp, ig.wp, g.pad, g.pad)
		for t := 0; t < kk; t++ {
			off := (t/g.kw)*ig.wp + t%g.kw
			gemmSerial(o, ig.cols, g.c, taps[t*o*g.c:(t+1)*o*g.c], g.c, xp[off:], plane, yt, ig.cols, t > 0)
		}
		oi := out[i*o*ohow : (i+1)*o*ohow]
		for a := 0; a < o; a++ {
			var bv T
			if bias != nil {
				bv = bias[a]
			}
			src := yt[a*ig.cols:]
			dst := oi[a*ohow : (a+1)*ohow]
			for r := 0; r < g.oh; r++ {
				s := src[r*ig.wp : r*ig.wp+g.ow]
				d := dst[r*g.ow : (r+1)*g.ow]
				if bias == nil {
					copy(d, s)
					continue
				}
				for j, v := range s {
					d[j] = v + bv
				}
			}
		}
		putScratch(px)
		putScratch(py)
	})
}

func convInputGradImplicit[T Float](g convGeom, n, o int, gy, w, gx []T) {
	ig := newImplicitGeom(g)
	kk, gplane := g.kh*g.kw, ig.gh*ig.gw
	pw := getScratch[T](kk * o * g.c)
	defer putScratch(pw)
	taps := *pw
	tapWeights(g, o, w, taps, true)
	chw, ohow := g.c*g.h*g.w, g.ohow()
	parallelTasks(n, n*o*g.ckk()*ohow, func(i int) {
		pg, pt := getScratch[T](o*gplane), getScratch[T](g.c*ig.gcols)
		gp, xt := *pg, *pt
		padPlanes(gy[i*o*ohow:(i+1)*o*ohow], gp, o, g.oh, g.ow, ig.gh, ig.gw, g.kh-1-g.pad, g.kw-1-g.pad)
		// gx[c][i][j] = sum_tap W_tap^T[c][:] . gp[:][i+KH-1-ki][j+KW-1-kj]
		for t := 0; t < kk; t++ {
			ki, kj := t/g.kw, t%g.kw
			off := (g.kh-1-ki)*ig.gw + g.kw - 1 - kj
			gemmSerial(g.c, ig.gcols, o, taps[t*o*g.c:(t+1)*o*g.c], o, gp[off:], gplane, xt, ig.gcols, t > 0)
		}
		gi := gx[i*chw : (i+1)*chw]
		for ci := 0; ci < g.c; ci++ {
			src := xt[ci*ig.gcols:]
			dst := gi[ci*g.h*g.w : (ci+1)*g.h*g.w]
			for r := 0; r < g.h; r++ {
				copy(dst[r*g.w:(r+1)*g.w], src[r*ig.gw:r*ig.gw+g.w])
			}
		}
		putScratch(pg)
		putScratch(pt)
	})
}

func convWeightGradImplicit[T Float](g convGeom, n, o int, x, gy, gw []T) {
	ig := newImplicitGeom(g)
	kk, plane := g.kh*g.kw, ig.hp*ig.wp
	chw, ohow := g.c*g.h*g.w, g.ohow()
	groups := convWeightGradGroups(n)
	partial := make([]*[]T, groups)
	parallelTasks(groups, n*o*g.ckk()*ohow, func(gr int) {
		px, pg := getScratch[T](g.c*plane), getScratch[T](ig.cols*o)
		xp, gyT := *px, *pg
		pacc := getScratch[T](kk * g.c * o)
		acc := *pacc
		clear(acc)
		partial[gr] = pacc
		for i := gr * n / groups; i < (gr+1)*n/groups; i++ {
			padPlanes(x[i*chw:(i+1)*chw], xp, g.c, g.h, g.w, ig.hp, ig.wp, g.pad, g.pad)
			// gyT [cols, O]: gy_i on the output grid, transposed, junk rows zero
			gi := gy[i*o*ohow : (i+1)*o*ohow]
			for r := 0; r < g.oh; r++ {
				transpose2DStride(gi[r*g.ow:], gyT[r*ig.wp*o:], o, g.ow, ohow)
				if r < g.oh-1 {
					clear(gyT[(r*ig.wp+g.ow)*o : (r+1)*ig.wp*o])
				}
			}
			// acc_tap [C, O] += Xpad[C, q + off] * gyT[q, O]
			for t := 0; t < kk; t++ {
				off := (t/g.kw)*ig.wp + t%g.kw
				gemmSerial(g.c, o, ig.cols, xp[off:], plane, gyT, o, acc[t*g.c*o:(t+1)*g.c*o], o, true)
			}
		}
		putScratch(px)
		putScratch(pg)
	})
	for _, pp := range partial {
		p := *pp
		for a := 0; a < o; a++ {
			for ci := 0; ci < g.c; ci++ {
				dst := gw[(a*g.c+ci)*kk : (a*g.c+ci+1)*kk]
				for t := range dst {
					dst[t] += p[(t*g.c+ci)*o+a]
				}
			}
		}
		putScratch(pp)
	}
}

// transpose2DStride writes dst[j*rows+i] = src[i*ld+j] for i < rows, j < cols.
func transpose2DStride[T Float](src, dst []T, rows, cols, ld int) {
	for i := 0; i < rows; i++ {
		s := src[i*ld : i*ld+cols]
		for j, v := range s {
			dst[j*rows+i] = v
		}
	}
}
