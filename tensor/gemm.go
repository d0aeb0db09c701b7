package tensor

import (
	"sync"
	"unsafe"
)

// Matrix multiply on register-blocked micro-kernels (assembly on amd64, see
// gemm_amd64.go; portable Go elsewhere and with -tags purego).
//
// Three drivers share the kernels (gemmRun in matmul.go picks one):
//
//   - gemmSmall reads A and B in place with "direct" kernels (AVX-512 only),
//     masking the ragged right edge. Used single-threaded while B fits in
//     the L2 cache, where packing costs more than it saves.
//   - gemmBlock is the BLIS-style packed multiply, single-threaded: for every
//     nc-column block of B and kc-deep slice of the inner dimension, the
//     kc x nc block of B is packed into nr-column micro-panels (k-major, zero
//     padded); for every mc-row block of A the mc x kc block is packed into
//     mr-row micro-panels; the micro-kernel multiplies one A micro-panel by
//     one B micro-panel into an mr x nr tile of C kept in registers. Tiles on
//     the ragged edges go through a scratch tile and only the valid part is
//     written back.
//   - gemmParallel (gemm_parallel.go) packs the same panels into shared
//     buffers and spreads tiles over goroutines.
//
// All of them compute every element of C the same way: for each kc block in
// order, a multiply-add chain (FMA in assembly) from zero over the block,
// then c = AB (first block, overwrite) or c = c + AB. So the result depends
// on the shape and the CPU's kernels but never on the driver, the tile an
// element falls in, or the number of threads.

// gemmKernel describes one micro-kernel and the blocking it is tuned for.
type gemmKernel struct {
	name   string
	mr, nr int // tile computed by one call of fn
	kc     int // depth of the packed panels
	mc     int // rows of A packed at once (multiple of mr)
	nc     int // columns of B packed at once (multiple of nr)
	// fn computes the mr x nr tile of A-panel(a) * B-panel(b) over kc steps
	// and stores it at c (row-major, leading dimension ldc): c = AB, or
	// c += AB when acc is set.
	fn func(kc int, a, b, c unsafe.Pointer, ldc int, acc bool)
	// packA, if set, packs one full mr-row micro-panel of a row-major A
	// (leading dimension lda) over kc steps: dst[p*mr+i] = a[i*lda+p].
	packA func(kc int, a unsafe.Pointer, lda int, dst unsafe.Pointer)
	// direct, if set, holds unpacked kernels for small products (see
	// gemmSmall): direct[r-1] computes an r x nr tile.
	direct []gemmDirectFunc
	// narrow, if set, computes all rows of a product at most 16 columns
	// wide and at most kc deep in one call, with the direct kernels'
	// arithmetic (tall, skinny products: per-tile calls would cost more
	// than the multiplications).
	narrow gemmNarrowFunc
}

type gemmNarrowFunc func(m, k int, a unsafe.Pointer, lda int, b unsafe.Pointer, ldb int, c unsafe.Pointer, ldc int, mask int, acc bool)

// gemmDirectFunc computes the rows x nr tile C (+)= A*B over kc steps
// reading A (leading dimension lda) and B (ldb) in place; bit j of mask
// enables column j, and disabled columns of B and C are never touched.
type gemmDirectFunc func(kc int, a unsafe.Pointer, lda int, b unsafe.Pointer, ldb int, c unsafe.Pointer, ldc int, mask int, acc bool)

// gemmSmall computes C (+)= A*B with the kernel's direct (unpacked) tiles.
// It is for products small enough that A and B stay in cache, where
// packing would cost more than it saves.
func gemmSmall[T Float](kern *gemmKernel, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, acc bool) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !acc {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	gemmSmallRows(kern, 0, m, n, k, a, lda, b, ldb, c, ldc, acc)
}

// gemmSmallRows runs gemmSmall's tiles for rows [i0, i1) of C. The rows
// are split into as few tiles as the tallest kernel allows, of nearly
// equal height (64 rows: 11, 11, 11, 11, 10, 10 rather than five of 12 and
// a slow one of 4). The k loop is split into the kernel's kc blocks
// exactly as in the packed path, so both paths round identically.
func gemmSmallRows[T Float](kern *gemmKernel, i0, i1, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, acc bool) {
	mr, nr, kc := len(kern.direct), kern.nr, kern.kc
	if kern.narrow != nil && n <= 16 && k <= kc && i1-i0 >= mr {
		as := a[i0*lda : (i1-1)*lda+k] // bounds checks for the assembly
		bs := b[:(k-1)*ldb+n]
		cs := c[i0*ldc : (i1-1)*ldc+n]
		kern.narrow(i1-i0, k, unsafe.Pointer(&as[0]), lda, unsafe.Pointer(&bs[0]), ldb, unsafe.Pointer(&cs[0]), ldc, 1<<n-1, acc)
		return
	}
	tiles := (i1 - i0 + mr - 1) / mr
	for t := 0; t < tiles; t++ {
		rows := (i1 - i0) / (tiles - t) // the remaining rows over the remaining tiles
		if (i1-i0)%(tiles-t) != 0 {
			rows++
		}
		fn := kern.direct[rows-1]
		for j0 := 0; j0 < n; j0 += nr {
			cols := min(nr, n-j0)
			cs := c[i0*ldc+j0 : (i0+rows-1)*ldc+j0+cols] // bounds checks for the assembly
			for p0 := 0; p0 < k; p0 += kc {
				kcq := min(kc, k-p0)
				as := a[i0*lda+p0 : (i0+rows-1)*lda+p0+kcq]
				bs := b[p0*ldb+j0 : (p0+kcq-1)*ldb+j0+cols]
				fn(kcq, unsafe.Pointer(&as[0]), lda, unsafe.Pointer(&bs[0]), ldb, unsafe.Pointer(&cs[0]), ldc, 1<<cols-1, acc || p0 > 0)
			}
		}
		i0 += rows
	}
}

// gemmKernels holds the micro-kernels in use, chosen at init for the CPU;
// tests swap them to exercise every implementation.
var gemmKernels struct {
	f32, f64 *gemmKernel
}

// kernelFor returns the micro-kernel for the element type T.
func kernelFor[T Float]() *gemmKernel {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return gemmKernels.f32
	}
	return gemmKernels.f64
}

// Generic micro-kernel: 4x16 tiles accumulated in a small array (scalar Go
// keeps too few values in registers for a register-blocked tile to pay off).
// It is the fallback for CPUs without AVX2/FMA, for other architectures and
// for -tags purego.
const genericMR, genericNR = 4, 16

func gemmKernelGeneric[T Float](kc int, ap, bp, cp unsafe.Pointer, ldc int, acc bool) {
	var t [genericMR][genericNR]T
	if kc > 0 {
		a := unsafe.Slice((*T)(ap), kc*genericMR)
		b := unsafe.Slice((*T)(bp), kc*genericNR)
		r0, r1, r2, r3 := &t[0], &t[1], &t[2], &t[3]
		for p := 0; p < kc; p++ {
			av := a[p*genericMR : p*genericMR+4 : p*genericMR+4]
			bv := (*[genericNR]T)(b[p*genericNR : p*genericNR+genericNR])
			a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
			for j, v := range bv {
				r0[j] += a0 * v
				r1[j] += a1 * v
				r2[j] += a2 * v
				r3[j] += a3 * v
			}
		}
	}
	c := unsafe.Slice((*T)(cp), (genericMR-1)*ldc+genericNR)
	for i := range t {
		row := (*[genericNR]T)(c[i*ldc : i*ldc+genericNR])
		if acc {
			for j, v := range t[i] {
				row[j] += v
			}
		} else {
			*row = t[i]
		}
	}
}

var genericKernels = [2]*gemmKernel{
	{name: "generic", mr: genericMR, nr: genericNR, kc: 256, mc: 128, nc: 1024, fn: gemmKernelGeneric[float32]},
	{name: "generic", mr: genericMR, nr: genericNR, kc: 256, mc: 128, nc: 1024, fn: gemmKernelGeneric[float64]},
}

// vecAdd holds optional assembly for dst[i] += src[i], i < n (float32,
// float64); see addTo.
var vecAdd [2]func(dst, src unsafe.Pointer, n int)

// addTo adds s to d elementwise (len(s) >= len(d)).
func addTo[T Float](d, s []T) {
	s = s[:len(d)]
	var z T
	if f := vecAdd[unsafe.Sizeof(z)/8]; f != nil && len(d) > 0 {
		f(unsafe.Pointer(&d[0]), unsafe.Pointer(&s[0]), len(d))
		return
	}
	for j, v := range s {
		d[j] += v
	}
}

// gemmWorkspace is the per-goroutine scratch of the packed multiply.
type gemmWorkspace[T Float] struct {
	a, b, tile []T
}

var gemmPools [2]sync.Pool // float32, float64 workspaces

// getWorkspace returns scratch for an m x n x k gemmBlock: packed blocks of
// at most mc x kc of A and kc x nc of B, and one tile. The buffers are
// pooled, so steady-state calls allocate nothing.
func getWorkspace[T Float](kern *gemmKernel, m, n, k int) *gemmWorkspace[T] {
	var z T
	pool := &gemmPools[unsafe.Sizeof(z)/8]
	ws, _ := pool.Get().(*gemmWorkspace[T])
	if ws == nil {
		ws = new(gemmWorkspace[T])
	}
	mc := min(kern.mc, (m+kern.mr-1)/kern.mr*kern.mr)
	nc := min(kern.nc, (n+kern.nr-1)/kern.nr*kern.nr)
	kc := min(kern.kc, k)
	if size := mc * kc; cap(ws.a) < size {
		ws.a = make([]T, size)
	}
	if size := kc * nc; cap(ws.b) < size {
		ws.b = make([]T, size)
	}
	if size := kern.mr * kern.nr; cap(ws.tile) < size {
		ws.tile = make([]T, size)
	}
	return ws
}

func putWorkspace[T Float](ws *gemmWorkspace[T]) {
	var z T
	gemmPools[unsafe.Sizeof(z)/8].Put(ws)
}

// gemmPacked computes C (+)= A*B with the packed micro-kernel, on up to
// workers goroutines (see gemmParallel).
func gemmPacked[T Float](kern *gemmKernel, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, acc bool, workers int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !acc {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	if workers > 1 && m*n*k >= gemmParallelMinWork {
		gemmParallel(kern, m, n, k, a, lda, b, ldb, c, ldc, acc, workers)
		return
	}
	gemmBlock(kern, m, n, k, a, lda, b, ldb, c, ldc, acc)
}

// gemmTile runs the micro-kernel for the tile of C at c (leading dimension
// ldc) with rows x cols valid elements. Full tiles are written in place;
// partial ones go through the mr x nr scratch tile and only the valid part
// is stored (c = AB) or added (c = c + AB, the same rounding as in place).
func gemmTile[T Float](kern *gemmKernel, kc int, ap, bp unsafe.Pointer, c []T, ldc, rows, cols int, accum bool, tile []T) {
	mr, nr := kern.mr, kern.nr
	if rows == mr && cols == nr {
		cs := c[:(mr-1)*ldc+nr]
		kern.fn(kc, ap, bp, unsafe.Pointer(&cs[0]), ldc, accum)
		return
	}
	tile = tile[:mr*nr]
	kern.fn(kc, ap, bp, unsafe.Pointer(&tile[0]), nr, false)
	for i := 0; i < rows; i++ {
		dst := c[i*ldc:][:cols]
		src := tile[i*nr:][:cols]
		if accum {
			for j, v := range src {
				dst[j] += v
			}
		} else {
			copy(dst, src)
		}
	}
}

// gemmBlock is the single-threaded packed multiply of one block of C.
func gemmBlock[T Float](kern *gemmKernel, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, acc bool) {
	ws := getWorkspace[T](kern, m, n, k)
	mr, nr := kern.mr, kern.nr
	tile := ws.tile[:mr*nr]
	for jc := 0; jc < n; jc += kern.nc {
		nc := min(kern.nc, n-jc)
		for pc := 0; pc < k; pc += kern.kc {
			kc := min(kern.kc, k-pc)
			packB(kc, nc, nr, b[pc*ldb+jc:], ldb, ws.b)
			accum := acc || pc > 0
			for ic := 0; ic < m; ic += kern.mc {
				mc := min(kern.mc, m-ic)
				packA(kern, mc, kc, a[ic*lda+pc:], lda, ws.a)
				for ir := 0; ir < mc; ir += mr {
					ap := unsafe.Pointer(&ws.a[ir*kc])
					rows := min(mr, mc-ir)
					crow := (ic + ir) * ldc
					for jr := 0; jr < nc; jr += nr {
						bp := unsafe.Pointer(&ws.b[jr*kc])
						gemmTile(kern, kc, ap, bp, c[crow+jc+jr:], ldc, rows, min(nr, nc-jr), accum, tile)
					}
				}
			}
		}
	}
	putWorkspace(ws)
}

// packA packs the mc x kc block of A (leading dimension lda) into mr-row
// micro-panels: panel q holds rows q*mr.. as dst[q*mr*kc + p*mr + i]. Rows
// past mc are zero.
func packA[T Float](kern *gemmKernel, mc, kc int, a []T, lda int, dst []T) {
	mr := kern.mr
	i0 := 0
	if kern.packA != nil && kc > 0 {
		for ; i0+mr <= mc; i0 += mr {
			src := a[i0*lda : (i0+mr-1)*lda+kc] // bounds check for the asm
			d := dst[i0*kc : i0*kc+mr*kc]
			kern.packA(kc, unsafe.Pointer(&src[0]), lda, unsafe.Pointer(&d[0]))
		}
	}
	switch mr {
	case 12:
		for ; i0+12 <= mc; i0 += 12 {
			packA12(kc, a[i0*lda:], lda, dst[i0*kc:i0*kc+12*kc])
		}
	case 6:
		for ; i0+6 <= mc; i0 += 6 {
			packA6(kc, a[i0*lda:], lda, dst[i0*kc:i0*kc+6*kc])
		}
	case 4:
		for ; i0+4 <= mc; i0 += 4 {
			packA4(kc, a[i0*lda:], lda, dst[i0*kc:i0*kc+4*kc])
		}
	}
	for ; i0 < mc; i0 += mr {
		panel := dst[i0*kc : i0*kc+mr*kc]
		rows := min(mr, mc-i0)
		for i := 0; i < rows; i++ {
			src := a[(i0+i)*lda : (i0+i)*lda+kc]
			d := panel[i:]
			for p, v := range src {
				d[p*mr] = v
			}
		}
		for i := rows; i < mr; i++ {
			for p := 0; p < kc; p++ {
				panel[p*mr+i] = 0
			}
		}
	}
}

// packA12 packs one full 12-row micro-panel (see packA).
func packA12[T Float](kc int, a []T, lda int, dst []T) {
	r0, r1, r2, r3 := a[:kc], a[lda:lda+kc], a[2*lda:2*lda+kc], a[3*lda:3*lda+kc]
	r4, r5, r6, r7 := a[4*lda:4*lda+kc], a[5*lda:5*lda+kc], a[6*lda:6*lda+kc], a[7*lda:7*lda+kc]
	r8, r9, r10, r11 := a[8*lda:8*lda+kc], a[9*lda:9*lda+kc], a[10*lda:10*lda+kc], a[11*lda:11*lda+kc]
	r1, r2, r3, r4, r5, r6, r7 = r1[:len(r0)], r2[:len(r0)], r3[:len(r0)], r4[:len(r0)], r5[:len(r0)], r6[:len(r0)], r7[:len(r0)]
	r8, r9, r10, r11 = r8[:len(r0)], r9[:len(r0)], r10[:len(r0)], r11[:len(r0)]
	dst = dst[:12*kc]
	for p := range r0 {
		d := dst[p*12 : p*12+12 : p*12+12]
		d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
		d[4], d[5], d[6], d[7] = r4[p], r5[p], r6[p], r7[p]
		d[8], d[9], d[10], d[11] = r8[p], r9[p], r10[p], r11[p]
	}
}

// packA6 packs one full 6-row micro-panel (see packA).
func packA6[T Float](kc int, a []T, lda int, dst []T) {
	r0, r1, r2 := a[:kc], a[lda:lda+kc], a[2*lda:2*lda+kc]
	r3, r4, r5 := a[3*lda:3*lda+kc], a[4*lda:4*lda+kc], a[5*lda:5*lda+kc]
	r1, r2, r3, r4, r5 = r1[:len(r0)], r2[:len(r0)], r3[:len(r0)], r4[:len(r0)], r5[:len(r0)]
	dst = dst[:6*kc]
	for p := range r0 {
		d := dst[p*6 : p*6+6 : p*6+6]
		d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// packA4 packs one full 4-row micro-panel (see packA).
func packA4[T Float](kc int, a []T, lda int, dst []T) {
	r0, r1, r2, r3 := a[:kc], a[lda:lda+kc], a[2*lda:2*lda+kc], a[3*lda:3*lda+kc]
	r1, r2, r3 = r1[:len(r0)], r2[:len(r0)], r3[:len(r0)]
	dst = dst[:4*kc]
	for p := range r0 {
		d := dst[p*4 : p*4+4 : p*4+4]
		d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
	}
}

// packB packs the kc x nc block of B (leading dimension ldb) into nr-column
// micro-panels: panel q holds columns q*nr.. as dst[q*nr*kc + p*nr + j].
// Columns past nc are zero.
func packB[T Float](kc, nc, nr int, b []T, ldb int, dst []T) {
	for j0 := 0; j0 < nc; j0 += nr {
		panel := dst[j0*kc : j0*kc+nr*kc]
		cols := min(nr, nc-j0)
		if cols == nr {
			for p := 0; p < kc; p++ {
				copy(panel[p*nr:p*nr+nr], b[p*ldb+j0:p*ldb+j0+nr])
			}
			continue
		}
		for p := 0; p < kc; p++ {
			d := panel[p*nr : p*nr+nr]
			copy(d, b[p*ldb+j0:p*ldb+j0+cols])
			clear(d[cols:])
		}
	}
}
