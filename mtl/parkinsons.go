package mtl

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/stats"
	"github.com/metalearn/metalearn/tensor"
)

// ParkinsonsTargets are the two targets of the Parkinson's telemonitoring
// data, as ParkinsonsExperiment names them.
var ParkinsonsTargets = []string{"motor", "total"}

// ParkinsonsExperiment builds one random split of the UCI Parkinson's
// telemonitoring data (Tsanas et al. 2010) as a multi-input multi-task
// regression problem: every patient is a task (42), each recording
// belongs to its patient's task only, target "motor" (motor_UPDRS) or
// "total" (total_UPDRS). The protocol:
//
//   - within every patient, a random trainFrac of the recordings (rounded,
//     at least one on each side) goes to training, the rest to test (the
//     per-task split of the School benchmark, seeded by seed);
//   - the 19 features (age, sex, test_time and the 16 voice measures) are
//     standardised with the training mean and sd, and so is the target;
//   - models are trained on the standardised target; Scale is set so
//     Metrics reports each patient's test RMSE in UPDRS points.
//
// The returned split also gives the target's training mean and sd
// (YMean, YSD) for errors in original units.
func ParkinsonsExperiment(d *data.PatientData, target string, trainFrac float64, seed uint64) (*Experiment, error) {
	s, err := parkinsonsSplit(d, target, trainFrac, seed)
	if err != nil {
		return nil, err
	}
	return s.Experiment, nil
}

// ParkinsonsSplit is one split: the experiment plus the target scaling.
type ParkinsonsSplit struct {
	Experiment  *Experiment
	YMean, YSD  float64 // training statistics of the raw target
	TrainTask   []int
	TestTask    []int
	Target      string
	NumPatients int
}

func parkinsonsSplit(d *data.PatientData, target string, trainFrac float64, seed uint64) (*ParkinsonsSplit, error) {
	var ys []float64
	switch target {
	case "motor":
		ys = d.Motor
	case "total":
		ys = d.Total
	default:
		return nil, fmt.Errorf("mtl: Parkinson's target %q, want motor or total", target)
	}
	if !(trainFrac > 0 && trainFrac < 1) {
		return nil, fmt.Errorf("mtl: train fraction %v not in (0,1)", trainFrac)
	}
	T := d.NumPatients
	rng := rand.New(rand.NewPCG(seed, 0x7061726b)) // "park"
	byTask := make([][]int, T)
	for i, p := range d.Patient {
		byTask[p] = append(byTask[p], i)
	}
	var tr, te []int
	for p, rows := range byTask {
		if len(rows) < 2 {
			return nil, fmt.Errorf("mtl: patient %d has %d recordings; need at least 2 to split", d.SubjectIDs[p], len(rows))
		}
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		k := int(math.Round(trainFrac * float64(len(rows))))
		k = min(max(k, 1), len(rows)-1)
		tr = append(tr, rows[:k]...)
		te = append(te, rows[k:]...)
	}
	f := d.X.Dim(1)
	mean, sd := make([]float64, f), make([]float64, f)
	for _, r := range tr {
		for j := range f {
			mean[j] += d.X.At(r, j)
		}
	}
	for j := range mean {
		mean[j] /= float64(len(tr))
	}
	for _, r := range tr {
		for j := range f {
			v := d.X.At(r, j) - mean[j]
			sd[j] += v * v
		}
	}
	for j := range sd {
		if sd[j] = math.Sqrt(sd[j] / float64(len(tr))); sd[j] == 0 {
			sd[j] = 1
		}
	}
	s := &ParkinsonsSplit{Target: target, NumPatients: T}
	for _, r := range tr {
		s.YMean += ys[r]
	}
	s.YMean /= float64(len(tr))
	for _, r := range tr {
		s.YSD += (ys[r] - s.YMean) * (ys[r] - s.YMean)
	}
	if s.YSD = math.Sqrt(s.YSD / float64(len(tr))); s.YSD == 0 {
		s.YSD = 1
	}
	build := func(rows []int) (Dataset, []int) {
		x := tensor.New(tensor.Float32, len(rows), f)
		y := tensor.New(tensor.Float32, len(rows), T)
		m := tensor.New(tensor.Float32, len(rows), T)
		tasks := make([]int, len(rows))
		for i, r := range rows {
			for j := range f {
				x.Set((d.X.At(r, j)-mean[j])/sd[j], i, j)
			}
			p := d.Patient[r]
			y.Set((ys[r]-s.YMean)/s.YSD, i, p)
			m.Set(1, i, p)
			tasks[i] = p
		}
		return Dataset{X: x, Y: y, Mask: m, RowTask: tasks}, tasks
	}
	e := &Experiment{Name: "parkinsons:" + target, Features: f}
	e.Train, s.TrainTask = build(tr)
	e.Test, s.TestTask = build(te)
	e.Scale = make([]float64, T)
	for p := range T {
		e.Tasks = append(e.Tasks, TaskSpec{Name: fmt.Sprintf("patient%d", d.SubjectIDs[p]), Kind: Regression})
		e.Scale[p] = 1 / s.YSD // Metrics divides by Scale: RMSE in UPDRS points
	}
	s.Experiment = e
	return s, nil
}

// TestMSE is the mean squared error over all test recordings, in squared
// UPDRS points, each recording predicted by its patient's output.
func (s *ParkinsonsSplit) TestMSE(m Model) float64 {
	te := s.Experiment.Test
	pred := PredictRows(m, te.X, s.TestTask, s.NumPatients)
	sse := 0.0
	for i, p := range s.TestTask {
		e := (pred[i] - te.Y.At(i, p)) * s.YSD
		sse += e * e
	}
	return sse / float64(len(pred))
}

// DefaultParkinsonsMethods are the methods of the Parkinson's table: the
// School methods (independent linear model per patient, with and without
// ridge, one pooled linear model, the Evgeniou-Pontil additive model, hard
// sharing with a shared ReLU layer and a linear head per patient).
var DefaultParkinsonsMethods = DefaultSchoolMethods

// ParkinsonsResult is one method's test MSE on one target over the splits.
type ParkinsonsResult struct {
	Method  string    `json:"method"`
	Target  string    `json:"target"`
	Mean    float64   `json:"mse_mean"`
	SD      float64   `json:"mse_sd"`
	Splits  []float64 `json:"splits"`
	Seconds float64   `json:"seconds"`
}

// RunParkinsons evaluates methods on both targets over splits random
// per-patient splits (trainFrac, seeds 1..splits), full-batch Adam for
// steps steps at rate lr; every model is trained on one target.
func RunParkinsons(d *data.PatientData, methods []SchoolMethod, trainFrac float64, splits, steps int, lr float64) ([]ParkinsonsResult, error) {
	if splits < 1 || steps < 1 || !(lr > 0) {
		return nil, fmt.Errorf("mtl: splits %d, steps %d and lr %v must be positive", splits, steps, lr)
	}
	var out []ParkinsonsResult
	for _, target := range ParkinsonsTargets {
		var sp []*ParkinsonsSplit
		for s := 1; s <= splits; s++ {
			x, err := parkinsonsSplit(d, target, trainFrac, uint64(s))
			if err != nil {
				return nil, err
			}
			sp = append(sp, x)
		}
		for _, meth := range methods {
			start := time.Now()
			r := ParkinsonsResult{Method: meth.Name, Target: target}
			for s, split := range sp {
				e := split.Experiment
				m, err := SchoolModel(meth.Model, rand.New(rand.NewPCG(uint64(s+1), 7)), e.Features, len(e.Tasks), max(meth.Hidden, 1))
				if err != nil {
					return nil, err
				}
				cfg := TrainConfig{Steps: steps, LR: lr, WeightDecayShared: meth.WeightDecayShared, WeightDecaySpecific: meth.WeightDecaySpecific, Seed: uint64(s + 1)}
				if err := Train(m, e.Tasks, e.Train, cfg); err != nil {
					return nil, fmt.Errorf("%s on %s: %w", meth.Name, target, err)
				}
				r.Splits = append(r.Splits, split.TestMSE(m))
			}
			r.Mean, r.SD = stats.Mean(r.Splits), stats.SD(r.Splits)
			r.Seconds = time.Since(start).Seconds()
			out = append(out, r)
		}
	}
	return out, nil
}

// WithoutFeatures returns a copy of d without the named feature columns
// (e.g. "test_time": the UPDRS targets were linearly interpolated in time
// between three clinical visits, Tsanas et al. 2010, so test_time alone
// lets a per-patient nonlinear model fit them almost exactly).
func WithoutFeatures(d *data.PatientData, names ...string) (*data.PatientData, error) {
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	var keep []int
	for j, f := range d.Features {
		if drop[f] {
			delete(drop, f)
			continue
		}
		keep = append(keep, j)
	}
	for n := range drop {
		return nil, fmt.Errorf("mtl: Parkinson's data has no feature %q (features: %v)", n, d.Features)
	}
	out := *d
	out.X = tensor.IndexSelect(d.X, 1, keep)
	out.Features = nil
	for _, j := range keep {
		out.Features = append(out.Features, d.Features[j])
	}
	return &out, nil
}
