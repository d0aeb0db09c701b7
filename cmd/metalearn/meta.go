package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/dist"
	"github.com/metalearn/metalearn/meta"
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
	f.StringVar(&s.Algorithm, "algo", "maml", "algorithm: maml, fomaml, anil, metasgd, maml++, reptile, protonet, r2d2, pretrain (sinusoid baseline)")
	f.StringVar(&s.Dataset, "dataset", "sinusoid", "task family: sinusoid or omniglot")
	f.StringVar(&s.DataDir, "data-dir", "../shared/data", "folder holding omniglot/ (images_background.npz, images_evaluation.npz, alphabets.tsv, splits_vinyals/)")
	f.StringVar(&s.Split, "split", "", "omniglot split: vinyals (default) or maml")
	f.IntVar(&s.Ways, "ways", 0, "N classes per task (omniglot; default 5)")
	f.IntVar(&s.Shots, "shots", 0, "K support examples per class (sinusoid: points; default 1 / 10)")
	f.IntVar(&s.Queries, "queries", 0, "query examples per class (default 15 / 10)")
	f.IntVar(&s.InnerSteps, "steps", 0, "inner adaptation steps during training (default 1)")
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
	asJSON                                             bool
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
		Example: `  metalearn meta train --algo maml --dataset sinusoid --shots 10 --iterations 20000 --out sine.safetensors
  metalearn meta train --algo protonet --dataset omniglot --ways 20 --shots 1 --queries 5 --iterations 5000 --out proto.safetensors`,
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
			return finishDistributed(comm, cmd.ErrOrStderr(), metaTrain(out, s, tf, comm))
		},
	}
	specFlags(cmd, &s)
	f := cmd.Flags()
	f.IntVar(&tf.iterations, "iterations", 1000, "outer iterations")
	f.IntVar(&tf.metaBatch, "meta-batch", 0, "tasks per outer step (default 25 sinusoid, 4 MAML-family omniglot, 1 protonet/r2d2, 5 reptile)")
	f.Float64Var(&tf.outerLR, "outer-lr", 0, "outer learning rate (default 1e-3; reptile: 1.0 annealed linearly to 0)")
	f.StringVar(&tf.outerSchedule, "outer-schedule", "", "outer learning-rate schedule: constant, linear or cosine (to 0 over --iterations; default: linear for reptile, else constant)")
	f.Float64Var(&tf.clip, "clip", 0, "clip the meta-gradient's global norm (0: off)")
	f.Float64Var(&tf.maxMinutes, "max-minutes", 0, "end training after this many minutes (the best validated weights are kept; 0: no limit)")
	f.IntVar(&tf.valEvery, "val-every", 0, "validate every N iterations and keep the best checkpoint (0: iterations/10)")
	f.IntVar(&tf.valTasks, "val-tasks", 100, "validation tasks (fixed seed)")
	f.IntVar(&tf.workers, "workers", 0, "tasks processed in parallel (0: all cores)")
	f.StringVar(&tf.out, "out", "", "checkpoint path (safetensors); required")
	f.BoolVar(&tf.asJSON, "json", false, "print JSON lines instead of text")
	f.IntVar(&tf.logEvery, "log-every", 100, "print training progress every N iterations")
	f.BoolVar(&tf.distributed, "distributed", false, "data-parallel training over the ranks of an MPI job (mpirun; needs a build with -tags mpi): same result as one process")
	f.BoolVar(&tf.fastReduce, "fast-reduce", false, "with --distributed: all-reduce per-rank gradient sums (fewer bytes; equal to one process only to rounding)")
	f.StringVar(&tf.checkpoint, "checkpoint", "", "resumable training checkpoint (default: --out with .train.safetensors)")
	f.IntVar(&tf.checkpointEvery, "checkpoint-every", 0, "write the resumable checkpoint every N iterations (0: never)")
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

func metaTrain(out io.Writer, s meta.Spec, tf trainFlags, comm dist.Comm) error {
	if tf.out == "" {
		return errors.New("--out is required (where to write the checkpoint)")
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
	ckpt := tf.checkpoint
	if ckpt == "" {
		ckpt = strings.TrimSuffix(tf.out, ".safetensors") + ".train.safetensors"
	}
	rank0 := comm == nil || comm.Rank() == 0
	b, err := meta.Build(s)
	if err != nil {
		return err
	}
	var resume *meta.TrainState
	if tf.resume {
		// every rank reads the checkpoint (a shared file system, or a copy
		// on every host); Train checks that all ranks read the same state
		got, st, _, err := meta.LoadTraining(ckpt)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		a, _ := json.Marshal(got.Spec)
		want, _ := json.Marshal(b.Spec)
		if string(a) != string(want) {
			return fmt.Errorf("--resume: checkpoint %s was trained with %s, the flags say %s", ckpt, a, want)
		}
		b, resume = got, st
	}
	s = b.Spec
	train, err := s.Tasks("train")
	if err != nil {
		return err
	}
	cfg := meta.TrainConfig{Iterations: tf.iterations, MetaBatch: tf.metaBatch, OuterLR: tf.outerLR, ClipNorm: tf.clip, Seed: s.Seed, Workers: tf.workers, HigherIsBetter: s.HigherIsBetter(),
		Comm: comm, FastReduce: tf.fastReduce, Resume: resume, CheckpointEvery: tf.checkpointEvery,
		Budget: time.Duration(tf.maxMinutes * float64(time.Minute))}
	if tf.checkpointEvery > 0 {
		cfg.Checkpoint = func(st *meta.TrainState) error { // rank 0 only
			return b.SaveTraining(ckpt, st, map[string]string{"iterations": fmt.Sprint(tf.iterations)})
		}
	}
	if cfg.MetaBatch == 0 {
		switch {
		case s.Dataset == "sinusoid":
			cfg.MetaBatch = 25
		case meta.MetricBased(s.Algorithm):
			cfg.MetaBatch = 1
		case s.Algorithm == "reptile":
			cfg.MetaBatch = 5
		default:
			cfg.MetaBatch = 4
		}
	}
	if s.Algorithm == "reptile" {
		cfg.Outer = "sgd"
		if cfg.OuterLR == 0 {
			cfg.OuterLR = 1
		}
	} else if cfg.OuterLR == 0 {
		cfg.OuterLR = 1e-3
	}
	if cfg.Schedule, err = meta.OuterSchedule(tf.outerSchedule, s.Algorithm, cfg.OuterLR, tf.iterations); err != nil {
		return fmt.Errorf("--outer-schedule: %w", err)
	}
	valEvery := tf.valEvery
	if valEvery == 0 {
		valEvery = max(tf.iterations/10, 1)
	}
	val, err := s.Tasks("val")
	switch {
	case errors.Is(err, meta.ErrNoValidation):
		fmt.Fprintln(out, "note: the MAML split has no validation classes; keeping the final weights")
	case err != nil:
		return err
	default:
		cfg.ValEvery = valEvery
		cfg.Val = data.EvalSet(val, tf.valTasks, s.Seed+1000)
		cfg.ValSteps = s.EvalSteps
	}
	cfg.Log = func(p meta.Progress) {
		if (p.Iteration+1)%tf.logEvery != 0 && p.Val == nil {
			return
		}
		if tf.asJSON {
			rec := map[string]any{"iteration": p.Iteration + 1, "loss": p.Loss, "metric": p.Metric, "seconds": p.Elapsed.Seconds(), "outer_lr": p.OuterLR}
			if p.Val != nil {
				rec["val"] = p.Val
			}
			line, _ := json.Marshal(rec)
			fmt.Fprintln(out, string(line))
			return
		}
		fmt.Fprintf(out, "iter %6d/%d  loss %.4f  %s %.4f  %6.1fs", p.Iteration+1, p.Iterations, p.Loss, metricName(s), p.Metric, p.Elapsed.Seconds())
		if p.Val != nil {
			mark := ""
			if p.BestSoFar {
				mark = " *"
			}
			fmt.Fprintf(out, "  val %s%s", p.Val, mark)
		}
		fmt.Fprintln(out)
	}
	start := time.Now()
	if s.Algorithm == "pretrain" {
		// supervised pre-training on pooled tasks; no validation-based selection
		if cfg.OuterLR == 0 {
			cfg.OuterLR = 1e-3
		}
		if comm != nil && comm.Size() > 1 {
			return errors.New("--distributed: --algo pretrain is not data-parallel; run it in one process")
		}
		if err := meta.Pretrain(b.Model, train, tf.iterations, cfg.MetaBatch, cfg.OuterLR, s.Seed); err != nil {
			return err
		}
		if err := b.Save(tf.out, map[string]string{"iterations": fmt.Sprint(tf.iterations)}); err != nil {
			return err
		}
		fmt.Fprintf(out, "saved %s (pretrained on pooled tasks) in %.1fs\n", tf.out, time.Since(start).Seconds())
		return nil
	}
	res, err := meta.Train(b.Algorithm, train, cfg)
	if err != nil {
		return err
	}
	extra := map[string]string{"iterations": fmt.Sprint(res.Iterations), "best_iteration": fmt.Sprint(res.BestIteration + 1)}
	if rank0 {
		err = b.Save(tf.out, extra)
	}
	if comm != nil && comm.Size() > 1 {
		err = dist.AnyError(comm, err) // every rank learns whether rank 0 saved
	}
	if err != nil {
		return err
	}
	if tf.asJSON {
		line, _ := json.Marshal(map[string]any{"checkpoint": tf.out, "iterations": res.Iterations, "best_iteration": res.BestIteration + 1, "best_val": res.BestVal, "seconds": time.Since(start).Seconds(), "spec": s})
		fmt.Fprintln(out, string(line))
	} else {
		fmt.Fprintf(out, "saved %s (best validation at iteration %d of %d) in %.1fs\n", tf.out, res.BestIteration+1, res.Iterations, time.Since(start).Seconds())
	}
	return nil
}

func metricName(s meta.Spec) string {
	if s.HigherIsBetter() {
		return "acc"
	}
	return "mse"
}

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
			if ckpt == "" {
				return errors.New("--checkpoint is required")
			}
			if tasks < 1 {
				return fmt.Errorf("--tasks = %d, want >= 1", tasks)
			}
			var b *meta.Built
			bestIter := 0
			if best {
				var st *meta.TrainState
				if b, st, _, err = meta.LoadTraining(ckpt); err != nil {
					return fmt.Errorf("--best: %w", err)
				}
				if err := b.UseBest(st); err != nil {
					return fmt.Errorf("--best: checkpoint %s: %w", ckpt, err)
				}
				bestIter = st.BestIteration + 1
			} else if b, err = meta.Load(ckpt); err != nil {
				return err
			}
			s := b.Spec
			if cmd.Flags().Changed("data-dir") {
				s.DataDir = dataDir
			}
			if cmd.Flags().Changed("ways") || cmd.Flags().Changed("shots") {
				switch {
				case s.Dataset == "sinusoid" && cmd.Flags().Changed("ways"):
					return errors.New("--ways: sinusoid tasks are regressions and have no classes (--shots sets the support points per task)")
				case s.Dataset != "sinusoid" && !meta.MetricBased(s.Algorithm):
					return fmt.Errorf("--ways/--shots at evaluation apply to metric-based checkpoints (protonet, r2d2); %s has a fixed %d-way head", s.Algorithm, s.Ways)
				}
				if cmd.Flags().Changed("ways") {
					if ways < 2 {
						return fmt.Errorf("--ways = %d, want >= 2", ways)
					}
					s.Ways = ways
				}
				if cmd.Flags().Changed("shots") {
					if shots < 1 {
						return fmt.Errorf("--shots = %d, want >= 1", shots)
					}
					s.Shots = shots
				}
			}
			if cmd.Flags().Changed("queries") {
				if queries < 1 {
					return fmt.Errorf("--queries = %d, want >= 1", queries)
				}
				s.Queries = queries
			}
			dist, err := s.Tasks(split)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("eval-steps") {
				steps = s.EvalSteps
			} else if steps < 0 {
				return fmt.Errorf("--eval-steps = %d, want >= 0", steps)
			} else if steps > meta.MaxSteps {
				return fmt.Errorf("--eval-steps = %d, want 0..%d", steps, meta.MaxSteps)
			}
			start := time.Now()
			set := data.EvalSet(dist, tasks, seed)
			sum, err := meta.EvaluateDistributed(comm, b.Algorithm, set, steps, 0)
			if err != nil {
				return err
			}
			if bad(sum.Mean) || bad(sum.CI95) || bad(sum.Loss) {
				return fmt.Errorf("checkpoint %s: evaluation gave a non-finite %s (%v ± %v, loss %v over %d tasks): the weights are corrupt (damaged or from a diverged run); use another checkpoint or retrain",
					ckpt, metricName(s), sum.Mean, sum.CI95, sum.Loss, sum.N)
			}
			secs := time.Since(start).Seconds()
			if asJSON {
				js := map[string]any{"checkpoint": ckpt, "split": split, "steps": steps, "metric": metricName(s), "result": sum, "seconds": secs, "spec": s}
				if best {
					js["best_iteration"] = bestIter
				}
				line, _ := json.Marshal(js)
				fmt.Fprintln(out, string(line))
				return nil
			}
			from := ""
			if best {
				from = fmt.Sprintf(" (best validated weights, iteration %d)", bestIter)
			}
			adapt := fmt.Sprintf("after %d steps", steps)
			if meta.MetricBased(s.Algorithm) {
				adapt = "(metric-based: no adaptation steps)"
			}
			fmt.Fprintf(out, "%s%s on %s %s (%s): %s %s %s, %.1fs\n", s.Algorithm, from, s.Dataset, split, describe(s), metricName(s), sum, adapt, secs)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&ckpt, "checkpoint", "", "checkpoint written by meta train")
	f.StringVar(&split, "split", "test", "task split: test, val or train")
	f.StringVar(&dataDir, "data-dir", "", "override the data folder recorded in the checkpoint")
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

// bad reports a non-finite number (NaN or ±Inf).
func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
