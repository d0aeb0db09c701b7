package meta

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/tensor"
)

// With InnerBatch, each inner SGD step uses the next minibatch of support
// examples with the classes taking turns: one step with batch 3 on a
// 3-way 2-shot task (support stored class by class) trains on examples
// 0, 2 and 4 only, and TaskGradient is lr times that minibatch's gradient.
func TestReptileInnerBatchUsesClassTurns(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	model := nn.MLP(rng, nn.Tanh, 4, 6, 3)
	task := data.Task{
		SupportX: tensor.RandN(rng, tensor.Float64, 1, 6, 4), SupportLabels: []int{0, 0, 1, 1, 2, 2},
		QueryX: tensor.RandN(rng, tensor.Float64, 1, 3, 4), QueryLabels: []int{0, 1, 2}, Ways: 3,
	}
	nn.Cast(model, tensor.Float64)
	const lr = 0.3
	r, err := NewReptile(model, ReptileConfig{InnerLR: lr, InnerSteps: 1, InnerBatch: 3})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := r.TaskGradient(task, 0)

	theta := nn.Vars(model)
	sub := data.Task{SupportX: tensor.IndexSelect(task.SupportX, 0, []int{0, 2, 4}), SupportLabels: []int{0, 1, 2}, Ways: 3}
	loss := TaskLoss(model.Apply(theta, autodiff.Const(sub.SupportX)), sub, false)
	want := autodiff.Grad([]*autodiff.Var{loss}, theta, false)
	for i := range want {
		g, w := got[i].Values(), want[i].Value.Values()
		for j := range w {
			if math.Abs(g[j]-lr*w[j]) > 1e-12 {
				t.Fatalf("param %d[%d]: theta - W = %v, want lr * minibatch gradient %v", i, j, g[j], lr*w[j])
			}
		}
	}
	// the whole support set gives a different update
	full, _ := (&Reptile{Model: model, Cfg: ReptileConfig{InnerLR: lr, InnerSteps: 1}}).TaskGradient(task, 0)
	if full[0].Values()[0] == got[0].Values()[0] {
		t.Error("minibatch and full-batch updates are identical; InnerBatch is ignored")
	}
	if _, err := NewReptile(model, ReptileConfig{InnerLR: lr, InnerSteps: 1, InnerBatch: -1}); err == nil {
		t.Error("negative inner batch accepted")
	}
}

func TestClassTurnsAndWrap(t *testing.T) {
	task := data.Task{SupportX: tensor.New(tensor.Float32, 5, 1), SupportLabels: []int{0, 0, 0, 1, 1}, Ways: 2}
	order := classTurns(task)
	want := []int{0, 3, 1, 4, 2}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("classTurns = %v, want %v", order, want)
		}
	}
	mb := minibatch(task, order, 4, 3) // wraps: 2, 0, 3
	if l := mb.SupportLabels; len(l) != 3 || l[0] != 0 || l[1] != 0 || l[2] != 1 {
		t.Errorf("minibatch labels = %v, want [0 0 1]", l)
	}
}

// Spec.TrainShots changes the training episodes only.
func TestSpecTrainShots(t *testing.T) {
	s := Spec{Dataset: "sinusoid", Algorithm: "reptile", Shots: 5, TrainShots: 10, InnerBatch: 5}
	s.Defaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for split, n := range map[string]int{"train": 10, "val": 5, "test": 5} {
		d, err := s.Tasks(split)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Sample(rng).SupportX.Shape()[0]; got != n {
			t.Errorf("%s: %d support points, want %d", split, got, n)
		}
	}
	bad := s
	bad.Algorithm = "maml"
	if err := bad.Validate(); err == nil {
		t.Error("inner batch accepted for maml")
	}
}

// With CarryAdam, Reptile behaves like the authors' code: one inner Adam
// whose statistics persist while only the model's weights are reset to
// theta before each task. The reference below is that loop written out;
// evaluation must start from the carried state and leave it unchanged.
func TestReptileCarryAdamMatchesPersistentOptimizer(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	model := nn.MLP(rng, nn.Tanh, 1, 8, 1)
	nn.Cast(model, tensor.Float64)
	tasks := data.EvalSet(data.Sinusoid{Support: 6, Query: 4}, 3, 5)
	cfg := ReptileConfig{InnerLR: 0.02, InnerSteps: 3, InnerAdam: true, CarryAdam: true}
	r, err := NewReptile(model, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := NewReptile(model, ReptileConfig{InnerLR: 0.02, InnerSteps: 3, InnerAdam: true})

	theta := nn.Vars(model)
	w := make([]*autodiff.Var, len(theta))
	for i, p := range theta {
		w[i] = autodiff.Param(p.Value.Clone())
	}
	opt := optim.NewAdam(w, optim.AdamConfig{LR: 0.02, Beta1: 0, Beta2: 0.999, ExplicitBetas: true})
	for k, task := range tasks {
		before := r.CarriedState()
		ev := r.Evaluate(task, 2)
		for i, v := range r.CarriedState() {
			if !tensor.AllClose(v, before[i], 0, 0) {
				t.Fatalf("task %d: Evaluate changed carried tensor %d", k, i)
			}
		}
		got, _ := r.TaskGradient(task, 0)
		for i, p := range theta { // reset the weights only, as the authors' code does
			w[i].Value = p.Value.Clone()
		}
		for s := 0; s < 3; s++ {
			xs, _ := inputs(task, tensor.Float64)
			loss := TaskLoss(model.Apply(w, xs), task, false)
			opt.StepWith(values(autodiff.Grad([]*autodiff.Var{loss}, w, false)))
		}
		for i := range theta {
			want := tensor.Sub(theta[i].Value, w[i].Value)
			if !tensor.AllClose(got[i], want, 1e-12, 1e-12) {
				t.Fatalf("task %d param %d: theta - W differs from the persistent-Adam reference", k, i)
			}
		}
		if st := r.CarriedState(); st[len(st)-1].Values()[0] != float64(3*(k+1)) {
			t.Fatalf("task %d: carried step = %v, want %d", k, st[len(st)-1].Values()[0], 3*(k+1))
		}
		if k > 0 {
			fg, _ := fresh.TaskGradient(task, 0)
			if tensor.AllClose(fg[0], got[0], 1e-9, 0) {
				t.Fatalf("task %d: carried and fresh Adam give the same update; the state is not carried", k)
			}
			if ev2 := fresh.Evaluate(task, 2); ev2.Loss == ev.Loss {
				t.Fatalf("task %d: evaluation ignores the carried state", k)
			}
		}
	}
	// the state round-trips, and bad states are refused
	st := r.CarriedState()
	r2, _ := NewReptile(model, cfg)
	if err := r2.SetCarriedState(st); err != nil {
		t.Fatal(err)
	}
	a, _ := r.TaskGradient(tasks[0], 0)
	b, _ := r2.TaskGradient(tasks[0], 0)
	if !tensor.AllClose(a[0], b[0], 0, 0) {
		t.Error("restored carried state gives a different update")
	}
	bad := r.CarriedState()
	bad[0] = tensor.Full(tensor.Float64, -1, bad[0].Shape()...)
	if err := r2.SetCarriedState(bad); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("negative v accepted: %v", err)
	}
	if err := r2.SetCarriedState(st[:1]); err == nil {
		t.Error("short carried state accepted")
	}
	if _, err := NewReptile(model, ReptileConfig{InnerLR: 0.02, InnerSteps: 1, CarryAdam: true}); err == nil {
		t.Error("CarryAdam without InnerAdam accepted")
	}
	sp := Spec{Algorithm: "maml", Dataset: "sinusoid", CarryAdam: true}
	if sp.Defaults(); sp.Validate() == nil {
		t.Error("carry_adam with maml accepted")
	}
}
