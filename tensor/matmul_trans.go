package tensor

import "fmt"

// MatMulNT returns a times the transpose of b's last two axes:
//
//   - a [..., m,k], b [n,k] -> [..., m,n] (b shared across the batch)
//   - a [..., m,k], b [..., n,k] with identical batch dims -> [..., m,n]
//
// It equals MatMul(a, Transpose(b)) without allocating the transposed
// tensor (a pooled scratch buffer holds it), and rounds identically.
func MatMulNT(a, b *Tensor) *Tensor {
	mustSameDType("MatMulNT", a, b)
	if a.Dims() < 2 || b.Dims() < 2 {
		panic(fmt.Sprintf("tensor: MatMulNT needs rank >= 2 operands, got %v x %v", a.shape, b.shape))
	}
	m, k := a.Dim(-2), a.Dim(-1)
	n, k2 := b.Dim(-2), b.Dim(-1)
	if k != k2 {
		panic(fmt.Sprintf("tensor: MatMulNT: inner dimensions differ: %v x %v^T", a.shape, b.shape))
	}
	batchA := a.shape[:a.Dims()-2]
	batch := NumElems(batchA)
	shared := b.Dims() == 2
	if !shared && !SameShape(batchA, b.shape[:b.Dims()-2]) {
		panic(fmt.Sprintf("tensor: MatMulNT: batch dimensions differ: %v x %v", a.shape, b.shape))
	}
	out := New(a.dtype, append(cloneShape(batchA), m, n)...)
	if a.dtype == Float32 {
		matMulNT(batch, m, n, k, shared, a.f32, b.f32, out.f32)
	} else {
		matMulNT(batch, m, n, k, shared, a.f64, b.f64, out.f64)
	}
	return out
}

func matMulNT[T Float](batch, m, n, k int, shared bool, a, b, c []T) {
	bt := getScratch[T](k * n)
	defer putScratch(bt)
	if shared {
		transpose2D(b, *bt, n, k)
		gemmRun(batch*m, n, k, a, k, *bt, n, c, n, false)
		return
	}
	for i := 0; i < batch; i++ {
		transpose2D(b[i*n*k:(i+1)*n*k], *bt, n, k)
		gemmRun(m, n, k, a[i*m*k:(i+1)*m*k], k, *bt, n, c[i*m*n:(i+1)*m*n], n, false)
	}
}

// MatMulTN returns the transpose of a's last two axes times b:
// a [..., k,m], b [..., k,n] with identical batch dims (or both 2-D) ->
// [..., m,n]. It equals MatMul(Transpose(a), b) without allocating the
// transposed tensor, and rounds identically.
func MatMulTN(a, b *Tensor) *Tensor {
	mustSameDType("MatMulTN", a, b)
	if a.Dims() < 2 || b.Dims() < 2 {
		panic(fmt.Sprintf("tensor: MatMulTN needs rank >= 2 operands, got %v x %v", a.shape, b.shape))
	}
	k, m := a.Dim(-2), a.Dim(-1)
	k2, n := b.Dim(-2), b.Dim(-1)
	batchA := a.shape[:a.Dims()-2]
	if k != k2 || !SameShape(batchA, b.shape[:b.Dims()-2]) {
		panic(fmt.Sprintf("tensor: MatMulTN: shapes %v^T x %v do not match", a.shape, b.shape))
	}
	batch := NumElems(batchA)
	out := New(a.dtype, append(cloneShape(batchA), m, n)...)
	if a.dtype == Float32 {
		matMulTN(batch, m, n, k, a.f32, b.f32, out.f32)
	} else {
		matMulTN(batch, m, n, k, a.f64, b.f64, out.f64)
	}
	return out
}

// matMulTN transposes whichever operand is cheaper: a (k*m values), or b
// and the result (k*n + m*n values: C^T = b^T a, transposed back). Either
// way every element of C is the same dot product in the same order.
func matMulTN[T Float](batch, m, n, k int, a, b, c []T) {
	if k*n+m*n < k*m {
		bt := getScratch[T](n*k + n*m)
		defer putScratch(bt)
		btk, ct := (*bt)[:n*k], (*bt)[n*k:]
		for i := 0; i < batch; i++ {
			transpose2D(b[i*k*n:(i+1)*k*n], btk, k, n)
			gemmRun(n, m, k, btk, k, a[i*k*m:(i+1)*k*m], m, ct, m, false)
			transpose2D(ct, c[i*m*n:(i+1)*m*n], n, m)
		}
		return
	}
	at := getScratch[T](m * k)
	defer putScratch(at)
	for i := 0; i < batch; i++ {
		transpose2D(a[i*k*m:(i+1)*k*m], *at, k, m)
		gemmRun(m, n, k, *at, k, b[i*k*n:(i+1)*k*n], n, c[i*m*n:(i+1)*m*n], n, false)
	}
}

// transpose2D writes the transpose of src [r,c] into dst [c,r].
func transpose2D[T Float](src, dst []T, r, c int) {
	if r == 1 || c == 1 {
		copy(dst[:r*c], src[:r*c])
		return
	}
	if c <= 8 { // a few long columns: one strided pass each
		src = src[:r*c]
		for j := 0; j < c; j++ {
			col := dst[j*r : (j+1)*r]
			for i := range col {
				col[i] = src[i*c+j]
			}
		}
		return
	}
	if s, d := asF32(src), asF32(dst); s != nil && useAVX512Transpose && r >= 16 && c >= 16 {
		// 16 x 16 blocks in registers, the ragged edges by the loop below
		r16, c16 := r&^15, c&^15
		for i := 0; i < r16; i += 16 {
			for j := 0; j < c16; j += 16 {
				transpose16x16AVX512(&s[i*c+j], c, &d[j*r+i], r)
			}
		}
		transposeTiles(src, dst, r, c, r16, r, 0, c)
		transposeTiles(src, dst, r, c, 0, r16, c16, c)
		return
	}
	transposeTiles(src, dst, r, c, 0, r, 0, c)
}

// transposeTiles transposes rows [ilo, ihi) x columns [jlo, jhi) of src
// [r,c] into dst [c,r], in tiles of 32 x 32 so that both sides stay in
// cache.
func transposeTiles[T Float](src, dst []T, r, c, ilo, ihi, jlo, jhi int) {
	const tile = 32
	for i0 := ilo; i0 < ihi; i0 += tile {
		i1 := min(i0+tile, ihi)
		for j0 := jlo; j0 < jhi; j0 += tile {
			j1 := min(j0+tile, jhi)
			for i := i0; i < i1; i++ {
				row := src[i*c : i*c+c]
				for j := j0; j < j1; j++ {
					dst[j*r+i] = row[j]
				}
			}
		}
	}
}

// Linear returns x @ w^T + b for x [..., in], w [out, in] and b [out] (nil:
// no bias): MatMulNT with the bias added in place, the same numbers as
// Add(MatMulNT(x, w), b) without a second output tensor.
func Linear(x, w, b *Tensor) *Tensor {
	out := MatMulNT(x, w)
	if b == nil {
		return out
	}
	mustSameDType("Linear", out, b)
	if b.Dims() != 1 || b.Len() != w.Dim(-2) {
		panic(fmt.Sprintf("tensor: Linear: bias %v for weight %v", b.shape, w.shape))
	}
	p := planBroadcast(out.shape, out.shape, b.shape)
	if out.dtype == Float32 {
		binaryRun(opAdd, p, out.f32, b.f32, out.f32)
	} else {
		binaryRun(opAdd, p, out.f64, b.f64, out.f64)
	}
	return out
}
