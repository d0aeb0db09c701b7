package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refLines calls f on every line of x along axis (given as flat indices).
func refLines(shape []int, axis int, f func(line []int)) {
	outer, inner := 1, 1
	for i, d := range shape {
		if i < axis {
			outer *= d
		} else if i > axis {
			inner *= d
		}
	}
	d := shape[axis]
	line := make([]int, d)
	for p := 0; p < outer; p++ {
		for i := 0; i < inner; i++ {
			for r := 0; r < d; r++ {
				line[r] = (p*d+r)*inner + i
			}
			f(line)
		}
	}
}

func TestSoftmaxFamily(t *testing.T) {
	shapes := [][]int{{4, 5}, {2, 3, 4}, {7}, {3, 1, 2}, {64, 100, 8}}
	for _, dt := range dtypes {
		rng := newRNG()
		for _, shape := range shapes {
			x := RandN(rng, dt, 3, shape...) // moderate inputs: the naive formulas are fine
			x0 := x.Values()
			for axis := -len(shape); axis < len(shape); axis++ {
				a := axis
				if a < 0 {
					a += len(shape)
				}
				sm := make([]float64, len(x0))
				lsm := make([]float64, len(x0))
				var lse []float64
				refLines(shape, a, func(line []int) {
					s := 0.0
					for _, i := range line {
						s += math.Exp(x0[i])
					}
					for _, i := range line {
						sm[i] = math.Exp(x0[i]) / s
						lsm[i] = math.Log(math.Exp(x0[i]) / s)
					}
					lse = append(lse, math.Log(s))
				})
				name := fmt.Sprintf("%v %v axis %d", dt, shape, axis)
				rtol := 1e-13
				if dt == Float32 {
					rtol = 2e-6
				}
				got := Softmax(x, axis)
				checkDType(t, "Softmax", got, dt)
				checkValues(t, "Softmax "+name, got, shape, sm, rtol, 1e-300)
				checkValues(t, "LogSoftmax "+name, LogSoftmax(x, axis), shape, lsm, rtol, rtol)
				for _, keep := range []bool{false, true} {
					ws, _ := refReduce(shape, []int{a}, keep)
					checkValues(t, fmt.Sprintf("LogSumExp %s keep=%v", name, keep), LogSumExp(x, axis, keep), ws, lse, rtol, rtol)
				}
				// Each line of the softmax sums to one.
				refLines(shape, a, func(line []int) {
					s := 0.0
					for _, i := range line {
						s += got.Flat(i)
					}
					if math.Abs(s-1) > 100*eps(dt)*float64(len(line)) {
						t.Errorf("Softmax %s: line sums to %v", name, s)
					}
				})
			}
			checkExact(t, "Softmax input", x, shape, x0)
		}
	}
}

func TestSoftmaxStability(t *testing.T) {
	rows := [][]float64{
		{1000, 1000, -1000},
		{-1000, -1000, -1000},
		{1000, 0, -1000},
		{-1000, -999, -1001},
		{88, 89, 90}, // exp overflows float32 without the max shift
		{1e30, 1, 0},
	}
	for _, dt := range dtypes {
		for _, r := range rows {
			x := FromValues(dt, r, 1, 3)
			sm := Softmax(x, 1)
			lsm := LogSoftmax(x, 1)
			lse := LogSumExp(x, -1, false)
			if sm.HasNaNOrInf() || lsm.HasNaNOrInf() || lse.HasNaNOrInf() {
				t.Errorf("%v %v: softmax %v, log-softmax %v, logsumexp %v", dt, r, sm, lsm, lse)
				continue
			}
			// shift invariance: compare with the same row moved near zero
			m := math.Max(r[0], math.Max(r[1], r[2]))
			sh := make([]float64, 3)
			s := 0.0
			for i, v := range r {
				sh[i] = round(dt, v) - round(dt, m)
				s += math.Exp(sh[i])
			}
			want := make([]float64, 3)
			wantL := make([]float64, 3)
			for i := range sh {
				want[i] = math.Exp(sh[i]) / s
				wantL[i] = sh[i] - math.Log(s)
			}
			// The max shift makes these as accurate as for inputs near zero.
			tol := 1e-15
			if dt == Float32 {
				tol = 2e-7
			}
			sum := sm.Flat(0) + sm.Flat(1) + sm.Flat(2)
			if math.Abs(sum-1) > 4*eps(dt) {
				t.Errorf("Softmax %v %v sums to 1%+.3g", dt, r, sum-1)
			}
			checkValues(t, fmt.Sprintf("Softmax %v %v", dt, r), sm, []int{1, 3}, want, tol, 1e-300)
			checkValues(t, fmt.Sprintf("LogSoftmax %v %v", dt, r), lsm, []int{1, 3}, wantL, tol, tol)
			wantLSE := round(dt, m) + math.Log(s)
			if !closeTo(lse.Item(), wantLSE, tol, 0) {
				t.Errorf("LogSumExp %v %v = %v, want %v", dt, r, lse.Item(), wantLSE)
			}
		}
		// Known closed forms.
		x := FromValues(dt, []float64{1000, 1000}, 2)
		if got := LogSumExp(x, 0, true); !shapeEq(got.Shape(), []int{1}) || !closeTo(got.Item(), 1000+math.Ln2, eps(dt), 0) {
			t.Errorf("LogSumExp([1000 1000]) = %v", got)
		}
		checkExact(t, "Softmax equal", Softmax(x, 0), []int{2}, []float64{0.5, 0.5})
		// An all -Inf line (fully masked) gives -Inf for logsumexp, not NaN.
		ni := FromValues(dt, []float64{math.Inf(-1), math.Inf(-1), 0, math.Inf(-1)}, 2, 2)
		l := LogSumExp(ni, 1, false)
		if !math.IsInf(l.Flat(0), -1) || l.Flat(1) != 0 {
			t.Errorf("LogSumExp with -Inf = %v", l)
		}
		// A partly masked line puts all its mass on the finite entries.
		if sm := Softmax(ni, 1); sm.Flat(2) != 1 || sm.Flat(3) != 0 {
			t.Errorf("Softmax with -Inf = %v", sm)
		}
		// Empty axis: logsumexp of nothing is -Inf.
		e := LogSumExp(New(dt, 3, 0), 1, false)
		for i := 0; i < 3; i++ {
			if !math.IsInf(e.Flat(i), -1) {
				t.Errorf("LogSumExp over an empty axis = %v", e)
			}
		}
	}
}

func TestSoftmaxThreadsAgree(t *testing.T) {
	for _, dt := range dtypes {
		x := randT(newRNG(), dt, 64, 100, 8)
		var ref *Tensor
		withThreads(1, func() { ref = Softmax(x, 1) })
		for _, th := range threadCounts {
			withThreads(th, func() {
				checkExact(t, fmt.Sprintf("Softmax threads=%d", th), Softmax(x, 1), ref.Shape(), ref.Values())
			})
		}
	}
}

func TestSoftmaxPanics(t *testing.T) {
	x := New(Float32, 2, 3)
	mustPanic(t, "Softmax axis", func() { Softmax(x, 2) }, "Softmax", "axis")
	mustPanic(t, "LogSoftmax axis", func() { LogSoftmax(x, -3) }, "LogSoftmax", "axis")
	mustPanic(t, "LogSumExp axis", func() { LogSumExp(x, 5, false) }, "LogSumExp", "axis")
	mustPanic(t, "Softmax scalar", func() { Softmax(Scalar(Float64, 1), 0) }, "Softmax")
}

// TestLogSoftmaxAVX512Rows checks the AVX-512 float32 log-softmax rows
// against the scalar (math.Exp) loop: within 1e-6 relative (the
// exponentials round to float32), the same infinities and NaNs, for row
// lengths with and without a 16-value tail and rows with -Inf and NaN.
func TestLogSoftmaxAVX512Rows(t *testing.T) {
	if !useAVX512Exp {
		t.Skip("no AVX-512 on this CPU (or purego): only the scalar loop exists")
	}
	defer func(v bool) { useAVX512Exp = v }(useAVX512Exp)
	rng := rand.New(rand.NewPCG(8, 9))
	for _, d := range []int{1, 15, 16, 17, 100, 8000} {
		for _, scale := range []float64{1, 30, 1e4} {
			x := RandN(rng, Float32, scale, 5, d)
			v := x.f32
			v[d-1] = float32(math.Inf(-1)) // a masked entry
			for i := d; i < 2*d; i++ {     // a fully masked row
				v[i] = float32(math.Inf(-1))
			}
			v[3*d] = float32(math.NaN()) // a NaN row
			useAVX512Exp = false
			want := LogSoftmax(x, -1)
			useAVX512Exp = true
			got := LogSoftmax(x, -1)
			for i, w := range want.f32 {
				g := got.f32[i]
				switch {
				case w != w || g != g:
					if (w != w) != (g != g) {
						t.Fatalf("d=%d scale=%v element %d: %v, scalar loop %v", d, scale, i, g, w)
					}
				case math.IsInf(float64(w), 0) || math.IsInf(float64(g), 0):
					if g != w {
						t.Fatalf("d=%d scale=%v element %d: %v, scalar loop %v", d, scale, i, g, w)
					}
				case math.Abs(float64(g-w)) > 1e-6*math.Max(1, math.Abs(float64(w))):
					t.Fatalf("d=%d scale=%v element %d: %v, scalar loop %v", d, scale, i, g, w)
				}
			}
		}
	}
}
