package autodiff

import "github.com/metalearn/metalearn/tensor"

// LayerNorm normalises x [..., D] over its last axis with the biased
// variance, (x - mean) / sqrt(var + eps) * gamma + beta (gamma, beta [D];
// either may be nil), as torch.nn.LayerNorm, in one fused operation: one
// kernel forward (keeping each row's mean and 1/std) and one backward.
// When a graph of the gradient is being built, the backward is that of
// LayerNormComposite, recomputed and differentiated locally.
func LayerNorm(x, gamma, beta *Var, eps float64) *Var {
	y, mean, rstd := tensor.LayerNorm(x.Value, valueOrNil(gamma), valueOrNil(beta), eps)
	inputs, gi, bi := bnInputs(x, gamma, beta)
	return record("LayerNorm", y, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		gam, bet := optInput(in, gi), optInput(in, bi)
		if graphBuilt(g, in) {
			return localGrad(LayerNormComposite(in[0], gam, bet, eps), g, in, needs)
		}
		dx, dgamma, dbeta := tensor.LayerNormBackward(g.Value, in[0].Value, valueOrNil(gam), valueOrNil(bet), mean, rstd)
		r := make([]*Var, len(in))
		if needs[0] {
			r[0] = Const(dx)
		}
		if gi >= 0 && needs[gi] {
			r[gi] = Const(dgamma)
		}
		if bi >= 0 && needs[bi] {
			r[bi] = Const(dbeta)
		}
		return r
	}, inputs...)
}

// LayerNormComposite is LayerNorm from separate differentiable operations.
func LayerNormComposite(x, gamma, beta *Var, eps float64) *Var {
	mean := Mean(x, true, -1)
	variance := Variance(x, false, true, -1)
	y := Div(Sub(x, mean), Sqrt(AddScalar(variance, eps)))
	if gamma != nil {
		y = Mul(y, gamma)
	}
	if beta != nil {
		y = Add(y, beta)
	}
	return y
}
