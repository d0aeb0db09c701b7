package meta

import (
	"fmt"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// Pretrained is the "pretrained on all tasks" baseline of the MAML paper
// (Finn et al. 2017, section 5.1): the model is trained by ordinary
// supervised learning on the pooled examples (support and query) of each
// meta-batch, then fine-tuned on a new task's support set with the
// embedded MAML's fixed-rate SGD steps (Evaluate). Train recognises it and
// takes one step on the pooled loss per iteration (BatchGradient), so
// comparing it with MAML measures what meta-learning adds.
type Pretrained struct {
	*MAML
}

// Name implements Algorithm.
func (p *Pretrained) Name() string { return "pretrain" }

// pooledLoss is the mean squared error of the model on the pooled
// examples of tasks.
func (p *Pretrained) pooledLoss(tasks []data.Task) (*autodiff.Var, error) {
	ps := nn.Vars(p.Head)
	dt := ps[0].DType()
	var xs, ys []*tensor.Tensor
	for _, t := range tasks {
		if t.Ways > 0 {
			return nil, fmt.Errorf("meta: pretrain supports regression task distributions only")
		}
		xs = append(xs, t.SupportX, t.QueryX)
		ys = append(ys, t.SupportY, t.QueryY)
	}
	x := autodiff.Const(tensor.Concat(0, xs...).AsType(dt))
	y := autodiff.Const(tensor.Concat(0, ys...).AsType(dt))
	return nn.MSELoss(nn.Forward(p.Head, x), y), nil
}

// BatchGradient returns the gradient of the pooled loss of a meta-batch.
func (p *Pretrained) BatchGradient(tasks []data.Task, _ int) ([]*tensor.Tensor, TaskResult, error) {
	loss, err := p.pooledLoss(tasks)
	if err != nil {
		return nil, TaskResult{}, err
	}
	g := autodiff.Grad([]*autodiff.Var{loss}, p.MetaParams(), false)
	v := loss.Item()
	autodiff.Free(loss)
	return values(g), TaskResult{Loss: v, Metric: v}, nil
}

// TaskGradient implements Algorithm: the gradient of the supervised loss
// on the task's pooled examples (regression tasks only).
func (p *Pretrained) TaskGradient(t data.Task, iter int) ([]*tensor.Tensor, TaskResult) {
	g, r, err := p.BatchGradient([]data.Task{t}, iter)
	if err != nil {
		panic(err)
	}
	return g, r
}

// samplerStream keeps the task stream the baseline always used.
func (p *Pretrained) samplerStream() uint64 { return 0x707265 }

// Pretrain trains model on the pooled examples of tasks drawn from dist
// with Adam: the Pretrained baseline's training, for a bare model.
func Pretrain(model nn.Module, dist data.TaskDistribution, iterations, tasksPerBatch int, lr float64, seed uint64) error {
	if iterations < 1 || tasksPerBatch < 1 || !(lr > 0) {
		return fmt.Errorf("meta: Pretrain: iterations %d, tasks per batch %d, lr %v: want positive values", iterations, tasksPerBatch, lr)
	}
	m, err := NewMAML(nil, model, MAMLConfig{InnerLR: 1, InnerSteps: 1})
	if err != nil {
		return err
	}
	_, err = Train(&Pretrained{MAML: m}, dist, TrainConfig{Iterations: iterations, MetaBatch: tasksPerBatch, OuterLR: lr, Seed: seed})
	return err
}
