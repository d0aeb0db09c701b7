package meta

import (
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// With running BatchNorm statistics, evaluation must use (and not update)
// them, for every algorithm.
func TestEvaluateLeavesRunningStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	task := func() data.Task {
		x := tensor.RandU(rng, tensor.Float32, 0, 1, 10, 1, 28, 28)
		return data.Task{SupportX: tensor.Slice(x, 0, 0, 5), QueryX: tensor.Slice(x, 0, 5, 10),
			SupportLabels: []int{0, 1, 2, 3, 4}, QueryLabels: []int{0, 1, 2, 3, 4}, Ways: 5}
	}
	tasks := []data.Task{task(), task()}
	for _, algo := range []string{"protonet", "reptile", "maml"} {
		t.Run(algo, func(t *testing.T) {
			b, err := Build(Spec{Algorithm: algo, Dataset: "omniglot", Ways: 5, Shots: 1, Queries: 1, Hidden: 8, BatchNorm: "running", Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			before := map[string][]float64{}
			for _, buf := range nn.Buffers(b.Model) {
				before[buf.Name] = buf.V.Value.Values()
			}
			if len(before) == 0 {
				t.Fatal("no running statistics")
			}
			Evaluate(b.Algorithm, tasks, 1, 1)
			for _, buf := range nn.Buffers(b.Model) {
				for i, v := range buf.V.Value.Values() {
					if v != before[buf.Name][i] {
						t.Fatalf("evaluation changed running statistic %s", buf.Name)
					}
				}
			}
		})
	}
}
