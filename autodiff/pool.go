package autodiff

import (
	"math"

	"github.com/metalearn/metalearn/tensor"
)

// Pooling: max and average pooling over k x k windows and their
// gradients.

// MaxPool2d takes the maximum over k x k windows; gradients flow to the
// chosen elements.
func MaxPool2d(x *Var, k, stride, pad int) *Var {
	if x.Value.Len() > math.MaxInt32 {
		v, idx := tensor.MaxPool2d(x.Value, k, stride, pad)
		return TakeFlat(x, idx, v.Shape())
	}
	v, idx := tensor.MaxPool2dInt32(x.Value, k, stride, pad)
	inShape := append([]int(nil), x.Shape()...)
	return record("MaxPool2d", v, func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{maxPoolGrad(g, idx, inShape)}
	}, x)
}

// maxPoolGrad scatters g back through pooling indices (adjoint of
// takeFlatInt32).
func maxPoolGrad(g *Var, idx []int32, xShape []int) *Var {
	gShape := append([]int(nil), g.Shape()...)
	return record("MaxPool2dGrad", tensor.MaxPool2dBackward(g.Value, idx, xShape), func(gg *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{takeFlatInt32(gg, idx, gShape)}
	}, g)
}

func takeFlatInt32(x *Var, idx []int32, shape []int) *Var {
	inShape := append([]int(nil), x.Shape()...)
	return record("TakeFlat", tensor.TakeFlatInt32(x.Value, idx, shape), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{maxPoolGrad(g, idx, inShape)}
	}, x)
}

// AvgPool2d averages k x k windows (padding counted as zeros).
func AvgPool2d(x *Var, k, stride, pad int) *Var {
	inShape := append([]int(nil), x.Shape()...)
	return record("AvgPool2d", tensor.AvgPool2d(x.Value, k, stride, pad), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{avgPool2dGrad(g, inShape, k, stride, pad)}
	}, x)
}

func avgPool2dGrad(g *Var, xShape []int, k, stride, pad int) *Var {
	return record("AvgPool2dGrad", tensor.AvgPool2dGrad(g.Value, xShape, k, stride, pad), func(gg *Var, in []*Var, out *Var, needs []bool) []*Var {
		return []*Var{AvgPool2d(gg, k, stride, pad)}
	}, g)
}
