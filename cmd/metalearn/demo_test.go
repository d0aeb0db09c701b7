package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoSmall(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo")
	code, stdout, stderr := runCLI("demo", "--out", out, "--iterations", "20", "--eval-tasks", "6")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"single-task models", "multi-task model", "from scratch", "MAML adaptation", "fine-tuned trunk", "transfer gain", "plots: " + filepath.Join(out, "plots")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"demo.json", "plots/adaptation_vs_k.png", "plots/adaptation_vs_k.svg", "plots/maml_learning_curve.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	var res struct {
		Rows []struct {
			Accuracy struct{ Mean, CI95 float64 }
		}
	}
	b, _ := os.ReadFile(filepath.Join(out, "demo.json"))
	if err := json.Unmarshal(b, &res); err != nil || len(res.Rows) != 5 {
		t.Fatalf("demo.json: %v, %d rows", err, len(res.Rows))
	}
	for i, r := range res.Rows {
		// two-class problems: every method must beat coin flipping
		if r.Accuracy.Mean <= 0.5 || r.Accuracy.Mean > 1 {
			t.Errorf("row %d accuracy %v", i, r.Accuracy.Mean)
		}
	}
	if code, _, stderr := runCLI("demo", "--iterations", "0"); code != 1 || !strings.Contains(stderr, "--iterations = 0") {
		t.Errorf("bad flag: exit %d, %q", code, stderr)
	}
}
