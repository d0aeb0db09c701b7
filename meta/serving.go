package meta

import (
	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
)

// Helpers for serving metric-based models (package serve): read-only
// access to the algorithm's own classifier, without recording a graph
// through the meta-parameters. Gradient-based models adapt through their
// Adapter methods (adapt.go).

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
