package transfer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/tensor"
)

// Kind names a fine-tuning strategy.
type Kind string

const (
	// Scratch trains every parameter from the model's current (random)
	// initialisation: the no-transfer baseline. FineTune treats it like
	// Full; the difference is that callers do not load source weights.
	Scratch Kind = "scratch"
	// Full fine-tunes every parameter from the source weights.
	Full Kind = "full"
	// Freeze keeps the first FreezeK layers at the source weights (and in
	// evaluation mode, so their BatchNorm statistics stay too) and
	// fine-tunes the rest.
	Freeze Kind = "freeze"
	// Probe trains the head only on frozen source features (linear probe).
	Probe Kind = "probe"
	// Discriminative fine-tunes all layers with per-layer learning rates
	// (Howard & Ruder 2018, "Universal Language Model Fine-tuning", Sec.
	// 3.2): layer l of L gets LR * LayerLRDecay^(L-1-l), so the head gets
	// LR and earlier, more general layers move less (ULMFiT: decay 1/2.6).
	Discriminative Kind = "discriminative"
	// L2SP fine-tunes all layers with the L2-SP penalty (Li, Grandvalet &
	// Davoine 2018, "Explicit Inductive Bias for Transfer Learning with
	// Convolutional Networks", Eq. 3):
	//
	//	Omega(w) = alpha/2 ||w_S - w_S^0||^2 + beta/2 ||w_head||^2
	//
	// where w_S are the parameters shared with the source (every layer but
	// the head), w_S^0 their source values, and w_head the target head.
	L2SP Kind = "l2sp"
)

// Kinds lists the strategies in the order reports use.
var Kinds = []Kind{Scratch, Full, Freeze, Probe, Discriminative, L2SP}

// Strategy is a fine-tuning strategy with its hyper-parameters.
type Strategy struct {
	Kind Kind `json:"kind"`
	// FreezeK is the number of leading layers kept fixed (Freeze).
	FreezeK int `json:"freeze_k,omitempty"`
	// LayerLRDecay is the per-layer learning-rate factor (Discriminative),
	// in (0, 1].
	LayerLRDecay float64 `json:"layer_lr_decay,omitempty"`
	// L2SPAlpha and L2SPBeta weight the two L2-SP terms.
	L2SPAlpha float64 `json:"l2sp_alpha,omitempty"`
	L2SPBeta  float64 `json:"l2sp_beta,omitempty"`
	// AnchorHead (L2SP) treats the head as shared with the source too
	// (alpha/2 ||w_head - w_head^0||^2 instead of beta/2 ||w_head||^2): for
	// a kept source head, when target labels are source labels.
	AnchorHead bool `json:"anchor_head,omitempty"`
}

// Name is a short label such as "freeze-2" or "l2sp(0.01,0.01)".
func (s Strategy) Name() string {
	switch s.Kind {
	case Freeze:
		return "freeze-" + strconv.Itoa(s.FreezeK)
	case Discriminative:
		return "discriminative-" + strconv.FormatFloat(s.LayerLRDecay, 'g', 3, 64)
	case L2SP:
		if s.AnchorHead {
			return fmt.Sprintf("l2sp(%g,head)", s.L2SPAlpha)
		}
		return fmt.Sprintf("l2sp(%g,%g)", s.L2SPAlpha, s.L2SPBeta)
	}
	return string(s.Kind)
}

// UsesSource reports whether the strategy starts from source weights.
func (s Strategy) UsesSource() bool { return s.Kind != Scratch }

// ParseStrategy reads "scratch", "full", "probe", "freeze:K",
// "discriminative[:DECAY]" (default 1/2.6) or "l2sp[:ALPHA[:BETA]]"
// (defaults 0.01, 0.01, as in Li et al. 2018).
func ParseStrategy(text string) (Strategy, error) {
	parts := strings.Split(strings.TrimSpace(text), ":")
	num := func(i int, def float64) (float64, error) {
		if len(parts) <= i {
			return def, nil
		}
		v, err := strconv.ParseFloat(parts[i], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("strategy %q: %q is not a number", text, parts[i])
		}
		return v, nil
	}
	s := Strategy{Kind: Kind(strings.ToLower(parts[0]))}
	maxParts := 1
	switch s.Kind {
	case Scratch, Full, Probe:
	case Freeze:
		maxParts = 2
		if len(parts) != 2 {
			return s, fmt.Errorf("strategy %q: want freeze:K with K the number of frozen layers", text)
		}
		k, err := strconv.Atoi(parts[1])
		if err != nil {
			return s, fmt.Errorf("strategy %q: K = %q is not an integer", text, parts[1])
		}
		s.FreezeK = k
	case Discriminative:
		maxParts = 2
		v, err := num(1, 1/2.6)
		if err != nil {
			return s, err
		}
		s.LayerLRDecay = v
	case L2SP:
		maxParts = 3
		a, err := num(1, 0.01)
		if err != nil {
			return s, err
		}
		b, err := num(2, 0.01)
		if err != nil {
			return s, err
		}
		s.L2SPAlpha, s.L2SPBeta = a, b
	default:
		return s, fmt.Errorf("strategy %q: unknown (want scratch, full, probe, freeze:K, discriminative[:decay], l2sp[:alpha[:beta]])", text)
	}
	if len(parts) > maxParts {
		return s, fmt.Errorf("strategy %q: too many ':' fields", text)
	}
	return s, nil
}

// Validate checks the strategy against a model with nLayers parameterised
// layers (the last being the head).
func (s Strategy) Validate(nLayers int) error {
	switch s.Kind {
	case Scratch, Full, Probe:
	case Freeze:
		if s.FreezeK < 1 || s.FreezeK >= nLayers {
			return fmt.Errorf("transfer: freeze k = %d, but the model has %d layers with parameters (the last is the head); want 1 <= k <= %d", s.FreezeK, nLayers, nLayers-1)
		}
	case Discriminative:
		if !(s.LayerLRDecay > 0 && s.LayerLRDecay <= 1) {
			return fmt.Errorf("transfer: discriminative layer learning-rate decay = %v, want (0, 1]", s.LayerLRDecay)
		}
	case L2SP:
		if !(s.L2SPAlpha >= 0) || !(s.L2SPBeta >= 0) || math.IsInf(s.L2SPAlpha, 0) || math.IsInf(s.L2SPBeta, 0) {
			return fmt.Errorf("transfer: L2-SP alpha = %v and beta = %v, want finite and >= 0", s.L2SPAlpha, s.L2SPBeta)
		}
	default:
		return fmt.Errorf("transfer: unknown strategy kind %q", s.Kind)
	}
	if nLayers < 1 {
		return fmt.Errorf("transfer: the model has no layer with parameters")
	}
	return nil
}

// Config sets the optimisation of FineTune.
type Config struct {
	Steps     int     // maximum optimisation steps (default 200)
	LR        float64 // base learning rate (default 1e-3)
	BatchSize int     // examples per step, sampled with replacement; 0 = full batch
	// WeightDecay is a plain L2 penalty on every trained parameter (not
	// used with L2SP, which has its own terms).
	WeightDecay float64
	// Optimizer is "adam" (default) or "sgd" (momentum 0.9).
	Optimizer string
	// EvalEvery is the number of steps between validation passes
	// (default 10). Patience is the number of validation passes without
	// improvement after which training stops (0: never stop early; the
	// best parameters on validation are restored at the end either way).
	EvalEvery, Patience int
	Seed                uint64
}

func (c Config) withDefaults() Config {
	if c.Steps == 0 {
		c.Steps = 200
	}
	if c.LR == 0 {
		c.LR = 1e-3
	}
	if c.EvalEvery == 0 {
		c.EvalEvery = 10
	}
	if c.Optimizer == "" {
		c.Optimizer = "adam"
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Steps < 1:
		return fmt.Errorf("transfer: steps = %d, want >= 1", c.Steps)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("transfer: learning rate = %v, want > 0", c.LR)
	case c.BatchSize < 0:
		return fmt.Errorf("transfer: batch size = %d, want >= 0", c.BatchSize)
	case !(c.WeightDecay >= 0):
		return fmt.Errorf("transfer: weight decay = %v, want >= 0", c.WeightDecay)
	case c.EvalEvery < 1 || c.Patience < 0:
		return fmt.Errorf("transfer: eval-every = %d and patience = %d, want >= 1 and >= 0", c.EvalEvery, c.Patience)
	case c.Optimizer != "adam" && c.Optimizer != "sgd":
		return fmt.Errorf("transfer: optimizer %q, want adam or sgd", c.Optimizer)
	}
	return nil
}

// Target is the target task: training examples, an optional validation
// split (early stopping and model selection) and an optional test split.
type Target struct {
	Train, Val, Test Data
}

// Result reports one fine-tuning run.
type Result struct {
	Strategy  string `json:"strategy"`
	TrainSize int    `json:"train_examples"`
	Steps     int    `json:"steps"`      // steps actually run
	BestStep  int    `json:"best_step"`  // step of the selected parameters (0 = none selected)
	Stopped   bool   `json:"early_stop"` // stopped by patience
	// Validation and test metrics are 0 when the split is empty.
	ValAcc   float64 `json:"val_accuracy"`
	ValLoss  float64 `json:"val_loss"`
	TestAcc  float64 `json:"test_accuracy"`
	TestLoss float64 `json:"test_loss"`
	// Trained lists the layers (parameter-name prefixes) that were updated.
	Trained []string `json:"trained_layers"`
}

// FineTune adapts m, which holds the source weights (or a random
// initialisation for Scratch), to the target in place, following the
// strategy, and returns validation and test metrics of the selected
// parameters. m's layers are its parameterised top-level children (see
// Layers); the last is the head and must have one output per target class
// (use ReplaceHead for a new label set; a target label the head cannot
// output is an error).
//
// The training loop, in the pseudo-code of the papers cited on Kind:
//
//	w0 <- current weights (the source, for L2-SP)
//	for step = 1..Steps:
//	    B <- minibatch of the target training set
//	    g <- grad over the trained layers of CE(m(B)) [+ alpha (w_S - w_S^0) + beta w_head]
//	    each layer l takes an optimizer step with its own learning rate lr_l
//	    every EvalEvery steps: validation accuracy; keep the best weights;
//	        stop after Patience passes without improvement
//	restore the best weights; report validation and test metrics
func FineTune(m *nn.Sequential, t Target, s Strategy, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	layers := Layers(m)
	if err := s.Validate(len(layers)); err != nil {
		return nil, err
	}
	if err := t.Train.Validate("target training"); err != nil {
		return nil, err
	}
	if t.Train.Empty() {
		return nil, fmt.Errorf("transfer: target training data is empty")
	}
	for _, part := range []struct {
		d    Data
		name string
	}{{t.Val, "target validation"}, {t.Test, "target test"}} {
		if !part.d.Empty() {
			if err := part.d.Validate(part.name); err != nil {
				return nil, err
			}
		}
	}
	if out := HeadOutputs(m); out > 0 {
		for _, part := range []Data{t.Train, t.Val, t.Test} {
			for i, y := range part.Y {
				if y >= out {
					return nil, fmt.Errorf("transfer: target %s example %d has label %d (%q), which the model's head cannot output: it has %d outputs (unseen label; replace the head for a new label set)", orName(part.Name, "data"), i, y, part.ClassNames[y], out)
				}
			}
		}
	}

	// Which layers train, and with which learning rate.
	L := len(layers)
	first := 0
	switch s.Kind {
	case Freeze:
		first = s.FreezeK
	case Probe:
		first = L - 1
	}
	res := &Result{Strategy: s.Name(), TrainSize: t.Train.Len()}
	var groups [][]*autodiff.Var
	var opts []optim.Optimizer
	var trainVars []*autodiff.Var
	for l := first; l < L; l++ {
		lr := cfg.LR
		if s.Kind == Discriminative {
			lr *= math.Pow(s.LayerLRDecay, float64(L-1-l))
		}
		vs := layers[l].Vars()
		groups = append(groups, vs)
		trainVars = append(trainVars, vs...)
		res.Trained = append(res.Trained, layers[l].Name)
		if cfg.Optimizer == "sgd" {
			opts = append(opts, optim.NewSGD(vs, optim.SGDConfig{LR: lr, Momentum: 0.9}))
		} else {
			opts = append(opts, optim.NewAdam(vs, optim.AdamConfig{LR: lr}))
		}
	}
	// L2-SP anchors: the starting values of the shared (non-head) layers.
	var anchor []*tensor.Tensor
	anchored := func(l int) bool { return s.Kind == L2SP && (l < L-1 || s.AnchorHead) }
	if s.Kind == L2SP {
		for l := first; l < L; l++ {
			if !anchored(l) {
				continue
			}
			for _, v := range layers[l].Vars() {
				anchor = append(anchor, v.Value.Clone())
			}
		}
	}
	// Frozen prefix: children before the first trained layer run in
	// evaluation mode (fixed features, fixed BatchNorm statistics).
	frozenUpTo := layers[first].Index
	setMode := func(training bool) {
		for i, c := range m.Layers {
			nn.SetTraining(c, training && i >= frozenUpTo)
		}
	}

	rng := rand.New(rand.NewPCG(cfg.Seed, 0x66696e65))
	n := t.Train.Len()
	bestAcc, bestLoss := math.Inf(-1), math.Inf(1)
	var best []*tensor.Tensor
	sinceBest := 0
	validate := func(step int) error {
		acc, loss, err := Evaluate(m, t.Val)
		if err != nil {
			return err
		}
		if acc > bestAcc || (acc == bestAcc && loss < bestLoss) {
			bestAcc, bestLoss = acc, loss
			best = snapshot(m)
			res.BestStep = step
			sinceBest = 0
		} else {
			sinceBest++
		}
		return nil
	}
	if !t.Val.Empty() {
		if err := validate(0); err != nil {
			return nil, err
		}
	}
	err := safely("fine-tuning", func() error {
		for step := 1; step <= cfg.Steps; step++ {
			batch := t.Train
			if cfg.BatchSize > 0 && cfg.BatchSize < n {
				idx := make([]int, cfg.BatchSize)
				for i := range idx {
					idx[i] = rng.IntN(n)
				}
				batch = t.Train.Subset(idx)
			}
			setMode(true)
			logits := nn.Forward(m, autodiff.Const(batch.X))
			if logits.Value.Dims() != 2 || logits.Value.Dim(0) != batch.Len() {
				return fmt.Errorf("model output has shape %v, want [%d, classes]", logits.Shape(), batch.Len())
			}
			if c := logits.Value.Dim(1); c < t.Train.Classes() && HeadOutputs(m) == 0 {
				return fmt.Errorf("model has %d outputs for %d target classes", c, t.Train.Classes())
			}
			loss := nn.CrossEntropyLoss(logits, batch.Y, 0)
			gs := autodiff.Grad([]*autodiff.Var{loss}, trainVars, false)
			autodiff.Free(loss)
			grads := make([]*tensor.Tensor, len(gs))
			for i, g := range gs {
				if g == nil {
					grads[i] = tensor.ZerosLike(trainVars[i].Value)
				} else {
					grads[i] = g.Value
				}
			}
			// Penalty gradients: L2-SP (alpha (w - w0) on shared layers,
			// beta w on the head) or plain weight decay.
			k, a := 0, 0
			for gi, g := range groups {
				l := first + gi
				for range g {
					switch {
					case anchored(l):
						if s.L2SPAlpha > 0 {
							d := tensor.Sub(trainVars[k].Value, anchor[a])
							grads[k] = tensor.Add(grads[k], tensor.Scale(d, s.L2SPAlpha))
						}
						a++
					case s.Kind == L2SP:
						if s.L2SPBeta > 0 {
							grads[k] = tensor.Add(grads[k], tensor.Scale(trainVars[k].Value, s.L2SPBeta))
						}
					case cfg.WeightDecay > 0:
						grads[k] = tensor.Add(grads[k], tensor.Scale(trainVars[k].Value, cfg.WeightDecay))
					}
					if grads[k].HasNaNOrInf() {
						return fmt.Errorf("step %d: gradient of %s is not finite (loss %v); lower the learning rate", step, res.Trained[gi], loss.Item())
					}
					k++
				}
			}
			k = 0
			for gi, g := range groups {
				opts[gi].StepWith(grads[k : k+len(g)])
				k += len(g)
			}
			res.Steps = step
			if !t.Val.Empty() && (step%cfg.EvalEvery == 0 || step == cfg.Steps) {
				if err := validate(step); err != nil {
					return err
				}
				if cfg.Patience > 0 && sinceBest >= cfg.Patience {
					res.Stopped = true
					break
				}
			}
		}
		return nil
	})
	setMode(true)
	if err != nil {
		return nil, err
	}
	if best != nil {
		restore(m, best)
	}
	if !t.Val.Empty() {
		res.ValAcc, res.ValLoss = bestAcc, bestLoss
	}
	if res.TestAcc, res.TestLoss, err = Evaluate(m, t.Test); err != nil {
		return nil, err
	}
	return res, nil
}

func orName(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
