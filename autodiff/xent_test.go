package autodiff

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

func xentCases() []struct {
	name  string
	shape []int
	spec  tensor.XentSpec
} {
	return []struct {
		name  string
		shape []int
		spec  tensor.XentSpec
	}{
		{"plain", []int{4, 5}, tensor.XentSpec{Targets: []int{0, 4, 2, 2}}},
		{"smoothing", []int{3, 6}, tensor.XentSpec{Targets: []int{5, 0, 3}, Smoothing: 0.1}},
		{"ignore+smoothing/3d", []int{2, 3, 4}, tensor.XentSpec{Targets: []int{1, 0, 0, 3, 0, 2}, Smoothing: 0.2, Ignore: 0, IgnoreSet: true}},
		{"all-ignored-row-groups", []int{3, 7}, tensor.XentSpec{Targets: []int{-100, 6, -100}, Ignore: -100, IgnoreSet: true, Smoothing: 0.3}},
		{"long-rows", []int{2, 37}, tensor.XentSpec{Targets: []int{36, 17}, Smoothing: 0.05}},
	}
}

func TestSoftmaxCrossEntropyGradCheck(t *testing.T) {
	for i, c := range xentCases() {
		t.Run(c.name, func(t *testing.T) {
			in := randInputs(rand.New(rand.NewPCG(uint64(i), 41)), [][]int{c.shape}, false)
			f := func(x []*Var) *Var { return SoftmaxCrossEntropy(x[0], c.spec) }
			if err := GradCheck(f, in, CheckOptions{}); err != nil {
				t.Fatal("first order:", err)
			}
			f2 := func(x []*Var) *Var { return Square(SoftmaxCrossEntropy(Mul(x[0], x[0]), c.spec)) }
			if err := GradGradCheck(f2, in, CheckOptions{}); err != nil {
				t.Fatal("second order:", err)
			}
		})
	}
}

// The fused loss equals PyTorch's formula evaluated naively, in float64
// and float32, and its gradient equals the composite's.
func TestSoftmaxCrossEntropyValues(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 3e-6
		}
		for i, c := range xentCases() {
			rng := rand.New(rand.NewPCG(uint64(i), 43))
			x := tensor.RandN(rng, dt, 3, c.shape...)
			v := c.shape[len(c.shape)-1]
			loss := SoftmaxCrossEntropy(Const(x), c.spec)
			for r, tg := range c.spec.Targets {
				want := 0.0
				if !(c.spec.IgnoreSet && tg == c.spec.Ignore) {
					row := x.Values()[r*v : (r+1)*v]
					s := 0.0
					for _, xv := range row {
						s += math.Exp(xv)
					}
					nll := math.Log(s) - row[tg]
					smooth := 0.0
					for _, xv := range row {
						smooth += (math.Log(s) - xv) / float64(v)
					}
					want = (1-c.spec.Smoothing)*nll + c.spec.Smoothing*smooth
				}
				if got := loss.Value.Flat(r); math.Abs(got-want) > tol*max(1, math.Abs(want)) {
					t.Errorf("%v %s row %d: loss %v, want %v", dt, c.name, r, got, want)
				}
			}
			seed := tensor.RandN(rng, dt, 1, loss.Shape()...)
			xp := Param(x)
			g1 := GradWithSeeds([]*Var{SoftmaxCrossEntropy(xp, c.spec)}, []*Var{Const(seed)}, []*Var{xp}, false)[0]
			g2 := GradWithSeeds([]*Var{softmaxCrossEntropyComposite(xp, c.spec)}, []*Var{Const(seed)}, []*Var{xp}, false)[0]
			if d := tensor.MaxAbsDiff(g1.Value, g2.Value); d > tol*10 {
				t.Errorf("%v %s: gradient differs from the composite's by %g", dt, c.name, d)
			}
		}
	}
}

func TestSoftmaxCrossEntropyBadInput(t *testing.T) {
	x := Const(tensor.New(tensor.Float32, 2, 3))
	for _, s := range []tensor.XentSpec{
		{Targets: []int{0}},
		{Targets: []int{0, 3}},
		{Targets: []int{0, -1}},
		{Targets: []int{0, 1}, Smoothing: 1},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%+v: no panic", s)
				}
			}()
			SoftmaxCrossEntropy(x, s)
		}()
	}
}
