package tensor

import (
	"fmt"
	"math"
	"sort"
)

// normAxes validates and sorts axes (negative counts from the end); nil or
// empty means all axes.
func normAxes(op string, rank int, axes []int) []int {
	if len(axes) == 0 {
		out := make([]int, rank)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, 0, len(axes))
	seen := make(map[int]bool)
	for _, a := range axes {
		if a < 0 {
			a += rank
		}
		if a < 0 || a >= rank {
			panic(fmt.Sprintf("tensor: %s: axis %d out of range for rank %d", op, a, rank))
		}
		if seen[a] {
			panic(fmt.Sprintf("tensor: %s: axis %d repeated", op, a))
		}
		seen[a] = true
		out = append(out, a)
	}
	sort.Ints(out)
	return out
}

// reducedShape returns the output shape of a reduction over axes.
func reducedShape(shape, axes []int, keepDims bool) []int {
	var out []int
	j := 0
	for i, d := range shape {
		if j < len(axes) && axes[j] == i {
			j++
			if keepDims {
				out = append(out, 1)
			}
			continue
		}
		out = append(out, d)
	}
	if out == nil {
		out = []int{}
	}
	return out
}

// toOuterRedInner brings the reduced axes together: it returns t (or a
// permuted copy) and the (outer, red, inner) decomposition of its storage.
func toOuterRedInner(t *Tensor, axes []int) (*Tensor, int, int, int) {
	contiguous := true
	for i := 1; i < len(axes); i++ {
		if axes[i] != axes[i-1]+1 {
			contiguous = false
		}
	}
	if !contiguous {
		// move reduced axes to the end
		perm := make([]int, 0, t.Dims())
		j := 0
		for i := 0; i < t.Dims(); i++ {
			if j < len(axes) && axes[j] == i {
				j++
				continue
			}
			perm = append(perm, i)
		}
		perm = append(perm, axes...)
		t = Permute(t, perm...)
		k := t.Dims() - len(axes)
		na := make([]int, len(axes))
		for i := range na {
			na[i] = k + i
		}
		axes = na
	}
	outer, red, inner := 1, 1, 1
	for i, d := range t.shape {
		switch {
		case i < axes[0]:
			outer *= d
		case i <= axes[len(axes)-1]:
			red *= d
		default:
			inner *= d
		}
	}
	return t, outer, red, inner
}

// Sum sums over axes (all when none given), keeping reduced dims as size 1
// when keepDims.
func Sum(t *Tensor, keepDims bool, axes ...int) *Tensor {
	ax := normAxes("Sum", t.Dims(), axes)
	out := New(t.dtype, reducedShape(t.shape, ax, keepDims)...)
	if len(ax) == 0 {
		out.CopyFrom(t)
		return out
	}
	if o, c, in, ok := splitKept(t.shape, ax); ok {
		// reduced axes are a prefix and a suffix around a kept block:
		// reduce in place, without permuting (BatchNorm, bias gradients)
		if t.dtype == Float32 {
			channelSumKernel(t.f32, out.f32, o, c, in)
		} else {
			channelSumKernel(t.f64, out.f64, o, c, in)
		}
		return out
	}
	src, outer, red, inner := toOuterRedInner(t, ax)
	if t.dtype == Float32 {
		sumKernel(src.f32, out.f32, outer, red, inner)
	} else {
		sumKernel(src.f64, out.f64, outer, red, inner)
	}
	return out
}

// splitKept reports whether the sorted axes ax are exactly a non-empty
// prefix and a non-empty suffix of shape's axes, and returns the products
// of the prefix, the kept middle and the suffix.
func splitKept(shape, ax []int) (outer, mid, inner int, ok bool) {
	if len(ax) < 2 || ax[0] != 0 || ax[len(ax)-1] != len(shape)-1 {
		return 0, 0, 0, false
	}
	j := 0
	for j+1 < len(ax) && ax[j+1] == ax[j]+1 {
		j++
	}
	// ax[:j+1] is the prefix; the rest must be the contiguous suffix
	for k := j + 1; k+1 < len(ax); k++ {
		if ax[k+1] != ax[k]+1 {
			return 0, 0, 0, false
		}
	}
	if j+1 == len(ax) {
		return 0, 0, 0, false
	}
	outer, mid, inner = 1, 1, 1
	for i, d := range shape {
		switch {
		case i <= ax[j]:
			outer *= d
		case i < ax[j+1]:
			mid *= d
		default:
			inner *= d
		}
	}
	return outer, mid, inner, true
}

func sumKernel[T Float](x, o []T, outer, red, inner int) {
	parallelFor(outer, outer*red*inner, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			base := x[p*red*inner : (p+1)*red*inner]
			dst := o[p*inner : (p+1)*inner]
			if inner == 1 {
				// pairwise-ish: 4 accumulators for accuracy and speed
				var s0, s1, s2, s3 T
				i := 0
				for ; i+4 <= red; i += 4 {
					s0 += base[i]
					s1 += base[i+1]
					s2 += base[i+2]
					s3 += base[i+3]
				}
				for ; i < red; i++ {
					s0 += base[i]
				}
				dst[0] = (s0 + s1) + (s2 + s3)
				continue
			}
			r := 0
			if per := sumBlockRows(inner); per > 0 && red >= 2*per {
				r = sumRowBlocks(base, dst, red, inner, per)
			}
			for ; r < red; r++ {
				row := base[r*inner : (r+1)*inner]
				for i, v := range row {
					dst[i] += v
				}
			}
		}
	})
}

// sumBlockRows is how many rows of length inner sumRowBlocks adds at a
// time (0: rows that long are summed one by one).
func sumBlockRows(inner int) int {
	if inner < 1 || inner >= 64 {
		return 0
	}
	return 512 / inner
}

// sumRowBlocks adds the rows of x [red, inner] into dst a block of per rows
// at a time: block b is added to an accumulator block by the vector add,
// and the accumulator's rows are summed into dst at the end. (Adding short
// rows one by one spends its time on the loop, not the additions.) It
// returns the number of rows consumed, a multiple of per; the order of the
// additions depends only on the shape.
func sumRowBlocks[T Float](x, dst []T, red, inner, per int) int {
	blk := per * inner
	ap := getScratch[T](blk)
	defer putScratch(ap)
	acc := *ap
	nb := red / per
	copy(acc, x[:blk])
	for b := 1; b < nb; b++ {
		addTo(acc, x[b*blk:(b+1)*blk])
	}
	for q := 0; q < per; q++ {
		row := acc[q*inner : (q+1)*inner]
		for i, v := range row {
			dst[i] += v
		}
	}
	return nb * per
}

// Mean averages over axes (all when none given).
func Mean(t *Tensor, keepDims bool, axes ...int) *Tensor {
	ax := normAxes("Mean", t.Dims(), axes)
	n := 1
	for _, a := range ax {
		n *= t.shape[a]
	}
	s := Sum(t, keepDims, ax...)
	if n == 0 {
		return Scale(s, math.NaN())
	}
	return Scale(s, 1/float64(n))
}

// Variance returns the variance over axes; unbiased divides by n-1.
func Variance(t *Tensor, unbiased, keepDims bool, axes ...int) *Tensor {
	ax := normAxes("Variance", t.Dims(), axes)
	n := 1
	for _, a := range ax {
		n *= t.shape[a]
	}
	d := Sub(t, Mean(t, true, ax...))
	den := float64(n)
	if unbiased {
		den--
	}
	return Scale(Sum(Square(d), keepDims, ax...), 1/den)
}

// Max returns the maximum over axes and, for each output element, the flat
// index into t of the (first) maximal element.
func Max(t *Tensor, keepDims bool, axes ...int) (*Tensor, []int) {
	return extreme("Max", t, keepDims, axes, true)
}

// Min is like Max for the minimum.
func Min(t *Tensor, keepDims bool, axes ...int) (*Tensor, []int) {
	return extreme("Min", t, keepDims, axes, false)
}

func extreme(op string, t *Tensor, keepDims bool, axes []int, isMax bool) (*Tensor, []int) {
	ax := normAxes(op, t.Dims(), axes)
	for _, a := range ax {
		if t.shape[a] == 0 {
			panic(fmt.Sprintf("tensor: %s over empty axis %d of shape %v", op, a, t.shape))
		}
	}
	out := New(t.dtype, reducedShape(t.shape, ax, keepDims)...)
	// Flat offsets of the kept positions and of the reduced combinations,
	// each in row-major order of its axes: element (k, r) is at keep[k]+red[r].
	strides := make([]int, t.Dims())
	st := 1
	for i := t.Dims() - 1; i >= 0; i-- {
		strides[i] = st
		st *= t.shape[i]
	}
	isRed := make([]bool, t.Dims())
	for _, a := range ax {
		isRed[a] = true
	}
	keep, red := []int{0}, []int{0}
	for i, d := range t.shape {
		if isRed[i] {
			red = expandOffsets(red, d, strides[i])
		} else {
			keep = expandOffsets(keep, d, strides[i])
		}
	}
	arg := make([]int, len(keep))
	if t.dtype == Float32 {
		extremeKernel(t.f32, out.f32, arg, keep, red, isMax)
	} else {
		extremeKernel(t.f64, out.f64, arg, keep, red, isMax)
	}
	return out, arg
}

// expandOffsets returns {o + i*stride : o in offs, 0 <= i < d} in row-major order.
func expandOffsets(offs []int, d, stride int) []int {
	if d == 1 {
		return offs
	}
	out := make([]int, 0, len(offs)*d)
	for _, o := range offs {
		for i := 0; i < d; i++ {
			out = append(out, o+i*stride)
		}
	}
	return out
}

func extremeKernel[T Float](x, out []T, arg, keep, red []int, isMax bool) {
	for k, base := range keep {
		var best T
		bi := -1
		for _, r := range red {
			v := x[base+r]
			if bi < 0 || (isMax && v > best) || (!isMax && v < best) || (v != v && best == best) {
				best, bi = v, base+r
			}
		}
		out[k], arg[k] = best, bi
	}
}

// ArgMax returns, for each position of the remaining axes, the index along
// axis of the largest element (first on ties).
func ArgMax(t *Tensor, axis int) []int {
	ax := normAxes("ArgMax", t.Dims(), []int{axis})[0]
	_, flat := Max(t, false, ax)
	inner := 1
	for _, d := range t.shape[ax+1:] {
		inner *= d
	}
	out := make([]int, len(flat))
	for i, f := range flat {
		out[i] = (f / inner) % t.shape[ax]
	}
	return out
}

// SumTo sums t down to shape, the inverse of broadcasting shape to t's shape.
func SumTo(t *Tensor, shape []int) *Tensor {
	if SameShape(t.shape, shape) {
		return t
	}
	lead := t.Dims() - len(shape)
	if lead < 0 {
		panic(fmt.Sprintf("tensor: SumTo: cannot reduce %v to %v", t.shape, shape))
	}
	var axes []int
	for i := 0; i < t.Dims(); i++ {
		if i < lead {
			axes = append(axes, i)
			continue
		}
		switch s := shape[i-lead]; {
		case s == t.shape[i]:
		case s == 1:
			axes = append(axes, i)
		default:
			panic(fmt.Sprintf("tensor: SumTo: cannot reduce %v to %v", t.shape, shape))
		}
	}
	return Reshape(Sum(t, true, axes...), shape...)
}

// Norm returns the Euclidean norm of all elements.
func Norm(t *Tensor) float64 {
	s := 0.0
	if t.dtype == Float32 {
		for _, v := range t.f32 {
			s += float64(v) * float64(v)
		}
	} else {
		for _, v := range t.f64 {
			s += v * v
		}
	}
	return math.Sqrt(s)
}
