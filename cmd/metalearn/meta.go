package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/spf13/cobra"

	"metalearn/data"
	"metalearn/meta"
	"metalearn/optim"
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
	f.StringVar(&s.BatchNorm, "batchnorm", "", "BatchNorm mode: transductive (default), running, per-step (MAML family)")
	f.BoolVar(&s.Recompute, "recompute", false, "second-order MAML: recompute the inner loop in the backward pass to save memory")
	f.Uint64Var(&s.Seed, "seed", 1, "random seed (initialisation, task sampling, MAML split)")
}

type trainFlags struct {
	iterations, metaBatch, valEvery, valTasks, workers int
	outerLR, clip                                      float64
	out                                                string
	asJSON                                             bool
	logEvery                                           int
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
			return metaTrain(cmd.OutOrStdout(), s, tf)
		},
	}
	specFlags(cmd, &s)
	f := cmd.Flags()
	f.IntVar(&tf.iterations, "iterations", 1000, "outer iterations")
	f.IntVar(&tf.metaBatch, "meta-batch", 0, "tasks per outer step (default 25 sinusoid, 4 MAML-family omniglot, 1 protonet/r2d2, 5 reptile)")
	f.Float64Var(&tf.outerLR, "outer-lr", 0, "outer learning rate (default 1e-3; reptile: 1.0 annealed linearly to 0)")
	f.Float64Var(&tf.clip, "clip", 0, "clip the meta-gradient's global norm (0: off)")
	f.IntVar(&tf.valEvery, "val-every", 0, "validate every N iterations and keep the best checkpoint (0: iterations/10)")
	f.IntVar(&tf.valTasks, "val-tasks", 100, "validation tasks (fixed seed)")
	f.IntVar(&tf.workers, "workers", 0, "tasks processed in parallel (0: all cores)")
	f.StringVar(&tf.out, "out", "", "checkpoint path (safetensors); required")
	f.BoolVar(&tf.asJSON, "json", false, "print JSON lines instead of text")
	f.IntVar(&tf.logEvery, "log-every", 100, "print training progress every N iterations")
	return cmd
}

func metaTrain(out io.Writer, s meta.Spec, tf trainFlags) error {
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
	b, err := meta.Build(s)
	if err != nil {
		return err
	}
	s = b.Spec
	train, err := s.Tasks("train")
	if err != nil {
		return err
	}
	cfg := meta.TrainConfig{Iterations: tf.iterations, MetaBatch: tf.metaBatch, OuterLR: tf.outerLR, ClipNorm: tf.clip, Seed: s.Seed, Workers: tf.workers, HigherIsBetter: s.HigherIsBetter()}
	if cfg.MetaBatch == 0 {
		switch {
		case s.Dataset == "sinusoid":
			cfg.MetaBatch = 25
		case s.Algorithm == "protonet" || s.Algorithm == "r2d2":
			cfg.MetaBatch = 1
		case s.Algorithm == "reptile":
			cfg.MetaBatch = 5
		default:
			cfg.MetaBatch = 4
		}
	}
	if s.Algorithm == "reptile" {
		cfg.Outer = "sgd"
		lr := tf.outerLR
		if lr == 0 {
			lr = 1
		}
		cfg.Schedule = optim.Linear(lr, 0, tf.iterations)
	} else if cfg.OuterLR == 0 {
		cfg.OuterLR = 1e-3
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
	extra := map[string]string{"iterations": fmt.Sprint(tf.iterations), "best_iteration": fmt.Sprint(res.BestIteration + 1)}
	if err := b.Save(tf.out, extra); err != nil {
		return err
	}
	if tf.asJSON {
		line, _ := json.Marshal(map[string]any{"checkpoint": tf.out, "best_iteration": res.BestIteration + 1, "best_val": res.BestVal, "seconds": time.Since(start).Seconds(), "spec": s})
		fmt.Fprintln(out, string(line))
	} else {
		fmt.Fprintf(out, "saved %s (best validation at iteration %d) in %.1fs\n", tf.out, res.BestIteration+1, time.Since(start).Seconds())
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
		asJSON               bool
		seed                 uint64
	)
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate a meta-trained checkpoint on fixed-seed test tasks (mean ± 95% CI)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if ckpt == "" {
				return errors.New("--checkpoint is required")
			}
			if tasks < 1 {
				return fmt.Errorf("--tasks = %d, want >= 1", tasks)
			}
			b, err := meta.Load(ckpt)
			if err != nil {
				return err
			}
			s := b.Spec
			if cmd.Flags().Changed("data-dir") {
				s.DataDir = dataDir
			}
			if cmd.Flags().Changed("ways") || cmd.Flags().Changed("shots") {
				if s.Algorithm != "protonet" && s.Algorithm != "r2d2" {
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
			}
			start := time.Now()
			set := data.EvalSet(dist, tasks, seed)
			sum := meta.Evaluate(b.Algorithm, set, steps, 0)
			secs := time.Since(start).Seconds()
			if asJSON {
				line, _ := json.Marshal(map[string]any{"checkpoint": ckpt, "split": split, "steps": steps, "metric": metricName(s), "result": sum, "seconds": secs, "spec": s})
				fmt.Fprintln(out, string(line))
				return nil
			}
			fmt.Fprintf(out, "%s on %s %s (%s): %s %s after %d steps, %.1fs\n", s.Algorithm, s.Dataset, split, describe(s), metricName(s), sum, steps, secs)
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
	f.IntVar(&shots, "shots", 0, "K at evaluation (protonet, r2d2; default: as trained)")
	f.IntVar(&steps, "eval-steps", 0, "adaptation steps (default: as trained)")
	f.Uint64Var(&seed, "seed", 12345, "seed of the fixed evaluation task set")
	f.BoolVar(&asJSON, "json", false, "print one JSON line")
	return cmd
}

func describe(s meta.Spec) string {
	if s.Dataset == "sinusoid" {
		return fmt.Sprintf("K=%d", s.Shots)
	}
	return fmt.Sprintf("%d-way %d-shot, %s split", s.Ways, s.Shots, s.Split)
}
