package mtl

import (
	"math"

	"github.com/metalearn/metalearn/minnorm"
)

// CAGrad is conflict-averse gradient descent, from Liu, Liu, Jin, Stone &
// Liu, "Conflict-Averse Gradient Descent for Multi-task Learning", NeurIPS
// 2021 (Eq. 2-3 and Algorithm 1).
//
// With g0 the average gradient and phi = c^2 ||g0||^2, CAGrad maximises the
// worst local improvement min_i g_i.d within the ball ||d - g0|| <=
// sqrt(phi). Its dual over the simplex is
//
//	w* = argmin_{w in simplex} g_w.g0 + sqrt(phi) ||g_w||,  g_w = sum_i w_i g_i,
//
// and the update is d = g0 + (sqrt(phi)/||g_w||) g_w, whose coefficients
// are c_i = 1/T + lambda w_i with lambda = c ||g0|| / ||g_w||. As in the
// official code the square roots carry +1e-8 (||g0|| = sqrt(mean(M)+1e-8),
// the objective uses sqrt(w^T M w + 1e-8), lambda = c||g0||/(||g_w|| +
// 1e-8)), and the result is rescaled by 1/(1+c^2) (Rescale = 1, the
// official default; 0 leaves d unscaled, 2 divides by 1+c).
//
// The dual is solved by projected gradient descent on the simplex with
// Armijo backtracking (the official code uses SciPy's SLSQP), starting at
// w = 1/T, at most 500 iterations. When zero is in (or very near) the
// convex hull of the gradients the dual optimum has g_w ~ 0 and
// g_w/||g_w|| carries no usable direction; as a safeguard, whenever the
// recovered d has a worse worst-task inner product min_i g_i.d than g0
// (which is feasible for the primal problem, so the true solution never
// does), the mean gradient g0 is returned instead.
type CAGrad struct {
	// C is the conflict-aversion radius c (default 0.4; c = 0 is the mean
	// gradient).
	C float64
	// Rescale is 0 (none), 1 (divide by 1+c^2, default) or 2 (divide by 1+c).
	Rescale int
}

// NewCAGrad returns CAGrad with c = 0.4 and rescale 1.
func NewCAGrad() *CAGrad { return &CAGrad{C: 0.4, Rescale: 1} }

// Name implements Weighting.
func (*CAGrad) Name() string { return "cagrad" }

// NeedsGrads implements Weighting (true).
func (*CAGrad) NeedsGrads() bool { return true }

// Weights returns the CAGrad coefficients.
func (g *CAGrad) Weights(step int, losses []float64, grads [][]float64) []float64 {
	grads = checkGradArgs("cagrad", losses, grads)
	m := minnorm.Gram(grads)
	t := len(m)
	if t == 0 {
		return nil
	}
	out := fill(t, 1/float64(t))
	md := minnorm.MaxDiag(m)
	if md > 0 && g.C != 0 {
		m = minnorm.Scaled(m, md) // the coefficients are invariant to the scale of M
		meanM := 0.0
		for i := range m {
			for j := range m {
				meanM += m[i][j]
			}
		}
		meanM /= float64(t * t)
		g0n := math.Sqrt(math.Max(meanM, 0) + 1e-8)
		cc := g.C*g0n + 1e-8
		w := wCAGradDual(m, cc)
		gwn := math.Sqrt(math.Max(minnorm.Quad(m, w), 0))
		if gwn > 1e-12 {
			lambda := cc / (gwn + 1e-8)
			cand := make([]float64, t)
			for i := range cand {
				cand[i] = out[i] + lambda*w[i]
			}
			// Safeguard: g0 is feasible for CAGrad's primal problem, so the
			// solution's worst task improvement is at least g0's.
			if wWorstDot(m, cand) >= wWorstDot(m, out)-1e-9 {
				out = cand
			}
		}
	}
	scale := 1.0
	switch g.Rescale {
	case 1:
		scale = 1 / (1 + g.C*g.C)
	case 2:
		scale = 1 / (1 + g.C)
	}
	for i := range out {
		out[i] *= scale
	}
	return out
}

// wCAGradDual minimises F(w) = w^T M b + c sqrt(w^T M w + 1e-8), b = 1/T,
// over the simplex by projected gradient descent with backtracking.
func wCAGradDual(m [][]float64, c float64) []float64 {
	t := len(m)
	b := fill(t, 1/float64(t))
	mb := minnorm.MatVec(m, b)
	f := func(w []float64) float64 {
		return minnorm.Dot(w, mb) + c*math.Sqrt(math.Max(minnorm.Quad(m, w), 0)+1e-8)
	}
	w := append([]float64(nil), b...)
	fw := f(w)
	trace := 0.0
	for i := range m {
		trace += m[i][i]
	}
	step := 1 / (trace + c*trace/1e-4 + 1e-300)
	step *= 1024 // optimistic; backtracking shrinks it
	for it := 0; it < 500; it++ {
		mw := minnorm.MatVec(m, w)
		q := math.Sqrt(math.Max(minnorm.Dot(w, mw), 0) + 1e-8)
		grad := make([]float64, t)
		for i := range grad {
			grad[i] = mb[i] + c*mw[i]/q
		}
		var nw []float64
		var fn float64
		accepted := false
		for bt := 0; bt < 60; bt++ {
			cand := make([]float64, t)
			for i := range cand {
				cand[i] = w[i] - step*grad[i]
			}
			nw = minnorm.ProjectSimplex(cand)
			fn = f(nw)
			diff, sq := 0.0, 0.0
			for i := range nw {
				diff += grad[i] * (nw[i] - w[i])
				sq += (nw[i] - w[i]) * (nw[i] - w[i])
			}
			if fn <= fw+diff+sq/(2*step)+1e-15*math.Abs(fw) {
				accepted = true
				break
			}
			step /= 2
		}
		if !accepted {
			break
		}
		move := 0.0
		for i := range nw {
			move += math.Abs(nw[i] - w[i])
		}
		w, fw = nw, fn
		if move < 1e-12 {
			break
		}
		step *= 2
	}
	return w
}

// wWorstDot is min_i (M c)_i, the worst task's inner product with
// d = sum_i c_i g_i.
func wWorstDot(m [][]float64, c []float64) float64 {
	mc := minnorm.MatVec(m, c)
	worst := math.Inf(1)
	for _, v := range mc {
		worst = math.Min(worst, v)
	}
	return worst
}
