package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/metalearn/metalearn/tensor"
)

// fans returns fan-in and fan-out of a weight shape [out, in, k...].
func fans(shape []int) (in, out int) {
	if len(shape) < 2 {
		panic(fmt.Sprintf("nn: fan computation needs rank >= 2, got %v", shape))
	}
	rf := 1
	for _, d := range shape[2:] {
		rf *= d
	}
	return shape[1] * rf, shape[0] * rf
}

// KaimingUniform fills a new float32 tensor with U(-b, b), b = gain*sqrt(3/fan_in)
// (He et al. 2015); gain sqrt(2) suits ReLU.
func KaimingUniform(rng *rand.Rand, gain float64, shape ...int) *tensor.Tensor {
	fin, _ := fans(shape)
	b := gain * math.Sqrt(3/float64(fin))
	return tensor.RandU(rng, tensor.Float32, -b, b, shape...)
}

// KaimingNormal fills a new float32 tensor with N(0, (gain/sqrt(fan_in))^2).
func KaimingNormal(rng *rand.Rand, gain float64, shape ...int) *tensor.Tensor {
	fin, _ := fans(shape)
	return tensor.RandN(rng, tensor.Float32, gain/math.Sqrt(float64(fin)), shape...)
}

// XavierUniform fills with U(-b, b), b = gain*sqrt(6/(fan_in+fan_out))
// (Glorot & Bengio 2010).
func XavierUniform(rng *rand.Rand, gain float64, shape ...int) *tensor.Tensor {
	fin, fout := fans(shape)
	b := gain * math.Sqrt(6/float64(fin+fout))
	return tensor.RandU(rng, tensor.Float32, -b, b, shape...)
}

// XavierNormal fills with N(0, gain^2 * 2/(fan_in+fan_out)).
func XavierNormal(rng *rand.Rand, gain float64, shape ...int) *tensor.Tensor {
	fin, fout := fans(shape)
	return tensor.RandN(rng, tensor.Float32, gain*math.Sqrt(2/float64(fin+fout)), shape...)
}
