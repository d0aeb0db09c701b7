package tensor

import (
	"math"
	"math/rand/v2"
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

// The AVX-512 sigmoid agrees with the float64 formula to a few float32
// ulps over the whole range (subnormal results included), keeps NaN, and
// the scalar tail takes the elements after the last 16.
func TestSigmoidF32Vector(t *testing.T) {
	if !useAVX512Exp {
		t.Skip("no AVX-512 on this CPU: the portable loop is covered by TestUnary")
	}
	rng := rand.New(rand.NewPCG(9, 9))
	xs := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 20, -20, 87, -87, 88, -88, 89, -89,
		103, -103, 104, -104, 150, -150, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-8, -1e-8}
	for len(xs) < 100_003 { // not a multiple of 16: a scalar tail
		v := float32(rng.NormFloat64() * 8)
		if len(xs)%5 == 0 {
			v = float32(-110 * rng.Float64())
		}
		xs = append(xs, v)
	}
	got := Sigmoid(FromFloat32(xs, len(xs))).F32()
	worst := 0.0
	for i, x := range xs {
		f := float64(x)
		want := 1 / (1 + math.Exp(-f))
		if f < 0 {
			want = math.Exp(f) / (1 + math.Exp(f))
		}
		g := float64(got[i])
		switch {
		case math.IsNaN(f):
			if !math.IsNaN(g) {
				t.Errorf("sigmoid(NaN) = %v", g)
			}
		case want < 0x1p-126: // subnormal float32: absolute error
			if math.Abs(g-want) > 0x1p-148 {
				t.Errorf("sigmoid(%v) = %v, want %v", x, g, want)
			}
		default:
			rel := math.Abs(g-want) / want
			worst = max(worst, rel)
			if rel > 3e-7 {
				t.Errorf("sigmoid(%v) = %v, want %v (relative error %.2g)", x, g, want, rel)
			}
		}
	}
	t.Logf("largest relative error %.3g", worst)
}
