package tensor

import "unsafe"

// Branch-free kernels for ReLU, its mask and 2x2 max-pooling. On random
// activations the sign of each element is unpredictable, and a branch per
// element mispredicts about half the time (~15 cycles each); selecting
// with integer masks keeps the loops at memory speed.

// b2u returns 1 for true and 0 for false without a branch (SETcc).
func b2u(b bool) uint64 {
	var u uint64
	if b {
		u = 1
	}
	return u
}

// reluInto sets o = x where x > 0 and 0 elsewhere (NaN gives 0).
func reluInto[T Float](x, o []T) {
	o = o[:len(x)]
	if f, g := asF32(x), asF32(o); f != nil && len(f) >= 16 {
		n := len(f) &^ 15
		reluF32AVX2(&g[0], &f[0], n)
		x, o = x[n:], o[n:]
	}
	var z T
	if unsafe.Sizeof(z) == 4 {
		xb := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
		ob := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(o))), len(o))
		for i, v := range x {
			ob[i] = xb[i] & uint32(-b2u(v > 0))
		}
		return
	}
	xb := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
	ob := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(o))), len(o))
	for i, v := range x {
		ob[i] = xb[i] & -b2u(v > 0)
	}
}

// maskPositive sets o = g where y > 0 and 0 elsewhere.
func maskPositive[T Float](g, y, o []T) {
	o, g = o[:len(y)], g[:len(y)]
	if f, u, v := asF32(o), asF32(g), asF32(y); f != nil && len(f) >= 16 {
		n := len(f) &^ 15
		maskPosF32AVX2(&f[0], &u[0], &v[0], n)
		g, y, o = g[n:], y[n:], o[n:]
	}
	var z T
	if unsafe.Sizeof(z) == 4 {
		gb := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(g))), len(g))
		ob := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(o))), len(o))
		for i, v := range y {
			ob[i] = gb[i] & uint32(-b2u(v > 0))
		}
		return
	}
	gb := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(g))), len(g))
	ob := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(o))), len(o))
	for i, v := range y {
		ob[i] = gb[i] & -b2u(v > 0)
	}
}

// pick returns c when x[c] beats x[b] in max-pooling's scan order (greater,
// or NaN), else b.
func pick[T Float](x []T, b, c int) int {
	v := x[c]
	t := int(b2u(v > x[b]) | b2u(v != v))
	return b + t*(c-b)
}

// maxPool2x2 is maxPool for 2x2 windows, stride 2, no padding: the same
// result and indices (first maximum wins, NaN wins) without branches.
func maxPool2x2[T Float, I int | int32](x, out []T, idx []I, plane0, plane1, h, w, oh, ow int) {
	for p := plane0; p < plane1; p++ {
		base := p * h * w
		for oi := 0; oi < oh; oi++ {
			r0 := base + 2*oi*w
			o := (p*oh + oi) * ow
			maxPool2x2Row(x[r0:], w, out[o:o+ow], idx[o:o+ow], r0)
		}
	}
}

// maxPool2x2Row pools one pair of rows: src holds the upper row at 0 and
// the lower at w, orow and irow get one window each (the first maximum
// wins, NaN wins), and the indices are offsets into src plus a0.
func maxPool2x2Row[T Float, I int | int32](src []T, w int, orow []T, irow []I, a0 int) {
	start := 0
	if xf, of, ii := asF32(src), asF32(orow), asI32(irow); xf != nil && ii != nil && a0 < 1<<31-2*w {
		if useAVX512Pool {
			maxPool2x2RowAVX512(&xf[0], &of[0], &ii[0], len(orow), w, int32(a0))
			return
		}
		if n := len(orow) &^ 7; n > 0 {
			maxPool2x2RowAVX2(&xf[0], &of[0], &ii[0], n, w, int32(a0))
			start = n
		}
	}
	for oj := start; oj < len(orow); oj++ {
		a := 2 * oj
		b := pick(src, a, a+1)
		b = pick(src, b, a+w)
		b = pick(src, b, a+w+1)
		orow[oj], irow[oj] = src[b], I(a0+b)
	}
}

// asI32 returns idx as []int32 when I is int32 (else nil).
func asI32[I int | int32](idx []I) []int32 {
	if v, ok := any(idx).([]int32); ok && len(v) > 0 {
		return v
	}
	return nil
}
