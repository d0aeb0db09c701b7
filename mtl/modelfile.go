package mtl

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// ModelFormat is the "format" metadata of every multi-task model file:
// a safetensors file holding the model's parameters under their AllParams
// names ("shared.*", "task<t>.*") and, for models with BatchNorm (MTAN),
// its buffers under the names Buffers gives them. A training checkpoint
// (SaveTraining) is a model file with the training state added (tensors
// "train.*" and the "train_state" metadata), so LoadModel reads both.
const ModelFormat = "metalearn-mtl/1"

// ModelTensors lists m's parameters (AllParams order and names) then, when
// m is nn.Stateful, its buffers: the tensors of a model file.
func ModelTensors(m Model) []checkpoint.Named {
	var out []checkpoint.Named
	for _, p := range AllParams(m) {
		out = append(out, checkpoint.Named{Name: p.Name, Tensor: p.V.Value})
	}
	for _, b := range modelBuffers(m) {
		out = append(out, checkpoint.Named{Name: b.Name, Tensor: b.V.Value})
	}
	return out
}

func modelBuffers(m Model) []nn.Buffer {
	if s, ok := m.(nn.Stateful); ok {
		return s.Buffers()
	}
	return nil
}

// SaveModel writes m's parameters and buffers to path atomically, with
// format ModelFormat and extra in the metadata.
func SaveModel(path string, m Model, extra map[string]string) error {
	return checkpoint.WriteFile(path, ModelTensors(m), modelMetadata(extra))
}

func modelMetadata(extra map[string]string) map[string]string {
	md := map[string]string{}
	for k, v := range extra {
		md[k] = v
	}
	md["format"] = ModelFormat
	return md
}

// LoadModel reads a model file (SaveModel, SaveTraining or an older
// writer of the same format) into m, which must have the same
// architecture, and returns the file's metadata. Every parameter must be
// present with m's shape and finite values; tensors other than m's and the
// training state's are an error. Files written before buffers were saved
// (`metalearn train` and SaveTraining until 2026-12) hold none of m's
// buffers: then the parameters load, m's buffers keep their values and
// missingBuffers names them, so a caller can say the BatchNorm statistics
// were not in the file. A file with some buffers but not all is an error.
// Loaded tensors are m's own copies (as checkpoint.LoadInto). On error m
// is untouched.
func LoadModel(path string, m Model) (md map[string]string, missingBuffers []string, err error) {
	ts, md, err := checkpoint.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if md["format"] != ModelFormat {
		return nil, nil, fmt.Errorf("checkpoint %s: not a metalearn multi-task model (format %q, want %q)", path, md["format"], ModelFormat)
	}
	apply, missing, err := modelValues(ts, m, path, true)
	if err != nil {
		return nil, nil, err
	}
	apply()
	return md, missing, nil
}

// modelValues checks ts against m's parameters and buffers and returns a
// function that installs them (converted to m's dtypes, each m's own
// copy), and the buffers the file lacks (all of them or none). strict
// rejects tensors that are neither m's nor training state ("train.*").
func modelValues(ts map[string]*tensor.Tensor, m Model, source string, strict bool) (apply func(), missingBuffers []string, err error) {
	type target struct {
		name string
		dst  **tensor.Tensor
	}
	var params, bufs []target
	for _, p := range AllParams(m) {
		params = append(params, target{p.Name, &p.V.Value})
	}
	for _, b := range modelBuffers(m) {
		bufs = append(bufs, target{b.Name, &b.V.Value})
	}
	have := 0
	for _, b := range bufs {
		if _, ok := ts[b.name]; ok {
			have++
		}
	}
	targets := params
	switch {
	case have == len(bufs):
		targets = append(targets, bufs...)
	case have == 0:
		for _, b := range bufs {
			missingBuffers = append(missingBuffers, b.name)
		}
	default:
		for _, b := range bufs {
			if _, ok := ts[b.name]; !ok {
				return nil, nil, fmt.Errorf("checkpoint %s does not fit the model: it has %d of its %d buffers, not %q", source, have, len(bufs), b.name)
			}
		}
	}
	known := map[string]bool{}
	vals := make([]*tensor.Tensor, len(targets))
	for i, tg := range targets {
		known[tg.name] = true
		t, ok := ts[tg.name]
		if !ok {
			return nil, nil, fmt.Errorf("checkpoint %s does not fit the model: it has no tensor %q (checkpoint from another model?)", source, tg.name)
		}
		if !tensor.SameShape(t.Shape(), (*tg.dst).Shape()) {
			return nil, nil, fmt.Errorf("checkpoint %s does not fit the model: tensor %q has shape %v, want %v", source, tg.name, t.Shape(), (*tg.dst).Shape())
		}
		v := t.AsType((*tg.dst).DType())
		for j := 0; j < v.Len(); j++ {
			if x := v.Flat(j); math.IsNaN(x) || math.IsInf(x, 0) {
				how := ""
				if y := t.Flat(j); !math.IsNaN(y) && !math.IsInf(y, 0) {
					how = fmt.Sprintf(" after conversion to %v (value %v)", v.DType(), y)
				}
				return nil, nil, fmt.Errorf("checkpoint %s: tensor %q element %d is %v%s; refusing non-finite weights", source, tg.name, j, x, how)
			}
		}
		if v == t {
			// m gets its own storage: training m in place must not change
			// the caller's map
			v = t.Clone()
		}
		vals[i] = v
	}
	if strict {
		for name := range ts {
			if !known[name] && !strings.HasPrefix(name, "train.") {
				return nil, nil, fmt.Errorf("checkpoint %s does not fit the model: unexpected tensor %q", source, name)
			}
		}
	}
	return func() {
		for i, tg := range targets {
			*tg.dst = vals[i]
		}
	}, missingBuffers, nil
}

// ModelInfo is the description saved with a model by `mtl train --save`
// (metadata "metalearn.mtl" and a .json file beside the model): enough to
// rebuild the experiment (same data and split) and the architecture.
type ModelInfo struct {
	Format     string   `json:"format"`
	Dataset    string   `json:"dataset"`
	Experiment string   `json:"experiment"`
	Arch       string   `json:"arch"`
	Hidden     int      `json:"hidden"`
	Seed       uint64   `json:"seed"`
	Weighting  string   `json:"weighting"`
	Steps      int      `json:"steps"`
	LR         float64  `json:"lr"`
	Tasks      []string `json:"tasks"`
	// circles only
	NumTasks int       `json:"circles_tasks,omitempty"`
	PerTask  int       `json:"circles_per_task,omitempty"`
	Metrics  []float64 `json:"test_metrics"`
}

// ModelInfoKey is the metadata entry holding a ModelInfo as JSON.
const ModelInfoKey = "metalearn.mtl"

// SaveModelWithInfo writes m to path with info under ModelInfoKey.
func SaveModelWithInfo(path string, m Model, info ModelInfo) error {
	info.Format = ModelFormat
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	return SaveModel(path, m, map[string]string{ModelInfoKey: string(b)})
}

// ReadModelInfo reads the ModelInfo of a model file written by
// SaveModelWithInfo, without loading its tensors into a model.
func ReadModelInfo(path string) (ModelInfo, error) {
	_, md, err := checkpoint.ReadFile(path)
	if err != nil {
		return ModelInfo{}, err
	}
	raw, ok := md[ModelInfoKey]
	if !ok || md["format"] != ModelFormat {
		return ModelInfo{}, fmt.Errorf("%s is not a multi-task model saved by mtl train --save (no %s metadata)", path, ModelFormat)
	}
	var info ModelInfo
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		return ModelInfo{}, fmt.Errorf("%s: bad %s metadata: %v", path, ModelInfoKey, err)
	}
	return info, nil
}
