package transfer

import (
	"math"
	"math/rand/v2"
	"testing"
)

func linearKernel(x [][]float64) []float64 {
	n := len(x)
	k := make([]float64, n*n)
	for i := range x {
		for j := range x {
			for d := range x[i] {
				k[i*n+j] += x[i][d] * x[j][d]
			}
		}
	}
	return k
}

// Two points at +1 and -1: the maximum-margin solution is w = 1, b = 0,
// alpha = 1/2 each (any C >= 1/2).
func TestBinarySVMKnownAnswer(t *testing.T) {
	k := linearKernel([][]float64{{1}, {-1}})
	alpha, rho := binarySVM(k, 2, []int{0, 1}, []float64{1, -1}, 10)
	if math.Abs(alpha[0]-0.5) > 1e-9 || math.Abs(alpha[1]-0.5) > 1e-9 || math.Abs(rho) > 1e-9 {
		t.Errorf("alpha = %v, rho = %v; want [0.5 0.5], 0", alpha, rho)
	}
	// With C = 0.1 both multipliers sit at the bound.
	alpha, _ = binarySVM(k, 2, []int{0, 1}, []float64{1, -1}, 0.1)
	if alpha[0] != 0.1 || alpha[1] != 0.1 {
		t.Errorf("C = 0.1: alpha = %v, want [0.1 0.1]", alpha)
	}
}

// On random overlapping data the solution satisfies the KKT conditions
// of the C-SVC dual to the solver's tolerance: y^T alpha = 0, and
// y_i f(x_i) >= 1 where alpha_i = 0, = 1 where 0 < alpha_i < C, <= 1 where
// alpha_i = C.
func TestBinarySVMKKT(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, c := range []float64{0.01, 1, 100} {
		n := 60
		x := make([][]float64, n)
		y := make([]float64, n)
		idx := make([]int, n)
		for i := range x {
			y[i] = float64(2*(i%2) - 1)
			x[i] = []float64{rng.NormFloat64() + 0.8*y[i], rng.NormFloat64(), rng.NormFloat64() - 0.5*y[i]}
			idx[i] = i
		}
		k := linearKernel(x)
		alpha, rho := binarySVM(k, n, idx, y, c)
		sum := 0.0
		for i := range alpha {
			sum += alpha[i] * y[i]
			if alpha[i] < 0 || alpha[i] > c {
				t.Fatalf("C = %v: alpha[%d] = %v outside [0, C]", c, i, alpha[i])
			}
		}
		if math.Abs(sum) > 1e-9 {
			t.Errorf("C = %v: y^T alpha = %v, want 0", c, sum)
		}
		const tol = 2 * svmEps
		for i := range alpha {
			f := -rho
			for j := range alpha {
				f += alpha[j] * y[j] * k[j*n+i]
			}
			m := y[i] * f
			switch {
			case alpha[i] == 0 && m < 1-tol:
				t.Errorf("C = %v: alpha[%d] = 0 but margin %v < 1", c, i, m)
			case alpha[i] == c && m > 1+tol:
				t.Errorf("C = %v: alpha[%d] = C but margin %v > 1", c, i, m)
			case alpha[i] > 0 && alpha[i] < c && math.Abs(m-1) > tol:
				t.Errorf("C = %v: free alpha[%d] has margin %v, want 1", c, i, m)
			}
		}
	}
}

// Three well separated blobs: one-against-one voting classifies held-out
// points perfectly, and the cross-validated C comes from the grid.
func TestSVMOneAgainstOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	centres := [][]float64{{4, 0}, {-4, 0}, {0, 4}}
	sample := func(per int) ([][]float64, []int) {
		var x [][]float64
		var y []int
		for c, m := range centres {
			for i := 0; i < per; i++ {
				x = append(x, []float64{m[0] + rng.NormFloat64(), m[1] + rng.NormFloat64(), 1})
				y = append(y, c)
			}
		}
		return x, y
	}
	xtr, ytr := sample(10)
	xte, yte := sample(30)
	k := linearKernel(xtr)
	c, err := svmGridC(k, ytr, 3, []float64{0.01, 1, 100}, 2, 1)
	if err != nil || (c != 0.01 && c != 1 && c != 100) {
		t.Fatalf("svmGridC = %v, %v", c, err)
	}
	m, err := trainSVM(k, ytr, 3, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.pairs) != 3 {
		t.Fatalf("%d binary classifiers, want 3", len(m.pairs))
	}
	n := len(xtr)
	kt := make([]float64, len(xte)*n)
	for r := range xte {
		for i := range xtr {
			for d := range xtr[i] {
				kt[r*n+i] += xtr[i][d] * xte[r][d]
			}
		}
	}
	for r, p := range m.predict(kt, n) {
		if p != yte[r] {
			t.Errorf("test point %d (%v) predicted %d, want %d", r, xte[r], p, yte[r])
		}
	}
	if _, err := trainSVM(k, ytr, 3, math.Inf(1)); err == nil {
		t.Error("C = +Inf accepted")
	}
	if _, err := trainSVM(k[:5], ytr, 3, 1); err == nil {
		t.Error("short kernel accepted")
	}
	bad := append([]int(nil), ytr...)
	bad[0] = 7
	if _, err := trainSVM(k, bad, 3, 1); err == nil {
		t.Error("label 7 of 3 classes accepted")
	}
}
