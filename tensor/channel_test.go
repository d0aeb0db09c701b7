package tensor

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// Naive float64 references for the per-channel kernels.

func refChannel(shape []int, f func(n, c, i int) float64) []float64 {
	outer, c, inner := channelLayout("ref", shape)
	out := make([]float64, c)
	for ch := 0; ch < c; ch++ {
		for n := 0; n < outer; n++ {
			for i := 0; i < inner; i++ {
				out[ch] += f(n, ch, i)
			}
		}
	}
	return out
}

func at(t *Tensor, n, c, i int) float64 {
	_, C, inner := channelLayout("at", t.shape)
	return t.Flat((n*C+c)*inner + i)
}

func TestChannelKernels(t *testing.T) {
	for _, dt := range dtypes {
		for _, shape := range [][]int{{3, 4}, {2, 3, 5}, {4, 3, 7, 6}, {1, 1, 1, 1}} {
			rng := newRNG()
			a, b := randT(rng, dt, shape...), randT(rng, dt, shape...)
			c := shape[1]
			tol := 64 * eps(dt)
			checkValues(t, "ChannelSum", ChannelSum(a), []int{c}, refChannel(shape, func(n, ch, i int) float64 { return at(a, n, ch, i) }), tol, tol)
			checkValues(t, "ChannelDot", ChannelDot(a, b), []int{c}, refChannel(shape, func(n, ch, i int) float64 { return at(a, n, ch, i) * at(b, n, ch, i) }), tol, tol)
			s, u := randT(rng, dt, c), randT(rng, dt, c)
			got := ChannelCombine(shape, []*Tensor{a, b, a}, []*Tensor{s, nil, u}, u)
			want := make([]float64, a.Len())
			for k := range want {
				ch := unravel(k, shape)[1]
				want[k] = s.Flat(ch)*a.Flat(k) + b.Flat(k) + u.Flat(ch)*a.Flat(k) + u.Flat(ch)
			}
			checkValues(t, "ChannelCombine", got, shape, want, tol, tol)
			bc := ChannelCombine(shape, nil, nil, u)
			for k := range want {
				want[k] = u.Flat(unravel(k, shape)[1])
			}
			checkExact(t, "ChannelCombine/broadcast", bc, shape, want)

			// batch norm statistics, forward and backward against the formulas
			m := float64(a.Len() / c)
			mean, v := BatchNormStats(a)
			rmean := refChannel(shape, func(n, ch, i int) float64 { return at(a, n, ch, i) / m })
			rvar := refChannel(shape, func(n, ch, i int) float64 { d := at(a, n, ch, i) - rmean[ch]; return d * d / m })
			for ch := 0; ch < c; ch++ {
				if !closeTo(mean[ch], rmean[ch], tol, tol) || !closeTo(v[ch], rvar[ch], tol, tol) {
					t.Fatalf("%v %v BatchNormStats channel %d: %v %v, want %v %v", dt, shape, ch, mean[ch], v[ch], rmean[ch], rvar[ch])
				}
			}
			r := InvStd(v, 1e-5)
			y := BatchNormApply(a, mean, r, s, u)
			xhat := make([]float64, a.Len())
			for k := range want {
				ch := unravel(k, shape)[1]
				xhat[k] = (a.Flat(k) - mean[ch]) * r[ch]
				want[k] = xhat[k]*s.Flat(ch) + u.Flat(ch)
			}
			checkValues(t, "BatchNormApply", y, shape, want, 1e3*tol, 1e3*tol)
			g := b
			dx, dg, db := BatchNormBackward(g, a, mean, r, s)
			sg := refChannel(shape, func(n, ch, i int) float64 { return at(g, n, ch, i) })
			sgx := make([]float64, c)
			for k := range xhat {
				sgx[unravel(k, shape)[1]] += g.Flat(k) * xhat[k]
			}
			checkValues(t, "BatchNormBackward/dbeta", db, []int{c}, sg, 1e3*tol, 1e3*tol)
			checkValues(t, "BatchNormBackward/dgamma", dg, []int{c}, sgx, 1e3*tol, 1e3*tol)
			for k := range want {
				ch := unravel(k, shape)[1]
				want[k] = s.Flat(ch) * r[ch] * (g.Flat(k) - sg[ch]/m - xhat[k]*sgx[ch]/m)
			}
			checkValues(t, "BatchNormBackward/dx", dx, shape, want, 1e3*tol, 1e3*tol)
		}
	}
}

func TestReluBackwardAndBroadcastTo(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		g, y := randT(rng, dt, 3, 5), Relu(randT(rng, dt, 3, 5))
		want := make([]float64, g.Len())
		for i := range want {
			if y.Flat(i) > 0 {
				want[i] = g.Flat(i)
			}
		}
		checkExact(t, "ReluBackward", ReluBackward(g, y), []int{3, 5}, want)
		x := randT(rng, dt, 3, 1, 2)
		b := BroadcastTo(x, []int{2, 3, 4, 2})
		want = make([]float64, b.Len())
		for k := range want {
			want[k] = x.Flat(bcastFlat(unravel(k, []int{2, 3, 4, 2}), x.shape))
		}
		checkExact(t, "BroadcastTo", b, []int{2, 3, 4, 2}, want)
	}
}

func TestMaxPoolInt32AndConvBias(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		x := randT(rng, dt, 2, 3, 6, 5)
		for _, win := range [][3]int{{2, 2, 0}, {3, 2, 1}} {
			v1, i1 := MaxPool2d(x, win[0], win[1], win[2])
			v2, i2 := MaxPool2dInt32(x, win[0], win[1], win[2])
			checkExact(t, "MaxPool2dInt32", v2, v1.shape, v1.Values())
			for k := range i1 {
				if int(i2[k]) != i1[k] {
					t.Fatalf("MaxPool2dInt32 index %d: %d vs %d", k, i2[k], i1[k])
				}
			}
			g := randT(rng, dt, v1.shape...)
			ref := ScatterAddFlat(g, i1, x.shape)
			checkExact(t, "MaxPool2dBackward", MaxPool2dBackward(g, i2, x.shape), x.shape, ref.Values())
			checkExact(t, "ScatterAddFlatInt32", ScatterAddFlatInt32(g, i2, x.shape), x.shape, ref.Values())
			checkExact(t, "TakeFlatInt32", TakeFlatInt32(x, i2, v1.shape), v1.shape, v1.Values())
		}
		w, bias := randT(rng, dt, 4, 3, 3, 3), randT(rng, dt, 4)
		y := Conv2dBias(x, w, bias, 1, 1)
		ref := Add(Conv2d(x, w, 1, 1), Reshape(bias, 1, 4, 1, 1))
		checkExact(t, "Conv2dBias", y, ref.shape, ref.Values())
	}
}

func TestSumKeptMiddleAndMaxAxes(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		shape := []int{3, 4, 2, 5}
		x := randT(rng, dt, shape...)
		for _, axes := range [][]int{{0, 2, 3}, {0, 3}, {0, 1, 3}, {0, 2}} {
			got := Sum(x, false, axes...)
			want := make([]float64, got.Len())
			for k := 0; k < x.Len(); k++ {
				var idx, oshape []int
				for d, v := range unravel(k, shape) {
					if !containsInt(axes, d) {
						idx = append(idx, v)
						oshape = append(oshape, shape[d])
					}
				}
				want[ravel(idx, oshape)] += x.Flat(k)
			}
			checkValues(t, "Sum/kept-middle", got, got.shape, want, 64*eps(dt), 64*eps(dt))
			m, idx := Max(x, true, axes...)
			for k := 0; k < m.Len(); k++ {
				if x.Flat(idx[k]) != m.Flat(k) {
					t.Fatalf("Max over %v: index %d gives %v, max %v", axes, idx[k], x.Flat(idx[k]), m.Flat(k))
				}
			}
		}
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// The fused BatchNorm+ReLU+2x2 max-pool equals BatchNormApplyReLU followed
// by MaxPool2dInt32 exactly (values and indices), and its backward equals
// MaxPool2dBackward followed by BatchNormReLUBackward exactly, for
// both dtypes, odd sizes (a dropped row and column) and planes long enough
// for the SIMD paths.
func TestBatchNormReLUMaxPool2(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, dt := range []DType{Float32, Float64} {
		for _, s := range [][]int{{2, 3, 4, 4}, {2, 3, 7, 7}, {3, 5, 28, 28}, {1, 2, 3, 2}} {
			c := s[1]
			x := RandN(rng, dt, 1, s...)
			mean, variance := BatchNormStats(x)
			rstd := InvStd(variance, 1e-5)
			gamma := RandN(rng, dt, 1, c) // negative scales too
			beta := RandN(rng, dt, 0.5, c)
			y := BatchNormApplyReLU(x, mean, rstd, gamma, beta)
			want, wantIdx := MaxPool2dInt32(y, 2, 2, 0)
			got, idx := BatchNormReLUMaxPool2(x, mean, rstd, gamma, beta)
			name := fmt.Sprintf("%v %v", dt, s)
			checkExact(t, name+" values", got, want.Shape(), want.Values())
			if !slices.Equal(idx, wantIdx) {
				t.Fatalf("%s: indices differ", name)
			}
			g := RandN(rng, dt, 1, got.Shape()...)
			dx, dgamma, dbeta := BatchNormReLUMaxPool2Backward(g, got, idx, x, mean, rstd, gamma)
			wdx, wdgamma, wdbeta := BatchNormReLUBackward(MaxPool2dBackward(g, idx, x.Shape()), y, x, mean, rstd, gamma)
			checkExact(t, name+" dx", dx, wdx.Shape(), wdx.Values())
			checkExact(t, name+" dgamma", dgamma, wdgamma.Shape(), wdgamma.Values())
			checkExact(t, name+" dbeta", dbeta, wdbeta.Shape(), wdbeta.Values())
		}
	}
}
