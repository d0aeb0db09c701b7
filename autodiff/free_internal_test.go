package autodiff

import (
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/metalearn/metalearn/tensor"
)

// An output kept after Free does not keep the graph behind it reachable
// (its node shares the output's allocation, so Free clears the node's
// references as well as cutting it).
func TestFreeReleasesGraph(t *testing.T) {
	x := Param(tensor.FromFloat64([]float64{1, 2, 3}, 3))
	mid := Exp(x)
	collected := make(chan struct{})
	runtime.SetFinalizer(mid, func(*Var) { close(collected) })
	y := Sum(Square(mid), false)
	mid = nil
	Free(y)
	for i := 0; i < 20; i++ {
		runtime.GC()
		select {
		case <-collected:
			if y.Value == nil || !(y.Item() > 0) {
				t.Fatalf("output lost its value: %v", y.Value)
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("an intermediate Var is still reachable from the kept output after Free")
}

// A backward function may return one of its (detached) inputs as a
// gradient; the sweep reuses those detached Vars for the next node, so it
// must give such a gradient a Var of its own first.
func TestBackwardMayReturnItsInput(t *testing.T) {
	// passIn's "gradient" is its input's value (not a real derivative:
	// the test only follows the Var it returns)
	passIn := func(x *Var) *Var {
		return record("PassIn", x.Value.Clone(), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
			return []*Var{in[0]}
		}, x)
	}
	x := Param(tensor.FromFloat64([]float64{0.5, -1, 2}, 3))
	e := Exp(x)
	y := Sum(passIn(e), false)
	g := Grad([]*Var{y}, []*Var{x}, false)[0]
	for i, xv := range []float64{0.5, -1, 2} {
		// d/dx of Exp with upstream gradient exp(x): exp(x) * exp(x)
		if want := math.Exp(xv) * math.Exp(xv); math.Abs(g.Value.Flat(i)-want) > 1e-12 {
			t.Fatalf("gradient[%d] = %v, want %v", i, g.Value.Flat(i), want)
		}
	}
}
