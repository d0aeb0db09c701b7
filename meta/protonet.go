package meta

import (
	"fmt"
	"math"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// MetricHead selects the classifier a metric-based learner builds from the
// support embeddings.
type MetricHead int

const (
	// Prototypes classifies by negative squared Euclidean distance to the
	// class means of the support embeddings (Snell, Swersky & Zemel 2017,
	// eqs. 1-2).
	Prototypes MetricHead = iota
	// Ridge fits a closed-form ridge regression from support embeddings to
	// one-hot labels, differentiably (R2D2: Bertinetto, Henriques, Torr &
	// Vedaldi 2019, eqs. 3-5, using the Woodbury form
	// W = X^T (X X^T + lambda I)^-1 Y), with a learned output scale and bias
	// and learned lambda.
	Ridge
)

// ProtoNet is a metric-based meta-learner: an encoder trained episodically
// so that a classifier built in closed form from the support embeddings
// (MetricHead) classifies the queries.
type ProtoNet struct {
	Encoder nn.Module
	Head    MetricHead
	// Ridge head meta-parameters: log lambda, output scale and bias.
	logLambda, scale, bias *autodiff.Var
}

// NewProtoNet returns a metric-based learner over encoder.
func NewProtoNet(encoder nn.Module, head MetricHead) (*ProtoNet, error) {
	if encoder == nil || len(encoder.Params()) == 0 {
		return nil, fmt.Errorf("meta: ProtoNet needs an encoder with parameters")
	}
	p := &ProtoNet{Encoder: encoder, Head: head}
	dt := encoder.Params()[0].V.DType()
	switch head {
	case Prototypes:
	case Ridge:
		p.logLambda = autodiff.Param(tensor.Scalar(dt, 0)) // lambda = 1
		p.scale = autodiff.Param(tensor.Scalar(dt, 1))
		p.bias = autodiff.Param(tensor.Scalar(dt, 0))
	default:
		return nil, fmt.Errorf("meta: unknown metric head %d", head)
	}
	return p, nil
}

func (p *ProtoNet) Name() string {
	if p.Head == Ridge {
		return "r2d2"
	}
	return "protonet"
}

func (p *ProtoNet) MetaParams() []*autodiff.Var {
	ps := nn.Vars(p.Encoder)
	if p.Head == Ridge {
		ps = append(ps, p.logLambda, p.scale, p.bias)
	}
	return ps
}

// logits embeds support and query together (one encoder pass, so
// BatchNorm sees the whole episode) and returns query logits [Nq, N].
func (p *ProtoNet) logits(t data.Task) *autodiff.Var {
	if t.Ways < 1 {
		panic("meta: ProtoNet needs a classification task (Ways > 0)")
	}
	dt := nn.Vars(p.Encoder)[0].DType()
	ns := t.SupportX.Dim(0)
	x := autodiff.Const(tensor.Concat(0, t.SupportX.AsType(dt), t.QueryX.AsType(dt)))
	emb := nn.Forward(p.Encoder, x)
	emb = autodiff.Reshape(emb, emb.Shape()[0], -1)
	es := autodiff.Slice(emb, 0, 0, ns)
	eq := autodiff.Slice(emb, 0, ns, emb.Shape()[0])
	// one-hot support labels Y [ns, N]
	y := tensor.New(dt, ns, t.Ways)
	counts := make([]float64, t.Ways)
	for i, l := range t.SupportLabels {
		y.Set(1, i, l)
		counts[l]++
	}
	switch p.Head {
	case Ridge:
		// W = Xs^T (Xs Xs^T + lambda I)^-1 Y, logits = scale * Xq W + bias
		gram := autodiff.MatMul(es, autodiff.Transpose(es))
		eye := tensor.New(dt, ns, ns)
		for i := 0; i < ns; i++ {
			eye.Set(1, i, i)
		}
		reg := autodiff.Mul(autodiff.Exp(p.logLambda), autodiff.Const(eye))
		alpha := autodiff.Solve(autodiff.Add(gram, reg), autodiff.Const(y))
		w := autodiff.MatMul(autodiff.Transpose(es), alpha)
		return autodiff.Add(autodiff.Mul(autodiff.MatMul(eq, w), p.scale), p.bias)
	default:
		// prototypes C = diag(1/count) Y^T Xs  [N, d]
		avg := tensor.Transpose(y)
		for k := 0; k < t.Ways; k++ {
			if counts[k] == 0 {
				panic(fmt.Sprintf("meta: ProtoNet: class %d has no support examples", k))
			}
			for i := 0; i < ns; i++ {
				avg.Set(avg.At(k, i)/counts[k], k, i)
			}
		}
		protos := autodiff.MatMul(autodiff.Const(avg), es)
		// -||q - c||^2 = -(|q|^2 - 2 q.c + |c|^2)
		qq := autodiff.Sum(autodiff.Square(eq), true, 1)
		cc := autodiff.Reshape(autodiff.Sum(autodiff.Square(protos), false, 1), 1, -1)
		qc := autodiff.MatMul(eq, autodiff.Transpose(protos))
		return autodiff.Sub(autodiff.Scale(qc, 2), autodiff.Add(qq, cc))
	}
}

// TaskGradient implements Algorithm: cross-entropy of the query logits.
func (p *ProtoNet) TaskGradient(t data.Task, iter int) ([]*tensor.Tensor, TaskResult) {
	logits := p.logits(t)
	loss := nn.CrossEntropyLoss(logits, t.QueryLabels, 0)
	g := autodiff.Grad([]*autodiff.Var{loss}, p.MetaParams(), false)
	res := TaskResult{Loss: loss.Item(), Metric: nn.Accuracy(logits.Value, t.QueryLabels)}
	autodiff.Free(loss) // the next task reuses the activations' storage
	return values(g), res
}

// Evaluate classifies the queries; steps is ignored.
func (p *ProtoNet) Evaluate(t data.Task, steps int) TaskResult {
	logits := p.logits(t)
	lv := nn.CrossEntropyLoss(logits, t.QueryLabels, 0)
	loss := lv.Item()
	if math.IsNaN(loss) {
		loss = math.Inf(1)
	}
	res := TaskResult{Loss: loss, Metric: nn.Accuracy(logits.Value, t.QueryLabels)}
	autodiff.Free(lv)
	return res
}

// SetTraining switches the encoder between training and evaluation mode
// (BatchNorm with running statistics uses them at evaluation).
func (p *ProtoNet) SetTraining(training bool) { nn.SetTraining(p.Encoder, training) }
