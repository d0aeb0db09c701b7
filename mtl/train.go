package mtl

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/dist"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/runner"
	"github.com/metalearn/metalearn/tensor"
)

// Kind is a task's output type.
type Kind int

const (
	Regression     Kind = iota // one output, masked mean squared error
	Binary                     // one logit, masked BCE-with-logits; targets 0/1
	Classification             // Classes logits, masked cross-entropy; targets are class ids
)

// TaskSpec defines one task.
type TaskSpec struct {
	Name    string
	Kind    Kind
	Classes int // for Classification
}

// Outputs is the head width the task needs.
func (s TaskSpec) Outputs() int {
	if s.Kind == Classification {
		return s.Classes
	}
	return 1
}

// Dataset holds inputs and, per task, a target column and a label mask.
// Multi-input data (one dataset per task) is the special case where each
// row carries a label for one task only.
type Dataset struct {
	X    *tensor.Tensor // [N, F] float32
	Y    *tensor.Tensor // [N, T] float32 targets (class ids for Classification)
	Mask *tensor.Tensor // [N, T] 1 = label present, 0 = missing; nil = all present
	// RowTask, when set, says that row i belongs to task RowTask[i] only
	// (multi-input data such as School): training and prediction then run
	// each task's output on its own rows only, which is much cheaper than
	// computing every task on every row.
	RowTask []int
}

// Rows returns the number of examples.
func (d Dataset) Rows() int { return d.X.Dim(0) }

// Subset returns the rows idx.
func (d Dataset) Subset(idx []int) Dataset {
	s := Dataset{X: tensor.IndexSelect(d.X, 0, idx), Y: tensor.IndexSelect(d.Y, 0, idx)}
	if d.Mask != nil {
		s.Mask = tensor.IndexSelect(d.Mask, 0, idx)
	}
	if d.RowTask != nil {
		s.RowTask = make([]int, len(idx))
		for i, r := range idx {
			s.RowTask[i] = d.RowTask[r]
		}
	}
	return s
}

// Validate checks shapes against the task list.
func (d Dataset) Validate(tasks []TaskSpec) error {
	if d.X == nil || d.Y == nil || d.X.Dims() != 2 || d.Y.Dims() != 2 {
		return fmt.Errorf("mtl: dataset needs X [N,F] and Y [N,T]")
	}
	n := d.X.Dim(0)
	if d.Y.Dim(0) != n || d.Y.Dim(1) != len(tasks) {
		return fmt.Errorf("mtl: Y has shape %v, want [%d,%d]", d.Y.Shape(), n, len(tasks))
	}
	if d.Mask != nil && !tensor.SameShape(d.Mask.Shape(), d.Y.Shape()) {
		return fmt.Errorf("mtl: mask shape %v differs from Y %v", d.Mask.Shape(), d.Y.Shape())
	}
	if d.RowTask != nil {
		if len(d.RowTask) != n {
			return fmt.Errorf("mtl: %d row tasks for %d rows", len(d.RowTask), n)
		}
		for i, t := range d.RowTask {
			if t < 0 || t >= len(tasks) {
				return fmt.Errorf("mtl: row %d belongs to task %d, want [0,%d)", i, t, len(tasks))
			}
		}
	}
	for t, s := range tasks {
		present := 0
		for i := 0; i < n; i++ {
			if d.Mask != nil && d.Mask.At(i, t) == 0 {
				continue
			}
			present++
			y := d.Y.At(i, t)
			switch s.Kind {
			case Binary:
				if y != 0 && y != 1 {
					return fmt.Errorf("mtl: task %q row %d: binary target %v, want 0 or 1", s.Name, i, y)
				}
			case Classification:
				if y != math.Trunc(y) || y < 0 || int(y) >= s.Classes {
					return fmt.Errorf("mtl: task %q row %d: class %v not in [0,%d)", s.Name, i, y, s.Classes)
				}
			}
		}
		if present == 0 {
			return fmt.Errorf("mtl: task %q has no labelled rows", s.Name)
		}
	}
	return nil
}

// TaskLosses returns the masked loss of every task on a batch. A missing
// label contributes nothing to its task's loss or gradient; a task with no
// label in the batch gets a constant zero loss.
func TaskLosses(tasks []TaskSpec, outs []*autodiff.Var, y, mask *tensor.Tensor) []*autodiff.Var {
	return taskLosses(tasks, outs, y, mask, nil)
}

// taskLosses is TaskLosses; with counts, task t's loss is normalised by
// counts[t] (its label count in the whole batch of which y is a shard)
// instead of its label count in y.
func taskLosses(tasks []TaskSpec, outs []*autodiff.Var, y, mask *tensor.Tensor, counts []float64) []*autodiff.Var {
	n := y.Dim(0)
	losses := make([]*autodiff.Var, len(tasks))
	for t, s := range tasks {
		out := outs[t]
		dt := out.DType()
		col := tensor.Slice(y, 1, t, t+1).AsType(dt) // [N,1]
		m := tensor.Ones(dt, n, 1)
		if mask != nil {
			m = tensor.Slice(mask, 1, t, t+1).AsType(dt)
		}
		cnt := tensor.Sum(m, false).Item()
		if cnt == 0 {
			losses[t] = autodiff.Scalar(dt, 0)
			continue
		}
		if counts != nil {
			cnt = counts[t]
		}
		var per *autodiff.Var // [N,1] per-example loss
		switch s.Kind {
		case Regression:
			per = autodiff.Square(autodiff.Sub(out, autodiff.Const(col)))
		case Binary:
			per = autodiff.Sub(autodiff.Softplus(out), autodiff.Mul(out, autodiff.Const(col)))
		case Classification:
			labels := make([]int, n)
			for i := range labels {
				if m.Flat(i) != 0 {
					labels[i] = int(col.Flat(i))
				}
			}
			logp := autodiff.LogSoftmax(out, 1)
			per = autodiff.Neg(autodiff.Gather(logp, 1, labels, []int{n, 1}))
		}
		losses[t] = autodiff.Scale(autodiff.Sum(autodiff.Mul(per, autodiff.Const(m)), false), 1/cnt)
	}
	return losses
}

// TaskForwarder is implemented by models that can compute one task's
// output alone (used for multi-input data).
type TaskForwarder interface {
	ForwardTask(x *autodiff.Var, t int) *autodiff.Var
}

// forwardTask computes task t's output on x.
func forwardTask(m Model, x *autodiff.Var, t int) *autodiff.Var {
	if f, ok := m.(TaskForwarder); ok {
		return f.ForwardTask(x, t)
	}
	return m.Forward(x)[t]
}

// groupRows returns, per task, the rows of d that belong to it.
func groupRows(d Dataset, tasks int) [][]int {
	g := make([][]int, tasks)
	for i, t := range d.RowTask {
		g[t] = append(g[t], i)
	}
	return g
}

// batchLosses computes the task losses of a batch: all tasks on all rows
// with masks, or, for multi-input data, every task on its own rows.
func batchLosses(m Model, tasks []TaskSpec, b Dataset) []*autodiff.Var {
	if b.RowTask == nil {
		return TaskLosses(tasks, m.Forward(autodiff.Const(b.X)), b.Y, b.Mask)
	}
	losses := make([]*autodiff.Var, len(tasks))
	for t, rows := range groupRows(b, len(tasks)) {
		if len(rows) == 0 {
			losses[t] = autodiff.Scalar(b.X.DType(), 0)
			continue
		}
		sub := b.Subset(rows)
		out := forwardTask(m, autodiff.Const(sub.X), t)
		one := []TaskSpec{tasks[t]}
		y := tensor.Slice(sub.Y, 1, t, t+1)
		var mask *tensor.Tensor
		if sub.Mask != nil {
			mask = tensor.Slice(sub.Mask, 1, t, t+1)
		}
		losses[t] = TaskLosses(one, []*autodiff.Var{out}, y, mask)[0]
	}
	return losses
}

// Representer is a model whose tasks read one shared representation z:
// Represent returns z for x and the task outputs as a function of z.
type Representer interface {
	Represent(x *autodiff.Var) (z *autodiff.Var, heads func(z *autodiff.Var) []*autodiff.Var)
}

// TrainConfig configures multi-task training.
type TrainConfig struct {
	Steps     int
	LR        float64
	BatchSize int // 0: full batch
	Weighting Weighting
	// WeightDecayShared / WeightDecaySpecific are L2 penalties (added to
	// the gradient) on shared and task-specific parameters.
	WeightDecayShared, WeightDecaySpecific float64
	Seed                                   uint64
	Log                                    func(step int, losses []float64)
	// Val, when set, is evaluated every ValEvery steps (default 25); the
	// parameters with the lowest mean validation task loss are restored at
	// the end (model selection on a validation split; early stopping).
	Val      *Dataset
	ValEvery int
	// Comm, when set with more than one rank, makes this process one rank
	// of a data-parallel job (see distributed.go): every rank draws the
	// same batch, computes the losses and gradients of its share of the
	// rows, and the task losses (with the per-task gradients a weighting
	// needs) and then the gradients are all-reduced, so every rank takes
	// the same step. Results equal one process's up to rounding.
	Comm dist.Comm
	// Sampler, when set, chooses each step's batch rows (task scheduling,
	// schedule.go) instead of BatchSize rows drawn uniformly.
	Sampler Sampler
	// RepresentationGrads gives gradient-based weightings the per-task
	// gradients with respect to the shared representation z (summed over
	// the batch) instead of the shared parameters: MGDA-UB (Sener & Koltun
	// 2018, Sec. 3.3) with MGDA, and the representation variants of IMTL
	// and others. Needs a Representer model and single-input data.
	RepresentationGrads bool

	// Resume continues a run from a state passed to Checkpoint (the
	// model's parameters restored by the caller); the final weights equal
	// those of an uninterrupted run. Weightings with hidden state must
	// implement StateSaver.
	Resume *TrainState
	// CheckpointEvery > 0 calls Checkpoint after every that many steps,
	// after the last one, and when Stop fires.
	CheckpointEvery int
	Checkpoint      func(*TrainState) error
	// Stop, when closed, ends training after the current step (and its
	// checkpoint); Train then returns an error matching ErrStopped.
	// CheckpointName names the checkpoint file in messages and
	// ResumeCommand is quoted in the error of a stopped run.
	Stop           <-chan struct{}
	CheckpointName string
	ResumeCommand  string
	// Progress, when set, shows a bar (terminal) or periodic lines (logs)
	// with the mean task loss.
	Progress *runner.Progress
}

// ErrStopped is matched (errors.Is) by the error Train returns when
// TrainConfig.Stop fired.
var ErrStopped = runner.ErrStopped

// TrainState is what Train needs besides the model's parameters to
// continue a run exactly.
type TrainState struct {
	Step      int    // steps completed
	RNG       []byte // batch sampler (math/rand/v2 PCG, binary form)
	Optimizer *optim.State
	Weighting []byte // StateSaver state; nil for stateless weightings
	BestVal   float64
	Best      []*tensor.Tensor // best validated parameters; nil if none
}

// Train fits m on d with the configured weighting strategy. The shared
// parameters follow the gradient of sum_t c_t L_t (c from the weighting,
// held constant); task t's own parameters follow the gradient of L_t.
func Train(m Model, tasks []TaskSpec, d Dataset, cfg TrainConfig) error {
	if err := d.Validate(tasks); err != nil {
		return err
	}
	if m.NumTasks() != len(tasks) {
		return fmt.Errorf("mtl: model has %d task outputs for %d tasks", m.NumTasks(), len(tasks))
	}
	if cfg.Steps < 1 || !(cfg.LR > 0) {
		return fmt.Errorf("mtl: steps %d and learning rate %v must be positive", cfg.Steps, cfg.LR)
	}
	w := cfg.Weighting
	if w == nil {
		w = equal{}
	}
	shared := vars(m.Shared())
	specific := make([][]*autodiff.Var, len(tasks))
	var all []*autodiff.Var
	all = append(all, shared...)
	for t := range tasks {
		specific[t] = vars(m.Specific(t))
		all = append(all, specific[t]...)
	}
	opt := optim.NewAdam(all, optim.AdamConfig{LR: cfg.LR})
	var rep Representer
	if cfg.RepresentationGrads {
		r, ok := m.(Representer)
		switch {
		case !ok:
			return fmt.Errorf("mtl: RepresentationGrads needs a model with a shared representation (Representer, e.g. HardSharing), not %T", m)
		case d.RowTask != nil:
			return errors.New("mtl: RepresentationGrads needs single-input data (every row labelled for every task), not multi-input data")
		case cfg.Comm != nil && cfg.Comm.Size() > 1:
			return errors.New("mtl: RepresentationGrads is not supported with distributed training")
		}
		rep = r
	}
	pcg := rand.NewPCG(cfg.Seed, 0x6d746c)
	rng := rand.New(pcg)
	if cfg.CheckpointEvery < 0 || (cfg.CheckpointEvery > 0 && cfg.Checkpoint == nil) {
		return fmt.Errorf("mtl: checkpoint interval %d needs a Checkpoint function and must be >= 0", cfg.CheckpointEvery)
	}
	n := d.Rows()
	valEvery := cfg.ValEvery
	if valEvery <= 0 {
		valEvery = 25
	}
	var rs *runner.State
	if r := cfg.Resume; r != nil {
		if r.Step < 0 || r.Step > cfg.Steps {
			return fmt.Errorf("mtl: resume state is at step %d, run has %d steps", r.Step, cfg.Steps)
		}
		if err := pcg.UnmarshalBinary(r.RNG); err != nil {
			return fmt.Errorf("mtl: resume: batch sampler state: %w", err)
		}
		if r.Optimizer != nil {
			if err := opt.LoadState(r.Optimizer); err != nil {
				return fmt.Errorf("mtl: resume: %w", err)
			}
		}
		if ss, ok := w.(StateSaver); ok && r.Weighting != nil {
			if err := ss.LoadState(r.Weighting); err != nil {
				return fmt.Errorf("mtl: resume: %w", err)
			}
		}
		rs = &runner.State{Step: r.Step}
		if r.Best != nil {
			if len(r.Best) != len(all) {
				return fmt.Errorf("mtl: resume: %d best tensors for %d parameters", len(r.Best), len(all))
			}
			for i, t := range r.Best {
				if !tensor.SameShape(t.Shape(), all[i].Value.Shape()) {
					return fmt.Errorf("mtl: resume: best tensor %d has shape %v, parameter has %v", i, t.Shape(), all[i].Value.Shape())
				}
			}
			// the state does not record the best step; any step > 0 says
			// that a best exists
			rs.Best, rs.BestValue, rs.BestStep = r.Best, r.BestVal, max(r.Step, 1)
		}
	}
	var dp *dataParallel
	if cfg.Comm != nil && cfg.Comm.Size() > 1 {
		p, err := newDataParallel(cfg.Comm, all, tasks, d, cfg)
		if err != nil {
			return err
		}
		dp = p
	}
	rank0 := dp == nil || dp.c.Rank() == 0
	if cfg.Val != nil {
		if err := cfg.Val.Validate(tasks); err != nil {
			return fmt.Errorf("validation data: %w", err)
		}
	}
	rc := runner.Config{Steps: cfg.Steps, Resume: rs, CheckpointEvery: cfg.CheckpointEvery, CheckpointName: cfg.CheckpointName,
		ResumeCommand: cfg.ResumeCommand, Stop: cfg.Stop}
	if rank0 {
		rc.Progress = cfg.Progress
	}
	if cfg.Val != nil {
		rc.ValEvery, rc.Metric = valEvery, "loss"
		rc.Validate = func(int) (float64, error) {
			if tm, ok := m.(interface{ SetTraining(bool) }); ok {
				// BatchNorm models (MTAN) validate on their running statistics
				tm.SetTraining(false)
				defer tm.SetTraining(true)
			}
			var ls []*autodiff.Var
			v := 0.0
			if dp == nil {
				autodiff.NoGrad(func() { ls = batchLosses(m, tasks, *cfg.Val) })
				for _, l := range ls {
					v += l.Item()
				}
				return v, nil
			}
			autodiff.NoGrad(func() { ls = dp.shardLosses(m, tasks, *cfg.Val) })
			vals := make([]float64, len(ls))
			for t, l := range ls {
				vals[t] = l.Item()
			}
			if err := dp.c.AllreduceSum(vals); err != nil {
				return 0, fmt.Errorf("mtl: validation: %w", err)
			}
			for _, x := range vals {
				v += x
			}
			return v, nil
		}
	}
	// a resumed best is restored at the end even without validation now
	rc.Snapshot = func() []*tensor.Tensor {
		best := make([]*tensor.Tensor, len(all))
		for i, p := range all {
			best[i] = p.Value.Clone()
		}
		return best
	}
	rc.Restore = func(best []*tensor.Tensor) error {
		for i, p := range all {
			p.Value = best[i]
		}
		return nil
	}
	if cfg.Checkpoint != nil {
		rc.Checkpoint = func(rst runner.State) error {
			if !rank0 {
				return nil
			}
			b, err := pcg.MarshalBinary()
			if err != nil {
				return err
			}
			st := &TrainState{Step: rst.Step, RNG: b, Optimizer: opt.State(), BestVal: math.Inf(1), Best: rst.Best}
			if rst.BestStep > 0 {
				st.BestVal = rst.BestValue
			}
			if ss, ok := w.(StateSaver); ok {
				if st.Weighting, err = ss.SaveState(); err != nil {
					return fmt.Errorf("mtl: checkpoint: weighting %s: %w", w.Name(), err)
				}
			}
			return cfg.Checkpoint(st)
		}
	}
	lossVals := make([]float64, len(tasks))
	rc.Step = func(step int) (runner.Result, error) {
		batch := d
		if cfg.Sampler != nil {
			batch = d.Subset(cfg.Sampler.Rows(step, d, len(tasks), rng))
		} else if cfg.BatchSize > 0 && cfg.BatchSize < n {
			idx := make([]int, cfg.BatchSize)
			for i := range idx {
				idx[i] = rng.IntN(n)
			}
			batch = d.Subset(idx)
		}
		var losses []*autodiff.Var
		var z *autodiff.Var // shared representation (RepresentationGrads)
		switch {
		case cfg.RepresentationGrads:
			var heads func(*autodiff.Var) []*autodiff.Var
			z, heads = rep.Represent(autodiff.Const(batch.X))
			losses = TaskLosses(tasks, heads(z), batch.Y, batch.Mask)
		case dp == nil:
			losses = batchLosses(m, tasks, batch)
		default:
			losses = dp.shardLosses(m, tasks, batch)
		}
		for t, l := range losses {
			lossVals[t] = l.Item()
		}
		var grads [][]float64
		if w.NeedsGrads() && len(shared) > 0 {
			grads = make([][]float64, len(tasks))
			for t, l := range losses {
				if z != nil {
					grads[t] = flatten(autodiff.Grad([]*autodiff.Var{l}, []*autodiff.Var{z}, false))
					continue
				}
				grads[t] = flatten(autodiff.Grad([]*autodiff.Var{l}, shared, false))
			}
		}
		if dp != nil {
			if err := dp.reduceLosses(lossVals, grads); err != nil {
				return runner.Result{}, err
			}
		}
		mean := 0.0
		for _, v := range lossVals {
			mean += v
		}
		res := runner.Result{Loss: mean / float64(len(lossVals))}
		for t, v := range lossVals {
			if !runner.Finite(v) {
				res.NonFinite = fmt.Errorf("mtl: step %d: task %q loss is %v; lower the learning rate (%v)", step+1, tasks[t].Name, v, cfg.LR)
				return res, nil
			}
		}
		c := w.Weights(step, lossVals, grads)
		if len(c) != len(tasks) {
			return res, fmt.Errorf("mtl: weighting %s returned %d weights for %d tasks", w.Name(), len(c), len(tasks))
		}
		dt := d.X.DType()
		total := autodiff.Scalar(dt, 0)
		plain := autodiff.Scalar(dt, 0)
		for t, l := range losses {
			if math.IsNaN(c[t]) || math.IsInf(c[t], 0) {
				return res, fmt.Errorf("mtl: weighting %s gave task %q a non-finite weight at step %d", w.Name(), tasks[t].Name, step)
			}
			total = autodiff.Add(total, autodiff.Scale(l, c[t]))
			plain = autodiff.Add(plain, l)
		}
		gs := autodiff.Grad([]*autodiff.Var{total}, shared, false)
		var spec []*autodiff.Var
		for t := range tasks {
			spec = append(spec, specific[t]...)
		}
		gp := autodiff.Grad([]*autodiff.Var{plain}, spec, false)
		autodiff.Free(total, plain) // the next step reuses the activations' storage
		gvals := make([]*tensor.Tensor, 0, len(all))
		for _, g := range append(gs, gp...) {
			gvals = append(gvals, g.Value)
		}
		if dp != nil {
			var err error
			if gvals, err = dp.reduceGrads(gvals); err != nil {
				return res, err
			}
		}
		upd := make([]*tensor.Tensor, 0, len(all))
		for i, g := range gvals[:len(gs)] {
			upd = append(upd, decay(g, shared[i].Value, cfg.WeightDecayShared))
		}
		for i, g := range gvals[len(gs):] {
			upd = append(upd, decay(g, spec[i].Value, cfg.WeightDecaySpecific))
		}
		for _, u := range upd {
			if u.HasNaNOrInf() {
				res.NonFinite = fmt.Errorf("mtl: step %d: gradient is not finite (losses %v); lower the learning rate (%v)", step+1, lossVals, cfg.LR)
				return res, nil
			}
		}
		opt.StepWith(upd)
		if cfg.Log != nil && rank0 {
			cfg.Log(step, lossVals)
		}
		return res, nil
	}
	_, err := runner.Run(rc)
	return err
}

func decay(g, p *tensor.Tensor, wd float64) *tensor.Tensor {
	if wd == 0 {
		return g
	}
	out := g.Clone()
	out.AddScaledInPlace(wd, p)
	return out
}

func flatten(gs []*autodiff.Var) []float64 {
	var out []float64
	for _, g := range gs {
		out = append(out, g.Value.Values()...)
	}
	return out
}

// equal is the default weighting: every task weight 1.
type equal struct{}

func (equal) Name() string     { return "ew" }
func (equal) NeedsGrads() bool { return false }
func (equal) Weights(_ int, losses []float64, _ [][]float64) []float64 {
	c := make([]float64, len(losses))
	for i := range c {
		c[i] = 1
	}
	return c
}

// PredictRows returns, for each row, its own task's (first) output, for
// multi-input data.
func PredictRows(m Model, x *tensor.Tensor, rowTask []int, tasks int) []float64 {
	d := Dataset{X: x, Y: tensor.New(x.DType(), x.Dim(0), 1), RowTask: rowTask}
	pred := make([]float64, x.Dim(0))
	autodiff.NoGrad(func() {
		for t, rows := range groupRows(d, tasks) {
			if len(rows) == 0 {
				continue
			}
			out := forwardTask(m, autodiff.Const(tensor.IndexSelect(x, 0, rows)), t)
			for i, r := range rows {
				pred[r] = out.Value.At(i, 0)
			}
		}
	})
	return pred
}

// Predict returns the task outputs for x without recording a graph.
func Predict(m Model, x *tensor.Tensor) []*tensor.Tensor {
	var outs []*autodiff.Var
	autodiff.NoGrad(func() { outs = m.Forward(autodiff.Const(x)) })
	res := make([]*tensor.Tensor, len(outs))
	for i, o := range outs {
		res[i] = o.Value
	}
	return res
}
