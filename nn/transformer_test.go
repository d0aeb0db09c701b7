package nn

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

func tinyTransformer(t *testing.T, seed uint64, normFirst bool, act string) *Transformer {
	t.Helper()
	m, err := NewTransformer(rand.New(rand.NewPCG(seed, 9)), TransformerConfig{
		DModel: 4, Heads: 2, EncoderLayers: 1, DecoderLayers: 1, FFN: 6, NormFirst: normFirst, Activation: act})
	if err != nil {
		t.Fatal(err)
	}
	Cast(m, tensor.Float64)
	m.SetTraining(false)
	return m
}

// Multi-head attention is differentiable to second order in its inputs and
// weights, with ragged key lengths and causal masks (self and cross).
func TestMultiHeadAttentionGradients(t *testing.T) {
	cases := []struct {
		name   string
		tq, tk int
		self   bool
		opt    AttendOptions
	}{
		{"self", 3, 3, true, AttendOptions{}},
		{"self ragged causal", 4, 4, true, AttendOptions{KeyLengths: []int{4, 2}, Causal: true}},
		{"cross ragged", 2, 5, false, AttendOptions{KeyLengths: []int{3, 5}}},
		{"cross causal offset", 2, 4, false, AttendOptions{Causal: true}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			a := NewMultiHeadAttention(rng, 4, 2, 0, 0)
			Cast(a, tensor.Float64)
			inputs := []*tensor.Tensor{tensor.RandN(rng, tensor.Float64, 1, 2, c.tq, 4), tensor.RandN(rng, tensor.Float64, 1, 2, c.tk, 4)}
			for _, v := range Vars(a) {
				inputs = append(inputs, tensor.RandN(rng, tensor.Float64, 0.5, v.Shape()...))
			}
			f := func(xs []*autodiff.Var) *autodiff.Var {
				src := xs[1]
				if c.self {
					src = xs[0]
				}
				return a.Attend(xs[2:], xs[0], src, c.opt)
			}
			if c.self {
				inputs[1] = tensor.Zeros(tensor.Float64, 1) // unused
			}
			if err := autodiff.GradCheck(f, inputs, autodiff.CheckOptions{}); err != nil {
				t.Error(err)
			}
			if err := autodiff.GradGradCheck(f, inputs, autodiff.CheckOptions{}); err != nil {
				t.Error(err)
			}
		})
	}
}

// The masks mean what AttendOptions says: query i of row b sees exactly
// keys j < KeyLengths[b] with j <= i + Tk - Tq (causal), checked against
// unmasked attention over those keys alone.
func TestAttentionMaskSemantics(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const b, h, tq, tk, d = 2, 2, 3, 5, 4
	q := autodiff.Const(tensor.RandN(rng, tensor.Float64, 1, b, h, tq, d))
	k := autodiff.Const(tensor.RandN(rng, tensor.Float64, 1, b, h, tk, d))
	v := autodiff.Const(tensor.RandN(rng, tensor.Float64, 1, b, h, tk, d))
	lens := []int{5, 3}
	for _, causal := range []bool{false, true} {
		got := attention(q, k, v, autodiff.AttentionOptions{KeyLengths: lens, Causal: causal}).Value
		for bi := 0; bi < b; bi++ {
			for i := 0; i < tq; i++ {
				n := lens[bi]
				if causal {
					n = min(n, i+tk-tq+1)
				}
				sub := func(x *autodiff.Var, t0, t1 int) *autodiff.Var {
					return autodiff.Slice(autodiff.Slice(autodiff.Slice(x, 0, bi, bi+1), 2, t0, t1), 0, 0, 1)
				}
				want := attention(sub(q, i, i+1), sub(k, 0, n), sub(v, 0, n), autodiff.AttentionOptions{}).Value
				row := tensor.Slice(tensor.Slice(got, 0, bi, bi+1), 2, i, i+1)
				if dd := tensor.MaxAbsDiff(row, want); dd > 1e-12 {
					t.Errorf("causal %v row %d query %d: differs from attention over its %d visible keys by %.3g", causal, bi, i, n, dd)
				}
			}
		}
	}
}

// Encoder outputs at real positions ignore what the padding holds, and
// decoder output i ignores target positions after i (causality).
func TestTransformerPaddingAndCausality(t *testing.T) {
	for _, normFirst := range []bool{false, true} {
		m := tinyTransformer(t, 1, normFirst, "relu")
		w := Vars(m)
		rng := rand.New(rand.NewPCG(5, 5))
		src := tensor.RandN(rng, tensor.Float64, 1, 2, 4, 4)
		tgt := tensor.RandN(rng, tensor.Float64, 1, 2, 3, 4)
		lens := []int{4, 2}
		out := m.Forward(w, autodiff.Const(src), lens, autodiff.Const(tgt), nil).Value
		src2 := src.Clone()
		for j := 2; j < 4; j++ { // row 1's padding
			for e := 0; e < 4; e++ {
				src2.Set(100, 1, j, e)
			}
		}
		tgt2 := tgt.Clone()
		for e := 0; e < 4; e++ { // last target position of both rows
			tgt2.Set(-50, 0, 2, e)
			tgt2.Set(-50, 1, 2, e)
		}
		out2 := m.Forward(w, autodiff.Const(src2), lens, autodiff.Const(tgt2), nil).Value
		if d := tensor.MaxAbsDiff(tensor.Slice(out, 1, 0, 2), tensor.Slice(out2, 1, 0, 2)); d > 1e-12 {
			t.Errorf("normFirst %v: decoder positions 0-1 change by %.3g with the padding and position 2", normFirst, d)
		}
		if d := tensor.MaxAbsDiff(tensor.Slice(out, 1, 2, 3), tensor.Slice(out2, 1, 2, 3)); d < 1e-3 {
			t.Errorf("normFirst %v: decoder position 2 does not depend on its own input (%.3g)", normFirst, d)
		}
	}
}

// The parameter names are PyTorch's nn.Transformer state_dict keys.
func TestTransformerParamNames(t *testing.T) {
	m := tinyTransformer(t, 1, true, "gelu")
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name)
	}
	attn := func(p string) []string {
		return []string{p + ".in_proj_weight", p + ".in_proj_bias", p + ".out_proj.weight", p + ".out_proj.bias"}
	}
	pair := func(p string) []string { return []string{p + ".weight", p + ".bias"} }
	var want []string
	e, d := "encoder.layers.0.", "decoder.layers.0."
	for _, part := range [][]string{
		attn(e + "self_attn"), pair(e + "linear1"), pair(e + "linear2"), pair(e + "norm1"), pair(e + "norm2"), pair("encoder.norm"),
		attn(d + "self_attn"), attn(d + "multihead_attn"), pair(d + "linear1"), pair(d + "linear2"),
		pair(d + "norm1"), pair(d + "norm2"), pair(d + "norm3"), pair("decoder.norm"),
	} {
		want = append(want, part...)
	}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("names\n%v\nwant\n%v", names, want)
	}
	shapes := map[string][]int{"encoder.layers.0.self_attn.in_proj_weight": {12, 4}, "decoder.layers.0.linear1.weight": {6, 4}, "decoder.layers.0.linear2.weight": {4, 6}}
	for _, p := range m.Params() {
		if s, ok := shapes[p.Name]; ok && !reflect.DeepEqual(p.V.Shape(), s) {
			t.Errorf("%s shape %v, want %v", p.Name, p.V.Shape(), s)
		}
	}
}

// A second-order MAML step on a tiny Transformer: the meta-gradient of
// L_query(theta - alpha grad L_support(theta)) (Finn et al. 2017) matches
// central differences of the full objective, and the first-order
// approximation measurably does not. Inputs have ragged lengths.
func TestTransformerMAMLSecondOrder(t *testing.T) {
	m := tinyTransformer(t, 2, true, "gelu")
	rng := rand.New(rand.NewPCG(8, 8))
	theta0 := make([]*tensor.Tensor, 0)
	for _, v := range Vars(m) {
		theta0 = append(theta0, v.Value.Clone())
	}
	type set struct {
		src, tgt, y      *autodiff.Var
		srcLens, tgtLens []int
	}
	mk := func() set {
		return set{
			src: autodiff.Const(tensor.RandN(rng, tensor.Float64, 1, 2, 3, 4)), tgt: autodiff.Const(tensor.RandN(rng, tensor.Float64, 1, 2, 3, 4)),
			y: autodiff.Const(tensor.RandN(rng, tensor.Float64, 1, 2, 3, 4)), srcLens: []int{3, 2}, tgtLens: []int{2, 3},
		}
	}
	support, query := mk(), mk()
	loss := func(w []*autodiff.Var, s set) *autodiff.Var {
		return MSELoss(m.Forward(w, s.src, s.srcLens, s.tgt, s.tgtLens), s.y)
	}
	const alpha = 0.5
	metaLoss := func(theta []*autodiff.Var, createGraph bool) *autodiff.Var {
		g := autodiff.Grad([]*autodiff.Var{loss(theta, support)}, theta, createGraph)
		fast := make([]*autodiff.Var, len(theta))
		for i := range theta {
			fast[i] = autodiff.Sub(theta[i], autodiff.Scale(g[i], alpha))
		}
		return loss(fast, query)
	}
	leaves := func(ts []*tensor.Tensor) []*autodiff.Var {
		vs := make([]*autodiff.Var, len(ts))
		for i, x := range ts {
			vs[i] = autodiff.Param(x)
		}
		return vs
	}
	theta := leaves(theta0)
	second := autodiff.Grad([]*autodiff.Var{metaLoss(theta, true)}, theta, false)
	first := autodiff.Grad([]*autodiff.Var{metaLoss(theta, false)}, theta, false)
	const eps = 1e-5
	var num, ana, fo []float64
	for i, t0 := range theta0 {
		for j := 0; j < t0.Len(); j++ {
			pert := append([]*tensor.Tensor(nil), theta0...)
			x := t0.Clone()
			pert[i] = x
			x.SetFlat(j, t0.Flat(j)+eps)
			fp := metaLoss(leaves(pert), false).Item()
			x.SetFlat(j, t0.Flat(j)-eps)
			fm := metaLoss(leaves(pert), false).Item()
			num = append(num, (fp-fm)/(2*eps))
			ana = append(ana, second[i].Value.Flat(j))
			fo = append(fo, first[i].Value.Flat(j))
		}
	}
	relErr := func(a, b []float64) float64 {
		var d, n float64
		for i := range a {
			d += (a[i] - b[i]) * (a[i] - b[i])
			n += b[i] * b[i]
		}
		return math.Sqrt(d / n)
	}
	if e := relErr(ana, num); e > 1e-6 {
		t.Fatalf("second-order MAML meta-gradient relative error %.3g > 1e-6 over %d entries", e, len(num))
	} else {
		t.Logf("second-order relative error %.3g over %d entries", e, len(num))
	}
	if e := relErr(fo, num); e < 1e-3 {
		t.Fatalf("first-order meta-gradient within %.3g of the true one: the test does not exercise second order", e)
	} else {
		t.Logf("first-order relative error %.3g", e)
	}
}

// Seq2Seq's loss counts and predicts only real target tokens: the padding
// ids do not change it, and its gradient reaches the tied embedding.
func TestSeq2SeqLossIgnoresPadding(t *testing.T) {
	m, src := tinySeq2Seq(t, true)
	w := Vars(m)
	tgt := Tokens{IDs: []int{0, 3, 4, 1, 0, 5, 1, 7, 0, 1, 8, 8}, Lens: []int{4, 3, 2}, T: 4}
	l1, n := m.Loss(w, src, tgt, 0.1)
	if n != 3+2+1 {
		t.Fatalf("%d tokens, want 6", n)
	}
	tgt2 := tgt
	tgt2.IDs = append([]int(nil), tgt.IDs...)
	tgt2.IDs[7], tgt2.IDs[10], tgt2.IDs[11] = 2, 3, 6
	l2, _ := m.Loss(w, src, tgt2, 0.1)
	if math.Abs(l1.Item()-l2.Item()) > 1e-12 {
		t.Fatalf("loss %v changes to %v with the padding ids", l1.Item(), l2.Item())
	}
	g := autodiff.Grad([]*autodiff.Var{l1}, w[:1], false)[0]
	if tensor.Norm(g.Value) == 0 {
		t.Fatal("no gradient reaches the embedding")
	}
	if err := (Tokens{IDs: []int{1, 2}, Lens: []int{3}, T: 2}).Validate(9); err == nil {
		t.Fatal("row longer than T accepted")
	}
	if err := (Tokens{IDs: []int{1, 9}, Lens: []int{2}, T: 2}).Validate(9); err == nil {
		t.Fatal("id out of range accepted")
	}
}

// Seq2Seq's loss (tied embedding, positions, label smoothing, padded and
// ragged batches) is differentiable to second order in all its weights.
func TestSeq2SeqLossGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	m, err := NewSeq2Seq(rng, 7, TransformerConfig{DModel: 4, Heads: 2, EncoderLayers: 1, DecoderLayers: 1, FFN: 5, NormFirst: false, Activation: "gelu"})
	if err != nil {
		t.Fatal(err)
	}
	Cast(m, tensor.Float64)
	m.SetTraining(false)
	src := Tokens{IDs: []int{3, 4, 5, 6, 0, 0}, Lens: []int{3, 1}, T: 3}
	tgt := Tokens{IDs: []int{1, 5, 2, 1, 6, 4, 2, 0}, Lens: []int{3, 4}, T: 4}
	var inputs []*tensor.Tensor
	for _, v := range Vars(m) {
		inputs = append(inputs, v.Value.Clone())
	}
	f := func(xs []*autodiff.Var) *autodiff.Var {
		l, _ := m.Loss(xs, src, tgt, 0.1)
		return l
	}
	if err := autodiff.GradCheck(f, inputs, autodiff.CheckOptions{}); err != nil {
		t.Error(err)
	}
	if err := autodiff.GradGradCheck(f, inputs, autodiff.CheckOptions{}); err != nil {
		t.Error(err)
	}
}
