package mt

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// Architectures of a translation model (ModelSpec.Arch).
const (
	// ArchShared is the multilingual model of Johnson et al. (2017): one
	// encoder, one decoder and one vocabulary for every language, the
	// target language chosen by a tag token <2xx> in front of the source.
	// Trained on one pair it is the bilingual baseline.
	ArchShared = "shared"
	// ArchSeparateDecoders is the shared + task-specific design: the
	// embedding (tied with the output layer) and the encoder are shared,
	// each target language has its own decoder stack, selected by the
	// target language (the tag stays on the source).
	ArchSeparateDecoders = "separate-decoders"
)

// ModelFormat is the "format" metadata entry of a translation model file;
// the version is ModelSpec.Version.
const ModelFormat = "metalearn-mt"

// ModelVersion is the current ModelSpec.Version.
const ModelVersion = 1

// ModelSpec is the architecture of a translation model, stored in its file.
type ModelSpec struct {
	Version       int     `json:"version"`
	Arch          string  `json:"arch"`
	DModel        int     `json:"d_model"`
	Heads         int     `json:"heads"`
	EncoderLayers int     `json:"encoder_layers"`
	DecoderLayers int     `json:"decoder_layers"`
	FFN           int     `json:"ffn"`
	Dropout       float64 `json:"dropout"`
	NormFirst     bool    `json:"norm_first"`
	Activation    string  `json:"activation,omitempty"`
	// Pairs are the directions the model was trained on ("en-de").
	Pairs []string `json:"pairs"`
	// Targets are the languages with a decoder (ArchSeparateDecoders),
	// sorted; empty for ArchShared.
	Targets []string `json:"targets,omitempty"`
	Seed    uint64   `json:"seed"`
}

// ParsePair splits "en-de" into its source and target languages.
func ParsePair(p string) (src, tgt string, err error) {
	a, b, ok := strings.Cut(p, "-")
	if !ok || a == "" || b == "" || strings.Contains(b, "-") || a == b {
		return "", "", fmt.Errorf("language pair %q: want two different language codes as src-tgt, e.g. en-de", p)
	}
	return a, b, nil
}

// Languages returns the sorted languages of the spec's pairs.
func (s ModelSpec) Languages() []string {
	seen := map[string]bool{}
	for _, p := range s.Pairs {
		a, b, _ := ParsePair(p)
		seen[a], seen[b] = true, true
	}
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

func (s ModelSpec) transformer() nn.TransformerConfig {
	return nn.TransformerConfig{DModel: s.DModel, Heads: s.Heads, EncoderLayers: s.EncoderLayers, DecoderLayers: s.DecoderLayers,
		FFN: s.FFN, Dropout: s.Dropout, NormFirst: s.NormFirst, Activation: s.Activation, Seed: s.Seed}
}

func (s ModelSpec) validate() error {
	if s.Version != ModelVersion {
		return fmt.Errorf("model spec version %d, this build reads version %d", s.Version, ModelVersion)
	}
	if s.Arch != ArchShared && s.Arch != ArchSeparateDecoders {
		return fmt.Errorf("architecture %q, want %q or %q", s.Arch, ArchShared, ArchSeparateDecoders)
	}
	if len(s.Pairs) == 0 {
		return errors.New("no language pairs")
	}
	for _, p := range s.Pairs {
		if _, _, err := ParsePair(p); err != nil {
			return err
		}
	}
	if s.Arch == ArchSeparateDecoders {
		if len(s.Targets) == 0 || !slices.IsSorted(s.Targets) {
			return fmt.Errorf("separate decoders need a sorted, non-empty target list, got %v", s.Targets)
		}
	} else if len(s.Targets) != 0 {
		return fmt.Errorf("architecture %q has no per-language decoders, got targets %v", s.Arch, s.Targets)
	}
	return nil
}

// Model is a translation model: the architecture, the subword vocabulary
// (with a <2xx> tag for each language) and the network. For ArchShared it
// is one nn.Seq2Seq; for ArchSeparateDecoders one nn.Seq2Seq per target
// language whose embedding and encoder are the same variables, so a
// gradient through any of them reaches the shared weights.
type Model struct {
	Spec  ModelSpec
	Vocab *Vocab
	nets  map[string]*nn.Seq2Seq // "" for ArchShared, else the target language
	first *nn.Seq2Seq            // owner of the shared weights
	// evaluating is true once SetTraining(false) ran: Translate then
	// switches nothing, so concurrent translations only read the model
	evaluating bool
}

// NewModel builds a randomly initialised model (seeded by spec.Seed) over
// vocab, which must have a language tag for every language of spec.Pairs.
func NewModel(spec ModelSpec, vocab *Vocab) (*Model, error) {
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("mt: %w", err)
	}
	for _, l := range spec.Languages() {
		if _, ok := vocab.LanguageID(l); !ok {
			return nil, fmt.Errorf("mt: the vocabulary has no tag for language %q (tags: %v)", l, vocab.Languages())
		}
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x6d74))
	m := &Model{Spec: spec, Vocab: vocab, nets: map[string]*nn.Seq2Seq{}}
	targets := spec.Targets
	if spec.Arch == ArchShared {
		targets = []string{""}
	}
	for _, t := range targets {
		net, err := nn.NewSeq2Seq(rng, vocab.Size(), spec.transformer())
		if err != nil {
			return nil, fmt.Errorf("mt: %w", err)
		}
		if m.first == nil {
			m.first = net
		} else {
			net.Embed = m.first.Embed
			net.Transformer.Encoder = m.first.Transformer.Encoder
			net.Transformer.EncoderNorm = m.first.Transformer.EncoderNorm
		}
		m.nets[t] = net
	}
	return m, nil
}

// Params returns every weight once, named: for ArchShared the names of
// nn.Seq2Seq ("embed.weight", "transformer.encoder...", ...); for
// ArchSeparateDecoders the shared ones ("embed.weight",
// "transformer.encoder...") and each target's decoder under
// "decoder.<lang>." ("decoder.de.transformer.decoder.layers.0...").
func (m *Model) Params() []nn.Param {
	if m.Spec.Arch == ArchShared {
		return m.first.Params()
	}
	var out []nn.Param
	for _, p := range m.first.Params() {
		if !strings.HasPrefix(p.Name, "transformer.decoder.") {
			out = append(out, p)
		}
	}
	for _, t := range m.Spec.Targets {
		for _, p := range m.nets[t].Params() {
			if strings.HasPrefix(p.Name, "transformer.decoder.") {
				out = append(out, nn.Param{Name: "decoder." + t + "." + p.Name, V: p.V})
			}
		}
	}
	return out
}

// net returns the network translating into tgt.
func (m *Model) net(tgt string) (*nn.Seq2Seq, []*autodiff.Var, error) {
	key := ""
	if m.Spec.Arch == ArchSeparateDecoders {
		key = tgt
	}
	n, ok := m.nets[key]
	if !ok {
		return nil, nil, fmt.Errorf("mt: the model has no decoder for target language %q (it has %v)", tgt, m.Spec.Targets)
	}
	ps := n.Params()
	w := make([]*autodiff.Var, len(ps))
	for i, p := range ps {
		w[i] = p.V
	}
	return n, w, nil
}

// SetTraining switches dropout on or off.
func (m *Model) SetTraining(t bool) {
	m.evaluating = !t
	for _, n := range m.nets {
		n.SetTraining(t)
	}
}

// reseed restarts the dropout streams of every network from seed.
func (m *Model) reseed(seed uint64) {
	for _, t := range m.targets() {
		m.nets[t].Reseed(seed ^ hashString(t))
	}
}

func (m *Model) targets() []string {
	if m.Spec.Arch == ArchShared {
		return []string{""}
	}
	return m.Spec.Targets
}

// CanTranslateInto reports whether tgt has a tag (and, for separate
// decoders, a decoder).
func (m *Model) CanTranslateInto(tgt string) error {
	if _, ok := m.Vocab.LanguageID(tgt); !ok {
		return fmt.Errorf("mt: unknown target language %q: the model knows %s", tgt, strings.Join(m.Vocab.Languages(), ", "))
	}
	if m.Spec.Arch == ArchSeparateDecoders && !slices.Contains(m.Spec.Targets, tgt) {
		return fmt.Errorf("mt: the model has no decoder for target language %q (it has %s)", tgt, strings.Join(m.Spec.Targets, ", "))
	}
	return nil
}

// EncodeSource returns the model input for text into tgt: the tag <2tgt>,
// the subwords, the end of sentence, truncated to maxLen tokens (0: no
// limit) with the end of sentence kept.
func (m *Model) EncodeSource(text, tgt string, maxLen int) ([]int, error) {
	tag, ok := m.Vocab.LanguageID(tgt)
	if !ok {
		return nil, fmt.Errorf("mt: unknown target language %q: the model knows %s", tgt, strings.Join(m.Vocab.Languages(), ", "))
	}
	ids := append([]int{tag}, m.Vocab.Encode(text)...)
	if maxLen > 1 && len(ids) > maxLen-1 {
		ids = ids[:maxLen-1]
	}
	return append(ids, EOS), nil
}

// EncodeTarget returns the decoder's teacher-forcing row for text: begin
// of sentence, subwords, end of sentence (truncated to maxLen, end kept).
func (m *Model) EncodeTarget(text string, maxLen int) []int {
	ids := append([]int{BOS}, m.Vocab.Encode(text)...)
	if maxLen > 1 && len(ids) > maxLen-1 {
		ids = ids[:maxLen-1]
	}
	return append(ids, EOS)
}

// Reserved ids of every Vocab.
const (
	PAD = 0
	BOS = 1
	EOS = 2
)

// Loss is the label-smoothed token cross-entropy of the batch (all pairs
// into tgt) and the number of target tokens it averages over.
func (m *Model) Loss(tgt string, src, dst nn.Tokens, smoothing float64) (*autodiff.Var, int, error) {
	n, w, err := m.net(tgt)
	if err != nil {
		return nil, 0, err
	}
	l, k := n.Loss(w, src, dst, smoothing)
	return l, k, nil
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Save writes the model to path atomically as safetensors: the weights
// under their Params names and, in the metadata, "format" (ModelFormat),
// "spec" (ModelSpec JSON), "vocab" (Vocab.Marshal) and extra entries.
func (m *Model) Save(path string, extra map[string]string) error {
	return m.saveWith(path, nil, extra)
}

func (m *Model) saveWith(path string, more []checkpoint.Named, extra map[string]string) error {
	spec, err := json.Marshal(m.Spec)
	if err != nil {
		return err
	}
	voc, err := m.Vocab.Marshal()
	if err != nil {
		return err
	}
	md := map[string]string{}
	for k, v := range extra {
		md[k] = v
	}
	md["format"], md["spec"], md["vocab"] = ModelFormat, string(spec), string(voc)
	var ts []checkpoint.Named
	for _, p := range m.Params() {
		ts = append(ts, checkpoint.Named{Name: p.Name, Tensor: p.V.Value})
	}
	return checkpoint.WriteFile(path, append(ts, more...), md)
}

// LoadModel reads a model file written by Model.Save (or a training
// checkpoint, whose extra tensors it ignores) and returns the model with
// its weights and the file's metadata.
func LoadModel(path string) (*Model, map[string]string, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("model file %s does not exist (train one with `metalearn mt train`)", path)
		}
		return nil, nil, fmt.Errorf("model file %s: %w", path, err)
	}
	ts, md, err := checkpoint.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("model file %s: not a safetensors file: %w", path, err)
	}
	m, err := modelFromTensors(ts, md, path)
	if err != nil {
		return nil, nil, err
	}
	return m, md, nil
}

func modelFromTensors(ts map[string]*tensor.Tensor, md map[string]string, path string) (*Model, error) {
	if md["format"] != ModelFormat {
		return nil, fmt.Errorf("model file %s: not a translation model (format %q, want %q)", path, md["format"], ModelFormat)
	}
	var spec ModelSpec
	dec := json.NewDecoder(strings.NewReader(md["spec"]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("model file %s: bad \"spec\" metadata: %v", path, err)
	}
	voc, err := UnmarshalVocab([]byte(md["vocab"]))
	if err != nil {
		return nil, fmt.Errorf("model file %s: bad \"vocab\" metadata: %v", path, err)
	}
	// check the sizes against the file before allocating a network
	if spec.DModel < 1 || spec.DModel > 1<<16 || spec.FFN < 1 || spec.FFN > 1<<20 || spec.EncoderLayers < 0 || spec.EncoderLayers > 256 ||
		spec.DecoderLayers < 0 || spec.DecoderLayers > 256 || len(spec.Targets) > 1024 {
		return nil, fmt.Errorf("model file %s: implausible architecture in \"spec\" (d_model %d, ffn %d, %d+%d layers, %d decoders)",
			path, spec.DModel, spec.FFN, spec.EncoderLayers, spec.DecoderLayers, len(spec.Targets))
	}
	if e, ok := ts["embed.weight"]; !ok || !tensor.SameShape(e.Shape(), []int{voc.Size(), spec.DModel}) {
		return nil, fmt.Errorf("model file %s: tensor \"embed.weight\" missing or not [%d %d] (vocabulary size, d_model)", path, voc.Size(), spec.DModel)
	}
	m, err := NewModel(spec, voc)
	if err != nil {
		return nil, fmt.Errorf("model file %s: %v", path, err)
	}
	if err := m.setWeights(ts, path); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) setWeights(ts map[string]*tensor.Tensor, path string) error {
	ps := m.Params()
	vals := make([]*tensor.Tensor, len(ps))
	for i, p := range ps {
		t, ok := ts[p.Name]
		if !ok {
			return fmt.Errorf("model file %s: missing tensor %q", path, p.Name)
		}
		if !tensor.SameShape(t.Shape(), p.V.Shape()) {
			return fmt.Errorf("model file %s: tensor %q has shape %v, the architecture wants %v", path, p.Name, t.Shape(), p.V.Shape())
		}
		if t.HasNaNOrInf() {
			return fmt.Errorf("model file %s: tensor %q holds NaN or infinite values", path, p.Name)
		}
		if t.DType() != p.V.DType() {
			t = t.AsType(p.V.DType())
		}
		vals[i] = t
	}
	for i, p := range ps {
		p.V.Value = vals[i]
	}
	return nil
}
