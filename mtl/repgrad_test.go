package mtl

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// onesNeedingGrads asks for gradients, records their length, returns ones.
type onesNeedingGrads struct{ gradLen int }

func (*onesNeedingGrads) Name() string     { return "ones" }
func (*onesNeedingGrads) NeedsGrads() bool { return true }
func (o *onesNeedingGrads) Weights(_ int, losses []float64, grads [][]float64) []float64 {
	o.gradLen = len(grads[0])
	return ones(len(losses))
}

func twoTaskRegression(rows int) ([]TaskSpec, Dataset) {
	rng := rand.New(rand.NewPCG(4, 4))
	x := tensor.RandU(rng, tensor.Float32, -1, 1, rows, 3)
	y := tensor.New(tensor.Float32, rows, 2)
	for i := 0; i < rows; i++ {
		y.Set(x.At(i, 0)+x.At(i, 1), i, 0)
		y.Set(x.At(i, 0)-x.At(i, 2), i, 1)
	}
	return []TaskSpec{{Name: "a", Kind: Regression}, {Name: "b", Kind: Regression}}, Dataset{X: x, Y: y}
}

// MGDA-UB: gradient-based weightings see the gradient with respect to the
// shared representation; the losses, and so training with weights that
// ignore the gradients, are unchanged.
func TestRepresentationGrads(t *testing.T) {
	tasks, d := twoTaskRegression(16)
	e := &Experiment{Features: 3, Tasks: tasks}
	build := func() Model {
		m, err := e.BuildModel("hard", tasks, 8, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := build(), build()
	wa, wb := &onesNeedingGrads{}, &onesNeedingGrads{}
	if err := Train(a, tasks, d, TrainConfig{Steps: 5, LR: 0.01, Weighting: wa}); err != nil {
		t.Fatal(err)
	}
	if err := Train(b, tasks, d, TrainConfig{Steps: 5, LR: 0.01, Weighting: wb, RepresentationGrads: true}); err != nil {
		t.Fatal(err)
	}
	if wb.gradLen != 16*8 || wa.gradLen == wb.gradLen {
		t.Fatalf("gradient lengths: parameters %d, representation %d (want 16 rows x 8 units)", wa.gradLen, wb.gradLen)
	}
	pa, pb := AllParams(a), AllParams(b)
	for i := range pa {
		x, y := pa[i].V.Value.Values(), pb[i].V.Value.Values()
		for j := range x {
			if x[j] != y[j] {
				t.Fatalf("%s differs: the representation path changed the losses", pa[i].Name)
			}
		}
	}
	// MGDA-UB trains
	c := build()
	w, _ := ByName("mgda", 1)
	before := TaskLosses(tasks, c.Forward(autodiff.Const(d.X)), d.Y, nil)
	if err := Train(c, tasks, d, TrainConfig{Steps: 200, LR: 0.01, Weighting: w, RepresentationGrads: true}); err != nil {
		t.Fatal(err)
	}
	after := TaskLosses(tasks, c.Forward(autodiff.Const(d.X)), d.Y, nil)
	for i := range before {
		if after[i].Item() >= before[i].Item() {
			t.Errorf("task %d loss %v -> %v under MGDA-UB", i, before[i].Item(), after[i].Item())
		}
	}
	// refusals
	circ := CirclesExperiment(2, 5, 1)
	m2, _ := circ.BuildModel("hard", circ.Tasks, 4, rand.New(rand.NewPCG(1, 1)))
	if err := Train(m2, circ.Tasks, circ.Train, TrainConfig{Steps: 1, LR: 0.01, Weighting: w, RepresentationGrads: true}); err == nil || !strings.Contains(err.Error(), "single-input") {
		t.Errorf("multi-input: err = %v", err)
	}
	mm, _ := e.BuildModel("mmoe", tasks, 4, rand.New(rand.NewPCG(1, 1)))
	if err := Train(mm, tasks, d, TrainConfig{Steps: 1, LR: 0.01, Weighting: w, RepresentationGrads: true}); err == nil || !strings.Contains(err.Error(), "Representer") {
		t.Errorf("MMoE: err = %v", err)
	}
}
