package autodiff

import (
	"fmt"
	"sync/atomic"

	"github.com/metalearn/metalearn/tensor"
)

// Var is a node of the computation graph: a tensor value plus, when it was
// produced by a recorded operation, how to propagate gradients to its inputs.
type Var struct {
	// Value is the forward value. Do not modify it while the Var is part of
	// a graph that will be differentiated.
	Value *tensor.Tensor
	// Grad accumulates dL/dValue for leaf Vars that require gradients when
	// Backward is called. Nil until the first Backward.
	Grad *tensor.Tensor

	requiresGrad bool
	node         *node
	freed        bool // its graph was cut by Free: differentiating it is an error
}

// backwardFn receives the gradient of the output g, the inputs (detached
// copies when no graph is being built), the output (likewise) and which
// inputs need a gradient; it returns one gradient per input (nil allowed
// where not needed).
type backwardFn func(g *Var, in []*Var, out *Var, needs []bool) []*Var

type node struct {
	op       string
	inputs   []*Var
	backward backwardFn
	inline   [3]*Var // inputs' storage for ops of up to three inputs
}

// Param returns a leaf Var that requires gradients (a trainable parameter).
func Param(t *tensor.Tensor) *Var { return &Var{Value: t, requiresGrad: true} }

// Const returns a leaf Var that does not require gradients.
func Const(t *tensor.Tensor) *Var { return &Var{Value: t} }

// Scalar returns a constant rank-0 Var of dtype dt.
func Scalar(dt tensor.DType, v float64) *Var { return Const(tensor.Scalar(dt, v)) }

// RequiresGrad reports whether gradients flow to this Var.
func (v *Var) RequiresGrad() bool { return v.requiresGrad }

// SetRequiresGrad marks a leaf Var as trainable (or not). It panics on a
// non-leaf Var, whose status is decided by its inputs.
func (v *Var) SetRequiresGrad(b bool) {
	if v.node != nil {
		panic("autodiff: SetRequiresGrad on a non-leaf Var (" + v.node.op + ")")
	}
	v.requiresGrad = b
}

// IsLeaf reports whether v was not produced by a recorded operation.
func (v *Var) IsLeaf() bool { return v.node == nil }

// Op returns the name of the operation that produced v ("" for leaves).
func (v *Var) Op() string {
	if v.node == nil {
		return ""
	}
	return v.node.op
}

// Detach returns a new leaf Var sharing v's value, cut from the graph.
func (v *Var) Detach() *Var { return &Var{Value: v.Value} }

// Shape returns the shape of the value.
func (v *Var) Shape() []int { return v.Value.Shape() }

// DType returns the dtype of the value.
func (v *Var) DType() tensor.DType { return v.Value.DType() }

// Item returns the value of a one-element Var.
func (v *Var) Item() float64 { return v.Value.Item() }

// ZeroGrad clears the accumulated gradient.
func (v *Var) ZeroGrad() { v.Grad = nil }

func (v *Var) String() string {
	op := "leaf"
	if v.node != nil {
		op = v.node.op
	}
	return fmt.Sprintf("Var(%s, requiresGrad=%v, %v)", op, v.requiresGrad, v.Value)
}

var noGradDepth atomic.Int32

// NoGrad runs f with graph recording disabled: operations inside produce
// Vars that do not require gradients. The switch is process-wide (Go has no
// goroutine-local state), so do not run NoGrad concurrently with training
// goroutines that need gradients; for per-goroutine control use Detach.
func NoGrad(f func()) {
	noGradDepth.Add(1)
	defer noGradDepth.Add(-1)
	f()
}

// GradEnabled reports whether operations currently record the graph.
func GradEnabled() bool { return noGradDepth.Load() == 0 }

// record builds the result Var of an operation, attaching a graph node when
// some input requires gradients and recording is enabled.
func record(op string, value *tensor.Tensor, bw backwardFn, inputs ...*Var) *Var {
	if noGradDepth.Load() == 0 {
		for _, in := range inputs {
			if in.requiresGrad {
				// the Var, its node and (up to three) inputs in one
				// allocation: the node lives exactly as long as the Var.
				// inputs itself is never kept, so the caller's variadic
				// array stays on its stack.
				vn := &varNode{}
				var ins []*Var
				if len(inputs) <= len(vn.n.inline) {
					ins = vn.n.inline[:copy(vn.n.inline[:], inputs)]
				} else {
					ins = append([]*Var(nil), inputs...)
				}
				vn.n.op, vn.n.inputs, vn.n.backward = op, ins, bw
				vn.v = Var{Value: value, requiresGrad: true, node: &vn.n}
				return &vn.v
			}
		}
	}
	return &Var{Value: value}
}

type varNode struct {
	v Var
	n node
}
