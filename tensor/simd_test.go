package tensor

import (
	"math"
	"testing"
)

// The AVX2 row kernels agree with the portable loops on every length
// (blocks plus tails) and keep ReLU's NaN and signed-zero behaviour.
func TestRowKernelsSIMDMatchPortable(t *testing.T) {
	if !useSIMD {
		t.Skip("no AVX2/FMA kernels in this build or on this CPU")
	}
	rng := newRNG()
	for _, n := range []int{1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 100, 784} {
		x := RandN(rng, Float32, 1, n).f32
		y := RandN(rng, Float32, 1, n).f32
		x[0], y[n/2] = float32(math.NaN()), float32(math.Copysign(0, -1))
		if n > 2 {
			x[1] = float32(math.Copysign(0, -1))
		}
		var simd, port [8]float64
		var so, po [5][]float32
		run := func(res *[8]float64, outs *[5][]float32) {
			for i := range outs {
				outs[i] = make([]float32, n)
			}
			res[0] = rowSum(y)
			res[1] = rowDot(x[1:], y[1:]) + rowDot(y, y)
			res[2] = rowSqDev(y, 0.25)
			res[3], res[4] = rowSumDot(y, y, -0.5)
			rowAffine(outs[0], y, 1.5, -0.25)
			rowAffine2(outs[1], y, y, 1.5, -0.75, 0.5)
			reluInto(x, outs[2])
			maskPositive(y, x, outs[3])
			rowAffineRelu(outs[4], y, 1.5, -0.25)
		}
		run(&simd, &so)
		useSIMD = false
		run(&port, &po)
		useSIMD = true
		for i := range simd {
			if math.Abs(simd[i]-port[i]) > 1e-5*(1+math.Abs(port[i]))*float64(n) {
				t.Errorf("n=%d reduction %d: SIMD %v, portable %v", n, i, simd[i], port[i])
			}
		}
		for k := range so {
			for i := range so[k] {
				a, b := so[k][i], po[k][i]
				if math.Float32bits(a) != math.Float32bits(b) && math.Abs(float64(a-b)) > 1e-6*(1+math.Abs(float64(b))) {
					t.Fatalf("n=%d output %d element %d: SIMD %v, portable %v", n, k, i, a, b)
				}
			}
		}
		// ReLU: NaN -> 0 and -0 -> +0, bit for bit.
		if math.Float32bits(so[2][0]) != 0 || (n > 2 && math.Float32bits(so[2][1]) != 0) {
			t.Fatalf("n=%d: relu(NaN), relu(-0) = %v, %v", n, so[2][0], so[2][1])
		}
	}
}
