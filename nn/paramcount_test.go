package nn

import (
	"math/rand/v2"
	"testing"
)

// paramCount agrees with len(Params()), and Vars with the Params' Vars in
// order, for every kind of module.
func TestParamCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	noBias := NewLinear(rng, 3, 2)
	noBias.Bias = nil
	convNoBias := NewConv2d(rng, 2, 3, 3, 1, 1)
	convNoBias.Bias = nil
	for name, m := range map[string]Module{
		"linear": NewLinear(rng, 3, 2), "linear/no-bias": noBias, "conv4": Conv4(rng, 1, 4),
		"mlp": MLP(rng, ReLU, 2, 3, 1), "batchnorm": NewBatchNorm(3), "layernorm": NewLayerNorm(3),
		"nested": NewSequential(MLP(rng, Tanh, 1, 2), NewSequential(ReLU(), NewLinear(rng, 2, 2))),
		"func":   ReLU(), "embedding": NewEmbedding(rng, 5, 2), "dropout": NewDropout(0.1, 1),
		"conv/no-bias": convNoBias, "mixed": NewSequential(NewLayerNorm(2), convNoBias, NewBatchNorm(3)),
	} {
		if got, want := paramCount(m), len(m.Params()); got != want {
			t.Errorf("%s: paramCount %d, len(Params()) %d", name, got, want)
		}
		vs, ps := Vars(m), m.Params()
		if len(vs) != len(ps) {
			t.Errorf("%s: Vars has %d, Params %d", name, len(vs), len(ps))
			continue
		}
		for i := range vs {
			if vs[i] != ps[i].V {
				t.Errorf("%s: Vars[%d] is not Params()[%d].V (%s)", name, i, i, ps[i].Name)
			}
		}
	}
}
