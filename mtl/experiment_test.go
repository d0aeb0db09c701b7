package mtl

import (
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
