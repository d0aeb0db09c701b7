package mtl

import (
	"fmt"
	"hash/fnv"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/dist"
	"github.com/metalearn/metalearn/tensor"
)

// Data-parallel multi-task training (TrainConfig.Comm with more than one
// rank). Every rank holds the data and draws the same batch from the
// shared seeded generator; rank r takes the contiguous rows
// dist.Share(rows, r, size) of it. Each task's loss on a shard is
// normalised by the task's label count in the whole batch, so the shard
// losses and their gradients add up to the batch's. A step makes one or
// two all-reductions: the task losses (with the per-task shared gradients
// when the weighting needs them), from which every rank computes the same
// task weights, then one flat buffer with the gradients of every shared and
// task-specific parameter. The sums over rows are split differently than
// in one process, so results agree with a single-process run to rounding,
// not bit for bit (see TestDistributedMatchesSingleProcess).
type dataParallel struct {
	c dist.Comm
}

func newDataParallel(c dist.Comm, params []*autodiff.Var, tasks []TaskSpec, d Dataset, cfg TrainConfig) (*dataParallel, error) {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%v|%d|%v|%v|%d|%d|%v|%d|", cfg.Steps, cfg.LR, cfg.BatchSize, cfg.WeightDecayShared, cfg.WeightDecaySpecific, cfg.Seed, cfg.ValEvery, cfg.Val != nil, d.Rows())
	if cfg.Weighting != nil {
		fmt.Fprintf(h, "%s|", cfg.Weighting.Name())
	}
	for _, t := range tasks {
		fmt.Fprintf(h, "%s/%d/%d|", t.Name, t.Kind, t.Classes)
	}
	for _, p := range params {
		fmt.Fprintf(h, "%v%v|", p.Value.DType(), p.Value.Shape())
	}
	if err := dist.CheckSame(c, h.Sum64(), "training configuration (flags, data or model)"); err != nil {
		return nil, fmt.Errorf("mtl: %w; start every rank with the same arguments and data", err)
	}
	// rank 0's initial parameters are everyone's
	n := 0
	for _, p := range params {
		n += p.Value.Len()
	}
	buf := make([]byte, 8*n)
	if c.Rank() == 0 {
		b := buf
		for _, p := range params {
			b = dist.PutFloat64s(b, p.Value.Values())
		}
	}
	if err := c.Broadcast(buf, 0); err != nil {
		return nil, fmt.Errorf("mtl: broadcasting the initial parameters: %w", err)
	}
	if c.Rank() != 0 {
		b := buf
		for _, p := range params {
			v := make([]float64, p.Value.Len())
			b = dist.Float64s(v, b)
			p.Value = tensor.FromValues(p.Value.DType(), v, p.Value.Shape()...)
		}
	}
	return &dataParallel{c: c}, nil
}

// taskCounts is every task's label count in b (as TaskLosses counts it).
func taskCounts(b Dataset, ntasks int) []float64 {
	c := make([]float64, ntasks)
	for i := 0; i < b.Rows(); i++ {
		for t := range c {
			if b.RowTask != nil && b.RowTask[i] != t {
				continue
			}
			if b.Mask != nil {
				c[t] += b.Mask.At(i, t)
			} else {
				c[t]++
			}
		}
	}
	return c
}

// shardLosses returns the task losses on this rank's rows of b, each
// normalised by the task's label count in all of b: summed over the ranks
// they are batchLosses(b).
func (dp *dataParallel) shardLosses(m Model, tasks []TaskSpec, b Dataset) []*autodiff.Var {
	counts := taskCounts(b, len(tasks))
	lo, hi := dist.Share(b.Rows(), dp.c.Rank(), dp.c.Size())
	losses := make([]*autodiff.Var, len(tasks))
	zero := func() {
		for t := range losses {
			if losses[t] == nil {
				losses[t] = autodiff.Scalar(b.X.DType(), 0)
			}
		}
	}
	if hi == lo {
		zero()
		return losses
	}
	idx := make([]int, hi-lo)
	for i := range idx {
		idx[i] = lo + i
	}
	sub := b.Subset(idx)
	if sub.RowTask == nil {
		return taskLosses(tasks, m.Forward(autodiff.Const(sub.X)), sub.Y, sub.Mask, counts)
	}
	for t, rows := range groupRows(sub, len(tasks)) {
		if len(rows) == 0 {
			continue
		}
		st := sub.Subset(rows)
		out := forwardTask(m, autodiff.Const(st.X), t)
		var mask *tensor.Tensor
		if st.Mask != nil {
			mask = tensor.Slice(st.Mask, 1, t, t+1)
		}
		losses[t] = taskLosses([]TaskSpec{tasks[t]}, []*autodiff.Var{out}, tensor.Slice(st.Y, 1, t, t+1), mask, counts[t:t+1])[0]
	}
	zero()
	return losses
}

// reduceLosses sums the shard losses (and per-task gradients) of all
// ranks in place: one flat buffer.
func (dp *dataParallel) reduceLosses(losses []float64, grads [][]float64) error {
	buf := append([]float64(nil), losses...)
	for _, g := range grads {
		buf = append(buf, g...)
	}
	if err := dp.c.AllreduceSum(buf); err != nil {
		return fmt.Errorf("mtl: all-reducing task losses: %w", err)
	}
	b := buf[copy(losses, buf):]
	for _, g := range grads {
		b = b[copy(g, b):]
	}
	return nil
}

// reduceGrads all-reduces the gradients gs (one flat buffer) and returns
// the sums as new tensors of the same dtypes and shapes.
func (dp *dataParallel) reduceGrads(gs []*tensor.Tensor) ([]*tensor.Tensor, error) {
	n := 0
	for _, g := range gs {
		n += g.Len()
	}
	buf := make([]float64, 0, n)
	for _, g := range gs {
		buf = append(buf, g.Values()...)
	}
	if err := dp.c.AllreduceSum(buf); err != nil {
		return nil, fmt.Errorf("mtl: all-reducing gradients: %w", err)
	}
	out := make([]*tensor.Tensor, len(gs))
	for i, g := range gs {
		out[i] = tensor.FromValues(g.DType(), buf[:g.Len()], g.Shape()...)
		buf = buf[g.Len():]
	}
	return out, nil
}
