package mtl

import (
	"math"

	"github.com/metalearn/metalearn/minnorm"
)

// UPGrad is the unconflicting projection of gradients, from Quinton & Rey,
// "Jacobian Descent for Multi-Objective Optimization", arXiv:2406.16232,
// 2024 (Sec. 4 / Definition of A_UPGrad, Eq. 5; the torchjd library's
// UPGrad aggregator).
//
// Each task gradient g_i is projected onto the dual cone of the rows of the
// Jacobian G, {v : G v >= 0}, and the projections are averaged with the
// preference weights u (default 1/T):
//
//	d = sum_i u_i pi(g_i),  pi(x) = argmin_{v : G v >= 0} ||v - x||^2.
//
// By Lagrangian duality pi(g_i) = G^T (e_i + w^(i)) where w^(i) >= 0
// minimises 1/2 w^T M w + w^T M e_i (M = G G^T), a non-negative least
// squares problem in T variables, solved here exactly with Lawson-Hanson
// (minnorm.NNLSGram). The coefficients are c = sum_i u_i (e_i + w^(i)), and d
// satisfies g_j.d >= 0 for all j (no task's loss increases to first
// order); when the gradients do not conflict every w^(i) = 0 and d is the
// weighted mean.
//
// The projections do not depend on the lengths of the rows of G, so the
// QPs are solved on the correlation matrix (unit diagonal; torchjd
// normalises by the trace instead, which also leaves them unchanged) with
// RegEps added to its diagonal. torchjd's default reg_eps is 1e-4 (its
// quadprog solver needs a positive-definite matrix); the default here is 0
// because the NNLS solver handles singular Gram matrices, so the
// non-conflict property holds exactly. Zero gradients impose no
// constraint and project to 0. When all gradients are zero the
// coefficients are u.
type UPGrad struct {
	// Pref are the preference weights u (nil: 1/T each, the mean).
	Pref []float64
	// RegEps is added to the diagonal of the trace-normalised Gram matrix
	// (default 0).
	RegEps float64
}

// NewUPGrad returns UPGrad with mean preference and no regularisation.
func NewUPGrad() *UPGrad { return &UPGrad{} }

// Name implements Weighting.
func (*UPGrad) Name() string { return "upgrad" }

// NeedsGrads implements Weighting (true).
func (*UPGrad) NeedsGrads() bool { return true }

// Weights returns sum_i u_i (e_i + w^(i)).
func (up *UPGrad) Weights(step int, losses []float64, grads [][]float64) []float64 {
	grads = checkGradArgs("upgrad", losses, grads)
	m := minnorm.Gram(grads)
	t := len(m)
	u := fill(t, 1/float64(t))
	if len(up.Pref) == t {
		u = append([]float64(nil), up.Pref...)
	}
	out := append([]float64(nil), u...)
	var idx []int // tasks with a non-zero gradient
	for i := 0; i < t; i++ {
		if !isZeroGrad(m, i) {
			idx = append(idx, i)
		}
	}
	k := len(idx)
	if k == 0 {
		return out
	}
	sd := make([]float64, k)
	for a, i := range idx {
		sd[a] = math.Sqrt(m[i][i])
	}
	// Correlation matrix of the non-zero gradients: the cone {v : G v >= 0}
	// does not depend on the rows' lengths, and pi is positively
	// homogeneous, so every projection is computed for unit vectors.
	cm := minnorm.Zeros(k, k)
	for a, i := range idx {
		for b, j := range idx {
			cm[a][b] = m[i][j] / (sd[a] * sd[b])
		}
		cm[a][a] += up.RegEps
	}
	for a, i := range idx {
		if u[i] == 0 {
			continue
		}
		b := make([]float64, k)
		for c := range b {
			b[c] = m[idx[c]][i] / (sd[c] * sd[a])
		}
		w := minnorm.NNLSGram(cm, b)
		// pi(g_i) = ||g_i|| (ghat_i + sum_c w_c ghat_c).
		for c, j := range idx {
			out[j] += u[i] * sd[a] * w[c] / sd[c]
		}
	}
	return out
}
