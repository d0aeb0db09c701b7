package autodiff

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

// mlp is a 1-8-8-1 tanh network written directly on Vars: params are
// w1 [8,1], b1 [8], w2 [8,8], b2 [8], w3 [1,8], b3 [1].
func mlp(p []*Var, x *Var) *Var {
	h := Tanh(Linear(x, p[0], p[1]))
	h = Tanh(Linear(h, p[2], p[3]))
	return Linear(h, p[4], p[5])
}

func mse(y, t *Var) *Var { return Mean(Square(Sub(y, t)), false) }

// metaLoss is the MAML objective for one task and one inner SGD step:
// L_query(theta - alpha * grad L_support(theta)) (Finn et al. 2017, eq. 1).
// With secondOrder=false the inner gradient is treated as a constant
// (first-order MAML).
func metaLoss(theta []*Var, xs, ys, xq, yq *Var, alpha float64, createGraph bool) *Var {
	inner := mse(mlp(theta, xs), ys)
	g := Grad([]*Var{inner}, theta, createGraph)
	fast := make([]*Var, len(theta))
	for i := range theta {
		fast[i] = Sub(theta[i], Scale(g[i], alpha))
	}
	return mse(mlp(fast, xq), yq)
}

func TestMAMLMetaGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 1))
	shapes := [][]int{{8, 1}, {8}, {8, 8}, {8}, {1, 8}, {1}}
	theta0 := make([]*tensor.Tensor, len(shapes))
	for i, s := range shapes {
		theta0[i] = tensor.RandN(rng, tensor.Float64, 0.7, s...)
	}
	// one sinusoid task: 10 support and 10 query points
	amp, phase := 2.3, 0.9
	task := func(n int) (*Var, *Var) {
		x := tensor.RandU(rng, tensor.Float64, -5, 5, n, 1)
		y := tensor.New(tensor.Float64, n, 1)
		for i := 0; i < n; i++ {
			y.SetFlat(i, amp*math.Sin(x.Flat(i)+phase))
		}
		return Const(x), Const(y)
	}
	xs, ys := task(10)
	xq, yq := task(10)
	const alpha = 0.01

	theta := params(theta0)
	second := Grad([]*Var{metaLoss(theta, xs, ys, xq, yq, alpha, true)}, theta, false)
	first := Grad([]*Var{metaLoss(theta, xs, ys, xq, yq, alpha, false)}, theta, false)

	// Central differences of the full meta-objective (the inner gradient is
	// recomputed at every perturbed point, so this is the true derivative).
	const eps = 1e-5
	var num, ana, fo []float64
	for i, t0 := range theta0 {
		for j := 0; j < t0.Len(); j++ {
			pert := make([]*tensor.Tensor, len(theta0))
			copy(pert, theta0)
			x := t0.Clone()
			pert[i] = x
			orig := x.Flat(j)
			x.SetFlat(j, orig+eps)
			fp := metaLoss(params(pert), xs, ys, xq, yq, alpha, false).Item()
			x.SetFlat(j, orig-eps)
			fm := metaLoss(params(pert), xs, ys, xq, yq, alpha, false).Item()
			num = append(num, (fp-fm)/(2*eps))
			ana = append(ana, second[i].Value.Flat(j))
			fo = append(fo, first[i].Value.Flat(j))
		}
	}
	relErr := func(a, b []float64) float64 {
		var d, n float64
		for i := range a {
			d += (a[i] - b[i]) * (a[i] - b[i])
			n += b[i] * b[i]
		}
		return math.Sqrt(d / n)
	}
	if e := relErr(ana, num); e > 1e-6 {
		t.Fatalf("second-order MAML meta-gradient relative error %.3g > 1e-6", e)
	} else {
		t.Logf("second-order relative error %.3g", e)
	}
	// First-order MAML drops the Hessian term, so it must differ measurably.
	if e := relErr(fo, num); e < 1e-3 {
		t.Fatalf("first-order meta-gradient is within %.3g of the true one; the test task does not exercise second order", e)
	} else {
		t.Logf("first-order relative error %.3g", e)
	}
}
