package autodiff

import (
	"fmt"
	"unsafe"

	"github.com/metalearn/metalearn/tensor"
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
	return gradTo(outputs, seeds, wrt, createGraph, false)
}

// gradTo is GradWithSeeds; with local set, the sweep stops at the wrt Vars
// (their own inputs are not visited), for a gradient taken inside another
// backward pass whose wrt are the op's inputs.
func gradTo(outputs, seeds, wrt []*Var, createGraph, local bool) []*Var {
	keep := make(map[*Var]bool, len(wrt))
	for _, w := range wrt {
		keep[w] = true
	}
	var stop map[*Var]bool
	if local {
		stop = keep
	}
	grads := backprop(outputs, seeds, createGraph, keep, stop)
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
	grads := backprop([]*Var{v}, []*Var{Const(tensor.OnesLike(v.Value))}, false, nil, nil)
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
func topoOrder(roots []*Var, stop map[*Var]bool) []*Var {
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
			if top.v.node != nil && !stop[top.v] && top.i < len(top.v.node.inputs) {
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
func backprop(outputs, seeds []*Var, createGraph bool, keep, stop map[*Var]bool) map[*Var]*Var {
	grads := make(map[*Var]*Var)
	var scratch sweepScratch
	rc := newRecycler(grads, !createGraph)
	for _, sd := range seeds {
		rc.pin(sd.Value)
	}
	for i, o := range outputs {
		if o.freed {
			panic("autodiff: Grad/Backward of a Var whose graph was freed by autodiff.Free")
		}
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
		rc.accumulate(o, s)
	}
	order := topoOrder(outputs, stop)
	if rc.on {
		// forward values (and the inputs' values) are never gradients to recycle
		for _, v := range order {
			rc.pin(v.Value)
			if v.node != nil {
				for _, in := range v.node.inputs {
					rc.pin(in.Value)
				}
			}
		}
	}
	for i := len(order) - 1; i >= 0; i-- {
		v := order[i]
		g, ok := grads[v]
		if !ok || v.node == nil || stop[v] {
			continue
		}
		n := v.node
		if !keep[v] {
			delete(grads, v)
			rc.release(g)
		}
		ins := n.inputs
		out := v
		needs := scratch.needs(len(ins))
		any := false
		for j, in := range ins {
			needs[j] = in.requiresGrad
			any = any || needs[j]
		}
		if !any {
			rc.sweep()
			continue
		}
		if !createGraph {
			// detached copies of the inputs and the output, in storage
			// reused from node to node
			ins, out = scratch.detached(ins, v)
		}
		gs := n.backward(g, ins, out, needs)
		if !createGraph {
			scratch.own(gs)
		}
		for j, in := range n.inputs {
			if !needs[j] || gs[j] == nil {
				continue
			}
			if !tensor.SameShape(gs[j].Value.Shape(), in.Value.Shape()) {
				panic(fmt.Sprintf("autodiff: backward of %s produced gradient shape %v for input %d of shape %v", n.op, gs[j].Value.Shape(), j, in.Value.Shape()))
			}
			rc.accumulate(in, gs[j])
		}
		for _, gj := range gs {
			rc.candidate(gj)
		}
		rc.sweep()
	}
	return grads
}

// recycler hands the storage of intermediate gradients back to the tensor
// package (tensor.Recycle) as soon as a backward sweep without createGraph
// is done with them, so the next sweep reuses it instead of allocating.
// A storage is recycled only when no entry of the gradient map refers to
// it any more (gradients are counted by storage, so a Reshape view keeps
// its base alive), when it is neither a forward value nor a seed (pinned),
// and when tensor.Recyclable says the tensor package allocated it. With
// createGraph nothing is recycled: gradients are then part of the graph.
type recycler struct {
	grads  map[*Var]*Var
	on     bool
	refs   map[unsafe.Pointer]int
	pinned map[unsafe.Pointer]bool
	cands  []*tensor.Tensor
}

func newRecycler(grads map[*Var]*Var, on bool) *recycler {
	return &recycler{grads: grads, on: on} // maps made on first use: small graphs never need them
}

// Tensors too small to be pooled are never recycled, so they need no
// bookkeeping (small graphs then pay nothing for recycling).

func (r *recycler) pin(t *tensor.Tensor) {
	if r.on && tensor.Pooled(t) {
		if r.pinned == nil {
			r.pinned = map[unsafe.Pointer]bool{}
		}
		r.pinned[tensor.Storage(t)] = true
	}
}

func (r *recycler) ref(t *tensor.Tensor, d int) {
	if tensor.Pooled(t) {
		if r.refs == nil {
			r.refs = map[unsafe.Pointer]int{}
		}
		r.refs[tensor.Storage(t)] += d
	}
}

// accumulate adds g to v's gradient.
func (r *recycler) accumulate(v, g *Var) {
	old, ok := r.grads[v]
	if !ok {
		r.grads[v] = g
		if r.on {
			r.ref(g.Value, 1)
		}
		return
	}
	sum := Add(old, g)
	r.grads[v] = sum
	if r.on {
		r.ref(sum.Value, 1)
		r.ref(old.Value, -1)
		if tensor.Pooled(old.Value) {
			r.cands = append(r.cands, old.Value)
		}
	}
}

// release notes that the gradient map no longer holds g.
func (r *recycler) release(g *Var) {
	if r.on && tensor.Pooled(g.Value) {
		r.ref(g.Value, -1)
		r.cands = append(r.cands, g.Value)
	}
}

// candidate notes a gradient that may have died (checked by sweep).
func (r *recycler) candidate(g *Var) {
	if r.on && g != nil && tensor.Recyclable(g.Value) && tensor.Pooled(g.Value) {
		r.cands = append(r.cands, g.Value)
	}
}

// sweep recycles the candidates nothing refers to any more.
func (r *recycler) sweep() {
	if len(r.cands) == 0 {
		return
	}
	for _, t := range r.cands {
		p := tensor.Storage(t)
		if p == nil || r.pinned[p] || r.refs[p] > 0 || !tensor.Recyclable(t) {
			continue
		}
		tensor.Recycle(t) // no longer Recyclable: a repeated candidate is skipped
	}
	r.cands = r.cands[:0]
}

// graphBuilt tells a backward function whether its sweep builds a graph
// of the gradient (createGraph): without one, backprop hands it detached
// copies of its inputs and the gradient, none of which requires gradients;
// with one, it gets the graph's own Vars, of which at least one does (the
// op was recorded because of it).
func graphBuilt(g *Var, in []*Var) bool {
	if g.requiresGrad {
		return true
	}
	for _, v := range in {
		if v.requiresGrad {
			return true
		}
	}
	return false
}

// sweepScratch holds the per-node arguments of backward functions, reused
// from node to node of one sweep (a backward function does not keep them).
type sweepScratch struct {
	flags []bool
	vars  []Var
	ptrs  []*Var
}

func (s *sweepScratch) needs(n int) []bool {
	if cap(s.flags) < n {
		s.flags = make([]bool, n)
	}
	return s.flags[:n]
}

// detached returns Vars holding the values of ins and out, cut from the
// graph.
func (s *sweepScratch) detached(ins []*Var, out *Var) ([]*Var, *Var) {
	n := len(ins)
	if cap(s.vars) < n+1 {
		s.vars = make([]Var, n+1)
		s.ptrs = make([]*Var, n+1)
	}
	vs, d := s.vars[:n+1], s.ptrs[:n]
	for j, in := range ins {
		vs[j] = Var{Value: in.Value}
		d[j] = &vs[j]
	}
	vs[n] = Var{Value: out.Value}
	return d, &vs[n]
}

// own replaces any gradient that is one of the reused detached Vars (a
// backward function may return an input or the output as it is) by a Var
// of its own.
func (s *sweepScratch) own(gs []*Var) {
	for j, g := range gs {
		for k := range s.vars {
			if g == &s.vars[k] {
				gs[j] = &Var{Value: g.Value}
				break
			}
		}
	}
}
