package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDashBadInput(t *testing.T) {
	runs := t.TempDir()
	run := filepath.Join(runs, "r1")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, "metrics.jsonl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dash"}, "accepts 1 arg"},
		{[]string{"dash", filepath.Join(runs, "missing")}, "runs directory"},
		{[]string{"dash", run}, "is itself a run folder"},
		{[]string{"dash", runs, "--addr", "256.0.0.1:1"}, "--addr"},
		{[]string{"serve", "--models", runs, "--runs", filepath.Join(runs, "missing"), "--addr", "127.0.0.1:0"}, "runs directory"},
	} {
		code, _, stderr := runCLI(tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error containing %q", tc.args, code, stderr, tc.want)
		}
	}
}
