package meta

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/tensor"
)

// syntheticImages is a ClassDataset of random 28x28 images: classes
// classes of per images each, fixed by seed.
func syntheticImages(classes, per int, seed uint64) *data.ClassDataset {
	rng := rand.New(rand.NewPCG(seed, 3))
	n := classes * per
	ds := &data.ClassDataset{Images: tensor.RandN(rng, tensor.Float32, 1, n, 1, 28, 28)}
	for c := 0; c < classes; c++ {
		idx := make([]int, per)
		for j := range idx {
			idx[j] = c*per + j
		}
		ds.ByClass = append(ds.ByClass, idx)
		ds.ClassNames = append(ds.ClassNames, fmt.Sprintf("c%02d", c))
	}
	return ds
}

// execSetting is one way of running the same training: meta-batch workers,
// GOMAXPROCS and the tensor kernels' thread count (which a process takes
// from GOMAXPROCS at start-up, so both are set together).
type execSetting struct{ workers, procs int }

func (e execSetting) String() string {
	return fmt.Sprintf("Workers=%d GOMAXPROCS=%d threads=%d", e.workers, e.procs, e.procs)
}

var determinismSettings = []execSetting{{1, 1}, {2, 2}, {2, 1}, {1, 2}}

// trainParams builds the spec, meta-trains it for iters iterations on dist
// under the setting, and returns copies of the meta-parameters.
func trainParams(t *testing.T, s Spec, dist func(Spec) data.TaskDistribution, iters, batch int, e execSetting) []*tensor.Tensor {
	t.Helper()
	oldProcs := runtime.GOMAXPROCS(e.procs)
	oldThreads := tensor.SetThreads(e.procs)
	defer func() {
		runtime.GOMAXPROCS(oldProcs)
		tensor.SetThreads(oldThreads)
	}()
	b, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Train(b.Algorithm, dist(b.Spec), TrainConfig{Iterations: iters, MetaBatch: batch, OuterLR: 1e-3, Seed: 11, Workers: e.workers}); err != nil {
		t.Fatal(err)
	}
	var out []*tensor.Tensor
	for _, p := range b.Algorithm.MetaParams() {
		out = append(out, p.Value.Clone())
	}
	return out
}

// firstDifference describes where two parameter lists differ bitwise, or
// returns "".
func firstDifference(a, b []*tensor.Tensor, names []string) string {
	for i := range a {
		for j := 0; j < a[i].Len(); j++ {
			x, y := a[i].Flat(j), b[i].Flat(j)
			if math.Float64bits(x) != math.Float64bits(y) {
				return fmt.Sprintf("%s element %d: %v vs %v (max |diff| over the tensor %g)", names[i], j, x, y, tensor.MaxAbsDiff(a[i], b[i]))
			}
		}
	}
	return ""
}

// The same seed gives bit-identical meta-parameters whatever the number of
// meta-batch workers, GOMAXPROCS and kernel threads.
func TestDeterminismAcrossWorkersAndThreads(t *testing.T) {
	sine := func(s Spec) data.TaskDistribution { return data.Sinusoid{Support: s.Shots, Query: s.Queries} }
	images := syntheticImages(12, 8, 5)
	episodic := func(s Spec) data.TaskDistribution {
		e, err := data.NewEpisodic(images, s.Ways, s.Shots, s.Queries)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	cases := []struct {
		name         string
		spec         Spec
		dist         func(Spec) data.TaskDistribution
		iters, batch int
	}{
		{"sinusoid-maml", Spec{Algorithm: "maml", Dataset: "sinusoid", Hidden: 40, Shots: 5, Queries: 5, Seed: 3}, sine, 5, 4},
		// Hidden 32 and 30 images per episode put the conv weight-gradient
		// kernels above their parallel threshold.
		{"conv-protonet", Spec{Algorithm: "protonet", Dataset: "omniglot", Ways: 5, Shots: 1, Queries: 5, Hidden: 32, Seed: 3}, episodic, 3, 2},
		{"conv-maml", Spec{Algorithm: "maml", Dataset: "omniglot", Ways: 5, Shots: 1, Queries: 5, Hidden: 32, Seed: 3}, episodic, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Build(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for i := range b.Algorithm.MetaParams() {
				names = append(names, fmt.Sprintf("meta-parameter %d", i))
			}
			for i, n := range b.Tensors() {
				if i < len(names) {
					names[i] = n.Name
				}
			}
			ref := trainParams(t, c.spec, c.dist, c.iters, c.batch, determinismSettings[0])
			for _, e := range determinismSettings[1:] {
				got := trainParams(t, c.spec, c.dist, c.iters, c.batch, e)
				if d := firstDifference(ref, got, names); d != "" {
					t.Errorf("%s differs from %s after %d iterations: %s", e, determinismSettings[0], c.iters, d)
				}
			}
			again := trainParams(t, c.spec, c.dist, c.iters, c.batch, determinismSettings[0])
			if d := firstDifference(ref, again, names); d != "" {
				t.Errorf("two runs with %s differ: %s", determinismSettings[0], d)
			}
		})
	}
}
