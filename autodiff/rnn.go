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
