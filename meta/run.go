package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/dist"
	"github.com/metalearn/metalearn/runfolder"
	"github.com/metalearn/metalearn/runner"
)

// RunConfig is a whole meta-training run as the CLI's `meta train` and
// `train -c` run it: build (or resume) the model a Spec describes, train it
// with the algorithm's defaults for whatever is left zero, write resumable
// checkpoints and the final (best validated) model, and optionally
// evaluate it on fixed test tasks and keep a run folder.
type RunConfig struct {
	Spec Spec

	Iterations    int
	MetaBatch     int     // 0: the algorithm's default (AlgorithmInfo.DefaultMetaBatch)
	OuterLR       float64 // 0: the algorithm's default
	OuterSchedule string  // "": the algorithm's default
	Clip          float64
	MaxDuration   time.Duration // 0: no time budget
	ValEvery      int           // 0: Iterations/10
	ValTasks      int           // 0: 100 fixed-seed validation tasks
	TestTasks     int           // > 0: evaluate the final model on that many fixed-seed test tasks
	Workers       int
	SkipNonFinite bool
	Comm          dist.Comm
	FastReduce    bool

	// Model is the final model's path (with Folder: its model.safetensors).
	Model string
	// Checkpoint is the resumable checkpoint's path ("": none; with Folder:
	// its checkpoints/latest.safetensors), written every CheckpointEvery
	// iterations (0: Iterations/10), at the end and on Stop.
	Checkpoint      string
	CheckpointEvery int
	// Resume continues from Checkpoint; the checkpoint's spec and its
	// Metadata entries must equal this run's.
	Resume bool
	// Metadata is written into the checkpoint and the model (e.g. the
	// resolved configuration under "config").
	Metadata map[string]string

	// Folder, when set, is the run folder (package runfolder) created for
	// the run (or reopened on Resume) with FolderConfig as its
	// config.yaml: metrics.jsonl receives the training, validation and
	// test values, plots/ the curves and summary.json the results plus
	// Summary's entries.
	Folder       string
	FolderConfig []byte
	Summary      map[string]any
	Title        string // plot title (default: the algorithm)

	// Stop, when closed, ends the run after the current iteration with a
	// checkpoint; Run then returns an error matching ErrStopped that quotes
	// ResumeCommand.
	Stop          <-chan struct{}
	ResumeCommand string
	// Progress shows a bar or periodic lines; Note receives one-line
	// remarks (validation results, budget, a missing validation split);
	// Log receives every iteration.
	Progress *runner.Progress
	Note     func(string)
	Log      func(Progress)
}

// RunResult is what Run returns.
type RunResult struct {
	*TrainResult
	Spec        Spec     // the run's spec, defaults filled in
	Test        *Summary // with TestTasks
	TestSeconds float64
	Model       string
	Checkpoint  string
	Plots       []string
	Resumed     int // the iteration the run resumed at (0: a fresh run)
}

// Run performs the run cfg describes.
func Run(cfg RunConfig) (*RunResult, error) {
	note := cfg.Note
	if note == nil {
		note = func(string) {}
	}
	if cfg.Iterations < 1 {
		return nil, fmt.Errorf("iterations = %d, want >= 1", cfg.Iterations)
	}
	if cfg.OuterLR < 0 || math.IsNaN(cfg.OuterLR) || math.IsInf(cfg.OuterLR, 0) {
		return nil, fmt.Errorf("outer learning rate = %v, want a finite value > 0", cfg.OuterLR)
	}
	if cfg.ValTasks < 0 || cfg.ValEvery < 0 || cfg.CheckpointEvery < 0 || cfg.TestTasks < 0 || cfg.MetaBatch < 0 {
		return nil, fmt.Errorf("val tasks %d, val every %d, checkpoint every %d, test tasks %d, meta-batch %d: want >= 0 (0: the default)",
			cfg.ValTasks, cfg.ValEvery, cfg.CheckpointEvery, cfg.TestTasks, cfg.MetaBatch)
	}
	rank0 := cfg.Comm == nil || cfg.Comm.Rank() == 0
	var folder *runfolder.Folder
	if cfg.Folder != "" {
		probe := &runfolder.Folder{Dir: cfg.Folder}
		if cfg.Model == "" {
			cfg.Model = probe.ModelPath()
		}
		if cfg.Checkpoint == "" {
			cfg.Checkpoint = probe.CheckpointPath()
		}
	}
	if cfg.Model == "" {
		return nil, errors.New("no model path (RunConfig.Model)")
	}
	b, err := Build(cfg.Spec)
	if err != nil {
		return nil, err
	}
	if _, err := OuterSchedule(cfg.OuterSchedule, b.Spec.Algorithm, 1, cfg.Iterations); err != nil {
		return nil, err
	}
	if cfg.Folder == "" && rank0 {
		// fail before training, not after it
		for _, p := range []string{cfg.Model, cfg.Checkpoint} {
			if err := writable(p); err != nil {
				return nil, err
			}
		}
	}
	var resume *TrainState
	if cfg.Resume {
		// every rank reads the checkpoint (a shared file system, or a copy
		// on every host); Train checks that all ranks read the same state
		got, st, md, err := LoadTraining(cfg.Checkpoint)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("no checkpoint at %s (was the run started with these settings and output?)", cfg.Checkpoint)
			}
			return nil, err
		}
		for k, v := range cfg.Metadata {
			if md[k] != v {
				return nil, fmt.Errorf("checkpoint %s was written by a different configuration (%s differs); resume with the same settings or start a new run elsewhere", cfg.Checkpoint, k)
			}
		}
		a, _ := json.Marshal(got.Spec)
		want, _ := json.Marshal(b.Spec)
		if string(a) != string(want) {
			return nil, fmt.Errorf("checkpoint %s was trained with %s, this run says %s", cfg.Checkpoint, a, want)
		}
		b, resume = got, st
	}
	if folder, err = openFolder(cfg, resume); err != nil {
		return nil, err
	}
	if folder != nil {
		defer folder.Close()
		for _, p := range folder.Cleaned {
			if cfg.Note != nil {
				cfg.Note("removed " + p + " (left by an interrupted write)")
			}
		}
	}
	s := b.Spec
	alg := info(s.Algorithm)
	res := &RunResult{Spec: s, Model: cfg.Model, Checkpoint: cfg.Checkpoint}
	train, err := s.Tasks("train")
	if err != nil {
		return nil, err
	}
	tc := TrainConfig{Iterations: cfg.Iterations, MetaBatch: cfg.MetaBatch, OuterLR: cfg.OuterLR, Outer: alg.Outer, ClipNorm: cfg.Clip, Seed: s.Seed,
		Workers: cfg.Workers, Comm: cfg.Comm, FastReduce: cfg.FastReduce, Resume: resume, Budget: cfg.MaxDuration,
		SkipNonFinite: cfg.SkipNonFinite, Stop: cfg.Stop, ResumeCommand: cfg.ResumeCommand, Progress: cfg.Progress}
	if tc.MetaBatch == 0 {
		tc.MetaBatch = alg.DefaultMetaBatch(s.Dataset)
	}
	if tc.OuterLR == 0 {
		tc.OuterLR = alg.OuterLR
	}
	if tc.Schedule, err = OuterSchedule(cfg.OuterSchedule, s.Algorithm, tc.OuterLR, cfg.Iterations); err != nil {
		return nil, err
	}
	if !alg.Pooled {
		val, err := s.Tasks("val")
		switch {
		case errors.Is(err, ErrNoValidation):
			note("the MAML split has no validation classes; the final weights are kept")
		case err != nil:
			return nil, err
		default:
			tc.ValEvery = cfg.ValEvery
			if tc.ValEvery == 0 {
				tc.ValEvery = max(cfg.Iterations/10, 1)
			}
			n := cfg.ValTasks
			if n == 0 {
				n = 100
			}
			tc.Val = data.EvalSet(val, n, s.Seed+1000)
		}
	}
	metric := s.MetricName()
	if cfg.Checkpoint != "" {
		tc.CheckpointEvery = cfg.CheckpointEvery
		if tc.CheckpointEvery == 0 {
			tc.CheckpointEvery = max(cfg.Iterations/10, 1)
		}
		tc.CheckpointName = cfg.Checkpoint
		tc.Checkpoint = func(st *TrainState) error { // rank 0 only
			if folder != nil {
				if err := folder.Sync(); err != nil {
					return err
				}
			}
			md := map[string]string{"iterations": fmt.Sprint(cfg.Iterations), "step": fmt.Sprint(st.Iteration)}
			for k, v := range cfg.Metadata {
				md[k] = v
			}
			return b.SaveTraining(cfg.Checkpoint, st, md)
		}
	}
	var logErr error
	tc.Log = func(p Progress) {
		if folder != nil {
			for _, r := range []struct {
				name string
				v    float64
			}{{"loss", p.Loss}, {metric, p.Metric}, {"grad_norm", p.GradNorm}} {
				if err := folder.Log(p.Iteration, "train", r.name, r.v); err != nil && !p.Skipped {
					logErr = err
				}
			}
			if p.Val != nil {
				folder.Log(p.Iteration, "val", metric, p.Val.Mean)
				folder.Log(p.Iteration, "val", "loss", p.Val.Loss)
			}
		}
		if p.Val != nil {
			note(fmt.Sprintf("iteration %d: validation %s %s%s", p.Iteration, metric, p.Val, map[bool]string{true: "  (best so far)"}[p.BestSoFar]))
		}
		if cfg.Log != nil {
			cfg.Log(p)
		}
	}
	if resume != nil {
		res.Resumed = resume.Iteration
	}
	tr, err := Train(b.Algorithm, train, tc)
	res.TrainResult = tr
	if err != nil {
		return res, err
	}
	if logErr != nil {
		return res, logErr
	}
	if tr.Iterations < cfg.Iterations {
		note(fmt.Sprintf("the %v time budget ended training after %d of %d iterations", cfg.MaxDuration, tr.Iterations, cfg.Iterations))
	}
	// the final model: the best validated meta-parameters (Train restored them)
	md := map[string]string{"iterations": fmt.Sprint(tr.Iterations)}
	if tr.BestVal != nil {
		md["best_iteration"] = fmt.Sprint(tr.BestIteration)
	}
	for k, v := range cfg.Metadata {
		md[k] = v
	}
	if rank0 {
		err = b.Save(cfg.Model, md)
	}
	if cfg.Comm != nil && cfg.Comm.Size() > 1 {
		err = dist.AnyError(cfg.Comm, err) // every rank learns whether rank 0 saved
	}
	if err != nil {
		return res, err
	}
	if cfg.TestTasks > 0 {
		test, err := s.Tasks("test")
		if err != nil {
			return res, err
		}
		t0 := time.Now()
		sum := Evaluate(b.Algorithm, data.EvalSet(test, cfg.TestTasks, 12345), s.EvalSteps, cfg.Workers)
		res.Test, res.TestSeconds = &sum, time.Since(t0).Seconds()
		if folder != nil {
			folder.Log(tr.Iterations, "test", metric, sum.Mean)
		}
	}
	if folder != nil {
		title := cfg.Title
		if title == "" {
			title = s.Algorithm
		}
		if res.Plots, err = folder.PlotCurves(title); err != nil {
			return res, err
		}
		summary := map[string]any{"kind": "meta", "iterations": tr.Iterations, "best_iteration": tr.BestIteration,
			"best_val": tr.BestVal, "skipped_iterations": tr.Skipped, "train_seconds": tr.Elapsed.Seconds(), "wall_seconds": folder.Elapsed().Seconds(),
			"peak_rss_mib": runfolder.PeakRSSMiB(), "model": cfg.Model, "checkpoint": cfg.Checkpoint, "plots": res.Plots}
		if res.Test != nil {
			summary["test"] = map[string]any{"metric": metric, "result": res.Test, "tasks": cfg.TestTasks, "eval_steps": s.EvalSteps, "seconds": res.TestSeconds}
		}
		for k, v := range cfg.Summary {
			summary[k] = v
		}
		if err := folder.WriteSummary(summary); err != nil {
			return res, err
		}
	}
	return res, nil
}

// openFolder creates the run folder, or reopens it at the checkpoint's
// iteration on resume.
func openFolder(cfg RunConfig, resume *TrainState) (*runfolder.Folder, error) {
	if cfg.Folder == "" {
		return nil, nil
	}
	if resume != nil {
		return runfolder.Resume(cfg.Folder, cfg.FolderConfig, resume.Iteration, resume.Elapsed)
	}
	return runfolder.Create(cfg.Folder, cfg.FolderConfig)
}

// writable checks that a file can be created next to path ("" passes).
func writable(path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".metalearn-probe-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
