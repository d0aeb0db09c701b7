package autodiff

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/metalearn/metalearn/tensor"
)

// CheckOptions sets the finite-difference step and tolerances of GradCheck
// and GradGradCheck. An analytic value a passes against the numeric value n
// when |a-n| <= Atol + Rtol*|n|. Zero fields take the defaults (those of
// torch.autograd.gradcheck): Eps 1e-6, Atol 1e-5, Rtol 1e-3.
type CheckOptions struct {
	Eps, Atol, Rtol float64
	Seed            uint64
}

func (o CheckOptions) withDefaults() CheckOptions {
	if o.Eps == 0 {
		o.Eps = 1e-6
	}
	if o.Atol == 0 {
		o.Atol = 1e-5
	}
	if o.Rtol == 0 {
		o.Rtol = 1e-3
	}
	return o
}

// GradCheck compares the gradient of f at inputs (float64 tensors) with
// central finite differences. f may return any shape: it is projected on a
// fixed random tensor r, so the check covers the full vector-Jacobian
// product r^T J. It returns an error describing the first mismatch.
func GradCheck(f func(xs []*Var) *Var, inputs []*tensor.Tensor, opt CheckOptions) error {
	opt = opt.withDefaults()
	if err := checkF64(inputs); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b9))
	var r *tensor.Tensor
	scalar := func(xs []*Var) *Var {
		y := f(xs)
		if r == nil {
			r = tensor.RandN(rng, tensor.Float64, 1, y.Shape()...)
		}
		return Sum(Mul(y, Const(r)), false)
	}
	xs := params(inputs)
	s := scalar(xs)
	analytic := Grad([]*Var{s}, xs, false)
	eval := func(ts []*tensor.Tensor) float64 { return scalar(consts(ts)).Item() }
	return compareNumeric("gradient", analytic, inputs, eval, opt)
}

// GradGradCheck checks second-order derivatives: with s(x) = <f(x), r> and
// h(x) = sum_i <ds/dx_i, v_i> for fixed random r and v, it compares dh/dx
// computed by differentiating the createGraph gradient against central
// differences of h evaluated with first-order gradients.
func GradGradCheck(f func(xs []*Var) *Var, inputs []*tensor.Tensor, opt CheckOptions) error {
	opt = opt.withDefaults()
	if err := checkF64(inputs); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x7f4a7c15))
	var r *tensor.Tensor
	vs := make([]*tensor.Tensor, len(inputs))
	for i, in := range inputs {
		vs[i] = tensor.RandN(rng, tensor.Float64, 1, in.Shape()...)
	}
	h := func(xs []*Var, create bool) *Var {
		y := f(xs)
		if r == nil {
			r = tensor.RandN(rng, tensor.Float64, 1, y.Shape()...)
		}
		s := Sum(Mul(y, Const(r)), false)
		gs := Grad([]*Var{s}, xs, create)
		total := Scalar(tensor.Float64, 0)
		for i, g := range gs {
			total = Add(total, Sum(Mul(g, Const(vs[i])), false))
		}
		return total
	}
	xs := params(inputs)
	hv := h(xs, true)
	analytic := Grad([]*Var{hv}, xs, false)
	eval := func(ts []*tensor.Tensor) float64 { return h(params(ts), false).Item() }
	return compareNumeric("second-order gradient", analytic, inputs, eval, opt)
}

func checkF64(inputs []*tensor.Tensor) error {
	for i, in := range inputs {
		if in.DType() != tensor.Float64 {
			return fmt.Errorf("gradcheck: input %d is %v; finite differences need float64", i, in.DType())
		}
	}
	return nil
}

func params(ts []*tensor.Tensor) []*Var {
	xs := make([]*Var, len(ts))
	for i, t := range ts {
		xs[i] = Param(t)
	}
	return xs
}

func consts(ts []*tensor.Tensor) []*Var {
	xs := make([]*Var, len(ts))
	for i, t := range ts {
		xs[i] = Const(t)
	}
	return xs
}

func compareNumeric(what string, analytic []*Var, inputs []*tensor.Tensor, eval func([]*tensor.Tensor) float64, opt CheckOptions) error {
	for i, in := range inputs {
		for j := 0; j < in.Len(); j++ {
			pert := make([]*tensor.Tensor, len(inputs))
			copy(pert, inputs)
			x := in.Clone()
			pert[i] = x
			orig := x.Flat(j)
			x.SetFlat(j, orig+opt.Eps)
			fp := eval(pert)
			x.SetFlat(j, orig-opt.Eps)
			fm := eval(pert)
			num := (fp - fm) / (2 * opt.Eps)
			a := analytic[i].Value.Flat(j)
			if math.IsNaN(a) || math.Abs(a-num) > opt.Atol+opt.Rtol*math.Abs(num) {
				return fmt.Errorf("%s mismatch for input %d (shape %v) element %d: analytic %.10g, numeric %.10g", what, i, in.Shape(), j, a, num)
			}
		}
	}
	return nil
}
