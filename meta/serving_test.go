package meta

import (
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

func TestServingHelpers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.RandU(rng, tensor.Float32, 0, 1, 6, 1, 28, 28)
	task := data.Task{SupportX: x, QueryX: x, SupportLabels: []int{0, 1, 2, 0, 1, 2}, QueryLabels: []int{0, 1, 2, 0, 1, 2}, Ways: 3}
	for _, algo := range []string{"protonet", "r2d2"} {
		b, err := Build(Spec{Algorithm: algo, Dataset: "omniglot", Ways: 3, Hidden: 4})
		if err != nil {
			t.Fatal(err)
		}
		p := b.Algorithm.(*ProtoNet)
		want := p.Logits(task)
		got := p.Frozen(nil).Logits(task)
		if !want.RequiresGrad() || got.RequiresGrad() || !tensor.AllClose(want.Value, got.Value, 0, 0) {
			t.Fatalf("%s: Frozen logits differ or record a graph", algo)
		}
		if acc := nn.Accuracy(got.Value, task.QueryLabels); acc != p.Evaluate(task, 0).Metric {
			t.Fatalf("%s: Logits accuracy %v vs Evaluate", algo, acc)
		}
	}
	b, err := Build(Spec{Algorithm: "maml++", Dataset: "omniglot", Ways: 3, Hidden: 4, InnerSteps: 2, EvalSteps: 3, BatchNorm: "per-step"})
	if err != nil {
		t.Fatal(err)
	}
	m := b.Algorithm.(*MAML)
	if len(m.StepLRs(0)) != len(m.Head.Params()) || m.StepLRs(5)[0] != m.StepLRs(2)[0] || m.ModuleAt(1) != m.StepModules[1] {
		t.Fatal("StepLRs / ModuleAt")
	}
	f := Freeze(m.Head)
	if y := f.Apply(nn.Vars(f), autodiff.Const(x)); y.RequiresGrad() {
		t.Fatal("Freeze records a graph")
	}
}
