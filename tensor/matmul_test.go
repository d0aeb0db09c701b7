package tensor

import (
	"fmt"
	"math"
	"testing"
)

// refMatMul computes C = A*B for row-major A [m,k], B [k,n] in float64 and
// the per-element scale sum_p |a_ip b_pj| used for the error bound.
func refMatMul(m, n, k int, a, b []float64) (c, scale []float64) {
	c = make([]float64, m*n)
	scale = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s, sa := 0.0, 0.0
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[p*n+j]
				sa += math.Abs(a[i*k+p] * b[p*n+j])
			}
			c[i*n+j], scale[i*n+j] = s, sa
		}
	}
	return
}

// matTol is the relative tolerance (w.r.t. sum |a_ip b_pj|) of a product.
func matTol(dt DType) float64 {
	if dt == Float32 {
		return 1e-4
	}
	return 1e-10
}

// checkScaled requires |got-want| <= rtol*scale (+ a tiny atol) elementwise.
func checkScaled(t *testing.T, name string, got *Tensor, wantShape []int, want, scale []float64, rtol float64) {
	t.Helper()
	if !shapeEq(got.Shape(), wantShape) {
		t.Errorf("%s: shape %v, want %v", name, got.Shape(), wantShape)
		return
	}
	bad := 0
	for i, w := range want {
		g := got.Flat(i)
		if !(math.Abs(g-w) <= rtol*scale[i]+1e-30) {
			if bad < 5 {
				t.Errorf("%s: element %d = %.17g, want %.17g (rel err %.3g)", name, i, g, w, math.Abs(g-w)/scale[i])
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d mismatches", name, bad)
	}
}

var matShapes = [][3]int{ // m, k, n
	{1, 1, 1},
	{1, 5, 1},
	{1, 7, 9},
	{9, 7, 1},
	{2, 3, 4},
	{4, 4, 4},
	{5, 7, 3},
	{8, 1, 8},
	{13, 17, 11},
	{37, 29, 41},
	{130, 70, 90}, // parallel path
	{67, 300, 33}, // k spans two k blocks, m not a multiple of 4
	{9, 8, 1100},  // n spans two column blocks
	{0, 3, 4},
	{3, 0, 4},
	{3, 4, 0},
}

func TestMatMul2D(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		for _, s := range matShapes {
			m, k, n := s[0], s[1], s[2]
			a := randT(rng, dt, m, k)
			b := randT(rng, dt, k, n)
			a0, b0 := a.Values(), b.Values()
			want, scale := refMatMul(m, n, k, a0, b0)
			name := fmt.Sprintf("MatMul %v %dx%dx%d", dt, m, k, n)
			for _, th := range threadCounts {
				withThreads(th, func() {
					got := MatMul(a, b)
					checkDType(t, name, got, dt)
					checkScaled(t, fmt.Sprintf("%s threads=%d", name, th), got, []int{m, n}, want, scale, matTol(dt))
				})
			}
			checkExact(t, name+" a unchanged", a, []int{m, k}, a0)
			checkExact(t, name+" b unchanged", b, []int{k, n}, b0)
		}
		// Exact small example.
		a := FromValues(dt, []float64{1, 2, 3, 4, 5, 6}, 2, 3)
		b := FromValues(dt, []float64{7, 8, 9, 10, 11, 12}, 3, 2)
		checkExact(t, "MatMul 2x3x2", MatMul(a, b), []int{2, 2}, []float64{58, 64, 139, 154})
	}
}

func TestMatMulBatched(t *testing.T) {
	cases := []struct {
		a, b, out []int
	}{
		{[]int{3, 2, 4}, []int{3, 4, 5}, []int{3, 2, 5}},
		{[]int{1, 5, 7}, []int{1, 7, 3}, []int{1, 5, 3}},
		{[]int{8, 16, 32}, []int{8, 32, 24}, []int{8, 16, 24}}, // parallel over the batch
		{[]int{2, 3, 5, 7}, []int{2, 3, 7, 4}, []int{2, 3, 5, 4}},
		{[]int{4, 5, 6}, []int{6, 7}, []int{4, 5, 7}},
		{[]int{2, 3, 5, 6}, []int{6, 2}, []int{2, 3, 5, 2}},
		{[]int{6, 33, 40}, []int{40, 50}, []int{6, 33, 50}}, // shared b, parallel
		{[]int{0, 3, 4}, []int{0, 4, 2}, []int{0, 3, 2}},
		{[]int{2, 3, 0}, []int{2, 0, 2}, []int{2, 3, 2}},
	}
	for _, dt := range dtypes {
		rng := newRNG()
		for _, c := range cases {
			a := randT(rng, dt, c.a...)
			b := randT(rng, dt, c.b...)
			ra, rb := len(c.a), len(c.b)
			m, k, n := c.a[ra-2], c.a[ra-1], c.b[rb-1]
			batch := NumElems(c.a[:ra-2])
			a0, b0 := a.Values(), b.Values()
			var want, scale []float64
			for i := 0; i < batch; i++ {
				bs := b0
				if rb > 2 {
					bs = b0[i*k*n : (i+1)*k*n]
				}
				w, s := refMatMul(m, n, k, a0[i*m*k:(i+1)*m*k], bs)
				want = append(want, w...)
				scale = append(scale, s...)
			}
			for _, th := range threadCounts {
				withThreads(th, func() {
					checkScaled(t, fmt.Sprintf("MatMul %v %v x %v threads=%d", dt, c.a, c.b, th), MatMul(a, b), c.out, want, scale, matTol(dt))
				})
			}
		}
	}
}

func TestMatMulPanics(t *testing.T) {
	mustPanic(t, "MatMul inner", func() { MatMul(New(Float32, 2, 3), New(Float32, 4, 5)) }, "MatMul", "[2 3]", "[4 5]")
	mustPanic(t, "MatMul rank", func() { MatMul(New(Float32, 3), New(Float32, 3, 2)) }, "MatMul", "rank")
	mustPanic(t, "MatMul batch", func() { MatMul(New(Float32, 2, 2, 3), New(Float32, 3, 3, 2)) }, "MatMul", "batch")
	mustPanic(t, "MatMul rank-2 x batched", func() { MatMul(New(Float32, 2, 3), New(Float32, 4, 3, 2)) }, "MatMul")
	mustPanic(t, "MatMul dtype", func() { MatMul(New(Float32, 2, 3), New(Float64, 3, 2)) }, "MatMul", "dtype")
	mustPanic(t, "Gemm sizes", func() {
		Gemm(false, false, 2, 2, 2, 1, New(Float32, 2, 3), New(Float32, 2, 2), 0, New(Float32, 2, 2))
	}, "Gemm")
	mustPanic(t, "Gemm dtype", func() {
		Gemm(false, false, 2, 2, 2, 1, New(Float32, 2, 2), New(Float32, 2, 2), 0, New(Float64, 2, 2))
	}, "Gemm", "dtype")
}

func TestGemm(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {3, 5, 4}, {7, 3, 9}, {13, 17, 11}, {70, 130, 90}}
	for _, dt := range dtypes {
		rng := newRNG()
		for _, s := range shapes {
			m, k, n := s[0], s[1], s[2]
			for _, transA := range []bool{false, true} {
				for _, transB := range []bool{false, true} {
					for _, ab := range [][2]float64{{1, 0}, {1, 1}, {0.5, 0}, {-2, 0.3}, {0, 1.5}, {1, -1}} {
						alpha, beta := ab[0], ab[1]
						// logical A [m,k], B [k,n]; stored transposed when flagged
						la := randT(rng, dt, m, k)
						lb := randT(rng, dt, k, n)
						sa, sb := la, lb
						if transA {
							sa = Transpose(la)
						}
						if transB {
							sb = Transpose(lb)
						}
						c := randT(rng, dt, m, n)
						c0 := c.Values()
						prod, pscale := refMatMul(m, n, k, la.Values(), lb.Values())
						want := make([]float64, m*n)
						scale := make([]float64, m*n)
						for i := range want {
							want[i] = alpha*prod[i] + beta*c0[i]
							scale[i] = math.Abs(alpha)*pscale[i] + math.Abs(beta*c0[i]) + math.Abs(want[i])
						}
						sa0, sb0 := sa.Values(), sb.Values()
						Gemm(transA, transB, m, n, k, alpha, sa, sb, beta, c)
						name := fmt.Sprintf("Gemm %v m=%d k=%d n=%d tA=%v tB=%v alpha=%g beta=%g", dt, m, k, n, transA, transB, alpha, beta)
						checkScaled(t, name, c, []int{m, n}, want, scale, matTol(dt))
						checkExact(t, name+" a unchanged", sa, sa.Shape(), sa0)
						checkExact(t, name+" b unchanged", sb, sb.Shape(), sb0)
					}
				}
			}
		}
		// beta == 0 ignores NaN/Inf already in c (BLAS semantics).
		c := FromValues(dt, []float64{math.NaN(), math.Inf(1), 5, math.NaN()}, 2, 2)
		a := FromValues(dt, []float64{1, 2, 3, 4}, 2, 2)
		Gemm(false, false, 2, 2, 2, 1, a, Ones(dt, 2, 2), 0, c)
		checkExact(t, "Gemm beta=0 clears NaN", c, []int{2, 2}, []float64{3, 3, 7, 7})
		// Gemm works on any tensors with the right number of elements.
		c = New(dt, 4)
		Gemm(true, false, 2, 2, 2, 1, FromValues(dt, []float64{1, 2, 3, 4}, 4), FromValues(dt, []float64{1, 0, 0, 1}, 2, 2), 0, c)
		checkExact(t, "Gemm flat operands", c, []int{4}, []float64{1, 3, 2, 4})
	}
}

// TestDeterminism checks that results do not depend on the thread count
// for the kernels whose per-element arithmetic is fixed (everything except
// Conv2dWeightGrad, which sums per-worker partials: there the results only
// agree to rounding).
func TestDeterminism(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		a := randT(rng, dt, 150, 140)
		b := randT(rng, dt, 140, 130)
		ba := randT(rng, dt, 6, 40, 50)
		bb := randT(rng, dt, 6, 50, 30)
		x := randT(rng, dt, 8, 16, 14, 14)
		w := randT(rng, dt, 32, 16, 3, 3)
		gy := randT(rng, dt, 8, 32, 14, 14)
		type result struct{ mm, bmm, conv, gx, gw *Tensor }
		run := func() result {
			return result{
				MatMul(a, b), MatMul(ba, bb), Conv2d(x, w, 1, 1),
				Conv2dInputGrad(gy, w, x.Shape(), 1, 1), Conv2dWeightGrad(x, gy, w.Shape(), 1, 1),
			}
		}
		var ref result
		withThreads(1, func() { ref = run() })
		var def result
		withThreads(Threads(), func() { def = run() }) // the default
		for _, th := range []int{2, 3, 5, 16} {
			var r result
			withThreads(th, func() { r = run() })
			name := fmt.Sprintf("%v threads=%d", dt, th)
			checkExact(t, "MatMul "+name, r.mm, ref.mm.Shape(), ref.mm.Values())
			checkExact(t, "batched MatMul "+name, r.bmm, ref.bmm.Shape(), ref.bmm.Values())
			checkExact(t, "Conv2d "+name, r.conv, ref.conv.Shape(), ref.conv.Values())
			checkExact(t, "Conv2dInputGrad "+name, r.gx, ref.gx.Shape(), ref.gx.Values())
			tol := 1e-12
			if dt == Float32 {
				tol = 1e-4
			}
			checkValues(t, "Conv2dWeightGrad "+name, r.gw, ref.gw.Shape(), ref.gw.Values(), tol, tol)
		}
		checkExact(t, "MatMul default threads", def.mm, ref.mm.Shape(), ref.mm.Values())
		checkExact(t, "Conv2d default threads", def.conv, ref.conv.Shape(), ref.conv.Values())
		// Repeated runs with the same thread count are bitwise identical.
		again := run()
		checkExact(t, "Conv2dWeightGrad rerun", again.gw, def.gw.Shape(), def.gw.Values())
	}
}
