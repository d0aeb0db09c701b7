package runner

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/metalearn/metalearn/tensor"
)

// Config is one training run for Run: the step the algorithm supplies and
// the policies the driver applies around it.
type Config struct {
	// Steps is the length of the run (schedules span it); the budget may
	// end the run earlier.
	Steps int
	// Step runs step i (0-based) and reports what it did. A step that finds
	// its loss or update not finite must leave the model unchanged and say
	// so in Result.NonFinite.
	Step func(i int) (Result, error)

	// MaxDuration > 0 ends the run after the first step that finishes with
	// at least that much training time spent (counting the time before a
	// resume). MaxUnits > 0 ends it after the first step that brings the
	// Units the steps reported to at least MaxUnits (a token budget). The
	// step that ends a run is validated and checkpointed like the last.
	MaxDuration time.Duration
	MaxUnits    int64

	// Validate, with ValEvery > 0, runs after every ValEvery steps and
	// after the last, and returns the validation value of Metric; the
	// metric's name says whether higher is better (HigherIsBetter). With
	// Snapshot set the driver keeps a copy of what Snapshot returns at the
	// best validated step and hands it to Restore at the end of the run.
	ValEvery int
	Metric   string
	Validate func(step int) (float64, error)
	Snapshot func() []*tensor.Tensor
	Restore  func(best []*tensor.Tensor) error

	// Checkpoint, when set, is called with the driver's state after every
	// CheckpointEvery steps (0: never on a schedule), after the last step
	// and when the run is stopped; the caller adds its own state (sampler,
	// optimizer) and writes the file atomically. CheckpointName names the
	// file in messages.
	CheckpointEvery int
	Checkpoint      func(State) error
	CheckpointName  string
	// Resume continues from a State passed to Checkpoint (the caller has
	// restored its own state); the run then ends exactly where an
	// uninterrupted one would.
	Resume *State

	// Stop, when closed, ends the run after the current step and its
	// checkpoint; Run then returns an *Interrupted (errors.Is ErrStopped).
	// ResumeCommand, when set, is the command that continues the run,
	// quoted in the error.
	Stop          <-chan struct{}
	ResumeCommand string

	// SkipNonFinite counts and skips a step that reports NonFinite instead
	// of ending the run with its error.
	SkipNonFinite bool

	// Log, when set, receives every step's Event (after validation).
	// Progress, when set, is started, updated after every step with the
	// loss and the step's fields, and finished.
	Log      func(Event)
	Progress *Progress
	// Unit names a step in messages ("iteration", "step"; default "step").
	Unit string
}

// Result is what one step reports.
type Result struct {
	Loss   float64
	Fields []Field // further values for progress and logs
	Units  int64   // work done by the step (e.g. tokens), for MaxUnits
	// NonFinite, when not nil, says the step's loss or update was not
	// finite and the model was left unchanged.
	NonFinite error
	// Stop reports a stop request the step learned of itself (a
	// distributed step where another rank was interrupted).
	Stop bool
}

// State is what the driver needs, besides the caller's own state, to
// continue a run exactly.
type State struct {
	Step      int // steps completed
	Units     int64
	Elapsed   time.Duration
	Skipped   int
	BestStep  int // 1-based step of the best validation; 0: none yet
	BestValue float64
	Best      []*tensor.Tensor // Snapshot at BestStep; nil if none
}

// Event reports one finished step.
type Event struct {
	Step  int // steps completed (1-based)
	Total int
	Result
	Validated bool
	Val       float64 // with Validated
	Best      bool    // Val is the best so far
	Skipped   bool    // the step was skipped as non-finite
	Elapsed   time.Duration
	Last      bool // the run ends with this step (its length or its budget)
}

// Outcome summarises a finished (or stopped) run.
type Outcome struct {
	Steps     int // steps completed
	Units     int64
	Skipped   int
	BestStep  int // 0: never validated
	BestValue float64
	Elapsed   time.Duration
}

// ErrStopped is matched (errors.Is) by the error Run returns when Stop fired.
var ErrStopped = errors.New("training stopped")

// Interrupted is the error of a stopped run.
type Interrupted struct {
	Unit          string // "step", "iteration"
	Step          int
	Checkpoint    string // "" when none was written
	ResumeCommand string
}

func (e *Interrupted) Error() string {
	var b strings.Builder
	unit := e.Unit
	if unit == "" {
		unit = "step"
	}
	fmt.Fprintf(&b, "interrupted after %s %d", unit, e.Step)
	if e.Checkpoint != "" {
		fmt.Fprintf(&b, ": checkpoint %s", e.Checkpoint)
		if e.ResumeCommand != "" {
			fmt.Fprintf(&b, "; continue with: %s", e.ResumeCommand)
		}
	}
	return b.String()
}

// Is makes errors.Is(err, ErrStopped) true.
func (e *Interrupted) Is(target error) bool { return target == ErrStopped }

func (c *Config) validate() error {
	switch {
	case c.Step == nil:
		return errors.New("runner: no Step function")
	case c.Steps < 1:
		return fmt.Errorf("runner: %d steps, want >= 1", c.Steps)
	case c.ValEvery < 0:
		return fmt.Errorf("runner: validation interval = %d, want >= 0", c.ValEvery)
	case c.ValEvery > 0 && c.Validate == nil:
		return errors.New("runner: validation interval set but no Validate function")
	case c.MaxDuration < 0:
		return fmt.Errorf("runner: time budget = %v, want >= 0 (0: none)", c.MaxDuration)
	case c.MaxUnits < 0:
		return fmt.Errorf("runner: unit budget = %d, want >= 0 (0: none)", c.MaxUnits)
	case c.CheckpointEvery < 0:
		return fmt.Errorf("runner: checkpoint interval = %d, want >= 0", c.CheckpointEvery)
	case c.CheckpointEvery > 0 && c.Checkpoint == nil:
		return errors.New("runner: checkpoint interval set but no Checkpoint function")
	case c.Resume != nil && (c.Resume.Step < 0 || c.Resume.Step > c.Steps):
		return fmt.Errorf("runner: resume state is at step %d, run has %d", c.Resume.Step, c.Steps)
	}
	if c.ValEvery > 0 {
		if _, err := HigherIsBetter(c.Metric); err != nil {
			return fmt.Errorf("runner: %w", err)
		}
	}
	return nil
}

// Run drives a training run: steps, budget, validation with best-keeping,
// non-finite handling, checkpoints, stopping and progress.
func Run(cfg Config) (*Outcome, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	unit := cfg.Unit
	if unit == "" {
		unit = "step"
	}
	higher := false
	if cfg.ValEvery > 0 {
		higher, _ = HigherIsBetter(cfg.Metric)
	}
	out := &Outcome{}
	var best []*tensor.Tensor
	first, prior := 0, time.Duration(0)
	if r := cfg.Resume; r != nil {
		first, prior = r.Step, r.Elapsed
		out.Steps, out.Units, out.Skipped, out.BestStep, out.BestValue = r.Step, r.Units, r.Skipped, r.BestStep, r.BestValue
		best = r.Best
	}
	start := time.Now().Add(-prior)
	lastGood := ""
	state := func() State {
		return State{Step: out.Steps, Units: out.Units, Elapsed: time.Since(start), Skipped: out.Skipped,
			BestStep: out.BestStep, BestValue: out.BestValue, Best: best}
	}
	prog := cfg.Progress
	if prog != nil {
		if first > 0 {
			prog.Println(fmt.Sprintf("resuming at %s %d of %d", unit, first, cfg.Steps))
		}
		prog.Start(first)
	}
	for i := first; i < cfg.Steps; i++ {
		r, err := cfg.Step(i)
		if err != nil {
			return out, cfg.withCheckpoint(err, lastGood)
		}
		ev := Event{Step: i + 1, Total: cfg.Steps, Result: r}
		if r.NonFinite != nil {
			if !cfg.SkipNonFinite {
				return out, cfg.withCheckpoint(r.NonFinite, lastGood)
			}
			out.Skipped++
			ev.Skipped = true
		}
		out.Units += r.Units
		out.Steps = i + 1
		ev.Elapsed = time.Since(start)
		last := i == cfg.Steps-1 || (cfg.MaxDuration > 0 && ev.Elapsed >= cfg.MaxDuration) || (cfg.MaxUnits > 0 && out.Units >= cfg.MaxUnits)
		ev.Last = last
		if cfg.ValEvery > 0 && ((i+1)%cfg.ValEvery == 0 || last) {
			v, err := cfg.Validate(i + 1)
			if err != nil {
				return out, err
			}
			ev.Validated, ev.Val = true, v
			if !math.IsNaN(v) && (out.BestStep == 0 || (higher && v > out.BestValue) || (!higher && v < out.BestValue)) {
				out.BestStep, out.BestValue, ev.Best = i+1, v, true
				if cfg.Snapshot != nil {
					best = cfg.Snapshot()
				}
			}
		}
		if cfg.Log != nil {
			cfg.Log(ev)
		}
		if prog != nil {
			fs := append([]Field{{Name: "loss", Value: r.Loss}}, r.Fields...)
			prog.Update(i+1, fs...)
		}
		stopped := r.Stop || Fired(cfg.Stop)
		if cfg.Checkpoint != nil && ((cfg.CheckpointEvery > 0 && ((i+1)%cfg.CheckpointEvery == 0 || last)) || stopped) {
			if err := cfg.Checkpoint(state()); err != nil {
				return out, fmt.Errorf("checkpoint after %s %d: %w", unit, i+1, err)
			}
			lastGood = fmt.Sprintf("%s (%s %d)", cfg.CheckpointName, unit, i+1)
			if cfg.CheckpointName == "" {
				lastGood = fmt.Sprintf("%s %d", unit, i+1)
			}
		}
		if stopped && i < cfg.Steps-1 && !last {
			out.Elapsed = time.Since(start)
			if prog != nil {
				prog.Println("")
			}
			e := &Interrupted{Unit: unit, Step: i + 1, ResumeCommand: cfg.ResumeCommand}
			if lastGood != "" {
				e.Checkpoint = lastGood
			}
			return out, e
		}
		if last {
			break
		}
	}
	if best != nil && cfg.Restore != nil {
		if err := cfg.Restore(best); err != nil {
			return out, err
		}
	}
	out.Elapsed = time.Since(start)
	return out, nil
}

// withCheckpoint names the last good checkpoint in err's message, if any
// was written and the caller named it.
func (c *Config) withCheckpoint(err error, lastGood string) error {
	if lastGood == "" || c.CheckpointName == "" {
		return err
	}
	return fmt.Errorf("%w; last good checkpoint: %s", err, lastGood)
}

// Fired reports whether a stop channel (Config.Stop, OnInterrupt) is
// closed; false for nil.
func Fired(stop <-chan struct{}) bool {
	if stop == nil {
		return false
	}
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// Finite reports whether every value is neither NaN nor infinite.
func Finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
