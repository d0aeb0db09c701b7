package tensor

import (
	"fmt"
	"testing"
)

// BenchmarkConvImplicit compares the implicit-gemm and im2col paths on
// conv4's 64-channel 3x3 layers, one goroutine: the forward pass and the
// two gradient passes, batch 5 (serving) and 25 (training).
//
//	go test -run XXX -bench ConvImplicit ./tensor
func BenchmarkConvImplicit(b *testing.B) {
	rng := newRNG()
	for _, hw := range []int{28, 14, 7} {
		for _, n := range []int{5, 25} {
			x := randT(rng, Float32, n, 64, hw, hw)
			w := randT(rng, Float32, 64, 64, 3, 3)
			gy := randT(rng, Float32, n, 64, hw, hw)
			passes := map[string]func(){
				"forward": func() { Recycle(Conv2d(x, w, 1, 1)) },
				"grads": func() {
					Recycle(Conv2dInputGrad(gy, w, x.Shape(), 1, 1))
					Recycle(Conv2dWeightGrad(x, gy, w.Shape(), 1, 1))
				},
			}
			for _, pass := range []string{"forward", "grads"} {
				for _, off := range []bool{false, true} {
					b.Run(fmt.Sprintf("%dx%d/n%d/%s/implicit=%v", hw, hw, n, pass, !off), func(b *testing.B) {
						defer func(v bool) { noImplicit = v }(noImplicit)
						noImplicit = off
						withThreads(1, func() {
							for i := 0; i < b.N; i++ {
								passes[pass]()
							}
						})
					})
				}
			}
		}
	}
}
