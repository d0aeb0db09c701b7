package mtl_test

import (
	"fmt"
	"math/rand/v2"

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
