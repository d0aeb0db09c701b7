package autodiff

import (
	"math"

	"github.com/metalearn/metalearn/tensor"
)

// This file holds the elementwise, broadcasting and reduction operations.
// Each forward is followed by its backward rule, expressed with the same
// differentiable operations so that gradients of gradients work.

// ---- broadcasting helpers ----

// SumTo sums x down to shape (the adjoint of broadcasting). It returns x
// itself when the shapes already match.
func SumTo(x *Var, shape []int) *Var {
	if tensor.SameShape(x.Value.Shape(), shape) {
		return x
	}
	inShape := append([]int(nil), x.Value.Shape()...)
	return record("SumTo", tensor.SumTo(x.Value, shape), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{BroadcastTo(g, inShape)}
	}, x)
}

// BroadcastTo expands x to shape (NumPy rules).
func BroadcastTo(x *Var, shape []int) *Var {
	if tensor.SameShape(x.Value.Shape(), shape) {
		return x
	}
	inShape := append([]int(nil), x.Value.Shape()...)
	return record("BroadcastTo", tensor.BroadcastTo(x.Value, shape), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{SumTo(g, inShape)}
	}, x)
}

// ---- binary arithmetic ----

// Add returns a+b (broadcasting).
func Add(a, b *Var) *Var {
	return record("Add", tensor.Add(a.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{SumTo(g, in[0].Shape()), SumTo(g, in[1].Shape())}
	}, a, b)
}

// Sub returns a-b (broadcasting).
func Sub(a, b *Var) *Var {
	return record("Sub", tensor.Sub(a.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		if needs[0] {
			r[0] = SumTo(g, in[0].Shape())
		}
		if needs[1] {
			r[1] = SumTo(Neg(g), in[1].Shape())
		}
		return r
	}, a, b)
}

// Mul returns a*b (broadcasting).
func Mul(a, b *Var) *Var {
	return record("Mul", tensor.Mul(a.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		if needs[0] {
			r[0] = SumTo(Mul(g, in[1]), in[0].Shape())
		}
		if needs[1] {
			r[1] = SumTo(Mul(g, in[0]), in[1].Shape())
		}
		return r
	}, a, b)
}

// Div returns a/b (broadcasting).
func Div(a, b *Var) *Var {
	return record("Div", tensor.Div(a.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		gb := Div(g, in[1])
		if needs[0] {
			r[0] = SumTo(gb, in[0].Shape())
		}
		if needs[1] {
			// d(a/b)/db = -a/b^2 = -(a/b)/b
			r[1] = SumTo(Neg(Mul(gb, Div(in[0], in[1]))), in[1].Shape())
		}
		return r
	}, a, b)
}

// Pow returns a**b elementwise (broadcasting). The gradient with respect to
// b uses log(a) and is only computed when b requires it.
func Pow(a, b *Var) *Var {
	return record("Pow", tensor.Pow(a.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		if needs[0] {
			one := Scalar(in[1].DType(), 1)
			r[0] = SumTo(Mul(g, Mul(in[1], Pow(in[0], Sub(in[1], one)))), in[0].Shape())
		}
		if needs[1] {
			r[1] = SumTo(Mul(g, Mul(Pow(in[0], in[1]), Log(in[0]))), in[1].Shape())
		}
		return r
	}, a, b)
}

// Maximum returns the elementwise maximum (broadcasting); on ties the
// gradient goes to a.
func Maximum(a, b *Var) *Var {
	return record("Maximum", tensor.Maximum(a.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		mask := tensor.GreaterEqual(in[0].Value, in[1].Value)
		return selectGrad(g, mask, in, needs)
	}, a, b)
}

// Minimum returns the elementwise minimum (broadcasting); on ties the
// gradient goes to a.
func Minimum(a, b *Var) *Var {
	return record("Minimum", tensor.Minimum(a.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		mask := tensor.LessEqual(in[0].Value, in[1].Value)
		return selectGrad(g, mask, in, needs)
	}, a, b)
}

// selectGrad routes g to in[0] where mask is 1 and to in[1] elsewhere.
func selectGrad(g *Var, mask *tensor.Tensor, in []*Var, needs []bool) []*Var {
	r := make([]*Var, 2)
	m := Const(mask)
	if needs[0] {
		r[0] = SumTo(Mul(g, m), in[0].Shape())
	}
	if needs[1] {
		inv := Const(tensor.Sub(tensor.OnesLike(mask), mask))
		r[1] = SumTo(Mul(g, inv), in[1].Shape())
	}
	return r
}

// Where returns a where cond is non-zero and b elsewhere (broadcasting);
// cond is a constant mask.
func Where(cond *tensor.Tensor, a, b *Var) *Var {
	return record("Where", tensor.Where(cond, a.Value, b.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		zero := Const(tensor.ZerosLike(g.Value))
		r := make([]*Var, 2)
		if needs[0] {
			r[0] = SumTo(Where(cond, g, zero), in[0].Shape())
		}
		if needs[1] {
			r[1] = SumTo(Where(cond, zero, g), in[1].Shape())
		}
		return r
	}, a, b)
}

// ---- unary ----

// Neg returns -x.
func Neg(x *Var) *Var {
	return record("Neg", tensor.Neg(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Neg(g)}
	}, x)
}

// Scale returns s*x for a constant s.
func Scale(x *Var, s float64) *Var {
	return record("Scale", tensor.Scale(x.Value, s), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Scale(g, s)}
	}, x)
}

// AddScalar returns x+s for a constant s.
func AddScalar(x *Var, s float64) *Var {
	return record("AddScalar", tensor.AddScalar(x.Value, s), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{g}
	}, x)
}

// Exp returns e**x.
func Exp(x *Var) *Var {
	return record("Exp", tensor.Exp(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Mul(g, out)}
	}, x)
}

// Log returns the natural logarithm.
func Log(x *Var) *Var {
	return record("Log", tensor.Log(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Div(g, in[0])}
	}, x)
}

// Sqrt returns the square root.
func Sqrt(x *Var) *Var {
	return record("Sqrt", tensor.Sqrt(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Div(Scale(g, 0.5), out)}
	}, x)
}

// Square returns x*x.
func Square(x *Var) *Var {
	return record("Square", tensor.Square(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Mul(g, Scale(in[0], 2))}
	}, x)
}

// PowScalar returns x**p for a constant p.
func PowScalar(x *Var, p float64) *Var {
	if p == 2 {
		return Square(x)
	}
	return record("PowScalar", tensor.PowScalar(x.Value, p), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		if p == 1 {
			return []*Var{g}
		}
		return []*Var{Mul(g, Scale(PowScalar(in[0], p-1), p))}
	}, x)
}

// Abs returns |x|; its derivative at 0 is taken as 0.
func Abs(x *Var) *Var {
	return record("Abs", tensor.Abs(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Mul(g, Const(tensor.Sign(in[0].Value)))}
	}, x)
}

// Tanh returns the hyperbolic tangent.
func Tanh(x *Var) *Var {
	return record("Tanh", tensor.Tanh(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{tanhGrad(g, out)}
	}, x)
}

// tanhGrad returns g*(1-y^2), the gradient through a tanh with output y, in
// one fused pass.
func tanhGrad(g, y *Var) *Var {
	return record("TanhBackward", tensor.TanhBackward(g.Value, y.Value), func(gg *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		if needs[0] { // linear in g
			r[0] = tanhGrad(gg, in[1])
		}
		if needs[1] { // d/dy = -2 g y
			r[1] = Mul(Scale(gg, -2), Mul(in[0], in[1]))
		}
		return r
	}, g, y)
}

// Sigmoid returns 1/(1+e**-x), computed without overflow.
func Sigmoid(x *Var) *Var {
	return record("Sigmoid", tensor.Sigmoid(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{sigmoidGrad(g, out)}
	}, x)
}

// sigmoidGrad returns g*y*(1-y), the gradient through a sigmoid with output
// y, in one fused pass.
func sigmoidGrad(g, y *Var) *Var {
	return record("SigmoidBackward", tensor.SigmoidBackward(g.Value, y.Value), func(gg *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		if needs[0] { // linear in g
			r[0] = sigmoidGrad(gg, in[1])
		}
		if needs[1] { // d/dy = g (1 - 2y)
			one := Scalar(gg.DType(), 1)
			r[1] = Mul(Mul(gg, in[0]), Sub(one, Scale(in[1], 2)))
		}
		return r
	}, g, y)
}

// Softplus returns log(1+e**x), computed stably.
func Softplus(x *Var) *Var {
	return record("Softplus", tensor.Softplus(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Mul(g, Sigmoid(in[0]))}
	}, x)
}

// Relu returns max(x, 0); its derivative at 0 is taken as 0.
func Relu(x *Var) *Var {
	return record("Relu", tensor.Relu(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{reluMask(g, out.Value)}
	}, x)
}

// reluMask passes g where y > 0 (y: a ReLU's output) in one fused pass; it
// is linear in g with a constant mask, so it is its own adjoint.
func reluMask(g *Var, y *tensor.Tensor) *Var {
	return record("ReluBackward", tensor.ReluBackward(g.Value, y), func(gg *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{reluMask(gg, y)}
	}, g)
}

// LeakyRelu returns x for x > 0 and slope*x elsewhere.
func LeakyRelu(x *Var, slope float64) *Var {
	return record("LeakyRelu", tensor.LeakyRelu(x.Value, slope), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		pos := tensor.Positive(in[0].Value)
		// mask = slope + (1-slope)*pos
		mask := tensor.AddScalar(tensor.Scale(pos, 1-slope), slope)
		return []*Var{Mul(g, Const(mask))}
	}, x)
}

// Erf returns the error function.
func Erf(x *Var) *Var {
	return record("Erf", tensor.Erf(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Mul(g, Scale(Exp(Neg(Square(in[0]))), 2/math.Sqrt(math.Pi)))}
	}, x)
}

// Sin returns the sine.
func Sin(x *Var) *Var {
	return record("Sin", tensor.Sin(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Mul(g, Cos(in[0]))}
	}, x)
}

// Cos returns the cosine.
func Cos(x *Var) *Var {
	return record("Cos", tensor.Cos(x.Value), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Neg(Mul(g, Sin(in[0])))}
	}, x)
}

// GELU is the Gaussian error linear unit x*Phi(x) with the exact erf form
// (PyTorch's default), one pass forward (which keeps Phi(x)) and one
// backward (geluGrad, whose own backward is written with differentiable
// operations).
func GELU(x *Var) *Var {
	y, cdf := tensor.GELU(x.Value)
	return record("GELU", y, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{geluGrad(g, in[0], cdf)}
	}, x)
}

// geluGrad returns g*(Phi(x) + x*phi(x)), the gradient through GELU at x,
// given cdf = Phi(x).
func geluGrad(g, x *Var, cdf *tensor.Tensor) *Var {
	return record("GELUBackward", tensor.GELUBackward(g.Value, x.Value, cdf), func(gg *Var, in []*Var, out *Var, needs []bool) []*Var {
		r := make([]*Var, 2)
		if needs[0] { // linear in g
			r[0] = geluGrad(gg, in[1], cdf)
		}
		if needs[1] { // d/dx (Phi + x phi) = phi (2 - x^2)
			x := in[1]
			phi := Scale(Exp(Scale(Square(x), -0.5)), 1/math.Sqrt(2*math.Pi))
			r[1] = Mul(Mul(gg, in[0]), Mul(phi, AddScalar(Neg(Square(x)), 2)))
		}
		return r
	}, g, x)
}

// GELUComposite is GELU from separate differentiable operations.
func GELUComposite(x *Var) *Var {
	phi := Scale(AddScalar(Erf(Scale(x, 1/math.Sqrt2)), 1), 0.5)
	return Mul(x, phi)
}

// ---- reductions ----

// Sum sums over axes (all when none), keeping reduced axes as size 1 when keepDims.
func Sum(x *Var, keepDims bool, axes ...int) *Var {
	inShape := append([]int(nil), x.Shape()...)
	keep := keptShape(inShape, axes)
	return record("Sum", tensor.Sum(x.Value, keepDims, axes...), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{BroadcastTo(Reshape(g, keep...), inShape)}
	}, x)
}

// keptShape is shape with the reduced axes set to 1.
func keptShape(shape []int, axes []int) []int {
	k := append([]int(nil), shape...)
	if len(axes) == 0 {
		for i := range k {
			k[i] = 1
		}
		return k
	}
	for _, a := range axes {
		if a < 0 {
			a += len(shape)
		}
		k[a] = 1
	}
	return k
}

func countOver(shape []int, axes []int) int {
	if len(axes) == 0 {
		return tensor.NumElems(shape)
	}
	n := 1
	for _, a := range axes {
		if a < 0 {
			a += len(shape)
		}
		n *= shape[a]
	}
	return n
}

// Mean averages over axes (all when none).
func Mean(x *Var, keepDims bool, axes ...int) *Var {
	return Scale(Sum(x, keepDims, axes...), 1/float64(countOver(x.Shape(), axes)))
}

// Variance returns the (biased unless unbiased) variance over axes.
func Variance(x *Var, unbiased, keepDims bool, axes ...int) *Var {
	n := float64(countOver(x.Shape(), axes))
	d := Sub(x, Mean(x, true, axes...))
	if unbiased {
		n--
	}
	return Scale(Sum(Square(d), keepDims, axes...), 1/n)
}

// Max returns the maximum over axes; the gradient flows to the first
// maximal element of each reduced group.
func Max(x *Var, keepDims bool, axes ...int) *Var {
	v, idx := tensor.Max(x.Value, keepDims, axes...)
	return TakeFlat(x, idx, v.Shape())
}

// Min returns the minimum over axes (see Max).
func Min(x *Var, keepDims bool, axes ...int) *Var {
	v, idx := tensor.Min(x.Value, keepDims, axes...)
	return TakeFlat(x, idx, v.Shape())
}

// LogSumExp returns log(sum(exp(x))) along axis, computed stably.
func LogSumExp(x *Var, axis int, keepDims bool) *Var {
	if axis < 0 {
		axis += len(x.Shape())
	}
	keep := keptShape(x.Shape(), []int{axis})
	return record("LogSumExp", tensor.LogSumExp(x.Value, axis, keepDims), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		sm := Exp(Sub(in[0], Reshape(out, keep...)))
		return []*Var{Mul(Reshape(g, keep...), sm)}
	}, x)
}

// LogSoftmax returns x - logsumexp(x) along axis.
func LogSoftmax(x *Var, axis int) *Var {
	return record("LogSoftmax", tensor.LogSoftmax(x.Value, axis), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Sub(g, Mul(Exp(out), Sum(g, true, axis)))}
	}, x)
}

// Softmax returns exp(x)/sum(exp(x)) along axis.
func Softmax(x *Var, axis int) *Var {
	return record("Softmax", tensor.Softmax(x.Value, axis), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Mul(out, Sub(g, Sum(Mul(g, out), true, axis)))}
	}, x)
}

// Dropout zeroes each element of x with probability p and scales the
// rest by 1/(1-p) (tensor.Dropout: the mask is a hash of (seed, index),
// never stored). It is linear in x with a fixed mask, so its backward is
// Dropout of the gradient with the same seed, to any order.
func Dropout(x *Var, p float64, seed uint64) *Var {
	if p == 0 {
		return x
	}
	return record("Dropout", tensor.Dropout(x.Value, p, seed), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{Dropout(g, p, seed)}
	}, x)
}
