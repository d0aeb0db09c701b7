package tensor

import (
	"math"
	"strings"
	"testing"
)

func TestConstructors(t *testing.T) {
	for _, dt := range dtypes {
		t.Run(dt.String(), func(t *testing.T) {
			z := New(dt, 2, 3)
			checkDType(t, "New", z, dt)
			checkExact(t, "New", z, []int{2, 3}, make([]float64, 6))
			checkExact(t, "Zeros", Zeros(dt, 4), []int{4}, make([]float64, 4))
			checkExact(t, "Ones", Ones(dt, 2, 2), []int{2, 2}, []float64{1, 1, 1, 1})
			checkExact(t, "Full", Full(dt, -2.5, 3), []int{3}, []float64{-2.5, -2.5, -2.5})
			s := Scalar(dt, 7)
			checkExact(t, "Scalar", s, []int{}, []float64{7})
			if s.Dims() != 0 || s.Len() != 1 || s.Item() != 7 {
				t.Errorf("Scalar: dims %d len %d item %v", s.Dims(), s.Len(), s.Item())
			}
			checkExact(t, "ZerosLike", ZerosLike(Ones(dt, 3, 1)), []int{3, 1}, []float64{0, 0, 0})
			checkExact(t, "OnesLike", OnesLike(z), []int{2, 3}, []float64{1, 1, 1, 1, 1, 1})
			checkDType(t, "OnesLike", OnesLike(z), dt)
			v := FromValues(dt, []float64{1, 2, 3, 4, 5, 6}, 3, 2)
			checkExact(t, "FromValues", v, []int{3, 2}, []float64{1, 2, 3, 4, 5, 6})
			e := New(dt, 2, 0, 3)
			if e.Len() != 0 || e.Dims() != 3 {
				t.Errorf("zero-size tensor: len %d dims %d", e.Len(), e.Dims())
			}
		})
	}
	f32 := FromFloat32([]float32{1, 2, 3, 4}, 2, 2)
	if f32.DType() != Float32 || f32.At(1, 0) != 3 {
		t.Errorf("FromFloat32: %v", f32)
	}
	f64 := FromFloat64([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	if f64.DType() != Float64 || f64.At(1, 2) != 6 {
		t.Errorf("FromFloat64: %v", f64)
	}
	// FromFloat* wrap without copying.
	data := []float64{1, 2}
	w := FromFloat64(data, 2)
	data[0] = 9
	if w.At(0) != 9 {
		t.Errorf("FromFloat64 copied its data")
	}
	mustPanic(t, "FromFloat32", func() { FromFloat32([]float32{1, 2, 3}, 2, 2) }, "FromFloat32", "[2 2]")
	mustPanic(t, "FromFloat64", func() { FromFloat64([]float64{1}, 2) }, "FromFloat64")
	mustPanic(t, "FromValues", func() { FromValues(Float32, []float64{1}, 3) }, "FromValues")
	mustPanic(t, "negative dim", func() { New(Float32, 2, -1) }, "negative")
	mustPanic(t, "bad dtype", func() { New(DType(7), 2) }, "dtype")
}

func TestAccessors(t *testing.T) {
	for _, dt := range dtypes {
		t.Run(dt.String(), func(t *testing.T) {
			x := New(dt, 2, 3, 4)
			for i := 0; i < x.Len(); i++ {
				x.SetFlat(i, float64(i))
			}
			if got := x.At(1, 2, 3); got != 23 {
				t.Errorf("At(1,2,3) = %v", got)
			}
			x.Set(-5, 0, 1, 2)
			if got := x.Flat(6); got != -5 {
				t.Errorf("Set then Flat(6) = %v", got)
			}
			if x.Dim(-1) != 4 || x.Dim(0) != 2 || x.Dim(-3) != 2 {
				t.Errorf("Dim: %d %d %d", x.Dim(-1), x.Dim(0), x.Dim(-3))
			}
			vals := x.Values()
			vals[0] = 100
			if x.Flat(0) == 100 {
				t.Errorf("Values did not copy")
			}
			mustPanic(t, "At out of range", func() { x.At(2, 0, 0) }, "out of range", "[2 3 4]")
			mustPanic(t, "At wrong rank", func() { x.At(1, 1) }, "coordinates")
			mustPanic(t, "Item", func() { x.Item() }, "Item")
			c := x.Clone()
			c.SetFlat(0, 42)
			if x.Flat(0) == 42 {
				t.Errorf("Clone shares storage")
			}
			y := New(dt, 24)
			y.CopyFrom(x)
			for i := 0; i < 24; i++ {
				if y.Flat(i) != x.Flat(i) {
					t.Fatalf("CopyFrom element %d", i)
				}
			}
			mustPanic(t, "CopyFrom size", func() { New(dt, 5).CopyFrom(x) }, "CopyFrom")
			x.Fill(1.5)
			checkExact(t, "Fill", x, []int{2, 3, 4}, fillN(24, 1.5))
		})
	}
	mustPanic(t, "CopyFrom dtype", func() { New(Float32, 2).CopyFrom(New(Float64, 2)) }, "CopyFrom", "dtype")
	mustPanic(t, "F32 on f64", func() { New(Float64, 1).F32() }, "F32", "float64")
	mustPanic(t, "F64 on f32", func() { New(Float32, 1).F64() }, "F64", "float32")
	if len(New(Float32, 3).F32()) != 3 || len(New(Float64, 4).F64()) != 4 {
		t.Errorf("F32/F64 lengths")
	}
}

func fillN(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestAsType(t *testing.T) {
	x := FromValues(Float64, []float64{1.5, -2, 1e-3, 3.141592653589793}, 2, 2)
	y := x.AsType(Float32)
	if y.DType() != Float32 || !shapeEq(y.Shape(), []int{2, 2}) {
		t.Fatalf("AsType: %v", y)
	}
	for i := 0; i < 4; i++ {
		if y.Flat(i) != float64(float32(x.Flat(i))) {
			t.Errorf("AsType(Float32)[%d] = %v", i, y.Flat(i))
		}
	}
	z := y.AsType(Float64)
	checkExact(t, "AsType round trip", z, []int{2, 2}, y.Values())
	if x.AsType(Float64) != x {
		t.Errorf("AsType to the same dtype should return the tensor itself")
	}
}

func TestRandDeterministic(t *testing.T) {
	for _, dt := range dtypes {
		a := RandN(newRNG(), dt, 2, 100)
		b := RandN(newRNG(), dt, 2, 100)
		checkExact(t, "RandN", a, []int{100}, b.Values())
		mean, sq := 0.0, 0.0
		for _, v := range a.Values() {
			mean += v
			sq += v * v
		}
		if math.Abs(mean/100) > 0.6 || sq/100 < 1 || sq/100 > 9 {
			t.Errorf("RandN(std 2) implausible: mean %v, mean square %v", mean/100, sq/100)
		}
		u := RandU(newRNG(), dt, -3, -1, 1000)
		for _, v := range u.Values() {
			if v < -3 || v > -1 {
				t.Fatalf("RandU value %v outside [-3,-1)", v)
			}
		}
	}
}

func TestAllCloseAndMaxAbsDiff(t *testing.T) {
	a := FromValues(Float64, []float64{1, 2, 3}, 3)
	b := FromValues(Float64, []float64{1, 2.001, 3}, 3)
	if AllClose(a, b, 0, 1e-4) || !AllClose(a, b, 0, 1e-2) || !AllClose(a, b, 1e-3, 0) {
		t.Errorf("AllClose tolerances wrong")
	}
	if AllClose(a, Reshape(b, 1, 3), 1, 1) {
		t.Errorf("AllClose ignores shapes")
	}
	n := FromValues(Float64, []float64{1, math.NaN(), 3}, 3)
	if AllClose(n, n, 1, 1) {
		t.Errorf("AllClose treats NaN as close")
	}
	if d := MaxAbsDiff(a, b); math.Abs(d-0.001) > 1e-12 {
		t.Errorf("MaxAbsDiff = %v", d)
	}
	if d := MaxAbsDiff(a, n); !math.IsNaN(d) {
		t.Errorf("MaxAbsDiff with NaN = %v", d)
	}
	mustPanic(t, "MaxAbsDiff", func() { MaxAbsDiff(a, New(Float64, 4)) }, "MaxAbsDiff")
	if !SameShape([]int{}, nil) || SameShape([]int{1}, []int{}) || !SameShape([]int{2, 3}, []int{2, 3}) {
		t.Errorf("SameShape")
	}
}

func TestStringAndNorm(t *testing.T) {
	s := FromValues(Float32, []float64{1, 2.5}, 2).String()
	if !strings.Contains(s, "float32") || !strings.Contains(s, "[2]") || !strings.Contains(s, "2.5") {
		t.Errorf("String = %q", s)
	}
	big := New(Float64, 100).String()
	if !strings.Contains(big, "[100]") || strings.Contains(big, " 0 0") {
		t.Errorf("String of a large tensor = %q", big)
	}
	if Float64.String() != "float64" || !strings.Contains(DType(9).String(), "9") {
		t.Errorf("DType.String")
	}
	for _, dt := range dtypes {
		if n := Norm(FromValues(dt, []float64{3, -4}, 2)); n != 5 {
			t.Errorf("Norm = %v", n)
		}
	}
}

func TestInPlace(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		x := randT(rng, dt, 7, 5)
		y := randT(rng, dt, 35)
		x0, y0 := x.Values(), y.Values()
		x.AddScaledInPlace(-0.5, y)
		want := make([]float64, 35)
		for i := range want {
			want[i] = round(dt, x0[i]+round(dt, -0.5*y0[i]))
		}
		checkValues(t, "AddScaledInPlace", x, []int{7, 5}, want, elemTol(dt), 0)
		x.ScaleInPlace(3)
		for i := range want {
			want[i] = round(dt, want[i]*3)
		}
		checkValues(t, "ScaleInPlace", x, []int{7, 5}, want, elemTol(dt), 0)
		mustPanic(t, "AddScaledInPlace size", func() { x.AddScaledInPlace(1, New(dt, 3)) }, "AddScaledInPlace")
		if x.HasNaNOrInf() {
			t.Errorf("HasNaNOrInf on finite data")
		}
		x.SetFlat(3, math.Inf(-1))
		if !x.HasNaNOrInf() {
			t.Errorf("HasNaNOrInf misses -Inf")
		}
		x.SetFlat(3, math.NaN())
		if !x.HasNaNOrInf() {
			t.Errorf("HasNaNOrInf misses NaN")
		}
	}
	mustPanic(t, "AddScaledInPlace dtype", func() { New(Float32, 2).AddScaledInPlace(1, New(Float64, 2)) }, "AddScaledInPlace", "dtype")
}

func TestThreads(t *testing.T) {
	old := SetThreads(5)
	if Threads() != 5 {
		t.Errorf("Threads = %d after SetThreads(5)", Threads())
	}
	if prev := SetThreads(0); prev != 5 || Threads() != 1 {
		t.Errorf("SetThreads(0): prev %d, now %d", prev, Threads())
	}
	SetThreads(old)
	if Threads() != old {
		t.Errorf("Threads not restored")
	}
}
