package mtl

import (
	"math"

	"github.com/metalearn/metalearn/minnorm"
)

// IMTL is the gradient part of impartial multi-task learning (IMTL-G),
// from Liu, Li, Kuang, Xue, Chen, Yang, Liao & Zhang, "Towards Impartial
// Multi-task Learning", ICLR 2021 (Sec. 3.2, Eq. 7-9).
//
// The update d = sum_i alpha_i g_i with sum_i alpha_i = 1 is chosen so
// that its projections onto all unit gradients u_i = g_i/||g_i|| are equal
// (d.u_1 = d.u_i for all i). With D = [g_1 - g_2, ..., g_1 - g_T]^T and
// U = [u_1 - u_2, ..., u_1 - u_T]^T the closed form is
//
//	alpha_{2:T} = g_1 U^T (D U^T)^{-1},  alpha_1 = 1 - sum alpha_{2:T},
//
// solved here as the equivalent T x T linear system on the Gram matrix
// (rows: sum_k alpha_k (M_ki/||g_i|| - M_k1/||g_1||) = 0 for i >= 2, and
// sum_k alpha_k = 1). The coefficients may be negative.
//
// Only IMTL-G is implemented (the paper's loss part IMTL-L learns loss
// scales; combine with UW-like scaling separately if wanted). Tasks with a
// zero gradient are left out of the system and get coefficient 0; when the
// system is singular (e.g. identical gradients, for which every alpha with
// sum 1 is a solution) the coefficients are equal. The paper applies
// IMTL-G to the gradients with respect to the shared representation; the
// strategy uses whatever gradients the trainer supplies.
type IMTL struct{}

// NewIMTL returns IMTL-G (no hyper-parameters).
func NewIMTL() *IMTL { return &IMTL{} }

// Name implements Weighting.
func (*IMTL) Name() string { return "imtl" }

// NeedsGrads implements Weighting (true).
func (*IMTL) NeedsGrads() bool { return true }

// Weights returns the IMTL-G coefficients.
func (*IMTL) Weights(step int, losses []float64, grads [][]float64) []float64 {
	grads = checkGradArgs("imtl", losses, grads)
	m := minnorm.Gram(grads)
	t := len(m)
	out := make([]float64, t)
	var idx []int
	for i := 0; i < t; i++ {
		if !isZeroGrad(m, i) {
			idx = append(idx, i)
		}
	}
	k := len(idx)
	if k == 0 {
		return ones(t)
	}
	sub := minnorm.Sub(m, idx)
	sub = minnorm.Scaled(sub, minnorm.MaxDiag(sub)) // alpha is invariant to scaling M
	n := make([]float64, k)
	for a := range n {
		n[a] = math.Sqrt(sub[a][a])
	}
	a := minnorm.Zeros(k, k)
	b := make([]float64, k)
	for c := 0; c < k; c++ {
		a[0][c] = 1
	}
	b[0] = 1
	for r := 1; r < k; r++ {
		for c := 0; c < k; c++ {
			a[r][c] = sub[c][r]/n[r] - sub[c][0]/n[0]
		}
	}
	alpha, ok := minnorm.Solve(a, b)
	if ok {
		for _, v := range alpha {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				ok = false
			}
		}
	}
	if !ok {
		alpha = fill(k, 1/float64(k))
	}
	for c, i := range idx {
		out[i] = alpha[c]
	}
	return out
}
