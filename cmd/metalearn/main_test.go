package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestSeedJSONIsDeterministic(t *testing.T) {
	code, out, errs := runCLI("seed", "--epochs", "30", "--json", "--seed", "7")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Recipe string `json:"recipe"`
		Seed   uint64 `json:"seed"`
		Epochs int    `json:"epochs"`
		Tasks  []struct {
			Task         int     `json:"task"`
			TestAccuracy float64 `json:"test_accuracy"`
			TestLoss     float64 `json:"test_loss"`
		} `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	if res.Recipe != "faithful" || res.Seed != 7 || res.Epochs != 30 || len(res.Tasks) != 2 {
		t.Fatalf("unexpected result %+v", res)
	}
	_, out2, _ := runCLI("seed", "--epochs", "30", "--json", "--seed", "7")
	strip := func(s string) string { return s[:strings.Index(s, `"seconds"`)] }
	if strip(out) != strip(out2) {
		t.Fatalf("two runs with the same seed differ:\n%s\n%s", out, out2)
	}
}

func TestSeedTextAndHeads(t *testing.T) {
	code, out, errs := runCLI("seed", "--heads", "--epochs", "20", "--hidden", "8", "--progress", "10")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"heads recipe", "task 1: test accuracy", "task 2: test accuracy", "epoch    20"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestBadInputIsAClearError(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"seed", "--epochs", "0"}, "epochs = 0"},
		{[]string{"seed", "--epochs", "ten"}, "invalid argument \"ten\""},
		{[]string{"seed", "--lr", "-1"}, "learning rate = -1"},
		{[]string{"seed", "--lr", "NaN"}, "learning rate = NaN"},
		{[]string{"seed", "--points", "2"}, "points = 2"},
		{[]string{"seed", "--hidden", "4"}, "--hidden applies only with --heads"},
		{[]string{"seed", "--heads", "--hidden", "0"}, "hidden = 0"},
		{[]string{"seed", "--progress", "-1"}, "--progress = -1"},
		{[]string{"seed", "extra"}, "unknown command \"extra\""},
		{[]string{"nosuch"}, "unknown command \"nosuch\""},
	}
	for _, c := range cases {
		code, _, errs := runCLI(c.args...)
		if code == 0 {
			t.Errorf("%v: exit 0, want failure", c.args)
			continue
		}
		if !strings.Contains(errs, c.want) || strings.Contains(errs, "goroutine") {
			t.Errorf("%v: stderr %q does not contain %q (or has a stack trace)", c.args, errs, c.want)
		}
	}
}

func TestMetaTrainEvalRoundTrip(t *testing.T) {
	ckpt := t.TempDir() + "/sine.safetensors"
	code, out, errs := runCLI("meta", "train", "--algo", "maml", "--iterations", "20", "--meta-batch", "4", "--hidden", "8", "--val-tasks", "10", "--model-out", ckpt, "--json")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var last struct {
		Checkpoint string `json:"checkpoint"`
		BestVal    struct {
			Mean float64 `json:"mean"`
			N    int     `json:"n"`
		} `json:"best_val"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Checkpoint != ckpt || last.BestVal.N != 10 {
		t.Fatalf("last train line %q (%v)", lines[len(lines)-1], err)
	}
	code, out, errs = runCLI("meta", "eval", "--checkpoint", ckpt, "--tasks", "20", "--json")
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, errs)
	}
	var ev struct {
		Metric string `json:"metric"`
		Result struct {
			Mean, CI95 float64
			N          int
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.Metric != "mse" || ev.Result.N != 20 || !(ev.Result.Mean > 0) {
		t.Fatalf("eval output %q (%v)", out, err)
	}
}

func TestMetaBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"meta", "train"}, "--model-out is required"},
		{[]string{"meta", "train", "--model-out", dir + "/x", "--algo", "magic"}, `algorithm "magic"`},
		{[]string{"meta", "train", "--model-out", dir + "/x", "--iterations", "0"}, "--iterations = 0"},
		{[]string{"meta", "train", "--model-out", dir + "/x", "--outer-lr", "-1"}, "--outer-lr = -1"},
		{[]string{"meta", "train", "--model-out", dir + "/x", "--dataset", "omniglot", "--data-dir", dir}, "images_background.npz"},
		{[]string{"meta", "train", "--model-out", dir + "/no/such/dir/x", "--iterations", "1", "--hidden", "4", "--val-tasks", "1"}, "cannot write in"},
		{[]string{"meta", "eval"}, "--checkpoint is required"},
		{[]string{"meta", "eval", "--checkpoint", dir + "/absent"}, "no such file"},
		{[]string{"meta", "eval", "--checkpoint", "main.go"}, "not plausible"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(c.args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errs, c.want)
		}
	}
}

func TestMTLTrainSweep(t *testing.T) {
	code, out, errs := runCLI("mtl", "train", "--tasks", "3", "--per-task", "10", "--steps", "20", "--weighting", "ew,pcgrad", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want single-task + 2 weighting rows, got:\n%s", out)
	}
	var row struct {
		Weighting string    `json:"weighting"`
		Metrics   []float64 `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(lines[2]), &row); err != nil || row.Weighting != "pcgrad" || len(row.Metrics) != 3 {
		t.Fatalf("row %q: %v", lines[2], err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"mtl", "train", "--weighting", "magic"}, "--weighting"},
		{[]string{"mtl", "train", "--arch", "tower"}, `--arch "tower"`},
		{[]string{"mtl", "train", "--steps", "0"}, "--steps 0"},
		{[]string{"mtl", "train", "--dataset", "nope"}, `--dataset "nope"`},
		{[]string{"mtl", "school", "--methods", "magic"}, `unknown method "magic"`},
		{[]string{"mtl", "school", "--data-dir", t.TempDir()}, "school.csv"},
	} {
		code, _, errs := runCLI(c.args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errs, c.want)
		}
	}
}

func TestBenchRunsWithoutTorch(t *testing.T) {
	code, out, errs := runCLI("bench", "--no-torch", "--only", "sgemm_10x40x40", "--min-time", "1ms", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Results []struct {
			Workload string  `json:"workload"`
			GoMS     float64 `json:"go_median_ms"`
			GFLOPS   float64 `json:"go_gflops"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Results) != 1 || !(res.Results[0].GoMS > 0) || !(res.Results[0].GFLOPS > 0) {
		t.Fatalf("bench output %q (%v)", out, err)
	}
	if code, _, errs := runCLI("bench", "--threads", "0"); code == 0 || !strings.Contains(errs, "--threads = 0") {
		t.Fatalf("bad --threads: exit %d %q", code, errs)
	}
}
