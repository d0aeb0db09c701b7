package mtl

import (
	"math"

	"github.com/metalearn/metalearn/minnorm"
)

// GradNorm is gradient normalisation, from Chen, Badrinarayanan, Lee &
// Rabinovich, "GradNorm: Gradient Normalization for Adaptive Loss
// Balancing in Deep Multitask Networks", ICML 2018 (Eq. 1-2, Algorithm 1).
//
// Each task has a weight w_i (initially 1). With n_i = ||grad L_i|| the norm
// of the supplied task gradient, G_i = w_i n_i, Gbar = mean_i G_i,
// Ltilde_i = L_i(t)/L_i(0) (L_i(0) is the loss of the first call) and
// r_i = Ltilde_i / mean_j Ltilde_j, the GradNorm loss is
//
//	L_grad = sum_i | G_i - Gbar r_i^alpha |,
//
// with the target Gbar r_i^alpha treated as a constant (as in the paper).
// Its gradient is dL_grad/dw_i = sign(G_i - target_i) n_i. Each call
// returns the current w (Algorithm 1 weights the losses with w(t)), then
// takes one optimizer step on w, clamps w_i >= 1e-6 and renormalises so
// that sum_i w_i = T. A task whose weighted gradient norm is below its
// target therefore gets its weight increased.
//
// The paper applies GradNorm to the gradients with respect to the last
// shared layer's weights W; this implementation uses whatever gradients
// the trainer supplies (the shared parameters, or a subset such as the
// last shared layer) — only their norms are used.
type GradNorm struct {
	// Alpha is the restoring-force asymmetry (default 1.5).
	Alpha float64
	// LR is the learning rate of the weights (default 1e-3; the paper
	// trains w with the network's optimizer and does not fix a value).
	LR float64
	// Optimizer is the update rule of w (default WeightOptAdam).
	Optimizer WeightOptimizer

	w    []float64
	l0   []float64
	adam *paramAdam
}

// NewGradNorm returns GradNorm with alpha 1.5 and Adam (lr 1e-3) on the
// task weights.
func NewGradNorm() *GradNorm { return &GradNorm{Alpha: 1.5, LR: 1e-3, Optimizer: WeightOptAdam} }

// Name implements Weighting.
func (*GradNorm) Name() string { return "gradnorm" }

// NeedsGrads implements Weighting (true).
func (*GradNorm) NeedsGrads() bool { return true }

// TaskWeights returns a copy of the current (post-update) weights w.
func (g *GradNorm) TaskWeights() []float64 { return append([]float64(nil), g.w...) }

// Weights returns w(t) and updates w by one step on L_grad.
func (g *GradNorm) Weights(step int, losses []float64, grads [][]float64) []float64 {
	grads = checkGradArgs("gradnorm", losses, grads)
	t := len(losses)
	if t == 0 {
		return nil
	}
	if len(g.w) != t {
		g.w = ones(t)
		g.l0 = nil
		g.adam = nil
	}
	if g.l0 == nil {
		g.l0 = make([]float64, t)
		for i, l := range losses {
			g.l0[i] = l
		}
	}
	out := append([]float64(nil), g.w...)
	n := make([]float64, t)
	gi := make([]float64, t)
	gbar, rsum := 0.0, 0.0
	rt := make([]float64, t)
	for i := range n {
		n[i] = minnorm.Norm(grads[i])
		gi[i] = g.w[i] * n[i]
		gbar += gi[i]
		rt[i] = 1
		if g.l0[i] > 0 && losses[i] >= 0 {
			rt[i] = losses[i] / g.l0[i]
		}
		rsum += rt[i]
	}
	gbar /= float64(t)
	rmean := rsum / float64(t)
	grad := make([]float64, t)
	for i := range grad {
		r := 1.0
		if rmean > 0 {
			r = rt[i] / rmean
		}
		target := gbar * math.Pow(r, g.Alpha)
		switch {
		case gi[i] > target:
			grad[i] = n[i]
		case gi[i] < target:
			grad[i] = -n[i]
		}
	}
	paramStep(g.Optimizer, &g.adam, g.LR, 0, g.w, grad)
	sum := 0.0
	for i := range g.w {
		if !(g.w[i] >= 1e-6) {
			g.w[i] = 1e-6
		}
		sum += g.w[i]
	}
	for i := range g.w {
		g.w[i] *= float64(t) / sum
	}
	return out
}
