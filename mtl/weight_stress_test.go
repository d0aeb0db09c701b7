package mtl

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/minnorm"
)

// TestWeightSolversStress checks the optimality conditions of the
// gradient-based strategies on many small random problems, including
// near-duplicate, widely scaled, duplicate and opposite gradients.
func TestWeightSolversStress(t *testing.T) {
	rng := rand.New(rand.NewPCG(99, 1))
	bad := map[string]int{}
	for trial := 0; trial < 600; trial++ {
		tasks := 2 + trial%6
		p := 1 + rng.IntN(8)
		g := wtRandGrads(rng, tasks, p)
		switch trial % 5 {
		case 1: // near duplicates
			for k := range g[1] {
				g[1][k] = g[0][k] * (1 + 1e-9*rng.NormFloat64())
			}
		case 2: // scales
			for i := range g {
				s := math.Pow(10, float64(rng.IntN(12)-6))
				for k := range g[i] {
					g[i][k] *= s
				}
			}
		case 3: // exact duplicates and negatives
			copy(g[1], g[0])
			if tasks > 2 {
				for k := range g[2] {
					g[2][k] = -g[0][k]
				}
			}
		}
		m := minnorm.Gram(g)
		md := minnorm.MaxDiag(m)
		// UPGrad
		c := NewUPGrad().Weights(0, ones(tasks), g)
		mc := minnorm.MatVec(m, c)
		for i := range mc {
			if mc[i] < -1e-9*md {
				bad["upgrad"]++
				if bad["upgrad"] < 3 {
					t.Logf("upgrad trial %d: %v", trial, mc)
				}
				break
			}
		}
		// MGDA
		a := NewMGDA().Weights(0, ones(tasks), g)
		ma := minnorm.MatVec(m, a)
		dd := minnorm.Dot(a, ma)
		for i := range ma {
			if ma[i] < dd-1e-9*md {
				bad["mgda"]++
				if bad["mgda"] < 3 {
					t.Logf("mgda trial %d: %v %v", trial, ma, dd)
				}
				break
			}
		}
		// Nash raw on non-degenerate
		if (trial%5 == 0 || trial%5 == 2) && p >= tasks {
			n := (&NashMTL{MaxNorm: 0}).Weights(0, ones(tasks), g)
			mn := minnorm.MatVec(m, n)
			for i := range n {
				if math.Abs(n[i]*mn[i]-1) > 1e-6 {
					bad["nash"]++
					if bad["nash"] < 5 {
						t.Logf("nash trial %d T=%d P=%d: %v", trial, tasks, p, n[i]*mn[i])
					}
					break
				}
			}
		}
		// IMTL
		if trial%5 == 0 && p >= tasks {
			a := NewIMTL().Weights(0, ones(tasks), g)
			d := minnorm.Combine(g, a)
			p0 := minnorm.Dot(d, g[0]) / minnorm.Norm(g[0])
			for i := 1; i < tasks; i++ {
				if !wtClose(minnorm.Dot(d, g[i])/minnorm.Norm(g[i]), p0, 1e-6) {
					bad["imtl"]++
					break
				}
			}
		}
		{
			cg := (&CAGrad{C: 0.4, Rescale: 0}).Weights(0, ones(tasks), g)
			mc := minnorm.MatVec(m, cg)
			m0 := minnorm.MatVec(m, fill(tasks, 1/float64(tasks)))
			mn, mn0 := math.Inf(1), math.Inf(1)
			for i := range mc {
				mn = math.Min(mn, mc[i])
				mn0 = math.Min(mn0, m0[i])
			}
			if mn < mn0-1e-6*md {
				bad["cagrad"]++
				if bad["cagrad"] < 4 {
					t.Logf("cagrad trial %d: %v < %v (md %v)", trial, mn, mn0, md)
				}
			}
		}
		for _, name := range WeightingNames {
			w, _ := ByName(name, 1)
			wtCheckFinite(t, name, w.Weights(0, ones(tasks), g), tasks)
		}
	}
	for k, v := range bad {
		t.Errorf("%s: %d problems violated the optimality condition", k, v)
	}
}
