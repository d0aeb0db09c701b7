package mtl

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/minnorm"
)

func TestWeightPCGrad(t *testing.T) {
	cases := []struct {
		name  string
		grads [][]float64
		want  []float64 // coefficients
		dir   []float64 // sum_i g_i^PC
	}{
		// g1.g2 = -1: g1^PC = g1 + g2/2 = (0.5, 0.5), g2^PC = g2 + g1 = (0, 1).
		{"conflicting", [][]float64{{1, 0}, {-1, 1}}, []float64{2, 1.5}, []float64{0.5, 1.5}},
		{"non-conflicting", [][]float64{{1, 0}, {1, 1}}, []float64{1, 1}, []float64{2, 1}},
		{"orthogonal", [][]float64{{1, 0}, {0, 2}}, []float64{1, 1}, []float64{1, 2}},
	}
	for _, c := range cases {
		got := NewPCGrad(1).Weights(0, []float64{1, 1}, c.grads)
		wtVecClose(t, c.name+" coefficients", got, c.want, 1e-15)
		wtVecClose(t, c.name+" direction", minnorm.Combine(c.grads, got), c.dir, 1e-15)
	}

	// T = 4: the tracked coefficients reproduce the explicit P-dimensional
	// algorithm with the same task orders.
	rng := rand.New(rand.NewPCG(21, 22))
	for trial := 0; trial < 10; trial++ {
		g := wtRandGrads(rng, 4, 5)
		p := &PCGrad{rng: rand.New(rand.NewPCG(uint64(trial), 9))}
		c := p.Weights(0, []float64{1, 1, 1, 1}, g)
		order := rand.New(rand.NewPCG(uint64(trial), 9))
		want := make([]float64, 5)
		for i := range g {
			pc := append([]float64(nil), g[i]...)
			for _, j := range wOthersShuffled(order, 4, i) {
				if d := minnorm.Dot(pc, g[j]); d < 0 {
					f := d / minnorm.Dot(g[j], g[j])
					for k := range pc {
						pc[k] -= f * g[j][k]
					}
				}
			}
			for k := range want {
				want[k] += pc[k]
			}
		}
		wtVecClose(t, "explicit PCGrad", minnorm.Combine(g, c), want, 1e-12)
	}
}

func TestWeightGradVac(t *testing.T) {
	// With all targets at 0 the first call is PCGrad (same seed, same orders).
	rng := rand.New(rand.NewPCG(23, 24))
	g := wtRandGrads(rng, 4, 6)
	a := NewGradVac(3).Weights(0, []float64{1, 1, 1, 1}, g)
	b := NewPCGrad(3).Weights(0, []float64{1, 1, 1, 1}, g)
	wtVecClose(t, "GradVac first call vs PCGrad", a, b, 1e-12)

	// Targets: EMA of the observed cosines.
	gv := NewGradVac(1)
	two := [][]float64{{1, 0}, {1, 1}} // cos = 1/sqrt2, no conflict
	c := gv.Weights(0, []float64{1, 1}, two)
	wtVecClose(t, "GradVac non-conflicting", c, []float64{1, 1}, 0)
	tg := gv.Targets()
	if !wtClose(tg[0][1], 0.01/math.Sqrt2, 1e-15) || !wtClose(tg[1][0], 0.01/math.Sqrt2, 1e-15) {
		t.Fatalf("targets %v, want 0.01/sqrt2", tg)
	}

	// A positive target raises the cosine exactly to the target.
	gv = NewGradVac(1)
	gv.target = [][]float64{{0, 0.5}, {0.5, 0}}
	orth := [][]float64{{1, 0}, {0, 1}}
	c = gv.Weights(0, []float64{1, 1}, orth)
	w := 0.5 / math.Sqrt(0.75) // ||g1|| (0.5 * 1 - 0) / (||g2|| sqrt(1-0.25))
	wtVecClose(t, "GradVac vaccine", c, []float64{1 + w, 1 + w}, 1e-14)
	g1p := []float64{1, w} // g1' = g1 + w g2
	if cos := g1p[1] / minnorm.Norm(g1p); !wtClose(cos, 0.5, 1e-14) {
		t.Fatalf("cos(g1', g2) = %v, want the target 0.5", cos)
	}
	if tg := gv.Targets(); !wtClose(tg[0][1], 0.99*0.5, 1e-15) {
		t.Fatalf("target after EMA = %v, want 0.495", tg[0][1])
	}
}

func TestWeightMGDA(t *testing.T) {
	// Two vectors, interior solution: alpha1 = (g2.g2 - g1.g2)/||g1-g2||^2.
	g := [][]float64{{2, 0}, {-1, 1}}
	m := minnorm.Gram(g)
	a1 := (m[1][1] - m[0][1]) / (m[0][0] + m[1][1] - 2*m[0][1])
	for _, s := range []MGDASolver{MGDAExact, MGDAFrankWolfe} {
		mg := NewMGDA()
		mg.Solver = s
		got := mg.Weights(0, []float64{1, 1}, g)
		wtVecClose(t, "MGDA 2 tasks", got, []float64{a1, 1 - a1}, 1e-14)
	}
	// One gradient inside the other's half-space beyond it: vertex solution.
	got := NewMGDA().Weights(0, []float64{1, 1}, [][]float64{{1, 0}, {3, 1}})
	wtVecClose(t, "MGDA vertex", got, []float64{1, 0}, 1e-14)
	// "l2" normalisation: orthogonal gradients of any length -> (1/2, 1/2).
	mg := NewMGDA()
	mg.Normalization = "l2"
	wtVecClose(t, "MGDA l2", mg.Weights(0, []float64{1, 1}, [][]float64{{1, 0}, {0, 10}}), []float64{0.5, 0.5}, 1e-14)

	// Optimality d.g_i >= ||d||^2 on random problems; Frank-Wolfe (paper
	// Algorithm 2) gets close to the same norm.
	rng := rand.New(rand.NewPCG(25, 26))
	for trial := 0; trial < 30; trial++ {
		tasks := 2 + trial%4
		g := wtRandGrads(rng, tasks, 10)
		for i := range g {
			g[i][0] += 2 // mostly a non-trivial common direction
		}
		m := minnorm.Gram(g)
		a := NewMGDA().Weights(0, ones(tasks), g)
		wtCheckMinNorm(t, m, a, 1e-10)
		fw := &MGDA{Normalization: "none", Solver: MGDAFrankWolfe, MaxIter: 250, StopCrit: 1e-5}
		b := fw.Weights(0, ones(tasks), g)
		if q, qb := minnorm.Quad(m, a), minnorm.Quad(m, b); qb < q-1e-10 || qb > q+1e-2*minnorm.MaxDiag(m) {
			t.Fatalf("Frank-Wolfe norm^2 %v vs exact %v", qb, q)
		}
	}
}

func TestWeightCAGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	g := wtRandGrads(rng, 3, 5)
	zero := &CAGrad{C: 0, Rescale: 1}
	wtVecClose(t, "CAGrad c=0", zero.Weights(0, []float64{1, 1, 1}, g), []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, 0)

	minDot := func(g [][]float64, c []float64) float64 {
		d := minnorm.Combine(g, c)
		mn := math.Inf(1)
		for _, gi := range g {
			mn = math.Min(mn, minnorm.Dot(gi, d)/minnorm.Norm(d))
		}
		return mn
	}
	conflicts := [][][]float64{
		{{1, 0}, {-0.8, 0.3}},
		{{1, 0.1}, {-0.5, 1}, {0.2, -1}},
		{{3, 0, 0}, {-1, 1, 0}, {-1, 0, 0.2}},
	}
	for k, g := range conflicts {
		mean := fill(len(g), 1/float64(len(g)))
		c := NewCAGrad().Weights(0, ones(len(g)), g)
		if minDot(g, c) <= minDot(g, mean) {
			t.Fatalf("case %d: CAGrad min_i g_i.d/||d|| = %v does not improve on the mean's %v", k, minDot(g, c), minDot(g, mean))
		}
	}

	// The dual solver reaches the minimum of its objective (grid check, T=2).
	g2 := [][]float64{{1, 0}, {-0.8, 0.3}}
	m := minnorm.Gram(g2)
	cc := 0.4*math.Sqrt((m[0][0]+2*m[0][1]+m[1][1])/4+1e-8) + 1e-8
	w := wCAGradDual(m, cc)
	f := func(x float64) float64 {
		v := []float64{x, 1 - x}
		return minnorm.Dot(v, minnorm.MatVec(m, []float64{0.5, 0.5})) + cc*math.Sqrt(minnorm.Quad(m, v)+1e-8)
	}
	best := math.Inf(1)
	for i := 0; i <= 100000; i++ {
		best = math.Min(best, f(float64(i)/100000))
	}
	if f(w[0]) > best+1e-9 {
		t.Fatalf("dual objective %v above grid minimum %v", f(w[0]), best)
	}
	// Coefficients follow d = (g0 + lambda g_w)/(1+c^2).
	c := NewCAGrad().Weights(0, []float64{1, 1}, g2)
	lambda := cc / (math.Sqrt(minnorm.Quad(m, w)) + 1e-8)
	wtVecClose(t, "CAGrad coefficients", c, []float64{(0.5 + lambda*w[0]) / 1.16, (0.5 + lambda*w[1]) / 1.16}, 1e-6)
}

func TestWeightIMTL(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for trial := 0; trial < 20; trial++ {
		tasks := 2 + trial%4
		g := wtRandGrads(rng, tasks, 7)
		for i := range g { // different scales
			for k := range g[i] {
				g[i][k] *= float64(1 + 3*i)
			}
		}
		a := NewIMTL().Weights(0, ones(tasks), g)
		s := 0.0
		for _, v := range a {
			s += v
		}
		if !wtClose(s, 1, 1e-10) {
			t.Fatalf("IMTL coefficients %v sum to %v", a, s)
		}
		d := minnorm.Combine(g, a)
		p0 := minnorm.Dot(d, g[0]) / minnorm.Norm(g[0])
		for i := 1; i < tasks; i++ {
			if pi := minnorm.Dot(d, g[i]) / minnorm.Norm(g[i]); !wtClose(pi, p0, 1e-9) {
				t.Fatalf("projections on unit gradients differ: %v vs %v", pi, p0)
			}
		}
	}
	// Two orthogonal gradients of norms 1 and 2: d = a g1 + (1-a) g2 with
	// a*1 = (1-a)*2 -> a = 2/3.
	wtVecClose(t, "IMTL orthogonal", NewIMTL().Weights(0, []float64{1, 1}, [][]float64{{1, 0}, {0, 2}}), []float64{2.0 / 3, 1.0 / 3}, 1e-14)
}

func TestWeightNashMTL(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	raw := &NashMTL{MaxNorm: 0}
	for trial := 0; trial < 30; trial++ {
		tasks := 2 + trial%4
		g := wtRandGrads(rng, tasks, 8)
		for i := range g {
			g[i][0] += float64(trial % 3) // more and more aligned
			for k := range g[i] {
				g[i][k] *= math.Pow(10, float64(i%3-1)) // scales 0.1, 1, 10
			}
		}
		a := raw.Weights(0, ones(tasks), g)
		ma := minnorm.MatVec(minnorm.Gram(g), a)
		for i := range a {
			if !(a[i] > 0) || math.Abs(ma[i]*a[i]-1) > 1e-6 {
				t.Fatalf("bargaining condition: alpha_%d (M alpha)_%d = %v (alpha %v)", i, i, ma[i]*a[i], a)
			}
		}
	}
	// Orthogonal gradients: alpha_i = 1/||g_i||^2... since (M alpha)_i =
	// ||g_i||^2 alpha_i = 1/alpha_i, alpha_i = 1/||g_i||.
	g := [][]float64{{2, 0}, {0, 0.5}}
	wtVecClose(t, "Nash orthogonal", raw.Weights(0, []float64{1, 1}, g), []float64{0.5, 2}, 1e-12)
	// Default max_norm = 1 clips ||d|| (= sqrt(T) before clipping) to 1.
	c := NewNashMTL().Weights(0, []float64{1, 1}, g)
	if n := minnorm.Norm(minnorm.Combine(g, c)); !wtClose(n, 1, 1e-12) {
		t.Fatalf("clipped ||d|| = %v, want 1", n)
	}
	wtVecClose(t, "Nash clipped", c, []float64{0.5 / math.Sqrt2, 2 / math.Sqrt2}, 1e-12)
}

func TestWeightAlignedMTL(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for _, tc := range []struct{ tasks, p int }{{2, 5}, {3, 5}, {3, 2}} {
		g := wtRandGrads(rng, tc.tasks, tc.p)
		for k := range g[0] {
			g[0][k] *= 10 // badly conditioned
		}
		m := minnorm.Gram(g)
		b := wAlignedB(m)
		// Aligned matrix Ghat = B G; its Gram matrix B M B must have all
		// non-zero eigenvalues equal (singular values equal, condition 1).
		gh := make([][]float64, tc.tasks)
		for i := range gh {
			gh[i] = minnorm.Combine(g, b[i])
		}
		vals, _, _ := minnorm.EigenSym(minnorm.Gram(gh))
		rank := tc.tasks
		if tc.p < rank {
			rank = tc.p
		}
		mvals, _, _ := minnorm.EigenSym(m)
		for k := 0; k < rank; k++ {
			if !wtClose(vals[k], mvals[rank-1], 1e-9) {
				t.Fatalf("T=%d P=%d: aligned eigenvalues %v, want all %v", tc.tasks, tc.p, vals, mvals[rank-1])
			}
		}
		for k := rank; k < tc.tasks; k++ {
			if math.Abs(vals[k]) > 1e-9*vals[0] {
				t.Fatalf("aligned matrix rank: %v", vals)
			}
		}
		// The strategy's coefficients are B 1: d = sum of aligned rows.
		c := NewAlignedMTL().Weights(0, ones(tc.tasks), g)
		d := minnorm.Zeros(1, tc.p)[0]
		for i := range gh {
			for k := range d {
				d[k] += gh[i][k]
			}
		}
		wtVecClose(t, "aligned direction", minnorm.Combine(g, c), d, 1e-9)
	}
	// Orthogonal gradients of norms 1 and 2: B = diag(1, 1/2) -> (1, 1/2).
	wtVecClose(t, "aligned orthogonal", NewAlignedMTL().Weights(0, []float64{1, 1}, [][]float64{{1, 0}, {0, 2}}), []float64{1, 0.5}, 1e-14)
}

func TestWeightUPGrad(t *testing.T) {
	// Hand example: pi(g1) = g1 + g2/2, pi(g2) = g2 + g1; mean -> (1, 0.75).
	g := [][]float64{{1, 0}, {-1, 1}}
	c := NewUPGrad().Weights(0, []float64{1, 1}, g)
	wtVecClose(t, "UPGrad hand", c, []float64{1, 0.75}, 1e-12)

	rng := rand.New(rand.NewPCG(35, 36))
	for trial := 0; trial < 40; trial++ {
		tasks := 2 + trial%4
		g := wtRandGrads(rng, tasks, 3+trial%5)
		c := NewUPGrad().Weights(0, ones(tasks), g)
		d := minnorm.Combine(g, c)
		for i := range g {
			if v := minnorm.Dot(g[i], d); v < -1e-9 {
				t.Fatalf("g_%d.d = %v < 0: UPGrad direction conflicts", i, v)
			}
		}
	}
	// Non-conflicting gradients (all pairwise dots >= 0): the mean.
	pos := [][]float64{{1, 0.2, 0}, {0.5, 1, 0.1}, {0.1, 0.3, 2}}
	wtVecClose(t, "UPGrad non-conflicting", NewUPGrad().Weights(0, []float64{1, 1, 1}, pos), []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, 1e-14)
}
