package meta

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// tinyConvTask is a 2-way task of 1x5x5 images, 2 support + 2 query each.
func tinyConvTask(rng *rand.Rand) data.Task {
	return data.Task{
		SupportX:      tensor.RandN(rng, tensor.Float64, 1, 4, 1, 5, 5),
		QueryX:        tensor.RandN(rng, tensor.Float64, 1, 4, 1, 5, 5),
		SupportLabels: []int{0, 0, 1, 1},
		QueryLabels:   []int{0, 0, 1, 1},
		Ways:          2,
	}
}

func tinyConvNet(rng *rand.Rand) nn.Module {
	bn := nn.NewBatchNorm(2)
	bn.TrackRunningStats = false // transductive batch statistics, as in MAML
	m := nn.NewSequential(nn.NewConv2d(rng, 1, 2, 3, 1, 1), bn, nn.ReLU(), nn.MaxPool2d(2, 2, 0), nn.Flatten(), nn.NewLinear(rng, 8, 2))
	nn.Cast(m, tensor.Float64)
	// give BatchNorm non-trivial affine parameters
	bn.Weight.Value = tensor.FromFloat64([]float64{1.3, 0.7}, 2)
	bn.Bias.Value = tensor.FromFloat64([]float64{0.2, -0.1}, 2)
	return m
}

// The second-order MAML meta-gradient through a conv net with BatchNorm
// matches central finite differences of the meta-objective (float64).
func TestMAMLConvBatchNormMetaGradient(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   MAMLConfig
		anil  bool
		maxRE float64
	}{
		{"maml-2-steps", MAMLConfig{InnerLR: 0.3, InnerSteps: 2}, false, 1e-6},
		{"metasgd", MAMLConfig{InnerLR: 0.3, InnerSteps: 1, LRMode: MetaSGD}, false, 1e-6},
		{"maml++-lslr", MAMLConfig{InnerLR: 0.3, InnerSteps: 2, LRMode: PerLayerPerStep}, false, 1e-6},
		{"anil", MAMLConfig{InnerLR: 0.3, InnerSteps: 2}, true, 1e-6},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			net := tinyConvNet(rng)
			var m *MAML
			var err error
			if c.anil {
				seq := net.(*nn.Sequential)
				m, err = NewMAML(nn.NewSequential(seq.Layers[:5]...), seq.Layers[5], c.cfg)
			} else {
				m, err = NewMAML(nil, net, c.cfg)
			}
			if err != nil {
				t.Fatal(err)
			}
			task := tinyConvTask(rng)
			grads, _ := m.TaskGradient(task, 0)
			params := m.MetaParams()
			const eps = 1e-6
			var num2, diff2 float64
			for i, p := range params {
				for j := 0; j < p.Value.Len(); j++ {
					orig := p.Value.Flat(j)
					p.Value.SetFlat(j, orig+eps)
					fp := m.Evaluate(task, -1).Loss
					p.Value.SetFlat(j, orig-eps)
					fm := m.Evaluate(task, -1).Loss
					p.Value.SetFlat(j, orig)
					num := (fp - fm) / (2 * eps)
					d := grads[i].Flat(j) - num
					num2 += num * num
					diff2 += d * d
				}
			}
			if re := math.Sqrt(diff2 / num2); re > c.maxRE || math.IsNaN(re) {
				t.Fatalf("meta-gradient relative error %.3g > %g", re, c.maxRE)
			} else {
				t.Logf("relative error %.3g over %d parameters", re, len(params))
			}
			// first order must differ
			fo := *m
			fo.Cfg.FirstOrder = true
			fg, _ := fo.TaskGradient(task, 0)
			var d2 float64
			for i := range fg {
				d := tensor.Sub(fg[i], grads[i])
				d2 += tensor.Norm(d) * tensor.Norm(d)
			}
			if math.Sqrt(d2/num2) < 1e-3 {
				t.Fatal("first-order gradient equals the second-order one")
			}
		})
	}
}

func TestNewMAMLErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	net := nn.MLP(rng, nn.ReLU, 1, 4, 1)
	for _, c := range []MAMLConfig{{InnerLR: 0, InnerSteps: 1}, {InnerLR: 0.1, InnerSteps: 0}, {InnerLR: math.Inf(1), InnerSteps: 1}, {InnerLR: 0.1, InnerSteps: 1, EvalSteps: -2}} {
		if _, err := NewMAML(nil, net, c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	if _, err := NewReptile(net, ReptileConfig{InnerLR: 0.1}); err == nil {
		t.Error("Reptile with 0 steps accepted")
	}
}

// Recomputing the inner loop gives the same meta-gradient as keeping it.
func TestRecomputeMatchesStoredGraph(t *testing.T) {
	for _, cfg := range []MAMLConfig{
		{InnerLR: 0.3, InnerSteps: 3},
		{InnerLR: 0.3, InnerSteps: 2, LRMode: MetaSGD},
		{InnerLR: 0.3, InnerSteps: 2, LRMode: PerLayerPerStep},
	} {
		rng := rand.New(rand.NewPCG(8, 9))
		net := tinyConvNet(rng)
		m, err := NewMAML(nil, net, cfg)
		if err != nil {
			t.Fatal(err)
		}
		task := tinyConvTask(rng)
		want, wr := m.TaskGradient(task, 0)
		m.Cfg.Recompute = true
		got, gr := m.TaskGradient(task, 0)
		if len(got) != len(want) || gr.Loss != wr.Loss {
			t.Fatalf("%+v: %d vs %d gradients, loss %v vs %v", cfg, len(got), len(want), gr.Loss, wr.Loss)
		}
		for i := range got {
			if !tensor.AllClose(got[i], want[i], 1e-9, 1e-12) {
				t.Fatalf("%+v: gradient %d differs by %g", cfg, i, tensor.MaxAbsDiff(got[i], want[i]))
			}
		}
	}
	if _, err := NewMAML(nn.NewLinear(rand.New(rand.NewPCG(1, 1)), 2, 2), nn.NewLinear(rand.New(rand.NewPCG(1, 1)), 2, 2), MAMLConfig{InnerLR: 0.1, InnerSteps: 1, Recompute: true}); err == nil {
		t.Fatal("Recompute with a body accepted")
	}
}

// MAML++ multi-step loss: weights start uniform, end on the last step; at
// the end of annealing the gradient equals plain MAML's, before it differs.
func TestMultiStepLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	net := tinyConvNet(rng)
	task := tinyConvTask(rng)
	m, err := NewMAML(nil, net, MAMLConfig{InnerLR: 0.3, InnerSteps: 3, MultiStepLoss: true, MSLIterations: 10})
	if err != nil {
		t.Fatal(err)
	}
	w0 := m.mslWeights(0)
	for _, w := range w0 {
		if math.Abs(w-1.0/3) > 1e-12 {
			t.Fatalf("initial weights %v, want uniform", w0)
		}
	}
	if w := m.mslWeights(5); math.Abs(w[0]-1.0/6) > 1e-12 || math.Abs(w[2]-(1.0/6+0.5)) > 1e-12 {
		t.Fatalf("halfway weights %v", w)
	}
	end, _ := m.TaskGradient(task, 10)
	early, _ := m.TaskGradient(task, 0)
	plain := *m
	plain.Cfg.MultiStepLoss = false
	want, _ := plain.TaskGradient(task, 0)
	var dEnd, dEarly float64
	for i := range want {
		dEnd = math.Max(dEnd, tensor.MaxAbsDiff(end[i], want[i]))
		dEarly = math.Max(dEarly, tensor.MaxAbsDiff(early[i], want[i]))
	}
	if dEnd > 1e-12 || dEarly < 1e-6 {
		t.Fatalf("annealed MSL gradient differs from MAML by %g (want 0); early MSL by %g (want > 0)", dEnd, dEarly)
	}
}
