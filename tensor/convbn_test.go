package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The fused block equals the separate operations bit for bit: statistics,
// pooled values and indices, and every gradient, for both dtypes, with
// and without a bias and BatchNorm weights, odd sizes (a dropped pooling
// row and column), strides and padding, and 1 and 3 threads.
func TestConvBatchNormReLUMaxPool2(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	cases := []struct {
		n, c, h, w, o, k, stride, pad int
		bias, affine                  bool
	}{
		{3, 1, 28, 28, 8, 3, 1, 1, true, true}, // conv4's first block
		{4, 3, 10, 9, 5, 3, 1, 1, true, false},
		{2, 1, 12, 12, 4, 5, 2, 2, false, true},
		{9, 1, 9, 11, 3, 3, 1, 0, true, true},
	}
	for _, dt := range []DType{Float32, Float64} {
		for _, c := range cases {
			name := fmt.Sprintf("%v %+v", dt, c)
			x := RandN(rng, dt, 1, c.n, c.c, c.h, c.w)
			w := RandN(rng, dt, 0.5, c.o, c.c, c.k, c.k)
			var b, gamma, beta *Tensor
			if c.bias {
				b = RandN(rng, dt, 1, c.o)
			}
			if c.affine {
				gamma, beta = RandN(rng, dt, 1, c.o), RandN(rng, dt, 0.5, c.o)
			}
			if !ConvRecompute(x.Shape(), w.Shape(), c.stride, c.pad) {
				t.Fatalf("%s: does not qualify", name)
			}
			for _, th := range []int{1, 3} {
				withThreads(th, func() {
					z := Conv2dBias(x, w, b, c.stride, c.pad)
					wm, wv := BatchNormStats(z)
					m, v := ConvBatchNormStats(x, w, b, c.stride, c.pad)
					checkExact(t, name+" mean", FromFloat64(m, c.o), []int{c.o}, wm)
					checkExact(t, name+" variance", FromFloat64(v, c.o), []int{c.o}, wv)
					rstd := InvStd(v, 1e-5)
					want, wantIdx := BatchNormReLUMaxPool2(z, m, rstd, gamma, beta)
					got, idx := ConvBatchNormReLUMaxPool2(x, w, b, c.stride, c.pad, m, rstd, gamma, beta)
					checkExact(t, name+" values", got, want.Shape(), want.Values())
					for j := range idx {
						if idx[j] != wantIdx[j] {
							t.Fatalf("%s: index %d = %d, want %d", name, j, idx[j], wantIdx[j])
						}
					}
					g := RandN(rng, dt, 1, got.Shape()...)
					dz, wdg, wdb := BatchNormReLUMaxPool2Backward(g, want, wantIdx, z, m, rstd, gamma)
					wdx := Conv2dInputGrad(dz, w, x.Shape(), c.stride, c.pad)
					wdw := Conv2dWeightGrad(x, dz, w.Shape(), c.stride, c.pad)
					dx, dw, db, dg, dbt := ConvBatchNormReLUMaxPool2Backward(g, got, idx, x, w, b, c.stride, c.pad, m, rstd, gamma, true)
					checkExact(t, name+" dx", dx, wdx.Shape(), wdx.Values())
					checkExact(t, name+" dw", dw, wdw.Shape(), wdw.Values())
					checkExact(t, name+" dgamma", dg, wdg.Shape(), wdg.Values())
					checkExact(t, name+" dbeta", dbt, wdb.Shape(), wdb.Values())
					if c.bias {
						wb := ChannelSum(dz)
						checkExact(t, name+" db", db, wb.Shape(), wb.Values())
					} else if db != nil {
						t.Fatalf("%s: a bias gradient without a bias", name)
					}
					if dx2, _, _, _, _ := ConvBatchNormReLUMaxPool2Backward(g, got, idx, x, w, b, c.stride, c.pad, m, rstd, gamma, false); dx2 != nil {
						t.Fatalf("%s: an input gradient not asked for", name)
					}
				})
			}
		}
	}
}

func TestConvRecompute(t *testing.T) {
	for _, c := range []struct {
		x, w        []int
		stride, pad int
		want        bool
	}{
		{[]int{5, 1, 28, 28}, []int{64, 1, 3, 3}, 1, 1, true},
		{[]int{5, 3, 32, 32}, []int{64, 3, 3, 3}, 1, 1, true},  // an RGB stem: 27 values per output
		{[]int{5, 4, 28, 28}, []int{64, 4, 3, 3}, 1, 1, false}, // 36 > 32
		{[]int{5, 1, 6, 6}, []int{8, 1, 3, 3}, 2, 1, false},    // 3x3 output: batched path
		{[]int{5, 1, 28, 28}, []int{8, 2, 3, 3}, 1, 1, false},  // channel mismatch
		{[]int{5, 1, 2, 2}, []int{8, 1, 5, 5}, 1, 1, false},    // kernel larger than the padded input
	} {
		if got := ConvRecompute(c.x, c.w, c.stride, c.pad); got != c.want {
			t.Errorf("ConvRecompute(%v, %v, %d, %d) = %v, want %v", c.x, c.w, c.stride, c.pad, got, c.want)
		}
	}
}

func TestConvBatchNormPanics(t *testing.T) {
	x, w := New(Float32, 2, 1, 8, 8), New(Float32, 4, 1, 3, 3)
	m, r := make([]float64, 4), make([]float64, 4)
	mustPanic(t, "bias dtype", func() { ConvBatchNormStats(x, w, New(Float64, 4), 1, 1) }, "ConvBatchNormStats", "float")
	mustPanic(t, "bias length", func() { ConvBatchNormStats(x, w, New(Float32, 3), 1, 1) }, "ConvBatchNormStats", "bias")
	mustPanic(t, "not recomputable", func() { ConvBatchNormStats(New(Float32, 2, 4, 8, 8), New(Float32, 4, 4, 3, 3), nil, 1, 1) }, "ConvRecompute")
	mustPanic(t, "statistics", func() { ConvBatchNormReLUMaxPool2(x, w, nil, 1, 1, m[:3], r, nil, nil) }, "statistics")
	out, idx := ConvBatchNormReLUMaxPool2(x, w, nil, 1, 1, m, r, nil, nil)
	mustPanic(t, "gradient shape", func() {
		ConvBatchNormReLUMaxPool2Backward(New(Float32, 2, 4, 3, 3), out, idx, x, w, nil, 1, 1, m, r, nil, false)
	}, "gradient")
}
