package mtl

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
	"strings"
	"time"

	"github.com/metalearn/metalearn/dist"
	"github.com/metalearn/metalearn/runfolder"
	"github.com/metalearn/metalearn/runner"
)

// SweepConfig is a comparison of weighting strategies against single-task
// baselines (`metalearn mtl train`): for each seed Seed .. Seed+Seeds-1
// the experiment is built (the seed also draws the split), one
// single-task model per task and one multi-task model per weighting are
// trained with the same architecture and budget, and each is tested.
type SweepConfig struct {
	Spec       ExperimentSpec
	Arch       string
	Hidden     int
	Steps      int
	LR         float64
	Seed       uint64
	Weightings []string // ByName names
	// Seeds is the number of seeds (>= 1; 0 means 1).
	Seeds int
	// SaveDir, when set, receives every multi-task model
	// (<weighting>.safetensors with its ModelInfo, and a .json copy of the
	// info) and the single-task metrics (baselines.json), in SaveDir or,
	// with several seeds, SaveDir/seed<N>: what EvaluateSaved reads.
	SaveDir string
	// Comm trains data-parallel over the ranks of an MPI job (one seed,
	// no saving); RepresentationGrads as TrainConfig's.
	Comm                dist.Comm
	RepresentationGrads bool
	// Progress, when set, shows every model's training (its Total is set
	// to Steps): a bar with ETA on a terminal, lines in logs.
	Progress *runner.Progress
}

// SweepRow is one line of a sweep: "single-task" or a weighting, with the
// test metrics of every seed ([seed][task]) and, for weightings, Delta_p
// and Delta_m against the same seed's single-task metrics.
type SweepRow struct {
	Weighting string      `json:"weighting"`
	Seeds     []uint64    `json:"seeds"`
	Metrics   [][]float64 `json:"metrics"`
	DeltaP    []float64   `json:"delta_p"`
	DeltaM    []float64   `json:"delta_m"`
	Seconds   float64     `json:"seconds"`
	Saved     []string    `json:"saved,omitempty"`
}

// MeanMetrics is the per-task mean over seeds.
func (r *SweepRow) MeanMetrics() []float64 {
	if len(r.Metrics) == 0 {
		return nil
	}
	means := make([]float64, len(r.Metrics[0]))
	for _, m := range r.Metrics {
		for t, v := range m {
			means[t] += v / float64(len(r.Metrics))
		}
	}
	return means
}

// SweepResult holds the rows (single-task first, then the weightings in
// the order asked) and the experiment of the last seed.
type SweepResult struct {
	Experiment *Experiment
	Rows       []*SweepRow
}

func (c *SweepConfig) check() error {
	if c.Seeds == 0 {
		c.Seeds = 1
	}
	if c.Seeds < 1 {
		return fmt.Errorf("mtl: sweep over %d seeds, want >= 1", c.Seeds)
	}
	if c.Steps < 1 || !(c.LR > 0) || c.Hidden < 1 {
		return fmt.Errorf("mtl: sweep: steps %d, lr %v and hidden %d must be positive", c.Steps, c.LR, c.Hidden)
	}
	if !slices.Contains(Architectures, c.Arch) {
		return fmt.Errorf("architecture %q: want one of %s", c.Arch, strings.Join(Architectures, ", "))
	}
	if len(c.Weightings) == 0 {
		return errors.New("mtl: sweep without weightings")
	}
	for _, n := range c.Weightings {
		if _, err := ByName(n, c.Seed); err != nil {
			return err
		}
	}
	if c.Comm != nil && (c.SaveDir != "" || c.Seeds > 1) {
		return errors.New("saving models and several seeds do not support distributed training yet")
	}
	return nil
}

// Sweep runs cfg.
func Sweep(cfg SweepConfig) (*SweepResult, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	rows := make([]*SweepRow, len(cfg.Weightings)+1)
	rows[0] = &SweepRow{Weighting: "single-task"}
	for i, n := range cfg.Weightings {
		w, _ := ByName(n, cfg.Seed)
		rows[i+1] = &SweepRow{Weighting: w.Name()}
	}
	var e *Experiment
	for k := 0; k < cfg.Seeds; k++ {
		seed := cfg.Seed + uint64(k)
		var err error
		if e, err = cfg.Spec.Build(seed); err != nil {
			return nil, err
		}
		dir := cfg.SaveDir
		if dir != "" && cfg.Seeds > 1 {
			dir = filepath.Join(dir, fmt.Sprintf("seed%d", seed))
		}
		if dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("saving models: %w", err)
			}
		}
		rc := RunConfig{Arch: cfg.Arch, Hidden: cfg.Hidden, Seed: seed, Train: TrainConfig{Steps: cfg.Steps, LR: cfg.LR, Seed: seed, Comm: cfg.Comm, RepresentationGrads: cfg.RepresentationGrads, Progress: cfg.Progress}}
		if cfg.Progress != nil {
			cfg.Progress.Total = cfg.Steps
		}
		t0 := time.Now()
		stl, err := e.RunSTL(rc)
		if err != nil {
			return nil, err
		}
		r := rows[0]
		r.Seeds, r.Metrics = append(r.Seeds, seed), append(r.Metrics, stl)
		r.Seconds += time.Since(t0).Seconds()
		if dir != "" {
			bl := Baselines{Dataset: cfg.Spec.Dataset, Experiment: e.Name, Arch: cfg.Arch, Hidden: cfg.Hidden, Seed: seed,
				Steps: cfg.Steps, LR: cfg.LR, Tasks: e.TaskNames(), HigherIsBetter: e.HigherIsBetter(), Metrics: stl}
			p := filepath.Join(dir, "baselines.json")
			if err := SaveBaselines(p, bl); err != nil {
				return nil, fmt.Errorf("saving models: %w", err)
			}
			r.Saved = append(r.Saved, p)
		}
		for i, n := range cfg.Weightings {
			w, _ := ByName(n, seed)
			c := rc
			c.Train.Weighting = w
			t0 := time.Now()
			m, res, err := e.TrainMTL(c)
			if err != nil {
				if cfg.Seeds > 1 {
					return nil, fmt.Errorf("%s (seed %d): %w", w.Name(), seed, err)
				}
				return nil, fmt.Errorf("%s: %w", w.Name(), err)
			}
			r := rows[i+1]
			dp, _ := DeltaP(res, stl, e.HigherIsBetter())
			dm, _ := DeltaM(res, stl, e.HigherIsBetter())
			r.Seeds, r.Metrics = append(r.Seeds, seed), append(r.Metrics, res)
			r.DeltaP, r.DeltaM = append(r.DeltaP, dp), append(r.DeltaM, dm)
			r.Seconds += time.Since(t0).Seconds()
			if dir != "" {
				info := ModelInfo{Dataset: cfg.Spec.Dataset, Experiment: e.Name, Arch: cfg.Arch, Hidden: cfg.Hidden, Seed: seed,
					Weighting: w.Name(), Steps: cfg.Steps, LR: cfg.LR, Tasks: e.TaskNames(), Metrics: res}
				if cfg.Spec.Dataset == "circles" {
					info.NumTasks, info.PerTask = cfg.Spec.Tasks, cfg.Spec.PerTask
				}
				p := filepath.Join(dir, w.Name()+".safetensors")
				if err := SaveModelWithInfo(p, m, info); err != nil {
					return nil, fmt.Errorf("saving models: %w", err)
				}
				info.Format = ModelFormat
				if err := writeJSON(filepath.Join(dir, w.Name()+".json"), info); err != nil {
					return nil, fmt.Errorf("saving models: %w", err)
				}
				r.Saved = append(r.Saved, p)
			}
		}
	}
	return &SweepResult{Experiment: e, Rows: rows}, nil
}

// TaskNames lists the tasks' names.
func (e *Experiment) TaskNames() []string {
	names := make([]string, len(e.Tasks))
	for i, t := range e.Tasks {
		names[i] = t.Name
	}
	return names
}

// BaselinesFormat is the "format" of a Baselines file.
const BaselinesFormat = "metalearn-mtl-baselines/1"

// Baselines are the single-task models' test metrics that Delta_p
// compares against, saved by a sweep as baselines.json.
type Baselines struct {
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

// SaveBaselines writes b (with its format set) to path atomically.
func SaveBaselines(path string, b Baselines) error {
	b.Format = BaselinesFormat
	return writeJSON(path, b)
}

// LoadBaselines reads a file written by SaveBaselines.
func LoadBaselines(path string) (Baselines, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Baselines{}, fmt.Errorf("baselines file %s not found (mtl train --save DIR writes DIR/baselines.json; or pass --baselines FILE)", path)
		}
		return Baselines{}, fmt.Errorf("baselines: %w", err)
	}
	return ParseBaselines(raw, path)
}

// ParseBaselines reads the bytes of a baselines file (path names it in
// errors): the format, one finite metric per task and one direction
// (higher_is_better) per task, or none.
func ParseBaselines(raw []byte, path string) (Baselines, error) {
	var b Baselines
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&b); err != nil || b.Format != BaselinesFormat {
		return Baselines{}, fmt.Errorf("%s is not a baselines file written by mtl train --save", path)
	}
	if dec.More() {
		return Baselines{}, fmt.Errorf("%s: data after the baselines object", path)
	}
	switch {
	case len(b.Tasks) == 0:
		return Baselines{}, fmt.Errorf("%s: no tasks", path)
	case len(b.Metrics) != len(b.Tasks):
		return Baselines{}, fmt.Errorf("%s: %d metrics for %d tasks; want one per task", path, len(b.Metrics), len(b.Tasks))
	case len(b.HigherIsBetter) != 0 && len(b.HigherIsBetter) != len(b.Tasks):
		return Baselines{}, fmt.Errorf("%s: %d directions (higher_is_better) for %d tasks; want one per task or none", path, len(b.HigherIsBetter), len(b.Tasks))
	}
	for i, m := range b.Metrics {
		if math.IsNaN(m) || math.IsInf(m, 0) {
			return Baselines{}, fmt.Errorf("%s: metrics[%d] (task %q) = %v, want a finite number", path, i, b.Tasks[i], m)
		}
	}
	return b, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return runfolder.WriteFileAtomic(path, append(b, '\n'))
}

// SavedEval is a saved multi-task model evaluated on its experiment's test
// set against stored single-task baselines.
type SavedEval struct {
	Model         string
	Info          ModelInfo
	BaselinesPath string
	Baselines     Baselines
	Experiment    *Experiment
	Metrics       []float64
	DeltaP        float64
	DeltaM        float64
	// MissingBuffers names the BatchNorm statistics the file did not hold
	// (see LoadModel): the model ran with freshly initialised ones.
	MissingBuffers []string
}

// EvaluateSaved rebuilds the experiment of a model saved by Sweep (dataset
// and seed from its ModelInfo, so the same test split; files under
// dataDir) and its architecture, loads the weights, tests it and compares
// with the baselines in baselinesPath ("" : baselines.json beside the
// model), which must be for the same experiment, seed and tasks.
func EvaluateSaved(model, baselinesPath, dataDir string) (*SavedEval, error) {
	info, err := ReadModelInfo(model)
	if err != nil {
		return nil, err
	}
	if baselinesPath == "" {
		baselinesPath = filepath.Join(filepath.Dir(model), "baselines.json")
	}
	bl, err := LoadBaselines(baselinesPath)
	if err != nil {
		return nil, err
	}
	e, err := ExperimentSpec{Dataset: info.Dataset, DataDir: dataDir, Tasks: info.NumTasks, PerTask: info.PerTask}.Build(info.Seed)
	if err != nil {
		return nil, err
	}
	if bl.Experiment != e.Name || bl.Seed != info.Seed || !slices.Equal(bl.Tasks, e.TaskNames()) {
		return nil, fmt.Errorf("baselines in %s are for %s (seed %d), the model is for %s (seed %d): not the same test set", baselinesPath, bl.Experiment, bl.Seed, e.Name, info.Seed)
	}
	if len(bl.Metrics) != len(e.Tasks) {
		return nil, fmt.Errorf("%s holds %d metrics for %d tasks", baselinesPath, len(bl.Metrics), len(e.Tasks))
	}
	m, err := e.BuildModel(info.Arch, e.Tasks, info.Hidden, rand.New(rand.NewPCG(info.Seed, 99)))
	if err != nil {
		return nil, err
	}
	_, missing, err := LoadModel(model, m)
	if err != nil {
		return nil, fmt.Errorf("%w (arch %s, hidden %d, on %s)", err, info.Arch, info.Hidden, e.Name)
	}
	all := make([]int, len(e.Tasks))
	for i := range all {
		all[i] = i
	}
	res := e.Metrics(m, e.Test, all)
	dp, err := DeltaP(res, bl.Metrics, e.HigherIsBetter())
	if err != nil {
		return nil, err
	}
	dm, _ := DeltaM(res, bl.Metrics, e.HigherIsBetter())
	return &SavedEval{Model: model, Info: info, BaselinesPath: baselinesPath, Baselines: bl, Experiment: e, Metrics: res, DeltaP: dp, DeltaM: dm, MissingBuffers: missing}, nil
}
