package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
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

// Algorithms lists the accepted algorithm names.
// "pretrain" is the MAML paper's baseline: supervised training on pooled
// tasks (Pretrain), then fine-tuning with plain SGD at evaluation.
var Algorithms = []string{"maml", "fomaml", "anil", "metasgd", "maml++", "reptile", "protonet", "r2d2", "pretrain"}

// Defaults fills unset fields with the standard settings of the papers.
func (s *Spec) Defaults() {
	if s.Dataset == "" {
		s.Dataset = "sinusoid"
	}
	if s.Algorithm == "" {
		s.Algorithm = "maml"
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
	known := false
	for _, a := range Algorithms {
		known = known || a == s.Algorithm
	}
	switch {
	case !known:
		return fmt.Errorf("algorithm %q, want one of %s", s.Algorithm, strings.Join(Algorithms, ", "))
	case s.Dataset != "sinusoid" && s.Dataset != "omniglot":
		return fmt.Errorf("dataset %q, want sinusoid or omniglot", s.Dataset)
	case s.Dataset == "omniglot" && s.Algorithm == "pretrain":
		return fmt.Errorf("algorithm pretrain is the sinusoid baseline; use transfer learning for classification")
	case s.Dataset == "sinusoid" && MetricBased(s.Algorithm):
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
	case s.BatchNorm == "per-step" && !isMAMLFamily(s.Algorithm):
		return fmt.Errorf("batchnorm per-step needs a MAML-family algorithm, not %s", s.Algorithm)
	case s.Recompute && !(s.Algorithm == "maml" || s.Algorithm == "metasgd" || (s.Algorithm == "maml++" && !s.MultiStepLoss)):
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

// MetricBased reports whether algorithm a classifies by distances to (or a
// closed-form head on) support embeddings, with no adaptation steps: its
// checkpoints serve any number of ways and shots.
func MetricBased(a string) bool { return a == "protonet" || a == "r2d2" }

func isMAMLFamily(a string) bool {
	switch a {
	case "maml", "fomaml", "anil", "metasgd", "maml++":
		return true
	}
	return false
}

// Built is an algorithm with the modules it owns, for checkpointing.
type Built struct {
	Algorithm Algorithm
	Body      nn.Module // nil unless ANIL
	Model     nn.Module // the (head) network / encoder
	Spec      Spec
}

// Build creates the model and algorithm described by s, initialised from s.Seed.
func Build(s Spec) (*Built, error) {
	s.Defaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x6d6f64656c))
	b := &Built{Spec: s}
	var body, head nn.Module
	if s.Dataset == "sinusoid" {
		if s.Algorithm == "anil" {
			body = nn.NewSequential(nn.NewLinear(rng, 1, s.Hidden), nn.ReLU(), nn.NewLinear(rng, s.Hidden, s.Hidden), nn.ReLU())
			head = nn.NewLinear(rng, s.Hidden, 1)
		} else {
			head = nn.MLP(rng, nn.ReLU, 1, s.Hidden, s.Hidden, 1)
		}
	} else {
		enc := s.encoder(rng)
		switch s.Algorithm {
		case "protonet", "r2d2":
			head = enc
		case "anil":
			body, head = enc, nn.NewLinear(rng, s.Hidden, s.Ways)
		default:
			head = nn.NewSequential(enc, nn.NewLinear(rng, s.Hidden, s.Ways))
		}
	}
	b.Body, b.Model = body, head
	var err error
	cfg := MAMLConfig{InnerLR: s.InnerLR, InnerSteps: s.InnerSteps, EvalSteps: s.EvalSteps, Recompute: s.Recompute}
	switch s.Algorithm {
	case "maml", "anil", "pretrain":
		b.Algorithm, err = NewMAML(body, head, cfg)
	case "fomaml":
		cfg.FirstOrder = true
		b.Algorithm, err = NewMAML(nil, head, cfg)
	case "metasgd":
		cfg.LRMode = MetaSGD
		b.Algorithm, err = NewMAML(nil, head, cfg)
	case "maml++":
		cfg.LRMode = PerLayerPerStep
		cfg.MultiStepLoss = s.MultiStepLoss
		b.Algorithm, err = NewMAML(nil, head, cfg)
	case "reptile":
		b.Algorithm, err = NewReptile(head, ReptileConfig{InnerLR: s.InnerLR, InnerSteps: s.InnerSteps, EvalSteps: s.EvalSteps, InnerAdam: s.InnerAdam, InnerBatch: s.InnerBatch, CarryAdam: s.CarryAdam})
	case "protonet":
		b.Algorithm, err = NewProtoNet(head, Prototypes)
	case "r2d2":
		b.Algorithm, err = NewProtoNet(head, Ridge)
	}
	if err != nil {
		return nil, err
	}
	if m, ok := b.Algorithm.(*MAML); ok && s.BatchNorm == "per-step" {
		// one structural copy per step (their own parameters are unused)
		for i := 0; i <= max(s.InnerSteps, s.EvalSteps); i++ {
			m.StepModules = append(m.StepModules, nn.NewSequential(s.encoder(rng), nn.NewLinear(rng, s.Hidden, s.Ways)))
		}
	}
	return b, nil
}

// encoder returns the Conv4 feature extractor with BatchNorm configured
// for the spec's mode.
func (s Spec) encoder(rng *rand.Rand) *nn.Sequential {
	enc := nn.Conv4(rng, 1, s.Hidden)
	if s.Arch == "strided" {
		enc = nn.Conv4Strided(rng, 1, s.Hidden)
	}
	for _, l := range enc.Layers {
		if bn, ok := l.(*nn.BatchNorm); ok {
			// transductive: batch statistics at train and test time
			bn.TrackRunningStats = s.BatchNorm != "transductive"
		}
	}
	return enc
}

// Tensors lists every meta-parameter and buffer under a stable name.
func (b *Built) Tensors() []checkpoint.Named {
	var out []checkpoint.Named
	if b.Body != nil {
		out = append(out, checkpoint.ModuleTensors("body", b.Body)...)
	}
	out = append(out, checkpoint.ModuleTensors("model", b.Model)...)
	out = append(out, b.extraTensors()...)
	if c := carrier(b.Algorithm); c != nil {
		for i, t := range c.CarriedState() {
			out = append(out, checkpoint.Named{Name: "carried." + strconv.Itoa(i), Tensor: t})
		}
	}
	for i, sm := range b.stepModules() {
		for _, buf := range nn.Buffers(sm) {
			out = append(out, checkpoint.Named{Name: fmt.Sprintf("step%d.%s", i, buf.Name), Tensor: buf.V.Value})
		}
	}
	return out
}

func (b *Built) stepModules() []nn.Module {
	if m, ok := b.Algorithm.(*MAML); ok {
		return m.StepModules
	}
	return nil
}

func (b *Built) extraVars() []*autodiff.Var {
	switch a := b.Algorithm.(type) {
	case *MAML:
		return a.LearnedLRs()
	case *ProtoNet:
		if a.Head == Ridge {
			return []*autodiff.Var{a.logLambda, a.scale, a.bias}
		}
	}
	return nil
}

func (b *Built) extraTensors() []checkpoint.Named {
	var out []checkpoint.Named
	for i, v := range b.extraVars() {
		out = append(out, checkpoint.Named{Name: "meta." + strconv.Itoa(i), Tensor: v.Value})
	}
	return out
}

// Save writes the checkpoint (weights + spec as metadata) atomically.
func (b *Built) Save(path string, extra map[string]string) error {
	return b.saveTensors(path, b.Tensors(), extra)
}

// saveTensors writes ts with the format and spec metadata plus extra.
func (b *Built) saveTensors(path string, ts []checkpoint.Named, extra map[string]string) error {
	spec, err := json.Marshal(b.Spec)
	if err != nil {
		return err
	}
	meta := map[string]string{}
	for k, v := range extra {
		meta[k] = v
	}
	meta["format"], meta["spec"] = "metalearn-meta/1", string(spec)
	return checkpoint.WriteFile(path, ts, meta)
}

// Load rebuilds the experiment recorded in a checkpoint and loads its weights.
func Load(path string) (*Built, error) {
	b, _, _, err := load(path)
	return b, err
}

func load(path string) (*Built, map[string]*tensor.Tensor, map[string]string, error) {
	ts, meta, err := checkpoint.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	if meta["format"] != "metalearn-meta/1" {
		return nil, nil, nil, fmt.Errorf("checkpoint %s: not a metalearn meta-learning checkpoint (format %q)", path, meta["format"])
	}
	var s Spec
	dec := json.NewDecoder(strings.NewReader(meta["spec"]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, nil, nil, fmt.Errorf("checkpoint %s: bad spec metadata: %v", path, err)
	}
	// Compare the model the spec describes with what the file holds before
	// building it, so a small file cannot make us allocate a huge model.
	held := 0.0
	for _, t := range ts {
		held += float64(t.Len())
	}
	if s.Defaults(); s.approxParams() > 4*held+1e6 {
		return nil, nil, nil, fmt.Errorf("checkpoint %s: its spec describes a model of about %.3g values but the file holds %.3g; the file is corrupt or from another model", path, s.approxParams(), held)
	}
	b, err := Build(s)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("checkpoint %s: %v", path, err)
	}
	if b.Body != nil {
		if err := checkpoint.LoadInto(ts, "body", b.Body, path); err != nil {
			return nil, nil, nil, err
		}
	}
	if err := checkpoint.LoadInto(ts, "model", b.Model, path); err != nil {
		return nil, nil, nil, err
	}
	for i, v := range b.extraVars() {
		t, ok := ts["meta."+strconv.Itoa(i)]
		if !ok || !tensor.SameShape(t.Shape(), v.Value.Shape()) {
			return nil, nil, nil, fmt.Errorf("checkpoint %s: missing or mis-shaped tensor %q", path, "meta."+strconv.Itoa(i))
		}
		if t.HasNaNOrInf() {
			return nil, nil, nil, fmt.Errorf("checkpoint %s: tensor %q holds NaN or infinite values; refusing non-finite learning rates", path, "meta."+strconv.Itoa(i))
		}
		v.Value = t.AsType(v.Value.DType()).Clone()
	}
	if c := carrier(b.Algorithm); c != nil {
		like := c.CarriedState()
		got := make([]*tensor.Tensor, len(like))
		for i := range like {
			name := "carried." + strconv.Itoa(i)
			t, ok := ts[name]
			if !ok || !tensor.SameShape(t.Shape(), like[i].Shape()) {
				return nil, nil, nil, fmt.Errorf("checkpoint %s: missing or mis-shaped tensor %q (%s's carried state, shape %v)", path, name, s.Algorithm, like[i].Shape())
			}
			got[i] = t
		}
		if err := c.SetCarriedState(got); err != nil {
			return nil, nil, nil, fmt.Errorf("checkpoint %s: %v", path, err)
		}
	}
	for i, sm := range b.stepModules() {
		for _, buf := range nn.Buffers(sm) {
			name := fmt.Sprintf("step%d.%s", i, buf.Name)
			t, ok := ts[name]
			if !ok || !tensor.SameShape(t.Shape(), buf.V.Value.Shape()) {
				return nil, nil, nil, fmt.Errorf("checkpoint %s: missing or mis-shaped tensor %q", path, name)
			}
			if t.HasNaNOrInf() {
				return nil, nil, nil, fmt.Errorf("checkpoint %s: tensor %q holds NaN or infinite values; refusing non-finite statistics", path, name)
			}
			buf.V.Value = t.AsType(buf.V.Value.DType()).Clone()
		}
	}
	return b, ts, meta, nil
}

// Tasks returns the task distribution of a split ("train", "val" or
// "test"). For sinusoid all splits draw from the same family.
func (s Spec) Tasks(split string) (data.TaskDistribution, error) {
	if split != "train" && split != "val" && split != "test" {
		return nil, fmt.Errorf("split %q, want train, val or test", split)
	}
	shots := s.Shots
	if split == "train" && s.TrainShots > 0 {
		shots = s.TrainShots
	}
	if s.Dataset == "sinusoid" {
		return data.Sinusoid{Support: shots, Query: s.Queries}, nil
	}
	ds, err := s.omniglotSplit(split)
	if err != nil {
		return nil, err
	}
	return data.NewEpisodic(ds, s.Ways, shots, s.Queries)
}

// HigherIsBetter reports whether the metric is an accuracy.
func (s Spec) HigherIsBetter() bool { return s.Dataset != "sinusoid" }

func (s Spec) omniglotDir() string {
	dir := s.DataDir
	if dir == "" {
		dir = filepath.Join("..", "shared", "data")
	}
	return filepath.Join(dir, "omniglot")
}

type omniglotKey struct {
	dir, split string
	seed       uint64
}

var (
	omniglotMu    sync.Mutex
	omniglotCache = map[omniglotKey][3]*data.ClassDataset{}
)

// ErrNoValidation is returned for the validation split of the MAML-paper
// Omniglot split, which has none.
var ErrNoValidation = errors.New("the MAML-paper Omniglot split has no validation classes")

// omniglotSplit loads (once per process) and returns a split's classes:
// Vinyals train/val/test (4112/688/1692 classes with rotations) or the
// MAML-paper split train/test (4800/1692), at 28x28.
func (s Spec) omniglotSplit(split string) (*data.ClassDataset, error) {
	dir := s.omniglotDir()
	key := omniglotKey{dir, s.Split, 0}
	if s.Split == "maml" {
		key.seed = s.Seed
	}
	omniglotMu.Lock()
	defer omniglotMu.Unlock()
	sets, ok := omniglotCache[key]
	if !ok {
		if s.Split == "vinyals" {
			tr, va, te, err := data.LoadOmniglotVinyals(dir, 28)
			if err != nil {
				return nil, fmt.Errorf("%w (Omniglot: put images_background.npz, images_evaluation.npz, alphabets.tsv and splits_vinyals/ in %s, or pass --data-dir)", err, dir)
			}
			sets = [3]*data.ClassDataset{tr, va, te}
		} else {
			all, err := data.LoadOmniglotAll(dir, 28)
			if err != nil {
				return nil, fmt.Errorf("%w (Omniglot: put images_background.npz and images_evaluation.npz in %s, or pass --data-dir)", err, dir)
			}
			tr, te, err := data.MAMLSplit(all, s.Seed)
			if err != nil {
				return nil, err
			}
			sets = [3]*data.ClassDataset{tr, nil, te}
		}
		omniglotCache[key] = sets
	}
	switch split {
	case "train":
		return sets[0], nil
	case "val":
		if sets[1] == nil {
			return nil, ErrNoValidation
		}
		return sets[1], nil
	case "test":
		return sets[2], nil
	}
	return nil, fmt.Errorf("split %q, want train, val or test", split)
}
