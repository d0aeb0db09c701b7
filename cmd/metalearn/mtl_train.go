package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/mtl"
	"github.com/metalearn/metalearn/stats"
)

func newMTLTrainCmd() *cobra.Command {
	var (
		dataset, arch, weightings string
		tasks, perTask, hidden    int
		steps                     int
		lr                        float64
		seed                      uint64
		asJSON, distributed       bool
		repGrads                  bool
		dataDir                   string
		save                      string
		seeds                     int
	)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train single-task baselines and multi-task models; compare weightings by Delta_p",
		Long: `Trains one single-task model per task (the Delta_p baselines, same
architecture and budget) and one multi-task model per weighting strategy,
then prints per-task test metrics and Delta_p (LibMTL convention: positive =
better than single-task) and Delta_m (Nash-MTL convention: positive = worse).
Several comma-separated --weighting values make a sweep with one table.

Datasets: circles (the seed's circle problem as --tasks related tasks with
--per-task training points each; built in), and mulan:<set> (Mulan
multi-target regression, <data-dir>/mtr-mulan/<set>.arff, one task per
target, random 80/20 split, metric RRMSE = test RMSE / training sd, lower is
better).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if seeds < 1 {
				return fmt.Errorf("--seeds %d: want >= 1", seeds)
			}
			if steps < 1 || !(lr > 0) || hidden < 1 {
				return fmt.Errorf("--steps %d, --lr %v and --hidden %d must be positive", steps, lr, hidden)
			}
			if distributed && (save != "" || seeds != 1) {
				return errors.New("--save and --seeds do not support --distributed yet")
			}
			comm, err := openComm(distributed, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer func() { err = finishDistributed(comm, cmd.ErrOrStderr(), err) }()
			out := cmd.OutOrStdout()
			if comm != nil && comm.Rank() != 0 {
				out = io.Discard // only rank 0 prints
			}
			var names []string
			for _, n := range strings.Split(weightings, ",") {
				n = strings.TrimSpace(n)
				if _, err := mtl.ByName(n, seed); err != nil {
					return fmt.Errorf("--weighting: %w", err)
				}
				names = append(names, n)
			}
			if !slices.Contains(mtl.Architectures, arch) {
				return fmt.Errorf("--arch %q: want one of %s", arch, strings.Join(mtl.Architectures, ", "))
			}
			spec := mtl.ExperimentSpec{Dataset: dataset, DataDir: dataDir, Tasks: tasks, PerTask: perTask}
			if err := spec.Check(); err != nil {
				return fmt.Errorf("--%w", err)
			}
			res, err := mtl.Sweep(mtl.SweepConfig{Spec: spec,
				Arch: arch, Hidden: hidden, Steps: steps, LR: lr, Seed: seed, Weightings: names, Seeds: seeds, SaveDir: save,
				Comm: comm, RepresentationGrads: repGrads, Progress: commandProgress(cmd.ErrOrStderr(), asJSON, "mtl train: steps of this model", steps)})
			if err != nil {
				return err
			}
			if save != "" || seeds != 1 {
				return printSweep(out, res, save, seed, seeds, arch, hidden, steps, lr, asJSON)
			}
			e := res.Experiment
			if asJSON {
				for _, r := range res.Rows {
					row := struct {
						Weighting string    `json:"weighting"`
						Metrics   []float64 `json:"metrics"`
						DeltaP    float64   `json:"delta_p"`
						DeltaM    float64   `json:"delta_m"`
						Seconds   float64   `json:"seconds"`
					}{Weighting: r.Weighting, Metrics: r.Metrics[0], Seconds: r.Seconds}
					if r.DeltaP != nil {
						row.DeltaP, row.DeltaM = r.DeltaP[0], r.DeltaM[0]
					}
					b, _ := json.Marshal(row)
					fmt.Fprintln(out, string(b))
				}
				return nil
			}
			fmt.Fprintf(out, "%s: %d tasks, arch %s (hidden %d), %d Adam steps, lr %g, seed %d\n", e.Name, len(e.Tasks), arch, hidden, steps, lr, seed)
			fmt.Fprintf(out, "%-12s %10s %9s %9s %8s\n", "weighting", "mean metric", "Delta_p%", "Delta_m%", "time")
			for _, r := range res.Rows {
				dp, dm := 0.0, 0.0
				if r.DeltaP != nil {
					dp, dm = r.DeltaP[0], r.DeltaM[0]
				}
				fmt.Fprintf(out, "%-12s %10.4f %+9.2f %+9.2f %7.1fs\n", r.Weighting, stats.Mean(r.Metrics[0]), dp, dm, r.Seconds)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataset, "dataset", "circles", "circles, mulan:<name> (e.g. mulan:enb), multimnist[:NTRAIN[:NTEST]] (default 10000:2000; arch hard = LeNet, mtan) or parkinsons:motor|total")
	f.StringVar(&dataDir, "data-dir", "../shared/data", "folder holding mtr-mulan/")
	f.StringVar(&arch, "arch", "hard", "architecture: hard, mmoe, cgc, cross-stitch")
	f.StringVar(&weightings, "weighting", "ew", "comma-separated weighting strategies: "+strings.Join(mtl.WeightingNames, ","))
	f.IntVar(&tasks, "tasks", 10, "circles: number of tasks")
	f.IntVar(&perTask, "per-task", 20, "circles: training points per task")
	f.IntVar(&hidden, "hidden", 32, "hidden units")
	f.IntVar(&steps, "steps", 500, "full-batch Adam steps")
	f.Float64Var(&lr, "lr", 0.01, "Adam learning rate")
	f.Uint64Var(&seed, "seed", 1, "random seed")
	f.BoolVar(&asJSON, "json", false, "one JSON line per row")
	f.StringVar(&save, "save", "", "save every multi-task model as DIR/<weighting>.safetensors (+ .json metadata) and the single-task metrics as DIR/baselines.json, for mtl eval")
	f.IntVar(&seeds, "seeds", 1, "repeat for seeds --seed .. --seed+N-1 (data split and initialisation) and report Delta_p as mean ± 95% CI")
	f.BoolVar(&repGrads, "representation-grads", false, "gradient-based weightings use per-task gradients with respect to the shared representation (MGDA-UB with --weighting mgda); hard sharing on single-input data")
	f.BoolVar(&distributed, "distributed", false, "data-parallel training over the ranks of an MPI job (mpirun; needs a build with -tags mpi): every batch's rows are split over the ranks")
	return cmd
}

// printSweep prints a sweep over seeds and/or with saved models: per-task
// test metrics (mean over seeds) and Delta_p with its 95% t interval.
func printSweep(out io.Writer, res *mtl.SweepResult, save string, seed uint64, seeds int, arch string, hidden, steps int, lr float64, asJSON bool) error {
	e := res.Experiment
	if asJSON {
		for _, r := range res.Rows {
			b, _ := json.Marshal(r)
			fmt.Fprintln(out, string(b))
		}
		return nil
	}
	T := len(e.Tasks)
	fmt.Fprintf(out, "%s: %d tasks, arch %s (hidden %d), %d Adam steps, lr %g, seeds %d..%d\n", e.Name, T, arch, hidden, steps, lr, seed, seed+uint64(seeds)-1)
	perTask := T <= 4
	fmt.Fprintf(out, "%-12s", "weighting")
	if perTask {
		for _, t := range e.Tasks {
			fmt.Fprintf(out, " %10s", t.Name)
		}
	} else {
		fmt.Fprintf(out, " %10s", "mean metric")
	}
	if seeds > 1 {
		fmt.Fprintf(out, " %18s %8s\n", "Delta_p% (95% CI)", "time")
	} else {
		fmt.Fprintf(out, " %9s %9s %8s\n", "Delta_p%", "Delta_m%", "time")
	}
	for _, r := range res.Rows {
		fmt.Fprintf(out, "%-12s", r.Weighting)
		means := r.MeanMetrics() // per task, over seeds
		if perTask {
			for _, v := range means {
				fmt.Fprintf(out, " %10.4f", v)
			}
		} else {
			s := 0.0
			for _, v := range means {
				s += v
			}
			fmt.Fprintf(out, " %10.4f", s/float64(T))
		}
		switch {
		case r.DeltaP == nil && seeds > 1:
			fmt.Fprintf(out, " %18s %7.1fs\n", "", r.Seconds)
		case r.DeltaP == nil:
			fmt.Fprintf(out, " %9s %9s %7.1fs\n", "", "", r.Seconds)
		case seeds > 1:
			m, _, h := stats.MeanCI95(r.DeltaP)
			fmt.Fprintf(out, " %+9.2f ± %6.2f %7.1fs\n", m, h, r.Seconds)
		default:
			fmt.Fprintf(out, " %+9.2f %+9.2f %7.1fs\n", r.DeltaP[0], r.DeltaM[0], r.Seconds)
		}
	}
	if save != "" {
		fmt.Fprintf(out, "saved models and baselines.json in %s\n", save)
	}
	return nil
}

func newMTLEvalCmd() *cobra.Command {
	var (
		model, baselines, dataDir string
		asJSON                    bool
	)
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate a saved multi-task model against stored single-task baselines (Delta_p)",
		Long: `Rebuilds the experiment (dataset and seed from the model's metadata, so
the same test split) and the architecture, loads the weights saved by
'mtl train --save DIR' (DIR/<weighting>.safetensors), prints every task's
test metric and Delta_p / Delta_m against the single-task baselines stored
in DIR/baselines.json (or --baselines FILE, e.g. the baselines of a run with
another architecture on the same data and seed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if model == "" {
				return errors.New("--model FILE is required (a .safetensors file written by mtl train --save)")
			}
			r, err := mtl.EvaluateSaved(model, baselines, dataDir)
			if err != nil {
				return err
			}
			if len(r.MissingBuffers) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s holds no BatchNorm statistics (%d buffers, written before they were saved): evaluated with freshly initialised ones\n", model, len(r.MissingBuffers))
			}
			e, meta, bl := r.Experiment, r.Info, r.Baselines
			if asJSON {
				j, _ := json.Marshal(map[string]any{"model": model, "weighting": meta.Weighting, "arch": meta.Arch, "experiment": e.Name,
					"tasks": e.TaskNames(), "metrics": r.Metrics, "baselines": bl.Metrics, "baseline_arch": bl.Arch, "delta_p": r.DeltaP, "delta_m": r.DeltaM})
				fmt.Fprintln(out, string(j))
				return nil
			}
			fmt.Fprintf(out, "%s: %s, weighting %s, seed %d; baselines: single-task %s (hidden %d) from %s\n", e.Name, meta.Arch, meta.Weighting, meta.Seed, bl.Arch, bl.Hidden, r.BaselinesPath)
			fmt.Fprintf(out, "%-14s %10s %10s\n", "task", "model", "single")
			for t, s := range e.Tasks {
				fmt.Fprintf(out, "%-14s %10.4f %10.4f\n", s.Name, r.Metrics[t], bl.Metrics[t])
			}
			fmt.Fprintf(out, "Delta_p %+.2f%%  Delta_m %+.2f%%\n", r.DeltaP, r.DeltaM)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "model file DIR/<weighting>.safetensors written by mtl train --save DIR")
	f.StringVar(&baselines, "baselines", "", "single-task baselines (default: baselines.json beside the model)")
	f.StringVar(&dataDir, "data-dir", "../shared/data", "data folder (mnist/, parkinsons-telemonitoring/, mtr-mulan/)")
	f.BoolVar(&asJSON, "json", false, "one JSON line")
	return cmd
}
