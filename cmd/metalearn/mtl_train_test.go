package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/checkpoint"
)

func runMTLCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}

// mtl train --save writes models and baselines; mtl eval reloads a model
// and reproduces its test metrics and Delta_p; incompatible files and a
// missing baselines file are one-line errors.
func TestMTLSaveEval(t *testing.T) {
	dir := t.TempDir()
	out, errs, code := runMTLCLI(t, "mtl", "train", "--tasks", "3", "--per-task", "15", "--steps", "40", "--weighting", "ew,mgda", "--save", dir, "--json")
	if code != 0 {
		t.Fatalf("train: %s", errs)
	}
	var rows []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		rows = append(rows, r)
	}
	for _, f := range []string{"baselines.json", "ew.safetensors", "ew.json", "mgda.safetensors", "mgda.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	model := filepath.Join(dir, "mgda.safetensors")
	out, errs, code = runMTLCLI(t, "mtl", "eval", "--model", model, "--json")
	if code != 0 {
		t.Fatalf("eval: %s", errs)
	}
	var ev struct {
		Metrics []float64 `json:"metrics"`
		DeltaP  float64   `json:"delta_p"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatal(err)
	}
	want := rows[2]
	if dp := want["delta_p"].([]any)[0].(float64); dp != ev.DeltaP {
		t.Errorf("eval Delta_p %v, train printed %v", ev.DeltaP, dp)
	}
	for i, m := range want["metrics"].([]any)[0].([]any) {
		if m.(float64) != ev.Metrics[i] {
			t.Errorf("task %d: eval %v, train %v", i, ev.Metrics[i], m)
		}
	}

	// a file whose metadata says hidden 16 while the tensors are for 32
	ts, md, err := checkpoint.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	md["metalearn.mtl"] = strings.Replace(md["metalearn.mtl"], `"hidden":32`, `"hidden":16`, 1)
	var named []checkpoint.Named
	for k, v := range ts {
		named = append(named, checkpoint.Named{Name: k, Tensor: v})
	}
	bad := filepath.Join(dir, "bad.safetensors")
	if err := checkpoint.WriteFile(bad, named, md); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain.safetensors")
	if err := checkpoint.WriteFile(plain, named, nil); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "baselines.json"), []byte(`{"format":"metalearn-mtl-baselines/1","experiment":"circles","seed":7,"tasks":["a"],"metrics":[1]}`), 0o644)
	otherModel := filepath.Join(other, "m.safetensors")
	raw, _ := os.ReadFile(model)
	os.WriteFile(otherModel, raw, 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"mtl", "eval", "--model", bad}, "does not fit"},
		{[]string{"mtl", "eval", "--model", plain}, "not a multi-task model"},
		{[]string{"mtl", "eval", "--model", model, "--baselines", filepath.Join(dir, "none.json")}, "not found"},
		{[]string{"mtl", "eval", "--model", otherModel}, "not the same test set"},
		{[]string{"mtl", "eval"}, "--model"},
		{[]string{"mtl", "train", "--arch", "mtan", "--steps", "5"}, "needs image inputs"},
		{[]string{"mtl", "train", "--dataset", "parkinsons:tremor"}, "parkinsons:motor"},
		{[]string{"mtl", "train", "--dataset", "multimnist:0"}, "positive example count"},
		{[]string{"mtl", "train", "--seeds", "0"}, "--seeds"},
		{[]string{"mtl", "toy", "--methods", "dbmtl"}, "positive losses"},
		{[]string{"mtl", "toy", "--methods", "nope"}, "unknown weighting"},
		{[]string{"mtl", "parkinsons", "--methods", "nope"}, "unknown method"},
	} {
		_, errs, code := runMTLCLI(t, c.args...)
		if code != 1 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%v: code %d, stderr %q, want one line containing %q", c.args, code, errs, c.want)
		}
	}
}

func TestMTLToyCLI(t *testing.T) {
	dir := t.TempDir()
	out, errs, code := runMTLCLI(t, "mtl", "toy", "--steps", "3000", "--lr", "0.01", "--methods", "ew,mgda", "--out", dir)
	if code != 0 {
		t.Fatalf("toy: %s", errs)
	}
	if !strings.Contains(out, "summary") {
		t.Errorf("output:\n%s", out)
	}
	for _, f := range []string{"toy.json", "ew_x.png", "ew_x.svg", "ew_loss.png", "mgda_loss.svg"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestMTLParkinsonsCLI(t *testing.T) {
	if _, err := os.Stat("../../../shared/data/parkinsons-telemonitoring/parkinsons_updrs.data"); err != nil {
		t.Skipf("Parkinson's data not found under ../shared/data: %v", err)
	}
	out, errs, code := runMTLCLI(t, "mtl", "parkinsons", "--data-dir", "../../../shared/data", "--splits", "1", "--steps", "30", "--methods", "pooled,additive")
	if code != 0 {
		t.Fatalf("parkinsons: %s", errs)
	}
	if !strings.Contains(out, "additive") || !strings.Contains(out, "±") {
		t.Errorf("output:\n%s", out)
	}
	_, errs, code = runMTLCLI(t, "mtl", "parkinsons", "--data-dir", "../../../shared/data", "--drop", "nope")
	if code != 1 || !strings.Contains(errs, "no feature") {
		t.Errorf("--drop nope: code %d, %q", code, errs)
	}
}
