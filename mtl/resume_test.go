package mtl

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

// TestResumeEqualsUninterrupted stops training part-way for every
// weighting, restores the parameters and the TrainState into a fresh model
// and weighting, finishes, and requires bit-identical parameters.
func TestResumeEqualsUninterrupted(t *testing.T) {
	e := CirclesExperiment(4, 12, 3)
	val := e.Train
	for _, name := range WeightingNames {
		t.Run(name, func(t *testing.T) {
			build := func() (Model, TrainConfig) {
				m, err := e.BuildModel("hard", e.Tasks, 8, rand.New(rand.NewPCG(1, 2)))
				if err != nil {
					t.Fatal(err)
				}
				w, err := ByName(name, 5)
				if err != nil {
					t.Fatal(err)
				}
				return m, TrainConfig{Steps: 12, LR: 0.01, BatchSize: 20, Seed: 9, Weighting: w, Val: &val, ValEvery: 4}
			}
			ref, cfg := build()
			if err := Train(ref, e.Tasks, e.Train, cfg); err != nil {
				t.Fatal(err)
			}

			first, cfg := build()
			var saved *TrainState
			var params []*tensor.Tensor
			stop := make(chan struct{})
			cfg.CheckpointEvery, cfg.Stop = 5, stop
			cfg.Checkpoint = func(st *TrainState) error {
				saved = st
				params = params[:0]
				for _, p := range AllParams(first) {
					params = append(params, p.V.Value.Clone())
				}
				return nil
			}
			cfg.Log = func(step int, _ []float64) {
				if step == 6 {
					close(stop)
				}
			}
			if err := Train(first, e.Tasks, e.Train, cfg); !errors.Is(err, ErrStopped) {
				t.Fatalf("err = %v, want ErrStopped", err)
			}
			if saved == nil || saved.Step != 7 {
				t.Fatalf("checkpoint %+v, want step 7", saved)
			}
			again, cfg := build()
			for i, p := range AllParams(again) {
				p.V.Value = params[i].Clone()
			}
			cfg.Resume = saved
			if err := Train(again, e.Tasks, e.Train, cfg); err != nil {
				t.Fatal(err)
			}
			want, got := AllParams(ref), AllParams(again)
			for i := range want {
				a, b := want[i].V.Value.Values(), got[i].V.Value.Values()
				for j := range a {
					if a[j] != b[j] {
						t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", want[i].Name, j, b[j], a[j])
					}
				}
			}
		})
	}
}

func TestTrainingCheckpointRoundTrip(t *testing.T) {
	e := CirclesExperiment(3, 10, 1)
	m, _ := e.BuildModel("hard", e.Tasks, 8, rand.New(rand.NewPCG(1, 2)))
	w, _ := ByName("famo", 1)
	path := t.TempDir() + "/c.safetensors"
	var saved *TrainState
	cfg := TrainConfig{Steps: 6, LR: 0.01, Seed: 1, Weighting: w, CheckpointEvery: 3,
		Checkpoint: func(st *TrainState) error { saved = st; return SaveTraining(path, m, st, map[string]string{"k": "v"}) }}
	if err := Train(m, e.Tasks, e.Train, cfg); err != nil {
		t.Fatal(err)
	}
	m2, _ := e.BuildModel("hard", e.Tasks, 8, rand.New(rand.NewPCG(7, 7)))
	st, md, err := LoadTraining(path, m2)
	if err != nil {
		t.Fatal(err)
	}
	if md["k"] != "v" || st.Step != 6 || string(st.Weighting) != string(saved.Weighting) || st.Optimizer.Step != saved.Optimizer.Step {
		t.Fatalf("round trip changed the state: %+v", st)
	}
	for i, p := range AllParams(m2) {
		a, b := p.V.Value.Values(), AllParams(m)[i].V.Value.Values()
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("%s differs after loading", p.Name)
			}
		}
	}
	wide, _ := e.BuildModel("hard", e.Tasks, 9, rand.New(rand.NewPCG(1, 2)))
	if _, _, err := LoadTraining(path, wide); err == nil {
		t.Fatal("checkpoint loaded into a model of another width")
	}
}
