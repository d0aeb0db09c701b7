package mtl

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Sampler chooses the rows of each training batch (TrainConfig.Sampler),
// for task scheduling on multi-input data: which task (or tasks) a step
// trains on. A row belongs to task t when RowTask[i] == t, else when its
// mask has a label for t (all rows belong to every task without a mask).
// Implementations keep the task grouping of the first dataset they see
// and must be given the same dataset at every call. With one task per
// batch the other tasks' losses are 0 for that step, so samplers fit loss
// weightings (EW, say) rather than gradient-based ones, which would see a
// zero gradient.
type Sampler interface {
	// Rows returns the batch rows at step (0-based) of d, drawing from rng.
	Rows(step int, d Dataset, tasks int, rng *rand.Rand) []int
	// Name is a short description.
	Name() string
}

// taskGroups returns, per task, the rows of d that belong to it.
func taskGroups(d Dataset, tasks int) [][]int {
	if d.RowTask != nil {
		return groupRows(d, tasks)
	}
	g := make([][]int, tasks)
	for t := range tasks {
		for i := 0; i < d.Rows(); i++ {
			if d.Mask == nil || d.Mask.At(i, t) != 0 {
				g[t] = append(g[t], i)
			}
		}
	}
	return g
}

// drawRows returns batch rows of rows drawn uniformly with replacement,
// or all of rows when batch is 0 or not smaller than len(rows).
func drawRows(rows []int, batch int, rng *rand.Rand) []int {
	if batch <= 0 || batch >= len(rows) {
		return append([]int(nil), rows...)
	}
	out := make([]int, batch)
	for i := range out {
		out[i] = rows[rng.IntN(len(rows))]
	}
	return out
}

// RoundRobin trains one task per step, in turn (task step mod T; tasks
// without rows are skipped), on BatchSize of its rows drawn with
// replacement, or all of them when BatchSize is 0 — the seed program's
// loop of one full-batch step per task.
type RoundRobin struct {
	BatchSize int
	groups    [][]int
}

// Name implements Sampler.
func (r *RoundRobin) Name() string { return "round-robin" }

// Rows implements Sampler.
func (r *RoundRobin) Rows(step int, d Dataset, tasks int, rng *rand.Rand) []int {
	if r.groups == nil {
		r.groups = taskGroups(d, tasks)
	}
	for k := 0; k < tasks; k++ {
		t := (step + k) % tasks
		if len(r.groups[t]) > 0 {
			return drawRows(r.groups[t], r.BatchSize, rng)
		}
	}
	return nil
}

// Temperature samples one task per step with probability p_t proportional
// to n_t^(1/T), n_t the task's row count, then BatchSize of its rows (all
// when 0). T = 1 is sampling proportional to dataset size, large T tends
// to uniform over tasks and T -> 0 to the largest task only. With
// AnnealSteps > 0 the temperature moves linearly from T at step 0 to
// AnnealTo at step AnnealSteps and stays there (annealed sampling, as in
// Stickland & Murray 2019 who anneal the exponent 1/T from 1 towards
// uniform).
type Temperature struct {
	BatchSize   int
	T           float64
	AnnealTo    float64
	AnnealSteps int
	groups      [][]int
}

// NewProportional samples tasks in proportion to their row counts.
func NewProportional(batch int) *Temperature { return &Temperature{BatchSize: batch, T: 1} }

// Name implements Sampler.
func (s *Temperature) Name() string {
	if s.AnnealSteps > 0 {
		return fmt.Sprintf("temperature %g->%g over %d steps", s.T, s.AnnealTo, s.AnnealSteps)
	}
	if s.T == 1 {
		return "proportional"
	}
	return fmt.Sprintf("temperature %g", s.T)
}

// TempAt returns the temperature at step.
func (s *Temperature) TempAt(step int) float64 {
	if s.AnnealSteps <= 0 {
		return s.T
	}
	f := math.Min(float64(step)/float64(s.AnnealSteps), 1)
	return s.T + (s.AnnealTo-s.T)*f
}

// Probs returns the task probabilities at step (after the first call
// to Rows, or for the grouping of d when given).
func (s *Temperature) Probs(step int, d Dataset, tasks int) []float64 {
	if s.groups == nil {
		s.groups = taskGroups(d, tasks)
	}
	temp := s.TempAt(step)
	if !(temp > 0) {
		temp = 1e-9
	}
	p := make([]float64, tasks)
	// in logs, relative to the largest task, so huge exponents stay finite
	maxN := 0
	for _, g := range s.groups {
		maxN = max(maxN, len(g))
	}
	sum := 0.0
	for t, g := range s.groups {
		if len(g) > 0 {
			p[t] = math.Exp((math.Log(float64(len(g))) - math.Log(float64(maxN))) / temp)
			sum += p[t]
		}
	}
	for t := range p {
		p[t] /= sum
	}
	return p
}

// Rows implements Sampler.
func (s *Temperature) Rows(step int, d Dataset, tasks int, rng *rand.Rand) []int {
	p := s.Probs(step, d, tasks)
	u := rng.Float64()
	t, acc := 0, 0.0
	for k, pk := range p {
		if pk == 0 {
			continue
		}
		t = k
		acc += pk
		if u < acc {
			break
		}
	}
	return drawRows(s.groups[t], s.BatchSize, rng)
}
