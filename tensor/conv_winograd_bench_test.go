package tensor

import (
	"fmt"
	"testing"
)

// BenchmarkConvWinograd compares the Winograd path with the implicit and
// im2col paths on conv4's 64-channel 3x3 layers (14x14, 7x7, 3x3 planes),
// one goroutine: the forward pass and both gradients, batch 5 (an
// inner step on the support set, serving) and 75 (a MAML query set).
// GFLOP/s counts the direct convolution's flops on both paths.
//
//	go test -run XXX -bench ConvWinograd ./tensor
func BenchmarkConvWinograd(b *testing.B) {
	if !useWinograd {
		b.Skip("no AVX-512: the Winograd path is off")
	}
	rng := newRNG()
	for _, hw := range []int{14, 7, 3} {
		for _, n := range []int{5, 75} {
			x := randT(rng, Float32, n, 64, hw, hw)
			w := randT(rng, Float32, 64, 64, 3, 3)
			gy := randT(rng, Float32, n, 64, hw, hw)
			passes := map[string]func(){
				"forward":    func() { Recycle(Conv2d(x, w, 1, 1)) },
				"inputgrad":  func() { Recycle(Conv2dInputGrad(gy, w, x.Shape(), 1, 1)) },
				"weightgrad": func() { Recycle(Conv2dWeightGrad(x, gy, w.Shape(), 1, 1)) },
			}
			for _, pass := range []string{"forward", "inputgrad", "weightgrad"} {
				for _, off := range []bool{false, true} {
					b.Run(fmt.Sprintf("%dx%d/n%d/%s/winograd=%v", hw, hw, n, pass, !off), func(b *testing.B) {
						defer func(v bool) { noWinograd = v }(noWinograd)
						noWinograd = off
						withThreads(1, func() {
							for i := 0; i < b.N; i++ {
								passes[pass]()
							}
						})
						flops := 2.0 * float64(n*64*64*9*hw*hw)
						b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}
