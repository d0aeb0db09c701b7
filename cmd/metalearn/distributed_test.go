//go:build !mpi || !cgo

package main

import (
	"strings"
	"testing"
)

// TestMetaDistributedWithoutMPI: in the default (pure Go) build,
// --distributed says how to build with MPI instead of training alone.
func TestMetaDistributedWithoutMPI(t *testing.T) {
	for _, args := range [][]string{
		{"meta", "train", "--distributed", "--iterations", "1", "--model-out", t.TempDir() + "/w.safetensors"},
		{"mtl", "train", "--distributed", "--steps", "1"},
	} {
		code, _, errs := runCLI(args...)
		if code != 1 || !strings.Contains(errs, "go build -tags mpi ./cmd/metalearn") || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want one line saying how to build with MPI", args[:2], code, errs)
		}
	}
	if code, _, errs := runCLI("meta", "train", "--fast-reduce", "--iterations", "1", "--model-out", t.TempDir()+"/w.safetensors"); code != 1 || !strings.Contains(errs, "--fast-reduce applies to --distributed") {
		t.Errorf("--fast-reduce alone: exit %d, stderr %q", code, errs)
	}
}
