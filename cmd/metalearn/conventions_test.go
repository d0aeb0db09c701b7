package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/internal/flagalias"
)

// Typos at any level exit non-zero with a suggestion; a bare group prints
// its help and exits 0.
func TestUnknownCommandsAndFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want []string // substrings of stderr
	}{
		{[]string{"trian"}, 1, []string{`unknown command "trian" for "metalearn"`, "(did you mean train?)"}},
		{[]string{"meta", "trian"}, 1, []string{`unknown command "trian" for "metalearn meta"`, "(did you mean train?)"}},
		{[]string{"transfer", "fintune"}, 1, []string{`for "metalearn transfer"`, "(did you mean finetune?)"}},
		{[]string{"mtl", "shcool"}, 1, []string{`for "metalearn mtl"`, "(did you mean school?)"}},
		{[]string{"serve", "loadtets"}, 1, []string{`for "metalearn serve"`, "(did you mean loadtest?)"}},
		{[]string{"data", "lsit"}, 1, []string{`for "metalearn data"`, "(did you mean list?)"}},
		{[]string{"meta", "zzzzzz"}, 1, []string{`unknown command "zzzzzz"`, "commands: eval, train;"}},
		{[]string{"mtl", "train", "--weigting", "ew"}, 1, []string{"unknown flag: --weigting", "(did you mean --weighting?)"}},
		{[]string{"meta", "train", "--iteratons", "3"}, 1, []string{"unknown flag: --iteratons", "(did you mean --iterations?)"}},
		// close to a deprecated name: the new name is offered
		{[]string{"meta", "train", "--stpes", "3"}, 1, []string{"unknown flag: --stpes", "(did you mean --inner-steps?)"}},
		{[]string{"meta", "train", "--qqqqqqq"}, 1, []string{"unknown flag: --qqqqqqq", "metalearn meta train --help"}},
	} {
		code, out, errs := runCLI(tc.args...)
		if lines := strings.Split(strings.TrimRight(errs, "\n"), "\n"); len(lines) != 1 {
			t.Errorf("%v: stderr is not one line: %q", tc.args, errs)
		}
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d (stdout %q, stderr %q)", tc.args, code, tc.code, out, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, errs, w)
			}
		}
	}
	for _, group := range []string{"", "meta", "mtl", "transfer", "data"} {
		args := []string{group}
		if group == "" {
			args = nil
		}
		code, out, errs := runCLI(args...)
		if code != 0 || !strings.Contains(out, "Available Commands") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want its help and exit 0", group, code, out, errs)
		}
	}
}

// One meaning per flag name: --steps is optimiser steps and --out a
// folder wherever they appear; inner-loop steps are --inner-steps and a
// model file is --model-out. The old names still work, deprecated.
func TestFlagNamesHaveOneMeaning(t *testing.T) {
	root := newRoot(io.Discard, io.Discard)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if _, alias := flagalias.Target(f); alias {
				return
			}
			u := strings.ToLower(f.Usage)
			switch f.Name {
			case "steps":
				if strings.Contains(u, "inner") || strings.Contains(u, "adaptation") {
					t.Errorf("%s --steps means %q: inner-loop steps are --inner-steps", c.CommandPath(), f.Usage)
				}
			case "out":
				if strings.Contains(u, "safetensors") || strings.Contains(u, "file") && !strings.Contains(u, "folder") {
					t.Errorf("%s --out means %q: --out is a folder, a model file is --model-out", c.CommandPath(), f.Usage)
				}
			}
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)

	// the deprecated alias sets the new flag and says so
	dir := t.TempDir()
	oldCode, oldOut, oldErr := runCLI("meta", "train", "--steps", "2", "--out", filepath.Join(dir, "a.safetensors"), "--iterations", "2", "--val-tasks", "2", "--json")
	newCode, newOut, newErr := runCLI("meta", "train", "--inner-steps", "2", "--model-out", filepath.Join(dir, "b.safetensors"), "--iterations", "2", "--val-tasks", "2", "--json")
	if oldCode != 0 || newCode != 0 {
		t.Fatalf("exit %d / %d: %s / %s", oldCode, newCode, oldErr, newErr)
	}
	if !strings.Contains(oldErr, "--steps is deprecated, use --inner-steps") || !strings.Contains(oldErr, "--out is deprecated, use --model-out") || strings.Contains(oldOut, "deprecated") {
		t.Errorf("no deprecation notice: %q", oldErr)
	}
	if strings.Contains(newErr, "deprecated") {
		t.Errorf("new names warn: %q", newErr)
	}
	if strip := func(s string) string { return strings.Join(strings.Fields(stripSeconds(s)), " ") }; strip(oldOut) != strip(newOut) {
		t.Errorf("--steps 2 and --inner-steps 2 train differently:\n%s\n%s", oldOut, newOut)
	}
	// --inner-steps 1 gives a different run (the alias is not ignored)
	_, oneOut, _ := runCLI("meta", "train", "--inner-steps", "1", "--model-out", filepath.Join(dir, "c.safetensors"), "--iterations", "2", "--val-tasks", "2", "--json")
	if stripSeconds(oneOut) == stripSeconds(newOut) {
		t.Errorf("--inner-steps 1 and 2 train identically: the flag has no effect")
	}
	if _, err := os.Stat(filepath.Join(dir, "a.safetensors")); err != nil {
		t.Errorf("--out (deprecated) did not write the model: %v", err)
	}
}

// stripSeconds removes the wall-clock fields of meta train's JSON lines.
func stripSeconds(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		for _, f := range strings.Split(line, ",") {
			if !strings.Contains(f, `"seconds"`) && !strings.Contains(f, `"saved"`) && !strings.Contains(f, "safetensors") {
				b.WriteString(f)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Every --data-dir flag of every command follows data.ResolveDir: its help
// names the rule, and an unset flag holds the resolved absolute folder
// when the command runs.
func TestEveryDataDirFlagFollowsTheRule(t *testing.T) {
	root := newRoot(io.Discard, io.Discard)
	n := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.LocalFlags(), c.PersistentFlags()} {
			if f := fs.Lookup("data-dir"); f != nil {
				n++
				if f.DefValue != "" || !strings.Contains(f.Usage, "$METALEARN_DATA") {
					t.Errorf("%s --data-dir: default %q, usage %q", c.CommandPath(), f.DefValue, f.Usage)
				}
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	if n < 10 {
		t.Errorf("only %d --data-dir flags found", n)
	}

	// $METALEARN_DATA reaches commands that used to ignore it: the error
	// names the file under it, as an absolute path
	env := t.TempDir()
	t.Setenv(data.EnvDataDir, env)
	for _, args := range [][]string{
		{"mtl", "train", "--dataset", "mulan:enb"},
		{"mtl", "school"},
		{"mtl", "parkinsons"},
		{"transfer", "pretrain", "--data", "office:amazon", "--model-out", filepath.Join(env, "x.safetensors")},
		{"transfer", "domain"},
		{"meta", "train", "--dataset", "omniglot", "--model-out", filepath.Join(env, "x.safetensors"), "--iterations", "1"},
	} {
		code, _, errs := runCLI(args...)
		if code == 0 || !strings.Contains(errs, env) {
			t.Errorf("%v with $METALEARN_DATA=%s: exit %d, stderr %q (want the folder named)", args, env, code, errs)
		}
	}
	// a relative --data-dir is reported as an absolute path
	wd, _ := os.Getwd()
	code, _, errs := runCLI("mtl", "school", "--data-dir", "no-such-folder")
	if code == 0 || !strings.Contains(errs, filepath.Join(wd, "no-such-folder")) {
		t.Errorf("relative --data-dir: exit %d, stderr %q", code, errs)
	}
	// data list says which folder and why
	code, out, errs := runCLI("data", "list")
	if code != 0 || !strings.Contains(out, "data folder: "+env) || !strings.Contains(out, "chosen by: $METALEARN_DATA") {
		t.Errorf("data list: exit %d, %q %q", code, out, errs)
	}
}

// meta eval reads the data folder recorded in the checkpoint; when that
// folder is gone (another machine, a moved clone) it follows the usual
// rule instead of failing.
func TestMetaEvalRecordedDataDirGone(t *testing.T) {
	shared := data.ResolveDir("")
	if _, err := os.Stat(filepath.Join(shared.Path, "omniglot", "images_background.npz")); err != nil {
		t.Skipf("Omniglot not in %s (%s)", shared.Path, shared.Source)
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "data")
	if err := os.Symlink(shared.Path, link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	model := filepath.Join(dir, "proto.safetensors")
	if code, _, errs := runCLI("meta", "train", "--algo", "protonet", "--dataset", "omniglot", "--data-dir", link, "--ways", "3", "--shots", "1", "--queries", "2",
		"--hidden", "4", "--iterations", "1", "--val-tasks", "1", "--model-out", model, "--quiet"); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	os.Remove(link)
	t.Setenv(data.EnvDataDir, shared.Path)
	code, out, errs := runCLI("meta", "eval", "--checkpoint", model, "--tasks", "3")
	if code != 0 || !strings.Contains(out, "protonet") {
		t.Fatalf("eval with the recorded folder gone: exit %d %q %q", code, out, errs)
	}
	// an explicit --data-dir still wins, and a wrong one is an error naming it
	nowhere := filepath.Join(dir, "nowhere")
	code, _, errs = runCLI("meta", "eval", "--checkpoint", model, "--tasks", "3", "--data-dir", nowhere)
	if code == 0 || !strings.Contains(errs, nowhere) {
		t.Fatalf("eval with a missing --data-dir: exit %d %q", code, errs)
	}
}
