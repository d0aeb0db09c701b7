package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/mtl"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/plots"
	"github.com/metalearn/metalearn/tensor"
)

// Datasets added to `mtl train` here: multimnist[:NTRAIN[:NTEST]] and
// parkinsons:motor|total.
const (
	defaultMultiMNISTTrain = 10000
	defaultMultiMNISTTest  = 2000
)

// isMoreDataset reports whether name is one of the datasets of this file.
func isMoreDataset(name string) bool {
	return name == "multimnist" || strings.HasPrefix(name, "multimnist:") ||
		name == "parkinsons" || strings.HasPrefix(name, "parkinsons:")
}

// loadMoreExperiment builds the multimnist and parkinsons experiments.
func loadMoreExperiment(name, dataDir string, seed uint64) (*mtl.Experiment, error) {
	if rest, ok := strings.CutPrefix(name, "multimnist"); ok {
		nTrain, nTest := defaultMultiMNISTTrain, defaultMultiMNISTTest
		if rest != "" {
			parts := strings.Split(strings.TrimPrefix(rest, ":"), ":")
			if len(parts) > 2 {
				return nil, fmt.Errorf("--dataset %q: want multimnist[:NTRAIN[:NTEST]]", name)
			}
			for i, p := range parts {
				v, err := strconv.Atoi(p)
				if err != nil || v < 1 {
					return nil, fmt.Errorf("--dataset %q: %q is not a positive example count (want multimnist[:NTRAIN[:NTEST]])", name, p)
				}
				if i == 0 {
					nTrain = v
				} else {
					nTest = v
				}
			}
		}
		return mtl.MultiMNISTExperiment(filepath.Join(dataDir, "mnist"), nTrain, nTest, seed)
	}
	target, _ := strings.CutPrefix(name, "parkinsons")
	target = strings.TrimPrefix(target, ":")
	if !slices.Contains(mtl.ParkinsonsTargets, target) {
		return nil, fmt.Errorf("--dataset %q: want parkinsons:motor or parkinsons:total (one target, 42 patients as tasks)", name)
	}
	d, err := data.LoadParkinsons(filepath.Join(dataDir, "parkinsons-telemonitoring", "parkinsons_updrs.data"))
	if err != nil {
		return nil, err
	}
	return mtl.ParkinsonsExperiment(d, target, 0.75, seed)
}

// buildTrainExperiment resolves every dataset `mtl train` knows.
func buildTrainExperiment(dataset, dataDir string, tasks, perTask int, seed uint64) (*mtl.Experiment, error) {
	switch {
	case dataset == "circles":
		if tasks < 1 || perTask < 2 {
			return nil, fmt.Errorf("--tasks = %d and --per-task = %d, want >= 1 and >= 2", tasks, perTask)
		}
		return mtl.CirclesExperiment(tasks, perTask, seed), nil
	case isMoreDataset(dataset):
		return loadMoreExperiment(dataset, dataDir, seed)
	}
	return loadExperiment(dataset, dataDir, seed)
}

// mtlTrainMore holds the flags of `mtl train` defined in this file.
type mtlTrainMore struct {
	save  string
	seeds int
}

func (m mtlTrainMore) active() bool { return m.save != "" || m.seeds != 1 }

// mtlTrainArgs are the other flags of `mtl train`.
type mtlTrainArgs struct {
	dataset, dataDir, arch, weightings string
	tasks, perTask, hidden, steps      int
	lr                                 float64
	seed                               uint64
	asJSON, distributed                bool
}

// modelMeta is the metadata saved with a multi-task model (in the
// safetensors header under "metalearn.mtl" and in a .json file beside it).
type modelMeta struct {
	Format     string   `json:"format"`
	Dataset    string   `json:"dataset"`
	Experiment string   `json:"experiment"`
	Arch       string   `json:"arch"`
	Hidden     int      `json:"hidden"`
	Seed       uint64   `json:"seed"`
	Weighting  string   `json:"weighting"`
	Steps      int      `json:"steps"`
	LR         float64  `json:"lr"`
	Tasks      []string `json:"tasks"`
	// circles only
	NumTasks int       `json:"circles_tasks,omitempty"`
	PerTask  int       `json:"circles_per_task,omitempty"`
	Metrics  []float64 `json:"test_metrics"`
}

const modelFormat = "metalearn-mtl/1"

// baselinesFile is DIR/baselines.json: the single-task models' test
// metrics that Delta_p compares against.
type baselinesFile struct {
	Format         string    `json:"format"`
	Dataset        string    `json:"dataset"`
	Experiment     string    `json:"experiment"`
	Arch           string    `json:"arch"`
	Hidden         int       `json:"hidden"`
	Seed           uint64    `json:"seed"`
	Steps          int       `json:"steps"`
	LR             float64   `json:"lr"`
	Tasks          []string  `json:"tasks"`
	HigherIsBetter []bool    `json:"higher_is_better"`
	Metrics        []float64 `json:"metrics"`
}

const baselinesFormat = "metalearn-mtl-baselines/1"

// parseBaselines reads a baselines.json (path names it in errors): the
// format, one finite metric per task and one direction per task (or none).
func parseBaselines(b []byte, path string) (baselinesFile, error) {
	var bl baselinesFile
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&bl); err != nil || bl.Format != baselinesFormat {
		return bl, fmt.Errorf("%s is not a baselines file written by mtl train --save", path)
	}
	if dec.More() {
		return bl, fmt.Errorf("%s: data after the baselines object", path)
	}
	switch {
	case len(bl.Tasks) == 0:
		return bl, fmt.Errorf("%s: no tasks", path)
	case len(bl.Metrics) != len(bl.Tasks):
		return bl, fmt.Errorf("%s: %d metrics for %d tasks; want one per task", path, len(bl.Metrics), len(bl.Tasks))
	case len(bl.HigherIsBetter) != 0 && len(bl.HigherIsBetter) != len(bl.Tasks): // none: all lower is better
		return bl, fmt.Errorf("%s: %d directions (higher_is_better) for %d tasks; want one per task or none", path, len(bl.HigherIsBetter), len(bl.Tasks))
	}
	for i, m := range bl.Metrics {
		if math.IsNaN(m) || math.IsInf(m, 0) {
			return bl, fmt.Errorf("%s: metrics[%d] (task %q) = %v, want a finite number", path, i, bl.Tasks[i], m)
		}
	}
	return bl, nil
}

func taskNames(e *mtl.Experiment) []string {
	names := make([]string, len(e.Tasks))
	for i, t := range e.Tasks {
		names[i] = t.Name
	}
	return names
}

// modelTensors lists a model's parameters (AllParams names) and, for
// models with BatchNorm (MTAN), its buffers.
func modelTensors(m mtl.Model) []checkpoint.Named {
	var out []checkpoint.Named
	for _, p := range mtl.AllParams(m) {
		out = append(out, checkpoint.Named{Name: p.Name, Tensor: p.V.Value})
	}
	if s, ok := m.(nn.Stateful); ok {
		for _, b := range s.Buffers() {
			out = append(out, checkpoint.Named{Name: b.Name, Tensor: b.V.Value})
		}
	}
	return out
}

// loadModelTensors copies ts into m, checking names and shapes.
func loadModelTensors(m mtl.Model, ts map[string]*tensor.Tensor, source, what string) error {
	want := map[string]bool{}
	set := func(name string, v *tensor.Tensor) error {
		want[name] = true
		t, ok := ts[name]
		if !ok {
			return fmt.Errorf("%s does not fit %s: it has no tensor %q", source, what, name)
		}
		if !tensor.SameShape(t.Shape(), v.Shape()) {
			return fmt.Errorf("%s does not fit %s: tensor %q has shape %v, want %v", source, what, name, t.Shape(), v.Shape())
		}
		if t.HasNaNOrInf() {
			return fmt.Errorf("%s: tensor %q holds NaN or infinite values", source, name)
		}
		return nil
	}
	named := modelTensors(m)
	for _, n := range named {
		if err := set(n.Name, n.Tensor); err != nil {
			return err
		}
	}
	for name := range ts {
		if !want[name] {
			return fmt.Errorf("%s does not fit %s: unexpected tensor %q", source, what, name)
		}
	}
	// all checked: copy
	for _, p := range mtl.AllParams(m) {
		p.V.Value = ts[p.Name].AsType(p.V.Value.DType())
	}
	if s, ok := m.(nn.Stateful); ok {
		for _, b := range s.Buffers() {
			b.V.Value = ts[b.Name].AsType(b.V.Value.DType())
		}
	}
	return nil
}

// saveModel writes DIR/<weighting>.safetensors and DIR/<weighting>.json.
func saveModel(dir string, m mtl.Model, meta modelMeta) (string, error) {
	b, err := json.Marshal(meta)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, meta.Weighting+".safetensors")
	if err := checkpoint.WriteFile(path, modelTensors(m), map[string]string{"format": modelFormat, "metalearn.mtl": string(b)}); err != nil {
		return "", err
	}
	return path, writeJSONFile(filepath.Join(dir, meta.Weighting+".json"), meta)
}

// tQuantile975 is the 97.5% quantile of Student's t with df degrees of
// freedom (for 95% confidence intervals of a mean).
func tQuantile975(df int) float64 {
	table := []float64{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
		2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
		2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}
	if df < 1 {
		return math.NaN()
	}
	if df <= len(table) {
		return table[df-1]
	}
	return 1.96
}

// meanCI returns the mean and the half-width of its 95% t interval.
func meanCI(xs []float64) (mean, half float64) {
	for _, v := range xs {
		mean += v
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	ss := 0.0
	for _, v := range xs {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(len(xs)-1))
	return mean, tQuantile975(len(xs)-1) * sd / math.Sqrt(float64(len(xs)))
}

// runMTLTrainMore is `mtl train` with --save and/or --seeds: the same
// single-task baselines and weighting sweep, repeated for seeds seed ..
// seed+N-1 (each seed also draws the data split), saving every model when
// --save is set.
func runMTLTrainMore(cmd *cobra.Command, a mtlTrainArgs, more mtlTrainMore) error {
	out := cmd.OutOrStdout()
	if a.distributed {
		return errors.New("--save and --seeds do not support --distributed yet")
	}
	if more.seeds < 1 {
		return fmt.Errorf("--seeds %d: want >= 1", more.seeds)
	}
	if a.steps < 1 || !(a.lr > 0) || a.hidden < 1 {
		return fmt.Errorf("--steps %d, --lr %v and --hidden %d must be positive", a.steps, a.lr, a.hidden)
	}
	if !slices.Contains(mtl.Architectures, a.arch) {
		return fmt.Errorf("--arch %q: want one of %s", a.arch, strings.Join(mtl.Architectures, ", "))
	}
	names := strings.Split(a.weightings, ",")
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
		if _, err := mtl.ByName(names[i], a.seed); err != nil {
			return fmt.Errorf("--weighting: %w", err)
		}
	}
	type row struct {
		Weighting string      `json:"weighting"`
		Seeds     []uint64    `json:"seeds"`
		Metrics   [][]float64 `json:"metrics"` // [seed][task]
		DeltaP    []float64   `json:"delta_p"`
		DeltaM    []float64   `json:"delta_m"`
		Seconds   float64     `json:"seconds"`
		Saved     []string    `json:"saved,omitempty"`
	}
	rows := make([]*row, len(names)+1)
	rows[0] = &row{Weighting: "single-task"}
	for i, n := range names {
		rows[i+1] = &row{Weighting: n}
	}
	var e *mtl.Experiment
	for k := 0; k < more.seeds; k++ {
		seed := a.seed + uint64(k)
		var err error
		if e, err = buildTrainExperiment(a.dataset, a.dataDir, a.tasks, a.perTask, seed); err != nil {
			return err
		}
		dir := more.save
		if dir != "" && more.seeds > 1 {
			dir = filepath.Join(dir, fmt.Sprintf("seed%d", seed))
		}
		if dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("--save: %w", err)
			}
		}
		cfg := mtl.RunConfig{Arch: a.arch, Hidden: a.hidden, Seed: seed, Train: mtl.TrainConfig{Steps: a.steps, LR: a.lr, Seed: seed}}
		t0 := time.Now()
		stl, err := e.RunSTL(cfg)
		if err != nil {
			return err
		}
		r := rows[0]
		r.Seeds, r.Metrics = append(r.Seeds, seed), append(r.Metrics, stl)
		r.Seconds += time.Since(t0).Seconds()
		if dir != "" {
			bl := baselinesFile{Format: baselinesFormat, Dataset: a.dataset, Experiment: e.Name, Arch: a.arch, Hidden: a.hidden, Seed: seed,
				Steps: a.steps, LR: a.lr, Tasks: taskNames(e), HigherIsBetter: e.HigherIsBetter(), Metrics: stl}
			p := filepath.Join(dir, "baselines.json")
			if err := writeJSONFile(p, bl); err != nil {
				return fmt.Errorf("--save: %w", err)
			}
			r.Saved = append(r.Saved, p)
		}
		for i, n := range names {
			w, _ := mtl.ByName(n, seed)
			c := cfg
			c.Train.Weighting = w
			t0 := time.Now()
			m, res, err := e.TrainMTL(c)
			if err != nil {
				return fmt.Errorf("%s (seed %d): %w", n, seed, err)
			}
			r := rows[i+1]
			dp, _ := mtl.DeltaP(res, stl, e.HigherIsBetter())
			dm, _ := mtl.DeltaM(res, stl, e.HigherIsBetter())
			r.Seeds, r.Metrics = append(r.Seeds, seed), append(r.Metrics, res)
			r.DeltaP, r.DeltaM = append(r.DeltaP, dp), append(r.DeltaM, dm)
			r.Seconds += time.Since(t0).Seconds()
			if dir != "" {
				meta := modelMeta{Format: modelFormat, Dataset: a.dataset, Experiment: e.Name, Arch: a.arch, Hidden: a.hidden, Seed: seed,
					Weighting: w.Name(), Steps: a.steps, LR: a.lr, Tasks: taskNames(e), Metrics: res}
				if a.dataset == "circles" {
					meta.NumTasks, meta.PerTask = a.tasks, a.perTask
				}
				p, err := saveModel(dir, m, meta)
				if err != nil {
					return fmt.Errorf("--save: %w", err)
				}
				r.Saved = append(r.Saved, p)
			}
		}
	}
	if a.asJSON {
		for _, r := range rows {
			b, _ := json.Marshal(r)
			fmt.Fprintln(out, string(b))
		}
		return nil
	}
	T := len(e.Tasks)
	fmt.Fprintf(out, "%s: %d tasks, arch %s (hidden %d), %d Adam steps, lr %g, seeds %d..%d\n", e.Name, T, a.arch, a.hidden, a.steps, a.lr, a.seed, a.seed+uint64(more.seeds)-1)
	perTask := T <= 4
	fmt.Fprintf(out, "%-12s", "weighting")
	if perTask {
		for _, t := range e.Tasks {
			fmt.Fprintf(out, " %10s", t.Name)
		}
	} else {
		fmt.Fprintf(out, " %10s", "mean metric")
	}
	if more.seeds > 1 {
		fmt.Fprintf(out, " %18s %8s\n", "Delta_p% (95% CI)", "time")
	} else {
		fmt.Fprintf(out, " %9s %9s %8s\n", "Delta_p%", "Delta_m%", "time")
	}
	for _, r := range rows {
		fmt.Fprintf(out, "%-12s", r.Weighting)
		// per-task means over seeds
		means := make([]float64, T)
		for _, m := range r.Metrics {
			for t, v := range m {
				means[t] += v / float64(len(r.Metrics))
			}
		}
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
		case r.DeltaP == nil && more.seeds > 1:
			fmt.Fprintf(out, " %18s %7.1fs\n", "", r.Seconds)
		case r.DeltaP == nil:
			fmt.Fprintf(out, " %9s %9s %7.1fs\n", "", "", r.Seconds)
		case more.seeds > 1:
			m, h := meanCI(r.DeltaP)
			fmt.Fprintf(out, " %+9.2f ± %6.2f %7.1fs\n", m, h, r.Seconds)
		default:
			fmt.Fprintf(out, " %+9.2f %+9.2f %7.1fs\n", r.DeltaP[0], r.DeltaM[0], r.Seconds)
		}
	}
	if more.save != "" {
		fmt.Fprintf(out, "saved models and baselines.json in %s\n", more.save)
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
			ts, md, err := checkpoint.ReadFile(model)
			if err != nil {
				return err
			}
			raw, ok := md["metalearn.mtl"]
			if !ok || md["format"] != modelFormat {
				return fmt.Errorf("%s is not a multi-task model saved by mtl train --save (no %s metadata)", model, modelFormat)
			}
			var meta modelMeta
			if err := json.Unmarshal([]byte(raw), &meta); err != nil {
				return fmt.Errorf("%s: bad metadata: %v", model, err)
			}
			if baselines == "" {
				baselines = filepath.Join(filepath.Dir(model), "baselines.json")
			}
			b, err := os.ReadFile(baselines)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("baselines file %s not found (mtl train --save DIR writes DIR/baselines.json; or pass --baselines FILE)", baselines)
				}
				return fmt.Errorf("baselines: %w", err)
			}
			bl, err := parseBaselines(b, baselines)
			if err != nil {
				return err
			}
			e, err := buildTrainExperiment(meta.Dataset, dataDir, meta.NumTasks, meta.PerTask, meta.Seed)
			if err != nil {
				return err
			}
			if bl.Experiment != e.Name || bl.Seed != meta.Seed || !slices.Equal(bl.Tasks, taskNames(e)) {
				return fmt.Errorf("baselines in %s are for %s (seed %d), the model is for %s (seed %d): not the same test set", baselines, bl.Experiment, bl.Seed, e.Name, meta.Seed)
			}
			if len(bl.Metrics) != len(e.Tasks) {
				return fmt.Errorf("%s holds %d metrics for %d tasks", baselines, len(bl.Metrics), len(e.Tasks))
			}
			m, err := e.BuildModel(meta.Arch, e.Tasks, meta.Hidden, rand.New(rand.NewPCG(meta.Seed, 99)))
			if err != nil {
				return err
			}
			what := fmt.Sprintf("arch %s (hidden %d) on %s", meta.Arch, meta.Hidden, e.Name)
			if err := loadModelTensors(m, ts, model, what); err != nil {
				return err
			}
			all := make([]int, len(e.Tasks))
			for i := range all {
				all[i] = i
			}
			res := e.Metrics(m, e.Test, all)
			dp, err := mtl.DeltaP(res, bl.Metrics, e.HigherIsBetter())
			if err != nil {
				return err
			}
			dm, _ := mtl.DeltaM(res, bl.Metrics, e.HigherIsBetter())
			if asJSON {
				j, _ := json.Marshal(map[string]any{"model": model, "weighting": meta.Weighting, "arch": meta.Arch, "experiment": e.Name,
					"tasks": taskNames(e), "metrics": res, "baselines": bl.Metrics, "baseline_arch": bl.Arch, "delta_p": dp, "delta_m": dm})
				fmt.Fprintln(out, string(j))
				return nil
			}
			fmt.Fprintf(out, "%s: %s, weighting %s, seed %d; baselines: single-task %s (hidden %d) from %s\n", e.Name, meta.Arch, meta.Weighting, meta.Seed, bl.Arch, bl.Hidden, baselines)
			fmt.Fprintf(out, "%-14s %10s %10s\n", "task", "model", "single")
			for t, s := range e.Tasks {
				fmt.Fprintf(out, "%-14s %10.4f %10.4f\n", s.Name, res[t], bl.Metrics[t])
			}
			fmt.Fprintf(out, "Delta_p %+.2f%%  Delta_m %+.2f%%\n", dp, dm)
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

func newMTLToyCmd() *cobra.Command {
	var (
		outDir, methods string
		steps           int
		lr, scale, tol  float64
		seed            uint64
		asJSON          bool
	)
	cmd := &cobra.Command{
		Use:   "toy",
		Short: "The two-objective toy problem of CAGrad / Nash-MTL: trajectories of each weighting from 5 starts",
		Long: `Runs every chosen weighting from the five usual starting points
(-8.5,7.5), (-8.5,-5), (0,0), (9,9), (10,-8) on the two-objective problem of
CAGrad (Liu et al. 2021; --scale 0.1 is Nash-MTL's variant with L1 scaled
by 0.1), with Adam, and reports whether each run reached the Pareto front:
its final point lies within --tol (Euclidean, in x) of the Pareto set,
which is known in closed form up to a 1-D root (x1 = 14 lambda - 7, x2 about
-8.36). Also printed: the Pareto-stationarity of the final point
(min over lambda of ||lambda g1 + (1-lambda) g2||). Writes OUT/<method>_x.png|svg
(paths over contours of L1+L2 and the Pareto set), OUT/<method>_loss.png|svg
(paths in loss space with the Pareto front) and OUT/toy.json.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if steps < 1 || !(lr > 0) || !(scale > 0) || !(tol > 0) {
				return fmt.Errorf("--steps %d, --lr %v, --scale %v and --tol %v must be positive", steps, lr, scale, tol)
			}
			var ms []string
			for _, n := range strings.Split(methods, ",") {
				n = strings.ToLower(strings.TrimSpace(n))
				if _, err := mtl.ByName(n, seed); err != nil {
					return fmt.Errorf("--methods: %w", err)
				}
				if !slices.Contains(mtl.ToyMethods, n) {
					return fmt.Errorf("--methods: %s assumes positive losses and does not apply to the toy problem (want some of %s)", n, strings.Join(mtl.ToyMethods, ","))
				}
				ms = append(ms, n)
			}
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			p := mtl.ToyProblem{Scale: scale}
			cfg := mtl.ToyConfig{Steps: steps, LR: lr, Tol: tol, Seed: seed}
			front := p.ParetoSet(401)
			var runs []*mtl.ToyRun
			start := time.Now()
			if !asJSON {
				fmt.Fprintf(out, "toy problem (scale %g), Adam lr %g, %d steps; reached = within %g of the Pareto set\n", scale, lr, steps, tol)
				fmt.Fprintf(out, "%-11s %-12s %-22s %-20s %9s %9s %s\n", "method", "start", "final x", "final (L1, L2)", "dist", "station.", "reached")
			}
			for _, name := range ms {
				var mruns []*mtl.ToyRun
				for _, s := range mtl.ToyStarts {
					r, err := p.RunToy(name, s, cfg)
					if err != nil {
						return err
					}
					mruns = append(mruns, r)
					if !asJSON {
						fmt.Fprintf(out, "%-11s %-12s %-22s %-20s %9.2g %9.2g %v\n", r.Method, fmt.Sprintf("(%g,%g)", s[0], s[1]),
							fmt.Sprintf("(%.3f, %.3f)", r.Final[0], r.Final[1]), fmt.Sprintf("(%.3f, %.3f)", r.FinalLoss[0], r.FinalLoss[1]), r.DistPareto, r.Stationarity, r.Reached)
					}
				}
				if err := plotToy(p, filepath.Join(outDir, name), name, mruns, front); err != nil {
					return err
				}
				runs = append(runs, mruns...)
			}
			doc := map[string]any{"problem": "CAGrad toy (Liu et al. 2021)", "scale": scale, "lr": lr, "steps": steps, "tol": tol,
				"pareto_set": front, "runs": runs, "seconds": time.Since(start).Seconds()}
			if err := writeJSONFile(filepath.Join(outDir, "toy.json"), doc); err != nil {
				return err
			}
			if asJSON {
				for _, r := range runs {
					r2 := *r
					r2.Path = nil
					b, _ := json.Marshal(r2)
					fmt.Fprintln(out, string(b))
				}
				return nil
			}
			fmt.Fprintf(out, "summary (starts that reached the front):\n")
			for _, name := range ms {
				n, total := 0, 0
				for _, r := range runs {
					if r.Method == name {
						total++
						if r.Reached {
							n++
						}
					}
				}
				fmt.Fprintf(out, "  %-11s %d/%d\n", name, n, total)
			}
			fmt.Fprintf(out, "plots and toy.json in %s (%.1fs)\n", outDir, time.Since(start).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&outDir, "out", "runs/mtl-toy", "output folder for plots and toy.json")
	f.StringVar(&methods, "methods", strings.Join(mtl.ToyMethods, ","), "comma-separated weightings")
	f.IntVar(&steps, "steps", 100000, "Adam steps per run")
	f.Float64Var(&lr, "lr", 1e-3, "Adam learning rate")
	f.Float64Var(&scale, "scale", 1, "weight of L1 (1: CAGrad; 0.1: Nash-MTL)")
	f.Float64Var(&tol, "tol", 0.05, "distance to the Pareto set (in x) that counts as reaching the front")
	f.Uint64Var(&seed, "seed", 1, "seed of the randomised weightings (pcgrad, gradvac, rlw)")
	f.BoolVar(&asJSON, "json", false, "one JSON line per run (paths only in toy.json)")
	return cmd
}

// plotToy draws one method's runs in parameter space (over contours of
// L1+L2, with the Pareto set) and in loss space (with the Pareto front).
func plotToy(p mtl.ToyProblem, base, name string, runs []*mtl.ToyRun, front [][2]float64) error {
	grid := plots.Grid{}
	for i := 0; i <= 100; i++ {
		v := -10 + 20*float64(i)/100
		grid.X = append(grid.X, v)
		grid.Y = append(grid.Y, v)
	}
	for _, y := range grid.Y {
		row := make([]float64, len(grid.X))
		for j, x := range grid.X {
			l, _ := p.Eval(x, y)
			row[j] = l[0] + l[1]
		}
		grid.Z = append(grid.Z, row)
	}
	var fx, fy, fl1, fl2 []float64
	for _, q := range front {
		fx, fy = append(fx, q[0]), append(fy, q[1])
		l, _ := p.Eval(q[0], q[1])
		fl1, fl2 = append(fl1, l[0]), append(fl2, l[1])
	}
	var xpaths, lpaths []plots.Series
	for _, r := range runs {
		label := fmt.Sprintf("(%g,%g)", r.Start[0], r.Start[1])
		var xs, ys, l1, l2 []float64
		for _, q := range r.Path {
			xs, ys = append(xs, q[0]), append(ys, q[1])
			l, _ := p.Eval(q[0], q[1])
			l1, l2 = append(l1, l[0]), append(l2, l[1])
		}
		xpaths = append(xpaths, plots.Series{Name: label, X: xs, Y: ys})
		lpaths = append(lpaths, plots.Series{Name: label, X: l1, Y: l2})
	}
	if _, err := (plots.Trajectories{Title: name + ": paths in x (contours of L1+L2)", XLabel: "x1", YLabel: "x2", Contour: &grid,
		Curves: []plots.Series{{Name: "Pareto set", X: fx, Y: fy}}, Paths: xpaths}).Save(base + "_x"); err != nil {
		return err
	}
	_, err := (plots.Trajectories{Title: name + ": paths in loss space", XLabel: "L1", YLabel: "L2",
		Curves: []plots.Series{{Name: "Pareto front", X: fl1, Y: fl2}}, Paths: lpaths}).Save(base + "_loss")
	return err
}

func newParkinsonsCmd() *cobra.Command {
	var (
		dataDir, methods, drop string
		splits, steps          int
		lr, trainFrac          float64
		asJSON                 bool
	)
	cmd := &cobra.Command{
		Use:   "parkinsons",
		Short: "Parkinson's telemonitoring: 42 patients as tasks, test MSE over random per-patient splits",
		Long: `The UCI Parkinson's telemonitoring data (Tsanas et al. 2010): 5,875 voice
recordings of 42 patients, 19 features (age, sex, test_time, 16 voice
measures), targets motor_UPDRS and total_UPDRS. Each patient is a task;
every split puts --train-frac of each patient's recordings in training
(seeds 1..N); features and target are standardised with training
statistics; each target is modelled separately; the measure is the test
MSE in UPDRS points squared over all test recordings, mean ± sd over the
splits. Methods as in 'mtl school': stl (linear model per patient),
stl-ridge, pooled (one linear model), additive (shared w0 + patient v_t,
L2 on v_t), hard (shared ReLU layer, linear head per patient). Data:
<data-dir>/parkinsons-telemonitoring/parkinsons_updrs.data.

The UPDRS scores were measured at three clinical visits and linearly
interpolated in time (Tsanas et al. 2010), so with test_time a per-patient
nonlinear model can fit them almost exactly; --drop test_time leaves the
voice measures (age and sex are constant within a patient).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			chosen, err := pickMethods(methods, mtl.DefaultParkinsonsMethods)
			if err != nil {
				return err
			}
			if !(trainFrac > 0 && trainFrac < 1) {
				return fmt.Errorf("--train-frac %v: want a fraction in (0, 1)", trainFrac)
			}
			d, err := data.LoadParkinsons(filepath.Join(dataDir, "parkinsons-telemonitoring", "parkinsons_updrs.data"))
			if err != nil {
				return err
			}
			if drop != "" {
				if d, err = mtl.WithoutFeatures(d, strings.Split(drop, ",")...); err != nil {
					return fmt.Errorf("--drop: %w", err)
				}
			}
			res, err := mtl.RunParkinsons(d, chosen, trainFrac, splits, steps, lr)
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
			fmt.Fprintf(out, "Parkinson's telemonitoring, 42 patients, %d features, %d random %.0f/%.0f splits per patient, %d full-batch Adam steps (lr %g)\n",
				len(d.Features), splits, 100*trainFrac, 100*(1-trainFrac), steps, lr)
			fmt.Fprintf(out, "%-10s  %-22s  %-22s  %s\n", "method", "motor_UPDRS MSE", "total_UPDRS MSE", "time")
			for _, m := range mtl.DefaultParkinsonsMethods {
				name := m.Name
				var cells []string
				secs := 0.0
				for _, tg := range mtl.ParkinsonsTargets {
					for _, r := range res {
						if r.Method == name && r.Target == tg {
							cells = append(cells, fmt.Sprintf("%7.3f ± %.3f", r.Mean, r.SD))
							secs += r.Seconds
						}
					}
				}
				if len(cells) == 2 {
					fmt.Fprintf(out, "%-10s  %-22s  %-22s  %.1fs\n", name, cells[0], cells[1], secs)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", "../shared/data", "folder holding parkinsons-telemonitoring/")
	f.StringVar(&methods, "methods", "stl,stl-ridge,pooled,additive,hard", "comma-separated methods")
	f.IntVar(&splits, "splits", 10, "random splits (seeds 1..N)")
	f.IntVar(&steps, "steps", 500, "full-batch Adam steps per model")
	f.Float64Var(&lr, "lr", 0.05, "Adam learning rate")
	f.StringVar(&drop, "drop", "", "comma-separated feature columns to leave out (e.g. test_time)")
	f.Float64Var(&trainFrac, "train-frac", 0.75, "fraction of each patient's recordings used for training")
	f.BoolVar(&asJSON, "json", false, "one JSON line per method and target")
	return cmd
}
