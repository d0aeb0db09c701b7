package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/runfolder"
	"github.com/metalearn/metalearn/tensor"
)

// TestMain lets a test re-run this binary as the metalearn command (for the
// interrupt and kill tests): METALEARN_AS_MAIN=1 ./metalearn.test train ...
func TestMain(m *testing.M) {
	if os.Getenv("METALEARN_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const sineRun = `kind: meta
name: sine
seed: 5
checkpoint_every: 10
meta:
  algorithm: maml
  dataset: sinusoid
  shots: 5
  hidden: 40
  iterations: %d
  meta_batch: 10
  val_every: 20
  val_tasks: 10
  test_tasks: 20
  workers: 2
`

func writeConfig(t *testing.T, dir string, iters int) string {
	t.Helper()
	p := filepath.Join(dir, "run.yaml")
	if err := os.WriteFile(p, []byte(strings.Replace(sineRun, "%d", strconv.Itoa(iters), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	code, out, errs := runCLI(args...)
	return out, errs, code
}

func modelValues(t *testing.T, path string) map[string][]float64 {
	t.Helper()
	ts, _, err := checkpoint.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for k, v := range ts {
		out[k] = v.Values()
	}
	return out
}

func sameModel(t *testing.T, a, b string) {
	t.Helper()
	va, vb := modelValues(t, a), modelValues(t, b)
	if len(va) != len(vb) {
		t.Fatalf("%s has %d tensors, %s has %d", a, len(va), b, len(vb))
	}
	for k, x := range va {
		y := vb[k]
		if len(x) != len(y) {
			t.Fatalf("tensor %s: %d vs %d values", k, len(x), len(y))
		}
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("tensor %s[%d]: %v (uninterrupted) vs %v (resumed)", k, i, x[i], y[i])
			}
		}
	}
}

// metricsWithoutWall reads a metrics log dropping the wall-clock column.
func metricsWithoutWall(t *testing.T, path string) []runfolder.Record {
	t.Helper()
	rs, err := runfolder.ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		rs[i].Wall = 0
	}
	return rs
}

func TestTrainRunFolder(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, 30)
	out := filepath.Join(dir, "run")
	stdout, stderr, code := cli(t, "train", "-c", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "test mse") {
		t.Fatalf("stdout %q", stdout)
	}
	// non-terminal output: plain progress lines, no carriage returns
	if strings.Contains(stderr, "\r") || !strings.Contains(stderr, "maml 30/30 (100%)") {
		t.Fatalf("progress output %q", stderr)
	}
	for _, f := range []string{"config.yaml", "metrics.jsonl", "model.safetensors", "summary.json", "checkpoints/latest.safetensors", "plots/loss.png", "plots/loss.svg", "plots/mse.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("run folder lacks %s", f)
		}
	}
	var sum map[string]any
	b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil || sum["best_iteration"] == nil {
		t.Fatalf("summary.json: %v %s", err, b)
	}
	// the final model loads as a meta checkpoint and evaluates
	if _, err := meta.Load(filepath.Join(out, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	// a second run into the same folder is refused; nothing is overwritten
	_, stderr, code = cli(t, "train", "-c", cfg, "--out", out)
	if code != 1 || !strings.Contains(stderr, "already holds a run") {
		t.Fatalf("exit %d, %q", code, stderr)
	}
	// --json: machine-readable progress and result on stdout
	stdout, _, code = cli(t, "train", "-c", cfg, "--out", filepath.Join(dir, "j"), "--json", "--iterations", "3")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 4 {
		t.Fatalf("--json: exit %d, %d lines: %q", code, len(lines), stdout)
	}
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
	}
	// --quiet: only the final line
	stdout, stderr, code = cli(t, "train", "-c", cfg, "--out", filepath.Join(dir, "q"), "--quiet", "--iterations", "3")
	if code != 0 || stderr != "" || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("--quiet: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestTrainKillAndResume kills a training process (SIGKILL, and Ctrl-C as
// SIGINT) after its first checkpoint, resumes it, and checks the final
// weights and the metrics log equal an uninterrupted run's: a second-order
// MAML run and a multi-task run with a stateful weighting (DWA).
func TestTrainKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs training subprocesses")
	}
	dir := t.TempDir()
	mtlCfg := filepath.Join(dir, "mtl.yaml")
	os.WriteFile(mtlCfg, []byte("kind: mtl\nname: circ\nseed: 2\ncheckpoint_every: 50\nmtl:\n  tasks: 6\n  per_task: 20\n  weighting: dwa\n  steps: 1500\n  hidden: 32\n"), 0o644)
	for _, c := range []struct{ name, cfg string }{{"meta", writeConfig(t, dir, 120)}, {"mtl", mtlCfg}} {
		t.Run(c.name, func(t *testing.T) {
			ref := filepath.Join(dir, c.name+"-ref")
			if _, stderr, code := cli(t, "train", "-c", c.cfg, "--out", ref, "--quiet"); code != 0 {
				t.Fatalf("reference run: %s", stderr)
			}
			for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT} {
				t.Run(sig.String(), func(t *testing.T) {
					killAndResume(t, c.cfg, filepath.Join(dir, c.name+"-run-"+strconv.Itoa(int(sig))), ref, sig)
				})
			}
		})
	}
}

func killAndResume(t *testing.T, cfg, out, ref string, sig syscall.Signal) {
	cmd := exec.Command(os.Args[0], "train", "-c", cfg, "--out", out)
	cmd.Env = append(os.Environ(), "METALEARN_AS_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(out, "checkpoints", "latest.safetensors")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(ckpt); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint after 60 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(sig)
	err := cmd.Wait()
	if _, statErr := os.Stat(filepath.Join(out, "summary.json")); statErr == nil {
		t.Skip("the run finished before the signal arrived; nothing to resume")
	}
	if sig == syscall.SIGINT {
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 130 || !strings.Contains(stderr.String(), "--resume") {
			t.Fatalf("after Ctrl-C: %v, stderr %q", err, stderr.String())
		}
	}
	if _, stderrR, code := cli(t, "train", "-c", cfg, "--out", out, "--resume", "--quiet"); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderrR)
	}
	sameModel(t, filepath.Join(ref, "model.safetensors"), filepath.Join(out, "model.safetensors"))
	a, b := metricsWithoutWall(t, filepath.Join(ref, "metrics.jsonl")), metricsWithoutWall(t, filepath.Join(out, "metrics.jsonl"))
	if len(a) != len(b) {
		t.Fatalf("metrics: %d records uninterrupted, %d resumed", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("metrics record %d: %+v vs %+v", i, a[i], b[i])
		}
	}
}

func TestTrainBadInput(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, 10)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("kind: meta\nmeta:\n  itrations: 5\n"), 0o644)
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	done := filepath.Join(dir, "done")
	if _, stderr, code := cli(t, "train", "-c", cfg, "--out", done, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	corrupt := filepath.Join(dir, "corrupt")
	if _, stderr, code := cli(t, "train", "-c", cfg, "--out", corrupt, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	ck := filepath.Join(corrupt, "checkpoints", "latest.safetensors")
	b, _ := os.ReadFile(ck)
	os.WriteFile(ck, b[:len(b)/2], 0o644)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no config", []string{"train"}, "-c/--config is required"},
		{"missing file", []string{"train", "-c", filepath.Join(dir, "nope.yaml")}, "nope.yaml: no such file"},
		{"unknown key", []string{"train", "-c", bad}, `bad.yaml:3: unknown key "itrations"`},
		{"bad override", []string{"train", "-c", cfg, "--set", "meta.outer_lr=-1"}, "--set meta.outer_lr"},
		{"resume nothing", []string{"train", "-c", cfg, "--out", filepath.Join(dir, "none"), "--resume"}, "no checkpoint at"},
		{"resume changed config", []string{"train", "-c", cfg, "--out", done, "--resume", "--set", "meta.inner_lr=0.5"}, "different configuration"},
		{"corrupt checkpoint", []string{"train", "-c", cfg, "--out", corrupt, "--resume"}, "latest.safetensors"},
		{"unwritable out", []string{"train", "-c", cfg, "--out", filepath.Join(file, "run")}, "cannot create"},
		{"quiet and json", []string{"train", "-c", cfg, "--quiet", "--json"}, "choose one"},
		{"bad progress", []string{"train", "-c", cfg, "--progress", "fancy"}, `--progress "fancy"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := cli(t, tc.args...)
			if code != 1 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q; want one line containing %q", code, stderr, tc.want)
			}
		})
	}
}

func TestTrainPrintConfig(t *testing.T) {
	cfg := writeConfig(t, t.TempDir(), 10)
	stdout, stderr, code := cli(t, "train", "-c", cfg, "--print-config", "--set", "meta.inner_lr=0.05", "--seed", "9")
	if code != 0 {
		t.Fatal(stderr)
	}
	for _, want := range []string{"inner_lr: 0.05", "seed: 9", "meta_batch: 10", "outer_lr: 0.001", "eval_steps: 10"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("resolved config lacks %q:\n%s", want, stdout)
		}
	}
}

// TestRunCheckpointInPyTorch loads a run's model.safetensors into torch.nn
// and compares its predictions with ours (skipped without python3-torch).
func TestRunCheckpointInPyTorch(t *testing.T) {
	py := "/usr/bin/python3" // Debian's python3-torch
	if exec.Command(py, "-c", "import torch").Run() != nil {
		t.Skip("python3 with torch not installed (apt-get install python3-torch)")
	}
	dir := t.TempDir()
	cfg := writeConfig(t, dir, 5)
	out := filepath.Join(dir, "run")
	if _, stderr, code := cli(t, "train", "-c", cfg, "--out", out, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	model := filepath.Join(out, "model.safetensors")
	xs := []float64{-4, -1.5, 0, 2, 4.5}
	args := []string{"../../reference/mlp_forward.py", model}
	for _, x := range xs {
		args = append(args, strconv.FormatFloat(x, 'g', -1, 64))
	}
	cmd := exec.Command(py, args...)
	cmd.Dir = "."
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	b, err := meta.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.FromValues(tensor.Float32, xs, len(xs), 1)
	want := nn.Forward(b.Model, autodiff.Const(x)).Value.Values()
	lines := strings.Fields(string(got))
	if len(lines) != len(xs) {
		t.Fatalf("torch printed %q", got)
	}
	for i, l := range lines {
		v, _ := strconv.ParseFloat(l, 64)
		if d := v - want[i]; d > 1e-5 || d < -1e-5 {
			t.Errorf("x=%v: torch %v, metalearn %v", xs[i], v, want[i])
		}
	}
}

func TestTrainTransferKind(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("kind: transfer\ntransfer:\n  command: domain\n  options:\n    roundz: \"1\"\n"), 0o644)
	if _, stderr, code := cli(t, "train", "-c", bad, "--out", filepath.Join(dir, "b")); code != 1 || !strings.Contains(stderr, `bad.yaml:5: transfer.options.roundz: unknown option "roundz" for transfer domain`) {
		t.Fatalf("exit %d, %q", code, stderr)
	}
	shared := filepath.Join("..", "..", "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(shared, "office-caltech10-surf")); err != nil {
		t.Skip("../shared/data/office-caltech10-surf not present")
	}
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("kind: transfer\ntransfer:\n  command: domain\n  options:\n    domains: A,C\n    methods: 1nn,source-only\n    rounds: \"1\"\n    steps: \"50\"\n"), 0o644)
	out := filepath.Join(dir, "run")
	stdout, stderr, code := cli(t, "train", "-c", good, "--out", out, "--data-dir", shared, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"config.yaml", "summary.json", "report.txt", "domain/domain.json", "domain/domain.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	if !strings.Contains(stdout, "transfer domain finished") {
		t.Errorf("stdout %q", stdout)
	}
}

// meta eval --best evaluates the best validated weights inside a training
// checkpoint: for a finished run they are the weights of model.safetensors,
// so both evaluations agree; a final model holds no training state.
func TestMetaEvalBestFromCheckpoint(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	if _, errs, code := cli(t, "train", "-c", writeConfig(t, dir, 60), "--out", out, "--quiet"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, errs)
	}
	eval := func(args ...string) map[string]any {
		t.Helper()
		o, errs, code := cli(t, append([]string{"meta", "eval", "--tasks", "30", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("meta eval %v: exit %d: %s", args, code, errs)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(o), &m); err != nil {
			t.Fatalf("%v: %q", err, o)
		}
		return m
	}
	final := eval("--checkpoint", filepath.Join(out, "model.safetensors"))
	best := eval("--best", "--checkpoint", filepath.Join(out, "checkpoints", "latest.safetensors"))
	current := eval("--checkpoint", filepath.Join(out, "checkpoints", "latest.safetensors"))
	fr, br := final["result"].(map[string]any), best["result"].(map[string]any)
	if fr["mean"] != br["mean"] || fr["mean"] == nil || best["best_iteration"] == nil {
		t.Errorf("--best on the checkpoint: %v (best iteration %v); model.safetensors: %v", br, best["best_iteration"], fr)
	}
	if cr := current["result"].(map[string]any); cr["mean"] == br["mean"] {
		t.Logf("the last weights happen to score like the best ones (%v)", cr["mean"])
	}
	_, errs, code := cli(t, "meta", "eval", "--best", "--checkpoint", filepath.Join(out, "model.safetensors"))
	if code == 0 || !strings.Contains(errs, "--best") || !strings.Contains(errs, "holds no training state") {
		t.Errorf("--best on a final model: exit %d, %q", code, errs)
	}
}

// A sinusoid model may be evaluated with another K than it was trained
// with (the MAML paper's K=5 model at K=10, say).
func TestMetaEvalSinusoidOtherShots(t *testing.T) {
	b, err := meta.Build(meta.Spec{Algorithm: "maml", Dataset: "sinusoid", Shots: 5, Hidden: 8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sine.safetensors")
	if err := b.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	o, errs, code := cli(t, "meta", "eval", "--checkpoint", path, "--shots", "10", "--tasks", "5", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var m struct{ Spec meta.Spec }
	if err := json.Unmarshal([]byte(o), &m); err != nil || m.Spec.Shots != 10 {
		t.Errorf("evaluated with shots %d (err %v), want 10: %s", m.Spec.Shots, err, o)
	}
}

// meta train --max-minutes ends a long run early and keeps its best weights.
func TestMetaTrainMaxMinutes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	o, errs, code := cli(t, "meta", "train", "--algo", "maml", "--dataset", "sinusoid", "--hidden", "4", "--iterations", "100000000",
		"--max-minutes", "0.001", "--val-tasks", "2", "--out", path, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var m struct {
		Iterations    int `json:"iterations"`
		BestIteration int `json:"best_iteration"`
	}
	lines := strings.Split(strings.TrimSpace(o), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("%v: %q", err, o)
	}
	if m.Iterations < 1 || m.Iterations >= 100000000 || m.BestIteration != m.Iterations {
		t.Errorf("iterations %d, best %d: want a budget-ended run validated at its last iteration", m.Iterations, m.BestIteration)
	}
}
