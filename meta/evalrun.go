package meta

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/dist"
	"github.com/metalearn/metalearn/runner"
)

// EvalConfig is the evaluation of a checkpoint on fixed-seed tasks, as
// `meta eval` runs it. Zero values mean "as trained".
type EvalConfig struct {
	Checkpoint string
	// Best evaluates the best validated weights a training checkpoint
	// holds instead of its current weights.
	Best    bool
	Split   string // "test" (default), "val" or "train"
	DataDir string // overrides the checkpoint's data folder
	// Ways and Shots change the episodes of metric-based checkpoints
	// (Shots also any sinusoid model's support points); Queries any.
	Ways, Shots, Queries int
	// Steps are the adaptation steps; nil: the checkpoint's EvalSteps.
	Steps    *int
	Tasks    int    // number of tasks (default 600)
	Seed     uint64 // seed of the task set
	Workers  int
	Comm     dist.Comm
	Progress *runner.Progress
}

// EvalResult is what EvaluateCheckpoint reports.
type EvalResult struct {
	Spec          Spec // the spec evaluated (with the overrides)
	Split         string
	Steps         int
	Summary       Summary
	BestIteration int // with Best
	Seconds       float64
}

// FieldError names the EvalConfig field or fields (the CLI flags, joined
// by "/") a bad value came in.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + e.sep() + e.Msg }

func (e *FieldError) sep() string {
	if strings.HasPrefix(e.Msg, "at ") {
		return " " // "ways/shots at evaluation apply to ..."
	}
	return ": "
}

// Flagged is the error with the field names written as command-line
// flags ("--ways/--shots ...").
func (e *FieldError) Flagged() string {
	return "--" + strings.ReplaceAll(e.Field, "/", "/--") + e.sep() + e.Msg
}

// EvaluateCheckpoint loads a checkpoint and evaluates it.
func EvaluateCheckpoint(cfg EvalConfig) (*EvalResult, error) {
	if cfg.Checkpoint == "" {
		return nil, &FieldError{"checkpoint", "is required"}
	}
	if cfg.Tasks == 0 {
		cfg.Tasks = 600
	}
	if cfg.Split == "" {
		cfg.Split = "test"
	}
	if cfg.Tasks < 1 {
		return nil, &FieldError{"tasks", fmt.Sprintf("%d, want >= 1", cfg.Tasks)}
	}
	if cfg.Steps != nil && (*cfg.Steps < 0 || *cfg.Steps > MaxSteps) {
		return nil, &FieldError{"eval-steps", fmt.Sprintf("%d, want 0..%d", *cfg.Steps, MaxSteps)}
	}
	res := &EvalResult{Split: cfg.Split}
	var b *Built
	var err error
	if cfg.Best {
		var st *TrainState
		if b, st, _, err = LoadTraining(cfg.Checkpoint); err != nil {
			return nil, &FieldError{"best", err.Error()}
		}
		if err := b.UseBest(st); err != nil {
			return nil, &FieldError{"best", fmt.Sprintf("checkpoint %s: %v", cfg.Checkpoint, err)}
		}
		res.BestIteration = st.BestIteration
	} else if b, err = Load(cfg.Checkpoint); err != nil {
		return nil, err
	}
	s := b.Spec
	if cfg.DataDir != "" {
		s.DataDir = cfg.DataDir
	}
	if cfg.Ways != 0 || cfg.Shots != 0 {
		switch {
		case s.Dataset == "sinusoid" && cfg.Ways != 0:
			return nil, &FieldError{"ways", "sinusoid tasks are regressions and have no classes (shots sets the support points per task)"}
		case s.Dataset != "sinusoid" && !MetricBased(s.Algorithm):
			return nil, &FieldError{"ways/shots", fmt.Sprintf("at evaluation apply to metric-based checkpoints (protonet, r2d2); %s has a fixed %d-way head", s.Algorithm, s.Ways)}
		}
		if cfg.Ways != 0 {
			if cfg.Ways < 2 {
				return nil, &FieldError{"ways", fmt.Sprintf("%d, want >= 2", cfg.Ways)}
			}
			s.Ways = cfg.Ways
		}
		if cfg.Shots != 0 {
			if cfg.Shots < 1 {
				return nil, &FieldError{"shots", fmt.Sprintf("%d, want >= 1", cfg.Shots)}
			}
			s.Shots = cfg.Shots
		}
	}
	if cfg.Queries != 0 {
		if cfg.Queries < 1 {
			return nil, &FieldError{"queries", fmt.Sprintf("%d, want >= 1", cfg.Queries)}
		}
		s.Queries = cfg.Queries
	}
	tasks, err := s.Tasks(cfg.Split)
	if err != nil {
		return nil, err
	}
	res.Spec, res.Steps = s, s.EvalSteps
	if cfg.Steps != nil {
		res.Steps = *cfg.Steps
	}
	start := time.Now()
	set := data.EvalSet(tasks, cfg.Tasks, cfg.Seed)
	if res.Summary, err = EvaluateProgress(cfg.Comm, b.Algorithm, set, res.Steps, cfg.Workers, cfg.Progress); err != nil {
		return nil, err
	}
	if sum := res.Summary; !finite(sum.Mean) || !finite(sum.CI95) || !finite(sum.Loss) {
		return nil, fmt.Errorf("checkpoint %s: evaluation gave a non-finite %s (%v ± %v, loss %v over %d tasks): the weights are corrupt (damaged or from a diverged run); use another checkpoint or retrain",
			cfg.Checkpoint, s.MetricName(), sum.Mean, sum.CI95, sum.Loss, sum.N)
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
