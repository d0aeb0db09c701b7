package meta

import (
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/tensor"
)

func TestAlgorithmTable(t *testing.T) {
	for _, tc := range []struct {
		name, want      string
		outer, sched    string
		lr              float64
		batch, sinBatch int
	}{
		{"maml", "maml", "adam", "constant", 1e-3, 4, 25},
		{"MAML++", "maml++", "adam", "constant", 1e-3, 4, 25},
		{"mamlpp", "maml++", "adam", "constant", 1e-3, 4, 25},
		{"fo-maml", "fomaml", "adam", "constant", 1e-3, 4, 25},
		{"meta-sgd", "metasgd", "adam", "constant", 1e-3, 4, 25},
		{"reptile", "reptile", "sgd", "linear", 1, 5, 25},
		{"proto", "protonet", "adam", "constant", 1e-3, 1, 25},
		{"r2d2", "r2d2", "adam", "constant", 1e-3, 1, 25},
		{"pretrain", "pretrain", "adam", "constant", 1e-3, 4, 25},
	} {
		a, err := AlgorithmByName(tc.name)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if a.Name != tc.want || a.Outer != tc.outer || a.Schedule != tc.sched || a.OuterLR != tc.lr || a.DefaultMetaBatch("omniglot") != tc.batch || a.DefaultMetaBatch("sinusoid") != tc.sinBatch {
			t.Errorf("%s: %+v", tc.name, a)
		}
		// every row builds, and an alias is recorded by its name
		s := Spec{Algorithm: tc.name, Dataset: "sinusoid", Hidden: 4}
		if a.MetricBased {
			s.Dataset = "omniglot"
		}
		b, err := Build(s)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if b.Spec.Algorithm != tc.want {
			t.Errorf("%s recorded as %q", tc.name, b.Spec.Algorithm)
		}
	}
	if _, err := AlgorithmByName("mamll"); err == nil {
		t.Error("unknown algorithm accepted")
	}
	if len(Algorithms) != len(algorithmTable) {
		t.Error("Algorithms does not list the table")
	}
}

// The pretrain baseline, now an Algorithm trained by Train, takes exactly
// the steps of the plain supervised loop it replaced (Adam on the pooled
// support and query examples of each batch of tasks, drawn from the
// baseline's own stream).
func TestPretrainedEqualsPooledAdam(t *testing.T) {
	const iters, batch, lr, seed = 20, 4, 1e-3, 3
	dist := data.Sinusoid{Support: 5, Query: 5}
	b, err := Build(Spec{Algorithm: "pretrain", Dataset: "sinusoid", Hidden: 8, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := Build(Spec{Algorithm: "pretrain", Dataset: "sinusoid", Hidden: 8, Seed: seed})
	if _, err := Train(b.Algorithm, dist, TrainConfig{Iterations: iters, MetaBatch: batch, OuterLR: lr, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	// the loop the CLI ran before
	rng := rand.New(rand.NewPCG(seed, 0x707265))
	params := nn.Vars(ref.Model)
	opt := optim.NewAdam(params, optim.AdamConfig{LR: lr})
	for it := 0; it < iters; it++ {
		var xs, ys []*tensor.Tensor
		for range batch {
			task := dist.Sample(rng)
			xs, ys = append(xs, task.SupportX, task.QueryX), append(ys, task.SupportY, task.QueryY)
		}
		x := autodiff.Const(tensor.Concat(0, xs...).AsType(params[0].DType()))
		y := autodiff.Const(tensor.Concat(0, ys...).AsType(params[0].DType()))
		opt.ZeroGrad()
		nn.MSELoss(nn.Forward(ref.Model, x), y).Backward()
		opt.Step()
	}
	got, want := b.Tensors(), ref.Tensors()
	for i := range want {
		x, y := got[i].Tensor.Values(), want[i].Tensor.Values()
		for j := range x {
			if x[j] != y[j] {
				t.Fatalf("%s[%d]: Train %v, pooled Adam loop %v", want[i].Name, j, x[j], y[j])
			}
		}
	}
}
