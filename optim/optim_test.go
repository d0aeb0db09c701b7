package optim

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// loss = sum(c*p^2) + sum(p^3)/3 with c = [1, 0.5, 2]: the problem of
// reference/optim_reference.py.
func refLoss(p *autodiff.Var) *autodiff.Var {
	c := autodiff.Const(tensor.FromValues(p.DType(), []float64{1, 0.5, 2}, 3))
	return autodiff.Add(autodiff.Sum(autodiff.Mul(c, autodiff.Square(p)), false),
		autodiff.Scale(autodiff.Sum(autodiff.PowScalar(p, 3), false), 1.0/3))
}

// TestMatchesPyTorch compares 5 steps of each optimizer with torch.optim
// (values printed by reference/optim_reference.py, torch 1.13, float64).
func TestMatchesPyTorch(t *testing.T) {
	cases := []struct {
		name string
		make func([]*autodiff.Var) Optimizer
		want []float64
	}{
		{"sgd", func(p []*autodiff.Var) Optimizer { return NewSGD(p, SGDConfig{LR: 0.1}) },
			[]float64{0.2247067187046014, -4.121820872984556, 0.03231119272010159}},
		{"sgd_momentum_wd", func(p []*autodiff.Var) Optimizer {
			return NewSGD(p, SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.01})
		}, []float64{-0.8664177693825171, -8.527415726809625, -0.3985198289143818}},
		{"sgd_nesterov", func(p []*autodiff.Var) Optimizer {
			return NewSGD(p, SGDConfig{LR: 0.05, Momentum: 0.8, Nesterov: true})
		}, []float64{-0.11493850270031719, -4.91902424004476, -0.1437529941290777}},
		{"adam", func(p []*autodiff.Var) Optimizer { return NewAdam(p, AdamConfig{LR: 0.1}) },
			[]float64{0.5111719971129208, -2.5020846294162498, 0.030359417578245243}},
		{"adam_l2", func(p []*autodiff.Var) Optimizer {
			return NewAdam(p, AdamConfig{LR: 0.1, Beta1: 0.8, Beta2: 0.99, WeightDecay: 0.1})
		}, []float64{0.5174567639582782, -2.508112816143464, 0.04231758140509341}},
		{"adamw", func(p []*autodiff.Var) Optimizer { return NewAdamW(p, AdamConfig{LR: 0.1, WeightDecay: 0.1}) },
			[]float64{0.4735856108236442, -2.3943046070554934, 0.017962115748500734}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := autodiff.Param(tensor.FromFloat64([]float64{1, -2, 0.5}, 3))
			opt := c.make([]*autodiff.Var{p})
			for i := 0; i < 5; i++ {
				opt.ZeroGrad()
				refLoss(p).Backward()
				opt.Step()
			}
			for i, w := range c.want {
				if got := p.Value.Flat(i); math.Abs(got-w) > 1e-12*math.Max(1, math.Abs(w)) {
					t.Fatalf("param %d = %.17g, torch gives %.17g", i, got, w)
				}
			}
		})
	}
}

func trainSteps(opt Optimizer, p *autodiff.Var, n int) {
	for i := 0; i < n; i++ {
		opt.ZeroGrad()
		refLoss(p).Backward()
		opt.Step()
	}
}

// Saving after k steps and resuming in a fresh optimizer gives bit-identical
// parameters to an uninterrupted run.
func TestStateRoundTripIsExact(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		makers := map[string]func([]*autodiff.Var) Optimizer{
			"sgd": func(p []*autodiff.Var) Optimizer {
				return NewSGD(p, SGDConfig{LR: 0.01, Momentum: 0.9, Nesterov: true})
			},
			"adam":  func(p []*autodiff.Var) Optimizer { return NewAdam(p, AdamConfig{LR: 0.01}) },
			"adamw": func(p []*autodiff.Var) Optimizer { return NewAdamW(p, AdamConfig{LR: 0.01, WeightDecay: 0.1}) },
		}
		for name, mk := range makers {
			start := tensor.FromValues(dt, []float64{0.3, -0.7, 0.2}, 3)
			a := autodiff.Param(start.Clone())
			oa := mk([]*autodiff.Var{a})
			trainSteps(oa, a, 10)

			b := autodiff.Param(start.Clone())
			ob := mk([]*autodiff.Var{b})
			trainSteps(ob, b, 4)
			var buf bytes.Buffer
			if err := ob.State().Save(&buf); err != nil {
				t.Fatal(err)
			}
			st, err := ReadState(&buf)
			if err != nil {
				t.Fatal(err)
			}
			c := autodiff.Param(b.Value.Clone())
			oc := mk([]*autodiff.Var{c})
			if err := oc.LoadState(st); err != nil {
				t.Fatal(err)
			}
			trainSteps(oc, c, 6)
			if d := tensor.MaxAbsDiff(a.Value, c.Value); d != 0 {
				t.Errorf("%s %v: resumed run differs by %g", name, dt, d)
			}
		}
	}
}

func TestLoadStateErrors(t *testing.T) {
	p := autodiff.Param(tensor.Zeros(tensor.Float32, 3))
	adam := NewAdam([]*autodiff.Var{p}, AdamConfig{LR: 0.1})
	p.Grad = tensor.Ones(tensor.Float32, 3)
	adam.Step()
	sgd := NewSGD([]*autodiff.Var{p}, SGDConfig{LR: 0.1})
	if err := sgd.LoadState(adam.State()); err == nil {
		t.Error("SGD accepted Adam state")
	}
	q := autodiff.Param(tensor.Zeros(tensor.Float32, 4))
	if err := NewAdam([]*autodiff.Var{q}, AdamConfig{LR: 0.1}).LoadState(adam.State()); err == nil {
		t.Error("state for a [3] parameter loaded into a [4] parameter")
	}
	if _, err := ReadState(bytes.NewReader([]byte("not gob"))); err == nil {
		t.Error("garbage state decoded")
	}
}

func TestClipGradNorm(t *testing.T) {
	g1 := tensor.FromFloat64([]float64{3, 0}, 2)
	g2 := tensor.FromFloat64([]float64{4}, 1)
	n := ClipGradNorm([]*tensor.Tensor{g1, nil, g2}, 1)
	if n != 5 {
		t.Fatalf("norm = %v, want 5", n)
	}
	after := math.Hypot(g1.Flat(0), g2.Flat(0))
	if math.Abs(after-1) > 1e-6 {
		t.Fatalf("clipped norm = %v, want 1", after)
	}
	// below the threshold nothing changes
	g := tensor.FromFloat64([]float64{0.1}, 1)
	ClipGradNorm([]*tensor.Tensor{g}, 1)
	if g.Flat(0) != 0.1 {
		t.Fatal("gradient below the threshold was modified")
	}
}

func TestSchedules(t *testing.T) {
	s := StepDecay(1, 10, 0.5)
	if s(0) != 1 || s(9) != 1 || s(10) != 0.5 || s(25) != 0.25 {
		t.Error("StepDecay values")
	}
	c := Cosine(1, 0.1, 100, 0)
	if c(0) != 1 || math.Abs(c(50)-0.55) > 1e-12 || c(100) != 0.1 || c(1000) != 0.1 {
		t.Errorf("Cosine values %v %v %v", c(0), c(50), c(100))
	}
	w := Cosine(1, 0, 20, 10)
	if w(0) != 0.1 || w(9) != 1 || w(10) != 1 {
		t.Errorf("warm-up values %v %v %v", w(0), w(9), w(10))
	}
	l := Linear(1, 0, 10)
	if l(0) != 1 || l(5) != 0.5 || l(10) != 0 {
		t.Error("Linear values")
	}
	if Constant(0.3)(99) != 0.3 {
		t.Error("Constant")
	}
	// the Transformer schedule: linear warm-up to the peak at step warmup-1,
	// then lr*sqrt(warmup/n); with lr = (d*warmup)^-1/2 it is Vaswani et
	// al.'s d^-1/2 * min(n^-1/2, n*warmup^-3/2)
	is := InverseSqrt(2, 4)
	if is(0) != 0.5 || is(3) != 2 || is(15) != 1 || math.Abs(is(63)-0.5) > 1e-15 {
		t.Errorf("InverseSqrt values %v %v %v %v", is(0), is(3), is(15), is(63))
	}
	d, warm := 512.0, 4000
	v := InverseSqrt(1/math.Sqrt(d*float64(warm)), warm)
	for _, n := range []int{1, 100, 4000, 4001, 100000} {
		want := math.Pow(d, -0.5) * math.Min(math.Pow(float64(n), -0.5), float64(n)*math.Pow(float64(warm), -1.5))
		if got := v(n - 1); math.Abs(got-want) > 1e-15 {
			t.Errorf("InverseSqrt at n=%d: %v, paper's formula %v", n, got, want)
		}
	}
}

// StepWith with explicit gradients equals Step with accumulated ones, and
// Adam minimises a random least-squares problem.
func TestStepWithAndConvergence(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	a := autodiff.Const(tensor.RandN(rng, tensor.Float64, 1, 20, 5))
	b := autodiff.Const(tensor.RandN(rng, tensor.Float64, 1, 20, 1))
	x1 := autodiff.Param(tensor.Zeros(tensor.Float64, 5, 1))
	x2 := autodiff.Param(tensor.Zeros(tensor.Float64, 5, 1))
	o1 := NewAdam([]*autodiff.Var{x1}, AdamConfig{LR: 0.05})
	o2 := NewAdam([]*autodiff.Var{x2}, AdamConfig{LR: 0.05})
	loss := func(x *autodiff.Var) *autodiff.Var {
		return autodiff.Mean(autodiff.Square(autodiff.Sub(autodiff.MatMul(a, x), b)), false)
	}
	first := loss(x1).Item()
	for i := 0; i < 500; i++ {
		o1.ZeroGrad()
		loss(x1).Backward()
		o1.Step()
		g := autodiff.Grad([]*autodiff.Var{loss(x2)}, []*autodiff.Var{x2}, false)
		o2.StepWith([]*tensor.Tensor{g[0].Value})
	}
	if tensor.MaxAbsDiff(x1.Value, x2.Value) != 0 {
		t.Fatal("StepWith and Step disagree")
	}
	// At the least-squares optimum the gradient vanishes.
	g := autodiff.Grad([]*autodiff.Var{loss(x1)}, []*autodiff.Var{x1}, false)[0]
	if last := loss(x1).Item(); last >= first || tensor.Norm(g.Value) > 1e-6 {
		t.Fatalf("Adam did not converge: loss %v -> %v, |grad| %v", first, last, tensor.Norm(g.Value))
	}
}
