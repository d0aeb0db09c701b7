package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

type convCase struct {
	n, c, h, w, o, kh, kw, stride, pad int
}

func (cc convCase) String() string {
	return fmt.Sprintf("N%d C%d %dx%d O%d K%dx%d s%d p%d", cc.n, cc.c, cc.h, cc.w, cc.o, cc.kh, cc.kw, cc.stride, cc.pad)
}

func (cc convCase) out() (oh, ow int) {
	return (cc.h+2*cc.pad-cc.kh)/cc.stride + 1, (cc.w+2*cc.pad-cc.kw)/cc.stride + 1
}

var convCases = []convCase{
	{1, 1, 5, 5, 1, 3, 3, 1, 0},
	{2, 3, 7, 6, 4, 3, 3, 1, 1},
	{2, 2, 9, 7, 3, 3, 3, 2, 1},
	{2, 2, 8, 8, 3, 3, 3, 2, 0},
	{3, 4, 8, 8, 5, 1, 1, 1, 0},
	{1, 2, 6, 10, 2, 5, 5, 2, 2},
	{2, 3, 5, 7, 2, 2, 2, 3, 0},
	{2, 3, 6, 5, 4, 3, 2, 1, 1}, // non-square kernel
	{1, 2, 3, 3, 3, 5, 5, 1, 1}, // kernel equals the padded input: 1x1 output
	{1, 1, 1, 1, 1, 1, 1, 1, 0},
	{2, 2, 4, 4, 2, 3, 3, 1, 3},     // padding larger than needed
	{8, 16, 14, 14, 32, 3, 3, 1, 1}, // parallel path
	{1, 2, 6, 5, 3, 5, 3, 1, 1},     // output as wide as the input, not as tall
	{1, 2, 5, 1, 2, 3, 3, 1, 1},     // one column wide
	{2, 3, 4, 6, 2, 1, 5, 1, 2},     // 1x5 kernel, shifts of up to 2 columns
	{25, 4, 7, 7, 8, 3, 3, 1, 1},    // conv4 layer 3 shape
	{5, 8, 3, 3, 16, 3, 3, 1, 1},    // conv4 layer 4 shape: 9 outputs per image
	{3, 1, 12, 12, 16, 3, 3, 1, 1},  // one input channel (conv4's first layer): im2col transposed for the weight gradient
	// implicit gemm (stride 1, >= 8 channels; forward from 7x7 outputs, gradients from 14x14)
	{3, 8, 12, 14, 5, 3, 5, 1, 2},  // non-square kernel and padding 2
	{1, 9, 16, 16, 3, 3, 3, 1, 0},  // no padding
	{1, 8, 12, 12, 3, 3, 3, 1, 2},  // padding = kernel - 1
	{2, 8, 14, 14, 2, 5, 5, 1, 2},  // 5x5 kernel
	{2, 8, 14, 14, 4, 1, 1, 1, 0},  // 1x1 kernel
	{2, 10, 16, 16, 7, 2, 4, 1, 1}, // even kernel sizes
	{3, 8, 9, 8, 6, 3, 3, 1, 1},    // forward only
	{1, 8, 14, 14, 3, 3, 3, 1, 3},  // padding >= kernel: im2col
	// Winograd F(2x2, 3x3) (float32 on AVX-512: 3x3, stride 1, padding 1,
	// >= 16 channels both sides, planes 3-14 wide, >= 3 high)
	{3, 16, 14, 14, 16, 3, 3, 1, 1}, // conv4 layer 2 shape, small
	{2, 17, 7, 9, 20, 3, 3, 1, 1},   // odd sides: a half tile in each direction
	{3, 16, 20, 6, 18, 3, 3, 1, 1},  // taller than wide, the narrowest plane
	{40, 16, 7, 7, 16, 3, 3, 1, 1},  // 13 images per tile group: a short last group
	{2, 16, 13, 14, 16, 3, 3, 1, 2}, // padding 2: not Winograd
}

// refConv2d is the direct 7-loop cross-correlation, with scale = sum |x w|.
func refConv2d(cc convCase, x, w []float64) (y, scale []float64) {
	oh, ow := cc.out()
	y = make([]float64, cc.n*cc.o*oh*ow)
	scale = make([]float64, len(y))
	for n := 0; n < cc.n; n++ {
		for o := 0; o < cc.o; o++ {
			for oi := 0; oi < oh; oi++ {
				for oj := 0; oj < ow; oj++ {
					s, sa := 0.0, 0.0
					for c := 0; c < cc.c; c++ {
						for ki := 0; ki < cc.kh; ki++ {
							for kj := 0; kj < cc.kw; kj++ {
								ii := oi*cc.stride - cc.pad + ki
								jj := oj*cc.stride - cc.pad + kj
								if ii < 0 || ii >= cc.h || jj < 0 || jj >= cc.w {
									continue
								}
								p := x[((n*cc.c+c)*cc.h+ii)*cc.w+jj] * w[((o*cc.c+c)*cc.kh+ki)*cc.kw+kj]
								s += p
								sa += math.Abs(p)
							}
						}
					}
					k := ((n*cc.o+o)*oh+oi)*ow + oj
					y[k], scale[k] = s, sa
				}
			}
		}
	}
	return
}

// refConvGrads computes dL/dx and dL/dw of <y, gy> directly from the
// definition by scattering every product term, with error scales.
func refConvGrads(cc convCase, x, w, gy []float64) (gx, gxs, gw, gws []float64) {
	oh, ow := cc.out()
	gx = make([]float64, len(x))
	gxs = make([]float64, len(x))
	gw = make([]float64, len(w))
	gws = make([]float64, len(w))
	for n := 0; n < cc.n; n++ {
		for o := 0; o < cc.o; o++ {
			for oi := 0; oi < oh; oi++ {
				for oj := 0; oj < ow; oj++ {
					g := gy[((n*cc.o+o)*oh+oi)*ow+oj]
					for c := 0; c < cc.c; c++ {
						for ki := 0; ki < cc.kh; ki++ {
							for kj := 0; kj < cc.kw; kj++ {
								ii := oi*cc.stride - cc.pad + ki
								jj := oj*cc.stride - cc.pad + kj
								if ii < 0 || ii >= cc.h || jj < 0 || jj >= cc.w {
									continue
								}
								xi := ((n*cc.c+c)*cc.h+ii)*cc.w + jj
								wi := ((o*cc.c+c)*cc.kh+ki)*cc.kw + kj
								gx[xi] += g * w[wi]
								gxs[xi] += math.Abs(g * w[wi])
								gw[wi] += g * x[xi]
								gws[wi] += math.Abs(g * x[xi])
							}
						}
					}
				}
			}
		}
	}
	return
}

func TestConv2d(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		for _, cc := range convCases {
			xs := []int{cc.n, cc.c, cc.h, cc.w}
			ws := []int{cc.o, cc.c, cc.kh, cc.kw}
			oh, ow := cc.out()
			ys := []int{cc.n, cc.o, oh, ow}
			if oh2, ow2 := ConvOutSize(cc.h, cc.kh, cc.stride, cc.pad), ConvOutSize(cc.w, cc.kw, cc.stride, cc.pad); oh2 != oh || ow2 != ow {
				t.Errorf("ConvOutSize %v = %dx%d, want %dx%d", cc, oh2, ow2, oh, ow)
			}
			x := randT(rng, dt, xs...)
			w := randT(rng, dt, ws...)
			gy := randT(rng, dt, ys...)
			x0, w0, gy0 := x.Values(), w.Values(), gy.Values()
			wantY, ys0 := refConv2d(cc, x0, w0)
			wantGX, gxs, wantGW, gws := refConvGrads(cc, x0, w0, gy0)
			name := fmt.Sprintf("%v %v", dt, cc)
			for _, th := range []int{1, 3} {
				withThreads(th, func() {
					tn := fmt.Sprintf("%s threads=%d", name, th)
					y := Conv2d(x, w, cc.stride, cc.pad)
					checkDType(t, "Conv2d", y, dt)
					checkScaled(t, "Conv2d "+tn, y, ys, wantY, ys0, matTol(dt))
					gx := Conv2dInputGrad(gy, w, xs, cc.stride, cc.pad)
					checkScaled(t, "Conv2dInputGrad "+tn, gx, xs, wantGX, gxs, matTol(dt))
					gw := Conv2dWeightGrad(x, gy, ws, cc.stride, cc.pad)
					checkScaled(t, "Conv2dWeightGrad "+tn, gw, ws, wantGW, gws, matTol(dt))
					// <Conv2d(x,w), gy> == <x, InputGrad(gy,w)> == <w, WeightGrad(x,gy)>
					atol := 1e-10
					if dt == Float32 {
						atol = 1e-4
					}
					checkAdjoint(t, "Conv2d/InputGrad "+tn, y, gy, x, gx, atol)
					checkAdjoint(t, "Conv2d/WeightGrad "+tn, y, gy, w, gw, atol)
				})
			}
			checkExact(t, name+" x unchanged", x, xs, x0)
			checkExact(t, name+" w unchanged", w, ws, w0)
			checkExact(t, name+" gy unchanged", gy, ys, gy0)
		}
	}
}

func TestConv2dPanics(t *testing.T) {
	x := New(Float32, 2, 3, 5, 5)
	w := New(Float32, 4, 3, 3, 3)
	mustPanic(t, "Conv2d channels", func() { Conv2d(x, New(Float32, 4, 2, 3, 3), 1, 0) }, "Conv2d", "channels")
	mustPanic(t, "Conv2d rank", func() { Conv2d(New(Float32, 3, 5, 5), w, 1, 0) }, "Conv2d", "[3 5 5]")
	mustPanic(t, "Conv2d stride", func() { Conv2d(x, w, 0, 0) }, "Conv2d", "stride")
	mustPanic(t, "Conv2d pad", func() { Conv2d(x, w, 1, -1) }, "Conv2d")
	mustPanic(t, "Conv2d kernel", func() { Conv2d(x, New(Float32, 4, 3, 7, 7), 1, 0) }, "Conv2d", "kernel")
	mustPanic(t, "Conv2d dtype", func() { Conv2d(x, New(Float64, 4, 3, 3, 3), 1, 0) }, "Conv2d", "dtype")
	mustPanic(t, "Conv2dInputGrad gy", func() { Conv2dInputGrad(New(Float32, 2, 4, 4, 4), w, x.Shape(), 1, 0) }, "Conv2dInputGrad", "[2 4 3 3]")
	mustPanic(t, "Conv2dInputGrad channels", func() { Conv2dInputGrad(New(Float32, 2, 4, 3, 3), w, []int{2, 2, 5, 5}, 1, 0) }, "Conv2dInputGrad")
	mustPanic(t, "Conv2dWeightGrad gy", func() { Conv2dWeightGrad(x, New(Float32, 2, 4, 5, 5), w.Shape(), 1, 0) }, "Conv2dWeightGrad")
	mustPanic(t, "Conv2dWeightGrad dtype", func() { Conv2dWeightGrad(x, New(Float64, 2, 4, 3, 3), w.Shape(), 1, 0) }, "Conv2dWeightGrad", "dtype")
}

type poolCase struct {
	n, c, h, w, k, stride, pad int
}

var poolCases = []poolCase{
	{1, 1, 4, 4, 2, 2, 0},
	{2, 3, 5, 7, 3, 2, 1},
	{2, 2, 6, 6, 3, 1, 1},
	{1, 2, 7, 5, 3, 3, 0},
	{1, 1, 3, 3, 3, 1, 0},
	{2, 1, 5, 5, 2, 1, 1},
	{1, 1, 1, 1, 1, 1, 0},
	{8, 16, 16, 16, 2, 2, 0}, // parallel path
}

func (pc poolCase) out() (int, int) {
	return (pc.h+2*pc.pad-pc.k)/pc.stride + 1, (pc.w+2*pc.pad-pc.k)/pc.stride + 1
}

func TestMaxPool2d(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		for _, pc := range poolCases {
			oh, ow := pc.out()
			xs := []int{pc.n, pc.c, pc.h, pc.w}
			// Three inputs: normals, ties (small ints), and all-negative
			// values so that a padding zero would win if it were counted.
			inputs := []*Tensor{
				randT(rng, dt, xs...),
				randInts(rng, dt, -1, 1, xs...),
				AddScalar(Abs(randT(rng, dt, xs...)), -10),
			}
			for vi, x := range inputs {
				x0 := x.Values()
				want := make([]float64, pc.n*pc.c*oh*ow)
				wantIdx := make([]int, len(want))
				for p := 0; p < pc.n*pc.c; p++ {
					for oi := 0; oi < oh; oi++ {
						for oj := 0; oj < ow; oj++ {
							best, bi := math.Inf(-1), -1
							for ki := 0; ki < pc.k; ki++ {
								for kj := 0; kj < pc.k; kj++ {
									ii, jj := oi*pc.stride-pc.pad+ki, oj*pc.stride-pc.pad+kj
									if ii < 0 || ii >= pc.h || jj < 0 || jj >= pc.w {
										continue
									}
									f := (p*pc.h+ii)*pc.w + jj
									if bi < 0 || x0[f] > best {
										best, bi = x0[f], f
									}
								}
							}
							o := (p*oh+oi)*ow + oj
							want[o], wantIdx[o] = best, bi
						}
					}
				}
				name := fmt.Sprintf("MaxPool2d %v %+v input %d", dt, pc, vi)
				for _, th := range []int{1, 3} {
					withThreads(th, func() {
						got, idx := MaxPool2d(x, pc.k, pc.stride, pc.pad)
						checkDType(t, name, got, dt)
						checkExact(t, name, got, []int{pc.n, pc.c, oh, ow}, want)
						if len(idx) != len(wantIdx) {
							t.Fatalf("%s: %d indices, want %d", name, len(idx), len(wantIdx))
						}
						for i := range idx {
							if idx[i] != wantIdx[i] {
								t.Errorf("%s: index[%d] = %d, want %d", name, i, idx[i], wantIdx[i])
								break
							}
						}
					})
				}
			}
		}
		mustPanic(t, "MaxPool2d rank", func() { MaxPool2d(New(dt, 3, 4, 4), 2, 2, 0) }, "MaxPool2d", "[3 4 4]")
		mustPanic(t, "MaxPool2d pad", func() { MaxPool2d(New(dt, 1, 1, 4, 4), 3, 1, 2) }, "MaxPool2d", "padding")
		mustPanic(t, "MaxPool2d window", func() { MaxPool2d(New(dt, 1, 1, 2, 2), 3, 1, 0) }, "MaxPool2d", "window")
		mustPanic(t, "MaxPool2d stride", func() { MaxPool2d(New(dt, 1, 1, 4, 4), 2, 0, 0) }, "MaxPool2d")
	}
}

func TestAvgPool2d(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		for _, pc := range poolCases {
			oh, ow := pc.out()
			xs := []int{pc.n, pc.c, pc.h, pc.w}
			ys := []int{pc.n, pc.c, oh, ow}
			x := randT(rng, dt, xs...)
			gy := randT(rng, dt, ys...)
			x0, gy0 := x.Values(), gy.Values()
			want := make([]float64, NumElems(ys))
			scale := make([]float64, len(want))
			wantG := make([]float64, len(x0))
			scaleG := make([]float64, len(x0))
			kk := float64(pc.k * pc.k)
			for p := 0; p < pc.n*pc.c; p++ {
				for oi := 0; oi < oh; oi++ {
					for oj := 0; oj < ow; oj++ {
						o := (p*oh+oi)*ow + oj
						for ki := 0; ki < pc.k; ki++ {
							for kj := 0; kj < pc.k; kj++ {
								ii, jj := oi*pc.stride-pc.pad+ki, oj*pc.stride-pc.pad+kj
								if ii < 0 || ii >= pc.h || jj < 0 || jj >= pc.w {
									continue // padding counts as zero
								}
								f := (p*pc.h+ii)*pc.w + jj
								want[o] += x0[f] / kk
								scale[o] += math.Abs(x0[f]) / kk
								wantG[f] += gy0[o] / kk
								scaleG[f] += math.Abs(gy0[o]) / kk
							}
						}
					}
				}
			}
			name := fmt.Sprintf("%v %+v", dt, pc)
			for _, th := range []int{1, 3} {
				withThreads(th, func() {
					y := AvgPool2d(x, pc.k, pc.stride, pc.pad)
					checkDType(t, "AvgPool2d", y, dt)
					checkSums(t, "AvgPool2d "+name, y, ys, want, scale, pc.k*pc.k, dt)
					gx := AvgPool2dGrad(gy, xs, pc.k, pc.stride, pc.pad)
					checkSums(t, "AvgPool2dGrad "+name, gx, xs, wantG, scaleG, pc.k*pc.k, dt)
					checkAdjoint(t, "AvgPool2d/AvgPool2dGrad "+name, y, gy, x, gx, 1e-5)
				})
			}
		}
		// A 2x2 example by hand; padding counts in the divisor.
		x := FromValues(dt, []float64{1, 2, 3, 4}, 1, 1, 2, 2)
		checkExact(t, "AvgPool2d 2x2", AvgPool2d(x, 2, 2, 0), []int{1, 1, 1, 1}, []float64{2.5})
		checkExact(t, "AvgPool2d padded", AvgPool2d(x, 2, 2, 1), []int{1, 1, 2, 2}, []float64{0.25, 0.5, 0.75, 1})
		mustPanic(t, "AvgPool2d rank", func() { AvgPool2d(New(dt, 4, 4), 2, 2, 0) }, "AvgPool2d")
		mustPanic(t, "AvgPool2dGrad shape", func() { AvgPool2dGrad(New(dt, 1, 1, 3, 3), []int{1, 1, 4, 4}, 2, 2, 0) }, "AvgPool2dGrad", "[1 1 3 3]")
	}
}

// The padded-plane im2col/col2im give the same convolution, input gradient
// and weight gradient, bit for bit, as the general path, for the
// geometries they take (stride 1, a same-size output of < 16 elements).
func TestConvSmallPlanesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	for _, dt := range []DType{Float32, Float64} {
		for _, c := range []struct{ h, w, k, pad, stride int }{{3, 3, 3, 1, 1}, {3, 5, 3, 1, 1}, {3, 3, 5, 2, 1}, {1, 1, 3, 1, 1}, {2, 7, 3, 1, 1}} {
			x := RandN(rng, dt, 1, 2, 3, c.h, c.w)
			w := RandN(rng, dt, 1, 4, 3, c.k, c.k)
			run := func(off bool) []*Tensor {
				defer func(v, n bool) { noSmallPlanes, noImplicit = v, n }(noSmallPlanes, noImplicit)
				noSmallPlanes, noImplicit = off, true
				y := Conv2d(x, w, c.stride, c.pad)
				gy := RandN(rand.New(rand.NewPCG(1, 2)), dt, 1, y.Shape()...)
				return []*Tensor{y, Conv2dInputGrad(gy, w, x.Shape(), c.stride, c.pad), Conv2dWeightGrad(x, gy, w.Shape(), c.stride, c.pad)}
			}
			want, got := run(true), run(false)
			for i := range want {
				if !slices.Equal(got[i].Values(), want[i].Values()) {
					t.Fatalf("%v %+v: output %d differs from the row-run path", dt, c, i)
				}
			}
		}
	}
}
