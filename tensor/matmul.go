package tensor

import (
	"fmt"
	"unsafe"
)

// MatMul returns the matrix product of a and b.
//
//   - a [m,k], b [k,n] -> [m,n]
//   - a [..., m,k], b [k,n] -> [..., m,n] (b shared across the batch)
//   - a [..., m,k], b [..., k,n] with identical batch dims -> [..., m,n]
func MatMul(a, b *Tensor) *Tensor {
	mustSameDType("MatMul", a, b)
	if a.Dims() < 2 || b.Dims() < 2 {
		panic(fmt.Sprintf("tensor: MatMul needs rank >= 2 operands, got %v x %v", a.shape, b.shape))
	}
	m, k := a.Dim(-2), a.Dim(-1)
	k2, n := b.Dim(-2), b.Dim(-1)
	if k != k2 {
		panic(fmt.Sprintf("tensor: MatMul: inner dimensions differ: %v x %v", a.shape, b.shape))
	}
	batchA := a.shape[:a.Dims()-2]
	batch := NumElems(batchA)
	switch {
	case b.Dims() == 2:
		out := New(a.dtype, append(cloneShape(batchA), m, n)...)
		Gemm(false, false, batch*m, n, k, 1, a, b, 0, out)
		return out
	case SameShape(batchA, b.shape[:b.Dims()-2]):
		out := New(a.dtype, append(cloneShape(batchA), m, n)...)
		if a.dtype == Float32 {
			batchGemm(batch, m, n, k, a.f32, b.f32, out.f32)
		} else {
			batchGemm(batch, m, n, k, a.f64, b.f64, out.f64)
		}
		return out
	}
	panic(fmt.Sprintf("tensor: MatMul: batch dimensions differ: %v x %v", a.shape, b.shape))
}

func batchGemm[T Float](batch, m, n, k int, a, b, c []T) {
	if batch == 1 || batch*m*n*k < gemmParallelMinWork {
		for i := 0; i < batch; i++ {
			gemmRun(m, n, k, a[i*m*k:(i+1)*m*k], k, b[i*k*n:(i+1)*k*n], n, c[i*m*n:(i+1)*m*n], n, false)
		}
		return
	}
	parallelTasks(batch, batch*m*n*k, func(i int) {
		gemmSerial(m, n, k, a[i*m*k:(i+1)*m*k], k, b[i*k*n:(i+1)*k*n], n, c[i*m*n:(i+1)*m*n], n, false)
	})
}

// Gemm computes c = alpha*op(a)*op(b) + beta*c for row-major matrices, where
// op transposes when the flag is set. a, b and c are viewed as 2-D: a is
// [m,k] (or [k,m] when transA) and so on; their leading dims are read from the
// element counts, so any tensor with the right number of elements works.
func Gemm(transA, transB bool, m, n, k int, alpha float64, a, b *Tensor, beta float64, c *Tensor) {
	mustSameDType("Gemm", a, b, c)
	if a.Len() != m*k || b.Len() != k*n || c.Len() != m*n {
		panic(fmt.Sprintf("tensor: Gemm m=%d n=%d k=%d: operand sizes %v %v %v", m, n, k, a.shape, b.shape, c.shape))
	}
	if transA {
		a = Transpose(Reshape(a, k, m))
	}
	if transB {
		b = Transpose(Reshape(b, n, k))
	}
	// beta == 0 overwrites c (ignoring NaN/Inf in it, as BLAS does).
	acc := beta != 0
	if acc && beta != 1 {
		c.ScaleInPlace(beta)
	}
	if alpha != 1 {
		a = Scale(a, alpha)
	}
	if c.dtype == Float32 {
		gemmRun(m, n, k, a.f32, k, b.f32, n, c.f32, n, acc)
	} else {
		gemmRun(m, n, k, a.f64, k, b.f64, n, c.f64, n, acc)
	}
}

// gemmRun computes C (+)= A*B with A [m,k] (lda), B [k,n] (ldb), C [m,n]
// (ldc), splitting C across workers when the product is large.
//
// Which code runs depends on the shape and the CPU's kernels: tiny products
// without an unpacked assembly kernel use gemmDirect; everything else goes
// through the micro-kernels (gemmSmall, gemmBlock or gemmParallel), which
// all round identically, so the result never depends on the thread count.
func gemmRun[T Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, acc bool) {
	kern := kernelFor[T]()
	if !useKernels(kern, m, n, k) {
		work := m * n * k
		if work < 1<<16 || maxWorkers == 1 || m < 8 {
			gemmDirect(m, n, k, a, lda, b, ldb, c, ldc, acc)
			return
		}
		// split rows into chunks that are a multiple of 4
		parts := maxWorkers
		chunk := (m + parts - 1) / parts
		chunk = (chunk + 3) &^ 3
		parallelFor((m+chunk-1)/chunk, work, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				r0 := p * chunk
				r1 := min(r0+chunk, m)
				gemmDirect(r1-r0, n, k, a[r0*lda:], lda, b, ldb, c[r0*ldc:], ldc, acc)
			}
		})
		return
	}
	if maxWorkers > 1 && m*n*k >= gemmParallelMinWork && m > 0 && n > 0 && k > 0 {
		gemmParallel(kern, m, n, k, a, lda, b, ldb, c, ldc, acc, maxWorkers)
		return
	}
	gemmKernelSerial(kern, m, n, k, a, lda, b, ldb, c, ldc, acc)
}

// gemmSerial computes C (+)= A*B like gemmRun on the calling goroutine only.
func gemmSerial[T Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, acc bool) {
	kern := kernelFor[T]()
	if !useKernels(kern, m, n, k) {
		gemmDirect(m, n, k, a, lda, b, ldb, c, ldc, acc)
		return
	}
	gemmKernelSerial(kern, m, n, k, a, lda, b, ldb, c, ldc, acc)
}

// gemmKernelSerial runs the micro-kernels on one goroutine: unpacked while
// B is small enough to stay in the L2 cache, packed beyond.
func gemmKernelSerial[T Float](kern *gemmKernel, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, acc bool) {
	var z T
	if kern.direct != nil && k*n*int(unsafe.Sizeof(z)) <= gemmSmallMaxB {
		gemmSmall(kern, m, n, k, a, lda, b, ldb, c, ldc, acc)
		return
	}
	gemmPacked(kern, m, n, k, a, lda, b, ldb, c, ldc, acc, 1)
}

// gemmSmallMaxB is the largest B (in bytes) multiplied without packing.
const gemmSmallMaxB = 1 << 20

// useKernels reports whether an m x n x k product runs on the micro-kernels
// rather than gemmDirect. It depends only on the shape and the kernel (never
// on the thread count). Unpacked assembly kernels (gemmSmall) win at every
// size; packed ones on all but the tiniest products and matrix-vector shapes
// (m or n of 1-3, which would mostly multiply zero padding); the portable
// kernel only on large products.
func useKernels(kern *gemmKernel, m, n, k int) bool {
	switch {
	case kern.direct != nil:
		return true
	case kern.name == "generic":
		return m*n*k >= 1<<18 && m >= kern.mr && n >= kern.nr
	}
	return m*n*k >= 1<<10 && m >= 2 && n >= 4
}

// gemmDirect is a cache-blocked row-panel kernel without packing, for small
// products: for each block of k it updates four rows of C at a time from one
// streamed row of B.
func gemmDirect[T Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, acc bool) {
	if !acc {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
	}
	const kc = 256
	const nc = 1024
	for j0 := 0; j0 < n; j0 += nc {
		j1 := min(j0+nc, n)
		w := j1 - j0
		for p0 := 0; p0 < k; p0 += kc {
			p1 := min(p0+kc, k)
			i := 0
			for ; i+4 <= m; i += 4 {
				c0 := c[i*ldc+j0 : i*ldc+j0+w]
				c1 := c[(i+1)*ldc+j0 : (i+1)*ldc+j0+w]
				c2 := c[(i+2)*ldc+j0 : (i+2)*ldc+j0+w]
				c3 := c[(i+3)*ldc+j0 : (i+3)*ldc+j0+w]
				for p := p0; p < p1; p++ {
					a0, a1, a2, a3 := a[i*lda+p], a[(i+1)*lda+p], a[(i+2)*lda+p], a[(i+3)*lda+p]
					br := b[p*ldb+j0 : p*ldb+j0+w]
					br = br[:len(c0)]
					c1 := c1[:len(c0)]
					c2 := c2[:len(c0)]
					c3 := c3[:len(c0)]
					for j, bv := range br {
						c0[j] += a0 * bv
						c1[j] += a1 * bv
						c2[j] += a2 * bv
						c3[j] += a3 * bv
					}
				}
			}
			for ; i < m; i++ {
				c0 := c[i*ldc+j0 : i*ldc+j0+w]
				for p := p0; p < p1; p++ {
					a0 := a[i*lda+p]
					if a0 == 0 {
						continue
					}
					br := b[p*ldb+j0 : p*ldb+j0+w]
					br = br[:len(c0)]
					for j, bv := range br {
						c0[j] += a0 * bv
					}
				}
			}
		}
	}
}

// naiveGemm is the reference triple loop used by tests.
func naiveGemm[T Float](m, n, k int, a, b, c []T) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(a[i*k+p]) * float64(b[p*n+j])
			}
			c[i*n+j] = T(s)
		}
	}
}
