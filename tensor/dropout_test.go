package tensor

import (
	"math/rand/v2"
	"testing"
)

// TestDropoutAVX512Identical checks the AVX-512 Dropout loop against the
// scalar one bit for bit (sizes with and without a tail, sizes that split
// across workers, several probabilities and seeds).
func TestDropoutAVX512Identical(t *testing.T) {
	if !useAVX512Dropout {
		t.Skip("no AVX-512 DQ on this CPU (or purego): only the scalar loop exists")
	}
	defer func(v bool) { useAVX512Dropout = v }(useAVX512Dropout)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 15, 16, 17, 33, 100, 1000, 70001} {
		for _, p := range []float64{0, 0.1, 0.5, 0.9} {
			for _, seed := range []uint64{0, 7, 1 << 40} {
				x := RandN(rng, Float32, 1, n)
				useAVX512Dropout = false
				want := Dropout(x, p, seed)
				useAVX512Dropout = true
				got := Dropout(x, p, seed)
				for i := range want.f32 {
					if got.f32[i] != want.f32[i] {
						t.Fatalf("n=%d p=%v seed=%d: element %d is %v, scalar loop gives %v", n, p, seed, i, got.f32[i], want.f32[i])
					}
				}
			}
		}
	}
}
