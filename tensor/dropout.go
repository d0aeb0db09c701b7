package tensor

import "fmt"

// Dropout returns x with each element zeroed with probability p and the
// rest scaled by 1/(1-p), in one pass and without a mask tensor: element
// i is kept when a hash of (seed, i) (SplitMix64's finaliser), read as a
// uniform number in [0, 1), is at least p. The same seed gives the same
// mask for any x of the same size, so the backward pass is Dropout of the
// gradient with the same seed.
func Dropout(x *Tensor, p float64, seed uint64) *Tensor {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("tensor: Dropout: probability %v not in [0,1)", p))
	}
	out := newDirty(x.dtype, x.shape...)
	if x.dtype == Float32 {
		dropoutRun(x.f32, out.f32, p, seed)
	} else {
		dropoutRun(x.f64, out.f64, p, seed)
	}
	return out
}

func dropoutRun[T Float](x, o []T, p float64, seed uint64) {
	keep := T(1 / (1 - p))
	// keep when (hash >> 11) * 2^-53 >= p, i.e. hash >> 11 >= ceil(p 2^53)
	thr := uint64(p * (1 << 53))
	if float64(thr) < p*(1<<53) {
		thr++
	}
	base := mix64(seed)
	xf, of := asF32(x), asF32(o)
	parallelFor(len(x), len(x)*4, func(lo, hi int) {
		if xf != nil && useAVX512Dropout && hi-lo >= 16 {
			// the same test on 16 elements at a time (bit-identical)
			n := (hi - lo) &^ 15
			var z0 [16]uint64
			for j := range z0 {
				z0[j] = base + golden64*uint64(lo+j+1)
			}
			dropoutF32AVX512(&of[lo], &xf[lo], n, &z0, thr, float32(keep))
			lo += n
		}
		for i := lo; i < hi; i++ {
			if mix64(base+golden64*uint64(i+1))>>11 >= thr {
				o[i] = x[i] * keep
			} else {
				o[i] = 0
			}
		}
	})
}
