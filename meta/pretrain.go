package meta

import (
	"fmt"
	"math/rand/v2"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/tensor"
)

// Pretrain is the "pretrained on all tasks" baseline of the MAML paper
// (Finn et al. 2017, section 5.1): ordinary supervised training of model on
// the pooled examples (support and query) of tasks drawn from dist, with
// Adam. Fine-tuning it on a new task's support set (e.g. via a FixedLR MAML
// wrapper's Evaluate) measures what meta-learning adds.
func Pretrain(model nn.Module, dist data.TaskDistribution, iterations, tasksPerBatch int, lr float64, seed uint64) error {
	if iterations < 1 || tasksPerBatch < 1 || !(lr > 0) {
		return fmt.Errorf("meta: Pretrain: iterations %d, tasks per batch %d, lr %v: want positive values", iterations, tasksPerBatch, lr)
	}
	rng := rand.New(rand.NewPCG(seed, 0x707265))
	params := nn.Vars(model)
	dt := params[0].DType()
	opt := optim.NewAdam(params, optim.AdamConfig{LR: lr})
	for it := 0; it < iterations; it++ {
		var xs, ys []*tensor.Tensor
		for b := 0; b < tasksPerBatch; b++ {
			t := dist.Sample(rng)
			if t.Ways > 0 {
				return fmt.Errorf("meta: Pretrain supports regression task distributions only")
			}
			xs = append(xs, t.SupportX, t.QueryX)
			ys = append(ys, t.SupportY, t.QueryY)
		}
		x := autodiff.Const(tensor.Concat(0, xs...).AsType(dt))
		y := autodiff.Const(tensor.Concat(0, ys...).AsType(dt))
		opt.ZeroGrad()
		nn.MSELoss(nn.Forward(model, x), y).Backward()
		opt.Step()
	}
	return nil
}
