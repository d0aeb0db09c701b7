package tensor

import "fmt"

// Reshape returns t with a new shape sharing its storage. One dimension may
// be -1 and is inferred.
func Reshape(t *Tensor, shape ...int) *Tensor {
	shape = cloneShape(shape)
	infer := -1
	n := 1
	for i, d := range shape {
		if d == -1 {
			if infer >= 0 {
				panic(fmt.Sprintf("tensor: Reshape %v -> %v: more than one -1", t.shape, shape))
			}
			infer = i
			continue
		}
		if d < 0 {
			panic(fmt.Sprintf("tensor: Reshape %v -> %v: negative dimension", t.shape, shape))
		}
		n *= d
	}
	if infer >= 0 {
		if n == 0 || t.Len()%n != 0 {
			panic(fmt.Sprintf("tensor: Reshape %v -> %v: cannot infer -1", t.shape, shape))
		}
		shape[infer] = t.Len() / n
		n *= shape[infer]
	}
	if n != t.Len() {
		panic(fmt.Sprintf("tensor: Reshape %v -> %v: element counts differ (%d vs %d)", t.shape, shape, t.Len(), n))
	}
	return &Tensor{dtype: t.dtype, shape: shape, f32: t.f32, f64: t.f64}
}

// Permute returns a copy of t with axes reordered: out.shape[i] = t.shape[perm[i]].
func Permute(t *Tensor, perm ...int) *Tensor {
	r := t.Dims()
	if len(perm) != r {
		panic(fmt.Sprintf("tensor: Permute: %d axes given for shape %v", len(perm), t.shape))
	}
	seen := make([]bool, r)
	shape := make([]int, r)
	identity := true
	for i, p := range perm {
		if p < 0 || p >= r || seen[p] {
			panic(fmt.Sprintf("tensor: Permute: invalid permutation %v for shape %v", perm, t.shape))
		}
		seen[p] = true
		shape[i] = t.shape[p]
		if p != i {
			identity = false
		}
	}
	if identity {
		return t.Clone()
	}
	out := New(t.dtype, shape...)
	if r >= 2 && perm[r-2] == r-1 && perm[r-1] == r-2 && isPrefixIdentity(perm[:r-2]) {
		// a batch of matrix transposes: tiled copies
		rows, cols := t.shape[r-2], t.shape[r-1]
		for b := 0; b < NumElems(t.shape[:r-2]); b++ {
			if t.dtype == Float32 {
				transpose2D(t.f32[b*rows*cols:(b+1)*rows*cols], out.f32[b*rows*cols:(b+1)*rows*cols], rows, cols)
			} else {
				transpose2D(t.f64[b*rows*cols:(b+1)*rows*cols], out.f64[b*rows*cols:(b+1)*rows*cols], rows, cols)
			}
		}
		return out
	}
	// source strides
	st := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		st[i] = s
		s *= t.shape[i]
	}
	ps := make([]int, r) // source stride for each output axis
	for i, p := range perm {
		ps[i] = st[p]
	}
	if t.dtype == Float32 {
		permuteKernel(t.f32, out.f32, shape, ps)
	} else {
		permuteKernel(t.f64, out.f64, shape, ps)
	}
	return out
}

func permuteKernel[T Float](src, dst []T, shape, ps []int) {
	r := len(shape)
	if len(dst) == 0 {
		return
	}
	inner := shape[r-1]
	is := ps[r-1]
	rows := len(dst) / inner
	parallelFor(rows, len(dst), func(lo, hi int) {
		idx := make([]int, r-1)
		x := lo
		for d := r - 2; d >= 0; d-- {
			idx[d] = x % shape[d]
			x /= shape[d]
		}
		for row := lo; row < hi; row++ {
			off := 0
			for d, v := range idx {
				off += v * ps[d]
			}
			o := dst[row*inner : (row+1)*inner]
			if is == 1 {
				copy(o, src[off:off+inner])
			} else {
				for i := range o {
					o[i] = src[off+i*is]
				}
			}
			for d := r - 2; d >= 0; d-- {
				idx[d]++
				if idx[d] < shape[d] {
					break
				}
				idx[d] = 0
			}
		}
	})
}

// Transpose swaps the last two axes (a matrix transpose for rank 2).
func Transpose(t *Tensor) *Tensor {
	r := t.Dims()
	if r < 2 {
		panic(fmt.Sprintf("tensor: Transpose needs rank >= 2, got shape %v", t.shape))
	}
	return SwapAxes(t, r-2, r-1)
}

// SwapAxes returns a copy of t with axes i and j exchanged; negative axes
// count from the end.
func SwapAxes(t *Tensor, i, j int) *Tensor {
	i = normAxis("SwapAxes", t, i)
	j = normAxis("SwapAxes", t, j)
	r := t.Dims()
	perm := make([]int, r)
	for k := range perm {
		perm[k] = k
	}
	perm[i], perm[j] = perm[j], perm[i]
	return Permute(t, perm...)
}

func isPrefixIdentity(p []int) bool {
	for i, v := range p {
		if v != i {
			return false
		}
	}
	return true
}

// InversePerm returns the permutation that undoes perm.
func InversePerm(perm []int) []int {
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[p] = i
	}
	return inv
}

func normAxis(op string, t *Tensor, axis int) int {
	if axis < 0 {
		axis += t.Dims()
	}
	if axis < 0 || axis >= t.Dims() {
		panic(fmt.Sprintf("tensor: %s: axis %d out of range for shape %v", op, axis, t.shape))
	}
	return axis
}

// outerInner splits a shape around axis.
func outerInner(shape []int, axis int) (outer, inner int) {
	outer, inner = 1, 1
	for i, d := range shape {
		if i < axis {
			outer *= d
		} else if i > axis {
			inner *= d
		}
	}
	return
}

// Slice returns t[..., start:end, ...] along axis (a copy).
func Slice(t *Tensor, axis, start, end int) *Tensor {
	axis = normAxis("Slice", t, axis)
	if start < 0 || end > t.shape[axis] || start > end {
		panic(fmt.Sprintf("tensor: Slice [%d:%d] out of range for axis %d of shape %v", start, end, axis, t.shape))
	}
	shape := cloneShape(t.shape)
	shape[axis] = end - start
	out := New(t.dtype, shape...)
	outer, inner := outerInner(t.shape, axis)
	if t.dtype == Float32 {
		copyBlocks(out.f32, t.f32, outer, (end-start)*inner, t.shape[axis]*inner, start*inner, 0, (end-start)*inner)
	} else {
		copyBlocks(out.f64, t.f64, outer, (end-start)*inner, t.shape[axis]*inner, start*inner, 0, (end-start)*inner)
	}
	return out
}

// copyBlocks copies outer blocks of n elements from src (block stride ss,
// offset so) to dst (block stride ds, offset do).
func copyBlocks[T Float](dst, src []T, outer, n, ss, so, do, ds int) {
	for p := 0; p < outer; p++ {
		copy(dst[p*ds+do:p*ds+do+n], src[p*ss+so:p*ss+so+n])
	}
}

// SliceGrad embeds g into zeros of shape, at [start:start+g.shape[axis]]
// along axis: the adjoint of Slice.
func SliceGrad(g *Tensor, shape []int, axis, start int) *Tensor {
	out := New(g.dtype, shape...)
	axis = normAxis("SliceGrad", out, axis)
	if !sameOffAxis(g.shape, shape, axis) || start < 0 || start+g.shape[axis] > shape[axis] {
		panic(fmt.Sprintf("tensor: SliceGrad: gradient %v does not fit shape %v at [%d:] along axis %d", g.shape, shape, start, axis))
	}
	outer, inner := outerInner(shape, axis)
	n := g.shape[axis] * inner
	if g.dtype == Float32 {
		copyBlocks(out.f32, g.f32, outer, n, n, 0, start*inner, shape[axis]*inner)
	} else {
		copyBlocks(out.f64, g.f64, outer, n, n, 0, start*inner, shape[axis]*inner)
	}
	return out
}

// sameOffAxis reports whether a and b have the same rank and agree on every
// dimension except axis.
func sameOffAxis(a, b []int, axis int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if i != axis && a[i] != b[i] {
			return false
		}
	}
	return true
}

// Concat joins tensors along axis; all other dims must match.
func Concat(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor: Concat of no tensors")
	}
	mustSameDType("Concat", ts...)
	axis = normAxis("Concat", ts[0], axis)
	shape := cloneShape(ts[0].shape)
	shape[axis] = 0
	for _, t := range ts {
		if t.Dims() != len(shape) {
			panic(fmt.Sprintf("tensor: Concat: shape %v vs %v", ts[0].shape, t.shape))
		}
		for i, d := range t.shape {
			if i != axis && d != shape[i] {
				panic(fmt.Sprintf("tensor: Concat along %d: shape %v vs %v", axis, ts[0].shape, t.shape))
			}
		}
		shape[axis] += t.shape[axis]
	}
	out := New(ts[0].dtype, shape...)
	outer, inner := outerInner(shape, axis)
	off := 0
	for _, t := range ts {
		n := t.shape[axis] * inner
		if t.dtype == Float32 {
			copyBlocks(out.f32, t.f32, outer, n, n, 0, off, shape[axis]*inner)
		} else {
			copyBlocks(out.f64, t.f64, outer, n, n, 0, off, shape[axis]*inner)
		}
		off += n
	}
	return out
}

// Stack joins same-shaped tensors along a new axis.
func Stack(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor: Stack of no tensors")
	}
	r := ts[0].Dims()
	if axis < 0 {
		axis += r + 1
	}
	if axis < 0 || axis > r {
		panic(fmt.Sprintf("tensor: Stack: axis %d out of range for rank %d", axis, r))
	}
	parts := make([]*Tensor, len(ts))
	for i, t := range ts {
		if !SameShape(t.shape, ts[0].shape) {
			panic(fmt.Sprintf("tensor: Stack: shape %v vs %v", ts[0].shape, t.shape))
		}
		s := append(append(cloneShape(t.shape[:axis]), 1), t.shape[axis:]...)
		parts[i] = Reshape(t, s...)
	}
	return Concat(axis, parts...)
}

// IndexSelect picks entries idx along axis: out has shape[axis] = len(idx).
func IndexSelect(t *Tensor, axis int, idx []int) *Tensor {
	axis = normAxis("IndexSelect", t, axis)
	shape := cloneShape(t.shape)
	shape[axis] = len(idx)
	out := New(t.dtype, shape...)
	outer, inner := outerInner(t.shape, axis)
	d := t.shape[axis]
	for _, ix := range idx {
		if ix < 0 || ix >= d {
			panic(fmt.Sprintf("tensor: IndexSelect: index %d out of range [0,%d) on axis %d of shape %v", ix, d, axis, t.shape))
		}
	}
	if t.dtype == Float32 {
		indexSelect(out.f32, t.f32, idx, outer, inner, d)
	} else {
		indexSelect(out.f64, t.f64, idx, outer, inner, d)
	}
	return out
}

func indexSelect[T Float](dst, src []T, idx []int, outer, inner, d int) {
	for p := 0; p < outer; p++ {
		for j, ix := range idx {
			copy(dst[(p*len(idx)+j)*inner:(p*len(idx)+j+1)*inner], src[(p*d+ix)*inner:(p*d+ix+1)*inner])
		}
	}
}

// IndexAdd returns zeros of shape with g's entries added at idx along axis:
// the adjoint of IndexSelect (repeated indices accumulate).
func IndexAdd(g *Tensor, shape []int, axis int, idx []int) *Tensor {
	out := New(g.dtype, shape...)
	axis = normAxis("IndexAdd", out, axis)
	outer, inner := outerInner(shape, axis)
	d := shape[axis]
	if !sameOffAxis(g.shape, shape, axis) || g.shape[axis] != len(idx) {
		panic(fmt.Sprintf("tensor: IndexAdd: gradient %v with %d indices does not match shape %v along axis %d", g.shape, len(idx), shape, axis))
	}
	for _, ix := range idx {
		if ix < 0 || ix >= d {
			panic(fmt.Sprintf("tensor: IndexAdd: index %d out of range [0,%d) on axis %d of shape %v", ix, d, axis, shape))
		}
	}
	if g.dtype == Float32 {
		indexAdd(out.f32, g.f32, idx, outer, inner, d)
	} else {
		indexAdd(out.f64, g.f64, idx, outer, inner, d)
	}
	return out
}

func indexAdd[T Float](dst, src []T, idx []int, outer, inner, d int) {
	for p := 0; p < outer; p++ {
		for j, ix := range idx {
			o := dst[(p*d+ix)*inner : (p*d+ix+1)*inner]
			s := src[(p*len(idx)+j)*inner : (p*len(idx)+j+1)*inner]
			for i := range o {
				o[i] += s[i]
			}
		}
	}
}

// Gather picks, along axis, t[..., idx[..., j, ...], ...] in the manner of
// torch.gather: idx has t's shape except along axis (flattened, row-major,
// shape given by idxShape) and the output has idxShape.
func Gather(t *Tensor, axis int, idx []int, idxShape []int) *Tensor {
	axis = normAxis("Gather", t, axis)
	flat, err := gatherFlat(t.shape, axis, idx, idxShape)
	if err != nil {
		panic("tensor: Gather: " + err.Error())
	}
	return TakeFlat(t, flat, idxShape)
}

// GatherFlatIndex converts a torch.gather-style index into flat indices of
// the source tensor, validating it.
func GatherFlatIndex(shape []int, axis int, idx []int, idxShape []int) ([]int, error) {
	return gatherFlat(shape, axis, idx, idxShape)
}

func gatherFlat(shape []int, axis int, idx []int, idxShape []int) ([]int, error) {
	if len(idxShape) != len(shape) || NumElems(idxShape) != len(idx) {
		return nil, fmt.Errorf("index shape %v (%d values) does not match source shape %v", idxShape, len(idx), shape)
	}
	for i, d := range idxShape {
		if i != axis && d != shape[i] {
			return nil, fmt.Errorf("index shape %v differs from source shape %v off axis %d", idxShape, shape, axis)
		}
	}
	outer, inner := outerInner(idxShape, axis)
	k := idxShape[axis]
	d := shape[axis]
	flat := make([]int, len(idx))
	for p := 0; p < outer; p++ {
		for j := 0; j < k; j++ {
			for i := 0; i < inner; i++ {
				q := (p*k+j)*inner + i
				ix := idx[q]
				if ix < 0 || ix >= d {
					return nil, fmt.Errorf("index %d out of range [0,%d)", ix, d)
				}
				flat[q] = (p*d+ix)*inner + i
			}
		}
	}
	return flat, nil
}

// TakeFlat returns the elements of t at the given flat indices, shaped as shape.
func TakeFlat(t *Tensor, idx []int, shape []int) *Tensor {
	out := New(t.dtype, shape...)
	if out.Len() != len(idx) {
		panic(fmt.Sprintf("tensor: TakeFlat: %d indices for shape %v", len(idx), shape))
	}
	n := t.Len()
	for _, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("tensor: TakeFlat: index %d out of range for %d elements", i, n))
		}
	}
	if t.dtype == Float32 {
		for j, i := range idx {
			out.f32[j] = t.f32[i]
		}
	} else {
		for j, i := range idx {
			out.f64[j] = t.f64[i]
		}
	}
	return out
}

// ScatterAddFlat returns zeros of shape with g's elements added at the flat
// indices idx: the adjoint of TakeFlat.
func ScatterAddFlat(g *Tensor, idx []int, shape []int) *Tensor {
	out := New(g.dtype, shape...)
	if g.Len() != len(idx) {
		panic(fmt.Sprintf("tensor: ScatterAddFlat: %d indices for %d values", len(idx), g.Len()))
	}
	for _, i := range idx {
		if i < 0 || i >= out.Len() {
			panic(fmt.Sprintf("tensor: ScatterAddFlat: index %d out of range for shape %v", i, shape))
		}
	}
	if g.dtype == Float32 {
		for j, i := range idx {
			out.f32[i] += g.f32[j]
		}
	} else {
		for j, i := range idx {
			out.f64[i] += g.f64[j]
		}
	}
	return out
}
