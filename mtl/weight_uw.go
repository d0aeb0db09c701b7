package mtl

import "math"

// UW is uncertainty weighting, from Kendall, Gal & Cipolla, "Multi-Task
// Learning Using Uncertainty to Weigh Losses for Scene Geometry and
// Semantics", CVPR 2018 (Eq. 7 and 10, homoscedastic task uncertainty).
//
// Each task has a learnable log-variance s_i = log sigma_i^2 and the joint
// objective is
//
//	L = sum_i exp(-s_i) L_i + s_i,
//
// (twice the paper's regression form 1/(2 sigma^2) L + log sigma, the
// common implementation choice; its minimiser in s is the same,
// s_i = log L_i). The coefficients returned are exp(-s_i).
//
// The s_i are held inside the strategy. Each call returns exp(-s_i) at the
// current s, then takes one optimizer step on s with the analytic gradient
//
//	dL/ds_i = 1 - exp(-s_i) L_i
//
// at the losses of that call, so s and the network are updated
// simultaneously from the same point, as joint gradient descent would do.
// A task whose loss exceeds exp(s_i) thus gets its s_i increased (its
// coefficient decreased).
type UW struct {
	// LR is the learning rate of the log-variances (default 1e-3).
	LR float64
	// Optimizer is the update rule for s (default WeightOptAdam).
	Optimizer WeightOptimizer
	// InitLogVar is the initial s_i (default 0, i.e. coefficients 1).
	InitLogVar float64

	s    []float64
	adam *paramAdam
}

// NewUW returns uncertainty weighting with s_i = 0 initially and Adam with
// learning rate 1e-3 on the log-variances.
func NewUW() *UW { return &UW{LR: 1e-3, Optimizer: WeightOptAdam} }

// Name implements Weighting.
func (*UW) Name() string { return "uw" }

// NeedsGrads implements Weighting (false).
func (*UW) NeedsGrads() bool { return false }

// LogVars returns a copy of the current log-variances s_i (nil before the
// first call).
func (u *UW) LogVars() []float64 { return append([]float64(nil), u.s...) }

// Weights returns exp(-s_i) and then updates s from the losses.
func (u *UW) Weights(step int, losses []float64, grads [][]float64) []float64 {
	t := len(losses)
	if len(u.s) != t {
		u.s = fill(t, u.InitLogVar)
		u.adam = nil
	}
	out := make([]float64, t)
	g := make([]float64, t)
	for i := range out {
		out[i] = math.Exp(-u.s[i])
		g[i] = 1 - out[i]*losses[i]
	}
	paramStep(u.Optimizer, &u.adam, u.LR, 0, u.s, g)
	return out
}
