package meta

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

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
