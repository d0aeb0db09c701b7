package mtl

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/stats"
)

// SchoolMethod is a School benchmark entry: a model family and its
// training settings.
type SchoolMethod struct {
	Name, Model         string // Model: stl, pooled, additive, hard
	WeightDecayShared   float64
	WeightDecaySpecific float64
	Hidden              int
}

// DefaultSchoolMethods are the methods reported in RESULTS.md: independent
// least squares per school (no regularisation, the "independent" baseline),
// ridge per school, one pooled model, the Evgeniou-Pontil additive model
// (shared w_0 plus penalised school-specific v_t) and hard parameter sharing.
var DefaultSchoolMethods = []SchoolMethod{
	{Name: "stl", Model: "stl"},
	{Name: "stl-ridge", Model: "stl", WeightDecaySpecific: 1},
	{Name: "pooled", Model: "pooled"},
	{Name: "additive", Model: "additive", WeightDecaySpecific: 1},
	{Name: "hard", Model: "hard", Hidden: 16, WeightDecaySpecific: 0.1},
}

// SchoolResult is one method's explained variance over the splits.
type SchoolResult struct {
	Method  string    `json:"method"`
	Mean    float64   `json:"explained_variance_mean"`
	SD      float64   `json:"explained_variance_sd"`
	Splits  []float64 `json:"splits"`
	Seconds float64   `json:"seconds"`
}

// RunSchool evaluates methods on splits random 75/25 per-school splits
// (seeds 1..splits) with full-batch Adam for steps steps at rate lr.
func RunSchool(d *data.TaskRegression, methods []SchoolMethod, splits, steps int, lr float64) ([]SchoolResult, error) {
	if splits < 1 || steps < 1 || !(lr > 0) {
		return nil, fmt.Errorf("mtl: splits %d, steps %d and lr %v must be positive", splits, steps, lr)
	}
	tasks := make([]TaskSpec, d.NumTasks)
	for i := range tasks {
		tasks[i] = TaskSpec{Name: fmt.Sprintf("school%d", i+1), Kind: Regression}
	}
	var sp []*SchoolSplit
	for s := 1; s <= splits; s++ {
		x, err := SplitPerTask(d, 0.75, uint64(s))
		if err != nil {
			return nil, err
		}
		sp = append(sp, x)
	}
	var out []SchoolResult
	for _, meth := range methods {
		start := time.Now()
		r := SchoolResult{Method: meth.Name}
		for s, split := range sp {
			m, err := SchoolModel(meth.Model, rand.New(rand.NewPCG(uint64(s+1), 7)), d.X.Dim(1), d.NumTasks, max(meth.Hidden, 1))
			if err != nil {
				return nil, err
			}
			cfg := TrainConfig{Steps: steps, LR: lr, WeightDecayShared: meth.WeightDecayShared, WeightDecaySpecific: meth.WeightDecaySpecific, Seed: uint64(s)}
			if err := Train(m, tasks, split.Train, cfg); err != nil {
				return nil, err
			}
			r.Splits = append(r.Splits, ExplainedVariance(m, split.Test, split.TestTask))
		}
		r.Mean, r.SD = stats.Mean(r.Splits), stats.SD(r.Splits)
		r.Seconds = time.Since(start).Seconds()
		out = append(out, r)
	}
	return out, nil
}

// PickMethods resolves a comma-separated list of method names (the
// --methods of `mtl school` and `mtl parkinsons`) against the methods a
// benchmark offers (DefaultSchoolMethods, DefaultParkinsonsMethods).
func PickMethods(list string, all []SchoolMethod) ([]SchoolMethod, error) {
	var names []string
	for _, m := range all {
		names = append(names, m.Name)
	}
	var chosen []SchoolMethod
	for _, n := range strings.Split(list, ",") {
		i := slices.IndexFunc(all, func(m SchoolMethod) bool { return m.Name == strings.TrimSpace(n) })
		if i < 0 {
			return nil, fmt.Errorf("--methods: unknown method %q (want some of %s)", n, strings.Join(names, ","))
		}
		chosen = append(chosen, all[i])
	}
	return chosen, nil
}
