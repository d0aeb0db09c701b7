package minnorm

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randGrads(rng *rand.Rand, t, p int) [][]float64 {
	g := Zeros(t, p)
	for i := range g {
		for k := range g[i] {
			g[i][k] = rng.NormFloat64()
		}
	}
	return g
}

func close(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestBasics(t *testing.T) {
	if got := Dot([]float64{1, 2, 3}, []float64{4, -5, 6}); got != 12 {
		t.Fatalf("dot = %v, want 12", got)
	}
	if got := Norm([]float64{3, 4}); got != 5 {
		t.Fatalf("norm = %v, want 5", got)
	}
	m := Gram([][]float64{{1, 0}, {1, 2}})
	want := [][]float64{{1, 1}, {1, 5}}
	for i := range want {
		for j := range want[i] {
			if m[i][j] != want[i][j] {
				t.Fatalf("gram = %v, want %v", m, want)
			}
		}
	}
	if got := Quad(m, []float64{1, -1}); got != 4 { // ||g1-g2||^2 = ||(0,-2)||^2
		t.Fatalf("quad = %v, want 4", got)
	}
	if c := Combine([][]float64{{1, 0}, {0, 1}}, []float64{2, 3}); c[0] != 2 || c[1] != 3 {
		t.Fatalf("combine = %v", c)
	}
}

func TestProjectSimplex(t *testing.T) {
	cases := []struct{ in, want []float64 }{
		{[]float64{0.2, 0.8}, []float64{0.2, 0.8}},
		{[]float64{2, 0}, []float64{1, 0}},
		{[]float64{1, 1}, []float64{0.5, 0.5}},
		{[]float64{0.5, 0.1, -1}, []float64{0.7, 0.3, 0}},
		{[]float64{-1, -1, -1}, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}},
	}
	for _, c := range cases {
		got := ProjectSimplex(c.in)
		for i := range got {
			if !close(got[i], c.want[i], 1e-12) {
				t.Fatalf("project(%v) = %v, want %v", c.in, got, c.want)
			}
		}
	}
}

func TestEigenSym(t *testing.T) {
	// Known 2x2: [[2,1],[1,2]] has eigenvalues 3, 1.
	vals, vecs, _ := EigenSym([][]float64{{2, 1}, {1, 2}})
	if !close(vals[0], 3, 1e-14) || !close(vals[1], 1, 1e-14) {
		t.Fatalf("eigenvalues %v, want [3 1]", vals)
	}
	if !close(math.Abs(vecs[0][0]), 1/math.Sqrt2, 1e-14) {
		t.Fatalf("eigenvector %v", vecs)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 6; n++ {
		a := Gram(randGrads(rng, n, 3)) // rank-deficient for n > 3
		vals, vecs, _ := EigenSym(a)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				rec, orth := 0.0, 0.0
				for k := 0; k < n; k++ {
					rec += vecs[i][k] * vals[k] * vecs[j][k]
					orth += vecs[k][i] * vecs[k][j]
				}
				if !close(rec, a[i][j], 1e-12) {
					t.Fatalf("n=%d: V L V^T [%d][%d] = %v, want %v", n, i, j, rec, a[i][j])
				}
				id := 0.0
				if i == j {
					id = 1
				}
				if math.Abs(orth-id) > 1e-12 {
					t.Fatalf("n=%d: V not orthonormal", n)
				}
			}
		}
		for k := 1; k < n; k++ {
			if vals[k] > vals[k-1] {
				t.Fatalf("eigenvalues not descending: %v", vals)
			}
		}
	}
}

func TestSolve(t *testing.T) {
	x, ok := Solve([][]float64{{0, 2}, {3, 1}}, []float64{4, 5})
	if !ok || !close(x[0], 1, 1e-15) || !close(x[1], 2, 1e-15) {
		t.Fatalf("solve = %v %v, want [1 2]", x, ok)
	}
	if _, ok := Solve([][]float64{{1, 2}, {2, 4}}, []float64{1, 2}); ok {
		t.Fatal("singular system reported solvable")
	}
	// Pseudo-inverse: minimum-norm solution of a singular consistent system.
	p := PinvSolve([][]float64{{1, 1}, {1, 1}}, []float64{2, 2})
	if !close(p[0], 1, 1e-12) || !close(p[1], 1, 1e-12) {
		t.Fatalf("pinv solve = %v, want [1 1]", p)
	}
}

func wtCheckNNLS(t *testing.T, m [][]float64, b, w []float64, tol float64) {
	t.Helper()
	g := MatVec(m, w)
	for i := range g {
		g[i] += b[i]
		if w[i] < 0 || g[i] < -tol || (w[i] > 0 && math.Abs(g[i]) > tol) {
			t.Fatalf("NNLS KKT violated at %d: w=%v grad=%v", i, w, g)
		}
	}
}

func TestNNLS(t *testing.T) {
	// Known answer: M = I, b = (-1, 2) -> w = (1, 0).
	w := NNLSGram([][]float64{{1, 0}, {0, 1}}, []float64{-1, 2})
	if !close(w[0], 1, 1e-14) || w[1] != 0 {
		t.Fatalf("nnls = %v, want [1 0]", w)
	}
	// Coupled: M = [[2,1],[1,2]], b = (-3,-3) -> unconstrained solution (1,1).
	w = NNLSGram([][]float64{{2, 1}, {1, 2}}, []float64{-3, -3})
	if !close(w[0], 1, 1e-13) || !close(w[1], 1, 1e-13) {
		t.Fatalf("nnls = %v, want [1 1]", w)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 40; trial++ {
		n := 1 + trial%6
		j := randGrads(rng, n, 2+trial%5) // includes rank-deficient cases
		y := randGrads(rng, 1, len(j[0]))[0]
		m := Gram(j)
		b := make([]float64, n)
		for i := range b {
			b[i] = Dot(j[i], y)
		}
		w := NNLSGram(m, b)
		wtCheckNNLS(t, m, b, w, 1e-9)
	}
}

func TestMinNormHull(t *testing.T) {
	// Two vectors: closed form alpha1 = (g2.g2 - g1.g2)/||g1-g2||^2.
	g1, g2 := []float64{1, 0}, []float64{0, 2}
	m := Gram([][]float64{g1, g2})
	a := Hull(m)
	want := (4.0 - 0) / 5
	if !close(a[0], want, 1e-14) || !close(a[1], 1-want, 1e-14) {
		t.Fatalf("min-norm weights %v, want [%v %v]", a, want, 1-want)
	}
	if got := MinNorm2(m[0][0], m[0][1], m[1][1]); !close(got, want, 1e-15) {
		t.Fatalf("MinNorm2 = %v, want %v", got, want)
	}
	// Opposite vectors: 0 is in the hull.
	a = Hull(Gram([][]float64{{1, 1}, {-1, -1}}))
	if !close(a[0], 0.5, 1e-14) {
		t.Fatalf("opposite: %v, want [0.5 0.5]", a)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 60; trial++ {
		n := 2 + trial%5
		g := randGrads(rng, n, 2+trial%6)
		if trial%3 == 0 { // shift so that 0 is usually outside the hull
			for i := range g {
				g[i][0] += 3
			}
		}
		m := Gram(g)
		a := Hull(m)
		checkMinNorm(t, m, a, 1e-10)
		fw := HullFrankWolfe(m, 5000, 0)
		if q, qf := Quad(m, a), Quad(m, fw); qf < q-1e-10*MaxDiag(m) {
			t.Fatalf("Frank-Wolfe found a smaller norm (%v < %v): exact solver wrong", qf, q)
		}
	}
}

func checkMinNorm(t *testing.T, m [][]float64, a []float64, tol float64) {
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
	ma := MatVec(m, a)
	dd := Dot(a, ma)
	for i := range ma {
		// d.g_i >= ||d||^2 (min-norm optimality)
		if ma[i] < dd-tol*MaxDiag(m) {
			t.Fatalf("d.g_%d = %v < ||d||^2 = %v (weights %v)", i, ma[i], dd, a)
		}
	}
}
