package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/mtl"
)

func newMTLCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mtl",
		Short: "Multi-task learning: shared and task-specific parameters",
	}
	cmd.AddCommand(newSchoolCmd(), newMTLTrainCmd(), newMTLEvalCmd(), newMTLToyCmd(), newParkinsonsCmd())
	return cmd
}

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
		more                      mtlTrainMore // --save, --seeds (mtl_more.go)
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
			if more.active() {
				return runMTLTrainMore(cmd, mtlTrainArgs{dataset, dataDir, arch, weightings, tasks, perTask, hidden, steps, lr, seed, asJSON, distributed}, more)
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
			if steps < 1 || !(lr > 0) || hidden < 1 {
				return fmt.Errorf("--steps %d, --lr %v and --hidden %d must be positive", steps, lr, hidden)
			}
			var e *mtl.Experiment
			switch {
			case dataset == "circles":
				if tasks < 1 || perTask < 2 {
					return fmt.Errorf("--tasks = %d and --per-task = %d, want >= 1 and >= 2", tasks, perTask)
				}
				e = mtl.CirclesExperiment(tasks, perTask, seed)
			case isMoreDataset(dataset):
				ex, err := loadMoreExperiment(dataset, dataDir, seed)
				if err != nil {
					return err
				}
				e = ex
			default:
				ex, err := loadExperiment(dataset, dataDir, seed)
				if err != nil {
					return err
				}
				e = ex
			}
			var ws []mtl.Weighting
			for _, n := range strings.Split(weightings, ",") {
				w, err := mtl.ByName(strings.TrimSpace(n), seed)
				if err != nil {
					return fmt.Errorf("--weighting: %w", err)
				}
				ws = append(ws, w)
			}
			cfg := mtl.RunConfig{Arch: arch, Hidden: hidden, Seed: seed, Train: mtl.TrainConfig{Steps: steps, LR: lr, Seed: seed, Comm: comm, RepresentationGrads: repGrads}}
			if !slices.Contains(mtl.Architectures, arch) {
				return fmt.Errorf("--arch %q: want one of %s", arch, strings.Join(mtl.Architectures, ", "))
			}
			start := time.Now()
			stl, err := e.RunSTL(cfg)
			if err != nil {
				return err
			}
			type row struct {
				Weighting string    `json:"weighting"`
				Metrics   []float64 `json:"metrics"`
				DeltaP    float64   `json:"delta_p"`
				DeltaM    float64   `json:"delta_m"`
				Seconds   float64   `json:"seconds"`
			}
			rows := []row{{Weighting: "single-task", Metrics: stl, Seconds: time.Since(start).Seconds()}}
			for _, w := range ws {
				t0 := time.Now()
				c := cfg
				c.Train.Weighting = w
				m, err := e.RunMTL(c)
				if err != nil {
					return fmt.Errorf("%s: %w", w.Name(), err)
				}
				dp, _ := mtl.DeltaP(m, stl, e.HigherIsBetter())
				dm, _ := mtl.DeltaM(m, stl, e.HigherIsBetter())
				rows = append(rows, row{Weighting: w.Name(), Metrics: m, DeltaP: dp, DeltaM: dm, Seconds: time.Since(t0).Seconds()})
			}
			if asJSON {
				for _, r := range rows {
					b, _ := json.Marshal(r)
					fmt.Fprintln(out, string(b))
				}
				return nil
			}
			fmt.Fprintf(out, "%s: %d tasks, arch %s (hidden %d), %d Adam steps, lr %g, seed %d\n", e.Name, len(e.Tasks), arch, hidden, steps, lr, seed)
			fmt.Fprintf(out, "%-12s %10s %9s %9s %8s\n", "weighting", "mean metric", "Delta_p%", "Delta_m%", "time")
			for _, r := range rows {
				mean := 0.0
				for _, v := range r.Metrics {
					mean += v
				}
				mean /= float64(len(r.Metrics))
				fmt.Fprintf(out, "%-12s %10.4f %+9.2f %+9.2f %7.1fs\n", r.Weighting, mean, r.DeltaP, r.DeltaM, r.Seconds)
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
	f.StringVar(&more.save, "save", "", "save every multi-task model as DIR/<weighting>.safetensors (+ .json metadata) and the single-task metrics as DIR/baselines.json, for mtl eval")
	f.IntVar(&more.seeds, "seeds", 1, "repeat for seeds --seed .. --seed+N-1 (data split and initialisation) and report Delta_p as mean ± 95% CI")
	f.BoolVar(&repGrads, "representation-grads", false, "gradient-based weightings use per-task gradients with respect to the shared representation (MGDA-UB with --weighting mgda); hard sharing on single-input data")
	f.BoolVar(&distributed, "distributed", false, "data-parallel training over the ranks of an MPI job (mpirun; needs a build with -tags mpi): every batch's rows are split over the ranks")
	return cmd
}

// loadExperiment resolves dataset names other than circles.
func loadExperiment(name, dataDir string, seed uint64) (*mtl.Experiment, error) {
	if set, ok := strings.CutPrefix(name, "mulan:"); ok {
		if _, known := data.MulanTargets[set]; !known {
			var names []string
			for k := range data.MulanTargets {
				names = append(names, k)
			}
			slices.Sort(names)
			return nil, fmt.Errorf("--dataset %q: unknown Mulan set (want mulan:<%s>)", name, strings.Join(names, "|"))
		}
		mt, err := data.LoadMulan(filepath.Join(dataDir, "mtr-mulan", set+".arff"), 0)
		if err != nil {
			return nil, err
		}
		return mtl.MulanExperiment(mt, set, 0.8, seed)
	}
	return nil, fmt.Errorf("--dataset %q: unknown (want circles or mulan:<set>)", name)
}

func newSchoolCmd() *cobra.Command {
	var (
		dataDir, methods string
		splits, steps    int
		lr               float64
		asJSON           bool
	)
	cmd := &cobra.Command{
		Use:   "school",
		Short: "The School benchmark: 139 schools as tasks, explained variance over random 75/25 splits",
		Long: `The School benchmark (Evgeniou & Pontil 2004): 15,362 students of 139
schools, 28 features, exam score. Each school is a task; every split puts
75% of each school's students in training and 25% in test; the measure is
the explained variance 1 - SSE/SST over all test students, in percent.

Methods: stl (independent least squares per school), stl-ridge, pooled (one
model), additive (shared w0 + school-specific v_t with an L2 penalty on v_t,
Evgeniou & Pontil's regularised MTL), hard (shared ReLU layer, linear head
per school). The data file is <data-dir>/school/school.csv (task,x1..x28,y),
as distributed with the MALSAR toolbox.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			chosen, err := pickMethods(methods, mtl.DefaultSchoolMethods)
			if err != nil {
				return err
			}
			d, err := data.LoadSchool(filepath.Join(dataDir, "school", "school.csv"))
			if err != nil {
				return err
			}
			res, err := mtl.RunSchool(d, chosen, splits, steps, lr)
			if err != nil {
				return err
			}
			if asJSON {
				for _, r := range res {
					b, _ := json.Marshal(r)
					fmt.Fprintln(out, string(b))
				}
				return nil
			}
			fmt.Fprintf(out, "School, %d random 75/25 splits per school, %d full-batch Adam steps (lr %g)\n", splits, steps, lr)
			fmt.Fprintf(out, "%-10s  %s\n", "method", "explained variance % (mean ± sd)   time")
			for _, r := range res {
				fmt.Fprintf(out, "%-10s  %6.2f ± %.2f                      %.1fs\n", r.Method, r.Mean, r.SD, r.Seconds)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", "../shared/data", "folder holding school/school.csv")
	f.StringVar(&methods, "methods", "stl,stl-ridge,pooled,additive,hard", "comma-separated methods")
	f.IntVar(&splits, "splits", 10, "random splits (seeds 1..N)")
	f.IntVar(&steps, "steps", 300, "full-batch Adam steps per model")
	f.Float64Var(&lr, "lr", 0.02, "Adam learning rate")
	f.BoolVar(&asJSON, "json", false, "one JSON line per method")
	return cmd
}

// pickMethods resolves a comma-separated --methods list against the
// methods a benchmark offers.
func pickMethods(list string, all []mtl.SchoolMethod) ([]mtl.SchoolMethod, error) {
	var names []string
	for _, m := range all {
		names = append(names, m.Name)
	}
	var chosen []mtl.SchoolMethod
	for _, n := range strings.Split(list, ",") {
		i := slices.IndexFunc(all, func(m mtl.SchoolMethod) bool { return m.Name == strings.TrimSpace(n) })
		if i < 0 {
			return nil, fmt.Errorf("--methods: unknown method %q (want some of %s)", n, strings.Join(names, ","))
		}
		chosen = append(chosen, all[i])
	}
	return chosen, nil
}
