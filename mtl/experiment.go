package mtl

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// Experiment is a multi-task problem with train and test data.
type Experiment struct {
	Name        string
	Tasks       []TaskSpec
	Train, Test Dataset
	// Val, when set, selects each model's parameters (lowest validation
	// loss during training); RunSTL and RunMTL use it for every model.
	Val      *Dataset
	Features int
	// Scale[t], when set, normalises task t's regression RMSE (RRMSE).
	Scale []float64
	// Image, when set, says that the rows of X are flattened images of
	// this geometry: BuildModel then builds conv networks ("hard" is the
	// LeNet-style hard-sharing network, "mtan" the attention network).
	Image *ConvNetConfig
	// BatchSize, when set, is the minibatch size RunSTL and RunMTL use if
	// the training configuration leaves it 0 (full batch).
	BatchSize int
}

// Architectures lists the names BuildModel accepts.
// "mtan" needs an image experiment (Experiment.Image set).
var Architectures = []string{"hard", "mmoe", "cgc", "cross-stitch", "mtan"}

// BuildModel creates an architecture for e's tasks with hidden units.
func (e *Experiment) BuildModel(arch string, tasks []TaskSpec, hidden int, rng *rand.Rand) (Model, error) {
	outs := make([]int, len(tasks))
	for i, t := range tasks {
		outs[i] = t.Outputs()
	}
	if e.Image != nil {
		return e.buildImageModel(arch, outs, hidden, rng)
	}
	switch arch {
	case "mtan":
		return nil, fmt.Errorf("mtl: architecture \"mtan\" needs image inputs (a conv encoder); experiment %q has %d tabular features (use hard, mmoe, cgc or cross-stitch)", e.Name, e.Features)
	case "hard":
		heads := make([]nn.Module, len(tasks))
		for i := range heads {
			heads[i] = nn.NewLinear(rng, hidden, outs[i])
		}
		return &HardSharing{Encoder: nn.NewSequential(nn.NewLinear(rng, e.Features, hidden), nn.ReLU(), nn.NewLinear(rng, hidden, hidden), nn.ReLU()), Heads: heads}, nil
	case "mmoe":
		return NewMMoE(rng, e.Features, hidden, 4, outs), nil
	case "cgc":
		return NewCGC(rng, e.Features, hidden, 2, 1, outs), nil
	case "cross-stitch":
		return NewCrossStitch(rng, []int{e.Features, hidden, hidden}, outs), nil
	}
	return nil, fmt.Errorf("mtl: unknown architecture %q (want %s)", arch, strings.Join(Architectures, ", "))
}

// buildImageModel builds the conv architectures of an image experiment;
// hidden is the width of the fully connected layer (0 keeps e.Image's).
func (e *Experiment) buildImageModel(arch string, outs []int, hidden int, rng *rand.Rand) (Model, error) {
	cfg := *e.Image
	if hidden > 0 {
		cfg.Hidden = hidden
	}
	switch arch {
	case "hard":
		return NewLeNetHard(rng, cfg, outs)
	case "mtan":
		return NewMTAN(rng, cfg, outs)
	}
	return nil, fmt.Errorf("mtl: architecture %q is not available for the image experiment %q (want hard or mtan)", arch, e.Name)
}

// Metrics returns one number per task on the test set: accuracy for
// classification and binary tasks (higher is better), RMSE (or RRMSE when
// Scale is set) for regression (lower is better).
func (e *Experiment) Metrics(m Model, d Dataset, tasks []int) []float64 {
	if tm, ok := m.(interface{ SetTraining(bool) }); ok {
		// BatchNorm: evaluate with running statistics
		tm.SetTraining(false)
		defer tm.SetTraining(true)
	}
	var preds []*tensor.Tensor
	if d.RowTask == nil {
		preds = Predict(m, d.X)
	}
	out := make([]float64, len(tasks))
	for k, t := range tasks {
		spec := e.Tasks[t]
		var se, n, correct float64
		var rows []int
		for i := 0; i < d.Rows(); i++ {
			if d.Mask != nil && d.Mask.At(i, t) == 0 {
				continue
			}
			if d.RowTask != nil && d.RowTask[i] != t {
				continue
			}
			rows = append(rows, i)
		}
		var p *tensor.Tensor
		if d.RowTask != nil {
			sub := tensor.IndexSelect(d.X, 0, rows)
			autodiff.NoGrad(func() { p = forwardTask(m, autodiff.Const(sub), t).Value })
		} else {
			p = tensor.IndexSelect(preds[k], 0, rows)
		}
		for j, i := range rows {
			y := d.Y.At(i, t)
			switch spec.Kind {
			case Regression:
				diff := p.At(j, 0) - y
				se += diff * diff
			case Binary:
				if (p.At(j, 0) > 0) == (y > 0.5) {
					correct++
				}
			case Classification:
				best := 0
				for c := 1; c < spec.Classes; c++ {
					if p.At(j, c) > p.At(j, best) {
						best = c
					}
				}
				if float64(best) == y {
					correct++
				}
			}
			n++
		}
		if spec.Kind == Regression {
			out[k] = math.Sqrt(se / n)
			if e.Scale != nil {
				out[k] /= e.Scale[t]
			}
		} else {
			out[k] = correct / n
		}
	}
	return out
}

// HigherIsBetter reports each task's metric direction.
func (e *Experiment) HigherIsBetter() []bool {
	hb := make([]bool, len(e.Tasks))
	for i, t := range e.Tasks {
		hb[i] = t.Kind != Regression
	}
	return hb
}

// single returns the experiment restricted to task t (for single-task
// baselines): same rows, one target column.
func (e *Experiment) single(d Dataset, t int) Dataset {
	s := Dataset{X: d.X, Y: tensor.Slice(d.Y, 1, t, t+1)}
	if d.Mask != nil {
		s.Mask = tensor.Slice(d.Mask, 1, t, t+1)
	}
	if d.RowTask != nil {
		var rows []int
		for i, rt := range d.RowTask {
			if rt == t {
				rows = append(rows, i)
			}
		}
		s = Dataset{X: tensor.IndexSelect(d.X, 0, rows), Y: tensor.IndexSelect(s.Y, 0, rows)}
		if s.Mask != nil {
			s.Mask = tensor.IndexSelect(s.Mask, 0, rows)
		}
	}
	return s
}

// RunConfig configures RunSTL and RunMTL.
type RunConfig struct {
	Arch   string
	Hidden int
	Train  TrainConfig
	Seed   uint64
}

// RunSTL trains one single-task model per task (the same architecture
// with one output) and returns each task's test metric: the baselines of
// Delta_p.
func (e *Experiment) RunSTL(cfg RunConfig) ([]float64, error) {
	res := make([]float64, len(e.Tasks))
	for t := range e.Tasks {
		tasks := []TaskSpec{e.Tasks[t]}
		m, err := e.BuildModel(cfg.Arch, tasks, cfg.Hidden, rand.New(rand.NewPCG(cfg.Seed, uint64(t))))
		if err != nil {
			return nil, err
		}
		tr := e.single(e.Train, t)
		tc := cfg.Train
		tc.Weighting, tc.RepresentationGrads = nil, false
		if tc.BatchSize == 0 {
			tc.BatchSize = e.BatchSize
		}
		if e.Val != nil {
			v := e.single(*e.Val, t)
			tc.Val = &v
		}
		if err := Train(m, tasks, tr, tc); err != nil {
			return nil, fmt.Errorf("single-task %q: %w", e.Tasks[t].Name, err)
		}
		sub := &Experiment{Tasks: tasks, Features: e.Features}
		if e.Scale != nil {
			sub.Scale = []float64{e.Scale[t]}
		}
		res[t] = sub.Metrics(m, e.single(e.Test, t), []int{0})[0]
	}
	return res, nil
}

// RunMTL trains one multi-task model with cfg.Train.Weighting and returns
// each task's test metric.
func (e *Experiment) RunMTL(cfg RunConfig) ([]float64, error) {
	_, res, err := e.TrainMTL(cfg)
	return res, err
}

// TrainMTL is RunMTL that also returns the trained model (built by
// BuildModel with the random stream (cfg.Seed, 99)).
func (e *Experiment) TrainMTL(cfg RunConfig) (Model, []float64, error) {
	m, err := e.BuildModel(cfg.Arch, e.Tasks, cfg.Hidden, rand.New(rand.NewPCG(cfg.Seed, 99)))
	if err != nil {
		return nil, nil, err
	}
	tc := cfg.Train
	tc.Val = e.Val
	if tc.BatchSize == 0 {
		tc.BatchSize = e.BatchSize
	}
	if err := Train(m, e.Tasks, e.Train, tc); err != nil {
		return nil, nil, err
	}
	all := make([]int, len(e.Tasks))
	for i := range all {
		all[i] = i
	}
	return m, e.Metrics(m, e.Test, all), nil
}

// CirclesExperiment builds the seed's circle problem as many related tasks:
// tasks circles from data.CircleFamily, each with trainPerTask labelled
// training points and 200 test points (multi-input data, binary tasks).
func CirclesExperiment(tasks, trainPerTask int, seed uint64) *Experiment {
	rng := rand.New(rand.NewPCG(seed, 0x63697263))
	fam := data.CircleFamily{Support: trainPerTask, Query: 200}
	e := &Experiment{Name: "circles", Features: 2}
	var trX, teX []*tensor.Tensor
	var trRow, teRow []int
	var trY, teY []float64
	for t := 0; t < tasks; t++ {
		task := fam.Sample(rng)
		e.Tasks = append(e.Tasks, TaskSpec{Name: fmt.Sprintf("circle%d", t), Kind: Binary})
		trX = append(trX, task.SupportX)
		teX = append(teX, task.QueryX)
		for i := 0; i < task.SupportX.Dim(0); i++ {
			trRow = append(trRow, t)
			trY = append(trY, task.SupportY.Flat(i))
		}
		for i := 0; i < task.QueryX.Dim(0); i++ {
			teRow = append(teRow, t)
			teY = append(teY, task.QueryY.Flat(i))
		}
	}
	build := func(xs []*tensor.Tensor, rows []int, ys []float64) Dataset {
		x := tensor.Concat(0, xs...)
		// centre the unit square on 0 for better conditioning
		x = tensor.Scale(tensor.AddScalar(x, -0.5), 2)
		y := tensor.New(tensor.Float32, len(rows), tasks)
		m := tensor.New(tensor.Float32, len(rows), tasks)
		for i, t := range rows {
			y.Set(ys[i], i, t)
			m.Set(1, i, t)
		}
		return Dataset{X: x, Y: y, Mask: m, RowTask: rows}
	}
	e.Train = build(trX, trRow, trY)
	e.Test = build(teX, teRow, teY)
	return e
}
