package minnorm

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

func dense(a [][]float64) *mat.Dense {
	n := len(a)
	d := mat.NewDense(n, n, nil)
	for i := range a {
		d.SetRow(i, a[i])
	}
	return d
}

// EigenSym diagonalises the symmetric matrix a (only its upper triangle is
// read): it returns the eigenvalues in descending order and the matching
// orthonormal eigenvectors as the columns of vecs (a = vecs diag(vals)
// vecs^T). ok is false when the decomposition fails (non-finite entries).
func EigenSym(a [][]float64) (vals []float64, vecs [][]float64, ok bool) {
	n := len(a)
	if n == 0 {
		return nil, nil, true
	}
	for i := range a {
		for _, v := range a[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, false
			}
		}
	}
	s := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			s.SetSym(i, j, a[i][j])
		}
	}
	var es mat.EigenSym
	if !es.Factorize(s, true) {
		return nil, nil, false
	}
	asc := es.Values(nil)
	var v mat.Dense
	es.VectorsTo(&v)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return asc[order[x]] > asc[order[y]] })
	vals = make([]float64, n)
	vecs = Zeros(n, n)
	for k, o := range order {
		vals[k] = asc[o]
		for i := 0; i < n; i++ {
			vecs[i][k] = v.At(i, o)
		}
	}
	return vals, vecs, true
}

// Solve solves the square system A x = b by LU factorisation with partial
// pivoting. ok is false when A is (numerically) singular: a pivot at most
// 1e-13 times the largest entry of A, or non-finite entries.
func Solve(a [][]float64, b []float64) (x []float64, ok bool) {
	n := len(b)
	scale := 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			scale = math.Max(scale, math.Abs(a[i][j]))
		}
	}
	if n == 0 || scale == 0 || math.IsNaN(scale) || math.IsInf(scale, 0) {
		return nil, false
	}
	var lu mat.LU
	lu.Factorize(dense(a))
	var u mat.TriDense
	lu.UTo(&u)
	for i := 0; i < n; i++ {
		if math.Abs(u.At(i, i)) <= 1e-13*scale {
			return nil, false
		}
	}
	var xv mat.VecDense
	if err := lu.SolveVecTo(&xv, false, mat.NewVecDense(n, append([]float64(nil), b...))); err != nil {
		if _, cond := err.(mat.Condition); !cond {
			return nil, false
		}
		// a large condition number is a warning: the pivots passed
	}
	x = make([]float64, n)
	for i := range x {
		x[i] = xv.AtVec(i)
	}
	return x, true
}

// PinvSolve returns the minimum-norm least-squares solution of A x = b for
// a symmetric (possibly singular or indefinite) A, A^+ b, through its
// eigendecomposition; eigenvalues at most 1e-12 * n * max|eigenvalue| are
// treated as zero. A matrix whose decomposition fails gives zeros.
func PinvSolve(a [][]float64, b []float64) []float64 {
	n := len(b)
	x := make([]float64, n)
	vals, vecs, ok := EigenSym(a)
	if !ok {
		return x
	}
	mx := 0.0
	for _, l := range vals {
		mx = math.Max(mx, math.Abs(l))
	}
	if mx == 0 {
		return x
	}
	tol := 1e-12 * float64(n) * mx
	for k, l := range vals {
		if math.Abs(l) <= tol {
			continue
		}
		proj := 0.0
		for i := 0; i < n; i++ {
			proj += vecs[i][k] * b[i]
		}
		proj /= l
		for i := 0; i < n; i++ {
			x[i] += proj * vecs[i][k]
		}
	}
	return x
}
