package mtl

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/minnorm"
)

func wtRandGrads(rng *rand.Rand, t, p int) [][]float64 {
	g := minnorm.Zeros(t, p)
	for i := range g {
		for k := range g[i] {
			g[i][k] = rng.NormFloat64()
		}
	}
	return g
}

func wtClose(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestWeightSoftmax(t *testing.T) {
	sm := softmax([]float64{0, math.Log(3)})
	if !wtClose(sm[0], 0.25, 1e-15) || !wtClose(sm[1], 0.75, 1e-15) {
		t.Fatalf("softmax = %v", sm)
	}
}

func TestWeightLinalgAdam(t *testing.T) {
	// First Adam step is lr * g/(|g| + eps) ~ lr * sign(g).
	p := []float64{0, 0}
	a := newParamAdam(0.1, 0)
	a.step(p, []float64{2, -3})
	if !wtClose(p[0], -0.1, 1e-7) || !wtClose(p[1], 0.1, 1e-7) {
		t.Fatalf("adam step = %v, want [-0.1 0.1]", p)
	}
	// SGD with weight decay.
	q := []float64{1}
	paramStep(WeightOptSGD, nil, 0.5, 0.1, q, []float64{1})
	if !wtClose(q[0], 1-0.5*1.1, 1e-15) {
		t.Fatalf("sgd step = %v", q)
	}
}

// wtCheckMinNorm checks the optimality conditions of a min-norm point of
// the convex hull with Gram matrix m.
func wtCheckMinNorm(t *testing.T, m [][]float64, a []float64, tol float64) {
	t.Helper()
	sum := 0.0
	for _, v := range a {
		if v < 0 {
			t.Fatalf("negative weight %v", a)
		}
		sum += v
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Fatalf("weights %v sum to %v", a, sum)
	}
	ma := minnorm.MatVec(m, a)
	dd := minnorm.Dot(a, ma)
	for i := range ma {
		// d.g_i >= ||d||^2 (min-norm optimality)
		if ma[i] < dd-tol*minnorm.MaxDiag(m) {
			t.Fatalf("d.g_%d = %v < ||d||^2 = %v (weights %v)", i, ma[i], dd, a)
		}
	}
}
