package tensor

import "testing"

// reportGFLOPS reports the rate of a benchmark doing flops per iteration.
func reportGFLOPS(b *testing.B, flops float64) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(flops*float64(b.N)/s/1e9, "GFLOP/s")
	}
}

func benchGemm(b *testing.B, dt DType, m, n, k int) {
	rng := newRNG()
	a := randT(rng, dt, m, k)
	w := randT(rng, dt, k, n)
	c := New(dt, m, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Gemm(false, false, m, n, k, 1, a, w, 0, c)
	}
	reportGFLOPS(b, 2*float64(m)*float64(n)*float64(k))
}

// BenchmarkSgemm512 is a 512x512x512 float32 product.
func BenchmarkSgemm512(b *testing.B) { benchGemm(b, Float32, 512, 512, 512) }

// BenchmarkDgemm512 is a 512x512x512 float64 product.
func BenchmarkDgemm512(b *testing.B) { benchGemm(b, Float64, 512, 512, 512) }

// BenchmarkSgemm10x40x40 is a small product typical of a meta-learning
// inner loop: a batch of 10 rows through a 40x40 layer.
func BenchmarkSgemm10x40x40(b *testing.B) { benchGemm(b, Float32, 10, 40, 40) }

// BenchmarkMatMul10x40x40 is the same through MatMul (allocating the result).
func BenchmarkMatMul10x40x40(b *testing.B) {
	rng := newRNG()
	a := randT(rng, Float32, 10, 40)
	w := randT(rng, Float32, 40, 40)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		MatMul(a, w)
	}
	reportGFLOPS(b, 2*10*40*40)
}

// Conv benchmark geometry: batch 25, 64->64 channels, 14x14, 3x3, pad 1.
const (
	cbN, cbC, cbH, cbW, cbO, cbK = 25, 64, 14, 14, 64, 3
	cbFlops                      = 2.0 * cbN * cbO * cbC * cbK * cbK * cbH * cbW
)

func convBenchData() (x, w, gy *Tensor) {
	rng := newRNG()
	x = randT(rng, Float32, cbN, cbC, cbH, cbW)
	w = randT(rng, Float32, cbO, cbC, cbK, cbK)
	gy = randT(rng, Float32, cbN, cbO, cbH, cbW)
	return
}

func BenchmarkConv2d(b *testing.B) {
	x, w, _ := convBenchData()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Conv2d(x, w, 1, 1)
	}
	reportGFLOPS(b, cbFlops)
}

func BenchmarkConv2dInputGrad(b *testing.B) {
	x, w, gy := convBenchData()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Conv2dInputGrad(gy, w, x.Shape(), 1, 1)
	}
	reportGFLOPS(b, cbFlops)
}

func BenchmarkConv2dWeightGrad(b *testing.B) {
	x, w, gy := convBenchData()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Conv2dWeightGrad(x, gy, w.Shape(), 1, 1)
	}
	reportGFLOPS(b, cbFlops)
}

func BenchmarkSoftmax(b *testing.B) {
	x := randT(newRNG(), Float32, 256, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Softmax(x, 1)
	}
}

func BenchmarkAddBroadcast(b *testing.B) {
	rng := newRNG()
	x := randT(rng, Float32, 256, 1024)
	bias := randT(rng, Float32, 1024)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Add(x, bias)
	}
}

// BenchmarkSgemm512Threads1 is BenchmarkSgemm512 on one thread.
func BenchmarkSgemm512Threads1(b *testing.B) {
	withThreads(1, func() { benchGemm(b, Float32, 512, 512, 512) })
}

// BenchmarkDgemm512Threads1 is BenchmarkDgemm512 on one thread.
func BenchmarkDgemm512Threads1(b *testing.B) {
	withThreads(1, func() { benchGemm(b, Float64, 512, 512, 512) })
}
