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

// tap is the offset of kernel tap t = ki*KW + kj in the padded input
// from an output's grid index: ki*WP + kj.
func (ig implicitGeom) tap(g convGeom, t int) int { return (t/g.kw)*ig.wp + t%g.kw }

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
		tapGemms(o, ig.cols, g.c, kk, taps, xp, plane, yt, func(t int) int { return ig.tap(g, t) })
		cropGrid(out[i*o*ohow:(i+1)*o*ohow], yt, o, g.oh, g.ow, ig.wp, ig.cols, bias)
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
		tapGemms(g.c, ig.gcols, o, kk, taps, gp, gplane, xt, func(t int) int {
			return (g.kh-1-t/g.kw)*ig.gw + g.kw - 1 - t%g.kw
		})
		cropGrid(gx[i*chw:(i+1)*chw], xt, g.c, g.h, g.w, ig.gw, ig.gcols, nil)
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
			// gyT [cols, O]: gy_i transposed, then its rows spread onto the
			// output grid (last row first: each moves right) with the junk
			// rows zeroed
			transpose2D(gy[i*o*ohow:(i+1)*o*ohow], gyT, o, ohow)
			for r := g.oh - 1; r > 0; r-- {
				copy(gyT[r*ig.wp*o:(r*ig.wp+g.ow)*o], gyT[r*g.ow*o:(r+1)*g.ow*o])
				clear(gyT[((r-1)*ig.wp+g.ow)*o : r*ig.wp*o])
			}
			// acc_tap [C, O] += Xpad[C, q + off] * gyT[q, O]
			for t := 0; t < kk; t++ {
				gemmSerial(g.c, o, ig.cols, xp[ig.tap(g, t):], plane, gyT, o, acc[t*g.c*o:(t+1)*g.c*o], o, true)
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

// tapGemms sets dst [m, cols] to the sum over the kk taps t of
// taps_t [m, k] times the k x cols matrix at src[off(t):] (leading
// dimension ld): one gemm per tap, accumulating from the second.
func tapGemms[T Float](m, cols, k, kk int, taps, src []T, ld int, dst []T, off func(t int) int) {
	for t := 0; t < kk; t++ {
		gemmSerial(m, cols, k, taps[t*m*k:(t+1)*m*k], k, src[off(t):], ld, dst, cols, t > 0)
	}
}

// cropGrid copies planes of rows x cols values, stored in src with rows
// ld apart and planes stride apart, densely into dst, adding bias[p] to
// plane p when bias is set.
func cropGrid[T Float](dst, src []T, planes, rows, cols, ld, stride int, bias []T) {
	for p := 0; p < planes; p++ {
		sp, dp := src[p*stride:], dst[p*rows*cols:(p+1)*rows*cols]
		for r := 0; r < rows; r++ {
			s, d := sp[r*ld:r*ld+cols], dp[r*cols:(r+1)*cols]
			if bias == nil {
				copy(d, s)
				continue
			}
			for j, v := range s {
				d[j] = v + bias[p]
			}
		}
	}
}
