package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/mt"
	"github.com/metalearn/metalearn/mtl"
	"github.com/metalearn/metalearn/transfer"
)

// Config is one run.
type Config struct {
	// Kind is the run type: meta, mtl, transfer or mt.
	Kind string `yaml:"kind" json:"kind"`
	// Name labels the run; the default run folder is runs/<name>.
	Name string `yaml:"name" json:"name"`
	Seed uint64 `yaml:"seed" json:"seed"`
	// DataDir is where datasets are looked up (default: $METALEARN_DATA,
	// else ../shared/data).
	DataDir string `yaml:"data_dir" json:"data_dir"`
	// Out is the run folder (default runs/<name>).
	Out string `yaml:"out" json:"out"`
	// CheckpointEvery writes a resumable checkpoint every N iterations
	// (meta) or steps (mtl); default: a tenth of the run.
	CheckpointEvery int `yaml:"checkpoint_every" json:"checkpoint_every"`
	// OnNonFinite is what a NaN/Inf loss or gradient does: stop (default,
	// with an error naming the step and the last good checkpoint) or skip
	// (the step is skipped and counted).
	OnNonFinite string `yaml:"on_nonfinite" json:"on_nonfinite"`

	Meta     *Meta     `yaml:"meta,omitempty" json:"meta,omitempty"`
	MTL      *MTL      `yaml:"mtl,omitempty" json:"mtl,omitempty"`
	Transfer *Transfer `yaml:"transfer,omitempty" json:"transfer,omitempty"`
	MT       *MT       `yaml:"mt,omitempty" json:"mt,omitempty"`

	file string
	root *yaml.Node
	set  map[string]bool // keys given by overrides
}

// Meta configures a meta-learning run (see meta.Spec and meta.TrainConfig).
type Meta struct {
	Algorithm     string  `yaml:"algorithm" json:"algorithm"`
	Dataset       string  `yaml:"dataset" json:"dataset"`
	Split         string  `yaml:"split,omitempty" json:"split,omitempty"`
	Ways          int     `yaml:"ways,omitempty" json:"ways,omitempty"`
	Shots         int     `yaml:"shots" json:"shots"`
	Queries       int     `yaml:"queries" json:"queries"`
	InnerSteps    int     `yaml:"inner_steps" json:"inner_steps"`
	EvalSteps     int     `yaml:"eval_steps" json:"eval_steps"`
	InnerLR       float64 `yaml:"inner_lr" json:"inner_lr"`
	Hidden        int     `yaml:"hidden" json:"hidden"`
	MultiStepLoss bool    `yaml:"multi_step_loss,omitempty" json:"multi_step_loss,omitempty"`
	InnerAdam     bool    `yaml:"inner_adam,omitempty" json:"inner_adam,omitempty"`
	TrainShots    int     `yaml:"train_shots,omitempty" json:"train_shots,omitempty"`
	InnerBatch    int     `yaml:"inner_batch,omitempty" json:"inner_batch,omitempty"`
	CarryAdam     bool    `yaml:"carry_adam,omitempty" json:"carry_adam,omitempty"`
	Arch          string  `yaml:"arch,omitempty" json:"arch,omitempty"`
	BatchNorm     string  `yaml:"batchnorm,omitempty" json:"batchnorm,omitempty"`
	Recompute     bool    `yaml:"recompute,omitempty" json:"recompute,omitempty"`

	Iterations int     `yaml:"iterations" json:"iterations"`
	MetaBatch  int     `yaml:"meta_batch" json:"meta_batch"`
	OuterLR    float64 `yaml:"outer_lr" json:"outer_lr"`
	// OuterSchedule anneals the outer learning rate: constant, linear or
	// cosine (to 0 over Iterations; default linear for reptile, else
	// constant).
	OuterSchedule string  `yaml:"outer_schedule" json:"outer_schedule"`
	Clip          float64 `yaml:"clip" json:"clip"`
	// MaxMinutes > 0 ends training after that many minutes of training
	// time (the iteration that crosses it is validated and checkpointed;
	// the best validated weights are then tested as usual).
	MaxMinutes float64 `yaml:"max_minutes,omitempty" json:"max_minutes,omitempty"`
	ValEvery   int     `yaml:"val_every" json:"val_every"`
	ValTasks   int     `yaml:"val_tasks" json:"val_tasks"`
	TestTasks  int     `yaml:"test_tasks" json:"test_tasks"`
	Workers    int     `yaml:"workers" json:"workers"`
}

// MTL configures a multi-task run.
type MTL struct {
	// Dataset: circles (built in) or mulan:<set>.
	Dataset   string  `yaml:"dataset" json:"dataset"`
	Tasks     int     `yaml:"tasks,omitempty" json:"tasks,omitempty"`
	PerTask   int     `yaml:"per_task,omitempty" json:"per_task,omitempty"`
	Arch      string  `yaml:"arch" json:"arch"`
	Hidden    int     `yaml:"hidden" json:"hidden"`
	Weighting string  `yaml:"weighting" json:"weighting"`
	Steps     int     `yaml:"steps" json:"steps"`
	LR        float64 `yaml:"lr" json:"lr"`
	// Baselines also trains one single-task model per task and reports
	// Delta_p against them.
	Baselines bool `yaml:"baselines" json:"baselines"`
}

// Transfer configures a transfer run: one `metalearn transfer` command
// (pretrain, finetune, matrix, affinity or domain) with its options, run
// into the run folder. Option names are the command's flags without the
// dashes; transfer.RunFolder checks them (unknown options and bad values
// are errors naming the key and line).
type Transfer struct {
	Command string            `yaml:"command" json:"command"`
	Options map[string]string `yaml:"options,omitempty" json:"options,omitempty"`
}

// MT configures a translation training run: the keys are those of
// mt.TrainConfig (see examples/mt-tiny.yaml); a key left out takes
// mt.DefaultTrainConfig's value.
type MT struct {
	Pairs             []string `yaml:"pairs" json:"pairs"`
	Arch              string   `yaml:"arch" json:"arch"`
	DModel            int      `yaml:"d_model" json:"d_model"`
	Heads             int      `yaml:"heads" json:"heads"`
	EncoderLayers     int      `yaml:"encoder_layers" json:"encoder_layers"`
	DecoderLayers     int      `yaml:"decoder_layers" json:"decoder_layers"`
	FFN               int      `yaml:"ffn" json:"ffn"`
	Dropout           *float64 `yaml:"dropout" json:"dropout"`
	NormFirst         *bool    `yaml:"norm_first" json:"norm_first"`
	VocabSize         int      `yaml:"vocab_size" json:"vocab_size"`
	VocabTemperature  float64  `yaml:"vocab_temperature" json:"vocab_temperature"`
	VocabMaxSentences int      `yaml:"vocab_max_sentences" json:"vocab_max_sentences"`
	Tags              []string `yaml:"tags" json:"tags"`
	MaxPairs          int      `yaml:"max_pairs" json:"max_pairs"`
	MaxLen            int      `yaml:"max_len" json:"max_len"`
	MaxTokens         int      `yaml:"max_tokens" json:"max_tokens"`
	Temperature       float64  `yaml:"temperature" json:"temperature"`
	Steps             int      `yaml:"steps" json:"steps"`
	LR                float64  `yaml:"lr" json:"lr"`
	Warmup            int      `yaml:"warmup" json:"warmup"`
	ClipNorm          *float64 `yaml:"clip_norm" json:"clip_norm"`
	LabelSmoothing    *float64 `yaml:"label_smoothing" json:"label_smoothing"`
	ValEvery          int      `yaml:"val_every" json:"val_every"`
	ValSentences      int      `yaml:"val_sentences" json:"val_sentences"`
	Average           int      `yaml:"average" json:"average"`
	MaxMinutes        float64  `yaml:"max_minutes,omitempty" json:"max_minutes,omitempty"`
	Init              string   `yaml:"init,omitempty" json:"init,omitempty"`
}

// TrainConfig is the mt.TrainConfig the section describes (Data is the
// lo-mt folder under data_dir, Out the run folder).
func (m *MT) TrainConfig(c *Config) mt.TrainConfig {
	t := mt.DefaultTrainConfig()
	t.Data = filepath.Join(c.DataDir, "lo-mt")
	t.Pairs, t.Arch, t.DModel, t.Heads, t.EncoderLayers, t.DecoderLayers, t.FFN = m.Pairs, m.Arch, m.DModel, m.Heads, m.EncoderLayers, m.DecoderLayers, m.FFN
	t.Dropout, t.NormFirst, t.VocabSize, t.VocabTemperature, t.VocabMaxSentences, t.Tags = *m.Dropout, *m.NormFirst, m.VocabSize, m.VocabTemperature, m.VocabMaxSentences, m.Tags
	t.MaxPairs, t.MaxLen, t.MaxTokens, t.Temperature, t.Steps, t.LR, t.Warmup = m.MaxPairs, m.MaxLen, m.MaxTokens, m.Temperature, m.Steps, m.LR, m.Warmup
	t.ClipNorm, t.LabelSmoothing, t.ValEvery, t.ValSentences, t.Average = *m.ClipNorm, *m.LabelSmoothing, m.ValEvery, m.ValSentences, m.Average
	t.CheckpointEvery, t.Seed, t.Out = c.CheckpointEvery, c.Seed, c.Out
	t.MaxDuration = time.Duration(m.MaxMinutes * float64(time.Minute))
	t.Init = m.Init
	return t
}

func (m *MT) defaults(c *Config) {
	d := mt.DefaultTrainConfig()
	setInt := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setFloat := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	if m.Arch == "" {
		m.Arch = d.Arch
	}
	setInt(&m.DModel, d.DModel)
	setInt(&m.Heads, d.Heads)
	setInt(&m.EncoderLayers, d.EncoderLayers)
	setInt(&m.DecoderLayers, d.DecoderLayers)
	setInt(&m.FFN, d.FFN)
	setInt(&m.VocabSize, d.VocabSize)
	setFloat(&m.VocabTemperature, d.VocabTemperature)
	setInt(&m.MaxLen, d.MaxLen)
	setInt(&m.MaxTokens, d.MaxTokens)
	setFloat(&m.Temperature, d.Temperature)
	setInt(&m.Steps, d.Steps)
	setFloat(&m.LR, d.LR)
	setInt(&m.Warmup, d.Warmup)
	setInt(&m.ValEvery, d.ValEvery)
	setInt(&m.ValSentences, d.ValSentences)
	if m.Dropout == nil {
		m.Dropout = &d.Dropout
	}
	if m.NormFirst == nil {
		m.NormFirst = &d.NormFirst
	}
	if m.ClipNorm == nil {
		m.ClipNorm = &d.ClipNorm
	}
	if m.LabelSmoothing == nil {
		m.LabelSmoothing = &d.LabelSmoothing
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = d.CheckpointEvery
	}
}

func (c *Config) validateMT() error {
	m := c.MT
	if len(m.Pairs) == 0 {
		return c.errf("mt.pairs", "missing, want a list of directions such as [en-de, en-fr]")
	}
	for i, p := range m.Pairs {
		if _, _, err := mt.ParsePair(p); err != nil {
			return c.errf("mt.pairs", "entry %d: %v", i+1, err)
		}
	}
	if m.Arch != mt.ArchShared && m.Arch != mt.ArchSeparateDecoders {
		return c.errf("mt.arch", "%q, want %s or %s", m.Arch, mt.ArchShared, mt.ArchSeparateDecoders)
	}
	switch {
	case m.DModel < 1 || m.Heads < 1 || m.DModel%m.Heads != 0:
		return c.errf("mt.d_model", "%d, want a positive multiple of mt.heads (%d)", m.DModel, m.Heads)
	case *m.Dropout < 0 || *m.Dropout >= 1:
		return c.errf("mt.dropout", "%v, want in [0,1)", *m.Dropout)
	case *m.LabelSmoothing < 0 || *m.LabelSmoothing >= 1:
		return c.errf("mt.label_smoothing", "%v, want in [0,1)", *m.LabelSmoothing)
	case m.Steps < 1:
		return c.errf("mt.steps", "%d, want >= 1", m.Steps)
	case !finitePos(m.LR):
		return c.errf("mt.lr", "%v, want a finite value > 0", m.LR)
	case m.MaxMinutes < 0 || math.IsNaN(m.MaxMinutes):
		return c.errf("mt.max_minutes", "%v, want minutes >= 0 (0: no limit)", m.MaxMinutes)
	}
	return nil
}

// Kinds lists the run types.
var Kinds = []string{"meta", "mtl", "transfer", "mt"}

// Load reads, checks and completes the configuration in file, applying
// overrides ("key.path=value") after the file and before the defaults.
func Load(file string, overrides []string) (*Config, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("config %s: no such file", file)
		}
		return nil, fmt.Errorf("config %s: %w", file, err)
	}
	return Parse(file, b, overrides)
}

// Parse is Load on the bytes of a file (file names it in errors).
func Parse(file string, src []byte, overrides []string) (*Config, error) {
	c := &Config{file: file, set: map[string]bool{}}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, c.yamlErr(err)
	}
	if len(bytes.TrimSpace(src)) == 0 || root.Kind == 0 {
		return nil, fmt.Errorf("config %s: empty file (want at least \"kind: meta|mtl|transfer|mt\")", file)
	}
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 && root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: the top level must be a mapping of keys (kind, name, meta, ...)", file, root.Content[0].Line)
	}
	c.root = &root
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return nil, c.yamlErr(err)
	}
	if err := c.checkWhole(); err != nil {
		return nil, err
	}
	for _, o := range overrides {
		if err := c.Set(o); err != nil {
			return nil, err
		}
	}
	c.defaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

var (
	reUnknown = regexp.MustCompile(`^line (\d+): field (\S+) not found in type config\.(\w+)$`)
	reLine    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

var section = map[string]string{"Config": "the top level", "Meta": "meta", "MTL": "mtl", "Transfer": "transfer"}

// yamlErr rewrites a yaml error as "file:line: message".
func (c *Config) yamlErr(err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msgs = te.Errors
	}
	// a quoted value may span lines (yaml quotes "0\n0" as `0<newline>0`):
	// errors stay on one line
	m := strings.ReplaceAll(msgs[0], "\n", `\n`)
	if s := reUnknown.FindStringSubmatch(m); s != nil {
		typ := reflect.TypeOf(Config{})
		switch s[3] {
		case "Meta":
			typ = reflect.TypeOf(Meta{})
		case "MTL":
			typ = reflect.TypeOf(MTL{})
		case "Transfer":
			typ = reflect.TypeOf(Transfer{})
		}
		return fmt.Errorf("%s:%s: unknown key %q in %s (known keys: %s)", c.file, s[1], s[2], section[s[3]], strings.Join(keys(typ), ", "))
	}
	if s := reLine.FindStringSubmatch(m); s != nil {
		msg := strings.ReplaceAll(s[2], "config.", "")
		return fmt.Errorf("%s:%s: %s", c.file, s[1], msg)
	}
	return fmt.Errorf("config %s: %s", c.file, strings.TrimPrefix(m, "yaml: "))
}

func keys(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" {
			out = append(out, strings.Split(tag, ",")[0])
		}
	}
	return out
}

// Set applies one "key.path=value" override; value is read as YAML.
func (c *Config) Set(kv string) error {
	key, val, ok := strings.Cut(kv, "=")
	if !ok || key == "" {
		return fmt.Errorf("--set %q: want key=value, e.g. meta.iterations=500", kv)
	}
	if !printable(kv) {
		return fmt.Errorf("--set %q: contains control characters", kv)
	}
	v := reflect.ValueOf(c).Elem()
	path := strings.Split(key, ".")
	for i, k := range path {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		if v.Kind() == reflect.Map && i == len(path)-1 && v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String {
			if v.IsNil() {
				v.Set(reflect.MakeMap(v.Type()))
			}
			v.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(val))
			c.set[key] = true
			return nil
		}
		if v.Kind() != reflect.Struct {
			return fmt.Errorf("--set %s: %s is not a section", key, strings.Join(path[:i], "."))
		}
		f, found := field(v, k)
		if !found {
			return fmt.Errorf("--set %s: unknown key %q (known keys: %s)", key, k, strings.Join(keys(v.Type()), ", "))
		}
		v = f
	}
	if v.Kind() == reflect.Pointer || v.Kind() == reflect.Struct {
		return fmt.Errorf("--set %s: is a section, not a value", key)
	}
	p := reflect.New(v.Type())
	if isInt(v.Kind()) {
		var n yaml.Node
		if yaml.Unmarshal([]byte(val), &n) == nil && len(n.Content) == 1 && fractional(n.Content[0]) {
			return fmt.Errorf("--set %s=%s: want a whole number", key, val)
		}
	}
	if err := yaml.Unmarshal([]byte(val), p.Interface()); err != nil {
		return fmt.Errorf("--set %s=%s: %s", key, val, strings.TrimPrefix(strings.ReplaceAll(err.Error(), "yaml: unmarshal errors:\n  line 1: ", ""), "yaml: "))
	}
	v.Set(p.Elem())
	c.set[key] = true
	return nil
}

func isInt(k reflect.Kind) bool {
	return (k >= reflect.Int && k <= reflect.Int64) || (k >= reflect.Uint && k <= reflect.Uint64)
}

// fractional reports a YAML scalar that is a float (yaml would truncate
// 1.5 into an integer field without a word).
func fractional(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float"
}

// checkWhole refuses a float given for an integer key, naming it.
func (c *Config) checkWhole() error {
	var walk func(t reflect.Type, prefix string) error
	walk = func(t reflect.Type, prefix string) error {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" {
				continue
			}
			ft := f.Type
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				if err := walk(ft.Elem(), prefix+tag+"."); err != nil {
					return err
				}
				continue
			}
			if !isInt(ft.Kind()) {
				continue
			}
			if n := c.lookup(prefix + tag); n != nil && fractional(n) {
				return c.errf(prefix+tag, "%s, want a whole number", n.Value)
			}
		}
		return nil
	}
	return walk(reflect.TypeOf(*c), "")
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func field(v reflect.Value, key string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" && strings.Split(tag, ",")[0] == key {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// where names the origin of key: "file:line" or "--set".
func (c *Config) where(key string) string {
	if c.set[key] {
		return "--set " + key
	}
	if n := c.lookup(key); n != nil {
		return fmt.Sprintf("%s:%d: %s", c.file, n.Line, key)
	}
	return fmt.Sprintf("%s: %s (default)", c.file, key)
}

func (c *Config) lookup(key string) *yaml.Node {
	if c.root == nil || len(c.root.Content) == 0 {
		return nil
	}
	n := c.root.Content[0]
	for _, k := range strings.Split(key, ".") {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

func (c *Config) errf(key, format string, args ...any) error {
	return fmt.Errorf("%s: %s", c.where(key), fmt.Sprintf(format, args...))
}

func (c *Config) defaults() {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir()
	}
	if c.OnNonFinite == "" {
		c.OnNonFinite = "stop"
	}
	if c.Name == "" {
		c.Name = c.Kind
	}
	if c.Out == "" {
		c.Out = "runs/" + c.Name
	}
	switch c.Kind {
	case "meta":
		if c.Meta == nil {
			c.Meta = &Meta{}
		}
		m := c.Meta
		s := m.Spec(c)
		s.Defaults()
		m.Algorithm, m.Dataset, m.Split, m.Ways, m.Shots, m.Queries = s.Algorithm, s.Dataset, s.Split, s.Ways, s.Shots, s.Queries
		m.InnerSteps, m.EvalSteps, m.InnerLR, m.Hidden, m.BatchNorm = s.InnerSteps, s.EvalSteps, s.InnerLR, s.Hidden, s.BatchNorm
		if m.Iterations == 0 {
			m.Iterations = 1000
		}
		if a, err := meta.AlgorithmByName(m.Algorithm); err == nil {
			// the algorithm's outer-loop defaults, from meta's table
			if m.MetaBatch == 0 {
				m.MetaBatch = a.DefaultMetaBatch(m.Dataset)
			}
			if m.OuterLR == 0 {
				m.OuterLR = a.OuterLR
			}
			if m.OuterSchedule == "" {
				m.OuterSchedule = a.Schedule
			}
		}
		if m.ValEvery == 0 {
			m.ValEvery = max(m.Iterations/10, 1)
		}
		if m.ValTasks == 0 {
			m.ValTasks = 100
		}
		if m.TestTasks == 0 {
			m.TestTasks = 600
		}
		if c.CheckpointEvery == 0 {
			c.CheckpointEvery = max(m.Iterations/10, 1)
		}
	case "mt":
		if c.MT == nil {
			c.MT = &MT{}
		}
		c.MT.defaults(c)
	case "mtl":
		if c.MTL == nil {
			c.MTL = &MTL{}
		}
		m := c.MTL
		if m.Dataset == "" {
			m.Dataset = "circles"
		}
		if m.Dataset == "circles" {
			if m.Tasks == 0 {
				m.Tasks = 10
			}
			if m.PerTask == 0 {
				m.PerTask = 20
			}
		}
		if m.Arch == "" {
			m.Arch = "hard"
		}
		if m.Hidden == 0 {
			m.Hidden = 32
		}
		if m.Weighting == "" {
			m.Weighting = "ew"
		}
		if m.Steps == 0 {
			m.Steps = 500
		}
		if m.LR == 0 {
			m.LR = 0.01
		}
		if c.CheckpointEvery == 0 {
			c.CheckpointEvery = max(m.Steps/10, 1)
		}
	}
}

// DefaultDataDir is $METALEARN_DATA if set, else ../shared/data.
func DefaultDataDir() string {
	if d := os.Getenv("METALEARN_DATA"); d != "" {
		return d
	}
	return "../shared/data"
}

// Spec is the meta.Spec the configuration describes.
func (m *Meta) Spec(c *Config) meta.Spec {
	return meta.Spec{Algorithm: m.Algorithm, Dataset: m.Dataset, DataDir: c.DataDir, Split: m.Split, Ways: m.Ways, Shots: m.Shots,
		Queries: m.Queries, InnerSteps: m.InnerSteps, EvalSteps: m.EvalSteps, InnerLR: m.InnerLR, Hidden: m.Hidden,
		MultiStepLoss: m.MultiStepLoss, InnerAdam: m.InnerAdam, TrainShots: m.TrainShots, InnerBatch: m.InnerBatch, CarryAdam: m.CarryAdam, Arch: m.Arch, BatchNorm: m.BatchNorm, Recompute: m.Recompute, Seed: c.Seed}
}

// Bounds of a run, far above any real one, so a typo (an extra zero or
// three) is an error rather than a run that never ends.
const (
	maxIterations = 10_000_000 // meta iterations, mtl steps
	maxTasks      = 1_000_000  // validation / test tasks
	maxNameLen    = 128        // the run name (a folder name)
)

func finitePos(v float64) bool { return v > 0 && !math.IsInf(v, 0) }

func (c *Config) validate() error {
	if !slices.Contains(Kinds, c.Kind) {
		if c.Kind == "" {
			return fmt.Errorf("config %s: missing key \"kind\" (want one of %s)", c.file, strings.Join(Kinds, ", "))
		}
		return c.errf("kind", "%q, want one of %s", c.Kind, strings.Join(Kinds, ", "))
	}
	for k, sec := range map[string]bool{"meta": c.Meta != nil, "mtl": c.MTL != nil, "transfer": c.Transfer != nil, "mt": c.MT != nil} {
		if sec && k != c.Kind {
			return c.errf(k, "section %q given but kind is %q", k, c.Kind)
		}
	}
	if c.OnNonFinite != "stop" && c.OnNonFinite != "skip" {
		return c.errf("on_nonfinite", "%q, want stop or skip", c.OnNonFinite)
	}
	if c.CheckpointEvery < 0 {
		return c.errf("checkpoint_every", "%d, want >= 1", c.CheckpointEvery)
	}
	if len(c.Name) > maxNameLen {
		return c.errf("name", "%d characters, want at most %d", len(c.Name), maxNameLen)
	}
	if strings.ContainsAny(c.Name, "/\\") || c.Name == ".." || c.Name == "." {
		return c.errf("name", "%q, want a plain name (no slashes)", c.Name)
	}
	switch c.Kind {
	case "meta":
		return c.validateMeta()
	case "mtl":
		return c.validateMTL()
	case "mt":
		return c.validateMT()
	default:
		return c.validateTransfer()
	}
}

func (c *Config) validateMeta() error {
	m := c.Meta
	if _, err := meta.AlgorithmByName(m.Algorithm); err != nil {
		return c.errf("meta.algorithm", "%q, want one of %s", m.Algorithm, strings.Join(meta.Algorithms, ", "))
	}
	checks := []struct {
		key string
		bad bool
		msg string
	}{
		{"meta.dataset", m.Dataset != "sinusoid" && m.Dataset != "omniglot", fmt.Sprintf("%q, want sinusoid or omniglot", m.Dataset)},
		{"meta.ways", m.Dataset == "omniglot" && m.Ways < 2, fmt.Sprintf("%d, want >= 2", m.Ways)},
		{"meta.shots", m.Shots < 1, fmt.Sprintf("%d, want >= 1", m.Shots)},
		{"meta.queries", m.Queries < 1, fmt.Sprintf("%d, want >= 1", m.Queries)},
		{"meta.inner_steps", m.InnerSteps < 1, fmt.Sprintf("%d, want >= 1", m.InnerSteps)},
		{"meta.eval_steps", m.EvalSteps < 0, fmt.Sprintf("%d, want >= 0", m.EvalSteps)},
		{"meta.inner_lr", !finitePos(m.InnerLR), fmt.Sprintf("%v, want a finite value > 0", m.InnerLR)},
		{"meta.hidden", m.Hidden < 1, fmt.Sprintf("%d, want >= 1", m.Hidden)},
		{"meta.iterations", m.Iterations < 1 || m.Iterations > maxIterations, fmt.Sprintf("%d, want 1..%d", m.Iterations, maxIterations)},
		{"meta.meta_batch", m.MetaBatch < 1, fmt.Sprintf("%d, want >= 1", m.MetaBatch)},
		{"meta.outer_lr", !finitePos(m.OuterLR), fmt.Sprintf("%v, want a finite value > 0", m.OuterLR)},
		{"meta.outer_schedule", !slices.Contains(meta.OuterSchedules, m.OuterSchedule), fmt.Sprintf("%q, want one of %s", m.OuterSchedule, strings.Join(meta.OuterSchedules, ", "))},
		{"meta.clip", m.Clip < 0 || math.IsNaN(m.Clip) || math.IsInf(m.Clip, 0), fmt.Sprintf("%v, want >= 0 (0: off)", m.Clip)},
		{"meta.max_minutes", m.MaxMinutes < 0 || math.IsNaN(m.MaxMinutes) || m.MaxMinutes > 1e7, fmt.Sprintf("%v, want minutes >= 0 (0: no limit)", m.MaxMinutes)},
		{"meta.val_every", m.ValEvery < 1, fmt.Sprintf("%d, want >= 1", m.ValEvery)},
		{"meta.val_tasks", m.ValTasks < 1 || m.ValTasks > maxTasks, fmt.Sprintf("%d, want 1..%d", m.ValTasks, maxTasks)},
		{"meta.test_tasks", m.TestTasks < 1 || m.TestTasks > maxTasks, fmt.Sprintf("%d, want 1..%d", m.TestTasks, maxTasks)},
		{"meta.workers", m.Workers < 0, fmt.Sprintf("%d, want >= 0 (0: all cores)", m.Workers)},
	}
	for _, ch := range checks {
		if ch.bad {
			return c.errf(ch.key, "%s", ch.msg)
		}
	}
	s := m.Spec(c)
	if err := s.Validate(); err != nil {
		return c.errf("meta", "%v", err)
	}
	return nil
}

func (c *Config) validateMTL() error {
	m := c.MTL
	if m.Dataset != "circles" && !strings.HasPrefix(m.Dataset, "mulan:") {
		return c.errf("mtl.dataset", "%q, want circles or mulan:<set>", m.Dataset)
	}
	if m.Dataset == "circles" && (m.Tasks < 1 || m.PerTask < 2) {
		if m.Tasks < 1 {
			return c.errf("mtl.tasks", "%d, want >= 1", m.Tasks)
		}
		return c.errf("mtl.per_task", "%d, want >= 2", m.PerTask)
	}
	if !slices.Contains(mtl.Architectures, m.Arch) {
		return c.errf("mtl.arch", "%q, want one of %s", m.Arch, strings.Join(mtl.Architectures, ", "))
	}
	if !slices.Contains(mtl.WeightingNames, m.Weighting) {
		return c.errf("mtl.weighting", "%q, want one of %s", m.Weighting, strings.Join(mtl.WeightingNames, ", "))
	}
	switch {
	case m.Hidden < 1:
		return c.errf("mtl.hidden", "%d, want >= 1", m.Hidden)
	case m.Steps < 1 || m.Steps > maxIterations:
		return c.errf("mtl.steps", "%d, want 1..%d", m.Steps, maxIterations)
	case !finitePos(m.LR):
		return c.errf("mtl.lr", "%v, want a finite value > 0", m.LR)
	}
	return nil
}

func (c *Config) validateTransfer() error {
	if c.Transfer == nil {
		return fmt.Errorf("config %s: kind transfer needs a transfer section (command: %s, options: ...)", c.file, strings.Join(transfer.CommandNames, "|"))
	}
	if !slices.Contains(transfer.CommandNames, c.Transfer.Command) {
		return c.errf("transfer.command", "%q, want one of %s", c.Transfer.Command, strings.Join(transfer.CommandNames, ", "))
	}
	for k := range c.Transfer.Options {
		if k == "out" || k == "json" {
			return c.errf("transfer.options."+k, "is set by the run (the run folder and --json); remove it")
		}
	}
	return nil
}

// Where names the origin of a dotted key for messages: "file:line: key",
// "--set key" or "file: key (default)".
func (c *Config) Where(key string) string { return c.where(key) }

// Resolved is the configuration with defaults filled in, as YAML.
func (c *Config) Resolved() []byte {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		// only plain fields: cannot fail
		panic(err)
	}
	enc.Close()
	return buf.Bytes()
}

// File is the path the configuration was read from.
func (c *Config) File() string { return c.file }
