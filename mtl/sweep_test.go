package mtl

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestExperimentSpecCheck(t *testing.T) {
	cases := []struct {
		spec ExperimentSpec
		want string // "" : valid
	}{
		{ExperimentSpec{Dataset: "circles", Tasks: 3, PerTask: 5}, ""},
		{ExperimentSpec{Dataset: "circles", Tasks: 0, PerTask: 5}, "0 tasks"},
		{ExperimentSpec{Dataset: "mulan:enb"}, ""},
		{ExperimentSpec{Dataset: "mulan:nope"}, "unknown Mulan set"},
		{ExperimentSpec{Dataset: "multimnist"}, ""},
		{ExperimentSpec{Dataset: "multimnist:100:20"}, ""},
		{ExperimentSpec{Dataset: "multimnist:0"}, "positive example count"},
		{ExperimentSpec{Dataset: "multimnist:1:2:3"}, "want multimnist"},
		{ExperimentSpec{Dataset: "parkinsons:motor"}, ""},
		{ExperimentSpec{Dataset: "parkinsons:tremor"}, "parkinsons:motor"},
		{ExperimentSpec{Dataset: "nope"}, `dataset "nope": unknown`},
	}
	for _, c := range cases {
		err := c.spec.Check()
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: error %v, want %q", c.spec, err, c.want)
		}
	}
	if _, err := (ExperimentSpec{Dataset: "mulan:enb", DataDir: t.TempDir()}).Build(1); err == nil || !strings.Contains(err.Error(), "enb.arff") {
		t.Errorf("missing Mulan file: %v", err)
	}
}

// A sweep with saved models: EvaluateSaved recomputes the same metrics
// and Delta_p from the files alone.
func TestSweepSaveEvaluate(t *testing.T) {
	dir := t.TempDir()
	res, err := Sweep(SweepConfig{Spec: ExperimentSpec{Dataset: "circles", Tasks: 3, PerTask: 10}, Arch: "hard", Hidden: 8, Steps: 20, LR: 0.01,
		Seed: 4, Weightings: []string{"ew", "mgda"}, SaveDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 3 || res.Rows[0].Weighting != "single-task" || res.Rows[2].Weighting != "mgda" || len(res.Rows[2].Saved) != 1 {
		t.Fatalf("rows %+v", res.Rows)
	}
	ev, err := EvaluateSaved(filepath.Join(dir, "mgda.safetensors"), "", "")
	if err != nil {
		t.Fatal(err)
	}
	want := res.Rows[2]
	for i, v := range want.Metrics[0] {
		if ev.Metrics[i] != v {
			t.Errorf("task %d: evaluated %v, trained %v", i, ev.Metrics[i], v)
		}
	}
	if ev.DeltaP != want.DeltaP[0] || ev.Info.Weighting != "mgda" || ev.Info.Seed != 4 {
		t.Errorf("Delta_p %v (trained %v), info %+v", ev.DeltaP, want.DeltaP[0], ev.Info)
	}
	for _, c := range []SweepConfig{
		{Spec: ExperimentSpec{Dataset: "circles", Tasks: 2, PerTask: 5}, Arch: "nope", Hidden: 4, Steps: 1, LR: 1, Weightings: []string{"ew"}},
		{Spec: ExperimentSpec{Dataset: "circles", Tasks: 2, PerTask: 5}, Arch: "hard", Hidden: 4, Steps: 0, LR: 1, Weightings: []string{"ew"}},
		{Spec: ExperimentSpec{Dataset: "circles", Tasks: 2, PerTask: 5}, Arch: "hard", Hidden: 4, Steps: 1, LR: 1, Weightings: []string{"magic"}},
		{Spec: ExperimentSpec{Dataset: "circles", Tasks: 2, PerTask: 5}, Arch: "hard", Hidden: 4, Steps: 1, LR: 1, Weightings: []string{"ew"}, Seeds: -1},
	} {
		if _, err := Sweep(c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
