package transfer

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// Arch describes a classifier architecture as a flat nn.Sequential, so that
// a checkpoint can record it and a later run can rebuild the model.
//
//	mlp:   Linear(In[0], Hidden[0]), ReLU, ..., Linear(Hidden[-1], Classes)
//	conv4: 4 x [Conv2d 3x3 (Hidden[0] filters, pad 1), BatchNorm, ReLU,
//	       MaxPool 2x2], Flatten, Linear(features, Classes) on In = [C,H,W]
//	       (the few-shot embedding network of Vinyals et al. 2016)
type Arch struct {
	Kind    string `json:"kind"`
	In      []int  `json:"in"`
	Hidden  []int  `json:"hidden,omitempty"`
	Classes int    `json:"classes"`
}

// String is the compact form ParseArch reads back with In and Classes.
func (a Arch) String() string {
	h := make([]string, len(a.Hidden))
	for i, v := range a.Hidden {
		h[i] = strconv.Itoa(v)
	}
	return a.Kind + ":" + strings.Join(h, ",")
}

// ParseArch reads "mlp:H1,H2,..." (hidden widths; "mlp:" or "linear" is a
// linear classifier) or "conv4:F" (F filters).
func ParseArch(text string, in []int, classes int) (Arch, error) {
	kind, rest, _ := strings.Cut(strings.TrimSpace(text), ":")
	a := Arch{Kind: kind, In: slices.Clone(in), Classes: classes}
	if kind == "linear" {
		a.Kind = "mlp"
		rest = ""
	}
	if rest != "" {
		for _, f := range strings.Split(rest, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || v < 1 {
				return a, fmt.Errorf("architecture %q: %q is not a positive width", text, f)
			}
			a.Hidden = append(a.Hidden, v)
		}
	}
	if a.Kind == "conv4" && len(a.Hidden) == 0 {
		a.Hidden = []int{64}
	}
	return a, a.Validate()
}

// Validate checks the description.
func (a Arch) Validate() error {
	if a.Classes < 1 {
		return fmt.Errorf("architecture %s: %d classes, want >= 1", a, a.Classes)
	}
	switch a.Kind {
	case "mlp":
		if len(a.In) != 1 || a.In[0] < 1 {
			return fmt.Errorf("architecture %s: input shape %v, want [features] (flat inputs)", a, a.In)
		}
	case "conv4":
		if len(a.In) != 3 || a.In[0] < 1 || a.In[1] < 16 || a.In[2] < 16 {
			return fmt.Errorf("architecture %s: input shape %v, want [C, H, W] with H, W >= 16", a, a.In)
		}
		if len(a.Hidden) != 1 {
			return fmt.Errorf("architecture %s: want conv4:F with one filter count", a)
		}
	default:
		return fmt.Errorf("architecture %q: unknown kind (want mlp:H,... , linear or conv4:F)", a.Kind)
	}
	for _, h := range a.Hidden {
		if h < 1 {
			return fmt.Errorf("architecture %s: width %d, want >= 1", a, h)
		}
	}
	return nil
}

// Build returns a freshly initialised model.
func (a Arch) Build(rng *rand.Rand) (*nn.Sequential, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if a.Kind == "mlp" {
		sizes := append(append([]int{a.In[0]}, a.Hidden...), a.Classes)
		return nn.MLP(rng, nn.ReLU, sizes...), nil
	}
	f := a.Hidden[0]
	s := nn.NewSequential()
	c, h, w := a.In[0], a.In[1], a.In[2]
	for i := 0; i < 4; i++ {
		s.AppendBlock(nn.NewConvBlock(rng, c, f, 3, 1, 1, true))
		c, h, w = f, h/2, w/2
	}
	s.Append(nn.Flatten(), nn.NewLinear(rng, c*h*w, a.Classes))
	return s, nil
}

// Builder adapts Build to Source.Build.
func (a Arch) Builder() func(*rand.Rand) (*nn.Sequential, error) { return a.Build }

// Metadata keys of source checkpoints written by SaveSource.
const (
	metaArch    = "transfer.arch"
	metaClasses = "transfer.classes"
	metaData    = "transfer.dataset"
)

// SaveSource writes m's weights with its architecture, class names and
// training data name to a safetensors file (atomically).
func SaveSource(path string, m *nn.Sequential, a Arch, classNames []string, dataset string) error {
	ab, _ := json.Marshal(a)
	cb, _ := json.Marshal(classNames)
	return checkpoint.WriteFile(path, checkpoint.ModuleTensors("", m), map[string]string{metaArch: string(ab), metaClasses: string(cb), metaData: dataset})
}

// SourceFile is a source model read by LoadSourceFile.
type SourceFile struct {
	Path       string
	Arch       Arch
	ClassNames []string
	Dataset    string
	Weights    map[string]*tensor.Tensor
}

// LoadSourceFile reads a checkpoint written by SaveSource. A safetensors
// file without the architecture record is an error that says so.
func LoadSourceFile(path string) (*SourceFile, error) {
	ts, meta, err := checkpoint.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sf := &SourceFile{Path: path, Weights: ts, Dataset: meta[metaData]}
	ab, ok := meta[metaArch]
	if !ok {
		return nil, fmt.Errorf("transfer: %s has no %q metadata: not a source model written by `metalearn transfer pretrain` (the architecture is needed to rebuild it)", path, metaArch)
	}
	if err := json.Unmarshal([]byte(ab), &sf.Arch); err != nil {
		return nil, fmt.Errorf("transfer: %s: metadata %q: %v", path, metaArch, err)
	}
	if err := sf.Arch.Validate(); err != nil {
		return nil, fmt.Errorf("transfer: %s: %w", path, err)
	}
	if cb, ok := meta[metaClasses]; ok {
		if err := json.Unmarshal([]byte(cb), &sf.ClassNames); err != nil {
			return nil, fmt.Errorf("transfer: %s: metadata %q: %v", path, metaClasses, err)
		}
	}
	return sf, nil
}

// Source is a source model for GainReport and TransferMatrix: how to build
// the architecture, and the trained weights (nil: no source, scratch only).
type Source struct {
	Name    string
	Build   func(rng *rand.Rand) (*nn.Sequential, error)
	Weights map[string]*tensor.Tensor
}

// targetModel builds a model for a target with the given classes: source
// weights loaded unless the strategy is Scratch, the head replaced by a
// fresh one unless keepHead.
func (src Source) targetModel(s Strategy, classes int, keepHead bool, seed uint64) (*nn.Sequential, error) {
	rng := rand.New(rand.NewPCG(seed, 0x74676d))
	m, err := src.Build(rng)
	if err != nil {
		return nil, err
	}
	if s.UsesSource() {
		if src.Weights == nil {
			return nil, fmt.Errorf("transfer: strategy %s needs source weights, and source %q has none", s.Name(), src.Name)
		}
		if err := LoadSource(m, src.Weights, !keepHead, src.Name); err != nil {
			return nil, err
		}
	}
	if !keepHead {
		if err := ReplaceHead(m, classes, rand.New(rand.NewPCG(seed, 0x68656164))); err != nil {
			return nil, err
		}
	}
	return m, nil
}
