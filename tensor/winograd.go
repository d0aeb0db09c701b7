package tensor

// Winograd convolution F(2x2, 3x3) for 3x3 kernels, stride 1, padding 1
// (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
// CVPR 2016, section 4.1 and eq. 8). Each 2x2 block of outputs is
//
//	Y = A^T [ sum_c (G g_c G^T) ⊙ (B^T d_c B) ] A
//
// with d_c the 4x4 input tile (overlapping its neighbours by two) and g_c
// the 3x3 filter of input channel c, and
//
//	B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//	G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//	A^T = [1 1 1 0; 0 1 -1 -1].
//
// Written per transform element xi = 4k+l (k, l in 0..3), the sum over
// channels is one matrix product per element over all tiles at once:
//
//	M_xi [O, tiles] = U_xi [O, C] * V_xi [C, tiles],
//
// U_xi = (G g G^T)[k][l] for every filter, V_xi = (B^T d B)[k][l] for
// every tile: 16 products of 16 multiplications per 2x2 outputs instead
// of 36, i.e. 2.25 times fewer flops than the direct convolution. The
// transforms themselves are additions only, run by AVX-512 kernels that
// hold a whole padded row (<= 16 lanes) in one register, which limits the
// path to planes at most 14 wide; the input gradient of such a layer is
// the same convolution of the output gradient with the flipped,
// transposed filters, and the weight gradient runs the transform
// backwards (below). The results differ from the direct products by
// rounding only (the transforms' additions; tests compare against a
// float64 reference).

// winoMaxW is the widest plane the AVX-512 transforms take.
const winoMaxW = 14

// winoMinSide is the smallest plane side taken: a 3x3 plane is 4 tiles,
// 64 products per filter against the direct 81, and its tile products
// batch many images into one gemm.
const winoMinSide = 3

// winoTiles is the number of tiles per batch product the images are
// grouped to: enough columns for the gemm micro-kernels, few enough that
// a group's transformed tiles (16 x channels x tiles values, 0.8 MB for 64
// channels) stay near the L2 cache. The grouping depends only on the
// batch and the geometry, never on the thread count.
const winoTiles = 196

// winoUse reports whether g runs as a Winograd convolution: float32 on
// AVX-512, a 3x3 kernel with stride 1 and padding 1 on planes 3 to 14 wide
// and at least 3 high, and 16 or more channels on both sides (below, the
// tile products are too shallow). Measured (BenchmarkConvWinograd, one
// thread) on conv4's 64-channel 14x14, 7x7 and 3x3 layers, batches 5 and
// 75: faster than the implicit and im2col paths in all three passes, 1.2
// to 2.5 times.
func winoUse[T Float](g convGeom, o int) bool {
	var z T
	_, f32 := any(z).(float32)
	return f32 && useWinograd && !noWinograd && g.kh == 3 && g.kw == 3 && g.stride == 1 && g.pad == 1 &&
		g.w >= winoMinSide && g.w <= winoMaxW && g.h >= winoMinSide && g.c >= 16 && o >= 16
}

// noWinograd turns the Winograd path off (tests and benchmarks compare).
var noWinograd bool

// winoWeights writes U [16, a, b] (element xi's a x b matrix at xi*a*b)
// for the filters w [O, C, 3, 3]: U_xi[o][c] = (G w[o][c] G^T)[xi] for the
// forward pass (a = O, b = C), or, for the input gradient (flip), the
// transform of the flipped filter w[o][c][2-i][2-j] at U_xi[c][o]. Blocks
// of 16 filters whose results are contiguous go to the AVX-512 kernel
// (input channels in order, or, flipped, output channels), the rest to
// winoFilter: the same arithmetic.
func winoWeights(w, u []float32, o, c int, flip bool) {
	ab := o * c
	if !flip {
		for a := 0; a < o; a++ {
			b := 0
			for ; b+16 <= c; b += 16 {
				winoWeightsAVX512(&w[(a*c+b)*9], 9, false, &u[a*c+b], ab)
			}
			for ; b < c; b++ {
				winoFilter(w[(a*c+b)*9:(a*c+b+1)*9], false, u, a*c+b, ab)
			}
		}
		return
	}
	for b := 0; b < c; b++ {
		a := 0
		for ; a+16 <= o; a += 16 {
			winoWeightsAVX512(&w[(a*c+b)*9], 9*c, true, &u[b*o+a], ab)
		}
		for ; a < o; a++ {
			winoFilter(w[(a*c+b)*9:(a*c+b+1)*9], true, u, b*o+a, ab)
		}
	}
}

// winoFilter writes G f G^T for one 3x3 filter f (flip: taps reversed) to
// u[xi*ustride + pos], xi = 0..15.
func winoFilter(f []float32, flip bool, u []float32, pos, ustride int) {
	var g [9]float32
	for t := range g {
		if flip {
			g[t] = f[8-t]
		} else {
			g[t] = f[t]
		}
	}
	var gg [12]float32 // G g [4x3]
	for j := 0; j < 3; j++ {
		g0, g1, g2 := g[j], g[3+j], g[6+j]
		gg[j] = g0
		gg[3+j] = (g0 + g1 + g2) * 0.5
		gg[6+j] = (g0 - g1 + g2) * 0.5
		gg[9+j] = g2
	}
	for k := 0; k < 4; k++ { // (G g) G^T, row k
		r0, r1, r2 := gg[3*k], gg[3*k+1], gg[3*k+2]
		u[(4*k)*ustride+pos] = r0
		u[(4*k+1)*ustride+pos] = (r0 + r1 + r2) * 0.5
		u[(4*k+2)*ustride+pos] = (r0 - r1 + r2) * 0.5
		u[(4*k+3)*ustride+pos] = r2
	}
}

// winoTiling returns the tiles per image of an h x w plane and the images
// per tile product (about winoTiles tiles; at least 1, at most n).
func winoTiling(n, h, w int) (tiles, per int) {
	tiles = ((h + 1) / 2) * ((w + 1) / 2)
	return tiles, max(1, min(n, (winoTiles+tiles-1)/tiles))
}

// winoConv sets y [N, cout, H, W] to the 3x3, stride-1, padding-1
// convolution of x [N, cin, H, W] with the transformed filters u [16,
// cout, cin] (winoWeights), plus bias [cout] when set.
func winoConv(n, cin, cout, h, w int, x, u, bias, y []float32) {
	tiles, per := winoTiling(n, h, w)
	groups := (n + per - 1) / per
	plane := h * w
	parallelTasks(groups, n*cout*cin*9*plane, func(gr int) {
		lo, hi := gr*per, min(n, (gr+1)*per)
		cols := (hi - lo) * tiles
		ld := cols + 8 // the input transform writes up to 7 values past a row's tiles
		pv, pm := getScratch[float32](16*cin*ld), getScratch[float32](16*cout*cols)
		v, m := *pv, *pm
		// images in order: a tile row's overhang lands where a later one
		// writes, or on the padding
		for i := lo; i < hi; i++ {
			for c := 0; c < cin; c++ {
				winoInputAVX512(&x[(i*cin+c)*plane], h, w, &v[c*ld+(i-lo)*tiles], cin*ld)
			}
		}
		for xi := 0; xi < 16; xi++ {
			gemmSerial(cout, cols, cin, u[xi*cout*cin:(xi+1)*cout*cin], cin, v[xi*cin*ld:(xi+1)*cin*ld], ld,
				m[xi*cout*cols:(xi+1)*cout*cols], cols, false)
		}
		for i := lo; i < hi; i++ {
			for a := 0; a < cout; a++ {
				var b float32
				if bias != nil {
					b = bias[a]
				}
				winoOutputAVX512(&m[a*cols+(i-lo)*tiles], cout*cols, &y[(i*cout+a)*plane], h, w, b)
			}
		}
		putScratch(pv)
		putScratch(pm)
	})
}

// convForwardWino and convInputGradWino are convForward and convInputGrad
// for geometries winoUse accepts (T is float32 there).
func convForwardWino[T Float](g convGeom, n, o int, x, w, bias, out []T) {
	pu := getScratch[float32](16 * o * g.c)
	defer putScratch(pu)
	winoWeights(f32View(w), *pu, o, g.c, false)
	winoConv(n, g.c, o, g.h, g.w, f32View(x), *pu, f32View(bias), f32View(out))
}

func convInputGradWino[T Float](g convGeom, n, o int, gy, w, gx []T) {
	pu := getScratch[float32](16 * o * g.c)
	defer putScratch(pu)
	winoWeights(f32View(w), *pu, o, g.c, true)
	winoConv(n, o, g.c, g.h, g.w, f32View(gy), *pu, nil, f32View(gx))
}

// The weight gradient (the same paper's transform, run backwards): with
// M = sum_c U_c ⊙ V_c and Y = A^T M A per tile, dM = A dY A^T and
// dU_c = sum over tiles of dM ⊙ V_c, so per element xi
//
//	dU_xi [O, C] = dM_xi [O, tiles] * V_xi [C, tiles]^T,
//
// and dg = G^T dU G for every filter. V_xi is transposed (16 x 16 blocks
// in registers) so that each product is a plain gemm.

// winoGradWeights adds G^T dU G to gw [O, C, 3, 3] for dU [16, O, C]:
// per filter, rows first (R = G^T dU, 3x4), then columns (R G, 3x3), with
// G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1].
func winoGradWeights(du, gw []float32, o, c int) {
	oc := o * c
	p := 0
	var tmp [9 * 16]float32
	for ; p+16 <= oc; p += 16 { // 16 filters in AVX-512, added here
		winoGradWeightsAVX512(&du[p], oc, &tmp[0])
		for f := 0; f < 16; f++ {
			g := gw[(p+f)*9 : (p+f)*9+9]
			for t := range g {
				g[t] += tmp[t*16+f]
			}
		}
	}
	for ; p < oc; p++ {
		winoGradFilter(du, oc, p, gw[p*9:p*9+9])
	}
}

// winoGradFilter adds G^T dU G for filter p (element xi at du[xi*stride +
// p]) to f [3x3].
func winoGradFilter(du []float32, stride, p int, f []float32) {
	var r [12]float32 // G^T dU [3x4]
	for l := 0; l < 4; l++ {
		d0, d1, d2, d3 := du[l*stride+p], du[(4+l)*stride+p], du[(8+l)*stride+p], du[(12+l)*stride+p]
		s, t := (d1+d2)*0.5, (d1-d2)*0.5
		r[l], r[4+l], r[8+l] = d0+s, t, s+d3
	}
	for k := 0; k < 3; k++ {
		r0, r1, r2, r3 := r[4*k], r[4*k+1], r[4*k+2], r[4*k+3]
		s, t := (r1+r2)*0.5, (r1-r2)*0.5
		f[3*k] += r0 + s
		f[3*k+1] += t
		f[3*k+2] += s + r3
	}
}

// convWeightGradWino is convWeightGrad for geometries winoUse accepts:
// the images are split into chunks of about winoTiles tiles and the
// chunks into at most 8 contiguous groups (both by the batch and the
// geometry alone, so the sum's order never depends on the thread count);
// each group's products accumulate over its chunks, and the partials are
// added in group order before the transform back.
func convWeightGradWino[T Float](g convGeom, n, o int, x, gy, gw []T) {
	xf, gyf, gwf := f32View(x), f32View(gy), f32View(gw)
	cin, h, w := g.c, g.h, g.w
	tiles, per := winoTiling(n, h, w)
	plane := h * w
	chunks := (n + per - 1) / per
	groups := min(chunks, 8)
	if groups == 0 {
		return
	}
	partial := make([]*[]float32, groups)
	parallelTasks(groups, n*o*cin*9*plane, func(gr int) {
		lo, hi := gr*chunks/groups*per, min(n, (gr+1)*chunks/groups*per)
		maxCols := per * tiles
		ld := maxCols + 8
		pv, pm := getScratch[float32](16*cin*ld), getScratch[float32](16*o*ld)
		pt, pacc := getScratch[float32](ld*cin), getScratch[float32](16*o*cin)
		v, dm, vt, acc := *pv, *pm, *pt, *pacc
		partial[gr] = pacc
		for c0 := lo; c0 < hi; c0 += per {
			c1 := min(hi, c0+per)
			for i := c0; i < c1; i++ {
				for c := 0; c < cin; c++ {
					winoInputAVX512(&xf[(i*cin+c)*plane], h, w, &v[c*ld+(i-c0)*tiles], cin*ld)
				}
				for a := 0; a < o; a++ {
					winoGradAVX512(&gyf[(i*o+a)*plane], h, w, &dm[a*ld+(i-c0)*tiles], o*ld)
				}
			}
			cols := (c1 - c0) * tiles
			for xi := 0; xi < 16; xi++ {
				transpose2D(v[xi*cin*ld:(xi+1)*cin*ld], vt, cin, ld) // [ld, C]; rows past cols unused
				gemmSerial(o, cin, cols, dm[xi*o*ld:(xi+1)*o*ld], ld, vt, cin, acc[xi*o*cin:(xi+1)*o*cin], cin, c0 > lo)
			}
		}
		putScratch(pv)
		putScratch(pm)
		putScratch(pt)
	})
	sum := *partial[0]
	for _, pp := range partial[1:] {
		addTo(sum, *pp)
		putScratch(pp)
	}
	winoGradWeights(sum, gwf, o, cin)
	putScratch(partial[0])
}
