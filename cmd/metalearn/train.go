package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/config"
	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/mtl"
	"github.com/metalearn/metalearn/runfolder"
	"github.com/metalearn/metalearn/runner"
	"github.com/metalearn/metalearn/transfer"
)

// exitError carries a specific exit status (130 after Ctrl-C).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

type trainOpts struct {
	file        string
	sets        []string
	out         string
	dataDir     string
	seed        uint64
	iterations  int
	resume      bool
	printConfig bool
	quiet       bool
	asJSON      bool
	progress    string
}

func newTrainCmd() *cobra.Command {
	var o trainOpts
	cmd := &cobra.Command{
		Use:   "train -c run.yaml",
		Short: "Run a configured meta-learning or multi-task run into a run folder (resumable)",
		Long: `Runs the experiment described by a YAML configuration (see examples/ for
commented examples of every key) and writes a run folder (default
runs/<name>):

  config.yaml                      the resolved configuration
  metrics.jsonl                    step, split, metric, value, wall time
  checkpoints/latest.safetensors   resumable checkpoint (weights + state)
  model.safetensors                final model (safetensors; PyTorch-readable)
  plots/*.png, *.svg               learning curves
  summary.json                     results, written last

Ctrl-C stops after writing a checkpoint; --resume continues the run so that
its final weights equal those of an uninterrupted run. Flags override the
file: --seed, --out, --data-dir, --iterations, and --set key=value for any
key (e.g. --set meta.inner_lr=0.1).`,
		Example: `  metalearn train -c examples/sinusoid-maml.yaml
  metalearn train -c examples/sinusoid-maml.yaml --set meta.iterations=200 --print-config
  metalearn train -c examples/sinusoid-maml.yaml --resume`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			if o.file == "" {
				return errors.New("-c/--config is required (a YAML run configuration; see examples/)")
			}
			sets := append([]string(nil), o.sets...)
			if fl.Changed("seed") {
				sets = append(sets, fmt.Sprintf("seed=%d", o.seed))
			}
			if fl.Changed("out") {
				sets = append(sets, "out="+o.out)
			}
			if fl.Changed("data-dir") {
				sets = append(sets, "data_dir="+o.dataDir)
			}
			cfg, err := config.Load(o.file, sets)
			if err != nil {
				return err
			}
			if fl.Changed("iterations") {
				key := "meta.iterations"
				switch cfg.Kind {
				case "mtl":
					key = "mtl.steps"
				case "mt":
					key = "mt.steps"
				}
				if cfg, err = config.Load(o.file, append(sets, fmt.Sprintf("%s=%d", key, o.iterations))); err != nil {
					return err
				}
			}
			if o.printConfig {
				_, err := cmd.OutOrStdout().Write(cfg.Resolved())
				return err
			}
			mode, err := progressMode(o, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			switch cfg.Kind {
			case "meta":
				return trainMeta(cmd.OutOrStdout(), cmd.ErrOrStderr(), cfg, o, mode)
			case "mtl":
				return trainMTL(cmd.OutOrStdout(), cmd.ErrOrStderr(), cfg, o, mode)
			case "mt":
				return trainMT(cmd.OutOrStdout(), cmd.ErrOrStderr(), cfg, o, mode)
			default:
				return trainTransfer(cmd.OutOrStdout(), cmd.ErrOrStderr(), cfg, o)
			}
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "config", "c", "", "YAML run configuration")
	f.StringArrayVar(&o.sets, "set", nil, "override a key: --set meta.iterations=500 (repeatable)")
	f.StringVar(&o.out, "out", "", "run folder (default runs/<name>)")
	f.StringVar(&o.dataDir, "data-dir", "", "dataset folder (default $METALEARN_DATA, else ../shared/data)")
	f.Uint64Var(&o.seed, "seed", 1, "random seed")
	f.IntVar(&o.iterations, "iterations", 0, "meta.iterations (meta) or mtl.steps (mtl)")
	f.BoolVar(&o.resume, "resume", false, "continue the run in the run folder from its last checkpoint")
	f.BoolVar(&o.printConfig, "print-config", false, "print the resolved configuration (defaults filled in) and exit")
	f.BoolVar(&o.quiet, "quiet", false, "no progress output; only the final line")
	f.BoolVar(&o.asJSON, "json", false, "progress and result as JSON lines on stdout")
	f.StringVar(&o.progress, "progress", "auto", "progress display: auto (bar on a terminal, lines otherwise), bar, lines")
	return cmd
}

func progressMode(o trainOpts, stderr io.Writer) (runner.Mode, error) {
	return runner.ModeFor(o.quiet, o.asJSON, o.progress, stderr)
}

// stopped gives an interrupted run's error the exit status 130.
func stopped(err error) error {
	if errors.Is(err, runner.ErrStopped) {
		return &exitError{130, err}
	}
	return err
}

// trainMeta runs a meta-learning configuration: one meta.Run.
func trainMeta(stdout, stderr io.Writer, cfg *config.Config, o trainOpts, mode runner.Mode) error {
	m := cfg.Meta
	spec := m.Spec(cfg)
	prog := &runner.Progress{W: stderr, Mode: mode, Total: m.Iterations, Label: spec.Algorithm}
	if mode == runner.JSON {
		prog.W = stdout
	}
	stop, release := runner.OnInterrupt()
	defer release()
	resolved := cfg.Resolved()
	res, err := meta.Run(meta.RunConfig{Spec: spec, Iterations: m.Iterations, MetaBatch: m.MetaBatch, OuterLR: m.OuterLR, OuterSchedule: m.OuterSchedule,
		Clip: m.Clip, MaxDuration: time.Duration(m.MaxMinutes * float64(time.Minute)), ValEvery: m.ValEvery, ValTasks: m.ValTasks, TestTasks: m.TestTasks,
		Workers: m.Workers, SkipNonFinite: cfg.OnNonFinite == "skip", CheckpointEvery: cfg.CheckpointEvery, Resume: o.resume,
		Metadata: map[string]string{"config": string(resolved)}, Folder: cfg.Out, FolderConfig: resolved, Title: cfg.Name,
		Summary: map[string]any{"kind": "meta", "name": cfg.Name, "config": cfg},
		Stop:    stop, ResumeCommand: fmt.Sprintf("metalearn train -c %s --resume%s", cfg.File(), outFlag(o)), Progress: prog, Note: prog.Println})
	if err != nil {
		switch {
		case res != nil:
			return stopped(err)
		case o.resume:
			return fmt.Errorf("--resume: %w", err)
		}
		return fmt.Errorf("%s: %w", cfg.File(), err)
	}
	peak := runfolder.PeakRSSMiB()
	metric := res.Spec.MetricName()
	return finalLine(stdout, o, map[string]any{"run": cfg.Out, "test_" + metric: res.Test, "seconds": res.Elapsed.Seconds(), "peak_rss_mib": peak},
		fmt.Sprintf("%s: test %s %s over %d tasks; peak memory %.0f MiB; run folder %s (model.safetensors, summary.json, plots/)", cfg.Name, metric, res.Test, m.TestTasks, peak, cfg.Out))
}

func outFlag(o trainOpts) string {
	if o.out != "" {
		return " --out " + o.out
	}
	return ""
}

func finalLine(w io.Writer, o trainOpts, js map[string]any, text string) error {
	if o.asJSON {
		return writeJSONLine(w, js)
	}
	_, err := fmt.Fprintln(w, text)
	return err
}

func trainMTL(stdout, stderr io.Writer, cfg *config.Config, o trainOpts, mode runner.Mode) error {
	m := cfg.MTL
	e, err := mtl.ExperimentSpec{Dataset: m.Dataset, DataDir: cfg.DataDir, Tasks: m.Tasks, PerTask: m.PerTask}.Build(cfg.Seed)
	if err != nil {
		return fmt.Errorf("%s: mtl.dataset: %w", cfg.File(), err)
	}
	prog := &runner.Progress{W: stderr, Mode: mode, Total: m.Steps, Label: "mtl " + m.Weighting}
	if mode == runner.JSON {
		prog.W = stdout
	}
	stop, release := runner.OnInterrupt()
	defer release()
	resolved := cfg.Resolved()
	res, err := mtl.RunFolder(mtl.FolderRunConfig{Experiment: e, Arch: m.Arch, Hidden: m.Hidden, Weighting: m.Weighting, Steps: m.Steps, LR: m.LR,
		Seed: cfg.Seed, Baselines: m.Baselines, Folder: cfg.Out, FolderConfig: resolved, Metadata: map[string]string{"config": string(resolved)},
		Summary: map[string]any{"name": cfg.Name, "config": cfg}, Title: cfg.Name, CheckpointEvery: cfg.CheckpointEvery, Resume: o.resume,
		Stop: stop, ResumeCommand: fmt.Sprintf("metalearn train -c %s --resume%s", cfg.File(), outFlag(o)), Progress: prog})
	switch {
	case err == nil:
	case errors.Is(err, runner.ErrStopped):
		return stopped(err)
	case o.resume:
		return fmt.Errorf("--resume: %w", err)
	default:
		return err
	}
	text := fmt.Sprintf("%s: %d tasks, %s/%s, mean test metric %.4f", cfg.Name, len(e.Tasks), m.Arch, m.Weighting, mean(res.Metrics))
	if m.Baselines {
		text += fmt.Sprintf(" (single-task %.4f, Delta_p %+.2f%%)", mean(res.SingleTask), res.DeltaP)
	}
	return finalLine(stdout, o, res.Summary, text+"; run folder "+cfg.Out)
}

// trainTransfer runs a transfer configuration: one transfer.RunFolder.
func trainTransfer(stdout, stderr io.Writer, cfg *config.Config, o trainOpts) error {
	if o.resume {
		return errors.New("--resume: transfer runs are not resumable (each is a set of short trainings); run again into a new --out")
	}
	tc := cfg.Transfer
	echo := stderr
	if o.quiet || o.asJSON {
		echo = nil
	}
	res, err := transfer.RunFolder(transfer.FolderRunConfig{Command: tc.Command, Options: tc.Options, DataDir: cfg.DataDir, Seed: cfg.Seed,
		Folder: cfg.Out, FolderConfig: cfg.Resolved(), Summary: map[string]any{"name": cfg.Name, "config": cfg}, Echo: echo, File: cfg.File(), Where: cfg.Where})
	if err != nil {
		return err
	}
	return finalLine(stdout, o, res.Summary, fmt.Sprintf("%s: transfer %s finished in %.0fs; run folder %s (report.txt, %s)", cfg.Name, tc.Command, res.Seconds, cfg.Out, filepath.Base(res.Out)))
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(max(len(xs), 1))
}
