package meta

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"metalearn/autodiff"
	"metalearn/data"
	"metalearn/optim"
	"metalearn/tensor"
)

// TrainConfig configures meta-training.
type TrainConfig struct {
	Iterations int // outer steps
	MetaBatch  int // tasks per outer step
	OuterLR    float64
	// Outer is "adam" (default) or "sgd" (Reptile's outer update).
	Outer string
	// Schedule, when set, gives the outer learning rate per iteration
	// (overrides OuterLR).
	Schedule optim.Schedule
	// ClipNorm > 0 clips the averaged meta-gradient's global norm.
	ClipNorm float64
	Seed     uint64
	// Workers processes the tasks of a meta-batch in parallel (default:
	// GOMAXPROCS). Results do not depend on it.
	Workers int
	// Validation: every ValEvery iterations evaluate on Val (with ValSteps
	// adaptation steps, <0 for the algorithm default) and keep the best
	// meta-parameters, restored at the end.
	ValEvery int
	Val      []data.Task
	ValSteps int
	// HigherIsBetter says how to compare validation metrics (accuracy:
	// true; MSE: false).
	HigherIsBetter bool
	// Log, when set, receives progress.
	Log func(Progress)
}

// Progress is reported to TrainConfig.Log.
type Progress struct {
	Iteration  int
	Loss       float64 // mean query loss of the meta-batch
	Metric     float64 // mean query metric of the meta-batch
	Val        *Summary
	Elapsed    time.Duration
	BestSoFar  bool
	OuterLR    float64
	Iterations int
}

// TrainResult summarises a run.
type TrainResult struct {
	BestIteration int
	BestVal       *Summary
	Curve         []Progress // validation points
	Elapsed       time.Duration
}

func (c *TrainConfig) validate() error {
	switch {
	case c.Iterations < 1:
		return fmt.Errorf("iterations = %d, want >= 1", c.Iterations)
	case c.MetaBatch < 1:
		return fmt.Errorf("meta-batch = %d, want >= 1", c.MetaBatch)
	case c.Schedule == nil && (!(c.OuterLR > 0) || math.IsInf(c.OuterLR, 0)):
		return fmt.Errorf("outer learning rate = %v, want > 0", c.OuterLR)
	case c.Outer != "" && c.Outer != "adam" && c.Outer != "sgd":
		return fmt.Errorf("outer optimizer %q, want adam or sgd", c.Outer)
	case c.ValEvery < 0:
		return fmt.Errorf("validation interval = %d, want >= 0", c.ValEvery)
	case c.ValEvery > 0 && len(c.Val) == 0:
		return errors.New("validation interval set but no validation tasks")
	}
	return nil
}

// Train meta-trains alg on tasks drawn from dist.
func Train(alg Algorithm, dist data.TaskDistribution, cfg TrainConfig) (*TrainResult, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	params := alg.MetaParams()
	var opt optim.Optimizer
	if cfg.Outer == "sgd" {
		opt = optim.NewSGD(params, optim.SGDConfig{LR: cfg.OuterLR})
	} else {
		opt = optim.NewAdam(params, optim.AdamConfig{LR: cfg.OuterLR})
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6d657461))
	start := time.Now()
	res := &TrainResult{BestIteration: -1}
	var best []*tensor.Tensor
	for it := 0; it < cfg.Iterations; it++ {
		if cfg.Schedule != nil {
			opt.SetLR(cfg.Schedule(it))
		}
		tasks := make([]data.Task, cfg.MetaBatch)
		for i := range tasks {
			tasks[i] = dist.Sample(rng)
		}
		grads, results := taskGradients(alg, tasks, it, cfg.Workers)
		mean := AverageGrads(grads)
		if cfg.ClipNorm > 0 {
			optim.ClipGradNorm(mean, cfg.ClipNorm)
		}
		for _, g := range mean {
			if g.HasNaNOrInf() {
				return res, fmt.Errorf("meta: iteration %d: meta-gradient is not finite (loss %v); lower the learning rates", it, meanLoss(results))
			}
		}
		opt.StepWith(mean)
		p := Progress{Iteration: it, Loss: meanLoss(results), Metric: meanMetric(results), Elapsed: time.Since(start), OuterLR: opt.LR(), Iterations: cfg.Iterations}
		if cfg.ValEvery > 0 && ((it+1)%cfg.ValEvery == 0 || it == cfg.Iterations-1) {
			s := Evaluate(alg, cfg.Val, cfg.ValSteps, cfg.Workers)
			p.Val = &s
			if res.BestVal == nil || (cfg.HigherIsBetter && s.Mean > res.BestVal.Mean) || (!cfg.HigherIsBetter && s.Mean < res.BestVal.Mean) {
				res.BestVal, res.BestIteration, p.BestSoFar = &s, it, true
				best = snapshot(params)
			}
			res.Curve = append(res.Curve, p)
		}
		if cfg.Log != nil {
			cfg.Log(p)
		}
	}
	if best != nil {
		for i, p := range params {
			p.Value = best[i]
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func snapshot(ps []*autodiff.Var) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(ps))
	for i, p := range ps {
		out[i] = p.Value.Clone()
	}
	return out
}

// taskGradients runs TaskGradient over tasks with up to workers goroutines.
func taskGradients(alg Algorithm, tasks []data.Task, iter, workers int) ([][]*tensor.Tensor, []TaskResult) {
	grads := make([][]*tensor.Tensor, len(tasks))
	results := make([]TaskResult, len(tasks))
	Parallel(len(tasks), workers, func(i int) {
		grads[i], results[i] = alg.TaskGradient(tasks[i], iter)
	})
	return grads, results
}

// Parallel runs f(0..n-1) on up to workers goroutines (0: GOMAXPROCS).
func Parallel(n, workers int, f func(i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// AverageGrads sums per-task gradients in task order (so the result does
// not depend on scheduling) and divides by the count.
func AverageGrads(grads [][]*tensor.Tensor) []*tensor.Tensor {
	mean := make([]*tensor.Tensor, len(grads[0]))
	for i := range mean {
		mean[i] = grads[0][i].Clone()
		for _, g := range grads[1:] {
			mean[i].AddScaledInPlace(1, g[i])
		}
		mean[i].ScaleInPlace(1 / float64(len(grads)))
	}
	return mean
}

func meanLoss(rs []TaskResult) float64 {
	s := 0.0
	for _, r := range rs {
		s += r.Loss
	}
	return s / float64(len(rs))
}

func meanMetric(rs []TaskResult) float64 {
	s := 0.0
	for _, r := range rs {
		s += r.Metric
	}
	return s / float64(len(rs))
}

// Summary is a mean over tasks with its 95% confidence interval.
type Summary struct {
	Mean float64 `json:"mean"`
	// CI95 is the half-width 1.96 * sd / sqrt(n) (sample sd).
	CI95 float64 `json:"ci95"`
	Loss float64 `json:"loss"`
	N    int     `json:"n"`
}

func (s Summary) String() string { return fmt.Sprintf("%.4f ± %.4f (n=%d)", s.Mean, s.CI95, s.N) }

// Evaluate adapts to each task (steps adaptation steps; negative: the
// algorithm default) and summarises the query metric.
//
// Algorithms with a training/evaluation mode (BatchNorm with running
// statistics) are switched to evaluation mode for the duration.
func Evaluate(alg Algorithm, tasks []data.Task, steps, workers int) Summary {
	if m, ok := alg.(interface{ SetTraining(bool) }); ok {
		m.SetTraining(false)
		defer m.SetTraining(true)
	}
	rs := make([]TaskResult, len(tasks))
	Parallel(len(tasks), workers, func(i int) { rs[i] = alg.Evaluate(tasks[i], steps) })
	return Summarise(rs)
}

// Summarise computes mean metric, its 95% CI and mean loss.
func Summarise(rs []TaskResult) Summary {
	n := len(rs)
	if n == 0 {
		return Summary{}
	}
	m := meanMetric(rs)
	ss := 0.0
	for _, r := range rs {
		ss += (r.Metric - m) * (r.Metric - m)
	}
	ci := 0.0
	if n > 1 {
		ci = 1.96 * math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
	}
	return Summary{Mean: m, CI95: ci, Loss: meanLoss(rs), N: n}
}
