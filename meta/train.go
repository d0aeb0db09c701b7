package meta

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/dist"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/runner"
	"github.com/metalearn/metalearn/stats"
	"github.com/metalearn/metalearn/tensor"
)

// TrainConfig configures meta-training. The loop around the steps
// (budget, validation and best-keeping, checkpoints, stopping, non-finite
// handling, progress) is the run driver's, package runner.
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
	// adaptation steps; 0: the algorithm's evaluation default, NoSteps:
	// none) and keep the best meta-parameters, restored at the end. The
	// metric decides what "best" is: accuracy (classification tasks, higher
	// is better) or mean squared error (regression tasks, lower is better).
	ValEvery int
	Val      []data.Task
	ValSteps int
	// Log, when set, receives progress after every iteration.
	Log func(Progress)
	// Progress, when set, shows a bar (terminal) or periodic lines (logs).
	Progress *runner.Progress

	// Resume continues a run from a state passed to Checkpoint (with the
	// meta-parameters and buffers restored by the caller, e.g. LoadTraining);
	// the final weights equal those of an uninterrupted run with the same
	// configuration.
	Resume *TrainState
	// CheckpointEvery > 0 calls Checkpoint after every that many
	// iterations and after the last one; Checkpoint is also called when
	// Stop fires. CheckpointName names the file in messages and
	// ResumeCommand is quoted in the error of a stopped run.
	CheckpointEvery int
	Checkpoint      func(*TrainState) error
	CheckpointName  string
	ResumeCommand   string
	// Stop, when closed, ends training after the current iteration (and
	// its checkpoint); Train then returns an error matching ErrStopped.
	Stop <-chan struct{}
	// Budget > 0 ends training after the first iteration that finishes
	// with at least that much training time spent (counting the time
	// before a resume): that iteration is validated and checkpointed like
	// the last one, and Train returns normally with the best validated
	// meta-parameters (TrainResult.Iterations says how many ran).
	// Schedules still span Iterations. Not for distributed runs.
	Budget time.Duration
	// SkipNonFinite skips (and counts, TrainState.Skipped) an iteration
	// whose loss or meta-gradient is NaN or infinite instead of stopping
	// with a *NonFiniteError.
	SkipNonFinite bool

	// Comm, when set with more than one rank, makes this process one rank
	// of a data-parallel job (see dist and distributed.go): every rank
	// samples the whole meta-batch, computes the gradients of its share
	// of the tasks, and the gradients are combined so that every rank
	// takes the same step; validation tasks are split over the ranks too.
	// Log and Checkpoint are called on rank 0 only. By default the final
	// meta-parameters equal those of a single-process run bit for bit.
	Comm dist.Comm
	// FastReduce (with Comm) all-reduces per-rank partial gradient sums
	// instead of gathering every task's gradient: MetaBatch/2 times fewer
	// bytes, equal to the single-process result only to rounding.
	FastReduce bool
}

// NoSteps as TrainConfig.ValSteps validates without adaptation steps.
const NoSteps = -1

// valSteps maps TrainConfig.ValSteps to Evaluate's convention.
func (c *TrainConfig) valSteps() int {
	switch {
	case c.ValSteps == 0:
		return -1 // the algorithm's default
	case c.ValSteps < 0:
		return 0
	}
	return c.ValSteps
}

// ErrStopped is matched (errors.Is) by the error Train returns when
// TrainConfig.Stop fired.
var ErrStopped = runner.ErrStopped

// NonFiniteError reports a NaN or infinite loss or meta-gradient.
type NonFiniteError struct {
	Iteration int // 1-based
	What      string
	Loss      float64
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("meta: iteration %d: %s is not finite (meta-batch loss %v); lower the learning rates or set SkipNonFinite", e.Iteration, e.What, e.Loss)
}

// TrainState is everything besides the meta-parameters that Train needs
// to continue a run exactly: the task sampler's state, the outer
// optimizer's state and the validation bookkeeping.
type TrainState struct {
	Iteration     int    // iterations completed
	RNG           []byte // task sampler (math/rand/v2 PCG, binary form)
	Optimizer     *optim.State
	BestIteration int // 1-based iteration of the best validation; 0: none yet
	BestVal       *Summary
	Best          []*tensor.Tensor // best validated meta-parameters, then any carried state (Carrier); nil if none
	Curve         []Progress
	Skipped       int
	Elapsed       time.Duration
}

// Progress is reported to TrainConfig.Log.
type Progress struct {
	Iteration  int     // iterations completed: 1 after the first
	Loss       float64 // mean query loss of the meta-batch
	Metric     float64 // mean query metric of the meta-batch
	Val        *Summary
	Elapsed    time.Duration
	BestSoFar  bool
	OuterLR    float64
	Iterations int
	// GradNorm is the global norm of the averaged meta-gradient (before
	// clipping).
	GradNorm float64
	Skipped  bool // the iteration's update was skipped (non-finite)
}

// TrainResult summarises a run.
type TrainResult struct {
	BestIteration int // 1-based; 0: never validated
	BestVal       *Summary
	Curve         []Progress // validation points
	Elapsed       time.Duration
	Skipped       int // iterations skipped as non-finite
	Iterations    int // iterations completed (< TrainConfig.Iterations when the Budget ended training)
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
	case c.ValSteps < NoSteps:
		return fmt.Errorf("validation steps = %d, want >= 0 (0: the algorithm's default; NoSteps: none)", c.ValSteps)
	case c.Budget < 0:
		return fmt.Errorf("time budget = %v, want >= 0 (0: none)", c.Budget)
	case c.Budget > 0 && c.Comm != nil && c.Comm.Size() > 1:
		return errors.New("a time budget is not supported for distributed training (the ranks' clocks would disagree on the last iteration)")
	case c.CheckpointEvery < 0:
		return fmt.Errorf("checkpoint interval = %d, want >= 0", c.CheckpointEvery)
	case c.CheckpointEvery > 0 && c.Checkpoint == nil:
		return errors.New("checkpoint interval set but no Checkpoint function")
	case c.Resume != nil && (c.Resume.Iteration < 0 || c.Resume.Iteration > c.Iterations):
		return fmt.Errorf("resume state is at iteration %d, run has %d iterations", c.Resume.Iteration, c.Iterations)
	}
	return nil
}

// ValMetric names the metric validation on tasks reports: "accuracy" for
// classification tasks, "mse" for regression.
func ValMetric(tasks []data.Task) string {
	if len(tasks) > 0 && tasks[0].Ways > 0 {
		return "accuracy"
	}
	return "mse"
}

// Train meta-trains alg on tasks drawn from dist: each iteration samples a
// meta-batch, averages the tasks' meta-gradients (TaskGradient, or the
// algorithm's BatchGradient) and takes one outer optimizer step.
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
	car := carrier(alg)
	if car != nil && cfg.Comm != nil && cfg.Comm.Size() > 1 {
		return nil, fmt.Errorf("meta: %s carries state from task to task (Reptile's carried inner Adam), so its tasks run in order in one process; distributed training is not supported for it", alg.Name())
	}
	bg, pooled := alg.(batchGradienter)
	if pooled && cfg.Comm != nil && cfg.Comm.Size() > 1 {
		return nil, fmt.Errorf("meta: %s trains on pooled tasks in one process; distributed training is not supported for it", alg.Name())
	}
	workers := cfg.Workers
	if car != nil {
		workers = 1
	}
	stream := uint64(0x6d657461)
	if pooled {
		stream = bg.samplerStream()
	}
	pcg := rand.NewPCG(cfg.Seed, stream)
	rng := rand.New(pcg)
	res := &TrainResult{}
	var rs *runner.State
	if r := cfg.Resume; r != nil {
		if err := pcg.UnmarshalBinary(r.RNG); err != nil {
			return nil, fmt.Errorf("meta: resume: task sampler state: %w", err)
		}
		if r.Optimizer != nil {
			if err := opt.LoadState(r.Optimizer); err != nil {
				return nil, fmt.Errorf("meta: resume: %w", err)
			}
		}
		if r.Best != nil {
			if err := checkBest(alg, r.Best); err != nil {
				return nil, fmt.Errorf("meta: resume: %w", err)
			}
		}
		res.BestIteration, res.BestVal, res.Skipped = r.BestIteration, r.BestVal, r.Skipped
		res.Curve = append(res.Curve, r.Curve...)
		res.Iterations = r.Iteration
		rs = &runner.State{Step: r.Iteration, Elapsed: r.Elapsed, Skipped: r.Skipped, BestStep: r.BestIteration, Best: r.Best}
		if r.BestVal != nil {
			rs.BestValue = r.BestVal.Mean
			if rs.BestStep == 0 { // a best exists; its iteration was not recorded
				rs.BestStep = max(r.Iteration, 1)
			}
		}
	}
	var dp *dataParallel
	if cfg.Comm != nil && cfg.Comm.Size() > 1 {
		d, err := newDataParallel(cfg.Comm, alg, &cfg)
		if err != nil {
			return nil, err
		}
		dp = d
	}
	rank0 := dp == nil || dp.c.Rank() == 0
	var p Progress      // the iteration in progress, for Log
	var lastVal Summary // the latest validation
	rc := runner.Config{
		Steps: cfg.Iterations, Resume: rs, MaxDuration: cfg.Budget, SkipNonFinite: cfg.SkipNonFinite,
		CheckpointEvery: cfg.CheckpointEvery, CheckpointName: cfg.CheckpointName, ResumeCommand: cfg.ResumeCommand,
		Unit: "iteration", Stop: cfg.Stop,
	}
	if dp != nil {
		rc.Stop = nil // the ranks agree on stopping in the step's exchange
	}
	if rank0 {
		rc.Progress = cfg.Progress
	}
	rc.Step = func(it int) (runner.Result, error) {
		if cfg.Schedule != nil {
			opt.SetLR(cfg.Schedule(it))
		}
		tasks := make([]data.Task, cfg.MetaBatch)
		for i := range tasks {
			tasks[i] = dist.Sample(rng)
		}
		var (
			mean         []*tensor.Tensor
			loss, metric float64
			stopAll      bool // dp: some rank's Stop fired before the exchange
		)
		switch {
		case pooled:
			var tr TaskResult
			var err error
			if mean, tr, err = bg.BatchGradient(tasks, it); err != nil {
				return runner.Result{}, err
			}
			loss, metric = tr.Loss, tr.Metric
		case dp == nil:
			grads, results := taskGradients(alg, tasks, it, workers)
			mean, loss, metric = AverageGrads(grads), meanLoss(results), meanMetric(results)
		default:
			sr, err := dp.step(alg, tasks, it, cfg.Workers, runner.Fired(cfg.Stop))
			if err != nil {
				return runner.Result{}, err
			}
			mean, loss, metric, stopAll = sr.mean, sr.loss, sr.metric, sr.stop
		}
		norm := optim.GlobalNorm(mean)
		p = Progress{Iteration: it + 1, Loss: loss, Metric: metric, OuterLR: opt.LR(), Iterations: cfg.Iterations, GradNorm: norm}
		r := runner.Result{Loss: loss, Fields: []runner.Field{{Name: ValMetric(tasks), Value: metric}}, Stop: stopAll}
		if !runner.Finite(loss, norm) {
			what := "meta-gradient"
			if !runner.Finite(loss) {
				what = "loss"
			}
			r.NonFinite = &NonFiniteError{Iteration: it + 1, What: what, Loss: loss}
			return r, nil
		}
		if cfg.ClipNorm > 0 {
			optim.ClipGradNorm(mean, cfg.ClipNorm)
		}
		opt.StepWith(mean)
		return r, nil
	}
	if cfg.ValEvery > 0 {
		rc.ValEvery, rc.Metric = cfg.ValEvery, ValMetric(cfg.Val)
		rc.Validate = func(int) (float64, error) {
			if dp == nil {
				lastVal = Evaluate(alg, cfg.Val, cfg.valSteps(), cfg.Workers)
				return lastVal.Mean, nil
			}
			var err error
			lastVal, err = EvaluateDistributed(dp.c, alg, cfg.Val, cfg.valSteps(), cfg.Workers)
			return lastVal.Mean, err
		}
	}
	// a resumed best is restored at the end even without validation now
	rc.Snapshot = func() []*tensor.Tensor { return bestSnapshot(alg) }
	rc.Restore = func(best []*tensor.Tensor) error { return restoreBest(alg, best) }
	rc.Log = func(ev runner.Event) {
		p.Elapsed, p.Skipped = ev.Elapsed, ev.Skipped
		res.Iterations, res.Skipped = ev.Step, res.Skipped+b2i(ev.Skipped)
		if ev.Validated {
			s := lastVal
			p.Val, p.BestSoFar = &s, ev.Best
			if ev.Best {
				res.BestVal, res.BestIteration = &s, ev.Step
			}
			res.Curve = append(res.Curve, p)
		}
		if cfg.Log != nil && rank0 {
			cfg.Log(p)
		}
	}
	rc.Checkpoint = func(st runner.State) error {
		var err error
		if rank0 && cfg.Checkpoint != nil {
			var b []byte
			if b, err = pcg.MarshalBinary(); err == nil {
				err = cfg.Checkpoint(&TrainState{Iteration: st.Step, RNG: b, Optimizer: opt.State(), BestIteration: res.BestIteration, BestVal: res.BestVal,
					Best: st.Best, Curve: append([]Progress(nil), res.Curve...), Skipped: st.Skipped, Elapsed: st.Elapsed})
			}
		}
		if dp != nil {
			err = dp.sync(err)
		}
		return err
	}
	if cfg.Checkpoint == nil && dp == nil {
		rc.Checkpoint = nil
	}
	out, err := runner.Run(rc)
	if out != nil {
		res.Elapsed = out.Elapsed
	}
	if err != nil {
		return res, err
	}
	if dp != nil {
		if err := dp.sync(nil); err != nil {
			return res, err
		}
	}
	return res, nil
}

// batchGradienter is implemented by algorithms that compute one gradient
// for a whole meta-batch (Pretrained: the pooled supervised loss) instead
// of averaging per-task gradients; samplerStream is their task sampler's
// stream.
type batchGradienter interface {
	BatchGradient(tasks []data.Task, iter int) ([]*tensor.Tensor, TaskResult, error)
	samplerStream() uint64
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkBest checks that best has the layout of bestSnapshot(alg).
func checkBest(alg Algorithm, best []*tensor.Tensor) error {
	params := alg.MetaParams()
	like := bestSnapshot(alg)
	if len(best) != len(like) {
		return fmt.Errorf("%d best tensors for %d meta-parameters and carried tensors", len(best), len(like))
	}
	for i, t := range best {
		if i >= len(params) {
			if !tensor.SameShape(t.Shape(), like[i].Shape()) {
				return fmt.Errorf("best carried tensor %d has shape %v, want %v", i-len(params), t.Shape(), like[i].Shape())
			}
			continue
		}
		if !tensor.SameShape(t.Shape(), params[i].Value.Shape()) {
			return fmt.Errorf("best tensor %d has shape %v, parameter has %v", i, t.Shape(), params[i].Value.Shape())
		}
	}
	return nil
}

// bestSnapshot copies what validation keeps: alg's meta-parameters, then
// any carried state (Carrier).
func bestSnapshot(alg Algorithm) []*tensor.Tensor {
	s := snapshot(alg.MetaParams())
	if c := carrier(alg); c != nil {
		s = append(s, c.CarriedState()...)
	}
	return s
}

// restoreBest puts a bestSnapshot back into alg, checking its layout.
func restoreBest(alg Algorithm, best []*tensor.Tensor) error {
	params := alg.MetaParams()
	c := carrier(alg)
	want := len(params)
	if c != nil {
		want += len(c.CarriedState())
	}
	if len(best) != want {
		return fmt.Errorf("%d best tensors for a model of %d (meta-parameters and carried state)", len(best), want)
	}
	for i, p := range params {
		if !tensor.SameShape(best[i].Shape(), p.Value.Shape()) {
			return fmt.Errorf("best tensor %d has shape %v, parameter has %v", i, best[i].Shape(), p.Value.Shape())
		}
	}
	if c != nil {
		if err := c.SetCarriedState(best[len(params):]); err != nil {
			return err
		}
	}
	for i, p := range params {
		p.Value = best[i].AsType(p.Value.DType()).Clone()
	}
	return nil
}

func snapshot(ps []*autodiff.Var) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(ps))
	for i, p := range ps {
		out[i] = p.Value.Clone()
	}
	return out
}

// OuterSchedules are the outer learning-rate schedules a run may use:
// constant, linear (annealed to 0 over the run's iterations: Reptile's
// outer step size, Nichol et al. 2018) and cosine (annealed to 0 along a
// half cosine, as MAML++ anneals its meta-optimizer, Antoniou et al. 2019).
var OuterSchedules = []string{"constant", "linear", "cosine"}

// OuterSchedule returns the outer learning rate per iteration for the
// named schedule starting at lr over iterations ("": the algorithm's
// default); nil for constant (TrainConfig.OuterLR applies).
func OuterSchedule(name, algorithm string, lr float64, iterations int) (optim.Schedule, error) {
	if name == "" {
		name = DefaultOuterSchedule(algorithm)
	}
	switch name {
	case "constant":
		return nil, nil
	case "linear":
		return optim.Linear(lr, 0, iterations), nil
	case "cosine":
		return optim.Cosine(lr, 0, iterations, 0), nil
	}
	return nil, fmt.Errorf("outer schedule %q, want one of %s", name, strings.Join(OuterSchedules, ", "))
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
	// CI95 is the half-width of the Student-t interval,
	// t_{0.975, n-1} * sd / sqrt(n) (sample sd; stats.MeanCI95).
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
	metrics := make([]float64, n)
	for i, r := range rs {
		metrics[i] = r.Metric
	}
	_, _, ci := stats.MeanCI95(metrics)
	return Summary{Mean: meanMetric(rs), CI95: ci, Loss: meanLoss(rs), N: n}
}
