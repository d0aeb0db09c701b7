package mtl

import (
	"math"
	"math/rand/v2"

	"github.com/metalearn/metalearn/minnorm"
)

// GradVac is gradient vaccine, from Wang, Tsvetkov, Firat & Cao, "Gradient
// Vaccine: Investigating and Improving Multi-task Optimization in
// Massively Multilingual Models", ICLR 2021 (Algorithm 1, Eq. 3).
//
// For every task i, g_i' starts as g_i; then for every other task j, in a
// random order drawn per task i and per call, with
// phi = cos(g_i', g_j) and the adaptive target phihat_ij:
//
//	if phi < phihat_ij:
//	    g_i' <- g_i' + ||g_i'|| (phihat sqrt(1-phi^2) - phi sqrt(1-phihat^2))
//	                  / (||g_j|| sqrt(1-phihat^2)) g_j
//	phihat_ij <- (1-beta) phihat_ij + beta phi
//
// (the EMA update is applied for every visited pair, as in the paper's
// Algorithm 1), and d = sum_i g_i'. The targets start at 0, so the first
// call is PCGrad. As in PCGrad, the g_i' are tracked as coefficient
// vectors over the original gradients, so sum_i c_i g_i = d exactly.
//
// Simplification: the paper (and LibMTL's group types 1 and 2) can keep
// separate targets and apply the rule per layer or per parameter matrix;
// this implementation is the global (whole-model, LibMTL group type 0)
// variant with one target per ordered task pair, because a per-layer
// update is not a linear combination of whole task gradients.
// Pairs involving a zero gradient are skipped, as are adjustments whose
// target has |phihat| = 1.
type GradVac struct {
	// Beta is the EMA rate of the cosine targets (default 0.01).
	Beta float64

	rng    *rand.Rand
	src    *rand.PCG // rng's source, for SaveState
	target [][]float64
}

// NewGradVac returns global GradVac with beta = 0.01 and task orders from
// a PCG generator seeded with seed.
func NewGradVac(seed uint64) *GradVac {
	src := rand.NewPCG(seed, 0x7063677264)
	return &GradVac{Beta: 0.01, rng: rand.New(src), src: src}
}

// Name implements Weighting.
func (*GradVac) Name() string { return "gradvac" }

// NeedsGrads implements Weighting (true).
func (*GradVac) NeedsGrads() bool { return true }

// Targets returns a copy of the current cosine targets phihat_ij.
func (g *GradVac) Targets() [][]float64 {
	out := make([][]float64, len(g.target))
	for i := range g.target {
		out[i] = append([]float64(nil), g.target[i]...)
	}
	return out
}

// Weights returns the coefficients of sum_i g_i' and updates the targets.
func (g *GradVac) Weights(step int, losses []float64, grads [][]float64) []float64 {
	grads = checkGradArgs("gradvac", losses, grads)
	m := minnorm.Gram(grads)
	t := len(m)
	if len(g.target) != t {
		g.target = minnorm.Zeros(t, t)
	}
	out := make([]float64, t)
	for i := 0; i < t; i++ {
		c := make([]float64, t)
		c[i] = 1
		for _, j := range wOthersShuffled(g.rng, t, i) {
			mc := minnorm.MatVec(m, c)
			ni := math.Sqrt(math.Max(minnorm.Dot(c, mc), 0))
			nj := math.Sqrt(m[j][j])
			if isZeroGrad(m, j) || !(ni > 1e-12*math.Sqrt(minnorm.MaxDiag(m))) {
				continue
			}
			phi := math.Max(-1, math.Min(1, mc[j]/(ni*nj)))
			tgt := g.target[i][j]
			st := math.Sqrt(math.Max(0, 1-tgt*tgt))
			if phi < tgt && st > 1e-12 {
				w := ni * (tgt*math.Sqrt(math.Max(0, 1-phi*phi)) - phi*st) / (nj * st)
				c[j] += w
			}
			g.target[i][j] = (1-g.Beta)*tgt + g.Beta*phi
		}
		for k := range out {
			out[k] += c[k]
		}
	}
	return out
}
