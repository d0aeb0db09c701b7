package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Kernels that take recycled storage without zeroing it (newDirty) must
// write every element: with the pools filled with NaN first, their
// results must equal those computed into fresh memory.
func TestDirtyOutputsAreFullyWritten(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	x := RandN(rng, Float32, 1, 3, 4, 30, 30) // 10,800: below the threshold per image, above in total
	big := RandN(rng, Float32, 1, 6, 4, 30, 30)
	w := RandN(rng, Float32, 1, 8, 4, 3, 3)
	b := RandN(rng, Float32, 1, 8)
	row := RandN(rng, Float32, 1, 1, 4, 1, 30)
	scale, shift := RandN(rng, Float32, 1, 4), RandN(rng, Float32, 1, 4)
	x8, w8 := RandN(rng, Float32, 1, 4, 8, 16, 16), RandN(rng, Float32, 1, 8, 8, 3, 3)
	for _, dt := range []DType{Float32, Float64} {
		ops := map[string]func() *Tensor{
			"Conv2d":         func() *Tensor { return Conv2d(big.AsType(dt), w.AsType(dt), 1, 1) },
			"Conv2dBias":     func() *Tensor { return Conv2dBias(big.AsType(dt), w.AsType(dt), b.AsType(dt), 1, 1) },
			"Add same shape": func() *Tensor { return Add(big.AsType(dt), big.AsType(dt)) },
			"Mul broadcast":  func() *Tensor { return Mul(big.AsType(dt), row.AsType(dt)) },
			"Exp":            func() *Tensor { return Exp(big.AsType(dt)) },
			"Relu":           func() *Tensor { return Relu(big.AsType(dt)) },
			"ChannelCombine": func() *Tensor {
				return ChannelCombine(big.Shape(), []*Tensor{big.AsType(dt), big.AsType(dt)}, []*Tensor{scale.AsType(dt), nil}, shift.AsType(dt))
			},
			"Add small":       func() *Tensor { return Add(x.AsType(dt), x.AsType(dt)) },
			"Conv2d implicit": func() *Tensor { return Conv2d(x8.AsType(dt), w8.AsType(dt), 1, 1) },
			"MaxPool2dInt32": func() *Tensor {
				v, _ := MaxPool2dInt32(big.AsType(dt), 2, 2, 0)
				return v
			},
			"MaxPool2dInt32 3x3": func() *Tensor {
				v, _ := MaxPool2dInt32(big.AsType(dt), 3, 2, 1)
				return v
			},
			"BatchNormReLUBackward": func() *Tensor {
				v, _, _ := BatchNormReLUBackward(big.AsType(dt), Relu(big.AsType(dt)), big.AsType(dt), make([]float64, 4), []float64{1, 2, 3, 4}, nil)
				return v
			},
		}
		for name, op := range ops {
			want := op()
			// poison the pool with buffers of every size the op allocates
			for i := 0; i < 4; i++ {
				p := Full(dt, math.NaN(), want.Shape()...)
				Recycle(p)
			}
			got := op()
			if got.HasNaNOrInf() || !AllClose(got, want, 0, 0) {
				t.Errorf("%s %v: result into recycled storage differs from fresh (unwritten elements)", name, dt)
			}
		}
	}
}
