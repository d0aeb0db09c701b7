package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// AffineReLUMaxPool2 equals max-pooling relu(scale*x + shift) computed
// naively, with the portable, AVX2 and AVX-512 kernels, for even and odd sizes and
// negative scales (where the window's minimum of x wins).
func TestAffineReLUMaxPool2(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	defer func(s, p bool) { useSIMD, useAVX512Pool = s, p }(useSIMD, useAVX512Pool)
	simd0, avx5120 := useSIMD, useAVX512Pool
	for _, s := range [][4]int{{2, 3, 28, 28}, {1, 2, 14, 14}, {3, 2, 7, 7}, {1, 1, 3, 35}, {2, 2, 5, 17}, {1, 1, 1, 4}, {1, 2, 4, 66}, {1, 1, 2, 32}} {
		x := RandN(rng, Float32, 1, s[:]...)
		scale, shift := make([]float32, s[1]), make([]float32, s[1])
		for i := range scale {
			scale[i], shift[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		// kernel 0: portable, 1: AVX2, 2: AVX-512 (where the CPU has them)
		for simd := 0; simd < 3; simd++ {
			useSIMD, useAVX512Pool = simd >= 1 && simd0, simd == 2 && avx5120
			got := AffineReLUMaxPool2(x, scale, shift)
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

// The AVX2 2x2 max-pool (float32, int32 indices, rows of >= 8 outputs)
// agrees with the scalar kernel (int indices) on values and indices,
// including ties (first maximum wins) and NaNs (a NaN wins).
func TestMaxPool2x2SIMDMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	// row lengths (outputs) 20, 14, 8, 7, 33, 16, 1, 15: full AVX-512 and
	// AVX2 blocks, masked and scalar tails
	shapes := [][4]int{{2, 3, 6, 40}, {1, 2, 28, 28}, {1, 1, 4, 17}, {3, 2, 14, 14}, {1, 2, 6, 66}, {2, 2, 8, 32}, {1, 1, 4, 2}, {1, 1, 3, 31}}
	avx512 := []bool{useAVX512Pool}
	if useAVX512Pool {
		avx512 = append(avx512, false) // the AVX2 kernel too
	}
	defer func(v bool) { useAVX512Pool = v }(useAVX512Pool)
	for _, on := range avx512 {
		useAVX512Pool = on
		testMaxPool2x2Int32(t, rng, shapes)
	}
}

func testMaxPool2x2Int32(t *testing.T, rng *rand.Rand, shapes [][4]int) {
	for _, s := range shapes {
		x := New(Float32, s[:]...)
		for i := range x.f32 {
			switch r := rng.IntN(20); {
			case r == 0:
				x.f32[i] = float32(math.NaN())
			default:
				x.f32[i] = float32(rng.IntN(4)) // many ties
			}
		}
		v1, i1 := MaxPool2d(x, 2, 2, 0)
		v2, i2 := MaxPool2dInt32(x, 2, 2, 0)
		for k := range i1 {
			a, b := v1.f32[k], v2.f32[k]
			if int(i2[k]) != i1[k] || (a != b && !(a != a && b != b)) {
				t.Fatalf("%v (AVX-512 %v): output %d: int32 path (%v at %d), int path (%v at %d)", s, useAVX512Pool, k, b, i2[k], a, i1[k])
			}
		}
	}
}
