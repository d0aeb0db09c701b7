package serve

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/mt"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// Kinds of models.
const (
	KindGradient = "gradient" // MAML family, Reptile, pretrain: inner-loop steps
	KindMetric   = "metric"   // ProtoNet, R2D2: a classifier built from support embeddings
)

// model is a loaded base model. It is shared by all requests and never
// modified after loading: adaptation works on copies of its weights and
// inference wraps them as constants, so no graph is recorded through them.
type model struct {
	name       string
	spec       meta.Spec
	kind       string
	regression bool
	inShape    []int // one example, e.g. [1, 28, 28] or [1]
	ways       int   // gradient-based classifiers: the fixed number of classes
	dt         tensor.DType
	nparams    int
	bytes      int64
	modules    []nn.Module // the checkpoint's modules (read-only)

	// gradient-based: the algorithm adapts (meta.Adapter); the fused
	// Conv4 kernels are an accelerated path behind it, checked against it
	// at load time
	adapter  meta.Adapter
	maml     *meta.MAML       // the MAML family (and pretrain): features and learning rates for the fused path
	head     nn.Module        // the adapted network
	base     []*tensor.Tensor // head weights (read-only)
	fast     *conv4           // fused Conv4 kernels for the head, when it has that shape
	fastBody *conv4           // ANIL: fused Conv4 kernels for the body

	// metric-based
	proto        *meta.ProtoNet // frozen: support and query embedded together
	protoHead    *meta.ProtoNet // frozen head over precomputed embeddings
	encoder      nn.Module      // frozen encoder
	transductive bool           // BatchNorm uses batch statistics
	fastEnc      *conv4         // fused Conv4 encoder kernels

	// translation (translate.go): the model, read-only once loaded
	tr *mt.Model
}

// newModel prepares a loaded checkpoint for serving. It switches BatchNorm
// to evaluation mode, so running statistics are read, never updated.
func newModel(name string, b *meta.Built) (*model, error) {
	s := b.Spec
	m := &model{name: name, spec: s, regression: s.Dataset == "sinusoid"}
	switch s.Dataset {
	case "omniglot":
		m.inShape = []int{1, 28, 28}
	case "sinusoid":
		m.inShape = []int{1}
	default:
		return nil, fmt.Errorf("dataset %q is not servable", s.Dataset)
	}
	m.transductive = s.Dataset == "omniglot" && s.BatchNorm == "transductive"
	for _, mod := range []nn.Module{b.Body, b.Model} {
		if mod != nil {
			m.modules = append(m.modules, mod)
			nn.SetTraining(mod, false)
			m.nparams += nn.NumParams(mod)
			for _, p := range mod.Params() {
				m.bytes += tensorBytes(p.V.Value)
			}
		}
	}
	switch a := b.Algorithm.(type) {
	case meta.Adapter:
		if t, ok := a.(interface{ SetTraining(bool) }); ok {
			t.SetTraining(false)
		}
		m.kind, m.adapter, m.head = KindGradient, a, a.AdaptedModule()
		switch x := a.(type) {
		case *meta.MAML:
			m.maml = x
		case *meta.Pretrained:
			m.maml = x.MAML
		}
		if m.maml != nil {
			m.modules = append(m.modules, m.maml.StepModules...)
			if m.maml.Body != nil {
				m.fastBody = newConv4(m.maml.Body, m.transductive)
			}
		}
	case *meta.ProtoNet:
		m.kind = KindMetric
		m.proto = a.Frozen(nil)
		m.encoder = meta.Freeze(a.Encoder)
		m.protoHead = a.Frozen(newIdentity(a.Encoder))
		m.fastEnc = newConv4(a.Encoder, m.transductive)
	default:
		return nil, fmt.Errorf("algorithm %s is not servable", s.Algorithm)
	}
	if m.kind == KindGradient {
		for _, v := range nn.Vars(m.head) {
			m.base = append(m.base, v.Value)
		}
		if !m.regression {
			m.ways = s.Ways
		}
		if m.maml != nil && len(m.maml.StepModules) == 0 && m.maml.Body == nil {
			m.fast = newConv4(m.head, m.transductive)
		}
	}
	m.dt = tensor.Float32
	if len(m.base) > 0 {
		m.dt = m.base[0].DType()
	} else if ps := nn.Vars(m.encoder); len(ps) > 0 {
		m.dt = ps[0].DType()
	}
	m.checkFast()
	return m, nil
}

// checkFast compares the fused Conv4 kernels with the generic autodiff path
// on random inputs (forward, and two adaptation steps) and drops them on
// any disagreement, so an unexpected architecture can only be slower.
func (m *model) checkFast() {
	if m.fast == nil && m.fastEnc == nil && m.fastBody == nil {
		return
	}
	rng := rand.New(rand.NewPCG(7, 11))
	ways := max(m.ways, 2)
	n := 2 * ways
	x := tensor.RandU(rng, m.dt, 0, 1, append([]int{n}, m.inShape...)...)
	if m.fastBody != nil {
		a := m.fastBody.forward(nil, x)
		b := m.maml.Features(x).Value
		if !allClose(a, tensor.Reshape(b, n, -1)) {
			m.fastBody = nil
		}
	}
	if m.fastEnc != nil {
		a := m.fastEnc.forward(nil, x)
		b := m.encoder.Apply(nn.Vars(m.encoder), autodiff.Const(x)).Value
		if !allClose(a, tensor.Reshape(b, n, -1)) {
			m.fastEnc = nil
		}
	}
	if m.fast != nil {
		labels := make([]int, n)
		for i := range labels {
			labels[i] = i % ways
		}
		s := supportSet{x: x, labels: labels, ways: ways}
		fast := m.fast
		wf, _ := m.adaptWeights(context.Background(), s, 2, 0)
		pf := fast.forward(wf, x)
		m.fast = nil
		wg, _ := m.adaptWeights(context.Background(), s, 2, 0)
		pg := (&adapted{model: m, steps: 2, weights: wg}).predict(x)
		ok := allClose(pf, pg)
		for i := range wf {
			ok = ok && allClose(wf[i], wg[i])
		}
		if ok {
			m.fast = fast
		}
	}
}

func allClose(a, b *tensor.Tensor) bool {
	return tensor.SameShape(a.Shape(), b.Shape()) && tensor.AllClose(a, b, 1e-3, 1e-4)
}

func tensorBytes(t *tensor.Tensor) int64 {
	if t == nil {
		return 0
	}
	if t.DType() == tensor.Float64 {
		return int64(t.Len()) * 8
	}
	return int64(t.Len()) * 4
}

// defaultSteps is the number of adaptation steps used when a request does
// not say (the checkpoint's evaluation steps).
func (m *model) defaultSteps() int {
	if m.kind != KindGradient {
		return 0
	}
	return m.spec.EvalSteps
}

// inputLen is the number of values of one example.
func (m *model) inputLen() int { return tensor.NumElems(m.inShape) }

// images reports whether inputs are images (PNG accepted).
func (m *model) images() bool { return len(m.inShape) == 3 }

// supportSet is a validated support set.
type supportSet struct {
	x      *tensor.Tensor // [n, inShape...]
	labels []int          // classification
	y      *tensor.Tensor // regression targets [n, 1]
	ways   int            // classification: number of classes
}

func (s supportSet) task() data.Task {
	return data.Task{SupportX: s.x, SupportY: s.y, SupportLabels: s.labels, Ways: s.ways}
}

// adapted is one user's adapted model: private weights (gradient-based) or
// the support set / its embeddings (metric-based).
type adapted struct {
	id      string
	model   *model
	steps   int
	weights []*tensor.Tensor // gradient-based: adapted head weights
	support supportSet       // metric-based
	emb     *tensor.Tensor   // metric-based with running BatchNorm: support embeddings
	tr      *mt.Model        // translation: the adapted copy
	bytes   int64
}

// adapt adapts the base model to the support set. steps and lr are
// validated by the caller; lr 0 means the model's own (learned) rates.
// It stops with ctx's error at the first step after ctx is done (the
// client left, the request timeout passed, the server is shutting down).
func (m *model) adapt(ctx context.Context, s supportSet, steps int, lr float64) (*adapted, error) {
	a := &adapted{model: m, steps: steps, support: s}
	if m.kind == KindMetric {
		if !m.transductive {
			a.emb = m.embed(s.x)
			a.bytes = tensorBytes(a.emb)
			a.support.x = nil
		} else {
			a.bytes = tensorBytes(s.x)
		}
		a.bytes += int64(len(s.labels)) * 8
		return a, nil
	}
	w, err := m.adaptWeights(ctx, s, steps, lr)
	if err != nil {
		return nil, err
	}
	for _, t := range w {
		if t.HasNaNOrInf() {
			return nil, errDiverged
		}
		a.bytes += tensorBytes(t)
	}
	a.weights = w
	return a, nil
}

// adaptWeights asks the algorithm for the adapted weights (meta.Adapter),
// through the fused Conv4 kernels when the model has them, stopping
// between steps once ctx is done (meta.ContextAdapter).
func (m *model) adaptWeights(ctx context.Context, s supportSet, steps int, lr float64) ([]*tensor.Tensor, error) {
	if m.fast != nil {
		w := append([]*tensor.Tensor(nil), m.base...)
		var override *tensor.Tensor
		if lr > 0 {
			override = tensor.Scalar(m.dt, lr)
		}
		// one fused step at a time, so a cancelled request stops between
		// steps (the fused kernels keep nothing across steps)
		for step := 0; step < steps; step++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			w = m.fast.adapt(w, s, 1, func(_, i int) *tensor.Tensor {
				if override != nil {
					return override
				}
				return m.maml.StepLRs(step)[i].Value
			})
		}
		return w, nil
	}
	if m.maml != nil {
		return m.maml.AdaptFeaturesContext(ctx, m.features(s.x), s.task(), steps, lr)
	}
	if ca, ok := m.adapter.(meta.ContextAdapter); ok {
		return ca.AdaptContext(ctx, s.task(), steps, lr)
	}
	return m.adapter.Adapt(s.task(), steps, lr), nil
}

// features runs the frozen ANIL body (identity otherwise); no graph.
func (m *model) features(x *tensor.Tensor) *autodiff.Var {
	if m.fastBody != nil {
		return autodiff.Const(m.fastBody.forward(nil, x))
	}
	if m.maml != nil {
		return m.maml.Features(x)
	}
	return autodiff.Const(x)
}

// embed runs the frozen encoder on x and returns [n, d]; no graph.
func (m *model) embed(x *tensor.Tensor) *tensor.Tensor {
	var e *tensor.Tensor
	if m.fastEnc != nil {
		e = m.fastEnc.forward(nil, x)
	} else {
		e = m.encoder.Apply(nn.Vars(m.encoder), autodiff.Const(x)).Value
	}
	return tensor.Reshape(e, e.Dim(0), -1)
}

// predict returns logits (classification) or values (regression) for the
// queries xq [nq, inShape...]. No graph is recorded.
func (a *adapted) predict(xq *tensor.Tensor) *tensor.Tensor {
	m := a.model
	if m.kind == KindMetric {
		t := data.Task{SupportLabels: a.support.labels, Ways: a.support.ways}
		if m.transductive {
			if m.fastEnc != nil {
				// one encoder pass over support and queries, as in meta
				n := a.support.x.Dim(0)
				e := m.embed(tensor.Concat(0, a.support.x, xq))
				t.SupportX = tensor.Slice(e, 0, 0, n)
				t.QueryX = tensor.Slice(e, 0, n, e.Dim(0))
				return m.protoHead.Logits(t).Value
			}
			t.SupportX, t.QueryX = a.support.x, xq
			return m.proto.Logits(t).Value
		}
		t.SupportX, t.QueryX = a.emb, m.embed(xq)
		return m.protoHead.Logits(t).Value
	}
	if m.fast != nil {
		return m.fast.forward(a.weights, xq)
	}
	if m.maml != nil {
		return m.maml.PredictFeatures(a.weights, a.steps, m.features(xq))
	}
	return m.adapter.Predict(a.weights, a.steps, xq)
}

// identity is the encoder of the head-only ProtoNet: embeddings in,
// embeddings out. Its one parameter only carries the dtype.
type identity struct{ p []nn.Param }

func newIdentity(enc nn.Module) *identity {
	dt := tensor.Float32
	if ps := enc.Params(); len(ps) > 0 {
		dt = ps[0].V.DType()
	}
	return &identity{p: []nn.Param{{Name: "dtype", V: autodiff.Const(tensor.Scalar(dt, 0))}}}
}

func (i *identity) Params() []nn.Param { return i.p }

func (i *identity) Apply(_ []*autodiff.Var, x *autodiff.Var) *autodiff.Var { return x }
