package mtl

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// Model is a multi-task network: one output per task from a shared input.
type Model interface {
	// Forward returns task outputs, each [N, outputs of that task].
	Forward(x *autodiff.Var) []*autodiff.Var
	// Shared lists the parameters shared by all tasks.
	Shared() []nn.Param
	// Specific lists task t's own parameters.
	Specific(t int) []nn.Param
	NumTasks() int
}

// AllParams lists shared then task-specific parameters.
func AllParams(m Model) []nn.Param {
	ps := nn.Prefixed("shared", m.Shared())
	for t := 0; t < m.NumTasks(); t++ {
		ps = append(ps, nn.Prefixed("task"+strconv.Itoa(t), m.Specific(t))...)
	}
	return ps
}

func vars(ps []nn.Param) []*autodiff.Var {
	vs := make([]*autodiff.Var, len(ps))
	for i, p := range ps {
		vs[i] = p.V
	}
	return vs
}

// HardSharing is hard parameter sharing (Caruana 1997): a shared encoder
// and one head per task.
type HardSharing struct {
	Encoder nn.Module
	Heads   []nn.Module
}

func (h *HardSharing) Forward(x *autodiff.Var) []*autodiff.Var {
	z := nn.Forward(h.Encoder, x)
	outs := make([]*autodiff.Var, len(h.Heads))
	for t, hd := range h.Heads {
		outs[t] = nn.Forward(hd, z)
	}
	return outs
}

// Represent returns the shared representation z = Encoder(x) and the
// heads as a function of z (Representer).
func (h *HardSharing) Represent(x *autodiff.Var) (*autodiff.Var, func(*autodiff.Var) []*autodiff.Var) {
	z := nn.Forward(h.Encoder, x)
	return z, func(z *autodiff.Var) []*autodiff.Var {
		outs := make([]*autodiff.Var, len(h.Heads))
		for t, hd := range h.Heads {
			outs[t] = nn.Forward(hd, z)
		}
		return outs
	}
}

// ForwardTask computes task t's output only.
func (h *HardSharing) ForwardTask(x *autodiff.Var, t int) *autodiff.Var {
	return nn.Forward(h.Heads[t], nn.Forward(h.Encoder, x))
}

func (h *HardSharing) Shared() []nn.Param        { return h.Encoder.Params() }
func (h *HardSharing) Specific(t int) []nn.Param { return h.Heads[t].Params() }
func (h *HardSharing) NumTasks() int             { return len(h.Heads) }

// Additive is the "shared plus task-specific parameters" model of
// regularised multi-task learning (Evgeniou & Pontil 2004, eq. 2:
// w_t = w_0 + v_t): the prediction for task t is Shared(x) + Own[t](x);
// penalising the Own parameters more than the shared ones (weight decay)
// pulls tasks towards a common model.
type Additive struct {
	Common nn.Module
	Own    []nn.Module
}

func (a *Additive) Forward(x *autodiff.Var) []*autodiff.Var {
	c := nn.Forward(a.Common, x)
	outs := make([]*autodiff.Var, len(a.Own))
	for t, o := range a.Own {
		outs[t] = autodiff.Add(c, nn.Forward(o, x))
	}
	return outs
}

// ForwardTask computes task t's output only.
func (a *Additive) ForwardTask(x *autodiff.Var, t int) *autodiff.Var {
	return autodiff.Add(nn.Forward(a.Common, x), nn.Forward(a.Own[t], x))
}

func (a *Additive) Shared() []nn.Param        { return a.Common.Params() }
func (a *Additive) Specific(t int) []nn.Param { return a.Own[t].Params() }
func (a *Additive) NumTasks() int             { return len(a.Own) }

// MMoE is the multi-gate mixture of experts (Ma et al. 2018, eqs. 5-6):
// y_t = tower_t( sum_e softmax(W_t x)_e * expert_e(x) ).
type MMoE struct {
	Experts []nn.Module
	Gates   []*nn.Linear // per task, in -> len(Experts)
	Towers  []nn.Module
}

// NewMMoE builds experts in -> hidden (ReLU MLPs), gates and towers hidden -> out.
func NewMMoE(rng *rand.Rand, in, hidden, experts int, outs []int) *MMoE {
	m := &MMoE{}
	for e := 0; e < experts; e++ {
		m.Experts = append(m.Experts, nn.NewSequential(nn.NewLinear(rng, in, hidden), nn.ReLU()))
	}
	for _, o := range outs {
		m.Gates = append(m.Gates, nn.NewLinear(rng, in, experts))
		m.Towers = append(m.Towers, nn.NewLinear(rng, hidden, o))
	}
	return m
}

func mixExperts(gate *autodiff.Var, experts []*autodiff.Var) *autodiff.Var {
	// gate [N,E] softmax; experts E x [N,H] -> stack [N,E,H]
	g := autodiff.Softmax(gate, 1)
	st := autodiff.Stack(1, experts...)
	n, e := g.Shape()[0], g.Shape()[1]
	return autodiff.Sum(autodiff.Mul(st, autodiff.Reshape(g, n, e, 1)), false, 1)
}

func (m *MMoE) Forward(x *autodiff.Var) []*autodiff.Var {
	ex := make([]*autodiff.Var, len(m.Experts))
	for i, e := range m.Experts {
		ex[i] = nn.Forward(e, x)
	}
	outs := make([]*autodiff.Var, len(m.Towers))
	for t := range m.Towers {
		outs[t] = nn.Forward(m.Towers[t], mixExperts(nn.Forward(m.Gates[t], x), ex))
	}
	return outs
}

func (m *MMoE) Shared() []nn.Param { return expertParams(m.Experts) }

// expertParams names the parameters of a list of experts "expert<i>.*".
func expertParams(experts []nn.Module) []nn.Param {
	var ps []nn.Param
	for i, e := range experts {
		ps = append(ps, nn.Prefixed("expert"+strconv.Itoa(i), e.Params())...)
	}
	return ps
}

func (m *MMoE) Specific(t int) []nn.Param {
	return append(nn.Prefixed("gate", m.Gates[t].Params()), nn.Prefixed("tower", m.Towers[t].Params())...)
}
func (m *MMoE) NumTasks() int { return len(m.Towers) }

// CGC is the customized gate control layer of PLE (Tang et al. 2020,
// section 4.2, eqs. 1-3): shared experts plus experts owned by each task;
// task t's gate mixes the shared experts and its own.
type CGC struct {
	SharedExperts []nn.Module
	TaskExperts   [][]nn.Module
	Gates         []*nn.Linear // in -> shared + own experts
	Towers        []nn.Module
}

// NewCGC builds a CGC layer with ReLU MLP experts in -> hidden.
func NewCGC(rng *rand.Rand, in, hidden, shared, perTask int, outs []int) *CGC {
	c := &CGC{}
	expert := func() nn.Module { return nn.NewSequential(nn.NewLinear(rng, in, hidden), nn.ReLU()) }
	for e := 0; e < shared; e++ {
		c.SharedExperts = append(c.SharedExperts, expert())
	}
	for _, o := range outs {
		var own []nn.Module
		for e := 0; e < perTask; e++ {
			own = append(own, expert())
		}
		c.TaskExperts = append(c.TaskExperts, own)
		c.Gates = append(c.Gates, nn.NewLinear(rng, in, shared+perTask))
		c.Towers = append(c.Towers, nn.NewLinear(rng, hidden, o))
	}
	return c
}

func (c *CGC) Forward(x *autodiff.Var) []*autodiff.Var {
	shared := make([]*autodiff.Var, len(c.SharedExperts))
	for i, e := range c.SharedExperts {
		shared[i] = nn.Forward(e, x)
	}
	outs := make([]*autodiff.Var, len(c.Towers))
	for t := range c.Towers {
		ex := append([]*autodiff.Var(nil), shared...)
		for _, e := range c.TaskExperts[t] {
			ex = append(ex, nn.Forward(e, x))
		}
		outs[t] = nn.Forward(c.Towers[t], mixExperts(nn.Forward(c.Gates[t], x), ex))
	}
	return outs
}

func (c *CGC) Shared() []nn.Param { return expertParams(c.SharedExperts) }

func (c *CGC) Specific(t int) []nn.Param {
	ps := expertParams(c.TaskExperts[t])
	ps = append(ps, nn.Prefixed("gate", c.Gates[t].Params())...)
	return append(ps, nn.Prefixed("tower", c.Towers[t].Params())...)
}
func (c *CGC) NumTasks() int { return len(c.Towers) }

// CrossStitch is the cross-stitch network (Misra et al. 2016, eq. 1): one
// column of layers per task; after every layer l the task activations are
// mixed, x~_t = sum_s alpha^l_{t,s} x_s, with learned alpha initialised to
// a convex mix favouring the task's own column (0.9 self).
type CrossStitch struct {
	Columns [][]nn.Module // [task][layer]
	Alpha   []*autodiff.Var
}

// NewCrossStitch builds ReLU MLP columns with the given layer sizes
// (sizes[0] = input), a final Linear to outs[t] per task.
func NewCrossStitch(rng *rand.Rand, sizes []int, outs []int) *CrossStitch {
	T := len(outs)
	c := &CrossStitch{Columns: make([][]nn.Module, T)}
	for t := 0; t < T; t++ {
		for l := 0; l+1 < len(sizes); l++ {
			c.Columns[t] = append(c.Columns[t], nn.NewSequential(nn.NewLinear(rng, sizes[l], sizes[l+1]), nn.ReLU()))
		}
		c.Columns[t] = append(c.Columns[t], nn.NewLinear(rng, sizes[len(sizes)-1], outs[t]))
	}
	for l := 0; l+1 < len(sizes); l++ {
		a := tensor.Full(tensor.Float32, 0.1/float64(max(T-1, 1)), T, T)
		for t := 0; t < T; t++ {
			a.Set(0.9, t, t)
		}
		if T == 1 {
			a.Set(1, 0, 0)
		}
		c.Alpha = append(c.Alpha, autodiff.Param(a))
	}
	return c
}

func (c *CrossStitch) Forward(x *autodiff.Var) []*autodiff.Var {
	T := len(c.Columns)
	h := make([]*autodiff.Var, T)
	for t := range h {
		h[t] = x
	}
	for l, alpha := range c.Alpha {
		for t := range h {
			h[t] = nn.Forward(c.Columns[t][l], h[t])
		}
		// mix: stack [T, N, H] -> alpha [T,T] x reshape
		st := autodiff.Stack(0, h...)
		s := st.Shape()
		mixed := autodiff.Reshape(autodiff.MatMul(alpha, autodiff.Reshape(st, T, -1)), s...)
		for t := range h {
			h[t] = autodiff.Reshape(autodiff.Slice(mixed, 0, t, t+1), s[1:]...)
		}
	}
	outs := make([]*autodiff.Var, T)
	for t := range h {
		last := c.Columns[t][len(c.Columns[t])-1]
		outs[t] = nn.Forward(last, h[t])
	}
	return outs
}

func (c *CrossStitch) Shared() []nn.Param {
	ps := make([]nn.Param, len(c.Alpha))
	for l, a := range c.Alpha {
		ps[l] = nn.Param{Name: fmt.Sprintf("alpha%d", l), V: a}
	}
	return ps
}

func (c *CrossStitch) Specific(t int) []nn.Param {
	var ps []nn.Param
	for l, m := range c.Columns[t] {
		ps = append(ps, nn.Prefixed("layer"+strconv.Itoa(l), m.Params())...)
	}
	return ps
}
func (c *CrossStitch) NumTasks() int { return len(c.Columns) }
