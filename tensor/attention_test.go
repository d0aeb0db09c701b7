package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// expShift (AVX-512 in float32, with a ragged tail) against math.Exp.
func TestExpShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 40; n++ {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 8)
		}
		o := make([]float32, n)
		scale, shift := 0.37, 1.5
		sum := expShift(o, x, scale, shift)
		want := 0.0
		for i, v := range x {
			e := math.Exp(float64(v)*scale - shift)
			want += e
			if d := math.Abs(float64(o[i]) - e); d > 1e-6*e+1e-38 {
				t.Fatalf("n=%d: e^(%v*%v-%v) = %v, want %v", n, v, scale, shift, o[i], e)
			}
		}
		if math.Abs(sum-want) > 1e-6*want {
			t.Fatalf("n=%d: sum %v, want %v", n, sum, want)
		}
	}
}

// The dropout mask keeps about 1-p of the weights, differs between
// seeds and positions, and is the same on every call.
func TestAttentionDropoutHash(t *testing.T) {
	for _, p := range []float64{0.1, 0.5} {
		s := AttentionSpec{Dropout: p, Seed: 11}
		kept, n := 0, 0
		for b := 0; b < 4; b++ {
			for h := 0; h < 3; h++ {
				for i := 0; i < 20; i++ {
					for j := 0; j < 50; j++ {
						if s.Keeps(b, h, i, j) {
							kept++
						}
						n++
					}
				}
			}
		}
		if f := float64(kept) / float64(n); math.Abs(f-(1-p)) > 0.02 {
			t.Errorf("p=%v: kept %.3f of the weights", p, f)
		}
		m1 := AttentionDropoutMask(s, Float64, 2, 2, 3, 5)
		m2 := AttentionDropoutMask(s, Float64, 2, 2, 3, 5)
		s.Seed++
		m3 := AttentionDropoutMask(s, Float64, 2, 2, 3, 5)
		if MaxAbsDiff(m1, m2) != 0 || MaxAbsDiff(m1, m3) == 0 {
			t.Errorf("p=%v: the mask is not a fixed function of the seed", p)
		}
	}
}
