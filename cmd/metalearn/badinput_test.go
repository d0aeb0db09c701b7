package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/meta"
)

// runBad runs the CLI and returns the exit status and stderr.
func runBad(args ...string) (int, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, errb.String()
}

// TestBadInputCLI is the CLI part of the bad-input catalogue
// (RELIABILITY.md): each command line must exit with status 1 and print
// exactly one line, "metalearn: ...", naming the flag or value — never a
// usage dump or a stack trace. Messages are logged as
// "catalogue | class | name | message".
func TestBadInputCLI(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.safetensors")

	// Checkpoints for meta eval: a good sinusoid MAML one, a truncated copy,
	// one without metadata, one with a NaN weight, one that is not a
	// checkpoint at all.
	b, err := meta.Build(meta.Spec{Algorithm: "maml", Dataset: "sinusoid", Hidden: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// A catalogue and a bad glossary for mt po.
	catalogue := filepath.Join(dir, "app.po")
	badGlossary := filepath.Join(dir, "terms.tsv")
	os.WriteFile(catalogue, []byte("msgid \"Open\"\nmsgstr \"\"\n"), 0o644)
	os.WriteFile(badGlossary, []byte("file\tficheiro\textra\n"), 0o644)
	good := filepath.Join(dir, "good.safetensors")
	if err := b.Save(good, nil); err != nil {
		t.Fatal(err)
	}
	fixed := filepath.Join(dir, "omni-maml.safetensors") // a 5-way head
	ob, err := meta.Build(meta.Spec{Algorithm: "maml", Dataset: "omniglot", Ways: 5, Hidden: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Save(fixed, nil); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(good)
	cut := filepath.Join(dir, "cut.safetensors")
	os.WriteFile(cut, raw[:len(raw)/2], 0o644)
	plain := filepath.Join(dir, "plain.safetensors")
	if err := checkpoint.WriteFile(plain, b.Tensors(), nil); err != nil {
		t.Fatal(err)
	}
	nan := filepath.Join(dir, "nan.safetensors")
	ts := b.Tensors()
	ts[0].Tensor = ts[0].Tensor.Clone()
	ts[0].Tensor.SetFlat(0, math.NaN())
	spec, _ := json.Marshal(b.Spec)
	if err := checkpoint.WriteFile(nan, ts, map[string]string{"format": "metalearn-meta/1", "spec": string(spec)}); err != nil {
		t.Fatal(err)
	}
	// finite but bit-flipped weights (exponent bits set: +-3e38): the
	// outputs overflow and the mse is NaN
	flipped := filepath.Join(dir, "flipped.safetensors")
	fs := b.Tensors()
	for i := range fs {
		fs[i].Tensor = fs[i].Tensor.Clone()
		for j := 0; j < fs[i].Tensor.Len(); j++ {
			fs[i].Tensor.SetFlat(j, 3e38*float64(1-2*(j%2)))
		}
	}
	if err := checkpoint.WriteFile(flipped, fs, map[string]string{"format": "metalearn-meta/1", "spec": string(spec)}); err != nil {
		t.Fatal(err)
	}
	// a spec asking for a billion evaluation steps (issue 23: eval hung)
	steps := filepath.Join(dir, "steps.safetensors")
	bs := *b
	bs.Spec.EvalSteps = 1_000_000_000
	if err := bs.Save(steps, nil); err != nil {
		t.Fatal(err)
	}
	zipf := filepath.Join(dir, "data.zip")
	os.WriteFile(zipf, append([]byte("PK\x03\x04\x00\x00\x00\x00\x14\x00"), make([]byte, 40)...), 0o644)
	missing := filepath.Join(dir, "no", "such")

	cases := []struct {
		class, name string
		args        []string
		want        string
	}{
		{"unknown flag", "meta train", []string{"meta", "train", "--nosuch", "1"}, "unknown flag: --nosuch"},
		{"unknown flag", "seed (misspelt)", []string{"seed", "--epoch", "3"}, "unknown flag: --epoch"},
		{"unknown flag", "meta eval shorthand", []string{"meta", "eval", "-x"}, "unknown shorthand flag: 'x' in -x"},
		{"wrong dtype", "integer flag given text", []string{"meta", "train", "--ways", "five", "--out", out}, `invalid argument "five" for "--ways" flag`},
		{"wrong dtype", "float flag given text", []string{"meta", "train", "--inner-lr", "fast", "--out", out}, `invalid argument "fast" for "--inner-lr" flag`},
		{"bad value", "negative inner learning rate", []string{"meta", "train", "--inner-lr", "-0.5", "--out", out}, "inner learning rate = -0.5, want > 0"},
		{"bad value", "negative outer learning rate", []string{"meta", "train", "--outer-lr", "-1", "--out", out}, "--outer-lr = -1, want a finite value > 0"},
		{"NaN/Inf", "NaN inner learning rate", []string{"meta", "train", "--inner-lr", "NaN", "--out", out}, "inner learning rate = NaN, want > 0"},
		{"NaN/Inf", "Inf outer learning rate", []string{"meta", "train", "--outer-lr", "+Inf", "--out", out}, "--outer-lr = +Inf, want a finite value > 0"},
		{"bad value", "negative shots", []string{"meta", "train", "--shots", "-1", "--out", out}, "shots = -1, want >= 1"},
		{"bad value", "negative learning rate (seed)", []string{"seed", "--lr", "-0.01"}, "learning rate = -0.01"},
		{"bad value", "negative learning rate (mtl train)", []string{"mtl", "train", "--lr", "-0.1"}, "--lr -0.1"},
		{"bad value", "unknown algorithm", []string{"meta", "train", "--algo", "mamll", "--out", out}, `algorithm "mamll", want one of maml, fomaml`},
		{"N-way too large", "1-way omniglot", []string{"meta", "train", "--dataset", "omniglot", "--ways", "1", "--out", out}, "ways = 1, want >= 2"},
		{"missing file", "omniglot data dir", []string{"meta", "train", "--dataset", "omniglot", "--data-dir", missing, "--out", out}, filepath.Join(missing, "omniglot")},
		{"missing file", "school data dir", []string{"mtl", "school", "--data-dir", missing}, filepath.Join(missing, "school", "school.csv")},
		{"missing file", "mulan data dir", []string{"mtl", "train", "--dataset", "mulan:enb", "--data-dir", missing}, "enb.arff"},
		{"missing file", "checkpoint", []string{"meta", "eval", "--checkpoint", filepath.Join(dir, "absent.safetensors")}, "absent.safetensors: no such file or directory"},
		{"missing file", "checkpoint flag omitted", []string{"meta", "eval"}, "--checkpoint is required"},
		{"corrupt checkpoint", "truncated", []string{"meta", "eval", "--checkpoint", cut}, "cut.safetensors: truncated"},
		{"corrupt checkpoint", "a zip file", []string{"meta", "eval", "--checkpoint", zipf}, "data.zip: not a safetensors file"},
		{"corrupt checkpoint", "a folder", []string{"meta", "eval", "--checkpoint", dir}, "is a directory, not a safetensors file"},
		{"incompatible checkpoint", "weights without metadata", []string{"meta", "eval", "--checkpoint", plain}, `plain.safetensors: not a metalearn meta-learning checkpoint (format "")`},
		{"NaN/Inf", "NaN weight in checkpoint", []string{"meta", "eval", "--checkpoint", nan}, "element 0 is NaN; refusing non-finite weights"},
		{"NaN/Inf", "bit-flipped (finite) weights give a NaN mse (--json: no progress lines)", []string{"meta", "eval", "--checkpoint", flipped, "--tasks", "4", "--json"}, "evaluation gave a non-finite mse (NaN"},
		{"bad value", "checkpoint asking for 1e9 eval steps", []string{"meta", "eval", "--checkpoint", steps}, "eval steps = 1000000000, want 0..10000"},
		{"bad value", "--eval-steps 1e9", []string{"meta", "eval", "--checkpoint", good, "--eval-steps", "1000000000"}, "--eval-steps: 1000000000, want 0..10000"},
		{"bad value", "eval tasks 0", []string{"meta", "eval", "--checkpoint", good, "--tasks", "0"}, "--tasks = 0, want >= 1"},
		{"bad value", "eval negative steps", []string{"meta", "eval", "--checkpoint", good, "--eval-steps", "-2"}, "--eval-steps = -2, want >= 0"},
		{"N-way too large", "eval --ways on a fixed head", []string{"meta", "eval", "--checkpoint", fixed, "--ways", "20"}, "--ways/--shots at evaluation apply to metric-based checkpoints (protonet, r2d2); maml has a fixed 5-way head"},
		{"bad value", "eval --ways on a sinusoid model", []string{"meta", "eval", "--checkpoint", good, "--ways", "20"}, "--ways: sinusoid tasks are regressions and have no classes"},
		{"bad value", "negative --max-minutes", []string{"meta", "train", "--max-minutes", "-1", "--out", out}, "--max-minutes = -1, want minutes >= 0 (0: no limit)"},
		{"bad value", "unknown --outer-schedule", []string{"meta", "train", "--outer-schedule", "exp", "--iterations", "1", "--out", out}, `--outer-schedule: outer schedule "exp", want one of constant, linear, cosine`},
		{"bad value", "unknown --arch", []string{"meta", "train", "--dataset", "omniglot", "--arch", "resnet", "--out", out}, `arch "resnet", want pool or strided`},
		{"bad value", "--carry-adam without --inner-adam", []string{"meta", "train", "--algo", "reptile", "--carry-adam", "--out", out}, "carry adam applies to reptile with inner adam, not reptile (inner adam false)"},
		{"incompatible checkpoint", "eval --best on a final model", []string{"meta", "eval", "--best", "--checkpoint", good}, "--best: checkpoint " + good + ": holds no training state"},
		{"unwritable path", "train --out in a missing folder", []string{"meta", "train", "--iterations", "1", "--hidden", "4", "--val-tasks", "1", "--out", filepath.Join(missing, "x.safetensors")}, "cannot write in " + missing},
		{"missing file", "mt po model", []string{"mt", "po", "--model", filepath.Join(dir, "absent.safetensors"), "--lang", "gl", catalogue, "-o", out}, "absent.safetensors does not exist"},
		{"corrupt checkpoint", "mt po model a zip file", []string{"mt", "po", "--model", zipf, "--lang", "gl", catalogue, "-o", out}, "data.zip: not a safetensors file"},
		{"missing file", "mt po catalogue", []string{"mt", "po", "--model", zipf, "--lang", "gl", filepath.Join(dir, "absent.po"), "-o", out}, "absent.po: no such file or directory"},
		{"bad value", "mt po --batch 0", []string{"mt", "po", "--model", zipf, "--lang", "gl", catalogue, "-o", out, "--batch", "0"}, "--batch = 0, want >= 1"},
		{"bad value", "mt po glossary with 3 columns", []string{"mt", "po", "--model", zipf, "--lang", "gl", catalogue, "-o", out, "--glossary", badGlossary}, "terms.tsv:1: 3 columns, want 2 (source term<TAB>target term)"},
	}
	for _, c := range cases {
		t.Run(c.class+"/"+c.name, func(t *testing.T) {
			code, errs := runBad(c.args...)
			t.Logf("catalogue | %s | %s | %s", c.class, c.name, strings.TrimSpace(errs))
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "metalearn: ") {
				t.Errorf("stderr is not one \"metalearn: ...\" line:\n%s", errs)
			}
			if !strings.Contains(errs, c.want) {
				t.Errorf("stderr %q lacks %q", errs, c.want)
			}
			if strings.Contains(errs, "goroutine ") || strings.Contains(errs, "internal error") {
				t.Errorf("stack trace or panic: %s", errs)
			}
		})
	}
	// A known gap, kept visible: it skips with the reason while the
	// command still succeeds (see RELIABILITY.md).
	t.Run("bad value/eval split of a sinusoid checkpoint", func(t *testing.T) {
		code, errs := runBad("meta", "eval", "--checkpoint", good, "--split", "holdout", "--tasks", "2")
		if code != 1 || !strings.Contains(errs, `"holdout"`) {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
}
