package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const good = `kind: meta
name: sine
seed: 3
meta:
  algorithm: maml
  dataset: sinusoid
  shots: 5
  iterations: 200
`

func TestParseDefaults(t *testing.T) {
	c, err := Parse("run.yaml", []byte(good), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Meta
	if m.Shots != 5 || m.Iterations != 200 || m.MetaBatch != 25 || m.OuterLR != 1e-3 || m.InnerLR != 0.01 || m.Hidden != 40 || m.ValEvery != 20 {
		t.Fatalf("defaults not applied: %+v", m)
	}
	if c.Out != "runs/sine" || c.CheckpointEvery != 20 || c.OnNonFinite != "stop" || c.Seed != 3 {
		t.Fatalf("top-level defaults: %+v", c)
	}
	// the resolved YAML parses back to the same configuration
	c2, err := Parse("resolved.yaml", c.Resolved(), nil)
	if err != nil {
		t.Fatalf("resolved config does not parse: %v\n%s", err, c.Resolved())
	}
	if *c2.Meta != *c.Meta || c2.Out != c.Out {
		t.Fatalf("round trip changed the config:\n%s", c.Resolved())
	}
}

func TestOverrides(t *testing.T) {
	c, err := Parse("run.yaml", []byte(good), []string{"meta.iterations=50", "seed=9", "meta.algorithm=fomaml"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Meta.Iterations != 50 || c.Seed != 9 || c.Meta.Algorithm != "fomaml" {
		t.Fatalf("overrides not applied: %+v %+v", c, c.Meta)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name, src string
		set       []string
		want      []string // substrings of the error
	}{
		{"empty", "", nil, []string{"run.yaml", "empty"}},
		{"syntax", "kind: meta\nmeta:\n  shots: 5\n   queries: 2\n", nil, []string{"run.yaml:4:"}},
		{"unknown key", "kind: meta\nmeta:\n  shots: 5\n  itrations: 3\n", nil, []string{"run.yaml:4:", `unknown key "itrations"`, "in meta", "iterations"}},
		{"unknown top key", "kind: meta\nsed: 3\n", nil, []string{"run.yaml:2:", `unknown key "sed"`}},
		{"wrong type", "kind: meta\nmeta:\n  shots: five\n", nil, []string{"run.yaml:3:", "five"}},
		{"bad value", "kind: meta\nmeta:\n  outer_lr: -0.1\n", nil, []string{"run.yaml:3: meta.outer_lr", "-0.1", "> 0"}},
		{"bad algorithm", "kind: meta\nmeta:\n  algorithm: mamal\n", nil, []string{"run.yaml:3: meta.algorithm", "mamal"}},
		{"missing kind", "name: x\n", nil, []string{`missing key "kind"`}},
		{"bad kind", "kind: metal\n", nil, []string{"run.yaml:1: kind", "metal"}},
		{"wrong section", "kind: meta\nmtl:\n  steps: 3\n", nil, []string{"run.yaml:3: mtl", `kind is "meta"`}},
		{"not a mapping", "- a\n- b\n", nil, []string{"run.yaml:1:", "mapping"}},
		{"bad nonfinite", "kind: meta\non_nonfinite: ignore\n", nil, []string{"run.yaml:2: on_nonfinite", "stop or skip"}},
		{"name with slash", "kind: meta\nname: ../x\n", nil, []string{"name", "plain name"}},
		{"bad override key", good, []string{"meta.itr=3"}, []string{"--set meta.itr", `unknown key "itr"`}},
		{"bad override value", good, []string{"meta.shots=abc"}, []string{"--set meta.shots=abc"}},
		{"override out of range", good, []string{"meta.iterations=-4"}, []string{"--set meta.iterations", "-4"}},
		{"override without =", good, []string{"meta.iterations"}, []string{"key=value"}},
		{"mtl weighting", "kind: mtl\nmtl:\n  weighting: nash\n", nil, []string{"run.yaml:3: mtl.weighting", "nash"}},
		{"inner lr inf", "kind: meta\nmeta:\n  inner_lr: .inf\n", nil, []string{"run.yaml:3: meta.inner_lr"}},
		{"negative time budget", "kind: meta\nmeta:\n  max_minutes: -5\n", nil, []string{"run.yaml:3: meta.max_minutes", "-5", "minutes >= 0"}},
		{"unknown outer schedule", "kind: meta\nmeta:\n  outer_schedule: step\n", nil, []string{"run.yaml:3: meta.outer_schedule", `"step"`, "constant, linear, cosine"}},
		{"NaN time budget", "kind: meta\nmeta:\n  max_minutes: .nan\n", nil, []string{"run.yaml:3: meta.max_minutes", "NaN"}},
		// issue 23: silently accepted before
		{"fractional iterations", "kind: meta\nmeta:\n  iterations: 1.5\n", nil, []string{"run.yaml:3: meta.iterations", "1.5", "whole number"}},
		{"fractional top-level integer", "kind: meta\ncheckpoint_every: 2.5\n", nil, []string{"run.yaml:2: checkpoint_every", "2.5", "whole number"}},
		{"fractional override", good, []string{"meta.iterations=1.5"}, []string{"--set meta.iterations=1.5", "whole number"}},
		{"billion iterations", "kind: meta\nmeta:\n  iterations: 1000000000\n", nil, []string{"run.yaml:3: meta.iterations", "1000000000", "1..10000000"}},
		{"billion mtl steps", "kind: mtl\nmtl:\n  steps: 1000000000\n", nil, []string{"run.yaml:3: mtl.steps", "1000000000", "1..10000000"}},
		{"million test tasks", "kind: meta\nmeta:\n  test_tasks: 100000000\n", nil, []string{"run.yaml:3: meta.test_tasks", "100000000", "1..1000000"}},
		{"huge name", "kind: meta\nname: " + strings.Repeat("n", 1<<20) + "\n", nil, []string{"run.yaml:2: name", "1048576 characters", "at most 128"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("run.yaml", []byte(tc.src), tc.set)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if len(msg) > 500 {
				t.Errorf("error is %d bytes long (echoes the input?): %.200q...", len(msg), msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml: no such file") {
		t.Fatalf("err = %v", err)
	}
}

// TestExamples loads every committed example configuration.
func TestExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples/*.yaml")
	}
	for _, f := range files {
		if _, err := Load(f, nil); err != nil {
			t.Errorf("%v", err)
		}
	}
	_ = os.Getenv
}

func TestTransferSection(t *testing.T) {
	src := "kind: transfer\nname: gain\ntransfer:\n  command: finetune\n  options:\n    target: omniglot:Tengwar\n    shots: 1,5\n"
	c, err := Parse("t.yaml", []byte(src), []string{"transfer.options.seeds=3"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Transfer.Options["seeds"] != "3" || c.Transfer.Options["shots"] != "1,5" {
		t.Fatalf("options %v", c.Transfer.Options)
	}
	if w := c.Where("transfer.options.target"); w != "t.yaml:6: transfer.options.target" {
		t.Fatalf("Where = %q", w)
	}
	for _, bad := range []struct{ src, want string }{
		{"kind: transfer\n", "needs a transfer section"},
		{"kind: transfer\ntransfer:\n  command: tune\n", "t.yaml:3: transfer.command"},
		{"kind: transfer\ntransfer:\n  command: domain\n  options:\n    out: x\n", "t.yaml:5: transfer.options.out"},
		{"kind: transfer\ntransfer:\n  command: domain\n  options: [1]\n", "t.yaml:4:"},
	} {
		if _, err := Parse("t.yaml", []byte(bad.src), nil); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: err = %v, want %q", bad.src, err, bad.want)
		}
	}
}
