package optim

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// TestAdamThreadsAgree checks that Adam's update split into chunks across
// threads gives the same bits as one thread, for parameters smaller and
// larger than a chunk, float32 and float64, Adam and AdamW.
func TestAdamThreadsAgree(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, decoupled := range []bool{false, true} {
			run := func(threads int) [][]float64 {
				tensor.SetThreads(threads)
				rng := rand.New(rand.NewPCG(2, 3))
				var ps []*autodiff.Var
				var gs []*tensor.Tensor
				for _, n := range []int{7, adamChunk + 5, 3*adamChunk - 1, 100} {
					ps = append(ps, autodiff.Param(tensor.RandN(rng, dt, 1, n)))
					gs = append(gs, tensor.RandN(rng, dt, 1, n))
				}
				cfg := AdamConfig{LR: 1e-2, WeightDecay: 0.1}
				var o *Adam
				if decoupled {
					o = NewAdamW(ps, cfg)
				} else {
					o = NewAdam(ps, cfg)
				}
				for step := 0; step < 3; step++ {
					o.StepWith(gs)
				}
				var out [][]float64
				for _, p := range ps {
					out = append(out, p.Value.Values())
				}
				return out
			}
			one, two := run(1), run(2)
			for i := range one {
				if !slices.Equal(one[i], two[i]) {
					t.Fatalf("%v decoupled=%v: parameter %d differs between 1 and 2 threads", dt, decoupled, i)
				}
			}
		}
	}
}
