package autodiff

import (
	"runtime"
	"testing"
	"time"

	"metalearn/tensor"
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
