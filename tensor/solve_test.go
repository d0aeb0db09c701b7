package tensor

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestSolve(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, dt := range []DType{Float32, Float64} {
		for _, c := range []struct{ batch, n, m int }{{0, 1, 1}, {0, 5, 3}, {0, 25, 5}, {3, 4, 2}} {
			shapeA, shapeB := []int{c.n, c.n}, []int{c.n, c.m}
			if c.batch > 0 {
				shapeA = append([]int{c.batch}, shapeA...)
				shapeB = append([]int{c.batch}, shapeB...)
			}
			a := RandN(rng, dt, 1, shapeA...)
			b := RandN(rng, dt, 1, shapeB...)
			x := Solve(a, b)
			tol := 1e-9
			if dt == Float32 {
				tol = 2e-3
			}
			if !AllClose(MatMul(a, x), b, tol, tol) {
				t.Fatalf("%v %+v: A X != B (max diff %g)", dt, c, MaxAbsDiff(MatMul(a, x), b))
			}
		}
	}
	// a permutation matrix needs pivoting
	p := FromFloat64([]float64{0, 1, 1, 0}, 2, 2)
	x := Solve(p, FromFloat64([]float64{2, 3}, 2, 1))
	if x.Flat(0) != 3 || x.Flat(1) != 2 {
		t.Fatalf("pivoted solve = %v", x)
	}
	func() {
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), "singular") {
				t.Fatalf("singular matrix: panic %v", r)
			}
		}()
		Solve(FromFloat64([]float64{1, 2, 2, 4}, 2, 2), FromFloat64([]float64{1, 1}, 2, 1))
	}()
}
