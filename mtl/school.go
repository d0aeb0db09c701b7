package mtl

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// SchoolSplit is one random split of a multi-input regression dataset:
// within every task, a fraction of its rows (rounded) goes to training.
type SchoolSplit struct {
	Train, Test Dataset
	TrainTask   []int // task of each training row
	TestTask    []int
	NumTasks    int
}

// SplitPerTask splits d task by task (Evgeniou & Pontil 2004 use 75% / 25%
// per school). Features are standardised with training statistics and the
// target with the training mean and standard deviation; every row carries
// a label for its own task only (mask).
func SplitPerTask(d *data.TaskRegression, trainFrac float64, seed uint64) (*SchoolSplit, error) {
	if !(trainFrac > 0 && trainFrac < 1) {
		return nil, fmt.Errorf("mtl: train fraction %v not in (0,1)", trainFrac)
	}
	rng := rand.New(rand.NewPCG(seed, 0x7363686f))
	byTask := make([][]int, d.NumTasks)
	for i, t := range d.Task {
		byTask[t] = append(byTask[t], i)
	}
	var tr, te []int
	for t, rows := range byTask {
		if len(rows) < 2 {
			return nil, fmt.Errorf("mtl: task %d has %d rows; need at least 2 to split", t, len(rows))
		}
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		k := int(math.Round(trainFrac * float64(len(rows))))
		k = min(max(k, 1), len(rows)-1)
		tr = append(tr, rows[:k]...)
		te = append(te, rows[k:]...)
	}
	f := d.X.Dim(1)
	mean := make([]float64, f)
	sd := make([]float64, f)
	for _, r := range tr {
		for j := 0; j < f; j++ {
			mean[j] += d.X.At(r, j)
		}
	}
	for j := range mean {
		mean[j] /= float64(len(tr))
	}
	for _, r := range tr {
		for j := 0; j < f; j++ {
			v := d.X.At(r, j) - mean[j]
			sd[j] += v * v
		}
	}
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / float64(len(tr)))
		if sd[j] == 0 {
			sd[j] = 1
		}
	}
	ym, ys := 0.0, 0.0
	for _, r := range tr {
		ym += d.Y[r]
	}
	ym /= float64(len(tr))
	for _, r := range tr {
		ys += (d.Y[r] - ym) * (d.Y[r] - ym)
	}
	ys = math.Sqrt(ys / float64(len(tr)))
	build := func(rows []int) (Dataset, []int) {
		x := tensor.New(tensor.Float32, len(rows), f)
		y := tensor.New(tensor.Float32, len(rows), d.NumTasks)
		m := tensor.New(tensor.Float32, len(rows), d.NumTasks)
		tasks := make([]int, len(rows))
		for i, r := range rows {
			for j := 0; j < f; j++ {
				x.Set((d.X.At(r, j)-mean[j])/sd[j], i, j)
			}
			t := d.Task[r]
			y.Set((d.Y[r]-ym)/ys, i, t)
			m.Set(1, i, t)
			tasks[i] = t
		}
		return Dataset{X: x, Y: y, Mask: m, RowTask: tasks}, tasks
	}
	s := &SchoolSplit{NumTasks: d.NumTasks}
	s.Train, s.TrainTask = build(tr)
	s.Test, s.TestTask = build(te)
	return s, nil
}

// ExplainedVariance is 1 - SSE / SST over all test rows pooled, in percent
// (the School benchmark's measure: Evgeniou & Pontil 2004; Argyriou et
// al. 2008), where each row is predicted by its own task's output.
func ExplainedVariance(m Model, test Dataset, tasks []int) float64 {
	pred := PredictRows(m, test.X, tasks, test.Y.Dim(1))
	n := test.Rows()
	ys := make([]float64, n)
	mean := 0.0
	for i := 0; i < n; i++ {
		ys[i] = test.Y.At(i, tasks[i])
		mean += ys[i]
	}
	mean /= float64(n)
	sse, sst := 0.0, 0.0
	for i := 0; i < n; i++ {
		e := ys[i] - pred[i]
		sse += e * e
		sst += (ys[i] - mean) * (ys[i] - mean)
	}
	return 100 * (1 - sse/sst)
}

// SchoolModel builds the model of a School method:
//
//   - "stl": an independent linear model per task (no shared parameters);
//   - "pooled": one linear model for all tasks;
//   - "additive": regularised MTL, w_t = w_0 + v_t (Evgeniou & Pontil);
//   - "hard": a shared ReLU trunk (hidden units) with a linear head per task.
func SchoolModel(method string, rng *rand.Rand, features, tasks, hidden int) (Model, error) {
	zero := &nn.Func{Name: "Zero", F: func(x *autodiff.Var) *autodiff.Var {
		return autodiff.Const(tensor.New(x.DType(), x.Shape()[0], 1))
	}}
	own := func() []nn.Module {
		ms := make([]nn.Module, tasks)
		for t := range ms {
			ms[t] = nn.NewLinear(rng, features, 1)
		}
		return ms
	}
	switch method {
	case "stl":
		return &Additive{Common: zero, Own: own()}, nil
	case "pooled":
		ms := make([]nn.Module, tasks)
		for t := range ms {
			ms[t] = zero
		}
		return &Additive{Common: nn.NewLinear(rng, features, 1), Own: ms}, nil
	case "additive":
		return &Additive{Common: nn.NewLinear(rng, features, 1), Own: own()}, nil
	case "hard":
		heads := make([]nn.Module, tasks)
		for t := range heads {
			heads[t] = nn.NewLinear(rng, hidden, 1)
		}
		return &HardSharing{Encoder: nn.NewSequential(nn.NewLinear(rng, features, hidden), nn.ReLU()), Heads: heads}, nil
	}
	return nil, fmt.Errorf("mtl: unknown School method %q (want stl, pooled, additive or hard)", method)
}
