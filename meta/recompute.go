package meta

import (
	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// recomputeGradient computes the second-order MAML meta-gradient without
// keeping the whole inner loop's graph alive (gradient checkpointing over
// inner steps, cf. Chen et al. 2016 "Training deep nets with sublinear
// memory cost"). The forward pass keeps only the fast weights theta_s of
// every step, as plain tensors. The backward pass walks the steps in
// reverse: it rebuilds step s's graph from theta_s, and pulls the adjoint
// g_{s+1} = dL/dtheta_{s+1} back through theta_{s+1} = theta_s -
// alpha_s * grad L_support(theta_s) with one vector-Jacobian product,
// accumulating the gradients of learned learning rates on the way. Peak
// memory is one inner step's second-order graph instead of all of them; the
// price is one extra forward/backward per step.
//
// It supports whole-model adaptation (Body == nil) and the final-step
// query loss (not the multi-step loss). With BatchNorm running statistics,
// the rebuilt steps update them a second time; use it with transductive
// BatchNorm (the default) for exact running averages.
func (m *MAML) recomputeGradient(t data.Task) ([]*tensor.Tensor, TaskResult) {
	dt := nn.Vars(m.Head)[0].DType()
	xs, xq := inputs(t, dt)
	steps := m.Cfg.InnerSteps
	theta := nn.Vars(m.Head)
	// forward: keep theta_s as tensors only
	ws := make([][]*tensor.Tensor, steps+1)
	ws[0] = values(theta)
	for s := 0; s < steps; s++ {
		cur := leaves(ws[s], true)
		l := &Learner{Module: m.ModuleAt(s), Weights: cur}
		loss := TaskLoss(l.Forward(xs), t, false)
		l.Adapt(loss, detachAll(m.StepLRs(s)), nil, false)
		ws[s+1] = values(l.Weights)
	}
	// query loss at theta_S
	last := leaves(ws[steps], true)
	pred := m.ModuleAt(steps).Apply(last, xq)
	qloss := TaskLoss(pred, t, true)
	adj := autodiff.Grad([]*autodiff.Var{qloss}, last, false)
	lrGrads := map[*autodiff.Var]*tensor.Tensor{}
	for s := steps - 1; s >= 0; s-- {
		cur := leaves(ws[s], true)
		// Adapt replaces l.Weights in place: give it its own slice
		l := &Learner{Module: m.ModuleAt(s), Weights: append([]*autodiff.Var(nil), cur...)}
		loss := TaskLoss(l.Forward(xs), t, false)
		lrs := m.StepLRs(s)
		l.Adapt(loss, lrs, nil, true)
		wrt := append([]*autodiff.Var(nil), cur...)
		var learned []*autodiff.Var
		for _, lr := range lrs {
			if lr.RequiresGrad() {
				learned = append(learned, lr)
			}
		}
		wrt = append(wrt, learned...)
		g := autodiff.GradWithSeeds(l.Weights, adj, wrt, false)
		adj = g[:len(cur)]
		for i, lr := range learned {
			if old, ok := lrGrads[lr]; ok {
				lrGrads[lr] = tensor.Add(old, g[len(cur)+i].Value)
			} else {
				lrGrads[lr] = g[len(cur)+i].Value
			}
		}
	}
	out := values(adj)
	for _, lr := range m.LearnedLRs() {
		if g, ok := lrGrads[lr]; ok {
			out = append(out, g)
		} else {
			out = append(out, tensor.ZerosLike(lr.Value))
		}
	}
	return out, TaskResult{Loss: qloss.Item(), Metric: TaskMetric(pred.Value, t, true)}
}

// leaves wraps tensors as leaf Vars (requiring gradients or not).
func leaves(ts []*tensor.Tensor, grad bool) []*autodiff.Var {
	vs := make([]*autodiff.Var, len(ts))
	for i, t := range ts {
		if grad {
			vs[i] = autodiff.Param(t)
		} else {
			vs[i] = autodiff.Const(t)
		}
	}
	return vs
}

func detachAll(vs []*autodiff.Var) []*autodiff.Var {
	out := make([]*autodiff.Var, len(vs))
	for i, v := range vs {
		out[i] = v.Detach()
	}
	return out
}
