package mtl

import (
	"fmt"
	"math"

	"github.com/metalearn/metalearn/minnorm"
)

// MGDA is the multiple-gradient descent algorithm as a multi-objective
// optimiser, from Sener & Koltun, "Multi-Task Learning as Multi-Objective
// Optimization", NeurIPS 2018 (Eq. 3 and Algorithm 2).
//
// The coefficients alpha (alpha >= 0, sum 1) minimise ||sum_i alpha_i g_i||^2
// over the simplex: d = sum_i alpha_i g_i is the minimum-norm point of the
// convex hull of the task gradients, a common descent direction (at the
// optimum d.g_i >= ||d||^2 for every i; d = 0 at a Pareto-stationary point).
//
// Solver: by default (MGDAExact) the problem is solved exactly with
// Wolfe's minimum-norm-point algorithm on the Gram matrix (the closed form
// of Algorithm 1 for two tasks); MGDAFrankWolfe runs the paper's
// Algorithm 2 (Frank-Wolfe, alpha initialised to 1/T, exact line search
// between the iterate and the best vertex, at most MaxIter = 250 steps,
// stopping when the update changes alpha by less than 1e-5 in L1 norm, the
// constants of the authors' MinNormSolver) and returns an approximation
// of the same point.
//
// Normalisation (the authors' gradient_normalizers): before solving, g_i
// is divided by n_i, with n_i = 1 ("none", the default), ||g_i|| ("l2"),
// L_i ("loss") or L_i ||g_i|| ("loss+"). As in the authors' training code,
// the returned coefficients are the solution alpha itself (applied to the
// unnormalised losses).
//
// MGDA-UB (the paper's upper-bound variant, Sec. 3.3) is obtained by
// having the trainer supply the gradients of the task losses with respect
// to the shared representation Z (summed over the batch) instead of the
// shared parameters; the strategy itself is the same.
type MGDA struct {
	// Normalization is "none" (default), "l2", "loss" or "loss+".
	Normalization string
	// Solver is MGDAExact (default) or MGDAFrankWolfe.
	Solver MGDASolver
	// MaxIter bounds the Frank-Wolfe iterations (default 250).
	MaxIter int
	// StopCrit is the Frank-Wolfe stopping threshold (default 1e-5).
	StopCrit float64
}

// MGDASolver selects how MGDA's min-norm problem is solved.
type MGDASolver int

const (
	// MGDAExact is Wolfe's exact minimum-norm-point algorithm.
	MGDAExact MGDASolver = iota
	// MGDAFrankWolfe is Sener & Koltun's Algorithm 2.
	MGDAFrankWolfe
)

// NewMGDA returns MGDA with no gradient normalisation and the exact solver.
func NewMGDA() *MGDA {
	return &MGDA{Normalization: "none", Solver: MGDAExact, MaxIter: 250, StopCrit: 1e-5}
}

// Name implements Weighting.
func (*MGDA) Name() string { return "mgda" }

// NeedsGrads implements Weighting (true).
func (*MGDA) NeedsGrads() bool { return true }

// Weights returns the min-norm convex coefficients.
func (g *MGDA) Weights(step int, losses []float64, grads [][]float64) []float64 {
	grads = checkGradArgs("mgda", losses, grads)
	m := minnorm.Gram(grads)
	t := len(m)
	if t == 0 {
		return nil
	}
	norm := ones(t)
	for i := range norm {
		switch g.Normalization {
		case "", "none":
		case "l2":
			norm[i] = math.Sqrt(m[i][i])
		case "loss":
			norm[i] = losses[i]
		case "loss+":
			norm[i] = losses[i] * math.Sqrt(m[i][i])
		default:
			panic(fmt.Sprintf("mtl: mgda: unknown normalization %q (valid: none, l2, loss, loss+)", g.Normalization))
		}
		if !(norm[i] > 0) || math.IsInf(norm[i], 0) {
			norm[i] = 1 // zero gradient or non-positive loss: leave unnormalised
		}
	}
	mn := minnorm.Zeros(t, t)
	for i := range mn {
		for j := range mn {
			mn[i][j] = m[i][j] / (norm[i] * norm[j])
		}
	}
	if g.Solver == MGDAFrankWolfe {
		return minnorm.HullFrankWolfe(mn, g.MaxIter, g.StopCrit)
	}
	return minnorm.Hull(mn)
}
