package autodiff

import "github.com/metalearn/metalearn/tensor"

// GRUCell is the gate arithmetic of a GRU cell as one fused operation:
// the next state h' [B, H] from the input projection gi = x W_ih^T + b_ih,
// the hidden projection gh = h W_hh^T + b_hh (both [B, 3H], gates r, z,
// n as in PyTorch) and the state h:
//
//	r = sigmoid(gi_r + gh_r)   z = sigmoid(gi_z + gh_z)
//	n = tanh(gi_n + r gh_n)    h' = (1 - z) n + z h
//
// One kernel computes h' and one the three gradients (tensor.GRUCell);
// when a graph of the gradient is being built, the backward is that of
// GRUCellComposite, recomputed and differentiated locally.
func GRUCell(gi, gh, h *Var) *Var {
	return record("GRUCell", tensor.GRUCell(gi.Value, gh.Value, h.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		if graphBuilt(g, in) {
			return localGrad(GRUCellComposite(in[0], in[1], in[2]), g, in, needs)
		}
		dgi, dgh, dh := tensor.GRUCellBackward(g.Value, in[0].Value, in[1].Value, in[2].Value)
		r := make([]*Var, 3)
		for j, t := range []*tensor.Tensor{dgi, dgh, dh} {
			if needs[j] {
				r[j] = Const(t)
			}
		}
		return r
	}, gi, gh, h)
}

// GRUCellComposite is GRUCell from separate differentiable operations.
func GRUCellComposite(gi, gh, h *Var) *Var {
	n := h.Shape()[1]
	part := func(x *Var, k int) *Var { return Slice(x, 1, k*n, (k+1)*n) }
	r := Sigmoid(Add(part(gi, 0), part(gh, 0)))
	z := Sigmoid(Add(part(gi, 1), part(gh, 1)))
	c := Tanh(Add(part(gi, 2), Mul(r, part(gh, 2))))
	return Add(c, Mul(z, Sub(h, c)))
}

// GRUSequence runs a GRU's recurrence over T steps as one operation: from
// the input projections gi [T, B, 3H] (x W_ih^T + b_ih for every step,
// biases included), the hidden weights whh [3H, H] and bias bhh [3H] and
// the initial state h0 [B, H], it returns the states [T, B, H] after each
// step. With lengths (one per batch entry, in [0, T]; nil: all T) entry b
// runs for lengths[b] steps: its state is frozen after that and its rows
// of the result are zero. The forward pass is one matrix product per
// step plus the fused gates; the backward pass (backpropagation through
// time) one product per step for the state's gradient and one over all
// steps for whh's. When a graph of the gradient is being built, the
// backward is that of GRUSequenceComposite, recomputed and differentiated
// locally.
func GRUSequence(gi, whh, bhh, h0 *Var, lengths []int) *Var {
	value, gh := tensor.GRUSequence(gi.Value, whh.Value, bhh.Value, h0.Value, lengths)
	lengths = append([]int(nil), lengths...)
	if len(lengths) == 0 {
		lengths = nil
	}
	return record("GRUSequence", value, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		if graphBuilt(g, in) {
			return localGrad(GRUSequenceComposite(in[0], in[1], in[2], in[3], lengths), g, in, needs)
		}
		dgi, dwhh, dbhh, dh0 := tensor.GRUSequenceBackward(g.Value, in[0].Value, in[1].Value, in[2].Value, in[3].Value, out.Value, gh, lengths)
		r := make([]*Var, 4)
		for j, t := range []*tensor.Tensor{dgi, dwhh, dbhh, dh0} {
			if needs[j] {
				r[j] = Const(tensor.Reshape(t, in[j].Shape()...))
			}
		}
		return r
	}, gi, whh, bhh, h0)
}

// GRUSequenceComposite is GRUSequence step by step from differentiable
// operations (GRUCellComposite, with 0/1 masks blending the new state
// with the frozen one).
func GRUSequenceComposite(gi, whh, bhh, h0 *Var, lengths []int) *Var {
	s := gi.Shape()
	t, b, hid := s[0], s[1], h0.Shape()[1]
	dt := h0.DType()
	h := h0
	outs := make([]*Var, t)
	for step := 0; step < t; step++ {
		gis := Reshape(Slice(gi, 0, step, step+1), b, 3*hid)
		next := GRUCellComposite(gis, Linear(h, whh, bhh), h)
		if lengths == nil {
			h, outs[step] = next, next
		} else {
			m, inv := tensor.New(dt, b, 1), tensor.New(dt, b, 1)
			for i, n := range lengths {
				if step < n {
					m.SetFlat(i, 1)
				} else {
					inv.SetFlat(i, 1)
				}
			}
			outs[step] = Mul(next, Const(m))
			h = Add(outs[step], Mul(h, Const(inv)))
		}
	}
	if t == 0 {
		return Const(tensor.New(dt, 0, b, hid))
	}
	return Stack(0, outs...)
}

// LSTMSequence runs an LSTM's recurrence over T steps as one operation,
// like GRUSequence: from the input projections gi [T, B, 4H] (gates i, f,
// g, o; biases included), the hidden weights whh [4H, H], bias bhh [4H]
// and the initial states h0, c0 [B, H], it returns the hidden and cell
// states after each step as [2, T, B, H] (zero past each sequence's
// length; lengths nil: all T). When a graph of the gradient is being
// built, the backward is that of LSTMSequenceComposite.
func LSTMSequence(gi, whh, bhh, h0, c0 *Var, lengths []int) *Var {
	value, act := tensor.LSTMSequence(gi.Value, whh.Value, bhh.Value, h0.Value, c0.Value, lengths)
	lengths = append([]int(nil), lengths...)
	if len(lengths) == 0 {
		lengths = nil
	}
	return record("LSTMSequence", value, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		if graphBuilt(g, in) {
			return localGrad(LSTMSequenceComposite(in[0], in[1], in[2], in[3], in[4], lengths), g, in, needs)
		}
		dgi, dwhh, dbhh, dh0, dc0 := tensor.LSTMSequenceBackward(g.Value, in[0].Value, in[1].Value, in[2].Value, in[3].Value, in[4].Value, out.Value, act, lengths)
		r := make([]*Var, 5)
		for j, t := range []*tensor.Tensor{dgi, dwhh, dbhh, dh0, dc0} {
			if needs[j] {
				r[j] = Const(tensor.Reshape(t, in[j].Shape()...))
			}
		}
		return r
	}, gi, whh, bhh, h0, c0)
}

// LSTMSequenceComposite is LSTMSequence step by step from differentiable
// operations.
func LSTMSequenceComposite(gi, whh, bhh, h0, c0 *Var, lengths []int) *Var {
	s := gi.Shape()
	t, b, hid := s[0], s[1], h0.Shape()[1]
	dt := h0.DType()
	h, c := h0, c0
	hs, cs := make([]*Var, t), make([]*Var, t)
	for step := 0; step < t; step++ {
		a := Add(Reshape(Slice(gi, 0, step, step+1), b, 4*hid), Linear(h, whh, bhh))
		part := func(k int) *Var { return Slice(a, 1, k*hid, (k+1)*hid) }
		i, f, g, o := Sigmoid(part(0)), Sigmoid(part(1)), Tanh(part(2)), Sigmoid(part(3))
		cn := Add(Mul(f, c), Mul(i, g))
		hn := Mul(o, Tanh(cn))
		if lengths == nil {
			h, c = hn, cn
			hs[step], cs[step] = hn, cn
			continue
		}
		m, inv := tensor.New(dt, b, 1), tensor.New(dt, b, 1)
		for k, n := range lengths {
			if step < n {
				m.SetFlat(k, 1)
			} else {
				inv.SetFlat(k, 1)
			}
		}
		hs[step], cs[step] = Mul(hn, Const(m)), Mul(cn, Const(m))
		h, c = Add(hs[step], Mul(h, Const(inv))), Add(cs[step], Mul(c, Const(inv)))
	}
	if t == 0 {
		return Const(tensor.New(dt, 2, 0, b, hid))
	}
	return Stack(0, Stack(0, hs...), Stack(0, cs...))
}
