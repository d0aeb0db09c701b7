package autodiff

import (
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

// A backward sweep without createGraph recycles intermediate gradients
// (recycler in grad.go). The graph below is built to tempt every aliasing
// mistake: Add hands the same gradient to both inputs, Reshape's backward
// returns a view of its incoming gradient, a Var feeds several consumers,
// a leaf's gradient can be an intermediate's storage, and the tensors are
// large enough to be pooled. The gradients must equal those of the
// createGraph sweep (which recycles nothing), repeatedly (so recycled
// buffers are reused), and the forward values must be untouched.
func TestRecyclingKeepsGradientsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 64 * 1024 // above tensor's pooling threshold
	x := Param(tensor.RandN(rng, tensor.Float32, 1, 256, n/256))
	w := Param(tensor.RandN(rng, tensor.Float32, 1, 256, n/256))
	c := Const(tensor.RandN(rng, tensor.Float32, 1, 256, n/256))
	build := func() (*Var, []*Var) {
		a := Add(x, w)                            // same gradient to x and w
		b := Reshape(Mul(a, a), n)                // view in backward
		d := Add(Reshape(b, 256, n/256), Tanh(a)) // a used twice
		e := Mul(Add(d, c), x)                    // x used again
		return Sum(Mul(e, e), false), []*Var{a, b, d, e}
	}
	fwd := func(vs []*Var) [][]float64 {
		out := make([][]float64, len(vs))
		for i, v := range vs {
			out[i] = v.Value.Values()
		}
		return out
	}
	loss, inter := build()
	want := Grad([]*Var{loss}, []*Var{x, w}, true)
	wantVals := [][]float64{want[0].Value.Values(), want[1].Value.Values()}
	for rep := 0; rep < 4; rep++ {
		loss, inter = build()
		before := fwd(inter)
		got := Grad([]*Var{loss}, []*Var{x, w}, false)
		for i := range got {
			g := got[i].Value.Values()
			for j := range g {
				if d := g[j] - wantVals[i][j]; d > 1e-4*(1+abs(wantVals[i][j])) || d < -1e-4*(1+abs(wantVals[i][j])) {
					t.Fatalf("rep %d: gradient %d[%d] = %v, want %v", rep, i, j, g[j], wantVals[i][j])
				}
			}
		}
		after := fwd(inter)
		for i := range before {
			for j := range before[i] {
				if before[i][j] != after[i][j] {
					t.Fatalf("rep %d: forward value %d changed at %d by the backward sweep", rep, i, j)
				}
			}
		}
		// a fresh allocation of a recycled size starts at zero
		if z := tensor.New(tensor.Float32, n); tensor.Norm(z) != 0 {
			t.Fatalf("rep %d: a recycled buffer came back dirty", rep)
		}
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestRecycleRules(t *testing.T) {
	const n = 64 * 1024
	user := make([]float32, n)
	wrapped := tensor.FromFloat32(user, n)
	if tensor.Recyclable(wrapped) {
		t.Error("a tensor wrapping caller data is recyclable")
	}
	own := tensor.New(tensor.Float32, n)
	view := tensor.Reshape(own, 256, n/256)
	if !tensor.Recyclable(own) || tensor.Recyclable(view) {
		t.Errorf("recyclable: owner %v (want true), Reshape view %v (want false)", tensor.Recyclable(own), tensor.Recyclable(view))
	}
	if tensor.Storage(own) != tensor.Storage(view) || tensor.Storage(own) == tensor.Storage(wrapped) {
		t.Error("Storage does not identify shared storage")
	}
	tensor.Recycle(own)
	if tensor.Recyclable(own) {
		t.Error("recycled twice")
	}
	defer func() {
		if recover() == nil {
			t.Error("reading a recycled tensor did not panic")
		}
	}()
	_ = own.F32()[0]
}

// A caller's seed and the forward values are never recycled, even when
// the sweep is done with them.
func TestRecyclingSparesSeedsAndForwardValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 64 * 1024
	x := Param(tensor.RandN(rng, tensor.Float32, 1, n))
	c := Const(tensor.RandN(rng, tensor.Float32, 1, n))
	h := Mul(x, c)
	out := Mul(h, c)
	seed := tensor.RandN(rng, tensor.Float32, 1, n)
	keep := seed.Values()
	hv := h.Value.Values()
	g := GradWithSeeds([]*Var{out}, []*Var{Const(seed)}, []*Var{x}, false)
	sv, hv2 := seed.Values(), h.Value.Values() // panics if the seed was recycled
	for i := range keep {
		if sv[i] != keep[i] || hv2[i] != hv[i] {
			t.Fatalf("seed or forward value changed at %d", i)
		}
	}
	want := tensor.Mul(tensor.Mul(seed, c.Value), c.Value)
	if !tensor.AllClose(g[0].Value, want, 1e-6, 1e-6) {
		t.Error("gradient differs from seed*c*c")
	}
}
