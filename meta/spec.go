package meta

import (
	"errors"
	"fmt"
	"math"
)

// Spec describes a meta-learning experiment: the algorithm, the model and
// the task distribution. It is what the CLI builds from flags and what a
// checkpoint records, so evaluation rebuilds exactly the trained model.
type Spec struct {
	Algorithm string `json:"algorithm"` // maml, fomaml, anil, metasgd, maml++, reptile, protonet, r2d2
	Dataset   string `json:"dataset"`   // sinusoid, omniglot
	DataDir   string `json:"data_dir,omitempty"`
	Split     string `json:"split,omitempty"` // omniglot: vinyals or maml
	Ways      int    `json:"ways,omitempty"`
	Shots     int    `json:"shots"`
	Queries   int    `json:"queries"`
	// InnerSteps / EvalSteps: adaptation steps at training / evaluation.
	InnerSteps int     `json:"inner_steps"`
	EvalSteps  int     `json:"eval_steps"`
	InnerLR    float64 `json:"inner_lr"`
	// Hidden is the MLP width (sinusoid) or the number of conv filters.
	Hidden int `json:"hidden"`
	// Arch is the Omniglot network: "pool" (the default: nn.Conv4, 3x3
	// convolutions with 2x2 max-pooling, as in Vinyals et al. and Snell et
	// al.) or "strided" (nn.Conv4Strided, stride-2 convolutions and a mean
	// over positions, as in the MAML and Reptile authors' Omniglot code).
	Arch string `json:"arch,omitempty"`
	// MultiStepLoss enables MAML++'s multi-step loss (with maml++).
	MultiStepLoss bool `json:"multi_step_loss,omitempty"`
	InnerAdam     bool `json:"inner_adam,omitempty"` // Reptile's inner optimizer
	// CarryAdam keeps Reptile's inner Adam statistics across tasks (see
	// ReptileConfig.CarryAdam).
	CarryAdam bool `json:"carry_adam,omitempty"`
	// TrainShots is the number of support examples per class in training
	// episodes (0: Shots). The Reptile paper meta-trains its 1-shot
	// Omniglot models on 10-shot tasks; evaluation always uses Shots.
	TrainShots int `json:"train_shots,omitempty"`
	// InnerBatch is Reptile's inner minibatch size at training (0: the
	// whole support set).
	InnerBatch int `json:"inner_batch,omitempty"`
	// BatchNorm is the meta-learning BatchNorm mode: "transductive" (batch
	// statistics at training and test time, as in the MAML paper; the
	// default), "running" (running statistics at test time) or "per-step"
	// (MAML-family only: separate running statistics for every inner step,
	// MAML++ BNRS).
	BatchNorm string `json:"batchnorm,omitempty"`
	// Recompute rebuilds the inner loop during the backward pass instead
	// of keeping its graph (second-order MAML / Meta-SGD / MAML++ LSLR).
	Recompute bool   `json:"recompute,omitempty"`
	Seed      uint64 `json:"seed"`
}

// Defaults fills unset fields with the standard settings of the papers.
func (s *Spec) Defaults() {
	if s.Dataset == "" {
		s.Dataset = "sinusoid"
	}
	if s.Algorithm == "" {
		s.Algorithm = "maml"
	}
	if a, err := AlgorithmByName(s.Algorithm); err == nil {
		s.Algorithm = a.Name // aliases are recorded by their name
	}
	if s.Dataset == "sinusoid" {
		def(&s.Shots, 10)
		def(&s.Queries, 10)
		def(&s.Hidden, 40)
		def(&s.InnerSteps, 1)
		def(&s.EvalSteps, 10)
		if s.InnerLR == 0 {
			s.InnerLR = 0.01
		}
		return
	}
	if s.BatchNorm == "" {
		s.BatchNorm = "transductive"
	}
	def(&s.Ways, 5)
	def(&s.Shots, 1)
	def(&s.Queries, 15)
	def(&s.Hidden, 64)
	def(&s.InnerSteps, 1)
	def(&s.EvalSteps, 3)
	if s.InnerLR == 0 {
		s.InnerLR = 0.4
	}
	if s.Split == "" {
		s.Split = "vinyals"
	}
}

func def(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

// Validate reports the first invalid field by name.
func (s *Spec) Validate() error {
	alg, err := AlgorithmByName(s.Algorithm)
	if err != nil {
		return err
	}
	switch {
	case s.Dataset != "sinusoid" && s.Dataset != "omniglot":
		return fmt.Errorf("dataset %q, want sinusoid or omniglot", s.Dataset)
	case s.Dataset == "omniglot" && alg.Pooled:
		return fmt.Errorf("algorithm %s is the sinusoid baseline; use transfer learning for classification", alg.Name)
	case s.Dataset == "sinusoid" && alg.MetricBased:
		return fmt.Errorf("algorithm %s needs a classification dataset (omniglot), not sinusoid", s.Algorithm)
	case s.Dataset == "omniglot" && s.Ways < 2:
		return fmt.Errorf("ways = %d, want >= 2", s.Ways)
	case s.Shots < 1:
		return fmt.Errorf("shots = %d, want >= 1", s.Shots)
	case s.Queries < 1:
		return fmt.Errorf("queries = %d, want >= 1", s.Queries)
	case s.TrainShots < 0:
		return fmt.Errorf("train shots = %d, want >= 1 (or 0: the same as shots)", s.TrainShots)
	case s.InnerBatch < 0:
		return fmt.Errorf("inner batch = %d, want >= 1 (or 0: the whole support set)", s.InnerBatch)
	case s.Arch != "" && s.Arch != "pool" && s.Arch != "strided":
		return fmt.Errorf("arch %q, want pool or strided", s.Arch)
	case s.Arch == "strided" && s.Dataset == "sinusoid":
		return errors.New("arch strided applies to omniglot's convolutional network, not the sinusoid MLP")
	case s.CarryAdam && (s.Algorithm != "reptile" || !s.InnerAdam):
		return fmt.Errorf("carry adam applies to reptile with inner adam, not %s (inner adam %v)", s.Algorithm, s.InnerAdam)
	case s.InnerBatch > 0 && s.Algorithm != "reptile":
		return fmt.Errorf("inner batch applies to reptile, not %s", s.Algorithm)
	case s.InnerSteps < 1 || s.InnerSteps > MaxSteps:
		return fmt.Errorf("inner steps = %d, want 1..%d", s.InnerSteps, MaxSteps)
	case s.EvalSteps < 0 || s.EvalSteps > MaxSteps:
		return fmt.Errorf("eval steps = %d, want 0..%d", s.EvalSteps, MaxSteps)
	case !(s.InnerLR > 0) || math.IsInf(s.InnerLR, 0):
		return fmt.Errorf("inner learning rate = %v, want > 0", s.InnerLR)
	case s.Hidden < 1:
		return fmt.Errorf("hidden = %d, want >= 1", s.Hidden)
	case s.Dataset == "omniglot" && s.Split != "vinyals" && s.Split != "maml":
		return fmt.Errorf("split %q, want vinyals or maml", s.Split)
	case s.Dataset == "omniglot" && s.BatchNorm != "transductive" && s.BatchNorm != "running" && s.BatchNorm != "per-step":
		return fmt.Errorf("batchnorm %q, want transductive, running or per-step", s.BatchNorm)
	case s.BatchNorm == "per-step" && !alg.MAMLFamily:
		return fmt.Errorf("batchnorm per-step needs a MAML-family algorithm, not %s", s.Algorithm)
	case s.Recompute && (!alg.Recompute || (alg.Name == "maml++" && s.MultiStepLoss)):
		return fmt.Errorf("recompute applies to second-order maml, metasgd or maml++ without the multi-step loss, not %s", s.Algorithm)
	case s.approxParams() > maxModelParams:
		return fmt.Errorf("hidden = %d, ways = %d and %d inner/%d eval steps describe a model of about %.3g parameters, more than the %.3g this build allows", s.Hidden, s.Ways, s.InnerSteps, s.EvalSteps, s.approxParams(), float64(maxModelParams))
	}
	return nil
}

// MaxSteps bounds the adaptation steps a Spec may ask for (inner and
// evaluation): far above what the papers use (at most a few hundred), so a
// mistyped or corrupted count is an error at load, not an evaluation that
// never ends.
const MaxSteps = 10000

// maxModelParams bounds the model a Spec may describe (2^31 float32
// values, 8 GiB), so a mistyped size is an error, not an allocation that
// brings the machine down.
const maxModelParams = 1 << 31

// approxParams is an upper estimate of the number of values Build
// allocates for s (parameters, buffers and learned learning rates), in
// float64 so absurd sizes cannot overflow.
func (s Spec) approxParams() float64 {
	h, w := float64(max(s.Hidden, 0)), float64(max(s.Ways, 0))
	var n float64
	if s.Dataset == "sinusoid" {
		n = h*h + 4*h + 1
	} else {
		n = 27*h*h + 30*h + h*w + w // Conv4 (3x3 convs, BatchNorm with buffers) + head
	}
	steps := float64(max(s.InnerSteps, s.EvalSteps, 0)) + 1
	switch {
	case s.BatchNorm == "per-step":
		n *= steps + 1
	case s.Algorithm == "metasgd":
		n *= 2
	case s.Algorithm == "maml++":
		n += steps * 16
	}
	return n
}

// HigherIsBetter reports whether the metric is an accuracy.
func (s Spec) HigherIsBetter() bool { return s.Dataset != "sinusoid" }

// MetricName is the name of the task metric: "acc" (classification) or
// "mse" (regression).
func (s Spec) MetricName() string {
	if s.HigherIsBetter() {
		return "acc"
	}
	return "mse"
}
