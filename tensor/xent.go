package tensor

import (
	"fmt"
	"math"
)

// Softmax cross-entropy over the last axis in one pass per row, for large
// vocabularies: neither the log-probabilities nor the probabilities are
// stored. For a row x of V logits with target t and label smoothing eps
// (PyTorch's definition: the target distribution is (1-eps) one-hot(t) +
// eps/V uniform),
//
//	loss = (1-eps) (L - x_t) + eps (L - mean(x)),   L = logsumexp(x)
//	dloss/dx_c = softmax(x)_c - (1-eps) [c == t] - eps/V
//
// Rows whose target is the ignore index give loss 0 and gradient 0.

// XentSpec selects the targets, label smoothing and ignored index of
// SoftmaxCrossEntropy.
type XentSpec struct {
	Targets   []int   // one per row
	Smoothing float64 // in [0, 1)
	// Ignore is the target value of rows to skip (padding); with
	// IgnoreSet false no row is skipped.
	Ignore    int
	IgnoreSet bool
}

func (s *XentSpec) ignored(t int) bool { return s.IgnoreSet && t == s.Ignore }

// Validate checks the spec against logits of shape [..., V]: one target
// per row, each in [0, V) unless ignored, and smoothing in [0, 1).
func (s *XentSpec) Validate(shape []int) error {
	if len(shape) == 0 {
		return fmt.Errorf("logits must have a class axis, got a scalar")
	}
	v := shape[len(shape)-1]
	rows := NumElems(shape) / max(v, 1)
	if v == 0 {
		rows = NumElems(shape[:len(shape)-1])
	}
	if len(s.Targets) != rows {
		return fmt.Errorf("%d targets for logits %v (%d rows)", len(s.Targets), shape, rows)
	}
	for i, t := range s.Targets {
		if !s.ignored(t) && (t < 0 || t >= v) {
			return fmt.Errorf("target %d at row %d not in [0,%d)", t, i, v)
		}
	}
	if !(s.Smoothing >= 0 && s.Smoothing < 1) {
		return fmt.Errorf("label smoothing %v not in [0,1)", s.Smoothing)
	}
	return nil
}

// SoftmaxCrossEntropy returns the per-row losses (the logits' shape
// without the last axis) and each row's log-sum-exp in float64 (for the
// backward pass) for logits [..., V].
func SoftmaxCrossEntropy(logits *Tensor, s XentSpec) (loss, lse *Tensor) {
	if err := s.Validate(logits.shape); err != nil {
		panic("tensor: SoftmaxCrossEntropy: " + err.Error())
	}
	v := logits.shape[len(logits.shape)-1]
	rows := len(s.Targets)
	loss = New(logits.dtype, logits.shape[:len(logits.shape)-1]...)
	lse = New(Float64, rows)
	if logits.dtype == Float32 {
		xentForward(&s, logits.f32, loss.f32, lse.f64, rows, v)
	} else {
		xentForward(&s, logits.f64, loss.f64, lse.f64, rows, v)
	}
	return loss, lse
}

func xentForward[T Float](s *XentSpec, x, loss []T, lse []float64, rows, v int) {
	eps := s.Smoothing
	parallelFor(rows, rows*v*4, func(lo, hi int) {
		var buf *[]T
		if lo < hi {
			buf = getScratch[T](v)
			defer putScratch(buf)
		}
		for r := lo; r < hi; r++ {
			t := s.Targets[r]
			if s.ignored(t) || v == 0 {
				loss[r], lse[r] = 0, 0
				continue
			}
			row := x[r*v : (r+1)*v]
			m := rowMaxScaled(row, 1)
			sum := expShift(*buf, row, 1, m)
			L := m + math.Log(sum)
			lse[r] = L
			l := (1 - eps) * (L - float64(row[t]))
			if eps != 0 {
				mean := rowSum(row) / float64(v)
				l += eps * (L - mean)
			}
			loss[r] = T(l)
		}
	})
}

// SoftmaxCrossEntropyBackward returns the gradient of sum(g * loss) with
// respect to the logits, given the forward pass's log-sum-exp.
func SoftmaxCrossEntropyBackward(g, logits, lse *Tensor, s XentSpec) *Tensor {
	if err := s.Validate(logits.shape); err != nil {
		panic("tensor: SoftmaxCrossEntropyBackward: " + err.Error())
	}
	mustSameDType("SoftmaxCrossEntropyBackward", g, logits)
	rows := len(s.Targets)
	if g.Len() != rows || lse.Len() != rows || lse.dtype != Float64 {
		panic(fmt.Sprintf("tensor: SoftmaxCrossEntropyBackward: gradient %v and lse %v for %d rows", g.shape, lse.shape, rows))
	}
	v := logits.shape[len(logits.shape)-1]
	out := newDirty(logits.dtype, logits.shape...)
	if logits.dtype == Float32 {
		xentBackward(&s, g.f32, logits.f32, lse.f64, out.f32, rows, v)
	} else {
		xentBackward(&s, g.f64, logits.f64, lse.f64, out.f64, rows, v)
	}
	return out
}

func xentBackward[T Float](s *XentSpec, g, x []T, lse []float64, out []T, rows, v int) {
	eps := s.Smoothing
	parallelFor(rows, rows*v*4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			o := out[r*v : (r+1)*v]
			t := s.Targets[r]
			if s.ignored(t) {
				clear(o)
				continue
			}
			gr := g[r]
			expShift(o, x[r*v:(r+1)*v], 1, lse[r])
			u := T(eps / float64(v))
			for c := range o {
				o[c] = gr * (o[c] - u)
			}
			o[t] -= gr * T(1-eps)
		}
	})
}
