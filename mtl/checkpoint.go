package mtl

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/tensor"
)

// A multi-task training checkpoint is a model file (ModelFormat: the
// model's parameters under their AllParams names "shared.*", "task<t>.*",
// and its buffers) with, added, the optimizer's buffers ("train.optim.<slot>.<i>") and the
// best validated parameters ("train.best.<i>"), with the rest of the
// TrainState as JSON in the "train_state" metadata entry.
type savedState struct {
	Step int    `json:"step"`
	RNG  []byte `json:"rng"`
	checkpoint.OptimizerMeta
	Weighting []byte   `json:"weighting,omitempty"`
	BestVal   *float64 `json:"best_val,omitempty"` // nil: none yet (+Inf)
	HasBest   bool     `json:"has_best"`
}

// SaveTraining writes m's parameters and buffers and st to path
// atomically, with format ModelFormat and extra in the metadata.
func SaveTraining(path string, m Model, st *TrainState, extra map[string]string) error {
	if st == nil {
		return errors.New("mtl: SaveTraining: nil state")
	}
	params := AllParams(m)
	ts := ModelTensors(m)
	ss := savedState{Step: st.Step, RNG: st.RNG, Weighting: st.Weighting, HasBest: st.Best != nil}
	if !math.IsInf(st.BestVal, 1) {
		if math.IsNaN(st.BestVal) || math.IsInf(st.BestVal, -1) {
			return fmt.Errorf("mtl: SaveTraining: best validation loss %v", st.BestVal)
		}
		v := st.BestVal
		ss.BestVal = &v
	}
	if st.Best != nil {
		if len(st.Best) != len(params) {
			return fmt.Errorf("mtl: SaveTraining: %d best tensors for %d parameters", len(st.Best), len(params))
		}
		ts = append(ts, checkpoint.BestTensors(st.Best)...)
	}
	opt, om := checkpoint.OptimizerTensors(st.Optimizer)
	ts = append(ts, opt...)
	ss.OptimizerMeta = om
	js, err := json.Marshal(ss)
	if err != nil {
		return err
	}
	md := modelMetadata(extra)
	md["train_state"] = string(js)
	return checkpoint.WriteFile(path, ts, md)
}

// LoadTraining reads a checkpoint written by SaveTraining into m (which
// must have the same parameters) and returns the state to pass as
// TrainConfig.Resume, with the file's metadata. Checkpoints written before
// buffers were saved leave m's buffers as they are (see LoadModel).
func LoadTraining(path string, m Model) (*TrainState, map[string]string, error) {
	ts, md, err := checkpoint.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if md["format"] != ModelFormat {
		return nil, nil, fmt.Errorf("checkpoint %s: not a metalearn multi-task checkpoint (format %q)", path, md["format"])
	}
	var ss savedState
	dec := json.NewDecoder(strings.NewReader(md["train_state"]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ss); err != nil {
		return nil, nil, fmt.Errorf("checkpoint %s: bad train_state metadata: %v", path, err)
	}
	if ss.Step < 0 {
		return nil, nil, fmt.Errorf("checkpoint %s: bad train_state: step %d, want >= 0", path, ss.Step)
	}
	params := AllParams(m)
	apply, _, err := modelValues(ts, m, path, false)
	if err != nil {
		return nil, nil, err
	}
	st := &TrainState{Step: ss.Step, RNG: ss.RNG, Weighting: ss.Weighting, BestVal: math.Inf(1)}
	if ss.BestVal != nil {
		st.BestVal = *ss.BestVal
	}
	if ss.HasBest {
		like := make([]*tensor.Tensor, len(params))
		for i, p := range params {
			like[i] = p.V.Value
		}
		if st.Best, err = checkpoint.BestState(ts, like, path); err != nil {
			return nil, nil, err
		}
	}
	st.Optimizer = checkpoint.OptimizerState(ts, ss.OptimizerMeta, len(params))
	apply()
	return st, md, nil
}
