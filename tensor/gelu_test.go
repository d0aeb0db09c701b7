package tensor

import (
	"math"
	"testing"
)

// normCDF32 (float32 GELU's CDF) against the exact 0.5 erfc(-x/sqrt2):
// relative error below 2.5e-7, also deep in the lower tail.
func TestNormCDF32(t *testing.T) {
	for x := -12.0; x <= 8; x += 0.001 {
		want := 0.5 * math.Erfc(-x/math.Sqrt2)
		if got := normCDF32(x); math.Abs(got-want) > 2.5e-7*want {
			t.Fatalf("Phi(%v) = %v, want %v (relative error %.2g)", x, got, want, math.Abs(got-want)/want)
		}
	}
}

// float32 GELU (vectorised exponentials) against the exact float64 form:
// within 2e-7 absolute, 3e-6 relative (lower tail included), and its
// gradient likewise.
func TestGELUFloat32(t *testing.T) {
	n := 24001
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = -12 + 20*float64(i)/float64(n-1)
	}
	x := FromFloat64(xs, n).AsType(Float32)
	y, cdf := GELU(x)
	g := GELUBackward(Ones(Float32, n), x, cdf)
	for i, v := range x.Values() {
		c := 0.5 * math.Erfc(-v/math.Sqrt2)
		want, dwant := v*c, c+v*math.Exp(-v*v/2)/math.Sqrt(2*math.Pi)
		if d := math.Abs(y.Flat(i) - want); d > 2e-7+3e-6*math.Abs(want) {
			t.Fatalf("GELU(%v) = %v, want %v", v, y.Flat(i), want)
		}
		if d := math.Abs(g.Flat(i) - dwant); d > 2e-7+3e-6*math.Abs(dwant) {
			t.Fatalf("GELU'(%v) = %v, want %v", v, g.Flat(i), dwant)
		}
	}
}
