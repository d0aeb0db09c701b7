package meta

import (
	"fmt"
	"strings"

	"github.com/metalearn/metalearn/nn"
)

// AlgorithmInfo is one row of the table of meta-learning algorithms: its
// name, how Build constructs it, and the outer-loop defaults every caller
// (the CLI, run configurations, serving) reads from here.
type AlgorithmInfo struct {
	Name    string
	Aliases []string // other accepted spellings (Spec.Defaults replaces them by Name)
	Summary string   // one line for help texts
	// MetricBased algorithms classify by a closed-form head on support
	// embeddings with no adaptation steps; their checkpoints serve any
	// number of ways and shots. They need a classification dataset.
	MetricBased bool
	// MAMLFamily algorithms adapt with Learner gradient steps (per-step
	// BatchNorm applies to them).
	MAMLFamily bool
	// Pooled algorithms are trained by ordinary supervised learning on the
	// pooled examples of each meta-batch (no inner loop at training, no
	// validation-based selection) and adapt like MAML at evaluation.
	Pooled bool
	// Recompute says whether Spec.Recompute (rebuild the inner loop in the
	// backward pass) applies.
	Recompute bool
	// Outer-loop defaults: optimizer ("adam" or "sgd"), learning rate,
	// schedule (OuterSchedules) and tasks per outer step on Omniglot
	// (every algorithm uses SinusoidMetaBatch on sinusoid).
	Outer     string
	OuterLR   float64
	Schedule  string
	MetaBatch int

	net   netShape
	build func(s Spec, body, head nn.Module) (Algorithm, error)
}

// netShape is the network an algorithm needs from Build.
type netShape int

const (
	wholeNet    netShape = iota // one network, adapted whole
	bodyAndHead                 // a feature extractor (meta-learned, not adapted) and an adapted head
	encoderNet                  // an encoder without a classification layer
)

// SinusoidMetaBatch is the default number of tasks per outer step on
// sinusoid regression (Finn et al. 2017, section 5.1).
const SinusoidMetaBatch = 25

func mamlConfig(s Spec) MAMLConfig {
	return MAMLConfig{InnerLR: s.InnerLR, InnerSteps: s.InnerSteps, EvalSteps: s.EvalSteps, Recompute: s.Recompute}
}

func buildMAML(mod func(*MAMLConfig, Spec)) func(Spec, nn.Module, nn.Module) (Algorithm, error) {
	return func(s Spec, body, head nn.Module) (Algorithm, error) {
		cfg := mamlConfig(s)
		if mod != nil {
			mod(&cfg, s)
		}
		return NewMAML(body, head, cfg)
	}
}

// algorithmTable is the one list of algorithms.
var algorithmTable = []AlgorithmInfo{
	{Name: "maml", Summary: "MAML, second-order meta-gradients (Finn et al. 2017)", MAMLFamily: true, Recompute: true,
		Outer: "adam", OuterLR: 1e-3, Schedule: "constant", MetaBatch: 4, build: buildMAML(nil)},
	{Name: "fomaml", Aliases: []string{"fo-maml", "first-order-maml"}, Summary: "first-order MAML (Finn et al. 2017, section 5.2)", MAMLFamily: true,
		Outer: "adam", OuterLR: 1e-3, Schedule: "constant", MetaBatch: 4, build: buildMAML(func(c *MAMLConfig, _ Spec) { c.FirstOrder = true })},
	{Name: "anil", Summary: "ANIL: only the head adapts (Raghu et al. 2020)", MAMLFamily: true, net: bodyAndHead,
		Outer: "adam", OuterLR: 1e-3, Schedule: "constant", MetaBatch: 4, build: buildMAML(nil)},
	{Name: "metasgd", Aliases: []string{"meta-sgd"}, Summary: "Meta-SGD: learned per-parameter inner learning rates (Li et al. 2017)", MAMLFamily: true, Recompute: true,
		Outer: "adam", OuterLR: 1e-3, Schedule: "constant", MetaBatch: 4, build: buildMAML(func(c *MAMLConfig, _ Spec) { c.LRMode = MetaSGD })},
	{Name: "maml++", Aliases: []string{"mamlpp"}, Summary: "MAML++: per-layer per-step learning rates, optional multi-step loss (Antoniou et al. 2019)", MAMLFamily: true, Recompute: true,
		Outer: "adam", OuterLR: 1e-3, Schedule: "constant", MetaBatch: 4, build: buildMAML(func(c *MAMLConfig, s Spec) {
			c.LRMode, c.MultiStepLoss = PerLayerPerStep, s.MultiStepLoss
		})},
	{Name: "reptile", Summary: "Reptile (Nichol et al. 2018): outer SGD towards the adapted weights, step annealed to 0",
		Outer: "sgd", OuterLR: 1, Schedule: "linear", MetaBatch: 5, build: func(s Spec, _, head nn.Module) (Algorithm, error) {
			return NewReptile(head, ReptileConfig{InnerLR: s.InnerLR, InnerSteps: s.InnerSteps, EvalSteps: s.EvalSteps, InnerAdam: s.InnerAdam, InnerBatch: s.InnerBatch, CarryAdam: s.CarryAdam})
		}},
	{Name: "protonet", Aliases: []string{"proto", "protonets", "prototypical"}, Summary: "Prototypical Networks (Snell et al. 2017)", MetricBased: true, net: encoderNet,
		Outer: "adam", OuterLR: 1e-3, Schedule: "constant", MetaBatch: 1, build: func(_ Spec, _, head nn.Module) (Algorithm, error) {
			return NewProtoNet(head, Prototypes)
		}},
	{Name: "r2d2", Summary: "R2D2: differentiable closed-form ridge-regression head (Bertinetto et al. 2019)", MetricBased: true, net: encoderNet,
		Outer: "adam", OuterLR: 1e-3, Schedule: "constant", MetaBatch: 1, build: func(_ Spec, _, head nn.Module) (Algorithm, error) {
			return NewProtoNet(head, Ridge)
		}},
	{Name: "pretrain", Summary: "baseline: supervised pre-training on pooled tasks, fine-tuned at evaluation (Finn et al. 2017, section 5.1; sinusoid)", Pooled: true,
		Outer: "adam", OuterLR: 1e-3, Schedule: "constant", MetaBatch: 4, build: func(s Spec, body, head nn.Module) (Algorithm, error) {
			m, err := NewMAML(body, head, mamlConfig(s))
			if err != nil {
				return nil, err
			}
			return &Pretrained{MAML: m}, nil
		}},
}

// Algorithms lists the accepted algorithm names, in table order.
var Algorithms = func() []string {
	names := make([]string, len(algorithmTable))
	for i, a := range algorithmTable {
		names[i] = a.Name
	}
	return names
}()

// AlgorithmByName returns the table row of an algorithm, by name or alias
// (case-insensitive).
func AlgorithmByName(name string) (AlgorithmInfo, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, a := range algorithmTable {
		if a.Name == n {
			return a, nil
		}
		for _, al := range a.Aliases {
			if al == n {
				return a, nil
			}
		}
	}
	return AlgorithmInfo{}, fmt.Errorf("algorithm %q, want one of %s", name, strings.Join(Algorithms, ", "))
}

// AlgorithmTable returns a copy of the table, for help texts and listings.
func AlgorithmTable() []AlgorithmInfo { return append([]AlgorithmInfo(nil), algorithmTable...) }

// DefaultMetaBatch is the algorithm's default number of tasks per outer
// step on the dataset.
func (a AlgorithmInfo) DefaultMetaBatch(dataset string) int {
	if dataset == "sinusoid" {
		return SinusoidMetaBatch
	}
	return a.MetaBatch
}

// info looks up a name known to be valid (after Validate); the zero row
// for an unknown one.
func info(name string) AlgorithmInfo {
	a, _ := AlgorithmByName(name)
	return a
}

// MetricBased reports whether algorithm a classifies by distances to (or a
// closed-form head on) support embeddings, with no adaptation steps: its
// checkpoints serve any number of ways and shots.
func MetricBased(a string) bool { return info(a).MetricBased }

func isMAMLFamily(a string) bool { return info(a).MAMLFamily }

// DefaultOuterSchedule is the schedule an algorithm uses unless told:
// linear for Reptile, constant for the rest.
func DefaultOuterSchedule(algorithm string) string {
	if a, err := AlgorithmByName(algorithm); err == nil {
		return a.Schedule
	}
	return "constant"
}
