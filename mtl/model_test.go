package mtl

import (
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// twoTaskData: task 0 regression y = x0 + x1, task 1 binary (x0 > x1),
// with about 30% of each task's labels missing.
func twoTaskData(rng *rand.Rand, n int) Dataset {
	x := tensor.RandN(rng, tensor.Float32, 1, n, 4)
	y := tensor.New(tensor.Float32, n, 2)
	m := tensor.New(tensor.Float32, n, 2)
	for i := 0; i < n; i++ {
		y.Set(x.At(i, 0)+x.At(i, 1), i, 0)
		if x.At(i, 0) > x.At(i, 1) {
			y.Set(1, i, 1)
		}
		for t := 0; t < 2; t++ {
			if rng.Float64() > 0.3 {
				m.Set(1, i, t)
			}
		}
	}
	return Dataset{X: x, Y: y, Mask: m}
}

var twoTasks = []TaskSpec{{Name: "sum", Kind: Regression}, {Name: "order", Kind: Binary}}

func architectures(rng *rand.Rand) map[string]Model {
	return map[string]Model{
		"hard": &HardSharing{Encoder: nn.NewSequential(nn.NewLinear(rng, 4, 16), nn.ReLU()),
			Heads: []nn.Module{nn.NewLinear(rng, 16, 1), nn.NewLinear(rng, 16, 1)}},
		"mmoe":         NewMMoE(rng, 4, 16, 3, []int{1, 1}),
		"cgc":          NewCGC(rng, 4, 16, 2, 1, []int{1, 1}),
		"cross-stitch": NewCrossStitch(rng, []int{4, 16}, []int{1, 1}),
		"additive":     &Additive{Common: nn.NewLinear(rng, 4, 1), Own: []nn.Module{nn.NewLinear(rng, 4, 1), nn.NewLinear(rng, 4, 1)}},
	}
}

func TestArchitecturesTrainWithMissingLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	d := twoTaskData(rng, 256)
	for name, m := range architectures(rng) {
		before := lossValues(m, d)
		if err := Train(m, twoTasks, d, TrainConfig{Steps: 150, LR: 0.02, Seed: 1}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after := lossValues(m, d)
		t.Logf("%s: losses %v -> %v", name, before, after)
		for k := range after {
			if after[k] > 0.6*before[k] {
				t.Errorf("%s: task %d loss %v -> %v", name, k, before[k], after[k])
			}
		}
		if len(AllParams(m)) == 0 {
			t.Errorf("%s has no parameters", name)
		}
	}
}

func lossValues(m Model, d Dataset) []float64 {
	ls := TaskLosses(twoTasks, m.Forward(autodiff.Const(d.X)), d.Y, d.Mask)
	out := make([]float64, len(ls))
	for i, l := range ls {
		out[i] = l.Item()
	}
	return out
}

// A missing label contributes nothing: changing the target of a masked
// entry leaves losses and gradients unchanged.
func TestMissingLabelsContributeNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	d := twoTaskData(rng, 32)
	m := architectures(rng)["hard"]
	grad := func(d Dataset) []*tensor.Tensor {
		ls := TaskLosses(twoTasks, m.Forward(autodiff.Const(d.X)), d.Y, d.Mask)
		g := autodiff.Grad([]*autodiff.Var{autodiff.Add(ls[0], ls[1])}, vars(AllParams(m)), false)
		return values(g)
	}
	g1 := grad(d)
	y2 := d.Y.Clone()
	changed := 0
	for i := 0; i < 32; i++ {
		for k := 0; k < 2; k++ {
			if d.Mask.At(i, k) == 0 {
				y2.Set(1000, i, k)
				changed++
			}
		}
	}
	if changed == 0 {
		t.Fatal("no missing labels in the test data")
	}
	g2 := grad(Dataset{X: d.X, Y: y2, Mask: d.Mask})
	for i := range g1 {
		if tensor.MaxAbsDiff(g1[i], g2[i]) != 0 {
			t.Fatal("a masked label changed the gradient")
		}
	}
}

func values(vs []*autodiff.Var) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(vs))
	for i, v := range vs {
		out[i] = v.Value
	}
	return out
}

func TestDatasetValidation(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	d := twoTaskData(rng, 8)
	bad := d
	bad.Y = d.Y.Clone()
	bad.Y.Set(0.5, 0, 1)
	bad.Mask = tensor.Ones(tensor.Float32, 8, 2)
	if err := bad.Validate(twoTasks); err == nil {
		t.Error("binary target 0.5 accepted")
	}
	empty := Dataset{X: d.X, Y: d.Y, Mask: tensor.New(tensor.Float32, 8, 2)}
	if err := empty.Validate(twoTasks); err == nil {
		t.Error("task with no labelled rows accepted")
	}
	if err := d.Validate(twoTasks[:1]); err == nil {
		t.Error("Y with 2 columns accepted for 1 task")
	}
}

// Every registered weighting strategy trains the hard-sharing model.
func TestEveryWeightingTrains(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	d := twoTaskData(rng, 128)
	for _, name := range WeightingNames {
		w, err := ByName(name, 1)
		if err != nil {
			t.Fatal(err)
		}
		m := architectures(rand.New(rand.NewPCG(5, 5)))["hard"]
		before := lossValues(m, d)
		if err := Train(m, twoTasks, d, TrainConfig{Steps: 100, LR: 0.02, Weighting: w}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after := lossValues(m, d)
		for k := range after {
			if !(after[k] < 0.5*before[k]) {
				t.Errorf("%s: task %d loss %v -> %v", name, k, before[k], after[k])
			}
		}
	}
}
