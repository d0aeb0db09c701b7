package mtl

import (
	"math"
	"testing"

	"github.com/metalearn/metalearn/minnorm"
)

func wtVecClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
	for i := range got {
		if !wtClose(got[i], want[i], tol) {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
}

func TestWeightUW(t *testing.T) {
	u := NewUW()
	c := u.Weights(0, []float64{0.5, 1, 3}, nil)
	wtVecClose(t, "first UW call", c, []float64{1, 1, 1}, 0)
	s := u.LogVars()
	// dL/ds = 1 - L: task 0 (L<1) decreases, task 1 (L=1) stays, task 2
	// (L>1) increases by lr (first Adam step is lr*sign).
	if !(s[0] < 0) || s[1] != 0 || !(s[2] > 0) {
		t.Fatalf("log-variances after one step = %v", s)
	}
	if !wtClose(s[2], 1e-3, 1e-6) || !wtClose(s[0], -1e-3, 1e-6) {
		t.Fatalf("Adam step size: %v", s)
	}
	c = u.Weights(1, []float64{0.5, 1, 3}, nil)
	wtVecClose(t, "second UW call", c, []float64{math.Exp(-s[0]), 1, math.Exp(-s[2])}, 1e-15)

	// SGD: exact rule s <- s - lr (1 - exp(-s) L), converging to s = log L.
	u = &UW{LR: 0.1, Optimizer: WeightOptSGD}
	u.Weights(0, []float64{2, 0.5}, nil)
	wtVecClose(t, "SGD step", u.LogVars(), []float64{0.1, -0.05}, 1e-15)
	for k := 1; k < 2000; k++ {
		c = u.Weights(k, []float64{2, 0.5}, nil)
	}
	wtVecClose(t, "UW fixed point exp(-s)=1/L", c, []float64{0.5, 2}, 1e-6)
}

func TestWeightDWA(t *testing.T) {
	d := NewDWA()
	wtVecClose(t, "call 0", d.Weights(0, []float64{1, 1}, nil), []float64{1, 1}, 0)
	wtVecClose(t, "call 1", d.Weights(1, []float64{0.5, 1}, nil), []float64{1, 1}, 0)
	// r = L(1)/L(0) = (0.5, 1); w = 2 softmax(r/2).
	e1, e2 := math.Exp(0.25), math.Exp(0.5)
	got := d.Weights(2, []float64{0.25, 0.5}, nil)
	wtVecClose(t, "call 2", got, []float64{2 * e1 / (e1 + e2), 2 * e2 / (e1 + e2)}, 1e-15)
	// r = L(2)/L(1) = (0.5, 0.5): equal weights.
	wtVecClose(t, "call 3", d.Weights(3, []float64{1, 1}, nil), []float64{1, 1}, 1e-15)

	// Window 2: epochs are pairs of calls, averaged.
	d = &DWA{Temp: 2, Window: 2}
	for call, l := range [][]float64{{1, 2}, {3, 2}, {1, 1}, {1, 3}} {
		wtVecClose(t, "window warm-up", d.Weights(call, l, nil), []float64{1, 1}, 0)
	}
	// epoch averages: (2, 2), (1, 2) -> r = (0.5, 1), constant over epoch 2.
	want := []float64{2 * e1 / (e1 + e2), 2 * e2 / (e1 + e2)}
	wtVecClose(t, "window epoch 2 a", d.Weights(4, []float64{9, 9}, nil), want, 1e-15)
	wtVecClose(t, "window epoch 2 b", d.Weights(5, []float64{9, 9}, nil), want, 1e-15)
}

func TestWeightRLW(t *testing.T) {
	r := NewRLW(5)
	for call := 0; call < 20; call++ {
		c := r.Weights(call, []float64{1, 2, 3}, nil)
		s := 0.0
		for _, v := range c {
			if !(v > 0) {
				t.Fatalf("RLW weight %v not positive", c)
			}
			s += v
		}
		if !wtClose(s, 1, 1e-14) {
			t.Fatalf("RLW weights %v sum to %v", c, s)
		}
	}
}

func TestWeightGLS(t *testing.T) {
	wtVecClose(t, "GLS", NewGLS().Weights(0, []float64{1, 4}, nil), []float64{1, 0.25}, 1e-15)
}

func TestWeightGradNorm(t *testing.T) {
	g := NewGradNorm()
	grads := [][]float64{{1, 0}, {0, 3}} // norms 1 and 3
	c := g.Weights(0, []float64{1, 1}, grads)
	wtVecClose(t, "GradNorm first call", c, []float64{1, 1}, 0)
	// G = (1, 3), Gbar = 2, r = (1, 1): targets 2. Task 0 is below its
	// target: its weight goes up (first Adam step ~ lr), task 1 down.
	c = g.Weights(1, []float64{1, 1}, grads)
	if !(c[0] > 1) || !(c[1] < 1) || !wtClose(c[0]+c[1], 2, 1e-14) {
		t.Fatalf("GradNorm weights %v: want w0 > 1 > w1, sum 2", c)
	}
	wtVecClose(t, "GradNorm step", c, []float64{1.001, 0.999}, 1e-6)

	// Equal gradient norms, but task 1's loss decreased less: its inverse
	// training rate r_1 is larger, so its target is above G_1 and its
	// weight increases (SGD: step lr * n_i, then renormalise to sum T=3).
	g = &GradNorm{Alpha: 1.5, LR: 0.1, Optimizer: WeightOptSGD}
	eq := [][]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
	g.Weights(0, []float64{1, 1, 1}, eq)
	g.Weights(1, []float64{0.5, 1, 0.5}, eq)
	w := g.TaskWeights()
	// r = (0.5,1,0.5)/(2/3) = (0.75, 1.5, 0.75) and Gbar = 1, so the
	// targets are r^1.5 = (0.65, 1.84, 0.65): task 1's G = 1 is below its
	// target (w up by lr*1), tasks 0 and 2 are above theirs (w down).
	want := []float64{0.9, 1.1, 0.9}
	s := want[0] + want[1] + want[2]
	for i := range want {
		want[i] *= 3 / s
	}
	wtVecClose(t, "GradNorm SGD step", w, want, 1e-14)
}

func TestWeightFAMO(t *testing.T) {
	// SGD (Algorithm 1's plain step) for an exact hand computation.
	f := &FAMO{LR: 0.025, Gamma: 1e-3, Optimizer: WeightOptSGD}
	c := f.Weights(0, []float64{1, 4}, nil)
	// z = (1/2, 1/2): c ~ (1/2/1, 1/2/4) normalised = (0.8, 0.2).
	wtVecClose(t, "FAMO call 0", c, []float64{0.8, 0.2}, 1e-8)
	c = f.Weights(1, []float64{0.5, 4}, nil)
	// delta = (log 1 - log 0.5, 0) = (ln2, 0); z.delta = ln2/2;
	// grad = z*(delta - z.delta) = (ln2/4, -ln2/4); xi = -lr*grad.
	l := math.Ln2 / 4
	xi := []float64{-0.025 * l, 0.025 * l}
	wtVecClose(t, "FAMO logits", f.Logits(), xi, 1e-7)
	z := softmax(xi)
	a, b := z[0]/0.5, z[1]/4
	wtVecClose(t, "FAMO call 1", c, []float64{a / (a + b), b / (a + b)}, 1e-7)
	// Third call: the decay term gamma*xi enters.
	f.Weights(2, []float64{0.5, 4}, nil) // no loss change: delta = 0
	xi2 := []float64{xi[0] - 0.025*1e-3*xi[0], xi[1] - 0.025*1e-3*xi[1]}
	wtVecClose(t, "FAMO decay", f.Logits(), xi2, 1e-7)

	// Adam (default): first logit step is lr*sign; the task whose loss fell
	// faster loses weight.
	f = NewFAMO()
	f.Weights(0, []float64{1, 4}, nil)
	f.Weights(1, []float64{0.5, 4}, nil)
	wtVecClose(t, "FAMO Adam logits", f.Logits(), []float64{-0.025, 0.025}, 1e-6)
}

func TestWeightDBMTL(t *testing.T) {
	db := NewDBMTL()
	// Call 1: h = g / L = (3,0)/1, (0,2)/2 = (0,1); buffers 0.1 h, norms
	// (0.3, 0.1), a = (1, 3), c = a / L = (1, 1.5).
	c := db.Weights(0, []float64{1, 2}, [][]float64{{3, 0}, {0, 2}})
	wtVecClose(t, "DB-MTL call 1", c, []float64{1, 1.5}, 1e-6)
	// Call 2: h = (0,1) for both (L = 1); buffers (0.27, 0.1) and (0, 0.19).
	c = db.Weights(1, []float64{1, 1}, [][]float64{{0, 1}, {0, 1}})
	n0 := math.Hypot(0.27, 0.1)
	wtVecClose(t, "DB-MTL call 2", c, []float64{1, n0 / 0.19}, 1e-6)
	// Each task's scaled EMA gradient has the largest magnitude.
	for i := range db.buf {
		if !wtClose(minnorm.Norm(db.buf[i])*c[i], n0, 1e-6) {
			t.Fatalf("task %d: scaled EMA norm %v, want %v", i, minnorm.Norm(db.buf[i])*c[i], n0)
		}
	}
}
