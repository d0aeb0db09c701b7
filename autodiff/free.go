package autodiff

import (
	"unsafe"

	"github.com/metalearn/metalearn/tensor"
)

// Free ends the life of the graph behind outputs, as PyTorch does after a
// backward pass: every intermediate value (a Var computed by an op that
// recorded a node) hands its storage back for reuse by later tensors
// (tensor.Recycle), and the graph is cut, so that the outputs keep their
// values but can no longer be differentiated. A training step that calls
// Free when it is done (after its gradients and any metrics) allocates
// almost nothing fresh in the next step.
//
// The caller guarantees that no intermediate Var of the graph is read
// afterwards (reading a recycled value panics; a Reshape view of one
// would see reused memory). Leaves - parameters, constants and values
// computed without a graph - and any storage they share with an
// intermediate (an op that returned its input) are never recycled, nor
// are the outputs' own values.
func Free(outputs ...*Var) {
	pinned := map[unsafe.Pointer]bool{}
	pin := func(t *tensor.Tensor) {
		if tensor.Pooled(t) { // smaller storage is never recycled
			pinned[tensor.Storage(t)] = true
		}
	}
	for _, o := range outputs {
		pin(o.Value)
	}
	var inter []*Var
	seen := map[*Var]bool{}
	stack := append([]*Var(nil), outputs...)
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if v == nil || seen[v] {
			continue
		}
		seen[v] = true
		if v.node == nil {
			pin(v.Value)
			continue
		}
		inter = append(inter, v)
		stack = append(stack, v.node.inputs...)
	}
	for _, v := range inter {
		// cut first: nothing below can be differentiated again. The node
		// shares its Var's allocation, so its references are cleared too
		// (a Var kept afterwards must not keep the graph reachable).
		n := v.node
		n.inputs, n.backward, n.inline = nil, nil, [3]*Var{}
		v.node, v.freed = nil, true
	}
	for _, v := range inter {
		if tensor.Recyclable(v.Value) && !pinned[tensor.Storage(v.Value)] {
			tensor.Recycle(v.Value) // views and caller data are skipped by Recycle
		}
	}
}
