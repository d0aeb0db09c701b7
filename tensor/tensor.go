package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// DType is the element type of a tensor.
type DType uint8

const (
	Float32 DType = iota
	Float64
)

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Float is the set of element types a kernel can be instantiated with.
type Float interface{ ~float32 | ~float64 }

// Tensor is a dense row-major array of float32 or float64 values.
type Tensor struct {
	dtype DType
	shape []int
	f32   []float32
	f64   []float64
	dims  [4]int // holds shape for rank <= 4 (one allocation less per tensor)
	owned bool   // the storage came from New/Clone and may be recycled (pool.go)
}

// NumElems returns the product of the dimensions in shape (1 for a scalar).
func NumElems(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
		n *= d
	}
	return n
}

func cloneShape(s []int) []int { return append([]int(nil), s...) }

// New returns a zero-filled tensor of the given dtype and shape.
func New(dt DType, shape ...int) *Tensor { return alloc(dt, false, shape) }

// newDirty is New for kernels that write every element of the result:
// recycled storage is not zeroed first.
func newDirty(dt DType, shape ...int) *Tensor { return alloc(dt, true, shape) }

func alloc(dt DType, dirty bool, shape []int) *Tensor {
	n := NumElems(shape)
	t := &Tensor{dtype: dt}
	if len(shape) <= len(t.dims) {
		// full slice expression: appending to Shape() must copy, not
		// write into dims
		n := copy(t.dims[:], shape)
		t.shape = t.dims[:n:n]
	} else {
		t.shape = cloneShape(shape)
	}
	switch dt {
	case Float32:
		t.f32, t.owned = allocF32(n, dirty)
	case Float64:
		t.f64, t.owned = allocF64(n, dirty)
	default:
		panic("tensor: unknown dtype " + dt.String())
	}
	return t
}

// Zeros is an alias of New.
func Zeros(dt DType, shape ...int) *Tensor { return New(dt, shape...) }

// ZerosLike returns a zero tensor with t's dtype and shape.
func ZerosLike(t *Tensor) *Tensor { return New(t.dtype, t.shape...) }

// Full returns a tensor filled with v.
func Full(dt DType, v float64, shape ...int) *Tensor {
	t := New(dt, shape...)
	t.Fill(v)
	return t
}

// Ones returns a tensor filled with 1.
func Ones(dt DType, shape ...int) *Tensor { return Full(dt, 1, shape...) }

// OnesLike returns a tensor of ones with t's dtype and shape.
func OnesLike(t *Tensor) *Tensor { return Full(t.dtype, 1, t.shape...) }

// Scalar returns a rank-0 tensor holding v.
func Scalar(dt DType, v float64) *Tensor { return Full(dt, v) }

// FromFloat32 wraps data (without copying) as a tensor of the given shape.
func FromFloat32(data []float32, shape ...int) *Tensor {
	if NumElems(shape) != len(data) {
		panic(fmt.Sprintf("tensor: FromFloat32: %d values do not fill shape %v", len(data), shape))
	}
	return &Tensor{dtype: Float32, shape: cloneShape(shape), f32: data}
}

// FromFloat64 wraps data (without copying) as a tensor of the given shape.
func FromFloat64(data []float64, shape ...int) *Tensor {
	if NumElems(shape) != len(data) {
		panic(fmt.Sprintf("tensor: FromFloat64: %d values do not fill shape %v", len(data), shape))
	}
	return &Tensor{dtype: Float64, shape: cloneShape(shape), f64: data}
}

// FromValues copies float64 values into a new tensor of dtype dt.
func FromValues(dt DType, data []float64, shape ...int) *Tensor {
	if NumElems(shape) != len(data) {
		panic(fmt.Sprintf("tensor: FromValues: %d values do not fill shape %v", len(data), shape))
	}
	t := New(dt, shape...)
	for i, v := range data {
		t.SetFlat(i, v)
	}
	return t
}

// RandN returns a tensor of standard normal samples scaled by std.
func RandN(rng *rand.Rand, dt DType, std float64, shape ...int) *Tensor {
	t := New(dt, shape...)
	for i := 0; i < t.Len(); i++ {
		t.SetFlat(i, rng.NormFloat64()*std)
	}
	return t
}

// RandU returns a tensor of samples uniform in [lo, hi).
func RandU(rng *rand.Rand, dt DType, lo, hi float64, shape ...int) *Tensor {
	t := New(dt, shape...)
	for i := 0; i < t.Len(); i++ {
		t.SetFlat(i, lo+(hi-lo)*rng.Float64())
	}
	return t
}

// DType returns the element type.
func (t *Tensor) DType() DType { return t.dtype }

// Shape returns the dimensions. The caller must not modify the slice.
func (t *Tensor) Shape() []int { return t.shape }

// Dims returns the rank.
func (t *Tensor) Dims() int { return len(t.shape) }

// Dim returns dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	return t.shape[i]
}

// Len returns the number of elements.
func (t *Tensor) Len() int {
	if t.dtype == Float32 {
		return len(t.f32)
	}
	return len(t.f64)
}

// F32 returns the backing slice of a float32 tensor (panics otherwise).
func (t *Tensor) F32() []float32 {
	if t.dtype != Float32 {
		panic("tensor: F32 called on a " + t.dtype.String() + " tensor")
	}
	return t.f32
}

// F64 returns the backing slice of a float64 tensor (panics otherwise).
func (t *Tensor) F64() []float64 {
	if t.dtype != Float64 {
		panic("tensor: F64 called on a " + t.dtype.String() + " tensor")
	}
	return t.f64
}

// Flat returns element i of the row-major storage as float64.
func (t *Tensor) Flat(i int) float64 {
	if t.dtype == Float32 {
		return float64(t.f32[i])
	}
	return t.f64[i]
}

// SetFlat sets element i of the row-major storage.
func (t *Tensor) SetFlat(i int, v float64) {
	if t.dtype == Float32 {
		t.f32[i] = float32(v)
	} else {
		t.f64[i] = v
	}
}

// offset converts a multi-index to a flat offset.
func (t *Tensor) offset(idx []int) int {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("tensor: index %v has %d coordinates for shape %v", idx, len(idx), t.shape))
	}
	off := 0
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			panic(fmt.Sprintf("tensor: index %v out of range for shape %v", idx, t.shape))
		}
		off = off*t.shape[i] + x
	}
	return off
}

// At returns the element at the multi-index idx.
func (t *Tensor) At(idx ...int) float64 { return t.Flat(t.offset(idx)) }

// Set sets the element at the multi-index idx.
func (t *Tensor) Set(v float64, idx ...int) { t.SetFlat(t.offset(idx), v) }

// Item returns the single value of a one-element tensor.
func (t *Tensor) Item() float64 {
	if t.Len() != 1 {
		panic(fmt.Sprintf("tensor: Item on a tensor of shape %v", t.shape))
	}
	return t.Flat(0)
}

// Values returns a float64 copy of the elements.
func (t *Tensor) Values() []float64 {
	out := make([]float64, t.Len())
	for i := range out {
		out[i] = t.Flat(i)
	}
	return out
}

// Fill sets every element to v (in place).
func (t *Tensor) Fill(v float64) {
	if t.dtype == Float32 {
		fill(t.f32, float32(v))
	} else {
		fill(t.f64, v)
	}
}

func fill[T Float](x []T, v T) {
	for i := range x {
		x[i] = v
	}
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{dtype: t.dtype, shape: cloneShape(t.shape)}
	if t.dtype == Float32 {
		c.f32, c.owned = allocF32(len(t.f32), true)
		copy(c.f32, t.f32)
	} else {
		c.f64, c.owned = allocF64(len(t.f64), true)
		copy(c.f64, t.f64)
	}
	return c
}

// CopyFrom copies src's elements into t (in place); shapes must have the same
// number of elements and dtypes must match.
func (t *Tensor) CopyFrom(src *Tensor) {
	mustSameDType("CopyFrom", t, src)
	if t.Len() != src.Len() {
		panic(fmt.Sprintf("tensor: CopyFrom: shape %v vs %v", t.shape, src.shape))
	}
	if t.dtype == Float32 {
		copy(t.f32, src.f32)
	} else {
		copy(t.f64, src.f64)
	}
}

// AsType returns t converted to dtype dt (t itself when it already is).
func (t *Tensor) AsType(dt DType) *Tensor {
	if t.dtype == dt {
		return t
	}
	c := New(dt, t.shape...)
	if dt == Float64 {
		for i, v := range t.f32 {
			c.f64[i] = float64(v)
		}
	} else {
		for i, v := range t.f64 {
			c.f32[i] = float32(v)
		}
	}
	return c
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool {
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

func mustSameDType(op string, ts ...*Tensor) {
	for _, t := range ts[1:] {
		if t.dtype != ts[0].dtype {
			panic(fmt.Sprintf("tensor: %s: dtype mismatch %v vs %v", op, ts[0].dtype, t.dtype))
		}
	}
}

// String formats small tensors fully and large ones by shape only.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor(%v, %v", t.dtype, t.shape)
	if t.Len() <= 64 {
		b.WriteString(", [")
		for i := 0; i < t.Len(); i++ {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%.6g", t.Flat(i))
		}
		b.WriteString("]")
	}
	b.WriteString(")")
	return b.String()
}

// AllClose reports whether a and b have the same shape and every pair of
// elements satisfies |a-b| <= atol + rtol*|b|. NaNs are never close.
func AllClose(a, b *Tensor, rtol, atol float64) bool {
	if !SameShape(a.shape, b.shape) {
		return false
	}
	for i := 0; i < a.Len(); i++ {
		x, y := a.Flat(i), b.Flat(i)
		if math.IsNaN(x) || math.IsNaN(y) || math.Abs(x-y) > atol+rtol*math.Abs(y) {
			return false
		}
	}
	return true
}

// MaxAbsDiff returns max |a-b| over elements of same-shaped tensors.
func MaxAbsDiff(a, b *Tensor) float64 {
	if !SameShape(a.shape, b.shape) {
		panic(fmt.Sprintf("tensor: MaxAbsDiff: shape %v vs %v", a.shape, b.shape))
	}
	m := 0.0
	for i := 0; i < a.Len(); i++ {
		d := math.Abs(a.Flat(i) - b.Flat(i))
		if d > m || math.IsNaN(d) {
			m = d
		}
	}
	return m
}
