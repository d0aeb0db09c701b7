package mt

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/runner"
	"github.com/metalearn/metalearn/tensor"
)

// TrainConfig is one translation training run (Train). The zero value of
// a field is not a default: DefaultTrainConfig fills them, and the CLI and
// `train -c` start from it.
type TrainConfig struct {
	// Data is the lo-mt folder (train and dev splits are read from it)
	// unless TrainData and DevData are given.
	Data string `json:"data"`
	// Pairs are the training directions, "en-de", "de-en", ...
	Pairs []string `json:"pairs"`
	// TrainData and DevData, when set, replace the lo-mt files: pair ->
	// segments (Source, Target). Never pass dev or test data as TrainData.
	TrainData map[string][]data.Segment `json:"-"`
	DevData   map[string][]data.Segment `json:"-"`

	Arch          string  `json:"arch"` // ArchShared or ArchSeparateDecoders
	DModel        int     `json:"d_model"`
	Heads         int     `json:"heads"`
	EncoderLayers int     `json:"encoder_layers"`
	DecoderLayers int     `json:"decoder_layers"`
	FFN           int     `json:"ffn"`
	Dropout       float64 `json:"dropout"`
	NormFirst     bool    `json:"norm_first"`

	// VocabSize is the BPE vocabulary size (TrainBPE on the training
	// text of the pairs' languages, languages sampled with temperature
	// VocabTemperature); VocabMaxSentences caps the sentences per
	// language it reads (0: all). Tags adds language tags beyond the
	// pairs' languages (for later adaptation to new languages).
	VocabSize         int      `json:"vocab_size"`
	VocabTemperature  float64  `json:"vocab_temperature"`
	VocabMaxSentences int      `json:"vocab_max_sentences"`
	Tags              []string `json:"tags"`

	// MaxPairs caps the training pairs per direction (a seeded sample;
	// 0: all). MaxLen truncates every sentence to this many tokens.
	MaxPairs int `json:"max_pairs"`
	MaxLen   int `json:"max_len"`
	// MaxTokens is the token budget of a batch (source + target, padding
	// included; data.TokenBatches). Each step trains on one batch of one
	// direction; directions are drawn with probability proportional to
	// n^(1/Temperature) (n: the direction's training pairs).
	MaxTokens   int     `json:"max_tokens"`
	Temperature float64 `json:"temperature"`

	// Steps is the length of the run; Adam (beta2 0.98, eps 1e-9, as in
	// Vaswani et al. 2017) with peak rate LR reached after Warmup steps,
	// then decaying as 1/sqrt(step) (optim.InverseSqrt). ClipNorm > 0
	// clips the gradient's global norm. LabelSmoothing is the smoothing of
	// the token cross-entropy.
	Steps          int     `json:"steps"`
	LR             float64 `json:"lr"`
	Warmup         int     `json:"warmup"`
	ClipNorm       float64 `json:"clip_norm"`
	LabelSmoothing float64 `json:"label_smoothing"`

	// ValEvery > 0 translates the first ValSentences sentences of every
	// direction's dev split greedily every ValEvery steps and at the end;
	// the metric is the mean corpus chrF over the directions, and the
	// best-scoring weights are what Train saves as the model.
	ValEvery     int `json:"val_every"`
	ValSentences int `json:"val_sentences"`

	// CheckpointEvery > 0 writes Out/checkpoint.safetensors every so
	// many steps (and at the end and on Stop); Average > 0 also keeps the
	// weights of the last Average checkpoints and writes their mean as
	// Out/model-avg.safetensors at the end.
	CheckpointEvery int `json:"checkpoint_every"`
	Average         int `json:"average"`

	// MaxDuration and MaxTrainTokens end the run early (wall time, target
	// and source tokens trained on).
	MaxDuration    time.Duration `json:"max_duration"`
	MaxTrainTokens int64         `json:"max_train_tokens"`

	Seed uint64 `json:"seed"`

	// Init, when set, is a model file to start from (fine-tuning, e.g. a
	// multilingual model continued on a new language whose tag it already
	// has): its vocabulary and architecture (dropout included) replace the
	// ones above, and
	// every target language of Pairs must have a tag (and, for separate
	// decoders, a decoder) in it.
	Init string `json:"init,omitempty"`

	// ExportTokens, when set, is a folder that receives the run's
	// vocabulary and tokenised data before training (ExportTokens), for
	// the PyTorch reference (reference/mt_torch.py) to train on exactly
	// the same ids.
	ExportTokens string `json:"-"`

	// Out is the output folder: model.safetensors (best weights),
	// checkpoint.safetensors, dev.jsonl (the validation curve), and with
	// Average model-avg.safetensors.
	Out string `json:"-"`
	// Resume continues from Out/checkpoint.safetensors, which must have
	// been written with the same configuration.
	Resume        bool             `json:"-"`
	Stop          <-chan struct{}  `json:"-"`
	ResumeCommand string           `json:"-"`
	Progress      *runner.Progress `json:"-"`
	// Log receives one line per validation and notices.
	Log func(string) `json:"-"`
	// AfterStep, when set, is called after every optimizer step with the
	// 1-based step and the model (LanguageAffinity's lookahead hook); an
	// error ends the run.
	AfterStep func(step int, m *Model) error `json:"-"`
}

// DefaultTrainConfig returns the defaults: the tiny shared model (d_model
// 128, 4 heads, 2+2 layers, FFN 512, dropout 0.1, pre-LN), an 8,000-piece
// vocabulary, batches of 4,096 tokens, language temperature 5, peak
// learning rate 1e-3 after 1,000 warm-up steps, label smoothing 0.1,
// gradient clipping at 1, dev chrF on 200 sentences per direction every
// 500 steps, checkpoints every 500 steps.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{
		Arch: ArchShared, DModel: 128, Heads: 4, EncoderLayers: 2, DecoderLayers: 2, FFN: 512, Dropout: 0.1, NormFirst: true,
		VocabSize: 8000, VocabTemperature: 5, MaxLen: 128, MaxTokens: 4096, Temperature: 5,
		Steps: 10000, LR: 1e-3, Warmup: 1000, ClipNorm: 1, LabelSmoothing: 0.1,
		ValEvery: 500, ValSentences: 200, CheckpointEvery: 500, Seed: 1,
	}
}

func (c *TrainConfig) validate() error {
	if len(c.Pairs) == 0 {
		return errors.New("mt train: no language pairs (want e.g. en-de,en-fr)")
	}
	seen := map[string]bool{}
	for _, p := range c.Pairs {
		if _, _, err := ParsePair(p); err != nil {
			return fmt.Errorf("mt train: %w", err)
		}
		if seen[p] {
			return fmt.Errorf("mt train: pair %s given twice", p)
		}
		seen[p] = true
	}
	switch {
	case c.Arch != ArchShared && c.Arch != ArchSeparateDecoders:
		return fmt.Errorf("mt train: arch %q, want %q or %q", c.Arch, ArchShared, ArchSeparateDecoders)
	case c.Steps < 1:
		return fmt.Errorf("mt train: steps = %d, want >= 1", c.Steps)
	case !(c.LR > 0):
		return fmt.Errorf("mt train: lr = %v, want > 0", c.LR)
	case c.Warmup < 0:
		return fmt.Errorf("mt train: warmup = %d, want >= 0", c.Warmup)
	case c.LabelSmoothing < 0 || c.LabelSmoothing >= 1:
		return fmt.Errorf("mt train: label_smoothing = %v, want in [0,1)", c.LabelSmoothing)
	case c.MaxTokens < 2*c.MaxLen:
		return fmt.Errorf("mt train: max_tokens = %d must hold one pair of max_len %d tokens each (>= %d)", c.MaxTokens, c.MaxLen, 2*c.MaxLen)
	case c.MaxLen < 4:
		return fmt.Errorf("mt train: max_len = %d, want >= 4", c.MaxLen)
	case !(c.Temperature > 0):
		return fmt.Errorf("mt train: temperature = %v, want > 0", c.Temperature)
	case c.VocabSize < 300 && c.VocabSize != 0:
		return fmt.Errorf("mt train: vocab_size = %d, want >= 300 (260 reserved and byte ids plus characters)", c.VocabSize)
	case c.ValEvery < 0 || c.ValSentences < 0 || c.CheckpointEvery < 0 || c.Average < 0 || c.MaxPairs < 0:
		return errors.New("mt train: val_every, val_sentences, checkpoint_every, average and max_pairs must be >= 0")
	case c.Average > 0 && c.CheckpointEvery == 0:
		return errors.New("mt train: average needs checkpoint_every > 0 (it averages the last checkpoints)")
	case c.Out == "":
		return errors.New("mt train: no output folder")
	}
	return nil
}

// TrainResult reports a finished run.
type TrainResult struct {
	Model        string  `json:"model"`
	Averaged     string  `json:"averaged_model,omitempty"`
	Steps        int     `json:"steps"`
	Tokens       int64   `json:"train_tokens"`
	BestStep     int     `json:"best_step"`
	BestDevChrF  float64 `json:"best_dev_chrf"`
	Seconds      float64 `json:"seconds"`
	Skipped      int     `json:"skipped_steps"`
	TrainPairs   int     `json:"train_pairs"`
	VocabSize    int     `json:"vocab_size"`
	Parameters   int     `json:"parameters"`
	Checkpoint   string  `json:"checkpoint"`
	DevCurvePath string  `json:"dev_curve"`
}

// direction is one training direction with its tokenised pairs.
type direction struct {
	name, src, tgt string
	rawTrain       []data.Segment
	pairs          []data.SeqPair
	dev            []data.Segment
}

// sampler draws each step's batch: the direction from a generator seeded
// by (seed, step), then the direction's next batch of its current epoch
// (data.TokenBatches seeded by the direction and epoch). Its state is the
// cursors and epochs, so a resumed run draws the same batches.
type sampler struct {
	dirs          []*direction
	cum           []float64
	Cursor, Epoch []int
	batches       [][]data.SeqBatch
	maxTokens     int
	seed          uint64
}

func newSampler(dirs []*direction, temperature float64, maxTokens int, seed uint64) *sampler {
	s := &sampler{dirs: dirs, maxTokens: maxTokens, seed: seed, Cursor: make([]int, len(dirs)), Epoch: make([]int, len(dirs)),
		batches: make([][]data.SeqBatch, len(dirs))}
	total := 0.0
	for _, d := range dirs {
		total += math.Pow(float64(len(d.pairs)), 1/temperature)
		s.cum = append(s.cum, total)
	}
	for i := range s.cum {
		s.cum[i] /= total
	}
	return s
}

func (s *sampler) next(step int) (int, data.SeqBatch, error) {
	r := rand.New(rand.NewPCG(s.seed^0x73616d706c6572, uint64(step))).Float64()
	d := len(s.cum) - 1
	for i, c := range s.cum {
		if r < c {
			d = i
			break
		}
	}
	for s.batches[d] == nil || s.Cursor[d] >= len(s.batches[d]) {
		if s.batches[d] != nil {
			s.Epoch[d]++
			s.Cursor[d] = 0
		}
		bs, err := data.TokenBatches(s.dirs[d].pairs, data.TokenBatchConfig{MaxTokens: s.maxTokens, Pad: PAD,
			Seed: s.seed ^ hashString(s.dirs[d].name) ^ uint64(s.Epoch[d])*0x9e3779b97f4a7c15})
		if err != nil {
			return 0, data.SeqBatch{}, fmt.Errorf("%s: %w", s.dirs[d].name, err)
		}
		s.batches[d] = bs
	}
	b := s.batches[d][s.Cursor[d]]
	s.Cursor[d]++
	return d, b, nil
}

// trainState is the JSON part of a training checkpoint.
type trainState struct {
	Config    string `json:"config"`
	Step      int    `json:"step"`
	Units     int64  `json:"units"`
	ElapsedNS int64  `json:"elapsed_ns"`
	Skipped   int    `json:"skipped"`
	BestStep  int    `json:"best_step"`
	BestValue float64
	HasBest   bool  `json:"has_best"`
	Cursor    []int `json:"cursor"`
	Epoch     []int `json:"epoch"`
	Averaged  []string
	checkpoint.OptimizerMeta
}

// configKey is the configuration a checkpoint must have been written with.
func (c *TrainConfig) configKey() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// Train trains a translation model as c says and writes it to c.Out. The
// steps run under runner.Run (budget, dev-chrF validation with the best
// weights kept, checkpoints, exact resume, Ctrl-C through c.Stop,
// progress). Training data is the train split only; validation reads the
// dev split.
func Train(c TrainConfig) (*TrainResult, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) {
		if c.Log != nil {
			c.Log(fmt.Sprintf(format, args...))
		}
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return nil, err
	}
	ckptPath := filepath.Join(c.Out, "checkpoint.safetensors")
	dirs, err := loadDirections(&c)
	if err != nil {
		return nil, err
	}

	var (
		model *Model
		st    *trainState
		ckTs  map[string]*tensor.Tensor
	)
	if c.Resume {
		ts, md, err := checkpoint.ReadFile(ckptPath)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("--resume: no checkpoint at %s (was the run started with this configuration and output folder?)", ckptPath)
			}
			return nil, fmt.Errorf("--resume: %w", err)
		}
		if model, err = modelFromTensors(ts, md, ckptPath); err != nil {
			return nil, fmt.Errorf("--resume: %w", err)
		}
		st = &trainState{}
		if err := json.Unmarshal([]byte(md["train_state"]), st); err != nil {
			return nil, fmt.Errorf("--resume: checkpoint %s: bad train_state metadata: %v", ckptPath, err)
		}
		if st.Config != c.configKey() {
			return nil, fmt.Errorf("--resume: checkpoint %s was written by a different configuration; resume with the same settings or start a new run in another folder", ckptPath)
		}
		if len(st.Cursor) != len(dirs) || len(st.Epoch) != len(dirs) {
			return nil, fmt.Errorf("--resume: checkpoint %s: sampler state for %d directions, run has %d", ckptPath, len(st.Cursor), len(dirs))
		}
		ckTs = ts
	} else if c.Init != "" {
		if model, _, err = LoadModel(c.Init); err != nil {
			return nil, fmt.Errorf("mt train: init: %w", err)
		}
		for _, d := range dirs {
			if err := model.CanTranslateInto(d.tgt); err != nil {
				return nil, fmt.Errorf("mt train: init model %s: %w", c.Init, err)
			}
			if !slices.Contains(model.Spec.Pairs, d.name) {
				model.Spec.Pairs = append(model.Spec.Pairs, d.name)
			}
		}
	} else {
		voc, err := buildVocab(&c, dirs)
		if err != nil {
			return nil, err
		}
		spec := ModelSpec{Version: ModelVersion, Arch: c.Arch, DModel: c.DModel, Heads: c.Heads, EncoderLayers: c.EncoderLayers,
			DecoderLayers: c.DecoderLayers, FFN: c.FFN, Dropout: c.Dropout, NormFirst: c.NormFirst, Pairs: slices.Clone(c.Pairs), Seed: c.Seed}
		if c.Arch == ArchSeparateDecoders {
			for _, d := range dirs {
				if !slices.Contains(spec.Targets, d.tgt) {
					spec.Targets = append(spec.Targets, d.tgt)
				}
			}
			sort.Strings(spec.Targets)
		}
		if model, err = NewModel(spec, voc); err != nil {
			return nil, err
		}
	}
	npairs := 0
	for _, d := range dirs {
		for _, s := range d.rawTrain {
			src, err := model.EncodeSource(s.Source, d.tgt, c.MaxLen)
			if err != nil {
				return nil, err
			}
			d.pairs = append(d.pairs, data.SeqPair{Src: src, Tgt: model.EncodeTarget(s.Target, c.MaxLen)})
		}
		d.rawTrain = nil
		npairs += len(d.pairs)
	}

	if c.ExportTokens != "" {
		if err := exportTokens(c.ExportTokens, model, dirs); err != nil {
			return nil, err
		}
	}
	params := model.Params()
	vars := make([]*autodiff.Var, len(params))
	index := map[*autodiff.Var]int{}
	nweights := 0
	for i, p := range params {
		vars[i] = p.V
		index[p.V] = i
		nweights += p.V.Value.Len()
	}
	opt := optim.NewAdam(vars, optim.AdamConfig{LR: c.LR, Beta1: 0.9, Beta2: 0.98, Eps: 1e-9})
	sched := optim.InverseSqrt(c.LR, c.Warmup)
	smp := newSampler(dirs, c.Temperature, c.MaxTokens, c.Seed)
	var resume *runner.State
	var averaged []string
	if st != nil {
		smp.Cursor, smp.Epoch = st.Cursor, st.Epoch // next() rebuilds each direction's current epoch
		if ost := checkpoint.OptimizerState(ckTs, st.OptimizerMeta, len(vars)); ost != nil {
			if err := opt.LoadState(ost); err != nil {
				return nil, fmt.Errorf("--resume: checkpoint %s: optimizer: %v", ckptPath, err)
			}
		}
		resume = &runner.State{Step: st.Step, Units: st.Units, Elapsed: time.Duration(st.ElapsedNS), Skipped: st.Skipped,
			BestStep: st.BestStep, BestValue: st.BestValue}
		if st.HasBest {
			like := make([]*tensor.Tensor, len(vars))
			for i, v := range vars {
				like[i] = v.Value
			}
			if resume.Best, err = checkpoint.BestState(ckTs, like, ckptPath); err != nil {
				return nil, fmt.Errorf("--resume: %w", err)
			}
		}
		averaged = st.Averaged
		logf("resuming %s at step %d of %d", c.Out, st.Step, c.Steps)
	}
	curvePath := filepath.Join(c.Out, "dev.jsonl")
	if err := trimCurve(curvePath, resume); err != nil {
		return nil, err
	}
	curve, err := os.OpenFile(curvePath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer curve.Close()

	runStart := time.Now()
	var prior time.Duration
	if resume != nil {
		prior = resume.Elapsed
	}
	step := func(i int) (runner.Result, error) {
		d, b, err := smp.next(i)
		if err != nil {
			return runner.Result{}, err
		}
		model.SetTraining(true)
		model.reseed(c.Seed ^ (uint64(i)+1)*0xbf58476d1ce4e5b9)
		net, w, err := model.net(dirs[d].tgt)
		if err != nil {
			return runner.Result{}, err
		}
		loss, _ := net.Loss(w, b.Src, b.Tgt, c.LabelSmoothing)
		lv := loss.Item()
		res := runner.Result{Loss: lv, Units: int64(b.RealTokens()), Fields: []runner.Field{{Name: "lr", Value: sched(i)}}}
		if !runner.Finite(lv) {
			res.NonFinite = fmt.Errorf("step %d (%s): loss %v", i+1, dirs[d].name, lv)
			return res, nil
		}
		gs := autodiff.Grad([]*autodiff.Var{loss}, w, false)
		grads := make([]*tensor.Tensor, len(vars))
		var list []*tensor.Tensor
		for j, g := range gs {
			if g != nil {
				grads[index[w[j]]] = g.Value
				list = append(list, g.Value)
			}
		}
		if c.ClipNorm > 0 {
			if n := optim.ClipGradNorm(list, c.ClipNorm); !runner.Finite(n) {
				res.NonFinite = fmt.Errorf("step %d (%s): gradient norm %v", i+1, dirs[d].name, n)
				return res, nil
			}
		}
		opt.SetLR(sched(i))
		opt.StepWith(grads)
		if c.AfterStep != nil {
			if err := c.AfterStep(i+1, model); err != nil {
				return runner.Result{}, err
			}
		}
		return res, nil
	}
	validate := func(s int) (float64, error) {
		v, per, err := devChrF(model, dirs, c.ValSentences)
		if err != nil {
			return 0, err
		}
		line, _ := json.Marshal(map[string]any{"step": s, "minutes": (prior + time.Since(runStart)).Minutes(), "chrf": v, "per_pair": per})
		if _, err := curve.Write(append(line, '\n')); err != nil {
			return 0, err
		}
		var parts []string
		for _, d := range dirs {
			parts = append(parts, fmt.Sprintf("%s %.2f", d.name, per[d.name]))
		}
		logf("step %d: dev chrF %.2f (%s)", s, v, strings.Join(parts, ", "))
		return v, nil
	}
	snapshot := func() []*tensor.Tensor {
		out := make([]*tensor.Tensor, len(vars))
		for i, v := range vars {
			out[i] = v.Value.Clone()
		}
		return out
	}
	cfgKey := c.configKey()
	save := func(rs runner.State) error {
		if c.Average > 0 {
			p := filepath.Join(c.Out, "checkpoints", fmt.Sprintf("step-%07d.safetensors", rs.Step))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if !slices.Contains(averaged, p) {
				if err := model.Save(p, map[string]string{"step": fmt.Sprint(rs.Step)}); err != nil {
					return err
				}
				averaged = append(averaged, p)
			}
			for len(averaged) > c.Average {
				if err := os.Remove(averaged[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
				averaged = averaged[1:]
			}
		}
		ts := trainState{Config: cfgKey, Step: rs.Step, Units: rs.Units, ElapsedNS: int64(rs.Elapsed), Skipped: rs.Skipped,
			BestStep: rs.BestStep, BestValue: rs.BestValue, HasBest: rs.Best != nil,
			Cursor: slices.Clone(smp.Cursor), Epoch: slices.Clone(smp.Epoch), Averaged: averaged}
		more, om := checkpoint.OptimizerTensors(opt.State())
		ts.OptimizerMeta = om
		if rs.Best != nil {
			more = append(more, checkpoint.BestTensors(rs.Best)...)
		}
		js, err := json.Marshal(ts)
		if err != nil {
			return err
		}
		return model.saveWith(ckptPath, more, map[string]string{"train_state": string(js)})
	}
	rc := runner.Config{
		Steps: c.Steps, Step: step, MaxDuration: c.MaxDuration, MaxUnits: c.MaxTrainTokens,
		ValEvery: c.ValEvery, Metric: "chrF", Validate: validate, Snapshot: snapshot,
		Restore: func(best []*tensor.Tensor) error {
			for i, v := range vars {
				v.Value = best[i]
			}
			return nil
		},
		CheckpointEvery: c.CheckpointEvery, Checkpoint: save, CheckpointName: ckptPath, Resume: resume,
		Stop: c.Stop, ResumeCommand: c.ResumeCommand, SkipNonFinite: true, Progress: c.Progress,
	}
	if c.CheckpointEvery == 0 {
		// still checkpoint at the end and on Ctrl-C
		rc.CheckpointEvery = c.Steps
	}
	out, err := runner.Run(rc)
	if err != nil {
		return nil, err
	}
	res := &TrainResult{Model: filepath.Join(c.Out, "model.safetensors"), Steps: out.Steps, Tokens: out.Units, BestStep: out.BestStep,
		BestDevChrF: out.BestValue, Seconds: out.Elapsed.Seconds(), Skipped: out.Skipped, TrainPairs: npairs,
		VocabSize: model.Vocab.Size(), Parameters: nweights, Checkpoint: ckptPath, DevCurvePath: curvePath}
	md := map[string]string{"steps": fmt.Sprint(out.Steps), "best_step": fmt.Sprint(out.BestStep), "best_dev_chrf": fmt.Sprint(out.BestValue)}
	if err := model.Save(res.Model, md); err != nil {
		return nil, err
	}
	if c.Average > 0 && len(averaged) > 0 {
		avg, err := AverageModels(averaged)
		if err != nil {
			return nil, err
		}
		res.Averaged = filepath.Join(c.Out, "model-avg.safetensors")
		if err := avg.Save(res.Averaged, map[string]string{"averaged": strings.Join(averaged, ",")}); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// trimCurve drops the validation lines after a resumed checkpoint's step
// (a run stopped after validating and before checkpointing repeats them),
// or empties the file for a fresh run.
func trimCurve(path string, resume *runner.State) error {
	if resume == nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r struct{ Step int }
		if json.Unmarshal([]byte(l), &r) == nil && r.Step <= resume.Step {
			keep = append(keep, l)
		}
	}
	s := strings.Join(keep, "\n")
	if s != "" {
		s += "\n"
	}
	return os.WriteFile(path, []byte(s), 0o644)
}

// AverageModels returns the element-wise mean of the weights of model
// files with the same architecture and vocabulary (checkpoint averaging,
// Vaswani et al. 2017 sec. 6.1).
func AverageModels(paths []string) (*Model, error) {
	if len(paths) == 0 {
		return nil, errors.New("mt: no models to average")
	}
	m, md0, err := LoadModel(paths[0])
	if err != nil {
		return nil, err
	}
	ps := m.Params()
	sum := make([][]float64, len(ps))
	for i, p := range ps {
		sum[i] = p.V.Value.Values()
	}
	for _, path := range paths[1:] {
		o, md, err := LoadModel(path)
		if err != nil {
			return nil, err
		}
		if md["spec"] != md0["spec"] || md["vocab"] != md0["vocab"] {
			return nil, fmt.Errorf("mt: cannot average %s with %s: different architecture or vocabulary", path, paths[0])
		}
		for i, p := range o.Params() {
			for j, v := range p.V.Value.Values() {
				sum[i][j] += v
			}
		}
	}
	n := float64(len(paths))
	for i, p := range ps {
		for j := range sum[i] {
			sum[i][j] /= n
		}
		p.V.Value = tensor.FromValues(p.V.DType(), sum[i], p.V.Shape()...)
	}
	return m, nil
}

// loadDirections reads the training pairs (and the dev sentences) of
// every direction.
func loadDirections(c *TrainConfig) ([]*direction, error) {
	var dirs []*direction
	for _, p := range c.Pairs {
		src, tgt, _ := ParsePair(p)
		d := &direction{name: p, src: src, tgt: tgt}
		var err error
		if c.TrainData != nil {
			d.rawTrain = c.TrainData[p]
			if len(d.rawTrain) == 0 {
				return nil, fmt.Errorf("mt train: no training data for %s", p)
			}
		} else if d.rawTrain, err = data.LoadLoMTPair(c.Data, "train", src, tgt); err != nil {
			return nil, fmt.Errorf("mt train: %w", err)
		}
		if c.MaxPairs > 0 && len(d.rawTrain) > c.MaxPairs {
			r := rand.New(rand.NewPCG(c.Seed, hashString(p)))
			idx := r.Perm(len(d.rawTrain))[:c.MaxPairs]
			sort.Ints(idx)
			sub := make([]data.Segment, len(idx))
			for i, j := range idx {
				sub[i] = d.rawTrain[j]
			}
			d.rawTrain = sub
		}
		if c.ValEvery > 0 {
			if c.DevData != nil {
				d.dev = c.DevData[p]
			} else if d.dev, err = data.LoadLoMTPair(c.Data, "dev", src, tgt); err != nil {
				return nil, fmt.Errorf("mt train: %w", err)
			}
			if len(d.dev) == 0 {
				return nil, fmt.Errorf("mt train: no dev data for %s", p)
			}
			if c.ValSentences > 0 && len(d.dev) > c.ValSentences {
				d.dev = d.dev[:c.ValSentences]
			}
		}
		dirs = append(dirs, d)
	}
	return dirs, nil
}

// buildVocab trains the shared BPE vocabulary on the training text of
// every language of the run and adds the language tags.
func buildVocab(c *TrainConfig, dirs []*direction) (*Vocab, error) {
	text := map[string][]string{}
	seen := map[string]map[string]bool{}
	add := func(lang, s string) {
		if seen[lang] == nil {
			seen[lang] = map[string]bool{}
		}
		if !seen[lang][s] {
			seen[lang][s] = true
			text[lang] = append(text[lang], s)
		}
	}
	for _, d := range dirs {
		for _, s := range d.rawTrain {
			add(d.src, s.Source)
			add(d.tgt, s.Target)
		}
	}
	size := c.VocabSize
	if size == 0 {
		size = 8000
	}
	voc, err := TrainBPE(text, BPEConfig{VocabSize: size, Temperature: c.VocabTemperature, MaxSentences: c.VocabMaxSentences, Seed: c.Seed})
	if err != nil {
		return nil, fmt.Errorf("mt train: vocabulary: %w", err)
	}
	langs := map[string]bool{}
	for _, d := range dirs {
		langs[d.src], langs[d.tgt] = true, true
	}
	for _, t := range c.Tags {
		langs[t] = true
	}
	tags := make([]string, 0, len(langs))
	for l := range langs {
		tags = append(tags, l)
	}
	sort.Strings(tags)
	if _, err := voc.AddLanguageTags(tags...); err != nil {
		return nil, fmt.Errorf("mt train: %w", err)
	}
	return voc, nil
}

// devChrF translates every direction's dev sentences greedily and returns
// the mean corpus chrF over the directions and each direction's.
func devChrF(m *Model, dirs []*direction, _ int) (float64, map[string]float64, error) {
	per := map[string]float64{}
	sum := 0.0
	for _, d := range dirs {
		src := make([]string, len(d.dev))
		refs := make([]string, len(d.dev))
		for i, s := range d.dev {
			src[i], refs[i] = s.Source, s.Target
		}
		hyps, err := m.Translate(src, d.tgt, TranslateOptions{})
		if err != nil {
			return 0, nil, err
		}
		out := make([]string, len(hyps))
		for i, h := range hyps {
			out[i] = h[0].Text
		}
		sc, err := CHRF{}.Corpus(out, [][]string{refs})
		if err != nil {
			return 0, nil, fmt.Errorf("dev %s: %w", d.name, err)
		}
		per[d.name] = sc.Score
		sum += sc.Score
	}
	return sum / float64(len(dirs)), per, nil
}

// exportTokens writes, for an outside trainer, the vocabulary's pieces
// (pieces.json: the surface of every id, "<0x41>" for byte tokens, "▁"
// for the word boundary), the tokenised training pairs of every direction
// (train.jsonl: {"pair", "src", "tgt"} with the tag, begin- and
// end-of-sentence ids as the Go trainer uses them) and the validation
// sentences (dev.jsonl: {"pair", "src", "ref"}), plus spec.json with
// the reserved ids.
func exportTokens(dir string, m *Model, dirs []*direction) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pieces := make([]string, m.Vocab.Size())
	for i := range pieces {
		pieces[i] = m.Vocab.Piece(i)
	}
	spec := map[string]any{"pad": PAD, "bos": BOS, "eos": EOS, "vocab_size": m.Vocab.Size(), "first_piece": firstPieceID,
		"byte_base": byteBase, "languages": m.Vocab.Languages(), "model": m.Spec}
	for name, v := range map[string]any{"pieces.json": pieces, "spec.json": spec} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	write := func(name string, rows func(enc *json.Encoder) error) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := rows(json.NewEncoder(f)); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := write("train.jsonl", func(enc *json.Encoder) error {
		for _, d := range dirs {
			for _, p := range d.pairs {
				if err := enc.Encode(map[string]any{"pair": d.name, "src": p.Src, "tgt": p.Tgt}); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return write("dev.jsonl", func(enc *json.Encoder) error {
		for _, d := range dirs {
			for _, s := range d.dev {
				src, err := m.EncodeSource(s.Source, d.tgt, 256)
				if err != nil {
					return err
				}
				if err := enc.Encode(map[string]any{"pair": d.name, "src": src, "ref": s.Target}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
