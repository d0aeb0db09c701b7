package mtl

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/metalearn/metalearn/dist"
)

// TestDistributedMatchesSingleProcess trains the same model in one process
// and as 2 and 3 ranks of an in-process group, for multi-input data
// (RowTask) and single-input data with label masks, full batches and
// minibatches, loss- and gradient-based weightings. The ranks must agree
// with each other exactly and with one process to rounding.
func TestDistributedMatchesSingleProcess(t *testing.T) {
	e := CirclesExperiment(4, 10, 5)
	single := e.Train
	single.RowTask = nil // every task's head on every row, masked labels
	for _, tc := range []struct {
		name  string
		data  Dataset
		batch int
	}{{"multi-input", e.Train, 0}, {"masked", single, 0}, {"masked-minibatch", single, 16}} {
		for _, wname := range []string{"ew", "uw", "pcgrad", "mgda"} {
			t.Run(tc.name+"/"+wname, func(t *testing.T) {
				run := func(c dist.Comm) ([]float64, error) {
					m, err := e.BuildModel("hard", e.Tasks, 8, rand.New(rand.NewPCG(3, 4)))
					if err != nil {
						return nil, err
					}
					w, err := ByName(wname, 3)
					if err != nil {
						return nil, err
					}
					val := e.Test
					cfg := TrainConfig{Steps: 30, LR: 0.01, BatchSize: tc.batch, Weighting: w, Seed: 3, Val: &val, ValEvery: 10, Comm: c}
					if err := Train(m, e.Tasks, tc.data, cfg); err != nil {
						return nil, err
					}
					var out []float64
					for _, p := range AllParams(m) {
						out = append(out, p.V.Value.Values()...)
					}
					return out, nil
				}
				want, err := run(nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range []int{2, 3} {
					comms := dist.NewGroup(n)
					got := make([][]float64, n)
					errs := make([]error, n)
					var wg sync.WaitGroup
					for r := range n {
						wg.Add(1)
						go func() {
							defer wg.Done()
							if got[r], errs[r] = run(comms[r]); errs[r] != nil {
								comms[r].Abort(1)
							}
						}()
					}
					wg.Wait()
					for r := range n {
						if errs[r] != nil {
							t.Fatalf("%d ranks, rank %d: %v", n, r, errs[r])
						}
						for i := range want {
							if math.Float64bits(got[r][i]) != math.Float64bits(got[0][i]) {
								t.Fatalf("%d ranks: rank %d's parameter %d is %v, rank 0's %v", n, r, i, got[r][i], got[0][i])
							}
						}
					}
					d := 0.0
					for i := range want {
						d = math.Max(d, math.Abs(got[0][i]-want[i])/(1+math.Abs(want[i])))
					}
					if d > 1e-5 {
						t.Fatalf("%d ranks: parameters differ from one process by up to %g (relative), want <= 1e-5", n, d)
					}
					t.Logf("%d ranks: largest relative difference from one process %.2g", n, d)
				}
			})
		}
	}
}
