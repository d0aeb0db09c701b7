package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// winoInputRef is B^T d B for every tile of a plane, by the definition:
// rows first, then columns, in the kernels' order of additions.
func winoInputRef(x []float32, h, w int, v []float32, vstride int) {
	th, tw := (h+1)/2, (w+1)/2
	at := func(i, j int) float32 {
		if i < 0 || i >= h || j < 0 || j >= w {
			return 0
		}
		return x[i*w+j]
	}
	bt := func(a, b, c, d float32) [4]float32 { return [4]float32{a - c, b + c, c - b, b - d} }
	for tr := 0; tr < th; tr++ {
		for tc := 0; tc < tw; tc++ {
			var rows [4][4]float32 // rows[k][col]: B^T applied down each column
			for j := 0; j < 4; j++ {
				r := bt(at(2*tr-1, 2*tc-1+j), at(2*tr, 2*tc-1+j), at(2*tr+1, 2*tc-1+j), at(2*tr+2, 2*tc-1+j))
				for k := range r {
					rows[k][j] = r[k]
				}
			}
			for k := 0; k < 4; k++ {
				c := bt(rows[k][0], rows[k][1], rows[k][2], rows[k][3])
				for l := range c {
					v[(4*k+l)*vstride+tr*tw+tc] = c[l]
				}
			}
		}
	}
}

// winoGradRef is A dY A^T for every 2x2 block of dy (0 past the plane),
// rows first, then columns, in the kernel's order of operations.
func winoGradRef(dy []float32, h, w int, v []float32, vstride int) {
	th, tw := (h+1)/2, (w+1)/2
	at := func(i, j int) float32 {
		if i >= h || j >= w {
			return 0
		}
		return dy[i*w+j]
	}
	a := func(p, q float32) [4]float32 { return [4]float32{p, p + q, p - q, 0 - q} }
	for tr := 0; tr < th; tr++ {
		for tc := 0; tc < tw; tc++ {
			c0 := a(at(2*tr, 2*tc), at(2*tr+1, 2*tc))
			c1 := a(at(2*tr, 2*tc+1), at(2*tr+1, 2*tc+1))
			for k := 0; k < 4; k++ {
				r := a(c0[k], c1[k])
				for l := range r {
					v[(4*k+l)*vstride+tr*tw+tc] = r[l]
				}
			}
		}
	}
}

// winoOutputRef is A^T m A + bias for every tile.
func winoOutputRef(m []float32, mstride int, y []float32, h, w int, bias float32) {
	th, tw := (h+1)/2, (w+1)/2
	at := func(a, b, c, d float32) [2]float32 { return [2]float32{a + (b + c), (b - c) - d} }
	for tr := 0; tr < th; tr++ {
		for tc := 0; tc < tw; tc++ {
			var s [2][4]float32
			for l := 0; l < 4; l++ {
				e := func(k int) float32 { return m[(4*k+l)*mstride+tr*tw+tc] }
				r := at(e(0), e(1), e(2), e(3))
				s[0][l], s[1][l] = r[0], r[1]
			}
			for k := 0; k < 2; k++ {
				r := at(s[k][0], s[k][1], s[k][2], s[k][3])
				for l := 0; l < 2; l++ {
					i, j := 2*tr+k, 2*tc+l
					if i < h && j < w {
						y[i*w+j] = r[l] + bias
					}
				}
			}
		}
	}
}

func nanSlice(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}

// The AVX-512 transforms (input, output gradient, output) equal the
// definitions bit for bit, for every
// plane width they take and odd and even heights, and write nothing
// outside their tiles (the input transform: at most 8-tw values past the
// last tile row) or their plane.
func TestWinogradTransforms(t *testing.T) {
	if !useWinograd {
		t.Skip("no AVX-512: the Winograd path is off and its kernels are not called")
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for w := 1; w <= winoMaxW; w++ {
		for h := 1; h <= 9; h++ {
			name := fmt.Sprintf("%dx%d", h, w)
			tiles := ((h + 1) / 2) * ((w + 1) / 2)
			tw := (w + 1) / 2
			stride := tiles + 16 // room after each matrix: 8-tw values may land there, no more
			x := make([]float32, h*w)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			got, want := nanSlice(16*stride), nanSlice(16*stride)
			winoInputAVX512(&x[0], h, w, &got[0], stride)
			winoInputRef(x, h, w, want, stride)
			for i := range got {
				if tile := i % stride; tile >= tiles && tile < tiles+8-tw {
					continue // scratch past the last tile row
				}
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("input %s: element %d (matrix %d, tile %d) = %v, want %v", name, i, i/stride, i%stride, got[i], want[i])
				}
			}
			got, want = nanSlice(16*stride), nanSlice(16*stride)
			winoGradAVX512(&x[0], h, w, &got[0], stride)
			winoGradRef(x, h, w, want, stride)
			for i := range got {
				if tile := i % stride; tile >= tiles && tile < tiles+8-tw {
					continue
				}
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("gradient %s: element %d (matrix %d, tile %d) = %v, want %v", name, i, i/stride, i%stride, got[i], want[i])
				}
			}
			m := make([]float32, 16*stride)
			for i := range m {
				m[i] = float32(rng.NormFloat64())
			}
			yg, yw := nanSlice(h*w+3), nanSlice(h*w+3)
			winoOutputAVX512(&m[0], stride, &yg[0], h, w, 0.25)
			winoOutputRef(m, stride, yw, h, w, 0.25)
			for i := range yg {
				if math.Float32bits(yg[i]) != math.Float32bits(yw[i]) {
					t.Fatalf("output %s: element %d = %v, want %v", name, i, yg[i], yw[i])
				}
			}
		}
	}
}

// The AVX-512 filter transform equals winoFilter bit for bit, both ways
// round, with and without whole blocks of 16.
func TestWinogradWeights(t *testing.T) {
	if !useWinograd {
		t.Skip("no AVX-512: the Winograd path is off")
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for _, s := range []struct{ o, c int }{{16, 16}, {32, 48}, {17, 35}, {20, 16}, {3, 5}} {
		w := RandN(rng, Float32, 1, s.o, s.c, 3, 3).f32
		for _, flip := range []bool{false, true} {
			got, want := nanSlice(16*s.o*s.c), nanSlice(16*s.o*s.c)
			winoWeights(w, got, s.o, s.c, flip)
			for a := 0; a < s.o; a++ {
				for b := 0; b < s.c; b++ {
					pos := a*s.c + b
					if flip {
						pos = b*s.o + a
					}
					winoFilter(w[(a*s.c+b)*9:(a*s.c+b+1)*9], flip, want, pos, s.o*s.c)
				}
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("O%d C%d flip %v: element %d = %v, want %v", s.o, s.c, flip, i, got[i], want[i])
				}
			}
		}
	}
}

// The AVX-512 back-transform of the weight gradient equals winoGradFilter
// bit for bit, with and without whole blocks of 16 filters.
func TestWinogradGradWeights(t *testing.T) {
	if !useWinograd {
		t.Skip("no AVX-512: the Winograd path is off")
	}
	rng := rand.New(rand.NewPCG(10, 10))
	for _, s := range []struct{ o, c int }{{16, 16}, {17, 35}, {3, 5}} {
		oc := s.o * s.c
		du := RandN(rng, Float32, 1, 16*oc).f32
		got := RandN(rng, Float32, 1, oc*9).f32 // added to, not overwritten
		want := append([]float32(nil), got...)
		winoGradWeights(du, got, s.o, s.c)
		for p := 0; p < oc; p++ {
			winoGradFilter(du, oc, p, want[p*9:p*9+9])
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("O%d C%d: element %d = %v, want %v", s.o, s.c, i, got[i], want[i])
			}
		}
	}
}

// The Winograd path is taken for conv4's middle layers and agrees with the
// implicit/im2col paths up to rounding, in all three passes (the
// comparison against a float64 reference is TestConv2d's).
func TestWinogradMatchesDirect(t *testing.T) {
	if !useWinograd {
		t.Skip("no AVX-512: the Winograd path is off")
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for _, hw := range []int{14, 7} {
		x := RandN(rng, Float32, 1, 9, 64, hw, hw)
		w := RandN(rng, Float32, 0.05, 64, 64, 3, 3)
		b := RandN(rng, Float32, 1, 64)
		gy := RandN(rng, Float32, 1, 9, 64, hw, hw)
		if !winoUse[float32](convGeom{c: 64, h: hw, w: hw, kh: 3, kw: 3, stride: 1, pad: 1, oh: hw, ow: hw}, 64) {
			t.Fatalf("%dx%d: the Winograd path is not taken", hw, hw)
		}
		run := func(off bool) (y, gx, gw *Tensor) {
			defer func(v bool) { noWinograd = v }(noWinograd)
			noWinograd = off
			return Conv2dBias(x, w, b, 1, 1), Conv2dInputGrad(gy, w, x.Shape(), 1, 1), Conv2dWeightGrad(x, gy, w.Shape(), 1, 1)
		}
		y, gx, gw := run(false)
		yd, gxd, gwd := run(true)
		for _, c := range []struct {
			name      string
			got, want *Tensor
		}{{"forward", y, yd}, {"input gradient", gx, gxd}, {"weight gradient", gw, gwd}} {
			// both paths are ~2e-7 (relative RMS) from a float64 reference
			differ, num, den := 0, 0.0, 0.0
			for i, v := range c.got.Values() {
				d := c.want.Flat(i)
				if v != d {
					differ++
				}
				num += (v - d) * (v - d)
				den += d * d
			}
			if differ == 0 {
				t.Errorf("%dx%d %s: bit-identical to the direct path: Winograd not run?", hw, hw, c.name)
			}
			if rel := math.Sqrt(num / den); rel > 1e-6 {
				t.Errorf("%dx%d %s: differs from the direct path by %.3g (relative RMS)", hw, hw, c.name, rel)
			}
		}
	}
}

// Random Winograd geometries (plane sides 3-20 x 3-14, 16-40 channels,
// batches 1-30: ragged tile groups and image chunks) against the float64
// reference, all three passes, with the error bound TestConv2d uses.
func TestWinogradRandomShapes(t *testing.T) {
	if !useWinograd {
		t.Skip("no AVX-512: the Winograd path is off")
	}
	rng := rand.New(rand.NewPCG(12, 12))
	for trial := 0; trial < 12; trial++ {
		cc := convCase{n: 1 + rng.IntN(30), c: 16 + rng.IntN(25), h: 3 + rng.IntN(18), w: 3 + rng.IntN(12), o: 16 + rng.IntN(25), kh: 3, kw: 3, stride: 1, pad: 1}
		g := convGeom{c: cc.c, h: cc.h, w: cc.w, kh: 3, kw: 3, oh: cc.h, ow: cc.w, stride: 1, pad: 1}
		if !winoUse[float32](g, cc.o) {
			t.Fatalf("%v: not a Winograd geometry", cc)
		}
		x := RandN(rng, Float32, 1, cc.n, cc.c, cc.h, cc.w)
		w := RandN(rng, Float32, 1, cc.o, cc.c, 3, 3)
		gy := RandN(rng, Float32, 1, cc.n, cc.o, cc.h, cc.w)
		wantY, ys := refConv2d(cc, x.Values(), w.Values())
		wantGX, gxs, wantGW, gws := refConvGrads(cc, x.Values(), w.Values(), gy.Values())
		checkScaled(t, fmt.Sprintf("%v forward", cc), Conv2d(x, w, 1, 1), []int{cc.n, cc.o, cc.h, cc.w}, wantY, ys, matTol(Float32))
		checkScaled(t, fmt.Sprintf("%v input gradient", cc), Conv2dInputGrad(gy, w, x.Shape(), 1, 1), x.Shape(), wantGX, gxs, matTol(Float32))
		checkScaled(t, fmt.Sprintf("%v weight gradient", cc), Conv2dWeightGrad(x, gy, w.Shape(), 1, 1), w.Shape(), wantGW, gws, matTol(Float32))
	}
}
