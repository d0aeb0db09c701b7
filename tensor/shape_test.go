package tensor

import (
	"fmt"
	"math"
	"testing"
)

// arange returns a tensor whose elements are 0, 1, 2, ... (exact in both dtypes).
func arange(dt DType, shape ...int) *Tensor {
	t := New(dt, shape...)
	for i := 0; i < t.Len(); i++ {
		t.SetFlat(i, float64(i))
	}
	return t
}

func TestReshape(t *testing.T) {
	cases := []struct {
		in, shape, want []int
	}{
		{[]int{2, 3, 4}, []int{-1, 4}, []int{6, 4}},
		{[]int{2, 3, 4}, []int{6, -1}, []int{6, 4}},
		{[]int{2, 3, 4}, []int{24}, []int{24}},
		{[]int{2, 3, 4}, []int{-1}, []int{24}},
		{[]int{2, 3, 4}, []int{2, -1, 2}, []int{2, 6, 2}},
		{[]int{2, 3, 4}, []int{1, 24, 1}, []int{1, 24, 1}},
		{[]int{1}, []int{}, []int{}},
		{[]int{}, []int{1, 1}, []int{1, 1}},
		{[]int{}, []int{-1}, []int{1}},
		{[]int{0, 3}, []int{3, 0, 5}, []int{3, 0, 5}},
	}
	for _, dt := range dtypes {
		for _, c := range cases {
			x := arange(dt, c.in...)
			arg := append([]int{}, c.shape...)
			got := Reshape(x, arg...)
			checkExact(t, fmt.Sprintf("Reshape%v->%v", c.in, c.shape), got, c.want, x.Values())
			if !shapeEq(arg, c.shape) {
				t.Errorf("Reshape modified its shape argument: %v", arg)
			}
			if !shapeEq(x.Shape(), c.in) {
				t.Errorf("Reshape modified the input's shape: %v", x.Shape())
			}
		}
		// Reshape shares storage with its input.
		x := arange(dt, 2, 3)
		r := Reshape(x, 3, 2)
		r.Set(-7, 2, 1)
		if x.At(1, 2) != -7 {
			t.Errorf("Reshape does not share storage")
		}
		mustPanic(t, "Reshape two -1", func() { Reshape(x, -1, -1) }, "Reshape", "-1")
		mustPanic(t, "Reshape count", func() { Reshape(x, 4, 2) }, "Reshape", "[2 3]", "[4 2]")
		mustPanic(t, "Reshape infer", func() { Reshape(x, -1, 4) }, "Reshape")
		mustPanic(t, "Reshape negative", func() { Reshape(x, -2, -3) }, "Reshape", "negative")
		mustPanic(t, "Reshape infer zero", func() { Reshape(New(dt, 0, 3), 0, -1) }, "Reshape")
	}
}

// refPermute is out[i0..] = x[j] with j[perm[k]] = i[k].
func refPermute(x []float64, shape, perm []int) ([]int, []float64) {
	outShape := make([]int, len(perm))
	for i, p := range perm {
		outShape[i] = shape[p]
	}
	out := make([]float64, len(x))
	src := make([]int, len(shape))
	for i := range out {
		idx := unravel(i, outShape)
		for k, p := range perm {
			src[p] = idx[k]
		}
		out[i] = x[ravel(src, shape)]
	}
	return outShape, out
}

func TestPermute(t *testing.T) {
	shapes := [][]int{{2, 3, 4}, {1, 3, 2}, {2, 3, 4, 5}, {3, 1, 2, 2}, {2, 0, 3}}
	for _, dt := range dtypes {
		rng := newRNG()
		for _, shape := range shapes {
			x := randT(rng, dt, shape...)
			x0 := x.Values()
			for _, perm := range allPerms(len(shape)) {
				got := Permute(x, perm...)
				ws, want := refPermute(x0, shape, perm)
				checkExact(t, fmt.Sprintf("Permute%v%v", shape, perm), got, ws, want)
				// Permuting back with the inverse permutation is the identity.
				back := Permute(got, InversePerm(perm)...)
				checkExact(t, fmt.Sprintf("Permute inverse %v%v", shape, perm), back, shape, x0)
			}
			checkExact(t, "Permute input", x, shape, x0)
		}
		// Identity permutation still copies.
		x := arange(dt, 2, 2)
		y := Permute(x, 0, 1)
		y.SetFlat(0, 9)
		if x.Flat(0) == 9 {
			t.Errorf("identity Permute shares storage")
		}
		// Large enough for the parallel path.
		big := randT(rng, dt, 64, 32, 33)
		ws, want := refPermute(big.Values(), big.Shape(), []int{2, 0, 1})
		for _, n := range threadCounts {
			withThreads(n, func() {
				checkExact(t, fmt.Sprintf("Permute big threads=%d", n), Permute(big, 2, 0, 1), ws, want)
			})
		}
		mustPanic(t, "Permute length", func() { Permute(x, 0) }, "Permute", "[2 2]")
		mustPanic(t, "Permute repeated", func() { Permute(x, 1, 1) }, "Permute", "invalid")
		mustPanic(t, "Permute range", func() { Permute(x, 0, 2) }, "Permute")
		checkExact(t, "Permute scalar", Permute(Scalar(dt, 3)), []int{}, []float64{3})
	}
	if got := InversePerm([]int{2, 0, 3, 1}); !shapeEq(got, []int{1, 3, 0, 2}) {
		t.Errorf("InversePerm = %v", got)
	}
}

func TestTransposeSwapAxes(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		m := randT(rng, dt, 3, 5)
		ws, want := refPermute(m.Values(), m.Shape(), []int{1, 0})
		checkExact(t, "Transpose 2-D", Transpose(m), ws, want)
		b := randT(rng, dt, 2, 3, 4)
		ws, want = refPermute(b.Values(), b.Shape(), []int{0, 2, 1})
		checkExact(t, "Transpose batched", Transpose(b), ws, want)
		ws, want = refPermute(b.Values(), b.Shape(), []int{2, 1, 0})
		checkExact(t, "SwapAxes(0,2)", SwapAxes(b, 0, 2), ws, want)
		checkExact(t, "SwapAxes(2,0)", SwapAxes(b, 2, 0), ws, want)
		checkExact(t, "SwapAxes(-1,-3)", SwapAxes(b, -1, -3), ws, want)
		checkExact(t, "SwapAxes(1,1)", SwapAxes(b, 1, 1), b.Shape(), b.Values())
		mustPanic(t, "Transpose rank 1", func() { Transpose(New(dt, 3)) }, "Transpose", "[3]")
		mustPanic(t, "SwapAxes range", func() { SwapAxes(b, 0, 3) }, "SwapAxes")
	}
}

// refSlice is x[..., start:end, ...] along axis.
func refSlice(x []float64, shape []int, axis, start, end int) ([]int, []float64) {
	outShape := append([]int{}, shape...)
	outShape[axis] = end - start
	out := make([]float64, NumElems(outShape))
	for i := range out {
		idx := unravel(i, outShape)
		idx[axis] += start
		out[i] = x[ravel(idx, shape)]
	}
	return outShape, out
}

func TestSliceAndSliceGrad(t *testing.T) {
	shape := []int{3, 4, 5}
	for _, dt := range dtypes {
		rng := newRNG()
		x := randT(rng, dt, shape...)
		x0 := x.Values()
		for axis := -3; axis < 3; axis++ {
			a := axis
			if a < 0 {
				a += 3
			}
			d := shape[a]
			for start := 0; start <= d; start++ {
				for end := start; end <= d; end++ {
					name := fmt.Sprintf("Slice axis %d [%d:%d] %v", axis, start, end, dt)
					ws, want := refSlice(x0, shape, a, start, end)
					got := Slice(x, axis, start, end)
					checkExact(t, name, got, ws, want)
					// SliceGrad embeds g in zeros at the same place ...
					g := randT(rng, dt, ws...)
					sg := SliceGrad(g, shape, axis, start)
					wantG := make([]float64, len(x0))
					for i := 0; i < g.Len(); i++ {
						idx := unravel(i, ws)
						idx[a] += start
						wantG[ravel(idx, shape)] = g.Flat(i)
					}
					checkExact(t, "SliceGrad "+name, sg, shape, wantG)
					// ... and is the adjoint of Slice.
					checkAdjoint(t, "Slice/SliceGrad "+name, got, g, x, sg, 1e-6)
				}
			}
		}
		checkExact(t, "Slice input", x, shape, x0)
		mustPanic(t, "Slice end", func() { Slice(x, 1, 2, 5) }, "Slice", "[2:5]", "[3 4 5]")
		mustPanic(t, "Slice reversed", func() { Slice(x, 1, 3, 2) }, "Slice")
		mustPanic(t, "Slice negative start", func() { Slice(x, 1, -1, 2) }, "Slice")
		mustPanic(t, "Slice axis", func() { Slice(x, 3, 0, 1) }, "Slice", "axis")
		mustPanic(t, "SliceGrad axis", func() { SliceGrad(New(dt, 3, 2, 5), shape, 4, 0) }, "SliceGrad")
		mustPanic(t, "SliceGrad overflow", func() { SliceGrad(New(dt, 3, 2, 5), shape, 1, 3) }, "SliceGrad")
		mustPanic(t, "SliceGrad other dims", func() { SliceGrad(New(dt, 3, 2, 4), shape, 1, 0) }, "SliceGrad")
		mustPanic(t, "SliceGrad rank", func() { SliceGrad(New(dt, 3, 2), shape, 1, 0) }, "SliceGrad")
		mustPanic(t, "SliceGrad negative start", func() { SliceGrad(New(dt, 3, 2, 5), shape, 1, -1) }, "SliceGrad")
	}
}

func TestConcatStack(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		base := []int{2, 3, 4}
		for axis := -3; axis < 3; axis++ {
			a := axis
			if a < 0 {
				a += 3
			}
			sizes := []int{1, 0, 3, 2}
			var parts []*Tensor
			var vals [][]float64
			for _, s := range sizes {
				sh := append([]int{}, base...)
				sh[a] = s
				p := randT(rng, dt, sh...)
				parts = append(parts, p)
				vals = append(vals, p.Values())
			}
			got := Concat(axis, parts...)
			outShape := append([]int{}, base...)
			outShape[a] = 6
			want := make([]float64, NumElems(outShape))
			for i := range want {
				idx := unravel(i, outShape)
				k, off := 0, idx[a]
				for off >= sizes[k] {
					off -= sizes[k]
					k++
				}
				sh := parts[k].Shape()
				idx[a] = off
				want[i] = vals[k][ravel(idx, sh)]
			}
			checkExact(t, fmt.Sprintf("Concat axis %d %v", axis, dt), got, outShape, want)
			// Slicing the result gives the parts back.
			off := 0
			for k, p := range parts {
				checkExact(t, fmt.Sprintf("Concat/Slice part %d", k), Slice(got, axis, off, off+sizes[k]), p.Shape(), vals[k])
				off += sizes[k]
			}
		}
		one := randT(rng, dt, 2, 2)
		c := Concat(0, one)
		c.SetFlat(0, 1e9)
		if one.Flat(0) == 1e9 {
			t.Errorf("Concat of one tensor shares storage")
		}
		mustPanic(t, "Concat empty", func() { Concat(0) }, "Concat")
		mustPanic(t, "Concat shape", func() { Concat(0, New(dt, 2, 3), New(dt, 2, 4)) }, "Concat", "[2 3]", "[2 4]")
		mustPanic(t, "Concat rank", func() { Concat(0, New(dt, 2, 3), New(dt, 2, 3, 1)) }, "Concat")
		mustPanic(t, "Concat dtype", func() { Concat(0, New(Float32, 2), New(Float64, 2)) }, "Concat", "dtype")
		mustPanic(t, "Concat axis", func() { Concat(2, New(dt, 2, 3)) }, "Concat", "axis")

		// Stack along every position including the new last one and negatives.
		ts := []*Tensor{randT(rng, dt, 2, 3), randT(rng, dt, 2, 3), randT(rng, dt, 2, 3)}
		for axis := -3; axis <= 2; axis++ {
			a := axis
			if a < 0 {
				a += 3
			}
			got := Stack(axis, ts...)
			outShape := []int{2, 3}
			outShape = append(outShape[:a], append([]int{3}, outShape[a:]...)...)
			want := make([]float64, 18)
			for i := range want {
				idx := unravel(i, outShape)
				k := idx[a]
				rest := append(append([]int{}, idx[:a]...), idx[a+1:]...)
				want[i] = ts[k].At(rest...)
			}
			checkExact(t, fmt.Sprintf("Stack axis %d %v", axis, dt), got, outShape, want)
		}
		checkExact(t, "Stack scalars", Stack(0, Scalar(dt, 1), Scalar(dt, 2)), []int{2}, []float64{1, 2})
		mustPanic(t, "Stack empty", func() { Stack(0) }, "Stack")
		mustPanic(t, "Stack shape", func() { Stack(0, New(dt, 2, 3), New(dt, 3, 2)) }, "Stack", "[2 3]", "[3 2]")
		mustPanic(t, "Stack axis", func() { Stack(3, New(dt, 2, 3)) }, "Stack", "axis")
		mustPanic(t, "Stack axis neg", func() { Stack(-4, New(dt, 2, 3)) }, "Stack", "axis")
	}
}

func TestIndexSelectIndexAdd(t *testing.T) {
	shape := []int{4, 3, 5}
	idxs := [][]int{{0}, {2, 0, 1}, {1, 1, 1, 0, 2, 1}, {}}
	for _, dt := range dtypes {
		rng := newRNG()
		x := randT(rng, dt, shape...)
		x0 := x.Values()
		for axis := -3; axis < 3; axis++ {
			a := axis
			if a < 0 {
				a += 3
			}
			for _, idx := range idxs {
				name := fmt.Sprintf("IndexSelect axis %d idx %v %v", axis, idx, dt)
				outShape := append([]int{}, shape...)
				outShape[a] = len(idx)
				want := make([]float64, NumElems(outShape))
				for i := range want {
					mi := unravel(i, outShape)
					mi[a] = idx[mi[a]]
					want[i] = x0[ravel(mi, shape)]
				}
				got := IndexSelect(x, axis, idx)
				checkExact(t, name, got, outShape, want)
				// IndexAdd accumulates repeated indices ...
				g := randT(rng, dt, outShape...)
				ga := IndexAdd(g, shape, axis, idx)
				wantA := make([]float64, len(x0))
				scale := make([]float64, len(x0))
				for i := 0; i < g.Len(); i++ {
					mi := unravel(i, outShape)
					mi[a] = idx[mi[a]]
					wantA[ravel(mi, shape)] += g.Flat(i)
					scale[ravel(mi, shape)] += math.Abs(g.Flat(i))
				}
				checkSums(t, "IndexAdd "+name, ga, shape, wantA, scale, len(idx), dt)
				// ... and is the adjoint of IndexSelect.
				checkAdjoint(t, "IndexSelect/IndexAdd "+name, got, g, x, ga, 1e-5)
			}
		}
		mustPanic(t, "IndexSelect range", func() { IndexSelect(x, 1, []int{0, 3}) }, "IndexSelect", "3")
		mustPanic(t, "IndexSelect negative", func() { IndexSelect(x, 1, []int{-1}) }, "IndexSelect")
		mustPanic(t, "IndexSelect axis", func() { IndexSelect(x, 3, []int{0}) }, "IndexSelect", "axis")
		mustPanic(t, "IndexAdd count", func() { IndexAdd(New(dt, 4, 2, 5), shape, 1, []int{0}) }, "IndexAdd")
		mustPanic(t, "IndexAdd range", func() { IndexAdd(New(dt, 4, 2, 5), shape, 1, []int{0, 3}) }, "IndexAdd", "3")
		mustPanic(t, "IndexAdd negative", func() { IndexAdd(New(dt, 4, 1, 5), shape, 1, []int{-1}) }, "IndexAdd")
		mustPanic(t, "IndexAdd other dims", func() { IndexAdd(New(dt, 4, 2, 6), shape, 1, []int{0, 1}) }, "IndexAdd")
	}
}

func TestGather(t *testing.T) {
	shape := []int{3, 4, 5}
	for _, dt := range dtypes {
		rng := newRNG()
		x := randT(rng, dt, shape...)
		x0 := x.Values()
		for axis := -3; axis < 3; axis++ {
			a := axis
			if a < 0 {
				a += 3
			}
			for _, k := range []int{1, 2, 7} {
				idxShape := append([]int{}, shape...)
				idxShape[a] = k
				idx := make([]int, NumElems(idxShape))
				for i := range idx {
					idx[i] = rng.IntN(shape[a])
				}
				// torch.gather: out[i][j][l] = x[idx[i][j][l]][j][l] (axis 0) etc.
				want := make([]float64, len(idx))
				for i := range want {
					mi := unravel(i, idxShape)
					mi[a] = idx[i]
					want[i] = x0[ravel(mi, shape)]
				}
				name := fmt.Sprintf("Gather axis %d k %d %v", axis, k, dt)
				checkExact(t, name, Gather(x, axis, idx, idxShape), idxShape, want)
				flat, err := GatherFlatIndex(shape, a, idx, idxShape)
				if err != nil {
					t.Fatalf("%s: GatherFlatIndex: %v", name, err)
				}
				for i := range flat {
					if x0[flat[i]] != want[i] {
						t.Fatalf("%s: GatherFlatIndex[%d] = %d", name, i, flat[i])
					}
				}
			}
		}
		// A small example from the PyTorch documentation.
		s := FromValues(dt, []float64{1, 2, 3, 4}, 2, 2)
		checkExact(t, "Gather doc", Gather(s, 1, []int{0, 0, 1, 0}, []int{2, 2}), []int{2, 2}, []float64{1, 1, 4, 3})
		bad := []struct {
			name     string
			idx      []int
			idxShape []int
		}{
			{"range", []int{0, 2, 0, 0}, []int{2, 2}},
			{"negative", []int{0, -1, 0, 0}, []int{2, 2}},
			{"count", []int{0, 0, 0}, []int{2, 2}},
			{"rank", []int{0, 0}, []int{2}},
			{"off-axis dim", []int{0, 0, 0, 0, 0, 0}, []int{3, 2}},
		}
		for _, b := range bad {
			mustPanic(t, "Gather "+b.name, func() { Gather(s, 1, b.idx, b.idxShape) }, "Gather")
			if _, err := GatherFlatIndex(s.Shape(), 1, b.idx, b.idxShape); err == nil {
				t.Errorf("GatherFlatIndex %s: no error", b.name)
			}
		}
		mustPanic(t, "Gather axis", func() { Gather(s, 2, []int{0}, []int{1, 1}) }, "Gather", "axis")
	}
}

func TestTakeFlatScatterAddFlat(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		shape := []int{3, 4}
		x := randT(rng, dt, shape...)
		x0 := x.Values()
		idx := []int{0, 5, 5, 11, 3, 5, 0, 7}
		for _, outShape := range [][]int{{8}, {2, 4}, {2, 2, 2}} {
			got := TakeFlat(x, idx, outShape)
			want := make([]float64, len(idx))
			for j, i := range idx {
				want[j] = x0[i]
			}
			checkExact(t, fmt.Sprintf("TakeFlat %v", outShape), got, outShape, want)
			g := randT(rng, dt, outShape...)
			sa := ScatterAddFlat(g, idx, shape)
			wantS := make([]float64, 12)
			scale := make([]float64, 12)
			for j, i := range idx {
				wantS[i] += g.Flat(j)
				scale[i] += math.Abs(g.Flat(j))
			}
			checkSums(t, "ScatterAddFlat", sa, shape, wantS, scale, 3, dt)
			checkAdjoint(t, "TakeFlat/ScatterAddFlat", got, g, x, sa, 1e-5)
		}
		checkExact(t, "TakeFlat empty", TakeFlat(x, nil, []int{0}), []int{0}, nil)
		mustPanic(t, "TakeFlat count", func() { TakeFlat(x, idx, []int{3}) }, "TakeFlat")
		mustPanic(t, "TakeFlat range", func() { TakeFlat(x, []int{12}, []int{1}) }, "TakeFlat", "12")
		mustPanic(t, "TakeFlat negative", func() { TakeFlat(x, []int{-1}, []int{1}) }, "TakeFlat")
		mustPanic(t, "ScatterAddFlat count", func() { ScatterAddFlat(New(dt, 3), idx, shape) }, "ScatterAddFlat")
		mustPanic(t, "ScatterAddFlat range", func() { ScatterAddFlat(New(dt, 1), []int{12}, shape) }, "ScatterAddFlat", "12")
		mustPanic(t, "ScatterAddFlat negative", func() { ScatterAddFlat(New(dt, 1), []int{-1}, shape) }, "ScatterAddFlat")
	}
}
