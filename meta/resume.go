package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"metalearn/checkpoint"
	"metalearn/optim"
	"metalearn/tensor"
)

// A training checkpoint is an ordinary meta checkpoint (Built.Save: the
// weights under "model."/"body."/..., readable by any safetensors reader)
// plus the state Train needs to continue exactly:
//
//	tensors  train.best.<i>          best validated meta-parameter i
//	         train.optim.<slot>.<i>  outer optimizer buffer <slot> of parameter i
//	metadata "train_state"           JSON: iteration, sampler state, optimizer
//	                                 step and learning rate, validation curve
type savedState struct {
	Iteration     int           `json:"iteration"`
	RNG           []byte        `json:"rng"`
	OptAlgorithm  string        `json:"optimizer"`
	OptStep       int           `json:"optimizer_step"`
	OptLR         float64       `json:"optimizer_lr"`
	OptSlots      []string      `json:"optimizer_slots"`
	BestIteration int           `json:"best_iteration"`
	BestVal       *Summary      `json:"best_val,omitempty"`
	HasBest       bool          `json:"has_best"`
	Curve         []Progress    `json:"curve,omitempty"`
	Skipped       int           `json:"skipped"`
	Elapsed       time.Duration `json:"elapsed_ns"`
}

// SaveTraining writes the model and the training state st atomically to
// path (see checkpoint.WriteFile). extra is added to the metadata.
func (b *Built) SaveTraining(path string, st *TrainState, extra map[string]string) error {
	if st == nil {
		return errors.New("meta: SaveTraining: nil state")
	}
	params := b.Algorithm.MetaParams()
	ts := b.Tensors()
	ss := savedState{Iteration: st.Iteration, RNG: st.RNG, BestIteration: st.BestIteration, BestVal: st.BestVal,
		HasBest: st.Best != nil, Curve: st.Curve, Skipped: st.Skipped, Elapsed: st.Elapsed}
	if st.Best != nil {
		if len(st.Best) != len(params) {
			return fmt.Errorf("meta: SaveTraining: %d best tensors for %d meta-parameters", len(st.Best), len(params))
		}
		for i, t := range st.Best {
			ts = append(ts, checkpoint.Named{Name: fmt.Sprintf("train.best.%d", i), Tensor: t})
		}
	}
	if o := st.Optimizer; o != nil {
		ss.OptAlgorithm, ss.OptStep, ss.OptLR = o.Algorithm, o.Step, o.LR
		for name := range o.Slots {
			ss.OptSlots = append(ss.OptSlots, name)
		}
		sort.Strings(ss.OptSlots)
		for _, name := range ss.OptSlots {
			for i, v := range o.Slots[name] {
				if v != nil {
					ts = append(ts, checkpoint.Named{Name: fmt.Sprintf("train.optim.%s.%d", name, i), Tensor: tensor.FromValues(v.DType, v.Values, v.Shape...)})
				}
			}
		}
	}
	js, err := json.Marshal(ss)
	if err != nil {
		return fmt.Errorf("meta: SaveTraining: %w", err)
	}
	meta := map[string]string{"train_state": string(js)}
	for k, v := range extra {
		meta[k] = v
	}
	return b.saveTensors(path, ts, meta)
}

// LoadTraining reads a checkpoint written by SaveTraining: the model with
// its weights, and the state to pass as TrainConfig.Resume.
func LoadTraining(path string) (*Built, *TrainState, map[string]string, error) {
	b, ts, md, err := load(path)
	if err != nil {
		return nil, nil, nil, err
	}
	raw, ok := md["train_state"]
	if !ok {
		return nil, nil, nil, fmt.Errorf("checkpoint %s: holds no training state (a final model, not a resumable checkpoint)", path)
	}
	var ss savedState
	dec := json.NewDecoder(bytesReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ss); err != nil {
		return nil, nil, nil, fmt.Errorf("checkpoint %s: bad train_state metadata: %v", path, err)
	}
	if ss.Iteration < 0 || ss.Skipped < 0 {
		return nil, nil, nil, fmt.Errorf("checkpoint %s: bad train_state: iteration %d, skipped %d", path, ss.Iteration, ss.Skipped)
	}
	params := b.Algorithm.MetaParams()
	st := &TrainState{Iteration: ss.Iteration, RNG: ss.RNG, BestIteration: ss.BestIteration, BestVal: ss.BestVal,
		Curve: ss.Curve, Skipped: ss.Skipped, Elapsed: ss.Elapsed}
	if ss.HasBest {
		st.Best = make([]*tensor.Tensor, len(params))
		for i, p := range params {
			name := fmt.Sprintf("train.best.%d", i)
			t, ok := ts[name]
			if !ok || !tensor.SameShape(t.Shape(), p.Value.Shape()) {
				return nil, nil, nil, fmt.Errorf("checkpoint %s: missing or mis-shaped tensor %q", path, name)
			}
			st.Best[i] = t.AsType(p.Value.DType())
		}
	}
	if ss.OptAlgorithm != "" {
		o := &optim.State{Algorithm: ss.OptAlgorithm, Step: ss.OptStep, LR: ss.OptLR, Slots: map[string][]*optim.SlotValue{}}
		for _, name := range ss.OptSlots {
			vs := make([]*optim.SlotValue, len(params))
			for i := range params {
				if t, ok := ts[fmt.Sprintf("train.optim.%s.%d", name, i)]; ok {
					vs[i] = &optim.SlotValue{Shape: append([]int(nil), t.Shape()...), DType: t.DType(), Values: t.Values()}
				}
			}
			o.Slots[name] = vs
		}
		st.Optimizer = o
	}
	return b, st, md, nil
}

func bytesReader(s string) *strings.Reader { return strings.NewReader(s) }
