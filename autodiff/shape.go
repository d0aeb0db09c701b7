package autodiff

import "github.com/metalearn/metalearn/tensor"

// Reshape returns x with a new shape (one dimension may be -1).
func Reshape(x *Var, shape ...int) *Var {
	inShape := append([]int(nil), x.Shape()...)
	v := tensor.Reshape(x.Value, shape...)
	if tensor.SameShape(inShape, v.Shape()) {
		return x
	}
	return record("Reshape", v, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Reshape(g, inShape...)}
	}, x)
}

// Flatten reshapes x [N, ...] to [N, prod(...)].
func Flatten(x *Var) *Var { return Reshape(x, x.Shape()[0], -1) }

// Permute reorders axes: out.shape[i] = x.shape[perm[i]].
func Permute(x *Var, perm ...int) *Var {
	perm = append([]int(nil), perm...)
	return record("Permute", tensor.Permute(x.Value, perm...), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Permute(g, tensor.InversePerm(perm)...)}
	}, x)
}

// Transpose swaps the last two axes.
func Transpose(x *Var) *Var {
	return record("Transpose", tensor.Transpose(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Transpose(g)}
	}, x)
}

// Slice returns x[..., start:end, ...] along axis.
func Slice(x *Var, axis, start, end int) *Var {
	inShape := append([]int(nil), x.Shape()...)
	return record("Slice", tensor.Slice(x.Value, axis, start, end), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{sliceGrad(g, inShape, axis, start)}
	}, x)
}

// sliceGrad embeds g into zeros of shape at start along axis (adjoint of Slice).
func sliceGrad(g *Var, shape []int, axis, start int) *Var {
	n := g.Shape()[normAxis(axis, len(shape))]
	return record("SliceGrad", tensor.SliceGrad(g.Value, shape, axis, start), func(gg *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Slice(gg, axis, start, start+n)}
	}, g)
}

func normAxis(a, rank int) int {
	if a < 0 {
		return a + rank
	}
	return a
}

// Concat joins Vars along axis.
func Concat(axis int, xs ...*Var) *Var {
	vals := make([]*tensor.Tensor, len(xs))
	sizes := make([]int, len(xs))
	for i, x := range xs {
		vals[i] = x.Value
	}
	v := tensor.Concat(axis, vals...)
	ax := normAxis(axis, v.Dims())
	for i, x := range xs {
		sizes[i] = x.Shape()[ax]
	}
	return record("Concat", v, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, len(in))
		off := 0
		for i := range in {
			if needs[i] {
				r[i] = Slice(g, ax, off, off+sizes[i])
			}
			off += sizes[i]
		}
		return r
	}, xs...)
}

// Stack joins same-shaped Vars along a new axis.
func Stack(axis int, xs ...*Var) *Var {
	parts := make([]*Var, len(xs))
	for i, x := range xs {
		s := x.Shape()
		a := axis
		if a < 0 {
			a += len(s) + 1
		}
		ns := append(append(append([]int(nil), s[:a]...), 1), s[a:]...)
		parts[i] = Reshape(x, ns...)
	}
	a := axis
	if a < 0 {
		a += len(xs[0].Shape()) + 1
	}
	return Concat(a, parts...)
}

// IndexSelect picks entries idx along axis (rows of an embedding table, say).
func IndexSelect(x *Var, axis int, idx []int) *Var {
	inShape := append([]int(nil), x.Shape()...)
	idx = append([]int(nil), idx...)
	return record("IndexSelect", tensor.IndexSelect(x.Value, axis, idx), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{indexAdd(g, inShape, axis, idx)}
	}, x)
}

func indexAdd(g *Var, shape []int, axis int, idx []int) *Var {
	return record("IndexAdd", tensor.IndexAdd(g.Value, shape, axis, idx), func(gg *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{IndexSelect(gg, axis, idx)}
	}, g)
}

// Gather picks x[..., idx, ...] along axis in the manner of torch.gather;
// idx is row-major with shape idxShape, equal to x's shape off axis.
func Gather(x *Var, axis int, idx []int, idxShape []int) *Var {
	flat, err := tensor.GatherFlatIndex(x.Shape(), normAxis(axis, len(x.Shape())), idx, idxShape)
	if err != nil {
		panic("autodiff: Gather: " + err.Error())
	}
	return TakeFlat(x, flat, idxShape)
}

// TakeFlat returns the elements of x at flat indices idx, shaped as shape.
func TakeFlat(x *Var, idx []int, shape []int) *Var {
	inShape := append([]int(nil), x.Shape()...)
	shape = append([]int(nil), shape...)
	return record("TakeFlat", tensor.TakeFlat(x.Value, idx, shape), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{scatterAddFlat(g, idx, inShape)}
	}, x)
}

func scatterAddFlat(g *Var, idx []int, shape []int) *Var {
	gShape := append([]int(nil), g.Shape()...)
	return record("ScatterAddFlat", tensor.ScatterAddFlat(g.Value, idx, shape), func(gg *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{TakeFlat(gg, idx, gShape)}
	}, g)
}
