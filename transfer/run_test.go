package transfer

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseShots(t *testing.T) {
	cases := []struct {
		text string
		want []int
		err  string
	}{
		{"1,5,all", []int{1, 5, 0}, ""},
		{" 3 ", []int{3}, ""},
		{"0", nil, `"0" is not a positive integer`},
		{"1,x", nil, `"x"`},
	}
	for _, c := range cases {
		got, err := ParseShots(c.text)
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) || (err == nil && !slices.Equal(got, c.want)) {
			t.Errorf("ParseShots(%q) = %v, %v; want %v, %q", c.text, got, err, c.want, c.err)
		}
	}
}

func TestParseStrategiesAndRelabel(t *testing.T) {
	sts, err := ParseStrategies("full,freeze,probe", 9)
	if err != nil || len(sts) != 3 || sts[1].Name() != "freeze-4" {
		t.Fatalf("ParseStrategies: %v, %v", sts, err)
	}
	for _, bad := range []string{"magic", "freeze:12"} {
		if _, err := ParseStrategies(bad, 9); err == nil {
			t.Errorf("ParseStrategies(%q): no error", bad)
		}
	}
	d := blobs(1, 12, 3, 2, 2) // classes c0, c1
	r, err := Relabel(d, []string{"x", "c1", "c0"})
	if err != nil {
		t.Fatal(err)
	}
	for i, y := range d.Y {
		if r.ClassNames[r.Y[i]] != d.ClassNames[y] {
			t.Fatalf("example %d: class %s became %s", i, d.ClassNames[y], r.ClassNames[r.Y[i]])
		}
	}
	if _, err := Relabel(d, []string{"c0"}); err == nil || !strings.Contains(err.Error(), `"c1"`) {
		t.Errorf("unseen class: %v", err)
	}
	l := &Loader{Dir: t.TempDir(), Size: 28}
	for spec, want := range map[string]string{"mnist:1": `unknown kind "mnist"`, "office": "want office:", "omniglot:Latin": "omniglot background set not found"} {
		if _, err := l.Load(spec, 0); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%q): %v, want %q", spec, err, want)
		}
	}
}

// Pretrain writes a source model that Finetune reads back: the gain report
// has scratch and every asked strategy, and a target of another input
// shape is refused.
func TestPretrainThenFinetune(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.safetensors")
	d := blobs(1, 120, 6, 3, 3)
	pr, err := Pretrain(PretrainConfig{Data: d, Spec: "blobs", Arch: "mlp:8", Split: []float64{0.6, 0.2, 0.2}, Out: src,
		Train: Config{Steps: 40, LR: 0.01, EvalEvery: 10, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if pr.Classes != 3 || pr.TrainExamples == 0 || pr.TestAccuracy < 0.5 {
		t.Fatalf("pretrain %+v", pr)
	}
	g, err := Finetune(FinetuneConfig{Source: src, Target: blobs(2, 90, 6, 3, 3), TargetSpec: "blobs2", Strategies: "full,probe",
		Split: []float64{0.5, 0.25, 0.25}, Shots: []int{2}, Seeds: 2, Train: Config{Steps: 10, LR: 0.01}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"scratch", "full", "probe"} {
		if g.Cell(s, 2) == nil {
			t.Errorf("no %s cell at 2 shots", s)
		}
	}
	_, err = Finetune(FinetuneConfig{Source: src, Target: blobs(2, 90, 5, 3, 3), TargetSpec: "narrow", Strategies: "full",
		Split: []float64{0.5, 0.25, 0.25}, Shots: []int{2}, Seeds: 1})
	if err == nil || !strings.Contains(err.Error(), "inputs of shape [5]") {
		t.Errorf("mismatched target: %v", err)
	}
}
