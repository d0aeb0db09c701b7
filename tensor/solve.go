package tensor

import (
	"fmt"
	"math"
)

// Solve returns X with A X = B for a square A [n,n] and B [n,m] (or
// batched: A [b,n,n], B [b,n,m]), by Gaussian elimination with partial
// pivoting. It panics when A is singular to working precision.
func Solve(a, b *Tensor) *Tensor {
	mustSameDType("Solve", a, b)
	if a.Dims() < 2 || a.Dim(-1) != a.Dim(-2) || b.Dims() != a.Dims() || b.Dim(-2) != a.Dim(-1) ||
		!SameShape(a.shape[:a.Dims()-2], b.shape[:b.Dims()-2]) {
		panic(fmt.Sprintf("tensor: Solve: want A [...,n,n] and B [...,n,m], got %v and %v", a.shape, b.shape))
	}
	n, m := a.Dim(-1), b.Dim(-1)
	batch := NumElems(a.shape[:a.Dims()-2])
	out := New(b.dtype, b.shape...)
	A := make([]float64, n*n)
	X := make([]float64, n*m)
	for p := 0; p < batch; p++ {
		for i := range A {
			A[i] = a.Flat(p*n*n + i)
		}
		for i := range X {
			X[i] = b.Flat(p*n*m + i)
		}
		if err := solveInPlace(A, X, n, m); err != nil {
			panic(fmt.Sprintf("tensor: Solve: %v (A %v)", err, a.shape))
		}
		for i, v := range X {
			out.SetFlat(p*n*m+i, v)
		}
	}
	return out
}

// solveInPlace overwrites X [n,m] with A^{-1} X, destroying A [n,n].
func solveInPlace(A, X []float64, n, m int) error {
	scale := 0.0
	for _, v := range A {
		scale = math.Max(scale, math.Abs(v))
	}
	for col := 0; col < n; col++ {
		piv := col
		for r := col + 1; r < n; r++ {
			if math.Abs(A[r*n+col]) > math.Abs(A[piv*n+col]) {
				piv = r
			}
		}
		if d := math.Abs(A[piv*n+col]); d == 0 || d <= 1e-14*scale || math.IsNaN(d) {
			return fmt.Errorf("matrix is singular (pivot %g in column %d)", d, col)
		}
		if piv != col {
			for j := 0; j < n; j++ {
				A[col*n+j], A[piv*n+j] = A[piv*n+j], A[col*n+j]
			}
			for j := 0; j < m; j++ {
				X[col*m+j], X[piv*m+j] = X[piv*m+j], X[col*m+j]
			}
		}
		inv := 1 / A[col*n+col]
		for r := col + 1; r < n; r++ {
			f := A[r*n+col] * inv
			if f == 0 {
				continue
			}
			for j := col; j < n; j++ {
				A[r*n+j] -= f * A[col*n+j]
			}
			for j := 0; j < m; j++ {
				X[r*m+j] -= f * X[col*m+j]
			}
		}
	}
	for col := n - 1; col >= 0; col-- {
		inv := 1 / A[col*n+col]
		for j := 0; j < m; j++ {
			X[col*m+j] *= inv
		}
		for r := 0; r < col; r++ {
			f := A[r*n+col]
			if f == 0 {
				continue
			}
			for j := 0; j < m; j++ {
				X[r*m+j] -= f * X[col*m+j]
			}
		}
	}
	return nil
}
