package mtl

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/minnorm"
)

// The analytic toy gradients against central finite differences, at
// random points on both sides of x2 = 0 and both scales.
func TestToyGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range []ToyProblem{{Scale: 1}, {Scale: 0.1}} {
		for k := 0; k < 200; k++ {
			x1, x2 := rng.Float64()*20-10, rng.Float64()*20-10
			_, g := p.Eval(x1, x2)
			const h = 1e-6
			for j := 0; j < 2; j++ {
				dx := [2]float64{}
				dx[j] = h
				lp, _ := p.Eval(x1+dx[0], x2+dx[1])
				lm, _ := p.Eval(x1-dx[0], x2-dx[1])
				for i := 0; i < 2; i++ {
					num := (lp[i] - lm[i]) / (2 * h)
					if math.Abs(num-g[i][j]) > 1e-5+1e-4*math.Abs(num) {
						t.Fatalf("scale %v x = (%v, %v): dL%d/dx%d analytic %v, numeric %v", p.Scale, x1, x2, i+1, j+1, g[i][j], num)
					}
				}
			}
		}
	}
	// values at a known point: x = (0, 0) has c1 = c2 = 0
	l, _ := ToyProblem{}.Eval(0, 0)
	if l[0] != 0 || l[1] != 0 {
		t.Errorf("losses at the origin %v, want 0, 0", l)
	}
}

// Every point of ParetoSet is Pareto-stationary.
func TestToyParetoSet(t *testing.T) {
	p := ToyProblem{Scale: 1}
	for _, x := range p.ParetoSet(21) {
		_, g := p.Eval(x[0], x[1])
		gam := minnorm.MinNorm2(dot2(g[0], g[0]), dot2(g[0], g[1]), dot2(g[1], g[1]))
		n := math.Hypot(gam*g[0][0]+(1-gam)*g[1][0], gam*g[0][1]+(1-gam)*g[1][1])
		if n > 1e-9 || x[1] > -8 || x[1] < -9 {
			t.Errorf("Pareto point %v: stationarity %v", x, n)
		}
	}
}

// Equal weighting from (-8.5, -5), in the quadratic region, runs down to
// the middle of the front: the minimiser of L1 + L2 is x1 = 0 (both
// quadratics weigh equally), x2 on the Pareto set.
func TestToyEWConverges(t *testing.T) {
	p := ToyProblem{Scale: 1}
	r, err := p.RunToy("ew", [2]float64{-8.5, -5}, ToyConfig{Steps: 20000, LR: 2e-3})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("final %v losses %v dist %.2g stationarity %.2g", r.Final, r.FinalLoss, r.DistPareto, r.Stationarity)
	mid := p.ParetoSet(3)[1]
	if math.Hypot(r.Final[0]-mid[0], r.Final[1]-mid[1]) > 0.05 || !r.Reached {
		t.Errorf("EW ended at %v, want near %v", r.Final, mid)
	}
	if _, err := p.RunToy("nope", [2]float64{0, 0}, ToyConfig{Steps: 10}); err == nil {
		t.Error("unknown method: no error")
	}
}
