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
		for _, s := range [][3]int{{1, 1, 1}, {3, 5, 7}, {10, 40, 40}, {37, 65, 129}, {128, 96, 200}, {10, 2, 800}, {64, 3, 500}, {40, 1, 25}} {
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
