package mtl

import (
	"math"

	"github.com/metalearn/metalearn/minnorm"
)

// NashMTL is Nash bargaining multi-task learning, from Navon, Shamsian,
// Achituve, Maron, Kawaguchi, Chechik & Fetaya, "Multi-Task Learning as a
// Bargaining Game", ICML 2022 (Theorem 5.1, Eq. 4-5).
//
// The Nash bargaining solution d = sum_i alpha_i g_i has alpha > 0 solving
//
//	(G G^T alpha)_i = 1 / alpha_i   for every task i,
//
// i.e. alpha_i (M alpha)_i = 1 with M the Gram matrix. This is the
// stationarity condition of the strictly convex, self-concordant function
//
//	F(alpha) = 1/2 alpha^T M alpha - sum_i log alpha_i   (alpha > 0),
//
// which this implementation minimises with damped Newton steps (backtracking
// line search that keeps alpha > 0) until the Newton decrement is
// negligible, instead of the paper's sequence of convex (CCP) problems
// solved with cvxpy; both target the same solution, this one to machine
// precision. For conditioning it works on the correlation matrix and
// rescales back (the official code likewise normalises G^T G and
// compensates in its constraints). When no solution exists (0 lies in the
// cone of the gradients, e.g. exactly opposite gradients, or more tasks
// than gradient dimensions with a positive dependency) F is unbounded
// below; the iteration then stops after MaxIter steps or once some
// alpha_i ||g_i|| > 1e8 and returns that finite alpha.
//
// Tasks with a zero gradient are left out (coefficient 0). The official
// code then clips the norm of the shared-parameter update to max_norm =
// 1.0; since that update is d, the clip is applied here by scaling alpha
// so that ||d|| <= MaxNorm (MaxNorm <= 0 disables it). Note that the
// bargaining solution has ||d||^2 = T, so with T >= 2 and MaxNorm = 1 the
// clip is always active. The official update_weights_every (default 1) is
// not implemented: alpha is recomputed at every call.
type NashMTL struct {
	// MaxNorm is the clip on ||d|| (default 1.0; <= 0 disables).
	MaxNorm float64
	// MaxIter bounds the Newton iterations (default 100).
	MaxIter int
}

// NewNashMTL returns Nash-MTL with max_norm 1.0.
func NewNashMTL() *NashMTL { return &NashMTL{MaxNorm: 1.0, MaxIter: 100} }

// Name implements Weighting.
func (*NashMTL) Name() string { return "nashmtl" }

// NeedsGrads implements Weighting (true).
func (*NashMTL) NeedsGrads() bool { return true }

// Weights returns the (clipped) bargaining coefficients.
func (n *NashMTL) Weights(step int, losses []float64, grads [][]float64) []float64 {
	grads = checkGradArgs("nashmtl", losses, grads)
	m := minnorm.Gram(grads)
	t := len(m)
	out := make([]float64, t)
	var idx []int
	for i := 0; i < t; i++ {
		if !isZeroGrad(m, i) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return ones(t)
	}
	alpha := wNashSolve(minnorm.Sub(m, idx), n.MaxIter)
	for a, i := range idx {
		out[i] = alpha[a]
	}
	if n.MaxNorm > 0 {
		dn := math.Sqrt(math.Max(minnorm.Quad(m, out), 0))
		if dn > n.MaxNorm {
			s := n.MaxNorm / dn
			for i := range out {
				out[i] *= s
			}
		}
	}
	return out
}

// wNashSolve returns alpha > 0 with alpha_i (M alpha)_i = 1 (M must have a
// positive diagonal), by damped Newton on F. The problem is solved in the
// scale-free variables beta_i = alpha_i sqrt(M_ii) on the correlation
// matrix C_ij = M_ij / sqrt(M_ii M_jj), for which the condition reads
// beta_i (C beta)_i = 1 (orthogonal gradients give beta = 1), so tasks with
// very different gradient norms are handled alike.
func wNashSolve(m [][]float64, maxIter int) []float64 {
	t := len(m)
	if maxIter <= 0 {
		maxIter = 100
	}
	sd := make([]float64, t)
	for i := range sd {
		sd[i] = math.Sqrt(m[i][i])
	}
	cm := minnorm.Zeros(t, t)
	for i := range cm {
		for j := range cm {
			cm[i][j] = m[i][j] / (sd[i] * sd[j])
		}
	}
	f := func(b []float64) float64 {
		v := 0.5 * minnorm.Quad(cm, b)
		for _, x := range b {
			v -= math.Log(x)
		}
		return v
	}
	beta := ones(t)
	fb := f(beta)
	for it := 0; it < maxIter; it++ {
		cb := minnorm.MatVec(cm, beta)
		grad := make([]float64, t)
		neg := make([]float64, t)
		h := minnorm.Zeros(t, t)
		for i := range grad {
			grad[i] = cb[i] - 1/beta[i]
			neg[i] = -grad[i]
			copy(h[i], cm[i])
			h[i][i] += 1 / (beta[i] * beta[i])
		}
		delta, ok := minnorm.Solve(h, neg)
		if !ok {
			delta = minnorm.PinvSolve(h, neg)
		}
		dec := -minnorm.Dot(grad, delta) // squared Newton decrement
		if !(dec > 1e-26) {
			break
		}
		// Largest step keeping beta > 0, then Armijo backtracking.
		st := 1.0
		for i := range delta {
			if delta[i] < 0 {
				st = math.Min(st, 0.99*beta[i]/-delta[i])
			}
		}
		var nb []float64
		var fn float64
		moved := false
		for bt := 0; bt < 60; bt++ {
			nb = make([]float64, t)
			for i := range nb {
				nb[i] = beta[i] + st*delta[i]
			}
			fn = f(nb)
			if fn <= fb-0.25*st*dec || (fn <= fb && st*dec < 1e-20) {
				moved = true
				break
			}
			st /= 2
		}
		if !moved {
			break
		}
		beta, fb = nb, fn
		big := false
		for _, x := range beta {
			if x > 1e8 {
				big = true
			}
		}
		if big {
			break
		}
	}
	alpha := make([]float64, t)
	for i := range alpha {
		alpha[i] = beta[i] / sd[i]
	}
	return alpha
}
