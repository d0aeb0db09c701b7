package transfer

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/mtl"
	"github.com/metalearn/metalearn/runner"
)

// The commands of `metalearn transfer` (pretrain, finetune, matrix,
// affinity, domain) as settings with names: each Options type is the one
// home of its command's flags (names, defaults, help, checks) and of its
// run (loading, the run, the files written, the report). The CLI binds
// the flags and calls Run; `metalearn train -c` sets them from a
// configuration's transfer.options (RunFolder).

// CommandNames lists the transfer commands in the order the CLI shows them.
var CommandNames = []string{"pretrain", "finetune", "matrix", "affinity", "domain"}

// A Command is one transfer run with its settings as flags.
type Command interface {
	// Bind defines the command's flags, with their defaults, on fs.
	Bind(fs *pflag.FlagSet)
	// Run checks the settings and performs the run, reporting to out.
	Run(out Output) error
}

// NewCommand returns the named command's settings at their defaults
// (after Bind).
func NewCommand(name string) (Command, error) {
	switch name {
	case "pretrain":
		return &PretrainOptions{}, nil
	case "finetune":
		return &FinetuneOptions{}, nil
	case "matrix":
		return &MatrixOptions{}, nil
	case "affinity":
		return &AffinityOptions{}, nil
	case "domain":
		return &DomainOptions{}, nil
	}
	return nil, fmt.Errorf("%q is not a transfer command (want one of %s)", name, strings.Join(CommandNames, ", "))
}

// Output is where a command reports.
type Output struct {
	// W receives the report: log lines, the table, the files written and
	// the time taken (or, with JSON, one JSON line).
	W io.Writer
	// JSON prints the result as one JSON line and nothing else.
	JSON bool
	// Progress, when set (and not JSON), shows the long commands' progress
	// (runner.CommandProgress).
	Progress io.Writer
}

func (o Output) log() func(string) {
	if o.JSON {
		return nil
	}
	return func(s string) { fmt.Fprintln(o.W, s) }
}

func (o Output) progress(label string) *runner.Progress {
	if o.JSON || o.Progress == nil {
		return nil
	}
	return runner.CommandProgress(o.Progress, label, 0)
}

func (o Output) printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	fmt.Fprintln(o.W, string(b))
	return nil
}

// finish prints a report's table (or JSON), the files written and the time.
func (o Output) finish(v any, table string, files []string, start time.Time) error {
	if o.JSON {
		return o.printJSON(v)
	}
	fmt.Fprint(o.W, table)
	for _, f := range files {
		fmt.Fprintf(o.W, "wrote %s\n", f)
	}
	fmt.Fprintf(o.W, "%.1fs\n", time.Since(start).Seconds())
	return nil
}

func parseFloats(flag, text string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(text, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %q is not a number", flag, text, f)
		}
		out = append(out, v)
	}
	return out, nil
}

// parseSplit reads --split: three per-class fractions.
func parseSplit(split, want string) ([]float64, error) {
	fr, err := parseFloats("--split", split)
	if err != nil {
		return nil, err
	}
	if len(fr) != 3 {
		return nil, fmt.Errorf("--split %q: want three fractions %s", split, want)
	}
	return fr, nil
}

// writeOut writes name.json (and the plot files, when plot is set) into dir.
func writeOut(dir, name string, v any, plot func(base string) ([]string, error)) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding %s.json: %w", name, err)
	}
	p := filepath.Join(dir, name+".json")
	if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	files := []string{p}
	if plot != nil {
		fs, err := plot(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	return files, nil
}

func checkTrainFlags(steps int, lr float64, batch int) error {
	if steps < 1 || !(lr > 0) || batch < 0 {
		return fmt.Errorf("--steps %d, --lr %v and --batch %d: want >= 1, > 0, >= 0", steps, lr, batch)
	}
	return nil
}

// PretrainOptions are the settings of `transfer pretrain` (Pretrain).
type PretrainOptions struct {
	Data, Arch, Out, DataDir, Split string
	Steps, Batch, MaxClasses, Size  int
	EvalEvery, Patience             int
	LR                              float64
	Seed                            uint64
}

// Bind defines the pretrain flags.
func (o *PretrainOptions) Bind(f *pflag.FlagSet) {
	f.StringVar(&o.Data, "data", "", "dataset: office:<A|C|D|W>, omniglot:<Alphabet|background|evaluation>")
	f.StringVar(&o.DataDir, "data-dir", "../shared/data", "folder holding omniglot/ and office-caltech10-surf/")
	f.StringVar(&o.Arch, "arch", "auto", "architecture: mlp:H1,H2.. , linear, conv4:F (auto: conv4:32 for images, mlp:128 for features)")
	f.StringVar(&o.Out, "out", "", "source checkpoint to write (safetensors)")
	f.StringVar(&o.Split, "split", "0.8,0.1,0.1", "per-class train,val,test fractions")
	f.IntVar(&o.MaxClasses, "max-classes", 0, "keep only the first N classes (0: all)")
	f.IntVar(&o.Size, "size", 28, "Omniglot image side")
	f.IntVar(&o.Steps, "steps", 1000, "optimisation steps")
	f.IntVar(&o.Batch, "batch", 64, "minibatch size (0: full batch)")
	f.IntVar(&o.EvalEvery, "eval-every", 50, "validate every N steps (best weights kept)")
	f.IntVar(&o.Patience, "patience", 0, "stop after N validations without improvement (0: never)")
	f.Float64Var(&o.LR, "lr", 1e-3, "Adam learning rate")
	f.Uint64Var(&o.Seed, "seed", 1, "random seed")
}

// Run loads the data, pretrains and saves the source model, and reports.
func (o *PretrainOptions) Run(out Output) error {
	w := out.W
	if o.Out == "" {
		return fmt.Errorf("--out is required (the source checkpoint to write)")
	}
	if err := checkTrainFlags(o.Steps, o.LR, o.Batch); err != nil {
		return err
	}
	fr, err := parseSplit(o.Split, "train,val,test")
	if err != nil {
		return err
	}
	l := &Loader{Dir: o.DataDir, Size: o.Size}
	d, err := l.Load(o.Data, o.MaxClasses)
	if err != nil {
		return err
	}
	res, err := Pretrain(PretrainConfig{Data: d, Spec: o.Data, Arch: o.Arch, Split: fr, Out: o.Out,
		Train: Config{Steps: o.Steps, LR: o.LR, BatchSize: o.Batch, EvalEvery: o.EvalEvery, Patience: o.Patience, Seed: o.Seed}})
	if err != nil {
		return err
	}
	if out.JSON { // keys in the order the command always printed (sorted)
		return out.printJSON(map[string]any{"data": res.Data, "arch": res.Arch, "classes": res.Classes, "train_examples": res.TrainExamples,
			"val_accuracy": res.ValAccuracy, "test_accuracy": res.TestAccuracy, "steps": res.Steps, "best_step": res.BestStep, "out": res.Out, "seconds": res.Seconds})
	}
	fmt.Fprintf(w, "source %s: %s, %d classes, %d training examples; %d steps (best %d)\n", o.Data, res.Arch, res.Classes, res.TrainExamples, res.Steps, res.BestStep)
	fmt.Fprintf(w, "validation accuracy %.4f, test accuracy %.4f; wrote %s (%.1fs)\n", res.ValAccuracy, res.TestAccuracy, o.Out, res.Seconds)
	return nil
}

// fineTuneFlags are the fine-tuning settings shared by finetune and matrix.
type fineTuneFlags struct {
	Steps, Batch, EvalEvery, Patience int
	LR                                float64
	Optimizer                         string
}

func (ff *fineTuneFlags) bind(f *pflag.FlagSet, steps int) {
	f.IntVar(&ff.Steps, "steps", steps, "fine-tuning steps (maximum, with early stopping)")
	f.IntVar(&ff.Batch, "batch", 64, "minibatch size (0: full batch)")
	f.IntVar(&ff.EvalEvery, "eval-every", 10, "validate every N steps (best weights kept)")
	f.IntVar(&ff.Patience, "patience", 5, "stop after N validations without improvement (0: never)")
	f.Float64Var(&ff.LR, "lr", 1e-3, "learning rate")
	f.StringVar(&ff.Optimizer, "optimizer", "adam", "adam or sgd (momentum 0.9)")
}

func (ff *fineTuneFlags) config() (Config, error) {
	if err := checkTrainFlags(ff.Steps, ff.LR, ff.Batch); err != nil {
		return Config{}, err
	}
	if ff.Optimizer != "adam" && ff.Optimizer != "sgd" {
		return Config{}, fmt.Errorf("--optimizer %q: want adam or sgd", ff.Optimizer)
	}
	if ff.EvalEvery < 1 || ff.Patience < 0 {
		return Config{}, fmt.Errorf("--eval-every %d and --patience %d: want >= 1 and >= 0", ff.EvalEvery, ff.Patience)
	}
	return Config{Steps: ff.Steps, LR: ff.LR, BatchSize: ff.Batch, EvalEvery: ff.EvalEvery, Patience: ff.Patience, Optimizer: ff.Optimizer}, nil
}

// FinetuneOptions are the settings of `transfer finetune` (Finetune).
type FinetuneOptions struct {
	Source, Target, Strategies, Shots, Split, Head, DataDir, Out string
	Seeds, Size, MaxClasses                                      int
	fineTuneFlags
}

// Bind defines the finetune flags.
func (o *FinetuneOptions) Bind(f *pflag.FlagSet) {
	f.StringVar(&o.Source, "source", "", "source checkpoint written by 'transfer pretrain'")
	f.StringVar(&o.Target, "target", "", "target dataset: office:<A|C|D|W>, omniglot:<Alphabet>")
	f.StringVar(&o.Strategies, "strategies", "full,freeze,probe,discriminative,l2sp", "comma-separated strategies (scratch always runs)")
	f.StringVar(&o.Shots, "shots", "1,5,10,all", "labelled target examples per class")
	f.StringVar(&o.Split, "split", "0.5,0.25,0.25", "per-class pool,val,test fractions of the target (shots come from the pool)")
	f.StringVar(&o.Head, "head", "new", "new: fresh head for the target classes; keep: source head (target labels must be source labels)")
	f.StringVar(&o.DataDir, "data-dir", "../shared/data", "folder holding omniglot/ and office-caltech10-surf/")
	f.StringVar(&o.Out, "out", "", "folder for gain.json, gain.png, gain.svg")
	f.IntVar(&o.Seeds, "seeds", 5, "repetitions (seeds 1..N)")
	f.IntVar(&o.Size, "size", 28, "Omniglot image side")
	f.IntVar(&o.MaxClasses, "max-classes", 0, "keep only the first N target classes (0: all)")
	o.fineTuneFlags.bind(f, 100)
}

// Run loads the target, runs the transfer-gain report and reports.
func (o *FinetuneOptions) Run(out Output) error {
	if o.Source == "" || o.Target == "" {
		return fmt.Errorf("--source and --target are required")
	}
	if o.Seeds < 1 {
		return fmt.Errorf("--seeds %d: want >= 1", o.Seeds)
	}
	if o.Head != "new" && o.Head != "keep" {
		return fmt.Errorf("--head %q: want new or keep", o.Head)
	}
	shotList, err := ParseShots(o.Shots)
	if err != nil {
		return fmt.Errorf("--shots %q: %w", o.Shots, err)
	}
	cfg, err := o.fineTuneFlags.config()
	if err != nil {
		return err
	}
	fr, err := parseSplit(o.Split, "pool,val,test")
	if err != nil {
		return err
	}
	start := time.Now()
	l := &Loader{Dir: o.DataDir, Size: o.Size}
	d, err := l.Load(o.Target, o.MaxClasses)
	if err != nil {
		return err
	}
	g, err := Finetune(FinetuneConfig{Source: o.Source, Target: d, TargetSpec: o.Target, Strategies: o.Strategies, KeepHead: o.Head == "keep",
		Split: fr, Shots: shotList, Seeds: o.Seeds, Train: cfg, Log: out.log()})
	if err != nil {
		return err
	}
	files, err := writeOut(o.Out, "gain", g, g.Plot)
	if err != nil {
		return err
	}
	return out.finish(g, g.Table(), files, start)
}

// MatrixOptions are the settings of `transfer matrix` (RunMatrix).
type MatrixOptions struct {
	Dataset, Tasks, Arch, Strategy, Split, DataDir, Out string
	Shots, Seeds, Size, MaxClasses, PretrainSteps       int
	fineTuneFlags
}

// Bind defines the matrix flags.
func (o *MatrixOptions) Bind(f *pflag.FlagSet) {
	f.StringVar(&o.Dataset, "dataset", "omniglot", "omniglot (tasks = alphabets) or office (tasks = domains A,C,D,W; the head is kept)")
	f.StringVar(&o.Tasks, "tasks", "", "comma-separated alphabets or domains")
	f.StringVar(&o.Arch, "arch", "auto", "architecture (auto: conv4:32 for images, mlp:128 for features)")
	f.StringVar(&o.Strategy, "strategy", "full", "fine-tuning strategy")
	f.StringVar(&o.Split, "split", "0.5,0.25,0.25", "per-class pool,val,test fractions")
	f.StringVar(&o.DataDir, "data-dir", "../shared/data", "folder holding omniglot/ and office-caltech10-surf/")
	f.StringVar(&o.Out, "out", "", "folder for matrix.json, matrix.png, matrix.svg")
	f.IntVar(&o.Shots, "shots", 5, "labelled target examples per class (0: the whole pool)")
	f.IntVar(&o.Seeds, "seeds", 3, "repetitions")
	f.IntVar(&o.Size, "size", 28, "Omniglot image side")
	f.IntVar(&o.MaxClasses, "max-classes", 20, "keep only the first N characters of each alphabet (0: all)")
	f.IntVar(&o.PretrainSteps, "pretrain-steps", 300, "steps to train each source model on its whole pool")
	o.fineTuneFlags.bind(f, 100)
}

// Run runs the pairwise transfer matrix and reports.
func (o *MatrixOptions) Run(out Output) error {
	if o.Dataset != "omniglot" && o.Dataset != "office" {
		return fmt.Errorf("--dataset %q: want omniglot or office", o.Dataset)
	}
	names := strings.Split(o.Tasks, ",")
	if len(names) < 2 {
		return fmt.Errorf("--tasks %q: want at least two comma-separated tasks", o.Tasks)
	}
	if o.Seeds < 1 || o.Shots < 0 || o.PretrainSteps < 1 {
		return fmt.Errorf("--seeds %d, --shots %d, --pretrain-steps %d: want >= 1, >= 0, >= 1", o.Seeds, o.Shots, o.PretrainSteps)
	}
	st, err := ParseStrategy(o.Strategy)
	if err != nil {
		return fmt.Errorf("--strategy: %w", err)
	}
	cfg, err := o.fineTuneFlags.config()
	if err != nil {
		return err
	}
	fr, err := parseSplit(o.Split, "pool,val,test")
	if err != nil {
		return err
	}
	start := time.Now()
	mx, err := RunMatrix(MatrixRunConfig{Loader: &Loader{Dir: o.DataDir, Size: o.Size}, Dataset: o.Dataset, Tasks: names,
		MaxClasses: o.MaxClasses, Split: fr, Arch: o.Arch, Strategy: st, PretrainSteps: o.PretrainSteps, Shots: o.Shots, Seeds: o.Seeds, Train: cfg,
		Log: out.log(), Progress: out.progress("transfer matrix: trainings")})
	if err != nil {
		return err
	}
	files, err := writeOut(o.Out, "matrix", mx, mx.Plot)
	if err != nil {
		return err
	}
	return out.finish(mx, mx.Table(), files, start)
}

// AffinityOptions are the settings of `transfer affinity` (RunAffinity).
type AffinityOptions struct {
	Dataset, Arch, DataDir, Out           string
	Tasks, PerTask, Hidden, Steps, Groups int
	Every, Batch, MaxAll, Random          int
	LR, LookaheadLR                       float64
	Check                                 bool
	Seed                                  uint64
}

// Bind defines the affinity flags.
func (o *AffinityOptions) Bind(f *pflag.FlagSet) {
	f.StringVar(&o.Dataset, "dataset", "circles", "circles, or mulan:<set> (e.g. mulan:atp1d)")
	f.StringVar(&o.DataDir, "data-dir", "../shared/data", "folder holding mtr-mulan/")
	f.StringVar(&o.Arch, "arch", "hard", "architecture: hard, mmoe, cgc, cross-stitch")
	f.StringVar(&o.Out, "out", "", "folder for affinity.json, affinity.png, affinity.svg")
	f.IntVar(&o.Tasks, "tasks", 6, "circles: number of tasks")
	f.IntVar(&o.PerTask, "per-task", 20, "circles: training points per task")
	f.IntVar(&o.Hidden, "hidden", 32, "hidden units")
	f.IntVar(&o.Steps, "steps", 300, "full-batch Adam steps")
	f.Float64Var(&o.LR, "lr", 0.01, "Adam learning rate")
	f.Float64Var(&o.LookaheadLR, "lookahead-lr", 0, "SGD step size of the lookahead (0: --lr)")
	f.IntVar(&o.Every, "every", 1, "lookahead every N steps")
	f.IntVar(&o.Batch, "batch", 0, "rows used by each lookahead (0: all training rows)")
	f.IntVar(&o.Groups, "groups", 2, "number of task groups to recommend")
	f.BoolVar(&o.Check, "check", false, "train the candidate groupings and rank them")
	f.IntVar(&o.MaxAll, "max-all", 64, "--check trains every partition when there are at most this many")
	f.IntVar(&o.Random, "random", 8, "--check: random partitions compared when not all are trained")
	f.Uint64Var(&o.Seed, "seed", 1, "random seed")
}

// Run builds the experiment, measures the affinity, groups the tasks
// (and checks the grouping) and reports.
func (o *AffinityOptions) Run(out Output) error {
	w := out.W
	if o.Steps < 1 || !(o.LR > 0) || o.Hidden < 1 || o.LookaheadLR < 0 || o.Every < 1 || o.Batch < 0 {
		return fmt.Errorf("--steps %d, --lr %v, --hidden %d, --lookahead-lr %v, --every %d, --batch %d: want >= 1, > 0, >= 1, >= 0, >= 1, >= 0", o.Steps, o.LR, o.Hidden, o.LookaheadLR, o.Every, o.Batch)
	}
	if !slices.Contains(mtl.Architectures, o.Arch) {
		return fmt.Errorf("--arch %q: want one of %s", o.Arch, strings.Join(mtl.Architectures, ", "))
	}
	if o.Dataset == "circles" && (o.Tasks < 2 || o.PerTask < 2) {
		return fmt.Errorf("--tasks %d and --per-task %d: want >= 2", o.Tasks, o.PerTask)
	}
	spec := mtl.ExperimentSpec{Dataset: o.Dataset, DataDir: o.DataDir, Tasks: o.Tasks, PerTask: o.PerTask}
	if err := spec.Check(); err != nil {
		return fmt.Errorf("--%w", err)
	}
	e, err := spec.Build(o.Seed)
	if err != nil {
		return err
	}
	if o.Groups < 1 || o.Groups > len(e.Tasks) {
		return fmt.Errorf("--groups %d: want 1..%d (the number of tasks)", o.Groups, len(e.Tasks))
	}
	res, err := RunAffinity(AffinityRunConfig{Experiment: e, Arch: o.Arch, Hidden: o.Hidden, Train: mtl.TrainConfig{Steps: o.Steps, LR: o.LR, Seed: o.Seed},
		Affinity: AffinityConfig{Every: o.Every, LookaheadLR: o.LookaheadLR, Batch: o.Batch}, Groups: o.Groups, Check: o.Check, MaxAll: o.MaxAll, Random: o.Random, Seed: o.Seed})
	if err != nil {
		return err
	}
	aff, gr := res.Affinity, res.Grouping
	files, err := writeOut(o.Out, "affinity", res, aff.Plot)
	if err != nil {
		return err
	}
	if out.JSON {
		return out.printJSON(res)
	}
	fmt.Fprintf(w, "%s: %d tasks, arch %s (hidden %d), %d Adam steps (lr %g)\n", e.Name, len(e.Tasks), o.Arch, o.Hidden, o.Steps, o.LR)
	fmt.Fprint(w, aff.Table())
	fmt.Fprintf(w, "recommended %d groups (score %.4g over %d partitions): %s\n", o.Groups, gr.Best.Score, gr.Partitions, gr.Best)
	fmt.Fprintf(w, "worst: %s (score %.4g)\n", gr.Worst, gr.Worst.Score)
	if res.Check != nil {
		fmt.Fprint(w, res.Check.Table())
	}
	for _, f := range files {
		fmt.Fprintf(w, "wrote %s\n", f)
	}
	fmt.Fprintf(w, "%.1fs\n", res.Seconds)
	return nil
}

// DomainOptions are the settings of `transfer domain` (CrossDomain).
type DomainOptions struct {
	// Domains and Methods are comma-separated lists; CGrid is a
	// comma-separated list of C values > 0 ("" : C alone).
	Domains, Methods, DataDir, Out, CGrid string
	// Config holds the remaining settings (its Methods, CGrid, Log and
	// Progress are set by Run).
	Config DomainConfig
}

// Bind defines the domain flags.
func (o *DomainOptions) Bind(f *pflag.FlagSet) {
	cfg := &o.Config
	f.StringVar(&o.Domains, "domains", "A,C,D,W", "domains (every ordered pair is run)")
	f.StringVar(&o.Methods, "methods", "1nn,source-only,coral,mmd,finetune", "comma-separated: "+strings.Join(DomainMethods, ","))
	f.StringVar(&o.DataDir, "data-dir", "../shared/data", "folder holding office-caltech10-surf/")
	f.StringVar(&o.Out, "out", "", "folder for domain.json, domain.png, domain.svg")
	f.IntVar(&cfg.Rounds, "rounds", 20, "random source samples per pair")
	f.IntVar(&cfg.PerClass, "per-class", 20, "source examples per class")
	f.IntVar(&cfg.PerClassSmall, "per-class-small", 8, "source examples per class when the source is dslr or webcam")
	f.IntVar(&cfg.Steps, "steps", 500, "classifier training steps (full batch)")
	f.Float64Var(&cfg.LR, "lr", 0.01, "Adam learning rate (mmd: lr/10)")
	f.Float64Var(&cfg.C, "C", 1, "inverse L2 regularisation (SVM-style: L2 weight 1/(C n))")
	f.StringVar(&o.CGrid, "C-grid", "", "choose C for every classifier by 2-fold cross-validation on the source over these values (e.g. 0.001,0.01,0.1,1,10,100,1000), as the CORAL authors' evaluation does")
	f.IntVar(&cfg.CVFolds, "cv-folds", 2, "folds of the --C-grid cross-validation for the svm methods")
	f.Float64Var(&cfg.Lambda, "lambda", 1, "CORAL ridge: C = cov + lambda I")
	f.IntVar(&cfg.MMDHidden, "mmd-hidden", 64, "mmd: hidden width")
	f.Float64Var(&cfg.MMDGamma, "mmd-gamma", 1, "mmd: penalty weight")
	f.IntVar(&cfg.MMDBatch, "mmd-batch", 128, "mmd: target examples per step")
	f.IntVar(&cfg.TargetShots, "target-shots", 3, "finetune/target-only: labelled target examples per class")
	f.Uint64Var(&cfg.Seed, "seed", 0, "random seed (rounds use seed*1000 + r)")
}

// Run loads the domains, runs CrossDomain and reports.
func (o *DomainOptions) Run(out Output) error {
	start := time.Now()
	cfg := o.Config
	cfg.Methods, cfg.CGrid = nil, nil
	var names []string
	for _, n := range strings.Split(o.Domains, ",") {
		names = append(names, strings.TrimSpace(n))
	}
	for _, m := range strings.Split(o.Methods, ",") {
		m = strings.TrimSpace(m)
		if !slices.Contains(DomainMethods, m) {
			return fmt.Errorf("--methods: unknown method %q (want some of %s)", m, strings.Join(DomainMethods, ","))
		}
		cfg.Methods = append(cfg.Methods, m)
	}
	if cfg.Rounds < 1 || cfg.PerClass < 1 || cfg.PerClassSmall < 1 || cfg.Steps < 1 || !(cfg.LR > 0) || !(cfg.C > 0) || !(cfg.Lambda > 0) || cfg.TargetShots < 1 {
		return fmt.Errorf("--rounds %d, --per-class %d, --per-class-small %d, --steps %d, --lr %v, --C %v, --lambda %v, --target-shots %d: all must be positive",
			cfg.Rounds, cfg.PerClass, cfg.PerClassSmall, cfg.Steps, cfg.LR, cfg.C, cfg.Lambda, cfg.TargetShots)
	}
	if o.CGrid != "" {
		for _, v := range strings.Split(o.CGrid, ",") {
			c, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || !(c > 0) || math.IsInf(c, 0) {
				return fmt.Errorf("--C-grid: %q is not a number > 0", v)
			}
			cfg.CGrid = append(cfg.CGrid, c)
		}
	}
	ds, err := data.LoadOfficeCaltech(filepath.Join(o.DataDir, "office-caltech10-surf"), names...)
	if err != nil {
		return err
	}
	cfg.Log = out.log()
	cfg.Progress = out.progress("transfer domain: rounds")
	rep, err := CrossDomain(ds, cfg)
	if err != nil {
		return err
	}
	files, err := writeOut(o.Out, "domain", rep, rep.Plot)
	if err != nil {
		return err
	}
	return out.finish(rep, rep.Table(), files, start)
}
