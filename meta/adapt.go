package meta

import (
	"context"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// Adapter is implemented by the gradient-based algorithms: the algorithm
// owns its adaptation (in the spirit of learn2learn's clone()/adapt()),
// and a caller such as the model server asks it for adapted weights
// instead of re-implementing its inner loop.
type Adapter interface {
	// AdaptedModule is the network whose weights adaptation changes (the
	// head for ANIL, the whole model otherwise).
	AdaptedModule() nn.Module
	// Adapt returns the AdaptedModule's weights after steps adaptation
	// steps on t's support set, starting from the meta-parameters, exactly
	// as Evaluate adapts; lr > 0 replaces the algorithm's inner learning
	// rates. The meta-parameters are not changed and no graph is recorded
	// through them.
	Adapt(t data.Task, steps int, lr float64) []*tensor.Tensor
	// Predict returns the outputs on x of the network with weights w, the
	// result of Adapt with the same steps.
	Predict(w []*tensor.Tensor, steps int, x *tensor.Tensor) *tensor.Tensor
}

// ContextAdapter is an Adapter whose adaptation can be stopped between
// steps: AdaptContext is Adapt that checks ctx before every step and
// returns ctx's error once ctx is done (a server's request deadline, a
// client that left, a shutdown).
type ContextAdapter interface {
	Adapter
	AdaptContext(ctx context.Context, t data.Task, steps int, lr float64) ([]*tensor.Tensor, error)
}

var (
	_ ContextAdapter = (*MAML)(nil)
	_ ContextAdapter = (*Reptile)(nil)
	_ ContextAdapter = (*Pretrained)(nil)
)

// AdaptedModule implements Adapter.
func (m *MAML) AdaptedModule() nn.Module { return m.Head }

// Features returns x passed through the body (ANIL), or x itself, as a
// constant: what the adapted head reads.
func (m *MAML) Features(x *tensor.Tensor) *autodiff.Var {
	v := autodiff.Const(x)
	if m.Body != nil {
		f := Freeze(m.Body)
		v = f.Apply(nn.Vars(f), v)
	}
	return v
}

// Adapt implements Adapter: first-order inner steps (the gradients are
// constants, as at evaluation) w <- w - lr * dL_support/dw with the step's
// learning rates and module.
func (m *MAML) Adapt(t data.Task, steps int, lr float64) []*tensor.Tensor {
	return m.AdaptFeatures(m.Features(t.SupportX), t, steps, lr)
}

// AdaptContext implements ContextAdapter.
func (m *MAML) AdaptContext(ctx context.Context, t data.Task, steps int, lr float64) ([]*tensor.Tensor, error) {
	return m.AdaptFeaturesContext(ctx, m.Features(t.SupportX), t, steps, lr)
}

// AdaptFeatures is Adapt with the support inputs already passed through
// Features (so an accelerated body can compute them).
func (m *MAML) AdaptFeatures(xs *autodiff.Var, t data.Task, steps int, lr float64) []*tensor.Tensor {
	w, _ := m.AdaptFeaturesContext(context.Background(), xs, t, steps, lr)
	return w
}

// AdaptFeaturesContext is AdaptFeatures stopping when ctx is done.
func (m *MAML) AdaptFeaturesContext(ctx context.Context, xs *autodiff.Var, t data.Task, steps int, lr float64) ([]*tensor.Tensor, error) {
	ps := nn.Vars(m.Head)
	w := make([]*tensor.Tensor, len(ps))
	for i, p := range ps {
		w[i] = p.Value
	}
	var override *tensor.Tensor
	if lr > 0 && len(w) > 0 {
		override = tensor.Scalar(w[0].DType(), lr)
	}
	for s := 0; s < steps; s++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		vs := make([]*autodiff.Var, len(w))
		for i := range w {
			vs[i] = autodiff.Param(w[i]) // a fresh leaf per step: no graph across steps
		}
		loss := TaskLoss(m.ModuleAt(s).Apply(vs, xs), t, false)
		g := autodiff.Grad([]*autodiff.Var{loss}, vs, false)
		autodiff.Free(loss)
		lrs := m.StepLRs(s)
		for i := range w {
			r := override
			if r == nil {
				r = lrs[i].Value
			}
			w[i] = tensor.Sub(w[i], tensor.Mul(r, g[i].Value))
		}
	}
	return w, nil
}

// Predict implements Adapter.
func (m *MAML) Predict(w []*tensor.Tensor, steps int, x *tensor.Tensor) *tensor.Tensor {
	return m.PredictFeatures(w, steps, m.Features(x))
}

// PredictFeatures is Predict on inputs already passed through Features.
func (m *MAML) PredictFeatures(w []*tensor.Tensor, steps int, f *autodiff.Var) *tensor.Tensor {
	return m.ModuleAt(steps).Apply(consts(w), f).Value
}

// AdaptedModule implements Adapter.
func (r *Reptile) AdaptedModule() nn.Module { return r.Model }

// Adapt implements Adapter: steps of the inner optimizer on a copy of the
// weights over the whole support set, as Evaluate does (with CarryAdam the
// inner Adam starts from the carried statistics and leaves them unchanged).
func (r *Reptile) Adapt(t data.Task, steps int, lr float64) []*tensor.Tensor {
	w, _ := r.AdaptContext(context.Background(), t, steps, lr)
	return w
}

// AdaptContext implements ContextAdapter.
func (r *Reptile) AdaptContext(ctx context.Context, t data.Task, steps int, lr float64) ([]*tensor.Tensor, error) {
	w, err := r.adaptWeightsContext(ctx, t, steps, 0, false, lr)
	if err != nil {
		return nil, err
	}
	out := make([]*tensor.Tensor, len(w))
	for i := range w {
		out[i] = w[i].Value
	}
	return out, nil
}

// Predict implements Adapter.
func (r *Reptile) Predict(w []*tensor.Tensor, _ int, x *tensor.Tensor) *tensor.Tensor {
	return r.Model.Apply(consts(w), autodiff.Const(x)).Value
}

func consts(ts []*tensor.Tensor) []*autodiff.Var {
	vs := make([]*autodiff.Var, len(ts))
	for i, t := range ts {
		vs[i] = autodiff.Const(t)
	}
	return vs
}
