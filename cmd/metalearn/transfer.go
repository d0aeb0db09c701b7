package main

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

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/mtl"
	"github.com/metalearn/metalearn/transfer"
)

func newTransferCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "transfer",
		Short: "Knowledge transfer: fine-tuning strategies, transfer gain, task affinity and grouping, domain adaptation",
		Long: `Knowledge transfer between tasks and domains.

  pretrain   train a source model on a dataset and save it (safetensors + architecture)
  finetune   transfer-gain report: strategies vs scratch over shot counts and seeds
  matrix     pairwise transfer matrix (train on A, fine-tune on B, compare with scratch on B)
  affinity   inter-task affinity (TAG lookahead) during multi-task training, grouping, check
  domain     cross-domain recognition on Office-Caltech10 (source-only, CORAL, MMD, fine-tuning)

Datasets (--data, --target): office:<A|C|D|W> (Office-Caltech10 SURF, CORAL
preprocessing), omniglot:<Alphabet> (one alphabet, e.g. omniglot:Latin),
omniglot:background / omniglot:evaluation (every character of the set), read
from --data-dir (default ../shared/data). --out DIR writes JSON plus PNG/SVG plots.`,
	}
	cmd.AddCommand(newTransferPretrainCmd(), newTransferFinetuneCmd(), newTransferMatrixCmd(), newTransferAffinityCmd(), newTransferDomainCmd())
	return cmd
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

// logUnless returns a progress logger printing to w, or nil when quiet.
func logUnless(quiet bool, w io.Writer) func(string) {
	if quiet {
		return nil
	}
	return func(s string) { fmt.Fprintln(w, s) }
}

func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, string(b))
	return nil
}

func checkTrainFlags(steps int, lr float64, batch int) error {
	if steps < 1 || !(lr > 0) || batch < 0 {
		return fmt.Errorf("--steps %d, --lr %v and --batch %d: want >= 1, > 0, >= 0", steps, lr, batch)
	}
	return nil
}

func newTransferPretrainCmd() *cobra.Command {
	var (
		spec, arch, out, dataDir, split string
		steps, batch, maxClasses, size  int
		evalEvery, patience             int
		lr                              float64
		seed                            uint64
		asJSON                          bool
	)
	cmd := &cobra.Command{
		Use:   "pretrain",
		Short: "Train a source model on a dataset and save it for fine-tuning",
		Example: `  metalearn transfer pretrain --data omniglot:background --max-classes 200 --arch conv4:32 --out src.safetensors
  metalearn transfer pretrain --data office:amazon --arch mlp:128 --out amazon.safetensors`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if out == "" {
				return fmt.Errorf("--out is required (the source checkpoint to write)")
			}
			if err := checkTrainFlags(steps, lr, batch); err != nil {
				return err
			}
			fr, err := parseSplit(split, "train,val,test")
			if err != nil {
				return err
			}
			l := &transfer.Loader{Dir: dataDir, Size: size}
			d, err := l.Load(spec, maxClasses)
			if err != nil {
				return err
			}
			res, err := transfer.Pretrain(transfer.PretrainConfig{Data: d, Spec: spec, Arch: arch, Split: fr, Out: out,
				Train: transfer.Config{Steps: steps, LR: lr, BatchSize: batch, EvalEvery: evalEvery, Patience: patience, Seed: seed}})
			if err != nil {
				return err
			}
			if asJSON { // keys in the order the command always printed (sorted)
				return printJSON(w, map[string]any{"data": res.Data, "arch": res.Arch, "classes": res.Classes, "train_examples": res.TrainExamples,
					"val_accuracy": res.ValAccuracy, "test_accuracy": res.TestAccuracy, "steps": res.Steps, "best_step": res.BestStep, "out": res.Out, "seconds": res.Seconds})
			}
			fmt.Fprintf(w, "source %s: %s, %d classes, %d training examples; %d steps (best %d)\n", spec, res.Arch, res.Classes, res.TrainExamples, res.Steps, res.BestStep)
			fmt.Fprintf(w, "validation accuracy %.4f, test accuracy %.4f; wrote %s (%.1fs)\n", res.ValAccuracy, res.TestAccuracy, out, res.Seconds)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec, "data", "", "dataset: office:<A|C|D|W>, omniglot:<Alphabet|background|evaluation>")
	f.StringVar(&dataDir, "data-dir", "../shared/data", "folder holding omniglot/ and office-caltech10-surf/")
	f.StringVar(&arch, "arch", "auto", "architecture: mlp:H1,H2.. , linear, conv4:F (auto: conv4:32 for images, mlp:128 for features)")
	f.StringVar(&out, "out", "", "source checkpoint to write (safetensors)")
	f.StringVar(&split, "split", "0.8,0.1,0.1", "per-class train,val,test fractions")
	f.IntVar(&maxClasses, "max-classes", 0, "keep only the first N classes (0: all)")
	f.IntVar(&size, "size", 28, "Omniglot image side")
	f.IntVar(&steps, "steps", 1000, "optimisation steps")
	f.IntVar(&batch, "batch", 64, "minibatch size (0: full batch)")
	f.IntVar(&evalEvery, "eval-every", 50, "validate every N steps (best weights kept)")
	f.IntVar(&patience, "patience", 0, "stop after N validations without improvement (0: never)")
	f.Float64Var(&lr, "lr", 1e-3, "Adam learning rate")
	f.Uint64Var(&seed, "seed", 1, "random seed")
	f.BoolVar(&asJSON, "json", false, "print one JSON line")
	return cmd
}

// ftFlags are the fine-tuning flags shared by finetune and matrix.
type ftFlags struct {
	steps, batch, evalEvery, patience int
	lr                                float64
	optimizer                         string
}

func (ff *ftFlags) bind(f interface {
	IntVar(*int, string, int, string)
	Float64Var(*float64, string, float64, string)
	StringVar(*string, string, string, string)
}, steps int) {
	f.IntVar(&ff.steps, "steps", steps, "fine-tuning steps (maximum, with early stopping)")
	f.IntVar(&ff.batch, "batch", 64, "minibatch size (0: full batch)")
	f.IntVar(&ff.evalEvery, "eval-every", 10, "validate every N steps (best weights kept)")
	f.IntVar(&ff.patience, "patience", 5, "stop after N validations without improvement (0: never)")
	f.Float64Var(&ff.lr, "lr", 1e-3, "learning rate")
	f.StringVar(&ff.optimizer, "optimizer", "adam", "adam or sgd (momentum 0.9)")
}

func (ff *ftFlags) config() (transfer.Config, error) {
	if err := checkTrainFlags(ff.steps, ff.lr, ff.batch); err != nil {
		return transfer.Config{}, err
	}
	if ff.optimizer != "adam" && ff.optimizer != "sgd" {
		return transfer.Config{}, fmt.Errorf("--optimizer %q: want adam or sgd", ff.optimizer)
	}
	if ff.evalEvery < 1 || ff.patience < 0 {
		return transfer.Config{}, fmt.Errorf("--eval-every %d and --patience %d: want >= 1 and >= 0", ff.evalEvery, ff.patience)
	}
	return transfer.Config{Steps: ff.steps, LR: ff.lr, BatchSize: ff.batch, EvalEvery: ff.evalEvery, Patience: ff.patience, Optimizer: ff.optimizer}, nil
}

func newTransferFinetuneCmd() *cobra.Command {
	var (
		source, target, strategies, shots, split, head, dataDir, outDir string
		seeds, size, maxClasses                                         int
		ff                                                              ftFlags
		asJSON                                                          bool
	)
	cmd := &cobra.Command{
		Use:   "finetune",
		Short: "Transfer-gain report: fine-tuning strategies vs training from scratch over shot counts and seeds",
		Long: `Fine-tunes a source model (written by 'transfer pretrain') on a target task
with each strategy, and trains the same architecture from scratch, on 1, 5,
10, ... labelled target examples per class, for several seeds; reports mean
test accuracy with 95% confidence intervals and the paired gain over
scratch, and flags negative transfer (worse than scratch beyond the CI).

Strategies: full, freeze:K (first K layers fixed; bare "freeze" = half),
probe (head only), discriminative[:decay] (per-layer learning rates,
default 1/2.6), l2sp[:alpha[:beta]] (L2-SP, default 0.01:0.01). Layers are
the model's top-level children with parameters (conv4: 4 conv + 4
BatchNorm + head = 9; mlp:H = 2).`,
		Example: `  metalearn transfer finetune --source src.safetensors --target omniglot:Angelic --shots 1,5,10,all --seeds 5 --out results/gain`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if source == "" || target == "" {
				return fmt.Errorf("--source and --target are required")
			}
			if seeds < 1 {
				return fmt.Errorf("--seeds %d: want >= 1", seeds)
			}
			if head != "new" && head != "keep" {
				return fmt.Errorf("--head %q: want new or keep", head)
			}
			shotList, err := transfer.ParseShots(shots)
			if err != nil {
				return fmt.Errorf("--shots %q: %w", shots, err)
			}
			cfg, err := ff.config()
			if err != nil {
				return err
			}
			fr, err := parseSplit(split, "pool,val,test")
			if err != nil {
				return err
			}
			start := time.Now()
			l := &transfer.Loader{Dir: dataDir, Size: size}
			d, err := l.Load(target, maxClasses)
			if err != nil {
				return err
			}
			g, err := transfer.Finetune(transfer.FinetuneConfig{Source: source, Target: d, TargetSpec: target, Strategies: strategies, KeepHead: head == "keep",
				Split: fr, Shots: shotList, Seeds: seeds, Train: cfg, Log: logUnless(asJSON, w)})
			if err != nil {
				return err
			}
			files, err := writeOut(outDir, "gain", g, g.Plot)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(w, g)
			}
			fmt.Fprint(w, g.Table())
			for _, f := range files {
				fmt.Fprintf(w, "wrote %s\n", f)
			}
			fmt.Fprintf(w, "%.1fs\n", time.Since(start).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&source, "source", "", "source checkpoint written by 'transfer pretrain'")
	f.StringVar(&target, "target", "", "target dataset: office:<A|C|D|W>, omniglot:<Alphabet>")
	f.StringVar(&strategies, "strategies", "full,freeze,probe,discriminative,l2sp", "comma-separated strategies (scratch always runs)")
	f.StringVar(&shots, "shots", "1,5,10,all", "labelled target examples per class")
	f.StringVar(&split, "split", "0.5,0.25,0.25", "per-class pool,val,test fractions of the target (shots come from the pool)")
	f.StringVar(&head, "head", "new", "new: fresh head for the target classes; keep: source head (target labels must be source labels)")
	f.StringVar(&dataDir, "data-dir", "../shared/data", "folder holding omniglot/ and office-caltech10-surf/")
	f.StringVar(&outDir, "out", "", "folder for gain.json, gain.png, gain.svg")
	f.IntVar(&seeds, "seeds", 5, "repetitions (seeds 1..N)")
	f.IntVar(&size, "size", 28, "Omniglot image side")
	f.IntVar(&maxClasses, "max-classes", 0, "keep only the first N target classes (0: all)")
	ff.bind(f, 100)
	f.BoolVar(&asJSON, "json", false, "print the report as one JSON line")
	return cmd
}

func newTransferMatrixCmd() *cobra.Command {
	var (
		dataset, tasks, arch, strategy, split, dataDir, outDir string
		shots, seeds, size, maxChars, pretrainSteps            int
		ff                                                     ftFlags
		asJSON                                                 bool
	)
	cmd := &cobra.Command{
		Use:   "matrix",
		Short: "Pairwise transfer matrix: train on A, fine-tune on B, compare with scratch on B",
		Example: `  metalearn transfer matrix --dataset omniglot --tasks Latin,Greek,Cyrillic,Korean,Bengali --shots 5 --seeds 3 --out results/alphabets
  metalearn transfer matrix --dataset office --tasks A,C,D,W --shots 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if dataset != "omniglot" && dataset != "office" {
				return fmt.Errorf("--dataset %q: want omniglot or office", dataset)
			}
			names := strings.Split(tasks, ",")
			if len(names) < 2 {
				return fmt.Errorf("--tasks %q: want at least two comma-separated tasks", tasks)
			}
			if seeds < 1 || shots < 0 || pretrainSteps < 1 {
				return fmt.Errorf("--seeds %d, --shots %d, --pretrain-steps %d: want >= 1, >= 0, >= 1", seeds, shots, pretrainSteps)
			}
			st, err := transfer.ParseStrategy(strategy)
			if err != nil {
				return fmt.Errorf("--strategy: %w", err)
			}
			cfg, err := ff.config()
			if err != nil {
				return err
			}
			fr, err := parseSplit(split, "pool,val,test")
			if err != nil {
				return err
			}
			start := time.Now()
			mx, err := transfer.RunMatrix(transfer.MatrixRunConfig{Loader: &transfer.Loader{Dir: dataDir, Size: size}, Dataset: dataset, Tasks: names,
				MaxClasses: maxChars, Split: fr, Arch: arch, Strategy: st, PretrainSteps: pretrainSteps, Shots: shots, Seeds: seeds, Train: cfg,
				Log: logUnless(asJSON, w), Progress: commandProgress(cmd.ErrOrStderr(), asJSON, "transfer matrix: trainings", 0)})
			if err != nil {
				return err
			}
			files, err := writeOut(outDir, "matrix", mx, mx.Plot)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(w, mx)
			}
			fmt.Fprint(w, mx.Table())
			for _, f := range files {
				fmt.Fprintf(w, "wrote %s\n", f)
			}
			fmt.Fprintf(w, "%.1fs\n", time.Since(start).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataset, "dataset", "omniglot", "omniglot (tasks = alphabets) or office (tasks = domains A,C,D,W; the head is kept)")
	f.StringVar(&tasks, "tasks", "", "comma-separated alphabets or domains")
	f.StringVar(&arch, "arch", "auto", "architecture (auto: conv4:32 for images, mlp:128 for features)")
	f.StringVar(&strategy, "strategy", "full", "fine-tuning strategy")
	f.StringVar(&split, "split", "0.5,0.25,0.25", "per-class pool,val,test fractions")
	f.StringVar(&dataDir, "data-dir", "../shared/data", "folder holding omniglot/ and office-caltech10-surf/")
	f.StringVar(&outDir, "out", "", "folder for matrix.json, matrix.png, matrix.svg")
	f.IntVar(&shots, "shots", 5, "labelled target examples per class (0: the whole pool)")
	f.IntVar(&seeds, "seeds", 3, "repetitions")
	f.IntVar(&size, "size", 28, "Omniglot image side")
	f.IntVar(&maxChars, "max-classes", 20, "keep only the first N characters of each alphabet (0: all)")
	f.IntVar(&pretrainSteps, "pretrain-steps", 300, "steps to train each source model on its whole pool")
	ff.bind(f, 100)
	f.BoolVar(&asJSON, "json", false, "print the matrix as one JSON line")
	return cmd
}

func newTransferAffinityCmd() *cobra.Command {
	var (
		dataset, arch, dataDir, outDir        string
		tasks, perTask, hidden, steps, groups int
		every, batch, maxAll, random          int
		lr, lookLR                            float64
		check, asJSON                         bool
		seed                                  uint64
	)
	cmd := &cobra.Command{
		Use:   "affinity",
		Short: "Inter-task affinity (TAG lookahead) during multi-task training, task grouping, and a check by training the groups",
		Long: `Measures the inter-task affinity of Fifty et al. 2021 (TAG): during
multi-task training, after a step on task i's loss alone (shared parameters
only), Z[i->j] = 1 - L_j(after)/L_j(before), averaged over training. Then
recommends the partition of the tasks into --groups groups with the highest
total within-group affinity (exhaustive search), and with --check trains
every candidate grouping (all partitions when there are at most --max-all,
else the recommended, the worst and --random random ones) and ranks them by
Delta_p against training all tasks together.

Datasets: circles (the seed's circle problem as --tasks related tasks),
mulan:<set> (Mulan multi-target regression, one task per target).`,
		Example: `  metalearn transfer affinity --dataset mulan:atp1d --groups 2 --check --out results/affinity`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if steps < 1 || !(lr > 0) || hidden < 1 || lookLR < 0 || every < 1 || batch < 0 {
				return fmt.Errorf("--steps %d, --lr %v, --hidden %d, --lookahead-lr %v, --every %d, --batch %d: want >= 1, > 0, >= 1, >= 0, >= 1, >= 0", steps, lr, hidden, lookLR, every, batch)
			}
			if !slices.Contains(mtl.Architectures, arch) {
				return fmt.Errorf("--arch %q: want one of %s", arch, strings.Join(mtl.Architectures, ", "))
			}
			if dataset == "circles" && (tasks < 2 || perTask < 2) {
				return fmt.Errorf("--tasks %d and --per-task %d: want >= 2", tasks, perTask)
			}
			spec := mtl.ExperimentSpec{Dataset: dataset, DataDir: dataDir, Tasks: tasks, PerTask: perTask}
			if err := spec.Check(); err != nil {
				return fmt.Errorf("--%w", err)
			}
			e, err := spec.Build(seed)
			if err != nil {
				return err
			}
			if groups < 1 || groups > len(e.Tasks) {
				return fmt.Errorf("--groups %d: want 1..%d (the number of tasks)", groups, len(e.Tasks))
			}
			res, err := transfer.RunAffinity(transfer.AffinityRunConfig{Experiment: e, Arch: arch, Hidden: hidden, Train: mtl.TrainConfig{Steps: steps, LR: lr, Seed: seed},
				Affinity: transfer.AffinityConfig{Every: every, LookaheadLR: lookLR, Batch: batch}, Groups: groups, Check: check, MaxAll: maxAll, Random: random, Seed: seed})
			if err != nil {
				return err
			}
			aff, gr := res.Affinity, res.Grouping
			files, err := writeOut(outDir, "affinity", res, aff.Plot)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(w, res)
			}
			fmt.Fprintf(w, "%s: %d tasks, arch %s (hidden %d), %d Adam steps (lr %g)\n", e.Name, len(e.Tasks), arch, hidden, steps, lr)
			fmt.Fprint(w, aff.Table())
			fmt.Fprintf(w, "recommended %d groups (score %.4g over %d partitions): %s\n", groups, gr.Best.Score, gr.Partitions, gr.Best)
			fmt.Fprintf(w, "worst: %s (score %.4g)\n", gr.Worst, gr.Worst.Score)
			if res.Check != nil {
				fmt.Fprint(w, res.Check.Table())
			}
			for _, f := range files {
				fmt.Fprintf(w, "wrote %s\n", f)
			}
			fmt.Fprintf(w, "%.1fs\n", res.Seconds)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataset, "dataset", "circles", "circles, or mulan:<set> (e.g. mulan:atp1d)")
	f.StringVar(&dataDir, "data-dir", "../shared/data", "folder holding mtr-mulan/")
	f.StringVar(&arch, "arch", "hard", "architecture: hard, mmoe, cgc, cross-stitch")
	f.StringVar(&outDir, "out", "", "folder for affinity.json, affinity.png, affinity.svg")
	f.IntVar(&tasks, "tasks", 6, "circles: number of tasks")
	f.IntVar(&perTask, "per-task", 20, "circles: training points per task")
	f.IntVar(&hidden, "hidden", 32, "hidden units")
	f.IntVar(&steps, "steps", 300, "full-batch Adam steps")
	f.Float64Var(&lr, "lr", 0.01, "Adam learning rate")
	f.Float64Var(&lookLR, "lookahead-lr", 0, "SGD step size of the lookahead (0: --lr)")
	f.IntVar(&every, "every", 1, "lookahead every N steps")
	f.IntVar(&batch, "batch", 0, "rows used by each lookahead (0: all training rows)")
	f.IntVar(&groups, "groups", 2, "number of task groups to recommend")
	f.BoolVar(&check, "check", false, "train the candidate groupings and rank them")
	f.IntVar(&maxAll, "max-all", 64, "--check trains every partition when there are at most this many")
	f.IntVar(&random, "random", 8, "--check: random partitions compared when not all are trained")
	f.Uint64Var(&seed, "seed", 1, "random seed")
	f.BoolVar(&asJSON, "json", false, "print one JSON line")
	return cmd
}

func newTransferDomainCmd() *cobra.Command {
	var (
		domains, methods, dataDir, outDir, cgrid string
		cfg                                      transfer.DomainConfig
		asJSON                                   bool
	)
	cmd := &cobra.Command{
		Use:   "domain",
		Short: "Cross-domain recognition on Office-Caltech10 SURF: every source -> target pair, several methods",
		Long: `Unsupervised domain adaptation on Office-Caltech10 (800-bin SURF
histograms; domains A = amazon, C = caltech, D = dslr, W = webcam; 10
classes) with the protocol of Sun et al. 2016 (CORAL): L1-normalised,
per-domain z-scored features; 20 rounds of 20 source examples per class (8
when the source is dslr or webcam); the whole target domain is the test set.
The classifier is multinomial logistic regression with an L2 penalty of
1/(C n) on the mean loss (the scaling of a C-SVM), trained by full-batch Adam.

Methods: 1nn (nearest neighbour, no adaptation), source-only, coral (CORAL
alignment, then the classifier), coral-1nn, svm (one-against-one C-SVC with
a linear kernel, as libsvm), coral-svm (the SVM on CORAL-aligned source
features), coral-kernel (the CORAL authors' evaluation: the SVM on the kernel
x^T A x', A = Cs^(-1/2) Ct^(1/2), training kernel Xs A Xs^T, test Xs A Xt^T;
use --C-grid and every source image: --per-class 100000 --per-class-small
100000 --rounds 5), mmd (one-hidden-layer network
with a multi-kernel Gaussian MMD penalty between source and target hidden
features), coral-mmd, finetune (source-only classifier fine-tuned on
--target-shots labelled target examples per class; tested on the rest of the
target), target-only (the same few target examples alone).`,
		Example: `  metalearn transfer domain --rounds 20 --out results/office`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			start := time.Now()
			var names []string
			for _, n := range strings.Split(domains, ",") {
				names = append(names, strings.TrimSpace(n))
			}
			for _, m := range strings.Split(methods, ",") {
				m = strings.TrimSpace(m)
				if !slices.Contains(transfer.DomainMethods, m) {
					return fmt.Errorf("--methods: unknown method %q (want some of %s)", m, strings.Join(transfer.DomainMethods, ","))
				}
				cfg.Methods = append(cfg.Methods, m)
			}
			if cfg.Rounds < 1 || cfg.PerClass < 1 || cfg.PerClassSmall < 1 || cfg.Steps < 1 || !(cfg.LR > 0) || !(cfg.C > 0) || !(cfg.Lambda > 0) || cfg.TargetShots < 1 {
				return fmt.Errorf("--rounds %d, --per-class %d, --per-class-small %d, --steps %d, --lr %v, --C %v, --lambda %v, --target-shots %d: all must be positive",
					cfg.Rounds, cfg.PerClass, cfg.PerClassSmall, cfg.Steps, cfg.LR, cfg.C, cfg.Lambda, cfg.TargetShots)
			}
			if cgrid != "" {
				for _, v := range strings.Split(cgrid, ",") {
					c, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil || !(c > 0) || math.IsInf(c, 0) {
						return fmt.Errorf("--C-grid: %q is not a number > 0", v)
					}
					cfg.CGrid = append(cfg.CGrid, c)
				}
			}
			ds, err := data.LoadOfficeCaltech(filepath.Join(dataDir, "office-caltech10-surf"), names...)
			if err != nil {
				return err
			}
			if !asJSON {
				cfg.Log = func(s string) { fmt.Fprintln(w, s) }
			}
			cfg.Progress = commandProgress(cmd.ErrOrStderr(), asJSON, "transfer domain: rounds", 0)
			rep, err := transfer.CrossDomain(ds, cfg)
			if err != nil {
				return err
			}
			files, err := writeOut(outDir, "domain", rep, rep.Plot)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(w, rep)
			}
			fmt.Fprint(w, rep.Table())
			for _, f := range files {
				fmt.Fprintf(w, "wrote %s\n", f)
			}
			fmt.Fprintf(w, "%.1fs\n", time.Since(start).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&domains, "domains", "A,C,D,W", "domains (every ordered pair is run)")
	f.StringVar(&methods, "methods", "1nn,source-only,coral,mmd,finetune", "comma-separated: "+strings.Join(transfer.DomainMethods, ","))
	f.StringVar(&dataDir, "data-dir", "../shared/data", "folder holding office-caltech10-surf/")
	f.StringVar(&outDir, "out", "", "folder for domain.json, domain.png, domain.svg")
	f.IntVar(&cfg.Rounds, "rounds", 20, "random source samples per pair")
	f.IntVar(&cfg.PerClass, "per-class", 20, "source examples per class")
	f.IntVar(&cfg.PerClassSmall, "per-class-small", 8, "source examples per class when the source is dslr or webcam")
	f.IntVar(&cfg.Steps, "steps", 500, "classifier training steps (full batch)")
	f.Float64Var(&cfg.LR, "lr", 0.01, "Adam learning rate (mmd: lr/10)")
	f.Float64Var(&cfg.C, "C", 1, "inverse L2 regularisation (SVM-style: L2 weight 1/(C n))")
	f.StringVar(&cgrid, "C-grid", "", "choose C for every classifier by 2-fold cross-validation on the source over these values (e.g. 0.001,0.01,0.1,1,10,100,1000), as the CORAL authors' evaluation does")
	f.IntVar(&cfg.CVFolds, "cv-folds", 2, "folds of the --C-grid cross-validation for the svm methods")
	f.Float64Var(&cfg.Lambda, "lambda", 1, "CORAL ridge: C = cov + lambda I")
	f.IntVar(&cfg.MMDHidden, "mmd-hidden", 64, "mmd: hidden width")
	f.Float64Var(&cfg.MMDGamma, "mmd-gamma", 1, "mmd: penalty weight")
	f.IntVar(&cfg.MMDBatch, "mmd-batch", 128, "mmd: target examples per step")
	f.IntVar(&cfg.TargetShots, "target-shots", 3, "finetune/target-only: labelled target examples per class")
	f.Uint64Var(&cfg.Seed, "seed", 0, "random seed (rounds use seed*1000 + r)")
	f.BoolVar(&asJSON, "json", false, "print the report as one JSON line")
	return cmd
}
