package mtl

import (
	"math/rand/v2"

	"github.com/metalearn/metalearn/minnorm"
)

// PCGrad is projecting conflicting gradients, from Yu, Kumar, Gupta,
// Levine, Hausman & Finn, "Gradient Surgery for Multi-Task Learning",
// NeurIPS 2020 (Algorithm 1).
//
// For every task i, g_i^PC starts as g_i; then for every other task j, in a
// random order drawn per task i and per call, if g_i^PC . g_j < 0 the
// conflicting component is removed:
//
//	g_i^PC <- g_i^PC - (g_i^PC . g_j / ||g_j||^2) g_j,
//
// and the update is d = sum_i g_i^PC. Every g_i^PC is a linear combination
// of the original gradients, so the strategy tracks its coefficient vector
// (starting at e_i; a projection subtracts g_i^PC.g_j/||g_j||^2 from
// component j) and computes all inner products on the Gram matrix. The
// returned coefficients are the sum of those vectors, so
// sum_i c_i g_i = d exactly. Tasks with a zero gradient are never
// projected onto.
type PCGrad struct {
	rng *rand.Rand
	src *rand.PCG // rng's source, for SaveState
}

// NewPCGrad returns PCGrad whose task orders come from a PCG generator
// seeded with seed.
func NewPCGrad(seed uint64) *PCGrad {
	src := rand.NewPCG(seed, 0x7063677264)
	return &PCGrad{rng: rand.New(src), src: src}
}

// Name implements Weighting.
func (*PCGrad) Name() string { return "pcgrad" }

// NeedsGrads implements Weighting (true).
func (*PCGrad) NeedsGrads() bool { return true }

// Weights returns the coefficients of sum_i g_i^PC.
func (p *PCGrad) Weights(step int, losses []float64, grads [][]float64) []float64 {
	grads = checkGradArgs("pcgrad", losses, grads)
	m := minnorm.Gram(grads)
	t := len(m)
	out := make([]float64, t)
	for i := 0; i < t; i++ {
		c := make([]float64, t)
		c[i] = 1
		for _, j := range wOthersShuffled(p.rng, t, i) {
			if isZeroGrad(m, j) {
				continue
			}
			dot := 0.0 // g_i^PC . g_j
			for k := 0; k < t; k++ {
				dot += c[k] * m[k][j]
			}
			if dot < 0 {
				c[j] -= dot / m[j][j]
			}
		}
		for k := range out {
			out[k] += c[k]
		}
	}
	return out
}

// wOthersShuffled returns the indices 0..t-1 except i, in a random order.
func wOthersShuffled(rng *rand.Rand, t, i int) []int {
	idx := make([]int, 0, t)
	for j := 0; j < t; j++ {
		if j != i {
			idx = append(idx, j)
		}
	}
	rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
	return idx
}
