package meta

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

func omniglotDataDir(t *testing.T) string {
	dir := filepath.Join("..", "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(dir, "omniglot", "images_background.npz")); err != nil {
		t.Skipf("Omniglot not found under %s (see ../shared/data/README.md); skipping", dir)
	}
	return dir
}

// Every algorithm builds, takes a training step, and survives a checkpoint
// round trip with identical evaluation results.
func TestSpecBuildSaveLoadEveryAlgorithm(t *testing.T) {
	for _, algo := range Algorithms {
		t.Run(algo, func(t *testing.T) {
			s := Spec{Algorithm: algo, Dataset: "sinusoid", Hidden: 8, EvalSteps: 2, Seed: 3}
			if algo == "protonet" || algo == "r2d2" {
				s = Spec{Algorithm: algo, Dataset: "omniglot", DataDir: omniglotDataDir(t), Ways: 3, Shots: 1, Queries: 2, Hidden: 4, Seed: 3}
			}
			b, err := Build(s)
			if err != nil {
				t.Fatal(err)
			}
			dist, err := b.Spec.Tasks("train")
			if err != nil {
				t.Fatal(err)
			}
			cfg := TrainConfig{Iterations: 3, MetaBatch: 2, OuterLR: 1e-3}
			if algo == "reptile" {
				cfg.Outer = "sgd"
			}
			if _, err := Train(b.Algorithm, dist, cfg); err != nil {
				t.Fatal(err)
			}
			tasks := data.EvalSet(dist, 3, 1)
			if c := reloaded(t, b, tasks, algo); c.Algorithm.Name() != b.Algorithm.Name() {
				t.Fatalf("reloaded %s as %s", b.Algorithm.Name(), c.Algorithm.Name())
			}
		})
	}
}

// The strided Omniglot network (MAML authors' code) maps 28x28 images to
// hidden features, trains, and round-trips through a checkpoint; so does
// Reptile with its carried inner Adam state.
func TestSpecStridedArchAndCarriedState(t *testing.T) {
	dir := omniglotDataDir(t)
	for _, s := range []Spec{
		{Algorithm: "fomaml", Dataset: "omniglot", DataDir: dir, Arch: "strided", Ways: 3, Shots: 1, Queries: 2, Hidden: 4, InnerSteps: 2, Seed: 3},
		{Algorithm: "reptile", Dataset: "omniglot", DataDir: dir, Arch: "strided", InnerAdam: true, CarryAdam: true, InnerLR: 1e-3,
			Ways: 3, Shots: 1, TrainShots: 2, Queries: 2, Hidden: 4, InnerSteps: 2, InnerBatch: 3, Seed: 3},
	} {
		b, err := Build(s)
		if err != nil {
			t.Fatal(err)
		}
		enc := b.Model.(*nn.Sequential).Layers[0]
		x := autodiff.Const(tensor.New(tensor.Float32, 2, 1, 28, 28))
		if got := enc.Apply(nn.Vars(enc), x).Shape(); len(got) != 2 || got[0] != 2 || got[1] != 4 {
			t.Fatalf("%s: strided encoder output shape %v, want [2 4]", s.Algorithm, got)
		}
		if n := len(enc.(*nn.Sequential).Layers); n != 13 {
			t.Fatalf("%s: strided encoder has %d layers, want 4 x (conv, BN, ReLU) + mean", s.Algorithm, n)
		}
		dist, err := b.Spec.Tasks("train")
		if err != nil {
			t.Fatal(err)
		}
		cfg := TrainConfig{Iterations: 3, MetaBatch: 2, OuterLR: 1e-3}
		if s.Algorithm == "reptile" {
			cfg.Outer, cfg.OuterLR = "sgd", 1
		}
		if _, err := Train(b.Algorithm, dist, cfg); err != nil {
			t.Fatal(err)
		}
		val, _ := b.Spec.Tasks("val")
		tasks := data.EvalSet(val, 3, 1)
		c := reloaded(t, b, tasks, s.Algorithm)
		if s.CarryAdam {
			st := c.Algorithm.(Carrier).CarriedState()
			if step := st[len(st)-1].Values()[0]; step != 3*2*2 {
				t.Fatalf("carried step after reload = %v, want 12 (3 iterations x 2 tasks x 2 steps)", step)
			}
			// a model file without the carried tensors is refused by name
			ts := b.Tensors()
			var kept []checkpoint.Named
			for _, n := range ts {
				if !strings.HasPrefix(n.Name, "carried.") {
					kept = append(kept, n)
				}
			}
			path := filepath.Join(t.TempDir(), "no-carried.safetensors")
			if err := b.saveTensors(path, kept, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(path); err == nil || !strings.Contains(err.Error(), `"carried.0"`) {
				t.Fatalf("checkpoint without carried state: err = %v", err)
			}
		}
	}
}

// reloaded saves b, loads it back and checks that the copy evaluates tasks
// exactly as b does.
func reloaded(t *testing.T, b *Built, tasks []data.Task, what string) *Built {
	t.Helper()
	want := Evaluate(b.Algorithm, tasks, -1, 1)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := b.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := Evaluate(c.Algorithm, tasks, -1, 1); got != want {
		t.Fatalf("%s: evaluation after reload %v, before %v", what, got, want)
	}
	return c
}

func TestSpecErrors(t *testing.T) {
	cases := []struct {
		s    Spec
		want string
	}{
		{Spec{Algorithm: "nope"}, `algorithm "nope"`},
		{Spec{Dataset: "mnist"}, `dataset "mnist"`},
		{Spec{Algorithm: "protonet", Dataset: "sinusoid"}, "needs a classification dataset"},
		{Spec{Dataset: "omniglot", Ways: 1}, "ways = 1"},
		{Spec{Shots: -1}, "shots = -1"},
		{Spec{InnerLR: -0.5}, "inner learning rate = -0.5"},
		{Spec{Dataset: "omniglot", Split: "random"}, `split "random"`},
		{Spec{Dataset: "omniglot", Arch: "resnet"}, `arch "resnet"`},
		{Spec{Dataset: "sinusoid", Arch: "strided"}, "not the sinusoid MLP"},
		{Spec{Algorithm: "reptile", Dataset: "sinusoid", CarryAdam: true}, "carry adam applies to reptile with inner adam"},
	}
	for _, c := range cases {
		if _, err := Build(c.s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.s, err, c.want)
		}
	}
	// a missing data folder names where to put the files
	s := Spec{Algorithm: "protonet", Dataset: "omniglot", DataDir: t.TempDir()}
	s.Defaults()
	if _, err := s.Tasks("train"); err == nil || !strings.Contains(err.Error(), "images_background.npz") {
		t.Errorf("missing data error: %v", err)
	}
	// N larger than the number of classes is caught when building the sampler
	if testing.Short() {
		return
	}
	dir := omniglotDataDir(t)
	big := Spec{Algorithm: "protonet", Dataset: "omniglot", DataDir: dir, Ways: 5000, Shots: 1, Queries: 1}
	big.Defaults()
	if _, err := big.Tasks("train"); err == nil {
		t.Error("5000-way tasks accepted")
	}
	many := Spec{Algorithm: "protonet", Dataset: "omniglot", DataDir: dir, Ways: 5, Shots: 10, Queries: 15}
	many.Defaults()
	if _, err := many.Tasks("train"); err == nil {
		t.Error("25 examples per class accepted from 20-example classes")
	}
}

// ProtoNets on Omniglot reach clearly-better-than-chance accuracy in seconds.
func TestProtoNetOmniglotLearns(t *testing.T) {
	s := Spec{Algorithm: "protonet", Dataset: "omniglot", DataDir: omniglotDataDir(t), Ways: 5, Shots: 1, Queries: 5, Hidden: 16, Seed: 1}
	b, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	train, _ := b.Spec.Tasks("train")
	val, _ := b.Spec.Tasks("val")
	tasks := data.EvalSet(val, 100, 7)
	before := Evaluate(b.Algorithm, tasks, -1, 0)
	if _, err := Train(b.Algorithm, train, TrainConfig{Iterations: 60, MetaBatch: 1, OuterLR: 1e-3}); err != nil {
		t.Fatal(err)
	}
	after := Evaluate(b.Algorithm, tasks, -1, 0)
	t.Logf("5-way 1-shot val accuracy: untrained %v, after 60 episodes %v", before, after)
	if after.Mean < 0.5 || after.Mean < before.Mean+0.05 {
		t.Errorf("ProtoNet accuracy %v (untrained %v); chance is 0.2", after, before)
	}
}

// Per-step BatchNorm statistics and running statistics round-trip through
// checkpoints, and per-step statistics really differ between steps.
func TestBatchNormModes(t *testing.T) {
	dir := omniglotDataDir(t)
	for _, mode := range []string{"running", "per-step"} {
		s := Spec{Algorithm: "maml", Dataset: "omniglot", DataDir: dir, Ways: 3, Shots: 1, Queries: 2, Hidden: 4, InnerSteps: 2, EvalSteps: 2, BatchNorm: mode, Seed: 5}
		b, err := Build(s)
		if err != nil {
			t.Fatal(err)
		}
		dist, _ := b.Spec.Tasks("train")
		if _, err := Train(b.Algorithm, dist, TrainConfig{Iterations: 3, MetaBatch: 2, OuterLR: 1e-3}); err != nil {
			t.Fatal(err)
		}
		tasks := data.EvalSet(dist, 4, 2)
		reloaded(t, b, tasks, mode)
		if mode == "per-step" {
			sm := b.stepModules()
			if len(sm) != 3 {
				t.Fatalf("%d step modules, want 3", len(sm))
			}
			m0 := nn.Buffers(sm[0])[0].V.Value
			m1 := nn.Buffers(sm[1])[0].V.Value
			if tensor.MaxAbsDiff(m0, m1) == 0 {
				t.Fatal("step 0 and step 1 share identical running statistics")
			}
		}
	}
	if _, err := Build(Spec{Algorithm: "protonet", Dataset: "omniglot", BatchNorm: "per-step"}); err == nil {
		t.Error("per-step BatchNorm accepted for protonet")
	}
	if _, err := Build(Spec{Algorithm: "fomaml", Recompute: true}); err == nil {
		t.Error("recompute accepted for first-order MAML")
	}
}

func TestANILOnSinusoidAdaptsOnlyTheHead(t *testing.T) {
	b, err := Build(Spec{Algorithm: "anil", Dataset: "sinusoid", Hidden: 8})
	if err != nil {
		t.Fatal(err)
	}
	m := b.Algorithm.(*MAML)
	if m.Name() != "anil" || m.Body == nil || len(m.Head.Params()) != 2 {
		t.Fatalf("ANIL built as %s with head params %d", m.Name(), len(m.Head.Params()))
	}
}

// OuterSchedule: the named schedules start at lr and anneal to 0 over the
// run; "" is the algorithm's default (linear for Reptile); unknown names
// are errors naming the choices.
func TestOuterSchedule(t *testing.T) {
	for _, c := range []struct {
		name, algo string
		at         []float64 // lr at iterations 0, 50, 100 of 100
	}{
		{"constant", "maml", nil},
		{"", "fomaml", nil},
		{"linear", "maml", []float64{2, 1, 0}},
		{"", "reptile", []float64{2, 1, 0}},
		{"cosine", "fomaml", []float64{2, 1, 0}},
	} {
		s, err := OuterSchedule(c.name, c.algo, 2, 100)
		if err != nil {
			t.Fatalf("%q %s: %v", c.name, c.algo, err)
		}
		if (s == nil) != (c.at == nil) {
			t.Fatalf("%q %s: schedule %v, want constant %v", c.name, c.algo, s != nil, c.at == nil)
		}
		for i, it := range []int{0, 50, 100} {
			if s != nil && math.Abs(s(it)-c.at[i]) > 1e-12 {
				t.Errorf("%q %s: lr at %d = %v, want %v", c.name, c.algo, it, s(it), c.at[i])
			}
		}
	}
	if s, _ := OuterSchedule("cosine", "maml", 2, 100); !(s(25) > 1.5 && s(75) < 0.5) {
		t.Errorf("cosine: lr at 25, 75 = %v, %v: want the half-cosine shape", s(25), s(75))
	}
	if _, err := OuterSchedule("step", "maml", 2, 100); err == nil || !strings.Contains(err.Error(), `"step", want one of constant, linear, cosine`) {
		t.Errorf("unknown schedule: %v", err)
	}
}
