package mtl

import "math/rand/v2"

// RLW is random loss weighting, from Lin, Ye, Xu, Shi & Zhang, "Reasonable
// Effectiveness of Random Weighting: A Litmus Test for Multi-Task
// Learning", TMLR 2022 (Sec. 3, Eq. 2 with the normal distribution):
// at every call the coefficients are softmax(z) with z_i ~ N(0, 1)
// independently, so they are positive and sum to 1 (as in LibMTL's RLW).
type RLW struct {
	rng *rand.Rand
	src *rand.PCG // rng's source, for SaveState
}

// NewRLW returns random loss weighting drawing from a PCG generator seeded
// with seed (the same seed reproduces the same sequence of weights).
func NewRLW(seed uint64) *RLW {
	src := rand.NewPCG(seed, 0x726c77)
	return &RLW{rng: rand.New(src), src: src}
}

// Name implements Weighting.
func (*RLW) Name() string { return "rlw" }

// NeedsGrads implements Weighting (false).
func (*RLW) NeedsGrads() bool { return false }

// Weights returns softmax of T standard-normal samples.
func (r *RLW) Weights(step int, losses []float64, grads [][]float64) []float64 {
	z := make([]float64, len(losses))
	for i := range z {
		z[i] = r.rng.NormFloat64()
	}
	return softmax(z)
}
