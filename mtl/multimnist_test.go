package mtl

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const mnistDir = "../../shared/data/mnist"

func needMNIST(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(mnistDir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("MNIST not found at %s (../shared/data from the repository root): %v", mnistDir, err)
	}
}

func TestMultiMNISTExperiment(t *testing.T) {
	needMNIST(t)
	e, err := MultiMNISTExperiment(mnistDir, 600, 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	if e.Train.Rows() != 600 || e.Test.Rows() != 200 || e.Train.X.Dim(1) != 784 || len(e.Tasks) != 2 {
		t.Fatalf("train %v test %v tasks %d", e.Train.X.Shape(), e.Test.X.Shape(), len(e.Tasks))
	}
	if err := e.Train.Validate(e.Tasks); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"hard", "mtan"} {
		start := time.Now()
		cfg := RunConfig{Arch: arch, Hidden: 50, Seed: 1, Train: TrainConfig{Steps: 40, LR: 2e-3, Seed: 1, Weighting: NewEW()}}
		acc, err := e.RunMTL(cfg)
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		t.Logf("%s: 40 steps of %d: accuracies %v (%.1fs)", arch, e.BatchSize, acc, time.Since(start).Seconds())
		for k, a := range acc {
			if a < 0.2 {
				t.Errorf("%s: task %d accuracy %.3f after 40 steps, want > 0.2 (chance 0.1)", arch, k, a)
			}
		}
	}
	if _, err := e.BuildModel("mmoe", e.Tasks, 8, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("mmoe on images: no error")
	}
}
