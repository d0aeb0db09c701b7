package checkpoint

import (
	"fmt"
	"sort"

	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/tensor"
)

// Training checkpoints (meta.SaveTraining, mtl.SaveTraining) store, next to
// the model, the outer optimizer's buffers and the best validated
// parameters as tensors:
//
//	train.optim.<slot>.<i>  optimizer buffer <slot> of parameter i
//	train.best.<i>          best validated parameter i
//
// and the optimizer's scalars in the JSON metadata (OptimizerMeta).

// OptimizerMeta is the JSON part of a saved optimizer state.
type OptimizerMeta struct {
	Algorithm string   `json:"optimizer"`
	Step      int      `json:"optimizer_step"`
	LR        float64  `json:"optimizer_lr"`
	Slots     []string `json:"optimizer_slots"`
}

// OptimizerTensors splits an optimizer state into named tensors and its
// metadata; a nil state gives neither.
func OptimizerTensors(s *optim.State) ([]Named, OptimizerMeta) {
	if s == nil {
		return nil, OptimizerMeta{}
	}
	m := OptimizerMeta{Algorithm: s.Algorithm, Step: s.Step, LR: s.LR}
	for name := range s.Slots {
		m.Slots = append(m.Slots, name)
	}
	sort.Strings(m.Slots)
	var out []Named
	for _, name := range m.Slots {
		for i, v := range s.Slots[name] {
			if v != nil {
				out = append(out, Named{Name: fmt.Sprintf("train.optim.%s.%d", name, i), Tensor: tensor.FromValues(v.DType, v.Values, v.Shape...)})
			}
		}
	}
	return out, m
}

// OptimizerState rebuilds the state OptimizerTensors split, for n
// parameters; nil when m records no optimizer. Shapes are checked by the
// optimizer's LoadState.
func OptimizerState(ts map[string]*tensor.Tensor, m OptimizerMeta, n int) *optim.State {
	if m.Algorithm == "" {
		return nil
	}
	s := &optim.State{Algorithm: m.Algorithm, Step: m.Step, LR: m.LR, Slots: map[string][]*optim.SlotValue{}}
	for _, name := range m.Slots {
		vs := make([]*optim.SlotValue, n)
		for i := range vs {
			if t, ok := ts[fmt.Sprintf("train.optim.%s.%d", name, i)]; ok {
				vs[i] = &optim.SlotValue{Shape: append([]int(nil), t.Shape()...), DType: t.DType(), Values: t.Values()}
			}
		}
		s.Slots[name] = vs
	}
	return s
}

// BestTensors names the best validated parameters for a checkpoint.
func BestTensors(best []*tensor.Tensor) []Named {
	out := make([]Named, len(best))
	for i, t := range best {
		out[i] = Named{Name: fmt.Sprintf("train.best.%d", i), Tensor: t}
	}
	return out
}

// BestState reads the tensors BestTensors named, checking each against
// the shape and dtype of the parameter it belongs to.
func BestState(ts map[string]*tensor.Tensor, like []*tensor.Tensor, source string) ([]*tensor.Tensor, error) {
	out := make([]*tensor.Tensor, len(like))
	for i, p := range like {
		name := fmt.Sprintf("train.best.%d", i)
		t, ok := ts[name]
		if !ok || !tensor.SameShape(t.Shape(), p.Shape()) {
			return nil, fmt.Errorf("checkpoint %s: missing or mis-shaped tensor %q", source, name)
		}
		if t.HasNaNOrInf() {
			return nil, fmt.Errorf("checkpoint %s: tensor %q holds NaN or infinite values", source, name)
		}
		out[i] = t.AsType(p.DType()).Clone()
	}
	return out, nil
}
