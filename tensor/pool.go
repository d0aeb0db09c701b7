package tensor

import (
	"sync"
	"unsafe"
)

// Storage recycling. Training allocates the same large buffers step after
// step (activations, intermediate gradients); handing the dead ones back
// (Recycle) lets New reuse them instead of asking the garbage collector
// for fresh, zeroed memory, which on a conv net costs more time than many
// of the kernels. Only storage New (or Clone) allocated is ever recycled,
// never data a caller wrapped with FromFloat32/FromFloat64, and a buffer
// is reused only for a tensor of exactly its length, so a recycled slice
// can never reach into memory beyond it. The pools are sync.Pools: the
// collector may drop what they hold, so they never keep memory alive for
// long.

// minPooledBytes is the smallest buffer worth pooling (measured on the
// seed step, whose 32 KB activations gained 30%): below it the runtime's
// per-size caches are as cheap as a pool lookup; above it every fresh
// buffer costs zeroing, and large ones a span of their own and page
// faults after the scavenger returned their pages.
const minPooledBytes = 16 << 10

type poolKey struct {
	dt DType
	n  int
}

var pools sync.Map // poolKey -> *sync.Pool of *[]float32 or *[]float64

func poolFor(dt DType, n int) *sync.Pool {
	k := poolKey{dt, n}
	if p, ok := pools.Load(k); ok {
		return p.(*sync.Pool)
	}
	p, _ := pools.LoadOrStore(k, new(sync.Pool))
	return p.(*sync.Pool)
}

// allocF32 returns n float32s (zeroed unless dirty: the caller then
// writes every element) and whether they may be recycled.
func allocF32(n int, dirty bool) ([]float32, bool) { return allocSlice[float32](Float32, n, dirty) }

func allocF64(n int, dirty bool) ([]float64, bool) { return allocSlice[float64](Float64, n, dirty) }

func allocSlice[T Float](dt DType, n int, dirty bool) ([]T, bool) {
	var z T
	if n*int(unsafe.Sizeof(z)) < minPooledBytes {
		return make([]T, n), false
	}
	if p, ok := poolFor(dt, n).Get().(*[]T); ok {
		s := *p
		if !dirty {
			clear(s)
		}
		return s, true
	}
	return make([]T, n), true
}

// Recycle hands t's storage back for reuse by later tensors of the same
// length and dtype, and detaches it from t: reading t's values afterwards
// panics instead of seeing another tensor's data. The caller guarantees
// that nothing else uses the storage any more, in particular no Reshape of
// t. Tensors whose storage New did not allocate (FromFloat32, FromFloat64,
// Reshape views) and small tensors are left alone. Recycle is safe for
// concurrent use.
func Recycle(t *Tensor) {
	if t == nil || !t.owned {
		return
	}
	t.owned = false
	switch t.dtype {
	case Float32:
		s := t.f32[:len(t.f32):len(t.f32)]
		t.f32 = nil
		poolFor(Float32, len(s)).Put(&s)
	case Float64:
		s := t.f64[:len(t.f64):len(t.f64)]
		t.f64 = nil
		poolFor(Float64, len(s)).Put(&s)
	}
}

// Storage returns an identifier of t's storage: two tensors share storage
// (one is a Reshape of the other) exactly when their identifiers are equal.
// Empty tensors return nil.
func Storage(t *Tensor) unsafe.Pointer {
	if t.dtype == Float32 {
		if len(t.f32) == 0 {
			return nil
		}
		return unsafe.Pointer(unsafe.SliceData(t.f32))
	}
	if len(t.f64) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(t.f64))
}

// Pooled reports whether t is large enough for its storage to be pooled
// (whether or not t itself owns it): smaller tensors are never recycled,
// so bookkeeping about them can be skipped.
func Pooled(t *Tensor) bool { return t != nil && 4*len(t.f32)+8*len(t.f64) >= minPooledBytes }

// Recyclable reports whether Recycle would take t's storage.
func Recyclable(t *Tensor) bool { return t != nil && t.owned }
