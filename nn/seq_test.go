package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

type checkFn = func(func([]*autodiff.Var) *autodiff.Var, []*tensor.Tensor, autodiff.CheckOptions) error

var bothChecks = []struct {
	name string
	f    checkFn
}{{"first order", autodiff.GradCheck}, {"second order", autodiff.GradGradCheck}}

// The padding row of an embedding starts at zero, is read like any row,
// and gets no gradient, to first and second order.
func TestEmbeddingPadding(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	e := NewEmbeddingPadded(r, 6, 3, 1)
	Cast(e, tensor.Float64)
	for j := 0; j < 3; j++ {
		if v := e.Weight.Value.At(1, j); v != 0 {
			t.Fatalf("padding row starts at %v", v)
		}
	}
	ids := []int{4, 1, 1, 2, 0, 1} // [2, 3] with padding
	w := autodiff.Param(tensor.RandN(r, tensor.Float64, 1, 6, 3))
	y := e.Embed(w, ids, 2, 3)
	if !tensor.SameShape(y.Shape(), []int{2, 3, 3}) || y.Value.At(0, 1, 2) != w.Value.At(1, 2) {
		t.Fatalf("embedding of padding: shape %v, value %v want %v", y.Shape(), y.Value.At(0, 1, 2), w.Value.At(1, 2))
	}
	g := autodiff.Grad([]*autodiff.Var{autodiff.Sum(autodiff.Square(y), false)}, []*autodiff.Var{w}, false)[0]
	for j := 0; j < 3; j++ {
		if v := g.Value.At(1, j); v != 0 {
			t.Fatalf("padding row has gradient %v", v)
		}
		if v := g.Value.At(4, j); v == 0 {
			t.Fatalf("row 4 has no gradient")
		}
	}
	// the padding row is deliberately not differentiated; with the padded
	// positions masked out of the output (as a loss with an ignore index
	// does), the blocked gradient is the true one
	keep := tensor.FromFloat64([]float64{1, 0, 0, 1, 1, 0}, 2, 3, 1)
	f := func(xs []*autodiff.Var) *autodiff.Var {
		return autodiff.Mul(autodiff.Square(e.Embed(xs[0], ids, 2, 3)), autodiff.Const(keep))
	}
	for _, c := range bothChecks {
		if err := c.f(f, []*tensor.Tensor{w.Value}, autodiff.CheckOptions{}); err != nil {
			t.Fatal(c.name, err)
		}
	}
	// only padding: no gradient at all
	g = autodiff.Grad([]*autodiff.Var{autodiff.Sum(e.Lookup(w, []int{1, 1}), false)}, []*autodiff.Var{w}, false)[0]
	if n := tensor.MaxAbsDiff(g.Value, tensor.ZerosLike(w.Value)); n != 0 {
		t.Fatalf("all-padding lookup gave a gradient of size %v", n)
	}
	mustPanic(t, "not in [0,6)", func() { e.Lookup(w, []int{6}) })
	mustPanic(t, "padding id 7", func() { NewEmbeddingPadded(r, 6, 3, 7) })
}

// Tied input/output embeddings: the logits are h times the table
// transposed, and the table's gradient collects both uses.
func TestEmbeddingTiedLogits(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	e := NewEmbeddingPadded(r, 7, 4, 0)
	ids := []int{3, 5, 6, 2}
	f := func(xs []*autodiff.Var) *autodiff.Var {
		h := autodiff.Tanh(e.Embed(xs[0], ids, 2, 2)) // [2,2,4]
		return e.Logits(xs[0], h)                     // [2,2,7]
	}
	w := tensor.RandN(r, tensor.Float64, 1, 7, 4)
	y := f([]*autodiff.Var{autodiff.Const(w)})
	if !tensor.SameShape(y.Shape(), []int{2, 2, 7}) {
		t.Fatalf("logits shape %v", y.Shape())
	}
	// logit (0,0,v) = tanh(w[3]) . w[v]
	for v := 0; v < 7; v++ {
		want := 0.0
		for d := 0; d < 4; d++ {
			want += math.Tanh(w.At(3, d)) * w.At(v, d)
		}
		if got := y.Value.At(0, 0, v); math.Abs(got-want) > 1e-12 {
			t.Fatalf("logit %d: %v, want %v", v, got, want)
		}
	}
	for _, c := range bothChecks {
		if err := c.f(f, []*tensor.Tensor{w}, autodiff.CheckOptions{}); err != nil {
			t.Fatal(c.name, err)
		}
	}
}

func TestSinusoidalTable(t *testing.T) {
	pe := SinusoidalTable(tensor.Float64, 50, 6)
	for pos := 0; pos < 50; pos++ {
		for i := 0; i < 3; i++ {
			a := float64(pos) / math.Pow(10000, float64(2*i)/6)
			if got := pe.At(pos, 2*i); math.Abs(got-math.Sin(a)) > 1e-15 {
				t.Fatalf("PE(%d,%d) = %v, want sin %v", pos, 2*i, got, math.Sin(a))
			}
			if got := pe.At(pos, 2*i+1); math.Abs(got-math.Cos(a)) > 1e-15 {
				t.Fatalf("PE(%d,%d) = %v, want cos %v", pos, 2*i+1, got, math.Cos(a))
			}
		}
	}
	// incremental decoding: position 3 alone equals row 3 of the whole
	x := autodiff.Const(tensor.Zeros(tensor.Float64, 2, 5, 6))
	all := AddSinusoidal(x, 0)
	one := AddSinusoidal(autodiff.Const(tensor.Zeros(tensor.Float64, 2, 1, 6)), 3)
	for d := 0; d < 6; d++ {
		if all.Value.At(1, 3, d) != one.Value.At(1, 0, d) {
			t.Fatalf("offset encoding differs at %d", d)
		}
	}
	// odd size: the last column is a sine
	if v := SinusoidalTable(tensor.Float32, 3, 5).At(2, 4); math.Abs(v-math.Sin(2/math.Pow(10000, 0.8))) > 1e-7 {
		t.Fatalf("odd last column %v", v)
	}
}

func TestPositionalEmbedding(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	p := NewPositionalEmbedding(r, 6, 3)
	Cast(p, tensor.Float64)
	x := tensor.RandN(r, tensor.Float64, 1, 2, 4, 3)
	for _, off := range []int{0, 2} {
		f := func(xs []*autodiff.Var) *autodiff.Var { return autodiff.Square(p.ApplyAt(xs[1:], xs[0], off)) }
		for _, c := range bothChecks {
			if err := c.f(f, []*tensor.Tensor{x, p.Weight.Value}, autodiff.CheckOptions{}); err != nil {
				t.Fatal(c.name, err)
			}
		}
	}
	y := p.ApplyAt([]*autodiff.Var{p.Weight}, autodiff.Const(x), 2)
	if got, want := y.Value.At(1, 1, 2), x.At(1, 1, 2)+p.Weight.Value.At(3, 2); got != want {
		t.Fatalf("position 3: %v, want %v", got, want)
	}
	mustPanic(t, "beyond the 6 learned", func() { p.ApplyAt([]*autodiff.Var{p.Weight}, autodiff.Const(x), 3) })
}

// GELU is the exact erf form, x*Phi(x), with first and second
// derivatives (checked in TestLayerGradGradCheck as well).
func TestGELUExact(t *testing.T) {
	for _, x := range []float64{-3, -1, -0.5, 0, 0.3, 1, 2.5} {
		got := autodiff.GELU(autodiff.Scalar(tensor.Float64, x)).Item()
		want := x * 0.5 * (1 + math.Erf(x/math.Sqrt2))
		if math.Abs(got-want) > 1e-15 {
			t.Fatalf("GELU(%v) = %v, want %v", x, got, want)
		}
	}
	in := []*tensor.Tensor{tensor.RandN(rand.New(rand.NewPCG(5, 5)), tensor.Float64, 1.5, 3, 4)}
	f := func(xs []*autodiff.Var) *autodiff.Var { return autodiff.GELU(xs[0]) }
	for _, c := range bothChecks {
		if err := c.f(f, in, autodiff.CheckOptions{}); err != nil {
			t.Fatal(c.name, err)
		}
	}
}

// LayerNorm over the features of a [B, T, D] sequence batch, first and
// second order (Transformer layers apply it to every position).
func TestLayerNormSequenceGradCheck(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	l := randLN(r, 5)
	Cast(l, tensor.Float64)
	in := []*tensor.Tensor{tensor.RandN(r, tensor.Float64, 1, 2, 3, 5), l.Weight.Value, l.Bias.Value}
	f := func(xs []*autodiff.Var) *autodiff.Var { return autodiff.Square(l.Apply(xs[1:], xs[0])) }
	for _, c := range bothChecks {
		if err := c.f(f, in, autodiff.CheckOptions{}); err != nil {
			t.Fatal(c.name, err)
		}
	}
}

// TokenCrossEntropy against PyTorch's definition evaluated by hand, with
// padding, label smoothing and each reduction; and its gradients.
func TestTokenCrossEntropy(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	const B, T, V, pad = 3, 4, 5, 0
	targets := []int{
		2, 4, 1, pad,
		3, pad, pad, pad,
		pad, pad, pad, pad,
	}
	logits := tensor.RandN(r, tensor.Float64, 2, B, T, V)
	eps := 0.1
	tokLoss := func(b, i int) float64 {
		row := logits.Values()[(b*T+i)*V : (b*T+i+1)*V]
		s := 0.0
		for _, v := range row {
			s += math.Exp(v)
		}
		lse := math.Log(s)
		mean := 0.0
		for _, v := range row {
			mean += (lse - v) / V
		}
		return (1-eps)*(lse-row[targets[b*T+i]]) + eps*mean
	}
	sum, perSeq := 0.0, 0.0
	for b := 0; b < B; b++ {
		s, n := 0.0, 0
		for i := 0; i < T; i++ {
			if targets[b*T+i] != pad {
				s += tokLoss(b, i)
				n++
			}
		}
		sum += s
		if n > 0 {
			perSeq += s / float64(n) / 2 // two sequences have tokens
		}
	}
	for _, c := range []struct {
		red  Reduction
		want float64
	}{{MeanOverTokens, sum / 4}, {SumOverTokens, sum}, {MeanOverSequences, perSeq}} {
		opt := SeqLossOptions{LabelSmoothing: eps, IgnoreIndex: pad, Ignore: true, Reduction: c.red}
		loss, n := TokenCrossEntropy(autodiff.Const(logits), targets, opt)
		if n != 4 {
			t.Fatalf("reduction %d: %d tokens, want 4", c.red, n)
		}
		if math.Abs(loss.Item()-c.want) > 1e-12 {
			t.Fatalf("reduction %d: loss %v, want %v", c.red, loss.Item(), c.want)
		}
		f := func(xs []*autodiff.Var) *autodiff.Var { l, _ := TokenCrossEntropy(xs[0], targets, opt); return l }
		for _, ch := range bothChecks {
			if err := ch.f(f, []*tensor.Tensor{logits}, autodiff.CheckOptions{}); err != nil {
				t.Fatal(c.red, ch.name, err)
			}
		}
	}
	// without padding and smoothing it is the existing CrossEntropyLoss
	flat := tensor.Reshape(logits, B*T, V)
	all := []int{2, 4, 1, 0, 3, 1, 1, 2, 0, 4, 3, 3}
	a, n := TokenCrossEntropy(autodiff.Const(flat), all, SeqLossOptions{})
	if b := CrossEntropyLoss(autodiff.Const(flat), all, 0); n != 12 || math.Abs(a.Item()-b.Item()) > 1e-12 {
		t.Fatalf("TokenCrossEntropy %v (%d tokens) vs CrossEntropyLoss %v", a.Item(), n, b.Item())
	}
	a, _ = TokenCrossEntropy(autodiff.Const(flat), all, SeqLossOptions{LabelSmoothing: 0.2})
	if b := CrossEntropyLoss(autodiff.Const(flat), all, 0.2); math.Abs(a.Item()-b.Item()) > 1e-12 {
		t.Fatalf("with smoothing: TokenCrossEntropy %v vs CrossEntropyLoss %v", a.Item(), b.Item())
	}
	// a batch of padding only
	none, n := TokenCrossEntropy(autodiff.Const(logits), make([]int, B*T), SeqLossOptions{Ignore: true})
	if n != 0 || none.Item() != 0 {
		t.Fatalf("all padding: loss %v over %d tokens", none.Item(), n)
	}
	mustPanic(t, "target 9 at row 1", func() {
		TokenCrossEntropy(autodiff.Const(flat), []int{0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, SeqLossOptions{})
	})
	mustPanic(t, "needs logits [B,T,V]", func() {
		TokenCrossEntropy(autodiff.Const(flat), all, SeqLossOptions{Reduction: MeanOverSequences})
	})
}

func TestSequenceLogLikelihood(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	logits := tensor.RandN(r, tensor.Float64, 1, 2, 3, 4)
	targets := []int{1, 3, 0, 2, 0, 0} // pad 0: the second sequence has one token
	ll := SequenceLogLikelihood(autodiff.Const(logits), targets, 0)
	lp := tensor.LogSoftmax(logits, -1)
	want := []float64{lp.At(0, 0, 1) + lp.At(0, 1, 3), lp.At(1, 0, 2)}
	for b, w := range want {
		if got := ll.Value.Flat(b); math.Abs(got-w) > 1e-12 {
			t.Fatalf("sequence %d: log-likelihood %v, want %v", b, got, w)
		}
	}
	f := func(xs []*autodiff.Var) *autodiff.Var { return SequenceLogLikelihood(xs[0], targets, 0) }
	for _, c := range bothChecks {
		if err := c.f(f, []*tensor.Tensor{logits}, autodiff.CheckOptions{}); err != nil {
			t.Fatal(c.name, err)
		}
	}
}
