package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/metalearn/metalearn/config"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/mtl"
	"github.com/metalearn/metalearn/runfolder"
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
				if cfg.Kind == "mtl" {
					key = "mtl.steps"
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

func progressMode(o trainOpts, stderr io.Writer) (runfolder.Mode, error) {
	switch {
	case o.quiet && o.asJSON:
		return 0, errors.New("--quiet and --json: choose one")
	case o.quiet:
		return runfolder.Quiet, nil
	case o.asJSON:
		return runfolder.JSON, nil
	}
	switch o.progress {
	case "bar":
		return runfolder.Bar, nil
	case "lines":
		return runfolder.Lines, nil
	case "auto":
		if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return runfolder.Bar, nil
		}
		return runfolder.Lines, nil
	}
	return 0, fmt.Errorf("--progress %q, want auto, bar or lines", o.progress)
}

// interrupt returns a channel closed on the first SIGINT/SIGTERM and a
// function that stops listening.
func interrupt() (<-chan struct{}, func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			close(stop)
		case <-done:
		}
	}()
	return stop, func() { signal.Stop(sig); close(done) }
}

func trainMeta(stdout, stderr io.Writer, cfg *config.Config, o trainOpts, mode runfolder.Mode) error {
	m := cfg.Meta
	spec := m.Spec(cfg)
	resolved := cfg.Resolved()
	var (
		b      *meta.Built
		resume *meta.TrainState
		folder *runfolder.Folder
		err    error
	)
	ckptPath := filepath.Join(cfg.Out, "checkpoints", "latest.safetensors")
	if o.resume {
		var md map[string]string
		b, resume, md, err = meta.LoadTraining(ckptPath)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("--resume: no checkpoint at %s (was the run started with this configuration and --out?)", ckptPath)
			}
			return fmt.Errorf("--resume: %w", err)
		}
		if md["config"] != string(resolved) {
			return fmt.Errorf("--resume: checkpoint %s was written by a different configuration; resume with the same settings or start a new run with another --out", ckptPath)
		}
		if folder, err = runfolder.Resume(cfg.Out, resolved, resume.Iteration, resume.Elapsed); err != nil {
			return err
		}
	} else {
		if b, err = meta.Build(spec); err != nil {
			return fmt.Errorf("%s: %w", cfg.File(), err)
		}
		if folder, err = runfolder.Create(cfg.Out, resolved); err != nil {
			return err
		}
	}
	defer folder.Close()
	reportCleaned(stderr, folder)
	spec = b.Spec
	train, err := spec.Tasks("train")
	if err != nil {
		return err
	}
	tc := meta.TrainConfig{Iterations: m.Iterations, MetaBatch: m.MetaBatch, OuterLR: m.OuterLR, ClipNorm: m.Clip, Seed: cfg.Seed,
		Workers: m.Workers, HigherIsBetter: spec.HigherIsBetter(), Resume: resume, CheckpointEvery: cfg.CheckpointEvery,
		SkipNonFinite: cfg.OnNonFinite == "skip", Budget: time.Duration(m.MaxMinutes * float64(time.Minute))}
	if spec.Algorithm == "reptile" {
		tc.Outer = "sgd"
	}
	if tc.Schedule, err = meta.OuterSchedule(m.OuterSchedule, spec.Algorithm, m.OuterLR, m.Iterations); err != nil {
		return fmt.Errorf("%s: meta.outer_schedule: %w", cfg.File(), err)
	}
	if spec.Algorithm == "pretrain" {
		return errors.New("meta.algorithm pretrain is a baseline for `metalearn meta train`; train -c covers the meta-learning algorithms")
	}
	note := func(string) {}
	val, verr := spec.Tasks("val")
	switch {
	case errors.Is(verr, meta.ErrNoValidation):
		defer note("the MAML split has no validation classes; the final weights are kept")
	case verr != nil:
		return verr
	default:
		tc.ValEvery = m.ValEvery
		tc.Val = data.EvalSet(val, m.ValTasks, cfg.Seed+1000)
		tc.ValSteps = spec.EvalSteps
	}
	prog := &runfolder.Progress{W: stderr, Mode: mode, Total: m.Iterations, Label: spec.Algorithm}
	if mode == runfolder.JSON {
		prog.W = stdout
	}
	note = prog.Println
	metric := metricName(spec)
	lastGood := "none yet"
	tc.Checkpoint = func(st *meta.TrainState) error {
		if err := folder.Sync(); err != nil {
			return err
		}
		if err := b.SaveTraining(ckptPath, st, map[string]string{"config": string(resolved), "step": fmt.Sprint(st.Iteration)}); err != nil {
			return err
		}
		lastGood = fmt.Sprintf("%s (iteration %d)", ckptPath, st.Iteration)
		return nil
	}
	var logErr error
	tc.Log = func(p meta.Progress) {
		step := p.Iteration + 1
		for _, r := range []struct {
			split, name string
			v           float64
		}{{"train", "loss", p.Loss}, {"train", metric, p.Metric}, {"train", "grad_norm", p.GradNorm}} {
			if err := folder.Log(step, r.split, r.name, r.v); err != nil && !p.Skipped {
				logErr = err
			}
		}
		if p.Val != nil {
			folder.Log(step, "val", metric, p.Val.Mean)
			folder.Log(step, "val", "loss", p.Val.Loss)
			if mode == runfolder.Lines || mode == runfolder.Bar {
				prog.Println(fmt.Sprintf("iteration %d: validation %s %s%s", step, metric, p.Val, map[bool]string{true: "  (best so far)"}[p.BestSoFar]))
			}
		}
		prog.Update(step, runfolder.Field{Name: "loss", Value: p.Loss}, runfolder.Field{Name: metric, Value: p.Metric})
	}
	stop, release := interrupt()
	defer release()
	tc.Stop = stop
	first := 0
	if resume != nil {
		first = resume.Iteration
		prog.Println(fmt.Sprintf("resuming %s at iteration %d of %d", cfg.Out, first, m.Iterations))
	}
	prog.Start(first)
	res, err := meta.Train(b.Algorithm, train, tc)
	var nf *meta.NonFiniteError
	switch {
	case errors.Is(err, meta.ErrStopped):
		prog.Println("")
		return &exitError{130, fmt.Errorf("interrupted: checkpoint %s; continue with: metalearn train -c %s --resume%s", lastGood, cfg.File(), outFlag(o))}
	case errors.As(err, &nf):
		return fmt.Errorf("%v; last good checkpoint: %s", err, lastGood)
	case err != nil:
		return err
	}
	if logErr != nil {
		return logErr
	}
	if res.Iterations < m.Iterations {
		prog.Println(fmt.Sprintf("meta.max_minutes: the %g-minute budget ended training after %d of %d iterations", m.MaxMinutes, res.Iterations, m.Iterations))
	}
	// final model: the best validated meta-parameters (Train restored them)
	if err := b.Save(folder.ModelPath(), map[string]string{"config": string(resolved), "best_iteration": fmt.Sprint(res.BestIteration + 1)}); err != nil {
		return err
	}
	test, err := spec.Tasks("test")
	if err != nil {
		return err
	}
	t0 := time.Now()
	sum := meta.Evaluate(b.Algorithm, data.EvalSet(test, m.TestTasks, 12345), spec.EvalSteps, m.Workers)
	evalSecs := time.Since(t0).Seconds()
	folder.Log(res.Iterations, "test", metric, sum.Mean)
	plotsWritten, perr := folder.PlotCurves(cfg.Name)
	if perr != nil {
		return perr
	}
	summary := map[string]any{
		"kind": "meta", "name": cfg.Name, "config": cfg, "iterations": res.Iterations, "best_iteration": res.BestIteration + 1,
		"best_val": res.BestVal, "test": map[string]any{"metric": metric, "result": sum, "tasks": m.TestTasks, "eval_steps": spec.EvalSteps, "seconds": evalSecs},
		"skipped_iterations": res.Skipped, "train_seconds": res.Elapsed.Seconds(), "wall_seconds": folder.Elapsed().Seconds(),
		"peak_rss_mib": runfolder.PeakRSSMiB(), "model": folder.ModelPath(), "checkpoint": ckptPath, "plots": plotsWritten,
	}
	if err := folder.WriteSummary(summary); err != nil {
		return err
	}
	peak := runfolder.PeakRSSMiB()
	return finalLine(stdout, o, map[string]any{"run": cfg.Out, "test_" + metric: sum, "seconds": folder.Elapsed().Seconds(), "peak_rss_mib": peak},
		fmt.Sprintf("%s: test %s %s over %d tasks; peak memory %.0f MiB; run folder %s (model.safetensors, summary.json, plots/)", cfg.Name, metric, sum, m.TestTasks, peak, cfg.Out))
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

func trainMTL(stdout, stderr io.Writer, cfg *config.Config, o trainOpts, mode runfolder.Mode) error {
	m := cfg.MTL
	resolved := cfg.Resolved()
	var e *mtl.Experiment
	if m.Dataset == "circles" {
		e = mtl.CirclesExperiment(m.Tasks, m.PerTask, cfg.Seed)
	} else {
		ex, err := loadExperiment(m.Dataset, cfg.DataDir, cfg.Seed)
		if err != nil {
			return fmt.Errorf("%s: mtl.dataset: %w", cfg.File(), err)
		}
		e = ex
	}
	w, err := mtl.ByName(m.Weighting, cfg.Seed)
	if err != nil {
		return err
	}
	model, err := e.BuildModel(m.Arch, e.Tasks, m.Hidden, rand.New(rand.NewPCG(cfg.Seed, 99)))
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.File(), err)
	}
	ckptPath := filepath.Join(cfg.Out, "checkpoints", "latest.safetensors")
	var (
		folder *runfolder.Folder
		resume *mtl.TrainState
	)
	if o.resume {
		st, md, err := mtl.LoadTraining(ckptPath, model)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("--resume: no checkpoint at %s (was the run started with this configuration and --out?)", ckptPath)
			}
			return fmt.Errorf("--resume: %w", err)
		}
		if md["config"] != string(resolved) {
			return fmt.Errorf("--resume: checkpoint %s was written by a different configuration; resume with the same settings or start a new run with another --out", ckptPath)
		}
		var elapsed time.Duration
		fmt.Sscan(md["elapsed_ns"], &elapsed)
		if folder, err = runfolder.Resume(cfg.Out, resolved, st.Step, elapsed); err != nil {
			return err
		}
		resume = st
	} else if folder, err = runfolder.Create(cfg.Out, resolved); err != nil {
		return err
	}
	defer folder.Close()
	reportCleaned(stderr, folder)
	prog := &runfolder.Progress{W: stderr, Mode: mode, Total: m.Steps, Label: "mtl " + m.Weighting}
	if mode == runfolder.JSON {
		prog.W = stdout
	}
	stop, release := interrupt()
	defer release()
	lastGood := "none yet"
	tc := mtl.TrainConfig{Steps: m.Steps, LR: m.LR, Seed: cfg.Seed, Weighting: w, Val: e.Val, BatchSize: e.BatchSize,
		Resume: resume, CheckpointEvery: cfg.CheckpointEvery, Stop: stop}
	tc.Checkpoint = func(st *mtl.TrainState) error {
		if err := folder.Sync(); err != nil {
			return err
		}
		if err := mtl.SaveTraining(ckptPath, model, st, map[string]string{"config": string(resolved), "step": fmt.Sprint(st.Step),
			"elapsed_ns": fmt.Sprint(int64(folder.Elapsed()))}); err != nil {
			return err
		}
		lastGood = fmt.Sprintf("%s (step %d)", ckptPath, st.Step)
		return nil
	}
	tc.Log = func(step int, losses []float64) {
		mean := 0.0
		for t, l := range losses {
			mean += l
			folder.Log(step+1, "train", "loss/"+e.Tasks[t].Name, l)
		}
		mean /= float64(len(losses))
		folder.Log(step+1, "train", "loss", mean)
		prog.Update(step+1, runfolder.Field{Name: "loss", Value: mean})
	}
	first := 0
	if resume != nil {
		first = resume.Step
		prog.Println(fmt.Sprintf("resuming %s at step %d of %d", cfg.Out, first, m.Steps))
	}
	prog.Start(first)
	if err := mtl.Train(model, e.Tasks, e.Train, tc); err != nil {
		if errors.Is(err, mtl.ErrStopped) {
			prog.Println("")
			return &exitError{130, fmt.Errorf("interrupted: checkpoint %s; continue with: metalearn train -c %s --resume%s", lastGood, cfg.File(), outFlag(o))}
		}
		return fmt.Errorf("%v; last good checkpoint: %s", err, lastGood)
	}
	all := make([]int, len(e.Tasks))
	for i := range all {
		all[i] = i
	}
	metrics := e.Metrics(model, e.Test, all)
	if err := mtl.SaveModel(folder.ModelPath(), model, map[string]string{"config": string(resolved)}); err != nil {
		return err
	}
	perTask := map[string]float64{}
	for t, v := range metrics {
		perTask[e.Tasks[t].Name] = v
		folder.Log(m.Steps, "test", "metric/"+e.Tasks[t].Name, v)
	}
	summary := map[string]any{"kind": "mtl", "name": cfg.Name, "config": cfg, "test_metrics": perTask, "higher_is_better": e.HigherIsBetter(), "model": folder.ModelPath(), "checkpoint": ckptPath}
	text := fmt.Sprintf("%s: %d tasks, %s/%s, mean test metric %.4f", cfg.Name, len(e.Tasks), m.Arch, m.Weighting, mean(metrics))
	if m.Baselines {
		stl, err := e.RunSTL(mtl.RunConfig{Arch: m.Arch, Hidden: m.Hidden, Seed: cfg.Seed, Train: mtl.TrainConfig{Steps: m.Steps, LR: m.LR, Seed: cfg.Seed}})
		if err != nil {
			return err
		}
		dp, _ := mtl.DeltaP(metrics, stl, e.HigherIsBetter())
		summary["single_task_metrics"], summary["delta_p"] = stl, dp
		text += fmt.Sprintf(" (single-task %.4f, Delta_p %+.2f%%)", mean(stl), dp)
	}
	plotsWritten, err := folder.PlotCurves(cfg.Name)
	if err != nil {
		return err
	}
	summary["plots"] = plotsWritten
	summary["wall_seconds"] = folder.Elapsed().Seconds()
	summary["peak_rss_mib"] = runfolder.PeakRSSMiB()
	if err := folder.WriteSummary(summary); err != nil {
		return err
	}
	return finalLine(stdout, o, summary, text+"; run folder "+cfg.Out)
}

// trainTransfer runs the configured `metalearn transfer` command with its
// options as flags, writing its outputs into the run folder.
func trainTransfer(stdout, stderr io.Writer, cfg *config.Config, o trainOpts) error {
	if o.resume {
		return errors.New("--resume: transfer runs are not resumable (each is a set of short trainings); run again into a new --out")
	}
	tc := cfg.Transfer
	sub := findSub(newTransferCmd(), tc.Command)
	if sub == nil {
		return fmt.Errorf("%s: transfer.command %q is not a transfer command", cfg.File(), tc.Command)
	}
	keys := make([]string, 0, len(tc.Options))
	for k := range tc.Options {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	args := []string{tc.Command}
	for _, k := range keys {
		fl := sub.Flags().Lookup(k)
		if fl == nil {
			var known []string
			sub.Flags().VisitAll(func(f *pflag.Flag) {
				if f.Name != "out" && f.Name != "json" && f.Name != "help" {
					known = append(known, f.Name)
				}
			})
			return fmt.Errorf("%s: unknown option %q for transfer %s (known: %s)", cfg.Where("transfer.options."+k), k, tc.Command, strings.Join(known, ", "))
		}
		args = append(args, "--"+k+"="+tc.Options[k])
	}
	if _, set := tc.Options["data-dir"]; !set && sub.Flags().Lookup("data-dir") != nil {
		args = append(args, "--data-dir="+cfg.DataDir)
	}
	if _, set := tc.Options["seed"]; !set && sub.Flags().Lookup("seed") != nil {
		args = append(args, fmt.Sprintf("--seed=%d", cfg.Seed))
	}
	folder, err := runfolder.Create(cfg.Out, cfg.Resolved())
	if err != nil {
		return err
	}
	defer folder.Close()
	reportCleaned(stderr, folder)
	out := filepath.Join(cfg.Out, tc.Command)
	if tc.Command == "pretrain" {
		out = filepath.Join(cfg.Out, "source.safetensors")
	}
	args = append(args, "--out="+out)
	var report bytes.Buffer
	w := io.MultiWriter(&report, stderr)
	if o.quiet || o.asJSON {
		w = &report
	}
	root := newTransferCmd()
	root.SetArgs(args)
	root.SetOut(w)
	root.SetErr(w)
	root.SilenceErrors, root.SilenceUsage = true, true
	start := time.Now()
	if err := root.Execute(); err != nil {
		return fmt.Errorf("%s (transfer.options): %w", cfg.File(), err)
	}
	if err := runfolder.WriteFileAtomic(filepath.Join(cfg.Out, "report.txt"), report.Bytes()); err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	if tc.Command == "pretrain" {
		files = []string{out}
	}
	summary := map[string]any{"kind": "transfer", "name": cfg.Name, "config": cfg, "command": append([]string{"metalearn", "transfer"}, args...),
		"outputs": files, "report": filepath.Join(cfg.Out, "report.txt"), "seconds": time.Since(start).Seconds(), "peak_rss_mib": runfolder.PeakRSSMiB()}
	if err := folder.WriteSummary(summary); err != nil {
		return err
	}
	return finalLine(stdout, o, summary, fmt.Sprintf("%s: transfer %s finished in %.0fs; run folder %s (report.txt, %s)", cfg.Name, tc.Command, time.Since(start).Seconds(), cfg.Out, filepath.Base(out)))
}

func findSub(root *cobra.Command, name string) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(max(len(xs), 1))
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// reportCleaned names the orphan temporary files (left by a process killed
// during a write) removed when the run folder was opened.
func reportCleaned(w io.Writer, f *runfolder.Folder) {
	for _, p := range f.Cleaned {
		fmt.Fprintf(w, "removed %s (left by an interrupted write)\n", p)
	}
}
