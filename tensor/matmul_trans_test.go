package tensor

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// MatMulNT and MatMulTN equal MatMul with a materialised transpose, bit for
// bit (the same gemm runs on the same numbers), for both dtypes, shared
// and batched operands, and shapes on both sides of the kernels' paths.
func TestMatMulTransposed(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, dt := range []DType{Float32, Float64} {
		for _, s := range [][3]int{{1, 1, 1}, {3, 5, 7}, {10, 40, 40}, {37, 65, 129}, {128, 96, 200}, {10, 2, 800}, {64, 3, 500}, {40, 1, 25}, {64, 1000, 256}} {
			m, n, k := s[0], s[1], s[2]
			a := RandN(rng, dt, 1, 2, m, k)
			b := RandN(rng, dt, 1, n, k)
			if got, want := MatMulNT(a, b), MatMul(a, Transpose(b)); !slices.Equal(got.Values(), want.Values()) || !SameShape(got.Shape(), want.Shape()) {
				t.Fatalf("%v %v: MatMulNT shared differs", dt, s)
			}
			bb := RandN(rng, dt, 1, 2, n, k)
			if got, want := MatMulNT(a, bb), MatMul(a, Transpose(bb)); !slices.Equal(got.Values(), want.Values()) {
				t.Fatalf("%v %v: MatMulNT batched differs", dt, s)
			}
			at := RandN(rng, dt, 1, 2, k, m)
			c := RandN(rng, dt, 1, 2, k, n)
			if got, want := MatMulTN(at, c), MatMul(Transpose(at), c); !slices.Equal(got.Values(), want.Values()) || !SameShape(got.Shape(), want.Shape()) {
				t.Fatalf("%v %v: MatMulTN differs", dt, s)
			}
		}
	}
	for _, f := range []func(){
		func() { MatMulNT(New(Float32, 2, 3), New(Float32, 4, 5)) },
		func() { MatMulTN(New(Float32, 2, 3), New(Float32, 4, 3)) },
		func() { MatMulNT(New(Float32, 2, 2, 3), New(Float32, 3, 2, 3)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("mismatched shapes accepted")
				}
			}()
			f()
		}()
	}
}

// transpose2D matches the definition on every path: a single row or
// column, a few long columns, the tiled loop with ragged tiles, and the
// AVX-512 16 x 16 blocks with the loop's edges.
func TestTranspose2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	defer func(v bool) { useAVX512Transpose = v }(useAVX512Transpose)
	for _, vec := range []bool{false, useAVX512Transpose} {
		useAVX512Transpose = vec
		for _, s := range [][2]int{{1, 5}, {5, 1}, {800, 2}, {3, 8}, {7, 9}, {40, 33}, {65, 100}, {16, 16}, {64, 196}, {17, 47}} {
			r, c := s[0], s[1]
			src := RandN(rng, Float32, 1, r, c).F32()
			dst := make([]float32, r*c+1)
			dst[r*c] = 42 // nothing past the end
			transpose2D(src, dst, r, c)
			for i := 0; i < r; i++ {
				for j := 0; j < c; j++ {
					if dst[j*r+i] != src[i*c+j] {
						t.Fatalf("%dx%d (AVX-512 %v): dst[%d][%d] = %v, want %v", r, c, vec, j, i, dst[j*r+i], src[i*c+j])
					}
				}
			}
			if dst[r*c] != 42 {
				t.Fatalf("%dx%d (AVX-512 %v): wrote past the end", r, c, vec)
			}
		}
	}
}

// Linear equals Add(MatMulNT(x, w), b) bit for bit, batched or not, in
// both dtypes, and rejects a bias of the wrong length.
func TestLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, dt := range []DType{Float32, Float64} {
		for _, xs := range [][]int{{800, 2}, {3, 5, 7}, {1, 40}} {
			in := xs[len(xs)-1]
			x := RandN(rng, dt, 1, xs...)
			w := RandN(rng, dt, 1, 10, in)
			b := RandN(rng, dt, 1, 10)
			got, want := Linear(x, w, b), Add(MatMulNT(x, w), b)
			if !slices.Equal(got.Values(), want.Values()) || !SameShape(got.Shape(), want.Shape()) {
				t.Fatalf("%v %v: Linear differs from Add(MatMulNT)", dt, xs)
			}
			if got := Linear(x, w, nil); !slices.Equal(got.Values(), MatMulNT(x, w).Values()) {
				t.Fatalf("%v %v: Linear without bias differs from MatMulNT", dt, xs)
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a bias of the wrong length was accepted")
		}
	}()
	Linear(New(Float32, 2, 3), New(Float32, 4, 3), New(Float32, 5))
}
