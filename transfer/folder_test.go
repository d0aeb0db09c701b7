package transfer

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestRunFolderAffinity(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	var echo bytes.Buffer
	res, err := RunFolder(FolderRunConfig{Command: "affinity", Options: map[string]string{"tasks": "3", "steps": "20", "hidden": "8"},
		DataDir: "nowhere", Seed: 7, Folder: dir, FolderConfig: []byte("kind: transfer\n"), Summary: map[string]any{"name": "t"}, Echo: &echo})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"affinity", "--hidden=8", "--steps=20", "--tasks=3", "--data-dir=nowhere", "--seed=7", "--out=" + filepath.Join(dir, "affinity")}
	if strings.Join(res.Args, " ") != strings.Join(want, " ") {
		t.Errorf("args %q, want %q", res.Args, want)
	}
	report, err := os.ReadFile(filepath.Join(dir, "report.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(report, echo.Bytes()) || !strings.Contains(string(report), "circles: 3 tasks, arch hard (hidden 8), 20 Adam steps") {
		t.Errorf("report.txt %q, echo %q", report, echo.String())
	}
	var sum map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil || sum["kind"] != "transfer" || sum["name"] != "t" {
		t.Errorf("summary %s (%v)", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "affinity", "affinity.json")); err != nil {
		t.Error(err)
	}
}

func TestRunFolderBadOptions(t *testing.T) {
	where := func(k string) string { return "run.yaml:9: " + k }
	for _, c := range []struct {
		command string
		options map[string]string
		want    string
	}{
		{"domain", map[string]string{"roundz": "1"}, `run.yaml:9: transfer.options.roundz: unknown option "roundz" for transfer domain (known: C, C-grid,`},
		{"domain", map[string]string{"rounds": "x"}, `run.yaml:9: transfer.options.rounds: invalid argument "x" for "--rounds" flag`},
		{"domain", map[string]string{"out": "x"}, `unknown option "out"`},
		{"nope", nil, `run.yaml:9: transfer.command: "nope" is not a transfer command`},
		{"domain", map[string]string{"C-grid": "1,-2"}, `run.yaml (transfer.options): --C-grid: "-2" is not a number > 0`},
	} {
		dir := filepath.Join(t.TempDir(), "run")
		_, err := RunFolder(FolderRunConfig{Command: c.command, Options: c.options, Folder: dir, File: "run.yaml", Where: where})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: error %v, want %q", c.command, c.options, err, c.want)
		}
	}
}

// TestCommandDefaults: every command binds its flags, and Run with the
// defaults refuses cleanly (no data) instead of panicking.
func TestCommandDefaults(t *testing.T) {
	for _, name := range CommandNames {
		c, err := NewCommand(name)
		if err != nil {
			t.Fatal(err)
		}
		fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
		c.Bind(fs)
		if fs.Lookup("out") == nil {
			t.Errorf("%s: no --out flag", name)
		}
		if name == "affinity" {
			continue // runs on built-in circles
		}
		if err := fs.Set("data-dir", t.TempDir()); err != nil {
			t.Fatal(err)
		}
		if err := c.Run(Output{W: &bytes.Buffer{}}); err == nil {
			t.Errorf("%s: ran without data", name)
		}
	}
}
