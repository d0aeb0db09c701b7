package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// Gradient checks use autodiff's defaults: central differences, eps 1e-6,
// float64, |analytic - numeric| <= 1e-5 + 1e-3*|numeric|.

type layerCase struct {
	name  string
	build func(rng *rand.Rand) Module
	input []int
	// nonNeg draws inputs from (0.1, 1) (e.g. embedding ids are handled separately)
}

func layerCases() []layerCase {
	return []layerCase{
		{"Linear", func(r *rand.Rand) Module { return NewLinear(r, 3, 4) }, []int{5, 3}},
		{"Linear/batched", func(r *rand.Rand) Module { return NewLinear(r, 3, 2) }, []int{2, 4, 3}},
		{"Conv2d", func(r *rand.Rand) Module { return NewConv2d(r, 2, 3, 3, 1, 1) }, []int{2, 2, 5, 5}},
		{"Conv2d/stride2", func(r *rand.Rand) Module { return NewConv2d(r, 1, 2, 3, 2, 0) }, []int{2, 1, 7, 6}},
		{"BatchNorm1d/train", func(r *rand.Rand) Module { return randBN(r, 3, true) }, []int{6, 3}},
		{"BatchNorm2d/train", func(r *rand.Rand) Module { return randBN(r, 2, true) }, []int{3, 2, 3, 3}},
		{"BatchNorm2d/eval", func(r *rand.Rand) Module { return randBN(r, 2, false) }, []int{3, 2, 3, 3}},
		{"LayerNorm", func(r *rand.Rand) Module { return randLN(r, 4) }, []int{3, 4}},
		{"ReLU", func(r *rand.Rand) Module { return ReLU() }, []int{3, 4}},
		{"LeakyReLU", func(r *rand.Rand) Module { return LeakyReLU(0.2) }, []int{3, 4}},
		{"Tanh", func(r *rand.Rand) Module { return Tanh() }, []int{3, 4}},
		{"Sigmoid", func(r *rand.Rand) Module { return Sigmoid() }, []int{3, 4}},
		{"GELU", func(r *rand.Rand) Module { return GELU() }, []int{3, 4}},
		{"MaxPool2d", func(r *rand.Rand) Module { return MaxPool2d(2, 2, 0) }, []int{2, 2, 4, 4}},
		{"AvgPool2d", func(r *rand.Rand) Module { return AvgPool2d(2, 2, 0) }, []int{2, 2, 4, 4}},
		{"Flatten", func(r *rand.Rand) Module { return Flatten() }, []int{2, 2, 3}},
		{"Dropout", func(r *rand.Rand) Module { return NewDropout(0.3, 5) }, []int{4, 5}},
		{"Sequential/conv-bn-relu-pool-linear", func(r *rand.Rand) Module {
			return NewSequential(NewConv2d(r, 1, 2, 3, 1, 1), randBN(r, 2, true), ReLU(), MaxPool2d(2, 2, 0), Flatten(), NewLinear(r, 8, 3))
		}, []int{3, 1, 4, 4}},
	}
}

func randBN(r *rand.Rand, c int, train bool) *BatchNorm {
	b := NewBatchNorm(c)
	b.Weight.Value = tensor.RandU(r, tensor.Float32, 0.5, 1.5, c)
	b.Bias.Value = tensor.RandN(r, tensor.Float32, 0.5, c)
	b.RunningMean.Value = tensor.RandN(r, tensor.Float32, 0.5, c)
	b.RunningVar.Value = tensor.RandU(r, tensor.Float32, 0.5, 2, c)
	b.Training = train
	return b
}

func randLN(r *rand.Rand, d int) *LayerNorm {
	l := NewLayerNorm(d)
	l.Weight.Value = tensor.RandU(r, tensor.Float32, 0.5, 1.5, d)
	l.Bias.Value = tensor.RandN(r, tensor.Float32, 0.5, d)
	return l
}

func layerFunc(build func() Module) (func(xs []*autodiff.Var) *autodiff.Var, Module) {
	m := build()
	Cast(m, tensor.Float64)
	return func(xs []*autodiff.Var) *autodiff.Var {
		// Dropout draws a mask per call: rebuild it with the same seed so
		// every evaluation sees the same mask.
		if _, ok := m.(*Dropout); ok {
			m = NewDropout(0.3, 5)
		}
		return m.Apply(xs[1:], xs[0])
	}, m
}

func checkInputs(r *rand.Rand, m Module, input []int) []*tensor.Tensor {
	in := []*tensor.Tensor{tensor.RandN(r, tensor.Float64, 1, input...)}
	for _, p := range m.Params() {
		in = append(in, p.V.Value)
	}
	return in
}

func TestLayerGradCheck(t *testing.T) {
	for i, c := range layerCases() {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 11))
			f, m := layerFunc(func() Module { return c.build(r) })
			if err := autodiff.GradCheck(f, checkInputs(r, m, c.input), autodiff.CheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLayerGradGradCheck(t *testing.T) {
	for i, c := range layerCases() {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 12))
			f, m := layerFunc(func() Module { return c.build(r) })
			if err := autodiff.GradGradCheck(f, checkInputs(r, m, c.input), autodiff.CheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEmbeddingGradCheck(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	e := NewEmbedding(r, 5, 3)
	Cast(e, tensor.Float64)
	ids := autodiff.Const(tensor.FromFloat64([]float64{4, 0, 4, 2}, 2, 2))
	f := func(xs []*autodiff.Var) *autodiff.Var { return autodiff.Square(e.Apply(xs, ids)) }
	for _, check := range []func(func([]*autodiff.Var) *autodiff.Var, []*tensor.Tensor, autodiff.CheckOptions) error{autodiff.GradCheck, autodiff.GradGradCheck} {
		if err := check(f, []*tensor.Tensor{e.Weight.Value}, autodiff.CheckOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.Apply([]*autodiff.Var{e.Weight}, ids).Shape(); !tensor.SameShape(got, []int{2, 2, 3}) {
		t.Fatalf("embedding output shape %v", got)
	}
	mustPanic(t, "not an integer", func() {
		e.Apply([]*autodiff.Var{e.Weight}, autodiff.Const(tensor.FromFloat64([]float64{5}, 1)))
	})
}

type lossCase struct {
	name string
	f    func(x *autodiff.Var) *autodiff.Var
	in   []int
	pos  bool
}

func TestLossGradChecks(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	tgt := autodiff.Const(tensor.RandU(r, tensor.Float64, 0, 1, 4, 3))
	labels := []int{2, 0, 1, 2}
	cases := []lossCase{
		{"MSE", func(x *autodiff.Var) *autodiff.Var { return MSELoss(x, tgt) }, []int{4, 3}, false},
		{"BCE", func(x *autodiff.Var) *autodiff.Var { return BCELoss(autodiff.Sigmoid(x), tgt) }, []int{4, 3}, false},
		{"BCEWithLogits", func(x *autodiff.Var) *autodiff.Var { return BCEWithLogitsLoss(x, tgt) }, []int{4, 3}, false},
		{"CrossEntropy", func(x *autodiff.Var) *autodiff.Var { return CrossEntropyLoss(x, labels, 0) }, []int{4, 3}, false},
		{"CrossEntropy/smoothing", func(x *autodiff.Var) *autodiff.Var { return CrossEntropyLoss(x, labels, 0.1) }, []int{4, 3}, false},
		{"NLL", func(x *autodiff.Var) *autodiff.Var { return NLLLoss(autodiff.LogSoftmax(x, 1), labels) }, []int{4, 3}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := []*tensor.Tensor{tensor.RandN(r, tensor.Float64, 1, c.in...)}
			f := func(xs []*autodiff.Var) *autodiff.Var { return c.f(xs[0]) }
			if err := autodiff.GradCheck(f, in, autodiff.CheckOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := autodiff.GradGradCheck(f, in, autodiff.CheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLossValues(t *testing.T) {
	f := func(v ...float64) *autodiff.Var { return autodiff.Const(tensor.FromFloat64(v, len(v))) }
	if got := MSELoss(f(1, 2, 3), f(1, 0, 0)).Item(); math.Abs(got-13.0/3) > 1e-12 {
		t.Errorf("MSE = %v, want 13/3", got)
	}
	// uniform logits: cross-entropy = log C
	logits := autodiff.Const(tensor.Zeros(tensor.Float64, 2, 5))
	if got := CrossEntropyLoss(logits, []int{1, 4}, 0).Item(); math.Abs(got-math.Log(5)) > 1e-12 {
		t.Errorf("CE of uniform logits = %v, want log 5", got)
	}
	// hand-computed: logits [2, 0], label 0 -> log(1+e^-2)
	l2 := autodiff.Const(tensor.FromFloat64([]float64{2, 0}, 1, 2))
	if got, want := CrossEntropyLoss(l2, []int{0}, 0).Item(), math.Log1p(math.Exp(-2)); math.Abs(got-want) > 1e-12 {
		t.Errorf("CE = %v, want %v", got, want)
	}
	// smoothing 0.2 over 2 classes: 0.8*nll + 0.2*mean(-logp)
	lp0, lp1 := -math.Log1p(math.Exp(-2)), -2-math.Log1p(math.Exp(-2))
	want := 0.8*(-lp0) + 0.2*(-(lp0+lp1)/2)
	if got := CrossEntropyLoss(l2, []int{0}, 0.2).Item(); math.Abs(got-want) > 1e-12 {
		t.Errorf("smoothed CE = %v, want %v", got, want)
	}
	// BCE with logits is finite and correct at extreme logits
	x := f(100, -100, 0)
	y := f(0, 1, 1)
	if got, want := BCEWithLogitsLoss(x, y).Item(), (100+100+math.Log(2))/3; math.Abs(got-want) > 1e-9 {
		t.Errorf("BCEWithLogits = %v, want %v", got, want)
	}
	// BCE on exact 0/1 probabilities is finite, gradient finite
	p := autodiff.Param(tensor.FromFloat64([]float64{0, 1, 0.5}, 3))
	l := BCELoss(p, f(1, 0, 1))
	if math.IsInf(l.Item(), 0) || math.IsNaN(l.Item()) {
		t.Errorf("BCE at p in {0,1} = %v", l.Item())
	}
	g := autodiff.Grad([]*autodiff.Var{l}, []*autodiff.Var{p}, false)[0]
	if g.Value.HasNaNOrInf() {
		t.Errorf("BCE gradient at p in {0,1} = %v", g.Value)
	}
	if got := Accuracy(tensor.FromFloat64([]float64{1, 2, 5, 0, 0, 1}, 3, 2), []int{1, 0, 0}); math.Abs(got-2.0/3) > 1e-12 {
		t.Errorf("Accuracy = %v", got)
	}
	mustPanic(t, "label 3", func() { NLLLoss(autodiff.Const(tensor.Zeros(tensor.Float64, 1, 3)), []int{3}) })
	mustPanic(t, "MSELoss", func() { MSELoss(f(1, 2), f(1)) })
}

func TestParamNamesAndFastWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m := NewSequential(NewLinear(r, 2, 3), ReLU(), NewLinear(r, 3, 1))
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "0.weight,0.bias,2.weight,2.bias" {
		t.Fatalf("names = %s", got)
	}
	enc := Prefixed("encoder", m.Params())
	if enc[0].Name != "encoder.0.weight" {
		t.Fatalf("prefixed name %s", enc[0].Name)
	}
	if NumParams(m) != 2*3+3+3+1 {
		t.Fatalf("NumParams = %d", NumParams(m))
	}
	x := autodiff.Const(tensor.RandN(r, tensor.Float32, 1, 4, 2))
	y1 := Forward(m, x)
	// fast weights: zero the last layer -> output is exactly zero, and the
	// module's own parameters are untouched.
	w := Vars(m)
	fast := append([]*autodiff.Var(nil), w...)
	fast[2] = autodiff.Const(tensor.Zeros(tensor.Float32, 1, 3))
	fast[3] = autodiff.Const(tensor.Zeros(tensor.Float32, 1))
	y2 := m.Apply(fast, x)
	for i := 0; i < y2.Value.Len(); i++ {
		if y2.Value.Flat(i) != 0 {
			t.Fatal("fast weights not used")
		}
	}
	if y3 := Forward(m, x); tensor.MaxAbsDiff(y1.Value, y3.Value) != 0 {
		t.Fatal("Apply with fast weights changed the module")
	}
	mustPanic(t, "Sequential.Apply", func() { m.Apply(w[:3], x) })
}

func TestBatchNormRunningStats(t *testing.T) {
	b := NewBatchNorm(2)
	Cast(b, tensor.Float64)
	// channel 0: values 1,3 ; channel 1: 2,6 (batch of 2, 1x1 spatial)
	x := autodiff.Const(tensor.FromFloat64([]float64{1, 2, 3, 6}, 2, 2, 1, 1))
	y := Forward(b, x)
	// train mode: normalised with biased batch variance -> (+-1)/sqrt(1+eps)
	if math.Abs(y.Value.At(0, 0, 0, 0)+1/math.Sqrt(1+1e-5)) > 1e-9 {
		t.Fatalf("train-mode output %v", y.Value)
	}
	// running mean = 0.9*0 + 0.1*mean; running var = 0.9*1 + 0.1*unbiased var
	wantMean := []float64{0.2, 0.4}
	wantVar := []float64{0.9 + 0.1*2, 0.9 + 0.1*8}
	for c := 0; c < 2; c++ {
		if math.Abs(b.RunningMean.Value.Flat(c)-wantMean[c]) > 1e-12 || math.Abs(b.RunningVar.Value.Flat(c)-wantVar[c]) > 1e-12 {
			t.Fatalf("running stats %v %v, want %v %v", b.RunningMean.Value, b.RunningVar.Value, wantMean, wantVar)
		}
	}
	SetTraining(b, false)
	y = Forward(b, x)
	want := (1 - 0.2) / math.Sqrt(1.1+1e-5)
	if math.Abs(y.Value.At(0, 0, 0, 0)-want) > 1e-9 {
		t.Fatalf("eval-mode output %v, want %v", y.Value.At(0, 0, 0, 0), want)
	}
	if len(Buffers(NewSequential(b))) != 2 || Buffers(NewSequential(b))[0].Name != "0.running_mean" {
		t.Fatal("buffers not listed through Sequential")
	}
}

func TestDropoutDeterministicAndEval(t *testing.T) {
	x := autodiff.Const(tensor.Ones(tensor.Float32, 1000))
	a := Forward(NewDropout(0.5, 7), x)
	b := Forward(NewDropout(0.5, 7), x)
	if tensor.MaxAbsDiff(a.Value, b.Value) != 0 {
		t.Fatal("same seed gave different masks")
	}
	zeros := 0
	for i := 0; i < a.Value.Len(); i++ {
		switch a.Value.Flat(i) {
		case 0:
			zeros++
		case 2:
		default:
			t.Fatalf("kept value %v, want 2 (scaled by 1/(1-p))", a.Value.Flat(i))
		}
	}
	if zeros < 400 || zeros > 600 {
		t.Fatalf("dropped %d of 1000 at p=0.5", zeros)
	}
	d := NewDropout(0.5, 7)
	SetTraining(d, false)
	if Forward(d, x) != x {
		t.Fatal("eval-mode dropout is not the identity")
	}
}

func TestInitStatistics(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	w := KaimingNormal(r, math.Sqrt2, 256, 128)
	std := math.Sqrt(tensor.Variance(w.AsType(tensor.Float64), false, false).Item())
	if want := math.Sqrt2 / math.Sqrt(128); math.Abs(std-want)/want > 0.05 {
		t.Errorf("Kaiming normal std %v, want %v", std, want)
	}
	u := XavierUniform(r, 1, 200, 100)
	bound := math.Sqrt(6.0 / 300)
	mx, _ := tensor.Max(tensor.Abs(u), false)
	if mx.Item() > bound || mx.Item() < 0.95*bound {
		t.Errorf("Xavier uniform max |w| %v, bound %v", mx.Item(), bound)
	}
	k := KaimingUniform(r, 1, 10, 3, 3, 3)
	kb := math.Sqrt(3.0 / 27)
	if mk, _ := tensor.Max(tensor.Abs(k), false); mk.Item() > kb {
		t.Errorf("Kaiming uniform exceeds bound")
	}
	xn := XavierNormal(r, 1, 300, 300)
	if s := math.Sqrt(tensor.Variance(xn.AsType(tensor.Float64), false, false).Item()); math.Abs(s-math.Sqrt(2.0/600))/math.Sqrt(2.0/600) > 0.05 {
		t.Errorf("Xavier normal std %v", s)
	}
	// seeded: same seed, same weights
	a := NewLinear(rand.New(rand.NewPCG(5, 5)), 4, 4)
	b := NewLinear(rand.New(rand.NewPCG(5, 5)), 4, 4)
	if tensor.MaxAbsDiff(a.Weight.Value, b.Weight.Value) != 0 {
		t.Error("seeded init not reproducible")
	}
}

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one mentioning %q", want)
		}
		if msg, _ := r.(string); !strings.Contains(msg, want) {
			t.Fatalf("panic %q does not mention %q", r, want)
		}
	}()
	f()
}

// The fused BCE agrees with the composite expression it replaced (clamped
// logs through Maximum, Log, Mul, Add, Mean), in value and in gradients
// with respect to both arguments, at soft and hard targets, p at the
// clamps included, in both dtypes.
func TestBCELossMatchesComposite(t *testing.T) {
	composite := func(p, tg *autodiff.Var) *autodiff.Var {
		dt := p.DType()
		tiny := autodiff.Scalar(dt, math.Exp(-100))
		one := autodiff.Scalar(dt, 1)
		logp := autodiff.Log(autodiff.Maximum(p, tiny))
		log1mp := autodiff.Log(autodiff.Maximum(autodiff.Sub(one, p), tiny))
		l := autodiff.Add(autodiff.Mul(tg, logp), autodiff.Mul(autodiff.Sub(one, tg), log1mp))
		return autodiff.Neg(autodiff.Mean(l, false))
	}
	ps := []float64{0, 1, 0.5, 1e-7, 1 - 1e-7, 0.3, 0.9, 0.01}
	targets := [][]float64{
		{1, 0, 1, 0, 1, 0, 1, 1},            // hard targets, clamps active at p = 0 and 1
		{0.2, 0.7, 0.5, 0, 1, 0.3, 0.95, 1}, // soft
	}
	// 4,000 probabilities, many tiny (the product of the hard targets'
	// probabilities must be renormalised), mixed hard and soft targets
	rng := rand.New(rand.NewPCG(3, 3))
	bigP, bigT := make([]float64, 4000), make([]float64, 4000)
	for i := range bigP {
		bigP[i] = math.Pow(rng.Float64(), 6)
		bigT[i] = float64(rng.IntN(2))
		if i%7 == 0 {
			bigT[i] = rng.Float64()
		}
	}
	for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
		for ti, tv := range append(targets, bigT) {
			pp := ps
			if len(tv) == len(bigP) {
				pp = bigP
			}
			pv := autodiff.Param(tensor.FromFloat64(pp, 2, len(pp)/2).AsType(dt))
			tg := autodiff.Param(tensor.FromFloat64(tv, 2, len(pp)/2).AsType(dt))
			got, want := BCELoss(pv, tg), composite(pv, tg)
			tol := 1e-12
			if dt == tensor.Float32 {
				tol = 1e-5
			}
			if math.Abs(got.Item()-want.Item()) > tol*math.Max(1, math.Abs(want.Item())) {
				t.Errorf("%v targets %d: BCE = %v, composite %v", dt, ti, got.Item(), want.Item())
			}
			gg := autodiff.Grad([]*autodiff.Var{got}, []*autodiff.Var{pv, tg}, false)
			gw := autodiff.Grad([]*autodiff.Var{want}, []*autodiff.Var{pv, tg}, false)
			for k, name := range []string{"p", "t"} {
				a, b := gg[k].Value.Values(), gw[k].Value.Values()
				for i := range a {
					if d := math.Abs(a[i] - b[i]); d > tol*math.Max(1, math.Abs(b[i])) {
						t.Errorf("%v targets %d: dBCE/d%s[%d] = %v, composite %v", dt, ti, name, i, a[i], b[i])
					}
				}
			}
		}
	}
}
