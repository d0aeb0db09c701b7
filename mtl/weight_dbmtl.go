package mtl

import (
	"math"

	"github.com/metalearn/metalearn/minnorm"
)

// DBMTL is dual-balancing multi-task learning, from Lin, Ye, Xu, Shi &
// Zhang, "Dual-Balancing for Multi-Task Learning", arXiv:2308.12029, 2023
// (Sec. 3, Eq. 2-4 and Algorithm 1), following LibMTL's DB_MTL.
//
// Loss-scale balancing: each task is trained on log(L_i + 1e-8), whose
// gradient is h_i = g_i / (L_i + 1e-8).
//
// Gradient-magnitude balancing: an exponential moving average of the
// log-loss gradients is kept per task,
//
//	ghat_i <- beta_k ghat_i + (1 - beta_k) h_i,  beta_k = Beta / k^BetaSigma,
//
// (k counts calls from 1, ghat starts at 0; Beta = 0.9 and BetaSigma = 0
// are the defaults, so beta_k = 0.9), and each task gets the scale
// a_i = max_j ||ghat_j|| / (||ghat_i|| + 1e-8), which brings every task's
// EMA gradient to the magnitude of the largest.
//
// Simplification (needed to stay in the span of the current gradients):
// the paper and LibMTL update along sum_i a_i ghat_i, the EMA gradients
// themselves. Here the EMA is used only for the magnitudes a_i and the
// direction uses the current log-loss gradients, d = sum_i a_i h_i, so the
// returned coefficients are
//
//	c_i = a_i / (L_i + 1e-8).
//
// The EMA buffers hold T vectors of the gradient's length (reset when T or
// the length changes). Losses below 0 are clamped to 0 inside the
// logarithm's derivative; when all EMA gradients are zero a_i = 1.
type DBMTL struct {
	// Beta is the EMA coefficient (default 0.9).
	Beta float64
	// BetaSigma is the EMA decay exponent (default 0).
	BetaSigma float64

	buf  [][]float64
	step int
}

// NewDBMTL returns DB-MTL with beta 0.9 and beta_sigma 0.
func NewDBMTL() *DBMTL { return &DBMTL{Beta: 0.9, BetaSigma: 0} }

// Name implements Weighting.
func (*DBMTL) Name() string { return "dbmtl" }

// NeedsGrads implements Weighting (true).
func (*DBMTL) NeedsGrads() bool { return true }

// Weights updates the EMA gradients and returns a_i / (L_i + 1e-8).
func (db *DBMTL) Weights(step int, losses []float64, grads [][]float64) []float64 {
	grads = checkGradArgs("dbmtl", losses, grads)
	t := len(losses)
	if t == 0 {
		return nil
	}
	if len(db.buf) != t || len(db.buf[0]) != len(grads[0]) { // (re)initialise
		db.buf = minnorm.Zeros(t, len(grads[0]))
		db.step = 0
	}
	db.step++
	beta := db.Beta / math.Pow(float64(db.step), db.BetaSigma)
	inv := make([]float64, t)
	u := make([]float64, t)
	umax := 0.0
	for i := range db.buf {
		inv[i] = 1 / (math.Max(losses[i], 0) + 1e-8)
		for k, g := range grads[i] {
			h := g * inv[i]
			db.buf[i][k] = h + beta*(db.buf[i][k]-h)
		}
		u[i] = minnorm.Norm(db.buf[i])
		umax = math.Max(umax, u[i])
	}
	out := make([]float64, t)
	for i := range out {
		a := 1.0 // all gradients zero: no magnitude to balance
		if umax > 0 {
			a = umax / (u[i] + 1e-8)
		}
		out[i] = a * inv[i]
	}
	return out
}
