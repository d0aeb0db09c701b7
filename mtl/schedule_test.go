package mtl

import (
	"math"
	"math/rand/v2"
	"testing"
)

// multiInput: three circle tasks with 10, 40 and 150 training rows.
func multiInput() *Experiment {
	e := CirclesExperiment(3, 150, 1)
	// keep task 0's first 10 rows, task 1's first 40, task 2's 150
	var idx []int
	count := map[int]int{}
	limit := []int{10, 40, 150}
	for i, t := range e.Train.RowTask {
		if count[t] < limit[t] {
			idx = append(idx, i)
			count[t]++
		}
	}
	e.Train = e.Train.Subset(idx)
	return e
}

func TestRoundRobin(t *testing.T) {
	e := multiInput()
	rng := rand.New(rand.NewPCG(1, 1))
	s := &RoundRobin{BatchSize: 8}
	for step := 0; step < 9; step++ {
		rows := s.Rows(step, e.Train, 3, rng)
		if len(rows) != 8 {
			t.Fatalf("step %d: %d rows", step, len(rows))
		}
		for _, r := range rows {
			if e.Train.RowTask[r] != step%3 {
				t.Fatalf("step %d: row of task %d", step, e.Train.RowTask[r])
			}
		}
	}
	full := (&RoundRobin{}).Rows(0, e.Train, 3, rng)
	if len(full) != 10 {
		t.Errorf("full batch of task 0: %d rows, want 10", len(full))
	}
}

func TestTemperatureSampling(t *testing.T) {
	e := multiInput()
	n := []float64{10, 40, 150}
	for _, c := range []struct {
		s    *Temperature
		step int
		want []float64
	}{
		{NewProportional(4), 0, []float64{0.05, 0.2, 0.75}},
		{&Temperature{T: 2}, 0, nil},
		{&Temperature{T: 1e6}, 0, []float64{1. / 3, 1. / 3, 1. / 3}},
		{&Temperature{T: 1, AnnealTo: 1e6, AnnealSteps: 100}, 200, []float64{1. / 3, 1. / 3, 1. / 3}},
		{&Temperature{T: 1, AnnealTo: 1e6, AnnealSteps: 100}, 0, []float64{0.05, 0.2, 0.75}},
	} {
		want := c.want
		if want == nil { // n^(1/2) normalised
			s := 0.0
			for _, v := range n {
				s += math.Sqrt(v)
			}
			for _, v := range n {
				want = append(want, math.Sqrt(v)/s)
			}
		}
		p := c.s.Probs(c.step, e.Train, 3)
		for k := range p {
			if math.Abs(p[k]-want[k]) > 1e-6 {
				t.Errorf("%s at step %d: p = %v, want %v", c.s.Name(), c.step, p, want)
				break
			}
		}
	}
	// empirical frequencies of the proportional sampler
	rng := rand.New(rand.NewPCG(2, 2))
	s := NewProportional(1)
	freq := make([]float64, 3)
	const draws = 20000
	for step := 0; step < draws; step++ {
		freq[e.Train.RowTask[s.Rows(step, e.Train, 3, rng)[0]]] += 1.0 / draws
	}
	for k, want := range []float64{0.05, 0.2, 0.75} {
		if math.Abs(freq[k]-want) > 0.015 {
			t.Errorf("task %d drawn %.3f of the time, want %.2f", k, freq[k], want)
		}
	}
}

// Train uses the sampler: round-robin full-task steps train every task,
// and the sampler sees the configured number of steps.
func TestTrainWithSampler(t *testing.T) {
	e := multiInput()
	cfg := RunConfig{Arch: "hard", Hidden: 16, Seed: 1, Train: TrainConfig{Steps: 150, LR: 0.02, Seed: 1}}
	for _, s := range []Sampler{&RoundRobin{}, NewProportional(32), &Temperature{BatchSize: 32, T: 1, AnnealTo: 5, AnnealSteps: 100}} {
		c := cfg
		c.Train.Sampler = &countingSampler{Sampler: s}
		res, err := e.RunMTL(c)
		if err != nil {
			t.Fatal(err)
		}
		calls := c.Train.Sampler.(*countingSampler).calls
		t.Logf("%s: accuracies %v", s.Name(), res)
		if calls != 150 {
			t.Errorf("%s: sampler called %d times", s.Name(), calls)
		}
		for k, a := range res {
			if a < 0.6 {
				t.Errorf("%s: task %d accuracy %.3f", s.Name(), k, a)
			}
		}
	}
}

type countingSampler struct {
	Sampler
	calls int
}

func (c *countingSampler) Rows(step int, d Dataset, tasks int, rng *rand.Rand) []int {
	c.calls++
	return c.Sampler.Rows(step, d, tasks, rng)
}
