package tensor

import (
	"math/rand/v2"
	"testing"
)

// gemmStep's column panels give gemmRun's numbers bit for bit, for a
// right operand too large for the unpacked kernels (the GRU workload's
// hidden product, forward and backward shapes).
func TestGemmStepMatchesGemmRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, sh := range [][3]int{{64, 1536, 512}, {64, 512, 1536}, {5, 700, 900}} {
		m, n, k := sh[0], sh[1], sh[2]
		for _, acc := range []bool{false, true} {
			a := RandN(rng, Float32, 1, m, k)
			b := RandN(rng, Float32, 1, k, n)
			c0 := RandN(rng, Float32, 1, m, n)
			want, got := c0.Clone(), c0.Clone()
			gemmRun(m, n, k, a.f32, k, b.f32, n, want.f32, n, acc)
			gemmStep(m, n, k, a.f32, k, b.f32, n, got.f32, n, acc)
			if d := MaxAbsDiff(want, got); d != 0 {
				t.Errorf("float32 %v acc=%v: differs by %g", sh, acc, d)
			}
			a64, b64, c64 := a.AsType(Float64), b.AsType(Float64), c0.AsType(Float64)
			want, got = c64.Clone(), c64.Clone()
			gemmRun(m, n, k, a64.f64, k, b64.f64, n, want.f64, n, acc)
			gemmStep(m, n, k, a64.f64, k, b64.f64, n, got.f64, n, acc)
			if d := MaxAbsDiff(want, got); d != 0 {
				t.Errorf("float64 %v acc=%v: differs by %g", sh, acc, d)
			}
		}
	}
}
