package mtl

import (
	"math"

	"github.com/metalearn/metalearn/minnorm"
)

// AlignedMTL is Aligned-MTL, from Senushkin, Patakin, Kuznetsov &
// Konushin, "Independent Component Alignment for Multi-Task Learning",
// CVPR 2023 (Sec. 4, Eq. 8-10 and Algorithm 1).
//
// The task gradients G (one row per task) are replaced by the aligned
// matrix Ghat = B G, whose non-zero singular values are all equal
// (condition number 1), so no task's component dominates:
//
//	M = G G^T = V Lambda V^T   (symmetric eigendecomposition),
//	B = sqrt(lambda_min) V_R Lambda_R^{-1/2} V_R^T,
//
// where R keeps the eigenvalues above lambda_max * T * 1.19e-7 (the
// numerical-rank tolerance of the official and LibMTL code, float32
// epsilon) and lambda_min is the smallest kept eigenvalue. Then
// Ghat Ghat^T = lambda_min V_R V_R^T, i.e. Ghat's singular values are all
// sqrt(lambda_min) (Eq. 10: the alignment is scaled by the smallest
// singular value). The update is d = Ghat^T w with task weights w = 1 (the
// paper's default), so the coefficients are alpha = B^T 1 = B 1 (B is
// symmetric).
//
// The eigendecomposition is minnorm.EigenSym (gonum/mat).
// When all gradients are zero the coefficients are ones. Aligned-MTL-UB
// is obtained by supplying gradients with respect to the shared
// representation.
type AlignedMTL struct{}

// NewAlignedMTL returns Aligned-MTL with unit task weights.
func NewAlignedMTL() *AlignedMTL { return &AlignedMTL{} }

// Name implements Weighting.
func (*AlignedMTL) Name() string { return "alignedmtl" }

// NeedsGrads implements Weighting (true).
func (*AlignedMTL) NeedsGrads() bool { return true }

// Weights returns alpha = B 1.
func (*AlignedMTL) Weights(step int, losses []float64, grads [][]float64) []float64 {
	grads = checkGradArgs("alignedmtl", losses, grads)
	m := minnorm.Gram(grads)
	t := len(m)
	b := wAlignedB(m)
	if b == nil {
		return ones(t)
	}
	out := make([]float64, t)
	for i := range out {
		for j := range out {
			out[i] += b[i][j]
		}
	}
	return out
}

// wAlignedB returns Aligned-MTL's alignment matrix B for the Gram matrix M
// (nil when M is zero).
func wAlignedB(m [][]float64) [][]float64 {
	t := len(m)
	vals, vecs, ok := minnorm.EigenSym(m)
	if t == 0 || !ok || !(vals[0] > 0) {
		return nil
	}
	tol := vals[0] * float64(t) * 1.1920929e-07
	rank := 0
	for rank < t && vals[rank] > tol {
		rank++
	}
	lmin := vals[rank-1]
	b := minnorm.Zeros(t, t)
	for k := 0; k < rank; k++ {
		f := math.Sqrt(lmin / vals[k])
		for i := 0; i < t; i++ {
			for j := 0; j < t; j++ {
				b[i][j] += f * vecs[i][k] * vecs[j][k]
			}
		}
	}
	return b
}
