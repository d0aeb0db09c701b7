package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

func sigm(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// affine returns W[k*h+j,:] . x + b[k*h+j] for gate k, unit j.
func affine(w, b *tensor.Tensor, x []float64, k, h, j int) float64 {
	s := b.Flat(k*h + j)
	for i, v := range x {
		s += w.At(k*h+j, i) * v
	}
	return s
}

// refGRU is one GRU step written from PyTorch's documented equations.
func refGRU(w []*autodiff.Var, x, h []float64) []float64 {
	n := len(h)
	out := make([]float64, n)
	for j := 0; j < n; j++ {
		r := sigm(affine(w[0].Value, w[2].Value, x, 0, n, j) + affine(w[1].Value, w[3].Value, h, 0, n, j))
		z := sigm(affine(w[0].Value, w[2].Value, x, 1, n, j) + affine(w[1].Value, w[3].Value, h, 1, n, j))
		c := math.Tanh(affine(w[0].Value, w[2].Value, x, 2, n, j) + r*affine(w[1].Value, w[3].Value, h, 2, n, j))
		out[j] = (1-z)*c + z*h[j]
	}
	return out
}

// refLSTM is one LSTM step from PyTorch's documented equations.
func refLSTM(w []*autodiff.Var, x, h, c []float64) (h2, c2 []float64) {
	n := len(h)
	h2, c2 = make([]float64, n), make([]float64, n)
	g := func(k, j int) float64 {
		return affine(w[0].Value, w[2].Value, x, k, n, j) + affine(w[1].Value, w[3].Value, h, k, n, j)
	}
	for j := 0; j < n; j++ {
		i, f, gg, o := sigm(g(0, j)), sigm(g(1, j)), math.Tanh(g(2, j)), sigm(g(3, j))
		c2[j] = f*c[j] + i*gg
		h2[j] = o * math.Tanh(c2[j])
	}
	return h2, c2
}

func row(t *tensor.Tensor, idx ...int) []float64 {
	s := t.Shape()
	n := s[len(s)-1]
	off := 0
	for i, v := range idx {
		off = off*s[i] + v
	}
	return t.Values()[off*n : (off+1)*n]
}

// The runners against the reference equations step by step, with ragged
// lengths: outputs past a sequence's length are zero and its final state
// is the one at its last real step.
func TestRNNRunnersMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	const B, T, I, H = 3, 5, 4, 6
	lengths := []int{5, 2, 0}
	x := tensor.RandN(r, tensor.Float64, 1, B, T, I)
	h0 := tensor.RandN(r, tensor.Float64, 1, B, H)
	c0 := tensor.RandN(r, tensor.Float64, 1, B, H)
	gru, lstm := NewGRUCell(r, I, H), NewLSTMCell(r, I, H)
	Cast(gru, tensor.Float64)
	Cast(lstm, tensor.Float64)
	gout, gh := RunGRU(gru.vars(), autodiff.Const(x), lengths, autodiff.Const(h0))
	lout, lh, lc := RunLSTM(lstm.vars(), autodiff.Const(x), lengths, autodiff.Const(h0), autodiff.Const(c0))
	for b := 0; b < B; b++ {
		hg := row(h0, b)
		hl, cl := row(h0, b), row(c0, b)
		for t0 := 0; t0 < T; t0++ {
			wantG, wantL := make([]float64, H), make([]float64, H)
			if t0 < lengths[b] {
				hg = refGRU(gru.vars(), row(x, b, t0), hg)
				hl, cl = refLSTM(lstm.vars(), row(x, b, t0), hl, cl)
				wantG, wantL = hg, hl
			}
			for j := 0; j < H; j++ {
				if d := math.Abs(gout.Value.At(b, t0, j) - wantG[j]); d > 1e-12 {
					t.Fatalf("GRU output (%d,%d,%d) off by %g", b, t0, j, d)
				}
				if d := math.Abs(lout.Value.At(b, t0, j) - wantL[j]); d > 1e-12 {
					t.Fatalf("LSTM output (%d,%d,%d) off by %g", b, t0, j, d)
				}
			}
		}
		for j := 0; j < H; j++ {
			if d := math.Abs(gh.Value.At(b, j) - hg[j]); d > 1e-12 {
				t.Fatalf("GRU final state (%d,%d) off by %g", b, j, d)
			}
			if d := math.Abs(lh.Value.At(b, j)-hl[j]) + math.Abs(lc.Value.At(b, j)-cl[j]); d > 1e-12 {
				t.Fatalf("LSTM final states (%d,%d) off by %g", b, j, d)
			}
		}
	}
	// one step of the cells equals the runners' first step
	x0 := autodiff.Const(tensor.Reshape(tensor.Slice(x, 1, 0, 1), B, I))
	if s := gru.Step(gru.vars(), x0, autodiff.Const(h0)); math.Abs(s.Value.At(0, 1)-gout.Value.At(0, 0, 1)) > 1e-12 {
		t.Fatal("GRUCell.Step differs from RunGRU")
	}
	if s, _ := lstm.Step(lstm.vars(), x0, autodiff.Const(h0), autodiff.Const(c0)); math.Abs(s.Value.At(0, 1)-lout.Value.At(0, 0, 1)) > 1e-12 {
		t.Fatal("LSTMCell.Step differs from RunLSTM")
	}
}

// First and second order through the runners with ragged lengths, for
// the input, the initial state and every weight.
func TestRNNGradCheck(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	const B, T, I, H = 3, 4, 2, 3
	lengths := []int{4, 1, 3}
	gru, lstm := NewGRUCell(r, I, H), NewLSTMCell(r, I, H)
	Cast(gru, tensor.Float64)
	Cast(lstm, tensor.Float64)
	cases := []struct {
		name string
		w    []*autodiff.Var
		f    func(xs []*autodiff.Var) *autodiff.Var
	}{
		{"GRU", gru.vars(), func(xs []*autodiff.Var) *autodiff.Var {
			out, h := RunGRU(xs[2:], xs[0], lengths, xs[1])
			return autodiff.Add(autodiff.Sum(autodiff.Square(out), false), autodiff.Sum(autodiff.Square(h), false))
		}},
		{"LSTM", lstm.vars(), func(xs []*autodiff.Var) *autodiff.Var {
			out, h, c := RunLSTM(xs[2:], xs[0], lengths, xs[1], xs[1])
			s := autodiff.Add(autodiff.Sum(autodiff.Square(out), false), autodiff.Sum(autodiff.Square(h), false))
			return autodiff.Add(s, autodiff.Sum(autodiff.Square(c), false))
		}},
	}
	for _, c := range cases {
		in := []*tensor.Tensor{tensor.RandN(r, tensor.Float64, 1, B, T, I), tensor.RandN(r, tensor.Float64, 0.5, B, H)}
		for _, w := range c.w {
			in = append(in, w.Value)
		}
		for _, ch := range bothChecks {
			if err := ch.f(c.f, in, autodiff.CheckOptions{}); err != nil {
				t.Fatal(c.name, ch.name, err)
			}
		}
	}
}

// Stacked layers: parameter names and shapes of torch.nn.GRU/LSTM, and
// the second layer reads the first one's outputs.
func TestStackedRNN(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 14))
	g := NewGRU(r, 3, 4, 2)
	want := []struct {
		name  string
		shape []int
	}{{"weight_ih_l0", []int{12, 3}}, {"weight_hh_l0", []int{12, 4}}, {"bias_ih_l0", []int{12}}, {"bias_hh_l0", []int{12}},
		{"weight_ih_l1", []int{12, 4}}, {"weight_hh_l1", []int{12, 4}}, {"bias_ih_l1", []int{12}}, {"bias_hh_l1", []int{12}}}
	ps := g.Params()
	if len(ps) != len(want) {
		t.Fatalf("%d parameters, want %d", len(ps), len(want))
	}
	for i, w := range want {
		if ps[i].Name != w.name || !tensor.SameShape(ps[i].V.Shape(), w.shape) {
			t.Fatalf("parameter %d: %s %v, want %s %v", i, ps[i].Name, ps[i].V.Shape(), w.name, w.shape)
		}
	}
	x := autodiff.Const(tensor.RandN(r, tensor.Float32, 1, 2, 5, 3))
	out, h := g.Run(Vars(g), x, []int{5, 3}, nil)
	l0, _ := RunGRU(Vars(g)[:4], x, []int{5, 3}, nil)
	l1, h1 := RunGRU(Vars(g)[4:], l0, []int{5, 3}, nil)
	if tensor.MaxAbsDiff(out.Value, l1.Value) != 0 || !tensor.SameShape(h.Shape(), []int{2, 2, 4}) || h.Value.At(1, 1, 2) != h1.Value.At(1, 2) {
		t.Fatal("stacked GRU differs from its layers run in turn")
	}
	l := NewLSTM(r, 3, 4, 2)
	if ps := l.Params(); len(ps) != 8 || ps[5].Name != "weight_hh_l1" || !tensor.SameShape(ps[0].V.Shape(), []int{16, 3}) {
		t.Fatalf("LSTM parameters %v", ps)
	}
	o, hl, cl := l.Run(Vars(l), x, nil, nil, nil)
	if !tensor.SameShape(o.Shape(), []int{2, 5, 4}) || !tensor.SameShape(hl.Shape(), []int{2, 2, 4}) || !tensor.SameShape(cl.Shape(), []int{2, 2, 4}) {
		t.Fatalf("LSTM shapes %v %v %v", o.Shape(), hl.Shape(), cl.Shape())
	}
	mustPanic(t, "length 6 of sequence 1", func() { g.Run(Vars(g), x, []int{5, 6}, nil) })
	mustPanic(t, "want [B,T,3]", func() { g.Apply(Vars(g), autodiff.Const(tensor.New(tensor.Float32, 2, 5, 2))) })
}
