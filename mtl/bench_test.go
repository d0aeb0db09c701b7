package mtl

import (
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/optim"
)

// BenchmarkSeedStep: one faithful-recipe training step (MTLNet forward,
// BCE, backward, Adam) on a full batch of 800 points.
func BenchmarkSeedStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	cfg := DefaultSeedConfig(false)
	m := NewSeedModel(rng, cfg, 2)
	x, y := data.SeedCircle.Sample(rng, 800)
	xs, ys := autodiff.Const(x), autodiff.Const(y)
	var vars []*autodiff.Var
	for _, p := range m.Params() {
		vars = append(vars, p.V)
	}
	opt := optim.NewAdam(vars, optim.AdamConfig{LR: 1e-3})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		opt.ZeroGrad()
		cfg.loss(m.Logits(0, xs), ys).Backward()
		opt.Step()
	}
	_ = nn.Forward
}
