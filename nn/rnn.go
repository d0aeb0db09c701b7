package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// Recurrent cells and sequence runners with PyTorch's gate order and
// parameter layout, so weights load into torch.nn.GRU / LSTM unchanged:
// weight_ih [G*H, I], weight_hh [G*H, H], bias_ih [G*H], bias_hh [G*H]
// with G = 3 gates (r, z, n) for a GRU (Cho et al. 2014) and G = 4 (i, f,
// g, o) for an LSTM (Hochreiter and Schmidhuber 1997, with the forget
// gate of Gers et al. 2000). Like every layer they take explicit weights.

// rnnWeights are one cell's parameters: w[0] weight_ih, w[1] weight_hh,
// w[2] bias_ih, w[3] bias_hh.
func newRNNWeights(rng *rand.Rand, gates, in, hid int) []*autodiff.Var {
	b := 1 / math.Sqrt(float64(hid)) // PyTorch: U(-1/sqrt(H), 1/sqrt(H)) for all
	return []*autodiff.Var{
		autodiff.Param(tensor.RandU(rng, tensor.Float32, -b, b, gates*hid, in)),
		autodiff.Param(tensor.RandU(rng, tensor.Float32, -b, b, gates*hid, hid)),
		autodiff.Param(tensor.RandU(rng, tensor.Float32, -b, b, gates*hid)),
		autodiff.Param(tensor.RandU(rng, tensor.Float32, -b, b, gates*hid)),
	}
}

func rnnParams(w []*autodiff.Var, suffix string) []Param {
	return []Param{{"weight_ih" + suffix, w[0]}, {"weight_hh" + suffix, w[1]}, {"bias_ih" + suffix, w[2]}, {"bias_hh" + suffix, w[3]}}
}

func checkCell(cell string, w []*autodiff.Var, gates int, x, h *autodiff.Var) {
	checkWeights(cell, w, 4)
	hid := w[1].Shape()[1]
	xs, hs := x.Shape(), h.Shape()
	if len(xs) != 2 || xs[1] != w[0].Shape()[1] || len(hs) != 2 || hs[0] != xs[0] || hs[1] != hid || w[0].Shape()[0] != gates*hid {
		panic(fmt.Sprintf("nn: %s: input %v and state %v for weight_ih %v, weight_hh %v (want [B,I] and [B,H])", cell, xs, hs, w[0].Shape(), w[1].Shape()))
	}
}

// GRUCell is one GRU step; parameters weight_ih [3H, I], weight_hh
// [3H, H], bias_ih [3H], bias_hh [3H] (torch.nn.GRUCell).
type GRUCell struct {
	WeightIH, WeightHH, BiasIH, BiasHH *autodiff.Var
}

// NewGRUCell returns a GRU cell initialised as PyTorch does.
func NewGRUCell(rng *rand.Rand, in, hidden int) *GRUCell {
	w := newRNNWeights(rng, 3, in, hidden)
	return &GRUCell{w[0], w[1], w[2], w[3]}
}

func (c *GRUCell) vars() []*autodiff.Var {
	return []*autodiff.Var{c.WeightIH, c.WeightHH, c.BiasIH, c.BiasHH}
}

func (c *GRUCell) Params() []Param { return rnnParams(c.vars(), "") }

// Step returns the next state [B, H] from the input x [B, I] and the state
// h [B, H] with weights w (the gate arithmetic is one fused operation,
// autodiff.GRUCell).
func (c *GRUCell) Step(w []*autodiff.Var, x, h *autodiff.Var) *autodiff.Var {
	checkCell("GRUCell", w, 3, x, h)
	return gruStep(w, autodiff.Linear(x, w[0], w[2]), h)
}

// gruStep is a GRU step from the precomputed input projection gi.
func gruStep(w []*autodiff.Var, gi, h *autodiff.Var) *autodiff.Var {
	return autodiff.GRUCell(gi, autodiff.Linear(h, w[1], w[3]), h)
}

// Apply runs the cell on x [B, T, I] from a zero state and returns the
// outputs [B, T, H] (the Module form; see RunGRU for lengths and states).
func (c *GRUCell) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	out, _ := RunGRU(w, x, nil, nil)
	return out
}

// LSTMCell is one LSTM step; parameters weight_ih [4H, I], weight_hh
// [4H, H], bias_ih [4H], bias_hh [4H] (torch.nn.LSTMCell, gates i, f, g, o).
type LSTMCell struct {
	WeightIH, WeightHH, BiasIH, BiasHH *autodiff.Var
}

// NewLSTMCell returns an LSTM cell initialised as PyTorch does.
func NewLSTMCell(rng *rand.Rand, in, hidden int) *LSTMCell {
	w := newRNNWeights(rng, 4, in, hidden)
	return &LSTMCell{w[0], w[1], w[2], w[3]}
}

func (c *LSTMCell) vars() []*autodiff.Var {
	return []*autodiff.Var{c.WeightIH, c.WeightHH, c.BiasIH, c.BiasHH}
}

func (c *LSTMCell) Params() []Param { return rnnParams(c.vars(), "") }

// Step returns the next hidden and cell states [B, H] from the input x
// [B, I] and the states h, c [B, H]:
//
//	i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of x W_ih^T + b_ih + h W_hh^T + b_hh
//	c' = f c + i g    h' = o tanh(c')
func (c *LSTMCell) Step(w []*autodiff.Var, x, h, cs *autodiff.Var) (h2, c2 *autodiff.Var) {
	checkCell("LSTMCell", w, 4, x, h)
	if !tensor.SameShape(cs.Shape(), h.Shape()) {
		panic(fmt.Sprintf("nn: LSTMCell: cell state %v for hidden state %v", cs.Shape(), h.Shape()))
	}
	return lstmStep(w, autodiff.Linear(x, w[0], w[2]), h, cs)
}

func lstmStep(w []*autodiff.Var, gi, h, cs *autodiff.Var) (h2, c2 *autodiff.Var) {
	n := h.Shape()[1]
	gates := autodiff.Add(gi, autodiff.Linear(h, w[1], w[3]))
	part := func(k int) *autodiff.Var { return autodiff.Slice(gates, 1, k*n, (k+1)*n) }
	i, f := autodiff.Sigmoid(part(0)), autodiff.Sigmoid(part(1))
	g, o := autodiff.Tanh(part(2)), autodiff.Sigmoid(part(3))
	c2 = autodiff.Add(autodiff.Mul(f, cs), autodiff.Mul(i, g))
	return autodiff.Mul(o, autodiff.Tanh(c2)), c2
}

// Apply runs the cell on x [B, T, I] from zero states and returns the
// outputs [B, T, H] (the Module form; see RunLSTM).
func (c *LSTMCell) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	out, _, _ := RunLSTM(w, x, nil, nil, nil)
	return out
}

// ---- sequence runners ----

// seqRun prepares a run over x [B, T, I] with weights w (validated, as
// the lengths): the input projections of all steps in one product,
// time-major [T, B, G*H].
type seqRun struct {
	b, t, hid int
	gi        *autodiff.Var // [T, B, G*H]
	dt        tensor.DType
}

func newSeqRun(op string, w []*autodiff.Var, gates int, x *autodiff.Var, lengths []int) *seqRun {
	checkWeights(op, w, 4)
	s := x.Shape()
	hid := w[1].Shape()[1]
	if len(s) != 3 || s[2] != w[0].Shape()[1] || w[0].Shape()[0] != gates*hid {
		panic(fmt.Sprintf("nn: %s: input %v for weight_ih %v, want [B,T,%d]", op, s, w[0].Shape(), w[0].Shape()[1]))
	}
	if lengths != nil {
		if len(lengths) != s[0] {
			panic(fmt.Sprintf("nn: %s: %d lengths for batch %d", op, len(lengths), s[0]))
		}
		for i, n := range lengths {
			if n < 0 || n > s[1] {
				panic(fmt.Sprintf("nn: %s: length %d of sequence %d not in [0,%d]", op, n, i, s[1]))
			}
		}
	}
	xt := autodiff.Permute(x, 1, 0, 2) // [T, B, I]
	return &seqRun{b: s[0], t: s[1], hid: hid, gi: autodiff.Linear(xt, w[0], w[2]), dt: x.DType()}
}

func initialState(op string, h0 *autodiff.Var, b, hid int, dt tensor.DType) *autodiff.Var {
	if h0 == nil {
		return autodiff.Const(tensor.New(dt, b, hid))
	}
	if !tensor.SameShape(h0.Shape(), []int{b, hid}) {
		panic(fmt.Sprintf("nn: %s: initial state %v, want [%d,%d]", op, h0.Shape(), b, hid))
	}
	return h0
}

// RunGRU runs a GRU cell with weights w (weight_ih, weight_hh, bias_ih,
// bias_hh) over x [B, T, I] from the state h0 [B, H] (nil: zeros) and
// returns the outputs [B, T, H] and the final states [B, H]. With lengths
// (one per sequence, in [0, T]) sequence b runs for lengths[b] steps: its
// state is frozen after that (the final state is the one at its last
// real step) and its outputs there are zero, so padding never influences
// a result. The input projections of all steps are one matrix product.
func RunGRU(w []*autodiff.Var, x *autodiff.Var, lengths []int, h0 *autodiff.Var) (out, hT *autodiff.Var) {
	r := newSeqRun("GRU", w, 3, x, lengths)
	h := initialState("GRU", h0, r.b, r.hid, r.dt)
	// the recurrence as one operation (one product per step forward and
	// backward), states time-major [T, B, H]
	states := autodiff.GRUSequence(r.gi, w[1], w[3], h, lengths)
	return autodiff.Permute(states, 1, 0, 2), finalState(states, h, lengths)
}

// finalState picks each sequence's state after its last real step from
// the states [T, B, H] (zero past a length), or h0 for a sequence of
// length 0.
func finalState(states, h0 *autodiff.Var, lengths []int) *autodiff.Var {
	s := states.Shape()
	t, b, hid := s[0], s[1], s[2]
	if t == 0 {
		return h0
	}
	if lengths == nil {
		return autodiff.Reshape(autodiff.Slice(states, 0, t-1, t), b, hid)
	}
	rows := make([]int, b)
	var keep, empty *tensor.Tensor
	for i, n := range lengths {
		rows[i] = (max(n, 1)-1)*b + i
		if n == 0 {
			if keep == nil {
				keep, empty = tensor.Ones(h0.DType(), b, 1), tensor.New(h0.DType(), b, 1)
			}
			keep.SetFlat(i, 0)
			empty.SetFlat(i, 1)
		}
	}
	last := autodiff.IndexSelect(autodiff.Reshape(states, t*b, hid), 0, rows)
	if keep == nil {
		return last
	}
	return autodiff.Add(autodiff.Mul(last, autodiff.Const(keep)), autodiff.Mul(h0, autodiff.Const(empty)))
}

// RunLSTM is RunGRU for an LSTM cell: states h0, c0 [B, H] (nil: zeros),
// returning the outputs [B, T, H] and the final hidden and cell states.
func RunLSTM(w []*autodiff.Var, x *autodiff.Var, lengths []int, h0, c0 *autodiff.Var) (out, hT, cT *autodiff.Var) {
	r := newSeqRun("LSTM", w, 4, x, lengths)
	h := initialState("LSTM", h0, r.b, r.hid, r.dt)
	c := initialState("LSTM", c0, r.b, r.hid, r.dt)
	// the recurrence as one operation: hidden and cell states [2, T, B, H]
	st := autodiff.LSTMSequence(r.gi, w[1], w[3], h, c, lengths)
	hs := autodiff.Reshape(autodiff.Slice(st, 0, 0, 1), r.t, r.b, r.hid)
	cs := autodiff.Reshape(autodiff.Slice(st, 0, 1, 2), r.t, r.b, r.hid)
	return autodiff.Permute(hs, 1, 0, 2), finalState(hs, h, lengths), finalState(cs, c, lengths)
}

// GRU is a stack of GRU layers over sequences [B, T, I] (batch first),
// with torch.nn.GRU's parameter names: weight_ih_l{k}, weight_hh_l{k},
// bias_ih_l{k}, bias_hh_l{k} for layer k.
type GRU struct {
	Layers []*GRUCell
}

// NewGRU returns a GRU of the given depth, initialised as PyTorch does.
func NewGRU(rng *rand.Rand, in, hidden, layers int) *GRU {
	g := &GRU{}
	for k := 0; k < layers; k++ {
		g.Layers = append(g.Layers, NewGRUCell(rng, in, hidden))
		in = hidden
	}
	return g
}

func (g *GRU) Params() []Param {
	var ps []Param
	for k, c := range g.Layers {
		ps = append(ps, rnnParams(c.vars(), "_l"+strconv.Itoa(k))...)
	}
	return ps
}

// Run runs every layer in turn over x [B, T, I] with per-sequence lengths
// (nil: all T) from the initial states h0 [L, B, H] (nil: zeros) and
// returns the last layer's outputs [B, T, H] and the final states
// [L, B, H] (torch.nn.GRU with batch_first and packed sequences).
func (g *GRU) Run(w []*autodiff.Var, x *autodiff.Var, lengths []int, h0 *autodiff.Var) (out, hT *autodiff.Var) {
	checkWeights("GRU", w, 4*len(g.Layers))
	finals := make([]*autodiff.Var, len(g.Layers))
	for k := range g.Layers {
		var hk *autodiff.Var
		if h0 != nil {
			hk = layerState("GRU", h0, k, len(g.Layers))
		}
		x, finals[k] = RunGRU(w[4*k:4*k+4], x, lengths, hk)
	}
	return x, autodiff.Stack(0, finals...)
}

func (g *GRU) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	out, _ := g.Run(w, x, nil, nil)
	return out
}

// LSTM is a stack of LSTM layers over sequences [B, T, I] (batch first),
// with torch.nn.LSTM's parameter names (as GRU's).
type LSTM struct {
	Layers []*LSTMCell
}

// NewLSTM returns an LSTM of the given depth, initialised as PyTorch does.
func NewLSTM(rng *rand.Rand, in, hidden, layers int) *LSTM {
	l := &LSTM{}
	for k := 0; k < layers; k++ {
		l.Layers = append(l.Layers, NewLSTMCell(rng, in, hidden))
		in = hidden
	}
	return l
}

func (l *LSTM) Params() []Param {
	var ps []Param
	for k, c := range l.Layers {
		ps = append(ps, rnnParams(c.vars(), "_l"+strconv.Itoa(k))...)
	}
	return ps
}

// Run is GRU.Run for an LSTM: initial states h0, c0 [L, B, H] (nil:
// zeros), returning the outputs [B, T, H] and the final states [L, B, H].
func (l *LSTM) Run(w []*autodiff.Var, x *autodiff.Var, lengths []int, h0, c0 *autodiff.Var) (out, hT, cT *autodiff.Var) {
	checkWeights("LSTM", w, 4*len(l.Layers))
	hs := make([]*autodiff.Var, len(l.Layers))
	cs := make([]*autodiff.Var, len(l.Layers))
	for k := range l.Layers {
		var hk, ck *autodiff.Var
		if h0 != nil {
			hk = layerState("LSTM", h0, k, len(l.Layers))
		}
		if c0 != nil {
			ck = layerState("LSTM", c0, k, len(l.Layers))
		}
		x, hs[k], cs[k] = RunLSTM(w[4*k:4*k+4], x, lengths, hk, ck)
	}
	return x, autodiff.Stack(0, hs...), autodiff.Stack(0, cs...)
}

func (l *LSTM) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	out, _, _ := l.Run(w, x, nil, nil, nil)
	return out
}

// layerState returns layer k's state [B, H] of s [L, B, H].
func layerState(op string, s *autodiff.Var, k, layers int) *autodiff.Var {
	sh := s.Shape()
	if len(sh) != 3 || sh[0] != layers {
		panic(fmt.Sprintf("nn: %s: initial state %v, want [%d,B,H]", op, sh, layers))
	}
	return autodiff.Reshape(autodiff.Slice(s, 0, k, k+1), sh[1], sh[2])
}
