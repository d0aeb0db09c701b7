package autodiff

import (
	"fmt"

	"metalearn/tensor"
)

// Grad returns the gradients of the sum of outputs with respect to each Var
// in wrt (non-scalar outputs are summed, i.e. seeded with ones), in the
// manner of torch.autograd.grad. A Var in wrt that the outputs do not depend
// on gets a zero gradient.
//
// With createGraph the returned gradients are recorded in the graph and can
// themselves be differentiated; otherwise they are constants and no graph is
// built while computing them. Grad does not modify Var.Grad.
func Grad(outputs, wrt []*Var, createGraph bool) []*Var {
	seeds := make([]*Var, len(outputs))
	for i, o := range outputs {
		seeds[i] = Const(tensor.OnesLike(o.Value))
	}
	return GradWithSeeds(outputs, seeds, wrt, createGraph)
}

// GradWithSeeds is Grad with explicit output gradients (vector-Jacobian
// products): seeds[i] has the shape of outputs[i]. Seeds may themselves
// require gradients when createGraph is set.
func GradWithSeeds(outputs, seeds, wrt []*Var, createGraph bool) []*Var {
	if len(seeds) != len(outputs) {
		panic(fmt.Sprintf("autodiff: Grad: %d seeds for %d outputs", len(seeds), len(outputs)))
	}
	keep := make(map[*Var]bool, len(wrt))
	for _, w := range wrt {
		keep[w] = true
	}
	grads := backprop(outputs, seeds, createGraph, keep)
	res := make([]*Var, len(wrt))
	for i, w := range wrt {
		if g, ok := grads[w]; ok {
			res[i] = g
		} else {
			res[i] = Const(tensor.ZerosLike(w.Value))
		}
	}
	return res
}

// Backward computes the gradient of v (summed when not scalar) with respect
// to every leaf that requires gradients and adds it to the leaf's Grad.
func (v *Var) Backward() {
	grads := backprop([]*Var{v}, []*Var{Const(tensor.OnesLike(v.Value))}, false, nil)
	for w, g := range grads {
		if w.node != nil || !w.requiresGrad {
			continue
		}
		if w.Grad == nil {
			w.Grad = g.Value.Clone()
		} else {
			w.Grad.AddScaledInPlace(1, g.Value)
		}
	}
}

// topoOrder returns the Vars requiring gradients reachable from roots, with
// every Var after all Vars that consume it... i.e. inputs before outputs.
func topoOrder(roots []*Var) []*Var {
	var order []*Var
	visited := make(map[*Var]bool)
	type frame struct {
		v *Var
		i int
	}
	var stack []frame
	for _, r := range roots {
		if !r.requiresGrad || visited[r] {
			continue
		}
		visited[r] = true
		stack = append(stack, frame{r, 0})
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.v.node != nil && top.i < len(top.v.node.inputs) {
				in := top.v.node.inputs[top.i]
				top.i++
				if in.requiresGrad && !visited[in] {
					visited[in] = true
					stack = append(stack, frame{in, 0})
				}
				continue
			}
			order = append(order, top.v)
			stack = stack[:len(stack)-1]
		}
	}
	return order
}

// backprop returns the gradients of the leaves reached and of the Vars in
// keep. The gradient of any other Var is dropped as soon as it has been
// propagated to the Var's inputs, so that (without createGraph) each
// intermediate gradient can be freed during the sweep instead of living
// until its end.
func backprop(outputs, seeds []*Var, createGraph bool, keep map[*Var]bool) map[*Var]*Var {
	grads := make(map[*Var]*Var)
	for i, o := range outputs {
		if !tensor.SameShape(o.Value.Shape(), seeds[i].Value.Shape()) {
			panic(fmt.Sprintf("autodiff: Grad: seed shape %v for output shape %v", seeds[i].Value.Shape(), o.Value.Shape()))
		}
		if !o.requiresGrad {
			continue
		}
		s := seeds[i]
		if !createGraph {
			s = s.Detach()
		}
		accumulate(grads, o, s)
	}
	order := topoOrder(outputs)
	for i := len(order) - 1; i >= 0; i-- {
		v := order[i]
		g, ok := grads[v]
		if !ok || v.node == nil {
			continue
		}
		n := v.node
		if !keep[v] {
			delete(grads, v)
		}
		ins := n.inputs
		out := v
		needs := make([]bool, len(ins))
		any := false
		for j, in := range ins {
			needs[j] = in.requiresGrad
			any = any || needs[j]
		}
		if !any {
			continue
		}
		if !createGraph {
			// detached copies of the inputs and the output, in two allocations
			vs := make([]Var, len(ins)+1)
			d := make([]*Var, len(ins))
			for j, in := range ins {
				vs[j] = Var{Value: in.Value}
				d[j] = &vs[j]
			}
			vs[len(ins)] = Var{Value: v.Value}
			ins, out = d, &vs[len(ins)]
		}
		gs := n.backward(g, ins, out, needs)
		for j, in := range n.inputs {
			if !needs[j] || gs[j] == nil {
				continue
			}
			if !tensor.SameShape(gs[j].Value.Shape(), in.Value.Shape()) {
				panic(fmt.Sprintf("autodiff: backward of %s produced gradient shape %v for input %d of shape %v", n.op, gs[j].Value.Shape(), j, in.Value.Shape()))
			}
			accumulate(grads, in, gs[j])
		}
	}
	return grads
}

func accumulate(grads map[*Var]*Var, v, g *Var) {
	if old, ok := grads[v]; ok {
		grads[v] = Add(old, g)
	} else {
		grads[v] = g
	}
}
