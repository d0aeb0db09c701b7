package runner_test

import (
	"fmt"
	"math"

	"github.com/metalearn/metalearn/runner"
	"github.com/metalearn/metalearn/tensor"
)

// A translation trainer in outline: each step trains on one batch of
// sentence pairs and reports the tokens it consumed; the run ends when the
// token budget is spent; every few steps the model translates a
// development set and is scored by chrF, and the best-scoring weights are
// kept (chrF: higher is better, from the metric's name). A real trainer
// would also pass Checkpoint (adding its sampler and optimizer state) and
// Stop (runner.OnInterrupt) and a Progress.
func Example_tokenBudgetTranslation() {
	weights := tensor.FromValues(tensor.Float64, []float64{0}, 1) // stands in for the model
	const tokensPerBatch = 4000
	step := func(i int) (runner.Result, error) {
		// forward, backward and optimizer step on batch i would go here
		weights = tensor.FromValues(tensor.Float64, []float64{float64(i + 1)}, 1)
		loss := 5 / math.Sqrt(float64(i+1))
		return runner.Result{Loss: loss, Units: tokensPerBatch, Fields: []runner.Field{{Name: "ppl", Value: math.Exp(loss)}}}, nil
	}
	devChrF := func(int) (float64, error) {
		// decode the development set and score it; this model peaks at 12
		w := weights.Values()[0]
		return 60 - math.Abs(w-12), nil
	}
	out, err := runner.Run(runner.Config{
		Steps:    1_000_000, // the learning-rate schedule's length
		MaxUnits: 80_000,    // the token budget: 20 batches
		Step:     step,
		ValEvery: 4, Metric: "chrF", Validate: devChrF,
		Snapshot: func() []*tensor.Tensor { return []*tensor.Tensor{weights.Clone()} },
		Restore:  func(best []*tensor.Tensor) error { weights = best[0]; return nil },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d steps, %d tokens; best dev chrF %.0f at step %d; kept weights %v\n",
		out.Steps, out.Units, out.BestValue, out.BestStep, weights.Values()[0])
	// Output: 20 steps, 80000 tokens; best dev chrF 60 at step 12; kept weights 12
}
