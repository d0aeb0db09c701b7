package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Shared helpers for the tensor tests. Every kernel is checked against a
// plain reference written here with naive loops in float64 over the
// row-major element order.

var dtypes = []DType{Float32, Float64}

func newRNG() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// eps returns the unit roundoff of dt.
func eps(dt DType) float64 {
	if dt == Float32 {
		return 0x1p-24
	}
	return 0x1p-53
}

// elemTol is the relative tolerance for a single rounded elementwise op.
func elemTol(dt DType) float64 {
	if dt == Float32 {
		return 4e-7
	}
	return 1e-15
}

// rowMajorStrides returns the element strides of a row-major shape.
func rowMajorStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

// unravel converts a flat row-major index into a multi-index.
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = i % shape[d]
			i /= shape[d]
		}
	}
	return idx
}

// ravel converts a multi-index into a flat row-major index.
func ravel(idx, shape []int) int {
	off := 0
	for d, x := range idx {
		off = off*shape[d] + x
	}
	return off
}

// bcastFlat maps a multi-index of the broadcast output to the flat index of
// an operand of shape in (aligned on the right; size-1 dims read index 0).
func bcastFlat(outIdx, in []int) int {
	lead := len(outIdx) - len(in)
	off := 0
	for d, n := range in {
		x := outIdx[lead+d]
		if n == 1 {
			x = 0
		}
		off = off*n + x
	}
	return off
}

// refBroadcastShape is an independent implementation of NumPy broadcasting.
func refBroadcastShape(a, b []int) ([]int, bool) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			return nil, false
		}
	}
	return out, true
}

// round rounds v to the precision of dt.
func round(dt DType, v float64) float64 {
	if dt == Float32 {
		return float64(float32(v))
	}
	return v
}

func shapeEq(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// close reports whether got is within atol+rtol*|want| of want; two NaNs and
// equal infinities count as close.
func closeTo(got, want, rtol, atol float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	if math.IsInf(want, 0) || math.IsInf(got, 0) {
		return got == want
	}
	return math.Abs(got-want) <= atol+rtol*math.Abs(want)
}

// checkValues compares got with the reference (shape and values) and
// reports at most a few mismatches.
func checkValues(t *testing.T, name string, got *Tensor, wantShape []int, want []float64, rtol, atol float64) {
	t.Helper()
	if !shapeEq(got.Shape(), wantShape) {
		t.Errorf("%s: shape %v, want %v", name, got.Shape(), wantShape)
		return
	}
	if got.Len() != len(want) {
		t.Errorf("%s: %d elements, want %d", name, got.Len(), len(want))
		return
	}
	bad := 0
	for i, w := range want {
		if g := got.Flat(i); !closeTo(g, w, rtol, atol) {
			if bad < 5 {
				t.Errorf("%s: element %d (%v) = %.17g, want %.17g (diff %.3g)", name, i, unravel(i, wantShape), g, w, math.Abs(g-w))
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d mismatches in total", name, bad)
	}
}

// checkExact requires bit-for-bit equal values (NaNs match NaNs).
func checkExact(t *testing.T, name string, got *Tensor, wantShape []int, want []float64) {
	t.Helper()
	checkValues(t, name, got, wantShape, want, 0, 0)
}

// checkDType verifies the dtype of a result.
func checkDType(t *testing.T, name string, got *Tensor, dt DType) {
	t.Helper()
	if got.DType() != dt {
		t.Errorf("%s: dtype %v, want %v", name, got.DType(), dt)
	}
}

// checkSums compares reduction-like results whose error is bounded by
// n*eps*scale[i] (scale = sum of absolute values of the terms).
func checkSums(t *testing.T, name string, got *Tensor, wantShape []int, want, scale []float64, terms int, dt DType) {
	t.Helper()
	if !shapeEq(got.Shape(), wantShape) {
		t.Errorf("%s: shape %v, want %v", name, got.Shape(), wantShape)
		return
	}
	bad := 0
	for i, w := range want {
		tol := 2*float64(terms+2)*eps(dt)*scale[i] + 1e-300
		if g := got.Flat(i); !(math.Abs(g-w) <= tol) {
			if bad < 5 {
				t.Errorf("%s: element %d = %.17g, want %.17g (diff %.3g > tol %.3g)", name, i, g, w, math.Abs(g-w), tol)
			}
			bad++
		}
	}
}

// dot returns <a, b> in float64 and the sum of |a_i b_i|.
func dot(a, b *Tensor) (s, scale float64) {
	if a.Len() != b.Len() {
		panic(fmt.Sprintf("dot: %v vs %v", a.Shape(), b.Shape()))
	}
	for i := 0; i < a.Len(); i++ {
		p := a.Flat(i) * b.Flat(i)
		s += p
		scale += math.Abs(p)
	}
	return
}

// checkAdjoint checks <lhs1, lhs2> == <rhs1, rhs2> up to rtol of the scale.
func checkAdjoint(t *testing.T, name string, l1, l2, r1, r2 *Tensor, rtol float64) {
	t.Helper()
	l, ls := dot(l1, l2)
	r, rs := dot(r1, r2)
	if d := math.Abs(l - r); d > rtol*max(ls, rs)+1e-300 {
		t.Errorf("%s: adjoint identity fails: %.17g vs %.17g (diff %.3g, scale %.3g)", name, l, r, d, max(ls, rs))
	}
}

// mustPanic runs f and requires it to panic with a message containing every
// one of the given substrings.
func mustPanic(t *testing.T, name string, f func(), substrs ...string) {
	t.Helper()
	msg, ok := panicMessage(f)
	if !ok {
		t.Errorf("%s: did not panic", name)
		return
	}
	for _, s := range substrs {
		if !strings.Contains(msg, s) {
			t.Errorf("%s: panic message %q does not contain %q", name, msg, s)
		}
	}
}

func panicMessage(f func()) (msg string, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			panicked = true
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return "", false
}

// randT returns a standard normal tensor.
func randT(rng *rand.Rand, dt DType, shape ...int) *Tensor { return RandN(rng, dt, 1, shape...) }

// randInts returns a tensor of small integers in [lo, hi] (exact in both
// dtypes, so ties and equalities are common).
func randInts(rng *rand.Rand, dt DType, lo, hi int, shape ...int) *Tensor {
	t := New(dt, shape...)
	for i := 0; i < t.Len(); i++ {
		t.SetFlat(i, float64(lo+rng.IntN(hi-lo+1)))
	}
	return t
}

// withThreads runs f with SetThreads(n) and restores the previous value.
func withThreads(n int, f func()) {
	old := SetThreads(n)
	defer SetThreads(old)
	f()
}

// threadCounts are the worker counts tests exercise for parallel kernels.
var threadCounts = []int{1, 3, 8}

func allPerms(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range allPerms(n - 1) {
		for pos := 0; pos <= len(p); pos++ {
			q := append(append(append([]int{}, p[:pos]...), n-1), p[pos:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestHelpers(t *testing.T) {
	if got := len(allPerms(4)); got != 24 {
		t.Fatalf("allPerms(4) has %d entries", got)
	}
	shape := []int{2, 3, 4}
	for i := 0; i < 24; i++ {
		if ravel(unravel(i, shape), shape) != i {
			t.Fatalf("ravel(unravel(%d)) mismatch", i)
		}
	}
	if _, ok := panicMessage(func() {}); ok {
		t.Fatal("panicMessage reported a panic for a normal return")
	}
	if msg, ok := panicMessage(func() { panic("boom") }); !ok || msg != "boom" {
		t.Fatalf("panicMessage = %q, %v", msg, ok)
	}
}
