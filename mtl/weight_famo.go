package mtl

import "math"

// FAMO is fast adaptive multitask optimization, from Liu, Liu, Stone & Liu,
// "FAMO: Fast Adaptive Multitask Optimization", NeurIPS 2023 (Algorithm 1,
// Eq. 5-7), in the form of the official implementation.
//
// FAMO keeps task logits xi (initially 0), z = softmax(xi). The model is
// updated along the gradient of sum_i (z_i / c) log(L_i - Lmin_i + 1e-8)
// with c = sum_i z_i / (L_i - Lmin_i + 1e-8) held constant, i.e. the
// returned coefficients are
//
//	c_i = (z_i / D_i) / sum_j (z_j / D_j),   D_i = L_i - Lmin_i + 1e-8,
//
// (they sum to 1; Lmin = 0 as in the official code's default, and D_i is
// clamped to at least 1e-8 so the logarithm stays defined). After the model
// update, with delta_i = log D_i(before) - log D_i(after), the logits take
// one optimizer step on the gradient
//
//	grad_xi = J_softmax(xi)^T delta = z * (delta - z.delta)  (elementwise),
//
// plus weight decay gamma xi (Adam with weight decay, as the official
// code). Because a Weighting only sees the losses at each call, "after the
// update" uses the losses passed at the next call (on the next batch rather
// than recomputed on the same batch as the official example does): each
// call first updates xi from the previous call's and the current losses,
// then returns the coefficients for the current losses. The official
// max_norm gradient clipping is a trainer concern and is not applied.
type FAMO struct {
	// LR is the logits' learning rate (default 0.025).
	LR float64
	// Gamma is the weight decay on the logits (default 1e-3, the paper's
	// value; the official code's default argument is 0.01).
	Gamma float64
	// Optimizer is the logits' update rule (default WeightOptAdam, as the
	// official code; WeightOptSGD is Algorithm 1's plain step).
	Optimizer WeightOptimizer
	// MinLosses are the Lmin_i (nil: zeros).
	MinLosses []float64

	xi   []float64
	prev []float64
	adam *paramAdam
}

// NewFAMO returns FAMO with lr 0.025, weight decay 1e-3 and Adam.
func NewFAMO() *FAMO { return &FAMO{LR: 0.025, Gamma: 1e-3, Optimizer: WeightOptAdam} }

// Name implements Weighting.
func (*FAMO) Name() string { return "famo" }

// NeedsGrads implements Weighting (false).
func (*FAMO) NeedsGrads() bool { return false }

// Logits returns a copy of the current logits xi.
func (f *FAMO) Logits() []float64 { return append([]float64(nil), f.xi...) }

func (f *FAMO) shifted(losses []float64) []float64 {
	d := make([]float64, len(losses))
	for i, l := range losses {
		mn := 0.0
		if i < len(f.MinLosses) {
			mn = f.MinLosses[i]
		}
		d[i] = math.Max(l-mn+1e-8, 1e-8)
	}
	return d
}

// Weights updates the logits from the loss change since the previous call
// and returns the FAMO coefficients for the current losses.
func (f *FAMO) Weights(step int, losses []float64, grads [][]float64) []float64 {
	t := len(losses)
	if len(f.xi) != t {
		f.xi = make([]float64, t)
		f.prev = nil
		f.adam = nil
	}
	d := f.shifted(losses)
	if f.prev != nil {
		z := softmax(f.xi)
		delta := make([]float64, t)
		zd := 0.0
		for i := range delta {
			delta[i] = math.Log(f.prev[i]) - math.Log(d[i])
			zd += z[i] * delta[i]
		}
		grad := make([]float64, t)
		for i := range grad {
			grad[i] = z[i] * (delta[i] - zd)
		}
		paramStep(f.Optimizer, &f.adam, f.LR, f.Gamma, f.xi, grad)
	}
	f.prev = d
	z := softmax(f.xi)
	out := make([]float64, t)
	s := 0.0
	for i := range out {
		out[i] = z[i] / d[i]
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}
