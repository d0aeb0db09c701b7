package meta

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/dist"
	"github.com/metalearn/metalearn/optim"
)

// distCase is one small training configuration for the data-parallel
// tests.
type distCase struct {
	spec  Spec
	batch int
	iters int
}

func (c distCase) tasks(t *testing.T) (data.TaskDistribution, []data.Task) {
	t.Helper()
	s := c.spec
	s.Defaults()
	train, err := s.Tasks("train")
	if err != nil {
		t.Skipf("%s data: %v", s.Dataset, err)
	}
	val, err := s.Tasks("val")
	if err != nil {
		t.Fatal(err)
	}
	return train, data.EvalSet(val, 5, 99)
}

func (c distCase) config(val []data.Task) TrainConfig {
	cfg := TrainConfig{Iterations: c.iters, MetaBatch: c.batch, OuterLR: 1e-3, Seed: 7, ValEvery: 3, Val: val, Workers: 2}
	if c.spec.Algorithm == "reptile" {
		cfg.Outer, cfg.Schedule = "sgd", optim.Linear(1, 0, c.iters)
	}
	return cfg
}

// runRanks trains one freshly built model per rank of an in-process group
// of size n and returns rank 0's model after checking that every rank
// ended with the same weights. prepare may adjust each rank's model and
// configuration (e.g. to resume).
func runRanks(t *testing.T, n int, c distCase, prepare func(rank int, b *Built, cfg *TrainConfig)) *Built {
	t.Helper()
	train, val := c.tasks(t)
	comms := dist.NewGroup(n)
	built := make([]*Built, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r := range n {
		b, err := Build(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		// ranks other than 0 start from different weights: the broadcast
		// must overwrite them
		if r > 0 {
			s := c.spec
			s.Seed += uint64(r) * 1000
			if b, err = Build(s); err != nil {
				t.Fatal(err)
			}
		}
		built[r] = b
		cfg := c.config(val)
		cfg.Comm = comms[r]
		if prepare != nil {
			prepare(r, b, &cfg)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[r] = Train(built[r].Algorithm, train, cfg)
			if errs[r] != nil {
				comms[r].Abort(1)
			}
		}()
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	for r := 1; r < n; r++ {
		if d := maxDiff(built[0], built[r]); d != 0 {
			t.Fatalf("rank %d's weights differ from rank 0's by %g", r, d)
		}
	}
	return built[0]
}

// maxDiff is the largest absolute difference between two models' tensors
// (NaN when a value differs in a way that is not a number).
func maxDiff(a, b *Built) float64 {
	ta, tb := a.Tensors(), b.Tensors()
	if len(ta) != len(tb) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range ta {
		va, vb := ta[i].Tensor.Values(), tb[i].Tensor.Values()
		for j := range va {
			if math.Float64bits(va[j]) != math.Float64bits(vb[j]) {
				d = math.Max(d, math.Max(math.Abs(va[j]-vb[j]), 1e-300))
			}
		}
	}
	return d
}

func single(t *testing.T, c distCase) *Built {
	t.Helper()
	train, val := c.tasks(t)
	b, err := Build(c.spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Train(b.Algorithm, train, c.config(val)); err != nil {
		t.Fatal(err)
	}
	return b
}

func distCases() []distCase {
	var cs []distCase
	for _, algo := range []string{"maml", "fomaml", "anil", "metasgd", "maml++", "reptile"} {
		cs = append(cs, distCase{spec: Spec{Algorithm: algo, Dataset: "sinusoid", Shots: 5, Queries: 5, Hidden: 16, Seed: 3}, batch: 5, iters: 7})
	}
	dir := filepath.Join("..", "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(dir, "omniglot")); err == nil && !testing.Short() {
		for _, algo := range []string{"protonet", "maml"} {
			cs = append(cs, distCase{spec: Spec{Algorithm: algo, Dataset: "omniglot", DataDir: dir, Ways: 3, Shots: 1, Queries: 2, Hidden: 4, Seed: 3}, batch: 3, iters: 4})
		}
	}
	return cs
}

// TestDistributedEqualsSingleProcess: for the same seed and meta-batch,
// data-parallel training over 2 and 3 ranks (3 does not divide the
// meta-batch) ends with exactly the weights of one process.
func TestDistributedEqualsSingleProcess(t *testing.T) {
	for _, c := range distCases() {
		t.Run(c.spec.Dataset+"/"+c.spec.Algorithm, func(t *testing.T) {
			want := single(t, c)
			for _, n := range []int{2, 3} {
				got := runRanks(t, n, c, nil)
				if d := maxDiff(want, got); d != 0 {
					t.Fatalf("%d ranks: weights differ from one process by up to %g", n, d)
				}
			}
		})
	}
}

// TestFastReduceIsClose: the allreduce of partial sums agrees with one
// process to rounding.
func TestFastReduceIsClose(t *testing.T) {
	c := distCases()[0]
	want := single(t, c)
	got := runRanks(t, 2, c, func(_ int, _ *Built, cfg *TrainConfig) { cfg.FastReduce = true })
	d := maxDiff(want, got)
	if d > 1e-5 {
		t.Fatalf("FastReduce weights differ from one process by %g, want <= 1e-5", d)
	}
	t.Logf("FastReduce: largest weight difference from one process %g", d)
}

// TestDistributedResumeOtherRankCount: a checkpoint written by a 2-rank
// run resumes on 3 ranks and on one process, and both end with the
// weights of an uninterrupted single-process run: the training state does
// not depend on the number of ranks.
func TestDistributedResumeOtherRankCount(t *testing.T) {
	for _, c := range []distCase{distCases()[0], distCases()[5]} {
		t.Run(c.spec.Algorithm, func(t *testing.T) {
			want := single(t, c)
			dir := t.TempDir()
			path := func(it int) string { return filepath.Join(dir, fmt.Sprintf("it%d.safetensors", it)) }
			var saved []int
			runRanks(t, 2, c, func(rank int, b *Built, cfg *TrainConfig) {
				cfg.CheckpointEvery = 4
				cfg.Checkpoint = func(st *TrainState) error {
					if rank != 0 {
						return errors.New("Checkpoint called on a rank other than 0")
					}
					saved = append(saved, st.Iteration)
					return b.SaveTraining(path(st.Iteration), st, nil)
				}
			})
			if fmt.Sprint(saved) != "[4 7]" {
				t.Fatalf("checkpoints after iterations %v, want [4 7]", saved)
			}
			resume := func(_ int, b *Built, cfg *TrainConfig) {
				got, st, _, err := LoadTraining(path(4))
				if err != nil {
					t.Error(err)
					return
				}
				*b = *got
				cfg.Resume = st
			}
			if d := maxDiff(want, runRanks(t, 3, c, resume)); d != 0 {
				t.Fatalf("resumed on 3 ranks: weights differ by %g", d)
			}
			train, val := c.tasks(t)
			b := &Built{}
			cfg := c.config(val)
			resume(0, b, &cfg)
			if _, err := Train(b.Algorithm, train, cfg); err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(want, b); d != 0 {
				t.Fatalf("resumed in one process: weights differ by %g", d)
			}
		})
	}
}

// TestDistributedConfigMismatch: ranks started with different settings
// stop with an error instead of training different models.
func TestDistributedConfigMismatch(t *testing.T) {
	c := distCases()[0]
	train, val := c.tasks(t)
	comms := dist.NewGroup(2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for r := range 2 {
		b, _ := Build(c.spec)
		cfg := c.config(val)
		cfg.Comm = comms[r]
		cfg.MetaBatch += r
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[r] = Train(b.Algorithm, train, cfg) }()
	}
	wg.Wait()
	for r, err := range errs {
		if err == nil {
			t.Fatalf("rank %d: no error for different meta-batch sizes", r)
		}
	}
}

// TestDistributedCheckpointFailureStopsAll: when rank 0 cannot write a
// checkpoint every rank returns an error (nobody waits forever).
func TestDistributedCheckpointFailureStopsAll(t *testing.T) {
	c := distCases()[0]
	train, val := c.tasks(t)
	comms := dist.NewGroup(2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for r := range 2 {
		b, _ := Build(c.spec)
		cfg := c.config(val)
		cfg.Comm = comms[r]
		cfg.CheckpointEvery = 2
		cfg.Checkpoint = func(*TrainState) error { return errors.New("disk full") }
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[r] = Train(b.Algorithm, train, cfg) }()
	}
	wg.Wait()
	if errs[0] == nil || errs[1] == nil {
		t.Fatalf("errors %v, want both ranks to fail", errs)
	}
	t.Logf("rank 0: %v; rank 1: %v", errs[0], errs[1])
}

func TestEvaluateDistributedEqualsEvaluate(t *testing.T) {
	c := distCases()[0]
	b, _ := Build(c.spec)
	tasks := data.EvalSet(data.Sinusoid{Support: 5, Query: 5}, 7, 5)
	want := Evaluate(b.Algorithm, tasks, 2, 1)
	comms := dist.NewGroup(3)
	got := make([]Summary, 3)
	var wg sync.WaitGroup
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := EvaluateDistributed(comms[r], b.Algorithm, tasks, 2, 1)
			if err != nil {
				t.Error(err)
			}
			got[r] = s
		}()
	}
	wg.Wait()
	for r, s := range got {
		if s != want {
			t.Fatalf("rank %d: %+v, want %+v", r, s, want)
		}
	}
}
