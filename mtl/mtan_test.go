package mtl

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// tinyConv is a small conv encoder: 1x12x12 input, blocks of 2 and 3
// channels, kernel 3 (12 -> 10 -> pool 5 -> 3 -> pool 1).
var tinyConv = ConvNetConfig{Channels: 1, Height: 12, Width: 12, Blocks: []int{2, 3}, Kernel: 3, Hidden: 4}

func TestMTANShapesAndSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, err := NewMTAN(rng, tinyConv, []int{3, 1})
	if err != nil {
		t.Fatal(err)
	}
	x := autodiff.Const(tensor.RandN(rng, tensor.Float32, 1, 5, 144))
	outs := m.Forward(x)
	if len(outs) != 2 || !tensor.SameShape(outs[0].Shape(), []int{5, 3}) || !tensor.SameShape(outs[1].Shape(), []int{5, 1}) {
		t.Fatalf("output shapes %v, %v", outs[0].Shape(), outs[1].Shape())
	}
	// ForwardTask equals the matching Forward output
	one := m.ForwardTask(x, 1)
	for i := 0; i < 5; i++ {
		if d := one.Value.At(i, 0) - outs[1].Value.At(i, 0); d > 1e-6 || d < -1e-6 {
			t.Fatalf("ForwardTask differs from Forward by %v", d)
		}
	}
	// shared: trunk convs, fc, bridge; specific: attention + head only
	for _, p := range m.Shared() {
		if strings.HasPrefix(p.Name, "att") || strings.HasPrefix(p.Name, "head") {
			t.Errorf("shared list holds task parameter %s", p.Name)
		}
	}
	seen := map[*autodiff.Var]string{}
	for _, p := range AllParams(m) {
		if prev, dup := seen[p.V]; dup {
			t.Errorf("parameter %s listed twice (also %s)", p.Name, prev)
		}
		seen[p.V] = p.Name
	}
	for tk := 0; tk < 2; tk++ {
		for _, p := range m.Specific(tk) {
			if !strings.HasPrefix(p.Name, "att") && !strings.HasPrefix(p.Name, "head") {
				t.Errorf("task %d specific list holds %s", tk, p.Name)
			}
		}
	}
	// task 0's loss: gradients reach the shared trunk and task 0's
	// attention, not task 1's parameters
	loss := autodiff.Sum(autodiff.Square(outs[0]), false)
	wrt := append(vars(m.Shared()), vars(m.Specific(0))...)
	wrt = append(wrt, vars(m.Specific(1))...)
	gs := autodiff.Grad([]*autodiff.Var{loss}, wrt, false)
	names := append(append(m.Shared(), m.Specific(0)...), m.Specific(1)...)
	nShared, nT0 := len(m.Shared()), len(m.Specific(0))
	for i, g := range gs {
		norm := tensor.Sum(tensor.Mul(g.Value, g.Value), false).Item()
		switch {
		case i >= nShared+nT0 && norm != 0:
			t.Errorf("task 0 loss reaches task 1 parameter %s", names[i].Name)
		case i < nShared+nT0 && strings.HasPrefix(names[i].Name, "att") && strings.HasSuffix(names[i].Name, "weight") && norm == 0:
			t.Errorf("no gradient on attention parameter %s", names[i].Name)
		}
	}
	if len(m.Buffers()) != 2*(1+2*2*2) { // (mean, var) x (bridge BN + 2 tasks x 2 blocks x 2 BN)
		t.Errorf("%d buffers", len(m.Buffers()))
	}
}

// The MTAN forward pass (BatchNorm in training mode) against central
// finite differences in float64, with respect to every parameter and the
// input.
func TestMTANGradCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m, err := NewMTAN(rng, tinyConv, []int{2, 1})
	if err != nil {
		t.Fatal(err)
	}
	ps := m.params()
	inputs := []*tensor.Tensor{tensor.RandN(rng, tensor.Float64, 1, 3, 144)}
	for _, p := range ps {
		inputs = append(inputs, p.V.Value.AsType(tensor.Float64))
	}
	for _, b := range m.Buffers() {
		b.V.Value = b.V.Value.AsType(tensor.Float64)
	}
	f := func(xs []*autodiff.Var) *autodiff.Var {
		outs := m.forwardWith(xs[1:], xs[0], -1)
		return autodiff.Concat(1, outs...)
	}
	if err := autodiff.GradCheck(f, inputs, autodiff.CheckOptions{Atol: 1e-5, Rtol: 1e-3}); err != nil {
		t.Fatal(err)
	}
}

func TestMTANTrains(t *testing.T) {
	// two tasks on tiny images: the sign of the top-left and of the
	// bottom-right quadrant's mean
	rng := rand.New(rand.NewPCG(5, 6))
	n := 128
	x := tensor.RandN(rng, tensor.Float32, 1, n, 144)
	y := tensor.New(tensor.Float32, n, 2)
	for i := 0; i < n; i++ {
		var a, b float64
		for r := 0; r < 6; r++ {
			for c := 0; c < 6; c++ {
				a += x.At(i, r*12+c)
				b += x.At(i, (r+6)*12+c+6)
			}
		}
		if a > 0 {
			y.Set(1, i, 0)
		}
		if b > 0 {
			y.Set(1, i, 1)
		}
	}
	tasks := []TaskSpec{{Name: "tl", Kind: Binary}, {Name: "br", Kind: Binary}}
	d := Dataset{X: x, Y: y}
	m, err := NewMTAN(rng, ConvNetConfig{Channels: 1, Height: 12, Width: 12, Blocks: []int{4, 8}, Kernel: 3, Hidden: 16}, []int{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	lv := func() []float64 {
		var out []float64
		for _, l := range TaskLosses(tasks, m.Forward(autodiff.Const(x)), y, nil) {
			out = append(out, l.Item())
		}
		return out
	}
	before := lv()
	if err := Train(m, tasks, d, TrainConfig{Steps: 30, LR: 0.01, Seed: 1, Weighting: NewPCGrad(1)}); err != nil {
		t.Fatal(err)
	}
	after := lv()
	t.Logf("losses %v -> %v", before, after)
	for k := range after {
		if after[k] > 0.8*before[k] {
			t.Errorf("task %d loss %v -> %v", k, before[k], after[k])
		}
	}
}

func TestBuildModelMTANNeedsImages(t *testing.T) {
	e := CirclesExperiment(2, 10, 1)
	_, err := e.BuildModel("mtan", e.Tasks, 8, rand.New(rand.NewPCG(1, 1)))
	if err == nil || !strings.Contains(err.Error(), "image") {
		t.Fatalf("mtan on tabular data: err = %v, want an image error", err)
	}
	img := &Experiment{Name: "img", Tasks: []TaskSpec{{Name: "a", Kind: Classification, Classes: 3}}, Features: 144, Image: &tinyConv}
	for _, arch := range []string{"hard", "mtan"} {
		m, err := img.BuildModel(arch, img.Tasks, 4, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		if o := m.Forward(autodiff.Const(tensor.New(tensor.Float32, 2, 144))); !tensor.SameShape(o[0].Shape(), []int{2, 3}) {
			t.Errorf("%s: output %v", arch, o[0].Shape())
		}
		if _, ok := m.(interface{ SetTraining(bool) }); arch == "mtan" && !ok {
			t.Errorf("mtan has no SetTraining")
		}
	}
	var _ nn.Stateful = (*MTAN)(nil)
}
