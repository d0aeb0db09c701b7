package meta

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/optim"
)

// TestResumeEqualsUninterrupted stops a run part-way, reloads the training
// checkpoint into a freshly built model and finishes; the final weights
// must be bit-identical to an uninterrupted run's.
func TestResumeEqualsUninterrupted(t *testing.T) {
	for _, name := range []string{"maml", "reptile", "metasgd", "reptile-carry-adam"} {
		t.Run(name, func(t *testing.T) {
			algo := strings.TrimSuffix(name, "-carry-adam")
			spec := Spec{Algorithm: algo, Dataset: "sinusoid", Shots: 5, Hidden: 16, Seed: 7}
			if algo != name { // the carried inner Adam state must survive the checkpoint too
				spec.InnerAdam, spec.CarryAdam, spec.InnerLR = true, true, 0.01
			}
			const iters = 12
			cfgFor := func() TrainConfig {
				c := TrainConfig{Iterations: iters, MetaBatch: 3, OuterLR: 1e-3, Seed: 7, ValEvery: 4, Workers: 2,
					Val: data.EvalSet(data.Sinusoid{Support: 5, Query: 5}, 4, 99)}
				if algo == "reptile" {
					c.Outer, c.Schedule = "sgd", optim.Linear(1, 0, iters)
				}
				return c
			}
			ref, err := Build(spec)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Train(ref.Algorithm, data.Sinusoid{Support: 5, Query: 5}, cfgFor()); err != nil {
				t.Fatal(err)
			}

			dir := t.TempDir()
			path := filepath.Join(dir, "ckpt.safetensors")
			first, _ := Build(spec)
			stop := make(chan struct{})
			cfg := cfgFor()
			cfg.CheckpointEvery, cfg.Stop = 5, stop
			cfg.Checkpoint = func(st *TrainState) error { return first.SaveTraining(path, st, nil) }
			cfg.Log = func(p Progress) {
				if p.Iteration == 7 { // iterations completed
					close(stop)
				}
			}
			if _, err := Train(first.Algorithm, data.Sinusoid{Support: 5, Query: 5}, cfg); !errors.Is(err, ErrStopped) {
				t.Fatalf("first half: err = %v, want ErrStopped", err)
			}
			again, st, _, err := LoadTraining(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Iteration != 7 {
				t.Fatalf("checkpoint at iteration %d, want 7", st.Iteration)
			}
			cfg = cfgFor()
			cfg.Resume = st
			if _, err := Train(again.Algorithm, data.Sinusoid{Support: 5, Query: 5}, cfg); err != nil {
				t.Fatal(err)
			}
			want, got := ref.Tensors(), again.Tensors()
			if len(want) != len(got) {
				t.Fatalf("%d vs %d tensors", len(want), len(got))
			}
			for i := range want {
				a, b := want[i].Tensor.Values(), got[i].Tensor.Values()
				for j := range a {
					if a[j] != b[j] {
						t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", want[i].Name, j, b[j], a[j])
					}
				}
			}
		})
	}
}

func TestNonFiniteStopsOrSkips(t *testing.T) {
	// an absurd inner learning rate makes the adapted loss overflow
	spec := Spec{Algorithm: "maml", Dataset: "sinusoid", Shots: 5, Hidden: 8, Seed: 1, InnerLR: 1e30}
	b, _ := Build(spec)
	cfg := TrainConfig{Iterations: 3, MetaBatch: 2, OuterLR: 1e-3, Seed: 1}
	_, err := Train(b.Algorithm, data.Sinusoid{Support: 5, Query: 5}, cfg)
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Iteration != 1 {
		t.Fatalf("err = %v, want a NonFiniteError at iteration 1", err)
	}
	b, _ = Build(spec)
	before := b.Tensors()[0].Tensor.Clone()
	cfg.SkipNonFinite = true
	res, err := Train(b.Algorithm, data.Sinusoid{Support: 5, Query: 5}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 3 {
		t.Fatalf("skipped %d iterations, want 3", res.Skipped)
	}
	after := b.Tensors()[0].Tensor
	for i, v := range before.Values() {
		if after.Values()[i] != v || math.IsNaN(after.Values()[i]) {
			t.Fatal("a skipped step changed the weights")
		}
	}
}

func TestLoadTrainingRejectsFinalModel(t *testing.T) {
	b, _ := Build(Spec{Algorithm: "maml", Dataset: "sinusoid", Seed: 1})
	path := filepath.Join(t.TempDir(), "final.safetensors")
	if err := b.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := LoadTraining(path); err == nil {
		t.Fatal("a final model loaded as a training checkpoint")
	}
}

// A time budget ends training after the iteration that crosses it, which
// is validated and checkpointed like a last iteration.
func TestTrainBudgetEndsEarly(t *testing.T) {
	b, err := Build(Spec{Algorithm: "maml", Dataset: "sinusoid", Shots: 5, Hidden: 8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	saved := -1
	cfg := TrainConfig{Iterations: 1000, MetaBatch: 2, OuterLR: 1e-3, ValEvery: 500, Budget: time.Nanosecond,
		Val: data.EvalSet(data.Sinusoid{Support: 5, Query: 5}, 4, 99), CheckpointEvery: 500,
		Checkpoint: func(st *TrainState) error { saved = st.Iteration; return nil }}
	res, err := Train(b.Algorithm, data.Sinusoid{Support: 5, Query: 5}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Iterations != 1 || res.BestIteration != 1 || res.BestVal == nil || saved != 1 {
		t.Errorf("budget run: %d iterations, best %d (val %v), checkpoint at %d; want 1, 1, validated, 1", res.Iterations, res.BestIteration, res.BestVal, saved)
	}
	cfg.Budget = -time.Second
	if _, err := Train(b.Algorithm, data.Sinusoid{Support: 5, Query: 5}, cfg); err == nil || !strings.Contains(err.Error(), "budget") {
		t.Errorf("negative budget: err = %v", err)
	}
	cfg.Budget, cfg.Iterations, cfg.ValEvery, cfg.CheckpointEvery = 0, 3, 0, 0
	if res, err = Train(b.Algorithm, data.Sinusoid{Support: 5, Query: 5}, cfg); err != nil || res.Iterations != 3 {
		t.Errorf("no budget: %d iterations, err %v; want 3", res.Iterations, err)
	}
}
