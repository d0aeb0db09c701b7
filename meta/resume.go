package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/metalearn/metalearn/checkpoint"
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
	Iteration int    `json:"iteration"`
	RNG       []byte `json:"rng"`
	checkpoint.OptimizerMeta
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
	like := bestSnapshot(b.Algorithm)
	ts := b.Tensors()
	// the file counts iterations from 0 (BestIteration -1: none), as it
	// always has; the library counts them from 1
	ss := savedState{Iteration: st.Iteration, RNG: st.RNG, BestIteration: st.BestIteration - 1, BestVal: st.BestVal,
		HasBest: st.Best != nil, Curve: shiftCurve(st.Curve, -1), Skipped: st.Skipped, Elapsed: st.Elapsed}
	if st.Best != nil {
		if len(st.Best) != len(like) {
			return fmt.Errorf("meta: SaveTraining: %d best tensors for %d meta-parameters and carried tensors", len(st.Best), len(like))
		}
		ts = append(ts, checkpoint.BestTensors(st.Best)...)
	}
	opt, om := checkpoint.OptimizerTensors(st.Optimizer)
	ts = append(ts, opt...)
	ss.OptimizerMeta = om
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
	st := &TrainState{Iteration: ss.Iteration, RNG: ss.RNG, BestIteration: max(ss.BestIteration+1, 0), BestVal: ss.BestVal,
		Curve: shiftCurve(ss.Curve, 1), Skipped: ss.Skipped, Elapsed: ss.Elapsed}
	if ss.HasBest {
		if st.Best, err = checkpoint.BestState(ts, bestSnapshot(b.Algorithm), path); err != nil {
			return nil, nil, nil, err
		}
	}
	st.Optimizer = checkpoint.OptimizerState(ts, ss.OptimizerMeta, len(params))
	return b, st, md, nil
}

// UseBest replaces the meta-parameters (and any carried state) with the
// best validated ones st holds, as Train does at the end of a run; an
// interrupted run's checkpoint can so be evaluated like a finished one.
func (b *Built) UseBest(st *TrainState) error {
	if st == nil || st.Best == nil {
		return errors.New("holds no validated weights yet (no validation ran before it was written)")
	}
	return restoreBest(b.Algorithm, st.Best)
}

// shiftCurve returns a copy of c with every Iteration moved by d (the file
// stores 0-based iterations).
func shiftCurve(c []Progress, d int) []Progress {
	if c == nil {
		return nil
	}
	out := append([]Progress(nil), c...)
	for i := range out {
		out[i].Iteration += d
	}
	return out
}

func bytesReader(s string) *strings.Reader { return strings.NewReader(s) }
