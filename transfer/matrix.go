package transfer

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/plots"
	"github.com/metalearn/metalearn/runner"
	"github.com/metalearn/metalearn/stats"
)

// MatrixTask is one task of a pairwise transfer matrix: a training pool
// (all of it trains the task's source model; Shots per class of it train
// the target models), a validation split and a test split.
type MatrixTask struct {
	Name            string
	Pool, Val, Test Data
}

// MatrixConfig configures TransferMatrix.
type MatrixConfig struct {
	// Build makes a fresh model with the given number of outputs; every
	// task uses the same architecture.
	Build func(rng *rand.Rand, classes int) (*nn.Sequential, error)
	// Pretrain trains each source model on its task's whole pool.
	Pretrain Config
	// Shots labelled target examples per class (0 = all), Seeds repetitions.
	Shots, Seeds int
	// Strategy is the fine-tuning strategy (default Full).
	Strategy Strategy
	// Train configures fine-tuning and the scratch baseline.
	Train Config
	// KeepHead keeps the source head (tasks share one label space, e.g.
	// domains); otherwise each target gets a fresh head.
	KeepHead bool
	Log      func(string)
	// Progress, when set, counts the trainings (sources, then per target
	// and seed the scratch baseline and one fine-tuning per source) with
	// rate and ETA.
	Progress *runner.Progress
}

// Matrix is a pairwise transfer matrix: entry [a][b] is the test accuracy
// on task b after training on task a and fine-tuning on b's few examples,
// compared with training on b's few examples from scratch (same seeds).
type Matrix struct {
	Tasks    []string `json:"tasks"`
	Strategy string   `json:"strategy"`
	Shots    int      `json:"shots"`
	Seeds    int      `json:"seeds"`
	// SourceAcc[a]: test accuracy of task a's source model on task a.
	SourceAcc []float64 `json:"source_accuracy"`
	// Scratch[b] and ScratchCI95[b]: training from scratch on b.
	Scratch     []float64 `json:"scratch"`
	ScratchCI95 []float64 `json:"scratch_ci95"`
	// Acc[a][b]: mean test accuracy on b when transferring from a.
	Acc [][]float64 `json:"accuracy"`
	// Gain[a][b] = Acc[a][b] - Scratch[b] (paired over seeds), GainCI95 its
	// 95% half-width. The diagonal (a = b) is self-transfer, a reference.
	Gain     [][]float64 `json:"gain"`
	GainCI95 [][]float64 `json:"gain_ci95"`
	// Negative lists "a->b" pairs (a != b) whose gain is below zero beyond the CI.
	Negative []string `json:"negative_transfer"`
}

// TransferMatrix trains one source model per task and fine-tunes each on
// every task (Taskonomy-style pairwise transfer; Zamir et al. 2018 use the
// same "train on A, fine-tune on B, compare" protocol).
func TransferMatrix(tasks []MatrixTask, cfg MatrixConfig) (*Matrix, error) {
	if len(tasks) < 2 {
		return nil, fmt.Errorf("transfer: a transfer matrix needs >= 2 tasks, got %d", len(tasks))
	}
	if cfg.Build == nil {
		return nil, fmt.Errorf("transfer: MatrixConfig.Build is nil")
	}
	if cfg.Seeds < 1 || cfg.Shots < 0 {
		return nil, fmt.Errorf("transfer: seeds = %d and shots = %d, want >= 1 and >= 0", cfg.Seeds, cfg.Shots)
	}
	if cfg.Strategy.Kind == "" {
		cfg.Strategy = Strategy{Kind: Full}
	}
	if cfg.Strategy.Kind == Scratch {
		return nil, fmt.Errorf("transfer: the matrix strategy must use the source (not scratch)")
	}
	for _, t := range tasks {
		if err := t.Pool.Validate(t.Name + " pool"); err != nil {
			return nil, err
		}
		if t.Test.Empty() {
			return nil, fmt.Errorf("transfer: task %s has no test examples", t.Name)
		}
		if cfg.KeepHead && t.Pool.Classes() != tasks[0].Pool.Classes() {
			return nil, fmt.Errorf("transfer: keeping the head needs one label space, but %s has %d classes and %s %d", t.Name, t.Pool.Classes(), tasks[0].Name, tasks[0].Pool.Classes())
		}
	}
	n := len(tasks)
	mx := &Matrix{Strategy: cfg.Strategy.Name(), Shots: cfg.Shots, Seeds: cfg.Seeds,
		SourceAcc: make([]float64, n), Scratch: make([]float64, n), ScratchCI95: make([]float64, n)}
	for _, t := range tasks {
		mx.Tasks = append(mx.Tasks, t.Name)
	}
	log, tick := cfg.Log, func() {}
	if p := cfg.Progress; p != nil {
		p.Total = n + n*cfg.Seeds*(n+1)
		if p.Label == "" {
			p.Label = "trainings"
		}
		p.Start(0)
		done := 0
		tick = func() { done++; p.Update(done) }
		if log != nil {
			log = func(s string) { p.Clear(); cfg.Log(s) }
		}
	}
	// 1. Source models.
	sources := make([]Source, n)
	for a, t := range tasks {
		rng := rand.New(rand.NewPCG(0x5eed, uint64(a)))
		m, err := cfg.Build(rng, t.Pool.Classes())
		if err != nil {
			return nil, err
		}
		pc := cfg.Pretrain
		pc.Seed = uint64(a) + 1
		r, err := FineTune(m, Target{Train: t.Pool, Val: t.Val, Test: t.Test}, Strategy{Kind: Scratch}, pc)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", t.Name, err)
		}
		mx.SourceAcc[a] = r.TestAcc
		tick()
		if log != nil {
			log(fmt.Sprintf("source %-28s test acc %.4f (%d examples, %d steps)", t.Name, r.TestAcc, t.Pool.Len(), r.Steps))
		}
		w := Weights(m)
		classes := t.Pool.Classes()
		sources[a] = Source{Name: t.Name, Weights: w, Build: func(rng *rand.Rand) (*nn.Sequential, error) { return cfg.Build(rng, classes) }}
	}
	// 2. Scratch and transfer on every target, paired over seeds.
	scratch := make([][]float64, n)
	acc := make([][][]float64, n)
	for a := range acc {
		acc[a] = make([][]float64, n)
	}
	for b, t := range tasks {
		for seed := uint64(1); seed <= uint64(cfg.Seeds); seed++ {
			train := Shots(t.Pool, cfg.Shots, seed)
			tc := cfg.Train
			tc.Seed = seed
			// scratch: the target's own architecture, fresh
			m, err := cfg.Build(rand.New(rand.NewPCG(seed, 0x74676d)), t.Pool.Classes())
			if err != nil {
				return nil, err
			}
			if !cfg.KeepHead {
				if err := ReplaceHead(m, t.Pool.Classes(), rand.New(rand.NewPCG(seed, 0x68656164))); err != nil {
					return nil, err
				}
			}
			r, err := FineTune(m, Target{Train: train, Val: t.Val, Test: t.Test}, Strategy{Kind: Scratch}, tc)
			if err != nil {
				return nil, fmt.Errorf("scratch on %s: %w", t.Name, err)
			}
			scratch[b] = append(scratch[b], r.TestAcc)
			tick()
			for a := range tasks {
				m, err := sources[a].targetModel(cfg.Strategy, t.Pool.Classes(), cfg.KeepHead, seed)
				if err != nil {
					return nil, err
				}
				r, err := FineTune(m, Target{Train: train, Val: t.Val, Test: t.Test}, cfg.Strategy, tc)
				if err != nil {
					return nil, fmt.Errorf("%s -> %s: %w", tasks[a].Name, t.Name, err)
				}
				acc[a][b] = append(acc[a][b], r.TestAcc)
				tick()
			}
		}
		mx.Scratch[b], _, mx.ScratchCI95[b] = stats.MeanCI95(scratch[b])
		if log != nil {
			log(fmt.Sprintf("target %-28s scratch %.4f ± %.4f", t.Name, mx.Scratch[b], mx.ScratchCI95[b]))
		}
	}
	for a := range tasks {
		row, gain, gci := make([]float64, n), make([]float64, n), make([]float64, n)
		for b := range tasks {
			row[b], _, _ = stats.MeanCI95(acc[a][b])
			d := make([]float64, cfg.Seeds)
			for i := range d {
				d[i] = acc[a][b][i] - scratch[b][i]
			}
			gain[b], _, gci[b] = stats.MeanCI95(d)
			if a != b && gain[b]+gci[b] < 0 {
				mx.Negative = append(mx.Negative, tasks[a].Name+"->"+tasks[b].Name)
			}
		}
		mx.Acc = append(mx.Acc, row)
		mx.Gain = append(mx.Gain, gain)
		mx.GainCI95 = append(mx.GainCI95, gci)
	}
	return mx, nil
}

// Table formats the gain matrix (rows: source, columns: target).
func (mx *Matrix) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "transfer gain (test accuracy, %s fine-tuning minus scratch; %s shots per class, %d seeds); rows = source, columns = target\n", mx.Strategy, shotName(mx.Shots), mx.Seeds)
	w := 10
	for _, t := range mx.Tasks {
		w = max(w, min(len(t), 24)+1)
	}
	fmt.Fprintf(&b, "%-*s", w, "")
	for _, t := range mx.Tasks {
		fmt.Fprintf(&b, " %*s", w, short(t, w))
	}
	b.WriteString("\n")
	for a, t := range mx.Tasks {
		fmt.Fprintf(&b, "%-*s", w, short(t, w))
		for c := range mx.Tasks {
			fmt.Fprintf(&b, " %*s", w, fmt.Sprintf("%+.3f", mx.Gain[a][c]))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-*s", w, "scratch")
	for c := range mx.Tasks {
		fmt.Fprintf(&b, " %*s", w, fmt.Sprintf("%.3f", mx.Scratch[c]))
	}
	b.WriteString("\n")
	if len(mx.Negative) > 0 {
		fmt.Fprintf(&b, "negative transfer (beyond the 95%% CI): %s\n", strings.Join(mx.Negative, ", "))
	}
	return b.String()
}

func short(s string, w int) string {
	if len(s) <= w-1 {
		return s
	}
	return s[:w-1]
}

// Plot draws the gain matrix as a heatmap (base.png, base.svg).
func (mx *Matrix) Plot(base string) ([]string, error) {
	return plots.Heatmap{
		Title:     fmt.Sprintf("Transfer gain over scratch (%s, %s shots/class)", mx.Strategy, shotName(mx.Shots)),
		XLabel:    "target",
		YLabel:    "source",
		RowLabels: mx.Tasks,
		ColLabels: mx.Tasks,
		Values:    mx.Gain,
	}.Save(base)
}
