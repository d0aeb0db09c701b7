package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/metalearn/metalearn/internal/flagalias"

	"github.com/metalearn/metalearn/dist"
	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/runner"
)

func newMetaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "meta",
		Short: "Meta-learning: train and evaluate MAML, FOMAML, ANIL, Meta-SGD, MAML++, Reptile, ProtoNets, R2D2",
	}
	cmd.AddCommand(newMetaTrainCmd(), newMetaEvalCmd())
	return cmd
}

// specFlags binds the experiment description to flags.
func specFlags(cmd *cobra.Command, s *meta.Spec) {
	f := cmd.Flags()
	f.StringVar(&s.Algorithm, "algo", "maml", "algorithm: "+strings.Join(meta.Algorithms, ", ")+" (pretrain: the sinusoid baseline)")
	f.StringVar(&s.Dataset, "dataset", "sinusoid", "task family: sinusoid or omniglot")
	f.StringVar(&s.DataDir, "data-dir", "../shared/data", "folder holding omniglot/ (images_background.npz, images_evaluation.npz, alphabets.tsv, splits_vinyals/)")
	f.StringVar(&s.Split, "split", "", "omniglot split: vinyals (default) or maml")
	f.IntVar(&s.Ways, "ways", 0, "N classes per task (omniglot; default 5)")
	f.IntVar(&s.Shots, "shots", 0, "K support examples per class (sinusoid: points; default 1 / 10)")
	f.IntVar(&s.Queries, "queries", 0, "query examples per class (default 15 / 10)")
	f.IntVar(&s.InnerSteps, "inner-steps", 0, "inner adaptation steps during training (default 1)")
	renameFlag(f, "steps", "inner-steps")
	f.IntVar(&s.EvalSteps, "eval-steps", 0, "adaptation steps at evaluation (default 3 omniglot / 10 sinusoid)")
	f.Float64Var(&s.InnerLR, "inner-lr", 0, "inner learning rate (default 0.4 omniglot / 0.01 sinusoid)")
	f.IntVar(&s.Hidden, "hidden", 0, "MLP width (sinusoid, default 40) or conv filters (omniglot, default 64)")
	f.BoolVar(&s.MultiStepLoss, "multi-step-loss", false, "MAML++ multi-step loss (with --algo maml++)")
	f.BoolVar(&s.InnerAdam, "inner-adam", false, "Reptile: Adam (beta1 = 0) in the inner loop instead of SGD")
	f.IntVar(&s.TrainShots, "train-shots", 0, "support examples per class in training episodes (default --shots; Reptile's paper trains 1-shot models on 10-shot tasks)")
	f.StringVar(&s.Arch, "arch", "", "omniglot network: pool (3x3 conv + 2x2 max-pool blocks, the default) or strided (stride-2 convolutions, as in the MAML/Reptile authors' code)")
	f.BoolVar(&s.CarryAdam, "carry-adam", false, "Reptile with --inner-adam: keep the inner Adam statistics from task to task (as the Reptile authors' code does)")
	f.IntVar(&s.InnerBatch, "inner-batch", 0, "Reptile: inner minibatch size at training (default the whole support set)")
	f.StringVar(&s.BatchNorm, "batchnorm", "", "BatchNorm mode: transductive (default), running, per-step (MAML family)")
	f.BoolVar(&s.Recompute, "recompute", false, "second-order MAML: recompute the inner loop in the backward pass to save memory")
	f.Uint64Var(&s.Seed, "seed", 1, "random seed (initialisation, task sampling, MAML split)")
}

type trainFlags struct {
	iterations, metaBatch, valEvery, valTasks, workers int
	outerLR, clip, maxMinutes                          float64
	out, outerSchedule                                 string
	asJSON, quiet                                      bool
	progress                                           string
	logEvery                                           int
	// data-parallel training and resumable checkpoints
	distributed, fastReduce bool
	checkpoint              string
	checkpointEvery         int
	resume                  bool
}

func newMetaTrainCmd() *cobra.Command {
	var s meta.Spec
	var tf trainFlags
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Meta-train an algorithm and save the best checkpoint",
		Example: `  metalearn meta train --algo maml --dataset sinusoid --shots 10 --iterations 20000 --model-out sine.safetensors
  metalearn meta train --algo protonet --dataset omniglot --ways 20 --shots 1 --queries 5 --iterations 5000 --model-out proto.safetensors`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			comm, err := openComm(tf.distributed, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if comm != nil && comm.Rank() != 0 {
				out = io.Discard // only rank 0 prints, writes logs and checkpoints
			}
			return finishDistributed(comm, cmd.ErrOrStderr(), metaTrain(out, cmd.ErrOrStderr(), s, tf, comm, resumeCommand(cmd)))
		},
	}
	specFlags(cmd, &s)
	f := cmd.Flags()
	f.IntVar(&tf.iterations, "iterations", 1000, "outer iterations")
	f.IntVar(&tf.metaBatch, "meta-batch", 0, "tasks per outer step (default: the algorithm's, "+metaBatchDefaults()+")")
	f.Float64Var(&tf.outerLR, "outer-lr", 0, "outer learning rate (default 1e-3; reptile: 1.0 annealed linearly to 0)")
	f.StringVar(&tf.outerSchedule, "outer-schedule", "", "outer learning-rate schedule: constant, linear or cosine (to 0 over --iterations; default: linear for reptile, else constant)")
	f.Float64Var(&tf.clip, "clip", 0, "clip the meta-gradient's global norm (0: off)")
	f.Float64Var(&tf.maxMinutes, "max-minutes", 0, "end training after this many minutes (the best validated weights are kept; 0: no limit)")
	f.IntVar(&tf.valEvery, "val-every", 0, "validate every N iterations and keep the best checkpoint (0: iterations/10)")
	f.IntVar(&tf.valTasks, "val-tasks", 100, "validation tasks (fixed seed)")
	f.IntVar(&tf.workers, "workers", 0, "tasks processed in parallel (0: all cores)")
	f.StringVar(&tf.out, "model-out", "", "file to write the trained model to (safetensors); required")
	renameFlag(f, "out", "model-out")
	f.BoolVar(&tf.asJSON, "json", false, "print JSON lines (progress every --log-every iterations, then the result) instead of text")
	f.BoolVar(&tf.quiet, "quiet", false, "no progress output; only the final line")
	f.StringVar(&tf.progress, "progress", "auto", "progress display: auto (bar on a terminal, lines otherwise), bar, lines")
	f.IntVar(&tf.logEvery, "log-every", 100, "with --json: print a progress record every N iterations")
	f.BoolVar(&tf.distributed, "distributed", false, "data-parallel training over the ranks of an MPI job (mpirun; needs a build with -tags mpi): same result as one process")
	f.BoolVar(&tf.fastReduce, "fast-reduce", false, "with --distributed: all-reduce per-rank gradient sums (fewer bytes; equal to one process only to rounding)")
	f.StringVar(&tf.checkpoint, "checkpoint", "", "resumable training checkpoint (default: --model-out with .train.safetensors)")
	f.IntVar(&tf.checkpointEvery, "checkpoint-every", 0, "write the resumable checkpoint every N iterations (0: iterations/10; Ctrl-C also writes it)")
	f.BoolVar(&tf.resume, "resume", false, "continue from --checkpoint (any number of ranks); the final weights equal an uninterrupted run's")
	return cmd
}

// openComm opens the MPI world communicator for --distributed; without it
// it returns nil (and warns when an MPI launcher started several copies).
func openComm(distributed bool, stderr io.Writer) (dist.Comm, error) {
	if !distributed {
		if n := dist.EnvSize(); n > 1 {
			fmt.Fprintf(stderr, "metalearn: warning: started by an MPI launcher with %d processes but without --distributed: every process runs the whole job on its own\n", n)
		}
		return nil, nil
	}
	c, err := dist.Open()
	if err != nil {
		return nil, fmt.Errorf("--distributed: %w", err)
	}
	return c, nil
}

// finishDistributed ends a rank's part in an MPI job. On error it prints
// the error with the rank and aborts the whole job (MPI_Abort), so that
// ranks waiting for this one in a collective stop too and mpirun exits
// non-zero; otherwise it finalises MPI.
func finishDistributed(c dist.Comm, stderr io.Writer, err error) error {
	if c == nil {
		return err
	}
	if err != nil {
		fmt.Fprintf(stderr, "metalearn: rank %d of %d: %v\n", c.Rank(), c.Size(), err)
		c.Abort(1)
		return err
	}
	return c.Close()
}

func metaTrain(out, stderr io.Writer, s meta.Spec, tf trainFlags, comm dist.Comm, resumeCmd string) error {
	if tf.out == "" {
		return errors.New("--model-out is required (the file to write the trained model to)")
	}
	if tf.iterations < 1 {
		return fmt.Errorf("--iterations = %d, want >= 1", tf.iterations)
	}
	if tf.valTasks < 1 {
		return fmt.Errorf("--val-tasks = %d, want >= 1", tf.valTasks)
	}
	if tf.outerLR < 0 || math.IsNaN(tf.outerLR) || math.IsInf(tf.outerLR, 0) {
		return fmt.Errorf("--outer-lr = %v, want a finite value > 0", tf.outerLR)
	}
	if tf.logEvery < 1 {
		return fmt.Errorf("--log-every = %d, want >= 1", tf.logEvery)
	}
	if tf.maxMinutes < 0 || math.IsNaN(tf.maxMinutes) || tf.maxMinutes > 1e7 {
		return fmt.Errorf("--max-minutes = %v, want minutes >= 0 (0: no limit)", tf.maxMinutes)
	}
	if tf.checkpointEvery < 0 {
		return fmt.Errorf("--checkpoint-every = %d, want >= 0", tf.checkpointEvery)
	}
	if tf.fastReduce && !tf.distributed {
		return errors.New("--fast-reduce applies to --distributed training")
	}
	if _, err := meta.OuterSchedule(tf.outerSchedule, s.Algorithm, 1, tf.iterations); err != nil {
		return fmt.Errorf("--outer-schedule: %w", err)
	}
	mode, err := runner.ModeFor(tf.quiet, tf.asJSON, tf.progress, stderr)
	if err != nil {
		return err
	}
	ckpt := tf.checkpoint
	if ckpt == "" {
		ckpt = strings.TrimSuffix(tf.out, ".safetensors") + ".train.safetensors"
	}
	if mode == runner.JSON {
		mode = runner.Quiet // --json prints its own records below
	}
	prog := &runner.Progress{W: stderr, Mode: mode, Total: tf.iterations, Label: s.Algorithm}
	if a, err := meta.AlgorithmByName(s.Algorithm); err == nil {
		prog.Label = a.Name
	}
	stop, release := runner.OnInterrupt()
	defer release()
	rc := meta.RunConfig{Spec: s, Iterations: tf.iterations, MetaBatch: tf.metaBatch, OuterLR: tf.outerLR, OuterSchedule: tf.outerSchedule,
		Clip: tf.clip, MaxDuration: time.Duration(tf.maxMinutes * float64(time.Minute)), ValEvery: tf.valEvery, ValTasks: tf.valTasks,
		Workers: tf.workers, Comm: comm, FastReduce: tf.fastReduce, Model: tf.out, Checkpoint: ckpt, CheckpointEvery: tf.checkpointEvery,
		Resume: tf.resume, Stop: stop, ResumeCommand: resumeCmd, Progress: prog, Note: prog.Println}
	if tf.asJSON {
		rc.Log = func(p meta.Progress) {
			if p.Iteration%tf.logEvery != 0 && p.Val == nil {
				return
			}
			rec := map[string]any{"iteration": p.Iteration, "loss": p.Loss, "metric": p.Metric, "seconds": p.Elapsed.Seconds(), "outer_lr": p.OuterLR}
			if p.Val != nil {
				rec["val"] = p.Val
			}
			writeJSONLine(out, rec)
		}
	}
	res, err := meta.Run(rc)
	if err != nil {
		if tf.resume && res == nil {
			return fmt.Errorf("--resume: %w", err)
		}
		return stopped(err)
	}
	secs := res.Elapsed.Seconds()
	if tf.asJSON {
		return writeJSONLine(out, map[string]any{"checkpoint": tf.out, "iterations": res.Iterations, "best_iteration": res.BestIteration, "best_val": res.BestVal, "seconds": secs, "spec": res.Spec})
	}
	if res.BestVal == nil {
		_, err = fmt.Fprintf(out, "saved %s (%s, %d iterations; no validation: the final weights) in %.1fs\n", tf.out, res.Spec.Algorithm, res.Iterations, secs)
		return err
	}
	_, err = fmt.Fprintf(out, "saved %s (best validation at iteration %d of %d) in %.1fs\n", tf.out, res.BestIteration, res.Iterations, secs)
	return err
}

// resumeCommand is the command line that continues an interrupted run of
// cmd: its path, the flags given and --resume.
func resumeCommand(cmd *cobra.Command) string {
	parts := []string{cmd.CommandPath()}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if _, old := flagalias.Target(f); old {
			return // a deprecated name: its new flag is listed
		}
		if f.Name != "resume" {
			parts = append(parts, "--"+f.Name+"="+shellQuote(f.Value.String()))
		}
	})
	return strings.Join(append(parts, "--resume"), " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r == ',' || r == '=' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// metaBatchDefaults describes the algorithms' default meta-batch sizes.
func metaBatchDefaults() string {
	parts := []string{fmt.Sprintf("%d on sinusoid", meta.SinusoidMetaBatch)}
	for _, a := range meta.AlgorithmTable() {
		if !a.Pooled {
			parts = append(parts, fmt.Sprintf("%s %d", a.Name, a.MetaBatch))
		}
	}
	return strings.Join(parts, ", ")
}

func metricName(s meta.Spec) string { return s.MetricName() }

func newMetaEvalCmd() *cobra.Command {
	var (
		ckpt, split, dataDir string
		tasks, steps         int
		queries, ways, shots int
		asJSON, distributed  bool
		best                 bool
		seed                 uint64
	)
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate a meta-trained checkpoint on fixed-seed test tasks (mean ± 95% CI)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			comm, err := openComm(distributed, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer func() { err = finishDistributed(comm, cmd.ErrOrStderr(), err) }()
			out := cmd.OutOrStdout()
			if comm != nil && comm.Rank() != 0 {
				out = io.Discard
			}
			fl := cmd.Flags()
			if ckpt == "" {
				return errors.New("--checkpoint is required")
			}
			if tasks < 1 {
				return fmt.Errorf("--tasks = %d, want >= 1", tasks)
			}
			ec := meta.EvalConfig{Checkpoint: ckpt, Best: best, Split: split, Tasks: tasks, Seed: seed, Comm: comm}
			if fl.Changed("data-dir") {
				ec.DataDir = dataDir
			}
			for _, o := range []struct {
				name string
				v    int
				min  int
				dst  *int
			}{{"ways", ways, 2, &ec.Ways}, {"shots", shots, 1, &ec.Shots}, {"queries", queries, 1, &ec.Queries}, {"eval-steps", steps, 0, nil}} {
				if !fl.Changed(o.name) {
					continue
				}
				if o.v < o.min {
					return fmt.Errorf("--%s = %d, want >= %d", o.name, o.v, o.min)
				}
				if o.dst != nil {
					*o.dst = o.v
				} else {
					ec.Steps = &steps
				}
			}
			if comm == nil || comm.Rank() == 0 {
				ec.Progress = commandProgress(cmd.ErrOrStderr(), asJSON, "meta eval: tasks", 0)
			}
			res, err := meta.EvaluateCheckpoint(ec)
			var fe *meta.FieldError
			if errors.As(err, &fe) {
				return errors.New(fe.Flagged())
			}
			if err != nil {
				return err
			}
			s, sum := res.Spec, res.Summary
			if asJSON {
				js := map[string]any{"checkpoint": ckpt, "split": split, "steps": res.Steps, "metric": metricName(s), "result": sum, "seconds": res.Seconds, "spec": s}
				if best {
					js["best_iteration"] = res.BestIteration
				}
				return writeJSONLine(out, js)
			}
			from := ""
			if best {
				from = fmt.Sprintf(" (best validated weights, iteration %d)", res.BestIteration)
			}
			adapt := fmt.Sprintf("after %d steps", res.Steps)
			if meta.MetricBased(s.Algorithm) {
				adapt = "(metric-based: no adaptation steps)"
			}
			fmt.Fprintf(out, "%s%s on %s %s (%s): %s %s %s, %.1fs\n", s.Algorithm, from, s.Dataset, split, describe(s), metricName(s), sum, adapt, res.Seconds)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&ckpt, "checkpoint", "", "checkpoint written by meta train")
	f.StringVar(&split, "split", "test", "task split: test, val or train")
	f.StringVar(&dataDir, "data-dir", "", "override the data folder recorded in the checkpoint; default: the recorded folder if it exists, else the usual rule ($METALEARN_DATA, the user folder, ../shared/data beside the checkout)")
	f.IntVar(&tasks, "tasks", 600, "number of test tasks")
	f.IntVar(&queries, "queries", 0, "query examples per class (sinusoid: points) at evaluation (default: as trained)")
	f.IntVar(&ways, "ways", 0, "N at evaluation (protonet, r2d2; default: as trained)")
	f.IntVar(&shots, "shots", 0, "K at evaluation (protonet, r2d2, and any sinusoid model; default: as trained)")
	f.IntVar(&steps, "eval-steps", 0, "adaptation steps (default: as trained)")
	f.Uint64Var(&seed, "seed", 12345, "seed of the fixed evaluation task set")
	f.BoolVar(&best, "best", false, "evaluate the best validated weights a training checkpoint holds (e.g. checkpoints/latest.safetensors of an interrupted run) instead of its current weights")
	f.BoolVar(&asJSON, "json", false, "print one JSON line")
	f.BoolVar(&distributed, "distributed", false, "split the test tasks over the ranks of an MPI job (mpirun; needs a build with -tags mpi)")
	return cmd
}

func describe(s meta.Spec) string {
	if s.Dataset == "sinusoid" {
		return fmt.Sprintf("K=%d", s.Shots)
	}
	return fmt.Sprintf("%d-way %d-shot, %s split", s.Ways, s.Shots, s.Split)
}
