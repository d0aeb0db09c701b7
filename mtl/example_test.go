package mtl_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/metalearn/metalearn/mtl"
)

// Train one multi-task model (a shared trunk and one head per task) on ten
// related circle tasks with PCGrad, and compare it with single-task models
// of the same architecture by Delta_p (positive: multi-task is better).
func ExampleTrain() {
	e := mtl.CirclesExperiment(10, 20, 1)
	w, err := mtl.ByName("pcgrad", 1)
	if err != nil {
		panic(err)
	}
	cfg := mtl.RunConfig{Arch: "hard", Hidden: 32, Seed: 1, Train: mtl.TrainConfig{Steps: 200, LR: 0.01, Seed: 1}}
	stl, err := e.RunSTL(cfg)
	if err != nil {
		panic(err)
	}
	m, err := e.BuildModel("hard", e.Tasks, 32, rand.New(rand.NewPCG(1, 99)))
	if err != nil {
		panic(err)
	}
	cfg.Train.Weighting = w
	if err := mtl.Train(m, e.Tasks, e.Train, cfg.Train); err != nil {
		panic(err)
	}
	all := make([]int, len(e.Tasks))
	for i := range all {
		all[i] = i
	}
	acc := e.Metrics(m, e.Test, all)
	dp, _ := mtl.DeltaP(acc, stl, e.HigherIsBetter())
	fmt.Printf("%d tasks, multi-task better than single-task: %v\n", len(acc), dp > 0)
	// Output: 10 tasks, multi-task better than single-task: true
}

// What `metalearn mtl train --seeds 2 --save DIR` does, as one call: each
// seed builds the experiment, trains single-task baselines and one model
// per weighting; EvaluateSaved re-tests a saved model from its file.
func ExampleSweep() {
	dir, err := os.MkdirTemp("", "sweep")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	res, err := mtl.Sweep(mtl.SweepConfig{Spec: mtl.ExperimentSpec{Dataset: "circles", Tasks: 3, PerTask: 10},
		Arch: "hard", Hidden: 8, Steps: 30, LR: 0.01, Seed: 1, Weightings: []string{"ew", "mgda"}, Seeds: 2, SaveDir: dir})
	if err != nil {
		panic(err)
	}
	for _, r := range res.Rows {
		fmt.Printf("%-11s seeds %v, %d saved files\n", r.Weighting, r.Seeds, len(r.Saved))
	}
	ev, err := mtl.EvaluateSaved(filepath.Join(dir, "seed2", "mgda.safetensors"), "", "")
	if err != nil {
		panic(err)
	}
	fmt.Println("re-tested:", ev.DeltaP == res.Rows[2].DeltaP[1])
	// Output:
	// single-task seeds [1 2], 2 saved files
	// ew          seeds [1 2], 2 saved files
	// mgda        seeds [1 2], 2 saved files
	// re-tested: true
}
