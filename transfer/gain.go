package transfer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/metalearn/metalearn/plots"
	"github.com/metalearn/metalearn/stats"
)

// GainConfig configures GainReport.
type GainConfig struct {
	// Shots are the numbers of labelled target examples per class; 0
	// means all of the training pool.
	Shots []int
	// Seeds is the number of repetitions (seeds 1..Seeds). A seed fixes
	// the shot sample, the new head's initialisation and the minibatches,
	// and is shared by every strategy, so differences are paired.
	Seeds int
	// Strategies are compared with Scratch, which is always run first.
	Strategies []Strategy
	Train      Config
	// KeepHead keeps the source head (target labels are source labels);
	// otherwise every model gets a fresh head for the target classes.
	KeepHead bool
	// Log, when set, receives one line per finished run.
	Log func(string)
}

// GainCell is one (strategy, shots) cell of a transfer-gain report.
type GainCell struct {
	Strategy string  `json:"strategy"`
	Shots    int     `json:"shots"` // per class; 0 = all
	Examples float64 `json:"train_examples"`
	// Accuracies holds the test accuracy of every seed.
	Accuracies []float64 `json:"accuracies"`
	Mean       float64   `json:"mean"`
	SD         float64   `json:"sd"`
	CI95       float64   `json:"ci95"`
	// Gain is the mean paired difference with scratch (same seed, same
	// shots) and GainCI95 the half-width of its 95% t-interval.
	Gain     float64 `json:"gain"`
	GainCI95 float64 `json:"gain_ci95"`
	// NegativeTransfer: starting from the source is worse than scratch
	// beyond the confidence interval (Gain + GainCI95 < 0).
	NegativeTransfer bool `json:"negative_transfer"`
}

// Gain is a transfer-gain report: test accuracy of every strategy against
// training from scratch, as a function of the number of target examples.
type Gain struct {
	Source     string     `json:"source"`
	Target     string     `json:"target"`
	Metric     string     `json:"metric"`
	Shots      []int      `json:"shots"`
	AllShots   int        `json:"all_shots"` // largest class of the pool ("all")
	Seeds      int        `json:"seeds"`
	Strategies []string   `json:"strategies"`
	Cells      []GainCell `json:"cells"`
	// Negative lists the cells flagged as negative transfer, "strategy@shots".
	Negative []string `json:"negative_transfer"`
}

// GainReport fine-tunes the source with every strategy, and trains from
// scratch, on Shots[i] labelled examples per class drawn from pool, for
// Seeds seeds; val selects parameters (early stopping) and test measures.
func GainReport(src Source, pool, val, test Data, cfg GainConfig) (*Gain, error) {
	if cfg.Seeds < 1 {
		return nil, fmt.Errorf("transfer: seeds = %d, want >= 1", cfg.Seeds)
	}
	if len(cfg.Shots) == 0 {
		return nil, fmt.Errorf("transfer: no shot counts given")
	}
	for _, k := range cfg.Shots {
		if k < 0 {
			return nil, fmt.Errorf("transfer: shots = %d, want >= 1 (or 0 for all)", k)
		}
	}
	if err := pool.Validate("target pool"); err != nil {
		return nil, err
	}
	if test.Empty() {
		return nil, fmt.Errorf("transfer: the gain report needs a non-empty test split")
	}
	strategies := []Strategy{{Kind: Scratch}}
	for _, s := range cfg.Strategies {
		if s.Kind != Scratch {
			strategies = append(strategies, s)
		}
	}
	g := &Gain{Source: src.Name, Target: pool.Name, Metric: "test accuracy", Shots: slices.Clone(cfg.Shots), Seeds: cfg.Seeds}
	for _, idx := range pool.ByClass() {
		g.AllShots = max(g.AllShots, len(idx))
	}
	for _, s := range strategies {
		g.Strategies = append(g.Strategies, s.Name())
	}
	for _, k := range cfg.Shots {
		accs := make([][]float64, len(strategies))
		exs := 0.0
		for seed := uint64(1); seed <= uint64(cfg.Seeds); seed++ {
			train := Shots(pool, k, seed)
			exs += float64(train.Len())
			for si, s := range strategies {
				m, err := src.targetModel(s, pool.Classes(), cfg.KeepHead, seed)
				if err != nil {
					return nil, err
				}
				tc := cfg.Train
				tc.Seed = seed
				r, err := FineTune(m, Target{Train: train, Val: val, Test: test}, s, tc)
				if err != nil {
					return nil, fmt.Errorf("%s, %s shots, seed %d: %w", s.Name(), shotName(k), seed, err)
				}
				accs[si] = append(accs[si], r.TestAcc)
				if cfg.Log != nil {
					cfg.Log(fmt.Sprintf("shots %-4s seed %d %-22s test acc %.4f (val %.4f, best step %d of %d)", shotName(k), seed, s.Name(), r.TestAcc, r.ValAcc, r.BestStep, r.Steps))
				}
			}
		}
		for si, s := range strategies {
			c := GainCell{Strategy: s.Name(), Shots: k, Examples: exs / float64(cfg.Seeds), Accuracies: accs[si]}
			c.Mean, c.SD, c.CI95 = stats.MeanCI95(accs[si])
			diff := make([]float64, cfg.Seeds)
			for i := range diff {
				diff[i] = accs[si][i] - accs[0][i]
			}
			if si > 0 {
				c.Gain, _, c.GainCI95 = stats.MeanCI95(diff)
				c.NegativeTransfer = c.Gain+c.GainCI95 < 0
				if c.NegativeTransfer {
					g.Negative = append(g.Negative, s.Name()+"@"+shotName(k))
				}
			}
			g.Cells = append(g.Cells, c)
		}
	}
	return g, nil
}

func shotName(k int) string {
	if k <= 0 {
		return "all"
	}
	return fmt.Sprint(k)
}

// Cell returns the cell of a strategy name and shot count, or nil.
func (g *Gain) Cell(strategy string, shots int) *GainCell {
	for i := range g.Cells {
		if g.Cells[i].Strategy == strategy && g.Cells[i].Shots == shots {
			return &g.Cells[i]
		}
	}
	return nil
}

// Table formats the report as text: mean ± CI per strategy and shot count,
// with the paired gain over scratch; "NEG" marks negative transfer.
func (g *Gain) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s -> %s: %s, mean ± 95%% CI over %d seeds; gain = paired difference with scratch\n", g.Source, g.Target, g.Metric, g.Seeds)
	fmt.Fprintf(&b, "%-22s", "strategy \\ shots")
	for _, k := range g.Shots {
		fmt.Fprintf(&b, " %24s", shotName(k))
	}
	b.WriteString("\n")
	for _, s := range g.Strategies {
		fmt.Fprintf(&b, "%-22s", s)
		for _, k := range g.Shots {
			c := g.Cell(s, k)
			cell := fmt.Sprintf("%.3f±%.3f", c.Mean, c.CI95)
			if s != string(Scratch) {
				cell += fmt.Sprintf(" (%+.3f)", c.Gain)
			}
			if c.NegativeTransfer {
				cell += " NEG"
			}
			fmt.Fprintf(&b, " %24s", cell)
		}
		b.WriteString("\n")
	}
	if len(g.Negative) > 0 {
		fmt.Fprintf(&b, "negative transfer (worse than scratch beyond the 95%% CI): %s\n", strings.Join(g.Negative, ", "))
	} else {
		b.WriteString("no negative transfer flagged\n")
	}
	return b.String()
}

// Plot draws test accuracy against labelled examples per class, one line
// per strategy with 95% CI error bars, to base.png and base.svg. "all" is
// drawn at the size of the largest class of the pool.
func (g *Gain) Plot(base string) ([]string, error) {
	l := plots.Line{
		Title:  fmt.Sprintf("Transfer gain: %s -> %s (%d seeds)", g.Source, g.Target, g.Seeds),
		XLabel: fmt.Sprintf("labelled target examples per class (all = %d)", g.AllShots),
		YLabel: g.Metric,
		LogX:   true,
	}
	for _, s := range g.Strategies {
		var ser plots.Series
		ser.Name = s
		for _, k := range g.Shots {
			c := g.Cell(s, k)
			x := float64(k)
			if k <= 0 {
				x = float64(g.AllShots)
			}
			ser.X = append(ser.X, x)
			ser.Y = append(ser.Y, c.Mean)
			ser.Lo = append(ser.Lo, c.Mean-c.CI95)
			ser.Hi = append(ser.Hi, c.Mean+c.CI95)
		}
		l.Series = append(l.Series, ser)
	}
	return l.Save(base)
}
