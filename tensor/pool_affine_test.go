package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// AffineReLUMaxPool2 equals max-pooling relu(scale*x + shift) computed
// naively, with and without the AVX2 kernel, for even and odd sizes and
// negative scales (where the window's minimum of x wins).
func TestAffineReLUMaxPool2(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for _, s := range [][4]int{{2, 3, 28, 28}, {1, 2, 14, 14}, {3, 2, 7, 7}, {1, 1, 3, 35}, {2, 2, 5, 17}, {1, 1, 1, 4}} {
		x := RandN(rng, Float32, 1, s[:]...)
		scale, shift := make([]float32, s[1]), make([]float32, s[1])
		for i := range scale {
			scale[i], shift[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		for _, simd := range []bool{false, true} {
			old := useSIMD
			useSIMD = simd && old
			got := AffineReLUMaxPool2(x, scale, shift)
			useSIMD = old
			oh, ow := s[2]/2, s[3]/2
			if g := got.Shape(); g[2] != oh || g[3] != ow {
				t.Fatalf("%v: shape %v", s, g)
			}
			for n := 0; n < s[0]; n++ {
				for c := 0; c < s[1]; c++ {
					for i := 0; i < oh; i++ {
						for j := 0; j < ow; j++ {
							want := 0.0
							for di := 0; di < 2; di++ {
								for dj := 0; dj < 2; dj++ {
									v := float64(scale[c])*x.At(n, c, 2*i+di, 2*j+dj) + float64(shift[c])
									want = math.Max(want, v)
								}
							}
							if g := got.At(n, c, i, j); math.Abs(g-want) > 1e-6*(1+math.Abs(want)) {
								t.Fatalf("%v simd=%v: out[%d,%d,%d,%d] = %v, want %v", s, simd, n, c, i, j, g, want)
							}
						}
					}
				}
			}
		}
	}
}
