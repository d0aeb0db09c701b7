package mtl

import "math"

// GLS is the geometric loss strategy, from Chennupati, Sistu, Yogamani &
// Rawashdeh, "MultiNet++: Multi-Stream Feature Aggregation and Geometric
// Loss Strategy for Multi-Task Learning", CVPR Workshops 2019 (Eq. 3): the
// objective is the geometric mean of the task losses,
//
//	L = (prod_i L_i)^(1/T),
//
// whose gradient is sum_i L/(T L_i) grad L_i, so the coefficients are
// c_i = L/(T L_i) (computed in log space). Losses must be positive; values
// below 1e-12 are clamped to 1e-12.
type GLS struct{}

// NewGLS returns the geometric loss strategy (no hyper-parameters).
func NewGLS() *GLS { return &GLS{} }

// Name implements Weighting.
func (*GLS) Name() string { return "gls" }

// NeedsGrads implements Weighting (false).
func (*GLS) NeedsGrads() bool { return false }

// Weights returns (prod L)^(1/T) / (T L_i).
func (*GLS) Weights(step int, losses []float64, grads [][]float64) []float64 {
	t := len(losses)
	out := make([]float64, t)
	if t == 0 {
		return out
	}
	logs := make([]float64, t)
	mean := 0.0
	for i, l := range losses {
		logs[i] = math.Log(math.Max(l, 1e-12))
		mean += logs[i]
	}
	mean /= float64(t)
	for i := range out {
		out[i] = math.Exp(mean-logs[i]) / float64(t)
	}
	return out
}
