package tensor

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkDropout is Dropout over one 1536x1024 activation (the
// feed-forward of mt_small_train_step), scalar and AVX-512 loops.
func BenchmarkDropout(b *testing.B) {
	x := RandN(rand.New(rand.NewPCG(1, 1)), Float32, 1, 1536, 1024)
	for _, vec := range []bool{false, useAVX512Dropout} {
		name := "scalar"
		if vec {
			name = "avx512"
		}
		b.Run(name, func(b *testing.B) {
			defer func(v bool) { useAVX512Dropout = v }(useAVX512Dropout)
			useAVX512Dropout = vec
			for b.Loop() {
				Dropout(x, 0.1, 5)
			}
		})
	}
}
