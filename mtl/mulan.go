package mtl

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/tensor"
)

// MulanExperiment turns a Mulan multi-target regression set into a
// single-input multi-task problem: one regression task per target, a random
// train/test split of the rows (trainFrac), a fifth of the training rows
// held out for validation (model selection), features and targets
// standardised with training statistics. Test metrics are RMSE in units of
// the training standard deviation of each target, i.e. the relative RMSE
// (RRMSE) used in the multi-target regression literature; their mean is the
// aRRMSE.
func MulanExperiment(mt *data.MultiTarget, name string, trainFrac float64, seed uint64) (*Experiment, error) {
	n := mt.X.Dim(0)
	if n < 4 {
		return nil, fmt.Errorf("mtl: %s has %d rows; need at least 4", name, n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d756c61))
	perm := rng.Perm(n)
	k := int(math.Round(trainFrac * float64(n)))
	k = min(max(k, 2), n-1)
	tr, te := perm[:k], perm[k:]
	f, t := mt.X.Dim(1), mt.Y.Dim(1)
	stats := func(x *tensor.Tensor, mask *tensor.Tensor, cols int) ([]float64, []float64) {
		mean, sd := make([]float64, cols), make([]float64, cols)
		for j := 0; j < cols; j++ {
			cnt := 0.0
			for _, r := range tr {
				if mask == nil || mask.At(r, j) != 0 {
					mean[j] += x.At(r, j)
					cnt++
				}
			}
			mean[j] /= math.Max(cnt, 1)
			for _, r := range tr {
				if mask == nil || mask.At(r, j) != 0 {
					d := x.At(r, j) - mean[j]
					sd[j] += d * d
				}
			}
			sd[j] = math.Sqrt(sd[j] / math.Max(cnt, 1))
			if sd[j] == 0 {
				sd[j] = 1
			}
		}
		return mean, sd
	}
	xm, xs := stats(mt.X, nil, f)
	ym, ys := stats(mt.Y, mt.Mask, t)
	build := func(rows []int) Dataset {
		x := tensor.New(tensor.Float32, len(rows), f)
		y := tensor.New(tensor.Float32, len(rows), t)
		m := tensor.New(tensor.Float32, len(rows), t)
		for i, r := range rows {
			for j := 0; j < f; j++ {
				x.Set((mt.X.At(r, j)-xm[j])/xs[j], i, j)
			}
			for j := 0; j < t; j++ {
				y.Set((mt.Y.At(r, j)-ym[j])/ys[j], i, j)
				m.Set(mt.Mask.At(r, j), i, j)
			}
		}
		return Dataset{X: x, Y: y, Mask: m}
	}
	nv := max(len(tr)/5, 1)
	val := build(tr[:nv])
	e := &Experiment{Name: "mulan:" + name, Features: f, Train: build(tr[nv:]), Test: build(te), Val: &val}
	for j := 0; j < t; j++ {
		e.Tasks = append(e.Tasks, TaskSpec{Name: mt.Targets[j], Kind: Regression})
	}
	return e, nil
}
