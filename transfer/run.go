package transfer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/metalearn/metalearn/mtl"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/runner"
)

// The runs behind `metalearn transfer pretrain|finetune|matrix|affinity`:
// each takes already-parsed settings and returns a report the CLI prints.

// PretrainConfig trains a source model on a dataset for fine-tuning.
type PretrainConfig struct {
	Data Data
	// Spec names the data (saved with the model, e.g. "omniglot:Latin").
	Spec string
	// Arch is an architecture text for AutoArch ("" : auto).
	Arch string
	// Split is the per-class train, validation and test fractions.
	Split []float64
	Train Config
	// Out is the source checkpoint to write (SaveSource).
	Out string
}

// PretrainResult describes a trained and saved source model.
type PretrainResult struct {
	Data          string  `json:"data"`
	Arch          Arch    `json:"arch"`
	Classes       int     `json:"classes"`
	TrainExamples int     `json:"train_examples"`
	ValAccuracy   float64 `json:"val_accuracy"`
	TestAccuracy  float64 `json:"test_accuracy"`
	Steps         int     `json:"steps"`
	BestStep      int     `json:"best_step"`
	Out           string  `json:"out"`
	Seconds       float64 `json:"seconds"`
}

// Pretrain splits cfg.Data per class (seed cfg.Train.Seed), trains the
// architecture from scratch with best-on-validation selection and saves it
// to cfg.Out.
func Pretrain(cfg PretrainConfig) (*PretrainResult, error) {
	start := time.Now()
	if cfg.Out == "" {
		return nil, errors.New("transfer: Pretrain: no output file")
	}
	seed := cfg.Train.Seed
	parts, err := SplitPerClass(cfg.Data, cfg.Split, seed)
	if err != nil {
		return nil, fmt.Errorf("split %v: %w", cfg.Split, err)
	}
	if len(parts) != 3 {
		return nil, fmt.Errorf("split %v: want three fractions train,val,test", cfg.Split)
	}
	a, err := AutoArch(cfg.Arch, cfg.Data)
	if err != nil {
		return nil, err
	}
	m, err := a.Build(rand.New(rand.NewPCG(seed, 0x707265)))
	if err != nil {
		return nil, err
	}
	r, err := FineTune(m, Target{Train: parts[0], Val: parts[1], Test: parts[2]}, Strategy{Kind: Scratch}, cfg.Train)
	if err != nil {
		return nil, err
	}
	if err := SaveSource(cfg.Out, m, a, cfg.Data.ClassNames, cfg.Spec); err != nil {
		return nil, err
	}
	return &PretrainResult{Data: cfg.Spec, Arch: a, Classes: cfg.Data.Classes(), TrainExamples: parts[0].Len(), ValAccuracy: r.ValAcc,
		TestAccuracy: r.TestAcc, Steps: r.Steps, BestStep: r.BestStep, Out: cfg.Out, Seconds: time.Since(start).Seconds()}, nil
}

// FinetuneConfig is a transfer-gain report for a saved source model.
type FinetuneConfig struct {
	// Source is a checkpoint written by SaveSource.
	Source string
	// Target is the target data, TargetSpec its name for messages.
	Target     Data
	TargetSpec string
	// Strategies is a ParseStrategies list (scratch always runs).
	Strategies string
	// KeepHead keeps the source head: the target's labels are mapped onto
	// the source's class names (Relabel) and must all be among them.
	KeepHead bool
	// Split is the per-class pool, validation and test fractions (seed 1);
	// Shots per class come from the pool.
	Split []float64
	Shots []int
	Seeds int
	Train Config
	Log   func(string)
}

// Finetune loads cfg.Source, checks that the target fits it, splits the
// target and runs GainReport.
func Finetune(cfg FinetuneConfig) (*Gain, error) {
	sf, err := LoadSourceFile(cfg.Source)
	if err != nil {
		return nil, err
	}
	probe, err := sf.Arch.Build(rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		return nil, err
	}
	sts, err := ParseStrategies(cfg.Strategies, len(Layers(probe)))
	if err != nil {
		return nil, fmt.Errorf("strategies: %w", err)
	}
	d := cfg.Target
	if got, want := d.X.Shape()[1:], sf.Arch.In; !slices.Equal(got, want) {
		return nil, fmt.Errorf("target %s has inputs of shape %v, but the source model %s takes %v", cfg.TargetSpec, got, cfg.Source, want)
	}
	if cfg.KeepHead {
		if d, err = Relabel(d, sf.ClassNames); err != nil {
			return nil, err
		}
	}
	parts, err := SplitPerClass(d, cfg.Split, 1)
	if err != nil {
		return nil, fmt.Errorf("split %v: %w", cfg.Split, err)
	}
	if len(parts) != 3 {
		return nil, fmt.Errorf("split %v: want three fractions pool,val,test", cfg.Split)
	}
	src := Source{Name: sf.Dataset, Build: sf.Arch.Builder(), Weights: sf.Weights}
	if src.Name == "" {
		src.Name = filepath.Base(cfg.Source)
	}
	return GainReport(src, parts[0], parts[1], parts[2], GainConfig{Shots: cfg.Shots, Seeds: cfg.Seeds, Strategies: sts, Train: cfg.Train, KeepHead: cfg.KeepHead, Log: cfg.Log})
}

// MatrixRunConfig is a pairwise transfer matrix over named datasets of one
// kind (alphabets of Omniglot, domains of Office-Caltech10).
type MatrixRunConfig struct {
	Loader *Loader
	// Dataset is "omniglot" (tasks are alphabets, each with a new head)
	// or "office" (tasks are domains sharing one label space: the head
	// is kept).
	Dataset    string
	Tasks      []string
	MaxClasses int
	// Split is the per-class pool, validation and test fractions (seed 1).
	Split []float64
	// Arch is an architecture text for AutoArch ("" : auto).
	Arch     string
	Strategy Strategy
	// PretrainSteps trains each source model on its whole pool; the other
	// settings are Train's.
	PretrainSteps int
	Shots, Seeds  int
	Train         Config
	Log           func(string)
	// Progress, when set, counts the trainings with rate and ETA.
	Progress *runner.Progress
}

// RunMatrix loads and splits every task, builds the architecture and runs
// TransferMatrix.
func RunMatrix(cfg MatrixRunConfig) (*Matrix, error) {
	if cfg.Dataset != "omniglot" && cfg.Dataset != "office" {
		return nil, fmt.Errorf("dataset %q: want omniglot or office", cfg.Dataset)
	}
	if len(cfg.Tasks) < 2 {
		return nil, fmt.Errorf("tasks %q: want at least two", strings.Join(cfg.Tasks, ","))
	}
	var mts []MatrixTask
	var in []int
	for _, n := range cfg.Tasks {
		d, err := cfg.Loader.Load(cfg.Dataset+":"+strings.TrimSpace(n), cfg.MaxClasses)
		if err != nil {
			return nil, err
		}
		if in != nil && !slices.Equal(in, d.X.Shape()[1:]) {
			return nil, fmt.Errorf("tasks: %s has inputs %v, %s has %v; tasks must share an input space", n, d.X.Shape()[1:], cfg.Tasks[0], in)
		}
		in = d.X.Shape()[1:]
		parts, err := SplitPerClass(d, cfg.Split, 1)
		if err != nil {
			return nil, fmt.Errorf("split %v: %w", cfg.Split, err)
		}
		if len(parts) != 3 {
			return nil, fmt.Errorf("split %v: want three fractions pool,val,test", cfg.Split)
		}
		mts = append(mts, MatrixTask{Name: d.Name, Pool: parts[0], Val: parts[1], Test: parts[2]})
	}
	a, err := AutoArch(cfg.Arch, mts[0].Pool)
	if err != nil {
		return nil, err
	}
	probe, err := a.Build(rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		probe = nn.NewSequential()
	}
	if err := cfg.Strategy.Validate(len(Layers(probe))); err != nil {
		return nil, fmt.Errorf("strategy: %w", err)
	}
	pre := cfg.Train
	pre.Steps = cfg.PretrainSteps
	return TransferMatrix(mts, MatrixConfig{
		Build: func(rng *rand.Rand, classes int) (*nn.Sequential, error) {
			b := a
			b.Classes = classes
			return b.Build(rng)
		},
		Pretrain: pre, Shots: cfg.Shots, Seeds: cfg.Seeds, Strategy: cfg.Strategy, Train: cfg.Train, KeepHead: cfg.Dataset == "office", Log: cfg.Log,
		Progress: cfg.Progress,
	})
}

// AffinityRunConfig measures task affinity on a multi-task experiment,
// recommends a grouping and optionally checks it.
type AffinityRunConfig struct {
	Experiment *mtl.Experiment
	Arch       string
	Hidden     int
	Train      mtl.TrainConfig
	Affinity   AffinityConfig // its Train is set from Train
	Groups     int
	// Check trains the candidate groupings (CheckGroupings with MaxAll
	// and Random).
	Check          bool
	MaxAll, Random int
	Seed           uint64
}

// AffinityReport is what RunAffinity found.
type AffinityReport struct {
	Dataset  string       `json:"dataset"`
	Affinity *Affinity    `json:"affinity"`
	Grouping *GroupResult `json:"grouping"`
	Check    *CheckResult `json:"check,omitempty"`
	Seconds  float64      `json:"seconds"`
}

// RunAffinity builds the model (BuildModel, random stream (Seed, 99)),
// measures TaskAffinity during its training, groups the tasks and, with
// Check, trains the candidate groupings.
func RunAffinity(cfg AffinityRunConfig) (*AffinityReport, error) {
	start := time.Now()
	e := cfg.Experiment
	if cfg.Groups < 1 || cfg.Groups > len(e.Tasks) {
		return nil, fmt.Errorf("groups %d: want 1..%d (the number of tasks)", cfg.Groups, len(e.Tasks))
	}
	m, err := e.BuildModel(cfg.Arch, e.Tasks, cfg.Hidden, rand.New(rand.NewPCG(cfg.Seed, 99)))
	if err != nil {
		return nil, err
	}
	ac := cfg.Affinity
	ac.Train = cfg.Train
	aff, err := TaskAffinity(m, e.Tasks, e.Train, ac)
	if err != nil {
		return nil, err
	}
	gr, err := GroupTasks(aff.Z, aff.Tasks, cfg.Groups)
	if err != nil {
		return nil, err
	}
	res := &AffinityReport{Dataset: e.Name, Affinity: aff, Grouping: gr}
	if cfg.Check {
		res.Check, err = CheckGroupings(e, aff.Z, cfg.Groups, mtl.RunConfig{Arch: cfg.Arch, Hidden: cfg.Hidden, Seed: cfg.Seed, Train: cfg.Train}, cfg.MaxAll, cfg.Random, cfg.Seed)
		if err != nil {
			return nil, err
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}
