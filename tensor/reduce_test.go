package tensor

import (
	"fmt"
	"math"
	"testing"
)

// axisSubsets returns every subset of {0..rank-1} (the empty one included).
func axisSubsets(rank int) [][]int {
	var out [][]int
	for m := 0; m < 1<<rank; m++ {
		var s []int
		for a := 0; a < rank; a++ {
			if m&(1<<a) != 0 {
				s = append(s, a)
			}
		}
		out = append(out, s)
	}
	return out
}

// refReduce groups the elements of x by output position for a reduction
// over axes (nil = all axes) and returns the output shape (with or without
// kept dims) and, per output element, the flat input indices in row-major
// order.
func refReduce(shape []int, axes []int, keepDims bool) ([]int, [][]int) {
	rank := len(shape)
	red := make([]bool, rank)
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
	}
	for _, a := range axes {
		if a < 0 {
			a += rank
		}
		red[a] = true
	}
	outShape := []int{}
	var keptShape []int
	for i, d := range shape {
		if red[i] {
			keptShape = append(keptShape, 1)
			if keepDims {
				outShape = append(outShape, 1)
			}
		} else {
			keptShape = append(keptShape, d)
			outShape = append(outShape, d)
		}
	}
	groups := make([][]int, NumElems(keptShape))
	n := NumElems(shape)
	for i := 0; i < n; i++ {
		idx := unravel(i, shape)
		for d := range idx {
			if red[d] {
				idx[d] = 0
			}
		}
		o := ravel(idx, keptShape)
		groups[o] = append(groups[o], i)
	}
	return outShape, groups
}

func TestSumMeanVariance(t *testing.T) {
	shapes := [][]int{{3, 4, 5}, {2, 1, 6}, {4, 0, 3}}
	for _, dt := range dtypes {
		rng := newRNG()
		for _, shape := range shapes {
			x := randT(rng, dt, shape...)
			x0 := x.Values()
			for _, axes := range axisSubsets(3) {
				for _, neg := range []bool{false, true} {
					ax := append([]int{}, axes...)
					if neg {
						for i := range ax {
							ax[i] -= 3
						}
						// also present them out of order
						for i, j := 0, len(ax)-1; i < j; i, j = i+1, j-1 {
							ax[i], ax[j] = ax[j], ax[i]
						}
					}
					for _, keep := range []bool{false, true} {
						name := fmt.Sprintf("%v%v axes=%v keep=%v", dt, shape, ax, keep)
						outShape, groups := refReduce(shape, ax, keep)
						sum := make([]float64, len(groups))
						scale := make([]float64, len(groups))
						mean := make([]float64, len(groups))
						mscale := make([]float64, len(groups))
						vb := make([]float64, len(groups))
						vu := make([]float64, len(groups))
						terms := 0
						for o, g := range groups {
							terms = len(g)
							for _, i := range g {
								sum[o] += x0[i]
								scale[o] += math.Abs(x0[i])
							}
							mean[o] = sum[o] / float64(len(g))
							mscale[o] = scale[o] / float64(len(g))
							ss := 0.0
							for _, i := range g {
								ss += (x0[i] - mean[o]) * (x0[i] - mean[o])
							}
							vb[o] = ss / float64(len(g))
							vu[o] = ss / float64(len(g)-1)
						}
						got := Sum(x, keep, ax...)
						checkDType(t, "Sum", got, dt)
						checkSums(t, "Sum "+name, got, outShape, sum, scale, terms, dt)
						if terms == 0 {
							checkExact(t, "Mean of nothing "+name, Mean(x, keep, ax...), outShape, fillN(len(groups), math.NaN()))
							continue
						}
						checkSums(t, "Mean "+name, Mean(x, keep, ax...), outShape, mean, mscale, terms, dt)
						vtol := 1e-12
						if dt == Float32 {
							vtol = 1e-5
						}
						checkValues(t, "Variance "+name, Variance(x, false, keep, ax...), outShape, vb, vtol, vtol)
						if terms > 1 {
							checkValues(t, "Variance unbiased "+name, Variance(x, true, keep, ax...), outShape, vu, vtol, vtol)
						}
					}
				}
			}
			checkExact(t, "input unchanged", x, shape, x0)
		}
	}
}

func TestSumLarge(t *testing.T) {
	cases := []struct {
		shape []int
		axes  []int
	}{
		{[]int{64, 128, 8}, []int{1}},    // inner > 1, parallel over outer
		{[]int{256, 256}, []int{1}},      // inner == 1 path, parallel
		{[]int{256, 256}, []int{0}},      // outer == 1
		{[]int{32, 40, 50}, []int{0, 2}}, // non-contiguous axes
		{[]int{100000}, nil},
		// short rows summed a block at a time (sumRowBlocks), with rows
		// left over after the last whole block
		{[]int{800, 10}, []int{0}},
		{[]int{3, 1001, 7}, []int{1}},
		{[]int{130, 63}, []int{0}},
	}
	for _, dt := range dtypes {
		rng := newRNG()
		for _, c := range cases {
			x := randT(rng, dt, c.shape...)
			x0 := x.Values()
			outShape, groups := refReduce(c.shape, c.axes, false)
			sum := make([]float64, len(groups))
			scale := make([]float64, len(groups))
			for o, g := range groups {
				for _, i := range g {
					sum[o] += x0[i]
					scale[o] += math.Abs(x0[i])
				}
			}
			var ref *Tensor
			withThreads(1, func() { ref = Sum(x, false, c.axes...) })
			checkSums(t, fmt.Sprintf("Sum%v%v", c.shape, c.axes), ref, outShape, sum, scale, len(groups[0]), dt)
			for _, n := range threadCounts {
				withThreads(n, func() {
					checkExact(t, fmt.Sprintf("Sum%v%v threads=%d", c.shape, c.axes, n), Sum(x, false, c.axes...), outShape, ref.Values())
				})
			}
		}
	}
}

func TestSumScalarAndPanics(t *testing.T) {
	for _, dt := range dtypes {
		s := Scalar(dt, 3)
		checkExact(t, "Sum scalar", Sum(s, false), []int{}, []float64{3})
		checkExact(t, "Mean scalar", Mean(s, true), []int{}, []float64{3})
		x := New(dt, 2, 3)
		mustPanic(t, "Sum axis", func() { Sum(x, false, 2) }, "Sum", "axis")
		mustPanic(t, "Sum axis neg", func() { Sum(x, false, -3) }, "Sum", "axis")
		mustPanic(t, "Sum repeated", func() { Sum(x, false, 1, -1) }, "Sum", "repeated")
		mustPanic(t, "Mean axis", func() { Mean(x, false, 5) }, "Mean")
		mustPanic(t, "Variance axis", func() { Variance(x, false, false, 5) }, "Variance")
		mustPanic(t, "Max axis", func() { Max(x, false, 5) }, "Max")
		mustPanic(t, "Min axis", func() { Min(x, false, 5) }, "Min")
		mustPanic(t, "Max empty", func() { Max(New(dt, 2, 0), false, 1) }, "Max", "empty")
		mustPanic(t, "ArgMax axis", func() { ArgMax(x, 2) }, "ArgMax")
	}
}

// refExtreme returns, for each group, the value and flat index of the first
// maximal (or minimal) element; NaN wins over everything.
func refExtreme(x0 []float64, groups [][]int, isMax bool) ([]float64, []int) {
	vals := make([]float64, len(groups))
	idx := make([]int, len(groups))
	for o, g := range groups {
		best, bi := 0.0, -1
		for _, i := range g {
			v := x0[i]
			if bi >= 0 && math.IsNaN(best) {
				break
			}
			if bi < 0 || math.IsNaN(v) || (isMax && v > best) || (!isMax && v < best) {
				best, bi = v, i
			}
		}
		vals[o], idx[o] = best, bi
	}
	return vals, idx
}

func TestMaxMin(t *testing.T) {
	shapes := [][]int{{3, 4, 5}, {2, 1, 3}, {1, 1, 1}}
	for _, dt := range dtypes {
		rng := newRNG()
		for _, shape := range shapes {
			// integers in [-3, 3]: plenty of ties to check "first" semantics
			for _, x := range []*Tensor{randInts(rng, dt, -3, 3, shape...), randT(rng, dt, shape...)} {
				x0 := x.Values()
				for _, axes := range axisSubsets(3) {
					for _, keep := range []bool{false, true} {
						ax := append([]int{}, axes...)
						if keep && len(ax) > 0 {
							ax[0] -= 3 // negative axis
						}
						outShape, groups := refReduce(shape, ax, keep)
						for _, isMax := range []bool{true, false} {
							f, name := Max, "Max"
							if !isMax {
								f, name = Min, "Min"
							}
							name = fmt.Sprintf("%s %v%v axes=%v keep=%v", name, dt, shape, ax, keep)
							got, gi := f(x, keep, ax...)
							wv, wi := refExtreme(x0, groups, isMax)
							checkDType(t, name, got, dt)
							checkExact(t, name, got, outShape, wv)
							if len(gi) != len(wi) {
								t.Errorf("%s: %d indices, want %d", name, len(gi), len(wi))
								continue
							}
							for i := range wi {
								if gi[i] != wi[i] {
									t.Errorf("%s: index[%d] = %d, want %d", name, i, gi[i], wi[i])
									break
								}
							}
						}
					}
				}
			}
		}
		// NaN propagates and its index is reported.
		x := FromValues(dt, []float64{1, math.NaN(), 5, 2, 7, math.NaN()}, 2, 3)
		v, i := Max(x, false, 1)
		if !math.IsNaN(v.Flat(0)) || i[0] != 1 || !math.IsNaN(v.Flat(1)) || i[1] != 5 {
			t.Errorf("Max with NaN: %v %v", v, i)
		}
		v, i = Min(x, false, 1)
		if !math.IsNaN(v.Flat(0)) || i[0] != 1 {
			t.Errorf("Min with NaN: %v %v", v, i)
		}
	}
}

func TestMaxScalar(t *testing.T) {
	for _, dt := range dtypes {
		v, i := Max(Scalar(dt, -2), false)
		if !shapeEq(v.Shape(), []int{}) || v.Item() != -2 || len(i) != 1 || i[0] != 0 {
			t.Errorf("Max of a scalar = %v, %v", v, i)
		}
		v, i = Min(Scalar(dt, 4), true)
		if v.Item() != 4 || len(i) != 1 || i[0] != 0 {
			t.Errorf("Min of a scalar = %v, %v", v, i)
		}
	}
}

func TestArgMax(t *testing.T) {
	for _, dt := range dtypes {
		rng := newRNG()
		shape := []int{3, 4, 5}
		x := randInts(rng, dt, -2, 2, shape...)
		x0 := x.Values()
		for axis := -3; axis < 3; axis++ {
			a := axis
			if a < 0 {
				a += 3
			}
			outShape, groups := refReduce(shape, []int{a}, false)
			_, wi := refExtreme(x0, groups, true)
			got := ArgMax(x, axis)
			if len(got) != NumElems(outShape) {
				t.Fatalf("ArgMax axis %d: %d results", axis, len(got))
			}
			for o := range wi {
				want := unravel(wi[o], shape)[a]
				if got[o] != want {
					t.Errorf("ArgMax(axis %d)[%d] = %d, want %d", axis, o, got[o], want)
				}
			}
		}
		// A classic logits example.
		l := FromValues(dt, []float64{0.1, 3, 2, 9, -1, 9}, 2, 3)
		if got := ArgMax(l, 1); got[0] != 1 || got[1] != 0 {
			t.Errorf("ArgMax rows = %v", got)
		}
		if got := ArgMax(l, 0); got[0] != 1 || got[1] != 0 || got[2] != 1 {
			t.Errorf("ArgMax cols = %v", got)
		}
	}
}

func TestSumTo(t *testing.T) {
	cases := [][2][]int{
		{{2, 3, 4}, {3, 1}},
		{{2, 3, 4}, {4}},
		{{2, 3, 4}, {1, 3, 4}},
		{{2, 3, 4}, {}},
		{{2, 3, 4}, {2, 1, 1}},
		{{2, 3, 4}, {1, 1, 1}},
		{{2, 3, 4}, {2, 1, 4}},
		{{5, 1}, {1}},
		{{0, 3}, {3}},
	}
	for _, dt := range dtypes {
		rng := newRNG()
		for _, c := range cases {
			x := randT(rng, dt, c[0]...)
			x0 := x.Values()
			want := make([]float64, NumElems(c[1]))
			scale := make([]float64, len(want))
			for i, v := range x0 {
				o := bcastFlat(unravel(i, c[0]), c[1])
				want[o] += v
				scale[o] += math.Abs(v)
			}
			got := SumTo(x, c[1])
			checkSums(t, fmt.Sprintf("SumTo%v->%v", c[0], c[1]), got, c[1], want, scale, len(x0), dt)
			// SumTo is the adjoint of BroadcastTo.
			if NumElems(c[1]) > 0 {
				g := randT(rng, dt, c[1]...)
				checkAdjoint(t, fmt.Sprintf("SumTo/BroadcastTo %v %v", c[0], c[1]), BroadcastTo(g, c[0]), x, g, got, 1e-5)
			}
		}
		x := randT(rng, dt, 2, 3)
		if SumTo(x, []int{2, 3}) != x {
			t.Errorf("SumTo to the same shape should return its input")
		}
		mustPanic(t, "SumTo", func() { SumTo(x, []int{5}) }, "SumTo", "[2 3]")
		mustPanic(t, "SumTo rank", func() { SumTo(x, []int{1, 2, 3}) }, "SumTo")
	}
}
