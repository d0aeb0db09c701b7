package mtl

import (
	"testing"
)

func TestSeedFaithfulReproduces(t *testing.T) {
	cfg := DefaultSeedConfig(false)
	res, err := RunSeed(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range res.Tasks {
		t.Logf("faithful task %d: test acc %.3f loss %.4f", tr.Task, tr.TestAccuracy, tr.TestLoss)
		// The seed recipe underfits: a faithful run lands around 0.75-0.90.
		if tr.TestAccuracy < 0.6 || tr.TestAccuracy > 0.95 {
			t.Errorf("task %d test accuracy %.3f outside the faithful range", tr.Task, tr.TestAccuracy)
		}
	}
	again, _ := RunSeed(cfg, nil)
	for i := range res.Tasks {
		if res.Tasks[i] != again.Tasks[i] {
			t.Fatalf("same seed gave different results: %+v vs %+v", res.Tasks[i], again.Tasks[i])
		}
	}
}

func TestSeedHeadsConverges(t *testing.T) {
	res, err := RunSeed(DefaultSeedConfig(true), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range res.Tasks {
		t.Logf("heads task %d: test acc %.3f loss %.4f", tr.Task, tr.TestAccuracy, tr.TestLoss)
		if tr.TestAccuracy < 0.98 {
			t.Errorf("task %d test accuracy %.3f < 0.98", tr.Task, tr.TestAccuracy)
		}
	}
}

func TestSeedConfigErrors(t *testing.T) {
	for _, c := range []SeedConfig{
		{Epochs: 0, LR: 1e-3, Points: 100, TrainFrac: 0.8},
		{Epochs: 10, LR: -1, Points: 100, TrainFrac: 0.8},
		{Epochs: 10, LR: 1e-3, Points: 100, TrainFrac: 1.5},
		{Epochs: 10, LR: 1e-3, Points: 3, TrainFrac: 0.8},
		{Epochs: 10, LR: 1e-3, Points: 100, TrainFrac: 0.8, Heads: true},
	} {
		if _, err := RunSeed(c, nil); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}
