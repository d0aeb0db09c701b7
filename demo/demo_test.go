package demo

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunSmall(t *testing.T) {
	out := t.TempDir()
	var log []string
	r, err := Run(Config{Seed: 3, Out: out, Iterations: 15, EvalTasks: 4, Log: func(s string) { log = append(log, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 || len(r.Rows) != 5 || len(r.MetaCurve) != len(CurveShots) {
		t.Fatalf("log %q, %d rows, %d curve points", log, len(r.Rows), len(r.MetaCurve))
	}
	if got, want := r.TransferGain, r.Rows[4].Accuracy.Mean-r.Rows[2].Accuracy.Mean; got != want {
		t.Errorf("transfer gain %v, want %v", got, want)
	}
	for _, row := range r.Rows {
		if row.Accuracy.Mean <= 0.5 || row.Accuracy.Mean > 1 || !(row.Accuracy.CI95 > 0) {
			t.Errorf("%s: %+v", row.Method, row.Accuracy)
		}
	}
	var b bytes.Buffer
	if err := r.Report(&b); err != nil || !strings.Contains(b.String(), "fine-tuned trunk") {
		t.Errorf("report %q (%v)", b.String(), err)
	}
	var saved Result
	js, err := os.ReadFile(filepath.Join(out, "demo.json"))
	if err != nil || json.Unmarshal(js, &saved) != nil || len(saved.Rows) != 5 || len(saved.Plots) != 4 {
		t.Errorf("demo.json: %v, %+v", err, saved)
	}
}

func TestRunRefuses(t *testing.T) {
	for _, c := range []Config{{Iterations: 0, EvalTasks: 5}, {Iterations: 5, EvalTasks: 1}} {
		c.Out = t.TempDir()
		if _, err := Run(c); err == nil || !strings.Contains(err.Error(), "want >= 1 and >= 2") {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
