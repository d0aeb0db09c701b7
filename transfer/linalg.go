package transfer

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/metalearn/metalearn/tensor"
)

// Dense float64 linear algebra for domain alignment (gonum.org/v1/gonum/mat:
// symmetric eigendecomposition, products).

// toDense copies a 2-D tensor into a gonum matrix.
func toDense(x *tensor.Tensor) *mat.Dense {
	r, c := x.Dim(0), x.Dim(1)
	return mat.NewDense(r, c, x.AsType(tensor.Float64).Clone().F64())
}

// fromDense copies a gonum matrix into a float64 tensor.
func fromDense(m mat.Matrix) *tensor.Tensor {
	r, c := m.Dims()
	out := tensor.New(tensor.Float64, r, c)
	v := out.F64()
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			v[i*c+j] = m.At(i, j)
		}
	}
	return out
}

// Covariance returns the unbiased (N-1) covariance of the rows of x [N, D].
func Covariance(x *mat.Dense) *mat.SymDense {
	n, d := x.Dims()
	xc := mat.DenseCopyOf(x)
	for j := 0; j < d; j++ {
		m := 0.0
		for i := 0; i < n; i++ {
			m += xc.At(i, j)
		}
		m /= float64(n)
		for i := 0; i < n; i++ {
			xc.Set(i, j, xc.At(i, j)-m)
		}
	}
	c := mat.NewSymDense(d, nil)
	den := float64(max(n-1, 1))
	c.SymOuterK(1/den, xc.T())
	return c
}

// SymPow returns A^p = V diag(lambda^p) V^T for a symmetric positive
// definite A (eigendecomposition A = V diag(lambda) V^T). Eigenvalues below
// 1e-12 * max(lambda) are an error for p < 0 (A is singular).
func SymPow(a *mat.SymDense, p float64) (*mat.Dense, error) {
	var es mat.EigenSym
	if !es.Factorize(a, true) {
		return nil, fmt.Errorf("transfer: symmetric eigendecomposition did not converge")
	}
	vals := es.Values(nil)
	var v mat.Dense
	es.VectorsTo(&v)
	top := 0.0
	for _, l := range vals {
		top = math.Max(top, math.Abs(l))
	}
	d := len(vals)
	scaled := mat.DenseCopyOf(&v)
	for j, l := range vals {
		if l <= 1e-12*top {
			if p < 0 {
				return nil, fmt.Errorf("transfer: matrix is singular (eigenvalue %g of max %g); add a ridge", l, top)
			}
			l = math.Max(l, 0)
		}
		f := math.Pow(l, p)
		for i := 0; i < d; i++ {
			scaled.Set(i, j, scaled.At(i, j)*f)
		}
	}
	out := mat.NewDense(d, d, nil)
	out.Mul(scaled, v.T())
	return out, nil
}
