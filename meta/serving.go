package meta

import (
	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
)

// Helpers for serving meta-learned models (package serve): read-only access
// to what an algorithm uses at evaluation time, without recording a graph
// through the meta-parameters.

// Freeze returns a module that runs m with constant copies of its parameter
// Vars: they share m's tensors but do not require gradients, so forward
// passes through the result record no graph. Never modify the tensors.
func Freeze(m nn.Module) nn.Module {
	ps := m.Params()
	fs := make([]nn.Param, len(ps))
	for i, p := range ps {
		fs[i] = nn.Param{Name: p.Name, V: autodiff.Const(p.V.Value)}
	}
	return &frozen{m: m, ps: fs}
}

type frozen struct {
	m  nn.Module
	ps []nn.Param
}

func (f *frozen) Params() []nn.Param { return f.ps }

func (f *frozen) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var { return f.m.Apply(w, x) }

// StepLRs returns the inner learning rates of adaptation step s, one per
// head parameter (scalars, or tensors of the parameter's shape for
// Meta-SGD), as used by Evaluate.
func (m *MAML) StepLRs(s int) []*autodiff.Var { return m.stepLRs(s) }

// ModuleAt returns the module whose BatchNorm buffers serve inner step s
// (the head itself unless per-step BatchNorm is on); step = the number of
// steps taken is the module of the final (query) pass.
func (m *MAML) ModuleAt(s int) nn.Module { return m.moduleAt(s) }

// Frozen returns a ProtoNet that computes exactly what p computes, with
// encoder enc (nil: p's encoder) wrapped by Freeze and the ridge-head
// parameters as constants, so Logits records no graph. Passing an identity
// module as enc gives the head alone, applied to precomputed embeddings.
func (p *ProtoNet) Frozen(enc nn.Module) *ProtoNet {
	if enc == nil {
		enc = p.Encoder
	}
	q := &ProtoNet{Encoder: Freeze(enc), Head: p.Head}
	if p.Head == Ridge {
		q.logLambda = autodiff.Const(p.logLambda.Value)
		q.scale = autodiff.Const(p.scale.Value)
		q.bias = autodiff.Const(p.bias.Value)
	}
	return q
}

// Logits returns the query logits [Nq, N] of task t: support and query are
// embedded in one encoder pass (BatchNorm sees the whole episode, as in
// training and Evaluate) and classified by the metric head.
func (p *ProtoNet) Logits(t data.Task) *autodiff.Var { return p.logits(t) }
