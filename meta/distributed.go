package meta

import (
	"sync"

	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/dist"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/runner"
	"github.com/metalearn/metalearn/tensor"
)

// Data-parallel meta-training (TrainConfig.Comm with more than one rank).
//
// Every rank draws the whole meta-batch from the shared seeded sampler
// (cheap next to the gradients), so the task stream, and with it
// TrainState, does not depend on the number of ranks. Rank r computes the
// gradients of its contiguous share dist.Share(MetaBatch, r, size) of the
// tasks. Then, by default, one allgather exchanges every task's gradient
// (one flat byte buffer per step, the tensors' own dtype, bit for bit) and
// every rank sums them in task order with AverageGrads, exactly as one
// process does: the meta-parameters after N iterations equal those of a
// single-process run bit for bit, for any number of ranks. The price is
// bandwidth: each rank receives MetaBatch gradients per step instead of
// the 2(p-1)/p gradients of a ring allreduce.
//
// With TrainConfig.FastReduce each rank sums its own tasks' gradients and
// one allreduce adds the partial sums: MetaBatch/2 times fewer bytes, but
// the floating-point sum order then depends on the number of ranks, so the
// result agrees with one process only to rounding (about MetaBatch * eps *
// sum |g| per element of the averaged gradient, then amplified by the
// optimizer over many steps).
//
// Every rank applies the same optimizer step to the same averaged
// gradient, so the meta-parameters stay identical on all ranks (checked
// with a checksum at every checkpoint and at the end). BatchNorm running
// statistics (--batchnorm running / per-step), which each rank updates from
// its own tasks only, are replaced after every step by rank 0's, as
// PyTorch DistributedDataParallel does with broadcast_buffers; results with
// running statistics therefore depend on the number of ranks (the default
// transductive BatchNorm has none).

type dataParallel struct {
	c      dist.Comm
	fast   bool
	params []*autodiff.Var
	bufs   []*autodiff.Var
	// taskBytes is one task's record in the exact exchange: loss and
	// metric (float64) and every gradient in its parameter's dtype.
	taskBytes int
}

func newDataParallel(c dist.Comm, alg Algorithm, cfg *TrainConfig) (*dataParallel, error) {
	dp := &dataParallel{c: c, fast: cfg.FastReduce, params: alg.MetaParams(), bufs: algorithmBuffers(alg)}
	dp.taskBytes = 16
	for _, p := range dp.params {
		dp.taskBytes += p.Value.Len() * dtypeSize(p.Value.DType())
	}
	// the same configuration everywhere: otherwise the ranks would
	// silently train different things (or deadlock)
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%d|%d|%v|%q|%v|%d|%d|%d|%d|%v|%v|%d|", alg.Name(), cfg.Iterations, cfg.MetaBatch, cfg.OuterLR, cfg.Outer, cfg.ClipNorm,
		cfg.Seed, cfg.ValEvery, len(cfg.Val), cfg.ValSteps, ValMetric(cfg.Val), cfg.FastReduce, cfg.CheckpointEvery)
	for _, p := range dp.params {
		fmt.Fprintf(h, "%v%v|", p.Value.DType(), p.Value.Shape())
	}
	if r := cfg.Resume; r != nil {
		fmt.Fprintf(h, "resume %d %x", r.Iteration, r.RNG)
	}
	if err := dist.CheckSame(c, h.Sum64(), "training configuration (flags, model or resume checkpoint)"); err != nil {
		return nil, fmt.Errorf("meta: %w; start every rank with the same arguments", err)
	}
	// rank 0's meta-parameters and buffers are everyone's
	if err := broadcastVars(c, append(append([]*autodiff.Var(nil), dp.params...), dp.bufs...)); err != nil {
		return nil, fmt.Errorf("meta: broadcasting the initial parameters: %w", err)
	}
	return dp, nil
}

func dtypeSize(dt tensor.DType) int {
	if dt == tensor.Float32 {
		return 4
	}
	return 8
}

// algorithmBuffers lists the buffers (BatchNorm running statistics) of the
// modules an algorithm owns.
func algorithmBuffers(alg Algorithm) []*autodiff.Var {
	var mods []nn.Module
	switch a := alg.(type) {
	case *MAML:
		if a.Body != nil {
			mods = append(mods, a.Body)
		}
		mods = append(mods, a.Head)
		mods = append(mods, a.StepModules...)
	case *ProtoNet:
		mods = append(mods, a.Encoder)
	case *Reptile:
		mods = append(mods, a.Model)
	}
	var out []*autodiff.Var
	for _, m := range mods {
		for _, b := range nn.Buffers(m) {
			out = append(out, b.V)
		}
	}
	return out
}

// broadcastVars replaces the values of vs on every rank by rank 0's.
func broadcastVars(c dist.Comm, vs []*autodiff.Var) error {
	n := 0
	for _, v := range vs {
		n += v.Value.Len() * dtypeSize(v.Value.DType())
	}
	if n == 0 {
		return nil
	}
	buf := make([]byte, n)
	if c.Rank() == 0 {
		b := buf
		for _, v := range vs {
			b = putTensor(b, v.Value)
		}
	}
	if err := c.Broadcast(buf, 0); err != nil {
		return err
	}
	if c.Rank() != 0 {
		b := buf
		for _, v := range vs {
			t := tensor.New(v.Value.DType(), v.Value.Shape()...)
			b = getTensor(t, b)
			v.Value = t
		}
	}
	return nil
}

func putTensor(b []byte, t *tensor.Tensor) []byte {
	if t.DType() == tensor.Float32 {
		return dist.PutFloat32s(b, t.F32())
	}
	return dist.PutFloat64s(b, t.F64())
}

func getTensor(t *tensor.Tensor, b []byte) []byte {
	if t.DType() == tensor.Float32 {
		return dist.Float32s(t.F32(), b)
	}
	return dist.Float64s(t.F64(), b)
}

// stepResult is one distributed iteration's combined outcome.
type stepResult struct {
	mean         []*tensor.Tensor
	loss, metric float64
	stop         bool // some rank's Stop fired
}

// step computes this rank's share of the meta-batch and combines the
// gradients of all ranks. stop is this rank's Stop state, shared in the
// same exchange so that every rank stops after the same iteration.
func (dp *dataParallel) step(alg Algorithm, tasks []data.Task, iter, workers int, stop bool) (*stepResult, error) {
	size, rank := dp.c.Size(), dp.c.Rank()
	lo, hi := dist.Share(len(tasks), rank, size)
	before := make([]*tensor.Tensor, len(dp.bufs))
	for i, b := range dp.bufs {
		before[i] = b.Value
	}
	grads, results := taskGradients(alg, tasks[lo:hi], iter, workers)
	changed := false
	for i, b := range dp.bufs {
		changed = changed || b.Value != before[i]
	}
	for _, g := range grads {
		if len(g) != len(dp.params) {
			return nil, fmt.Errorf("meta: %s returned %d gradients for %d meta-parameters", alg.Name(), len(g), len(dp.params))
		}
		for i, t := range g {
			p := dp.params[i].Value
			if t.DType() != p.DType() || !tensor.SameShape(t.Shape(), p.Shape()) {
				return nil, fmt.Errorf("meta: gradient %d is %v%v, meta-parameter is %v%v", i, t.DType(), t.Shape(), p.DType(), p.Shape())
			}
		}
	}
	var res *stepResult
	var err error
	if dp.fast {
		res, changed, err = dp.allreduce(grads, results, len(tasks), stop, changed)
	} else {
		res, changed, err = dp.gather(grads, results, len(tasks), stop, changed)
	}
	if err != nil {
		return nil, err
	}
	if changed {
		if err := broadcastVars(dp.c, dp.bufs); err != nil {
			return nil, fmt.Errorf("meta: broadcasting BatchNorm statistics: %w", err)
		}
	}
	return res, nil
}

// gather exchanges every task's gradient and averages in task order.
func (dp *dataParallel) gather(grads [][]*tensor.Tensor, results []TaskResult, n int, stop, changed bool) (*stepResult, bool, error) {
	size := dp.c.Size()
	block := 8 + dist.MaxShare(n, size)*dp.taskBytes
	send := make([]byte, block)
	send[0], send[1] = boolByte(stop), boolByte(changed)
	b := send[8:]
	for i, g := range grads {
		b = dist.PutFloat64s(b, []float64{results[i].Loss, results[i].Metric})
		for _, t := range g {
			b = putTensor(b, t)
		}
	}
	recv := make([]byte, size*block)
	if err := dp.c.Allgather(send, recv); err != nil {
		return nil, false, fmt.Errorf("meta: exchanging gradients: %w", err)
	}
	all := make([][]*tensor.Tensor, 0, n)
	rs := make([]TaskResult, 0, n)
	res := &stepResult{}
	changed = false
	lm := make([]float64, 2)
	for r := 0; r < size; r++ {
		blk := recv[r*block : (r+1)*block]
		res.stop = res.stop || blk[0] != 0
		changed = changed || blk[1] != 0
		lo, hi := dist.Share(n, r, size)
		b := blk[8:]
		for range hi - lo {
			b = dist.Float64s(lm, b)
			rs = append(rs, TaskResult{Loss: lm[0], Metric: lm[1]})
			g := make([]*tensor.Tensor, len(dp.params))
			for i, p := range dp.params {
				g[i] = tensor.New(p.Value.DType(), p.Value.Shape()...)
				b = getTensor(g[i], b)
			}
			all = append(all, g)
		}
	}
	res.mean = AverageGrads(all)
	res.loss, res.metric = meanLoss(rs), meanMetric(rs)
	return res, changed, nil
}

// allreduce sums per-rank partial sums (FastReduce).
func (dp *dataParallel) allreduce(grads [][]*tensor.Tensor, results []TaskResult, n int, stop, changed bool) (*stepResult, bool, error) {
	n32, n64 := 0, 4 // float64 header: stop, changed, loss sum, metric sum
	for _, p := range dp.params {
		if p.Value.DType() == tensor.Float32 {
			n32 += p.Value.Len()
		} else {
			n64 += p.Value.Len()
		}
	}
	b32, b64 := make([]float32, n32), make([]float64, n64)
	if stop {
		b64[0] = 1
	}
	if changed {
		b64[1] = 1
	}
	for _, r := range results {
		b64[2] += r.Loss
		b64[3] += r.Metric
	}
	if len(grads) > 0 {
		o32, o64 := 0, 4
		for i, p := range dp.params {
			s := grads[0][i].Clone()
			for _, g := range grads[1:] {
				s.AddScaledInPlace(1, g[i])
			}
			if p.Value.DType() == tensor.Float32 {
				o32 += copy(b32[o32:], s.F32())
			} else {
				o64 += copy(b64[o64:], s.F64())
			}
		}
	}
	if n32 > 0 {
		if err := dp.c.AllreduceSum32(b32); err != nil {
			return nil, false, fmt.Errorf("meta: all-reducing gradients: %w", err)
		}
	}
	if err := dp.c.AllreduceSum(b64); err != nil {
		return nil, false, fmt.Errorf("meta: all-reducing gradients: %w", err)
	}
	res := &stepResult{stop: b64[0] != 0, loss: b64[2] / float64(n), metric: b64[3] / float64(n)}
	res.mean = make([]*tensor.Tensor, len(dp.params))
	o32, o64 := 0, 4
	for i, p := range dp.params {
		t := tensor.New(p.Value.DType(), p.Value.Shape()...)
		if t.DType() == tensor.Float32 {
			o32 += copy(t.F32(), b32[o32:])
		} else {
			o64 += copy(t.F64(), b64[o64:])
		}
		t.ScaleInPlace(1 / float64(n))
		res.mean[i] = t
	}
	return res, b64[1] != 0, nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// EvaluateDistributed is Evaluate with the tasks split over the ranks of c:
// each rank evaluates its contiguous share and the per-task results are
// gathered (exactly), so every rank returns the Summary that Evaluate
// returns in one process. c nil or of size 1 is Evaluate.
func EvaluateDistributed(c dist.Comm, alg Algorithm, tasks []data.Task, steps, workers int) (Summary, error) {
	return EvaluateProgress(c, alg, tasks, steps, workers, nil)
}

// EvaluateProgress is EvaluateDistributed (c may be nil) that counts the
// tasks this process evaluates on p (a bar with ETA, or lines in logs).
func EvaluateProgress(c dist.Comm, alg Algorithm, tasks []data.Task, steps, workers int, p *runner.Progress) (Summary, error) {
	size, rank := 1, 0
	if c != nil {
		size, rank = c.Size(), c.Rank()
	}
	lo, hi := dist.Share(len(tasks), rank, size)
	if m, ok := alg.(interface{ SetTraining(bool) }); ok {
		m.SetTraining(false)
		defer m.SetTraining(true)
	}
	local := make([]TaskResult, hi-lo)
	if p != nil {
		p.Total = hi - lo
		p.Start(0)
	}
	var mu sync.Mutex
	done := 0
	Parallel(hi-lo, workers, func(i int) {
		local[i] = alg.Evaluate(tasks[lo+i], steps)
		if p != nil {
			mu.Lock()
			done++
			p.Update(done)
			mu.Unlock()
		}
	})
	if size == 1 {
		return Summarise(local), nil
	}
	block := 16 * dist.MaxShare(len(tasks), size)
	send := make([]byte, block)
	b := send
	for _, r := range local {
		b = dist.PutFloat64s(b, []float64{r.Loss, r.Metric})
	}
	recv := make([]byte, size*block)
	if err := c.Allgather(send, recv); err != nil {
		return Summary{}, fmt.Errorf("meta: gathering evaluation results: %w", err)
	}
	rs := make([]TaskResult, 0, len(tasks))
	lm := make([]float64, 2)
	for r := 0; r < size; r++ {
		lo, hi := dist.Share(len(tasks), r, size)
		b := recv[r*block:]
		for range hi - lo {
			b = dist.Float64s(lm, b)
			rs = append(rs, TaskResult{Loss: lm[0], Metric: lm[1]})
		}
	}
	return Summarise(rs), nil
}

// sync shares err (so that every rank stops when one failed, e.g. rank 0
// writing a checkpoint) and then checks that all ranks hold the same
// meta-parameters.
func (dp *dataParallel) sync(err error) error {
	if err := dist.AnyError(dp.c, err); err != nil {
		return err
	}
	h := fnv.New64a()
	var w [8]byte
	for _, v := range append(append([]*autodiff.Var(nil), dp.params...), dp.bufs...) {
		for _, x := range v.Value.Values() {
			binary.LittleEndian.PutUint64(w[:], math.Float64bits(x))
			h.Write(w[:])
		}
	}
	if err := dist.CheckSame(dp.c, h.Sum64(), "meta-parameters"); err != nil {
		return fmt.Errorf("meta: %w: the ranks diverged", err)
	}
	return nil
}
