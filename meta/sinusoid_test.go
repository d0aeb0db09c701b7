package meta

import (
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
)

// A short MAML run on sinusoid regression must make adaptation work: the
// post-adaptation MSE falls well below the pre-adaptation MSE, and below
// that of the same network before meta-training.
func TestMAMLSinusoidLearnsToAdapt(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	model := nn.MLP(rng, nn.ReLU, 1, 40, 40, 1)
	m, err := NewMAML(nil, model, MAMLConfig{InnerLR: 0.01, InnerSteps: 1, EvalSteps: 10})
	if err != nil {
		t.Fatal(err)
	}
	dist := data.Sinusoid{Support: 10, Query: 10}
	test := data.EvalSet(dist, 100, 99)
	before := Evaluate(m, test, 10, 0)
	if _, err := Train(m, dist, TrainConfig{Iterations: 1500, MetaBatch: 10, OuterLR: 2e-3, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	pre := Evaluate(m, test, 0, 0)
	post := Evaluate(m, test, 10, 0)
	t.Logf("untrained after 10 steps %v; meta-trained: before adaptation %v, after 10 steps %v", before, pre, post)
	if post.Mean > 0.5*pre.Mean {
		t.Errorf("adaptation barely helps: %v -> %v", pre, post)
	}
	if post.Mean > 0.7*before.Mean {
		t.Errorf("meta-training did not improve adapted MSE: %v vs untrained %v", post, before)
	}
}

func TestReptileSinusoidLearnsToAdapt(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	model := nn.MLP(rng, nn.ReLU, 1, 40, 40, 1)
	r, err := NewReptile(model, ReptileConfig{InnerLR: 0.02, InnerSteps: 5, EvalSteps: 10})
	if err != nil {
		t.Fatal(err)
	}
	dist := data.Sinusoid{Support: 10, Query: 10}
	test := data.EvalSet(dist, 100, 98)
	if _, err := Train(r, dist, TrainConfig{Iterations: 300, MetaBatch: 5, Outer: "sgd", OuterLR: 1, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	pre := Evaluate(r, test, 0, 0)
	post := Evaluate(r, test, 10, 0)
	t.Logf("Reptile: before adaptation %v, after 10 steps %v", pre, post)
	if post.Mean > 0.6*pre.Mean {
		t.Errorf("adaptation barely helps: %v -> %v", pre, post)
	}
}

func TestPretrainBaselineRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	model := nn.MLP(rng, nn.ReLU, 1, 40, 40, 1)
	dist := data.Sinusoid{Support: 10, Query: 10}
	test := data.EvalSet(dist, 50, 97)
	m, _ := NewMAML(nil, model, MAMLConfig{InnerLR: 0.01, InnerSteps: 1})
	before := Evaluate(m, test, 0, 0)
	if err := Pretrain(model, dist, 200, 10, 1e-3, 3); err != nil {
		t.Fatal(err)
	}
	after := Evaluate(m, test, 0, 0)
	// pooled training learns the mean function (~0): MSE drops towards the
	// task variance but not to zero.
	if after.Mean > before.Mean {
		t.Errorf("pretraining increased MSE: %v -> %v", before, after)
	}
}
