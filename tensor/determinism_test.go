package tensor

import (
	"math"
	"runtime"
	"testing"
)

// withProcs runs f with GOMAXPROCS and the kernel thread count set to p,
// and with the parallel thresholds lowered so that even these small test
// problems take the parallel paths.
func withProcs(p int, f func()) {
	oldProcs := runtime.GOMAXPROCS(p)
	oldThreads := SetThreads(p)
	oldMin, oldGemm := minParallelWork, gemmParallelMinWork
	minParallelWork, gemmParallelMinWork = 1, 1
	defer func() {
		runtime.GOMAXPROCS(oldProcs)
		SetThreads(oldThreads)
		minParallelWork, gemmParallelMinWork = oldMin, oldGemm
	}()
	f()
}

func bitsEqual(a, b *Tensor) bool {
	if !SameShape(a.shape, b.shape) || a.dtype != b.dtype {
		return false
	}
	for i := 0; i < a.Len(); i++ {
		if math.Float64bits(a.Flat(i)) != math.Float64bits(b.Flat(i)) {
			return false
		}
	}
	return true
}

// Every kernel that reduces in parallel (convolution weight gradients, the
// per-channel BatchNorm sums, axis sums, matrix products, softmax) must give
// bit-identical results for 1, 2 and 4 threads: the work is split into a
// number of parts fixed by the problem size, and partials are added in a
// fixed order.
func TestParallelReductionsDeterministic(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		x := RandN(rng, dt, 1, 25, 4, 14, 14)
		w := RandN(rng, dt, 0.2, 8, 4, 3, 3)
		gy := RandN(rng, dt, 1, 25, 8, 14, 14)
		a := RandN(rng, dt, 1, 150, 130)
		b := RandN(rng, dt, 1, 130, 140)
		gam := RandU(rng, dt, 0.5, 1.5, 8)
		bet := RandN(rng, dt, 1, 8)
		// 16 channels: the Winograd path where it runs (float32, AVX-512)
		xw := RandN(rng, dt, 1, 25, 16, 14, 14)
		ww := RandN(rng, dt, 0.2, 16, 16, 3, 3)
		gw := RandN(rng, dt, 1, 25, 16, 14, 14)
		run := func() []*Tensor {
			var out []*Tensor
			out = append(out, Conv2dWeightGrad(xw, gw, ww.shape, 1, 1), Conv2d(xw, ww, 1, 1), Conv2dInputGrad(gw, ww, xw.shape, 1, 1))
			out = append(out, Conv2dWeightGrad(x, gy, w.shape, 1, 1))
			out = append(out, Conv2dWeightGrad(Slice(x, 0, 0, 7), Slice(gy, 0, 0, 7), w.shape, 1, 1))
			out = append(out, Conv2d(x, w, 1, 1), Conv2dInputGrad(gy, w, x.shape, 1, 1))
			out = append(out, Conv2dBias(x, w, bet, 1, 1))
			out = append(out, ChannelSum(gy), ChannelDot(gy, gy))
			mean, v := BatchNormStats(gy)
			out = append(out, FromFloat64(mean, 8), FromFloat64(v, 8))
			r := InvStd(v, 1e-5)
			out = append(out, BatchNormApply(gy, mean, r, gam, bet))
			dx, dg, db := BatchNormBackward(Scale(gy, 0.5), gy, mean, r, gam)
			out = append(out, dx, dg, db)
			out = append(out, Sum(gy, false, 0, 2, 3), Sum(gy, true, 1), Sum(gy, false), Sum(gy, false, 1, 3))
			out = append(out, MatMul(a, b), Softmax(a, 1), LogSumExp(a, 0, false))
			m, _ := Max(gy, false, 0, 2)
			out = append(out, m)
			return out
		}
		var ref []*Tensor
		withProcs(1, func() { ref = run() })
		for _, p := range []int{2, 4} {
			var got []*Tensor
			withProcs(p, func() { got = run() })
			for i := range ref {
				if !bitsEqual(ref[i], got[i]) {
					t.Errorf("%v: result %d with %d threads differs from 1 thread (max |diff| %g)", dt, i, p, MaxAbsDiff(ref[i], got[i]))
				}
			}
		}
	}
}
