package mtl

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// With little data per task, sharing across many related circle tasks
// beats training each task alone (Delta_p > 0).
func TestCirclesMTLBeatsSTL(t *testing.T) {
	e := CirclesExperiment(8, 20, 1)
	cfg := RunConfig{Arch: "hard", Hidden: 32, Seed: 1, Train: TrainConfig{Steps: 300, LR: 0.01}}
	stl, err := e.RunSTL(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mtl, err := e.RunMTL(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dp, err := DeltaP(mtl, stl, e.HigherIsBetter())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("STL %v\nMTL %v\nDelta_p %+.2f%%", stl, mtl, dp)
	if dp <= 0 {
		t.Errorf("Delta_p = %.2f, want > 0", dp)
	}
}

// A loss that becomes NaN or infinite stops training with the step and task.
func TestTrainStopsOnNonFiniteLoss(t *testing.T) {
	e := CirclesExperiment(3, 10, 1)
	m, err := e.BuildModel("hard", e.Tasks, 8, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	// an infinite input: the gradient is the first thing to go
	bad := e.Train
	bad.X = bad.X.Clone()
	bad.X.SetFlat(0, math.Inf(1))
	err = Train(m, e.Tasks, bad, TrainConfig{Steps: 5, LR: 0.01, Seed: 1})
	if err == nil || !strings.Contains(err.Error(), "step 1: gradient is not finite") {
		t.Fatalf("err = %v", err)
	}
	// an absurd learning rate: the weights, then the losses, overflow
	m, _ = e.BuildModel("hard", e.Tasks, 8, rand.New(rand.NewPCG(1, 1)))
	err = Train(m, e.Tasks, e.Train, TrainConfig{Steps: 50, LR: 1e30, Seed: 1})
	if err == nil || !strings.Contains(err.Error(), "not finite") && !strings.Contains(err.Error(), "loss is") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}
