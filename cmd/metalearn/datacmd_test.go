package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDataCommands(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "shared", "data")
	if _, err := os.Stat(shared); err == nil {
		code, out, errs := runCLI("data", "list", "--data-dir", shared)
		if code != 0 || !strings.Contains(out, "omniglot") || !strings.Contains(out, "metalearn data get mnist") {
			t.Fatalf("list: exit %d %q %q", code, out, errs)
		}
		code, out, errs = runCLI("data", "verify", "mnist", "--data-dir", shared)
		if code != 0 || strings.Count(out, "ok (md5)") != 4 {
			t.Fatalf("verify: exit %d %q %q", code, out, errs)
		}
		// present (as the npz repacking) and verified: get says so and
		// downloads nothing (a 1 ns timeout would fail any download)
		code, out, errs = runCLI("data", "get", "omniglot", "--data-dir", shared, "--timeout", "1ns")
		abs, _ := filepath.Abs(shared)
		if code != 0 || !strings.Contains(out, "all files present and verified in "+abs+"; nothing downloaded") || !strings.Contains(errs, "nothing to download") {
			t.Fatalf("get omniglot when present: exit %d %q %q", code, out, errs)
		}
	}
	// a corrupt file fails verification with a clear message
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "mnist"), 0o755)
	os.WriteFile(filepath.Join(dir, "mnist", "train-labels-idx1-ubyte.gz"), []byte("not gzip"), 0o644)
	code, out, errs := runCLI("data", "verify", "--data-dir", dir)
	if code != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(errs, "1 of 1 files failed verification") {
		t.Fatalf("corrupt: exit %d %q %q", code, out, errs)
	}
	// METALEARN_DATA chooses the folder when --data-dir is absent
	t.Setenv("METALEARN_DATA", dir)
	if code, out, _ := runCLI("data", "list"); code != 0 || !strings.Contains(out, "data folder: "+dir) {
		t.Fatalf("env: exit %d %q", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"data", "get", "imagenet"}, `unknown dataset "imagenet"`},
		{[]string{"data", "get", "school", "--data-dir", dir}, "cannot be downloaded automatically"},
		{[]string{"data", "verify", "--data-dir", t.TempDir()}, "no dataset files found"},
		{[]string{"plot", dir}, "not a run folder"},
	} {
		if code, _, errs := runCLI(tc.args...); code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q; want %q", tc.args, code, errs, tc.want)
		}
	}
}
