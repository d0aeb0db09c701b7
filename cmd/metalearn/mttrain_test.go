package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/mt"
)

// runCLIStdin runs the CLI with stdin.
func runCLIStdin(stdin string, args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	root := newRoot(&out, &errb)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), errb.String(), err
}

// tinyModel trains a tiny en->de/en->fr model on made-up pairs.
func tinyModel(t *testing.T) string {
	t.Helper()
	c := mt.DefaultTrainConfig()
	c.Pairs = []string{"en-de", "en-fr"}
	c.TrainData = map[string][]data.Segment{}
	for _, w := range []string{"open the file", "close the window", "save the document", "print the page"} {
		c.TrainData["en-de"] = append(c.TrainData["en-de"], data.Segment{Source: w, Target: "de " + w})
		c.TrainData["en-fr"] = append(c.TrainData["en-fr"], data.Segment{Source: w, Target: "fr " + w})
	}
	c.DModel, c.Heads, c.EncoderLayers, c.DecoderLayers, c.FFN, c.VocabSize = 16, 2, 1, 1, 32, 300
	c.MaxLen, c.MaxTokens, c.Steps, c.ValEvery, c.Warmup = 32, 128, 3, 0, 1
	c.Out = t.TempDir()
	res, err := mt.Train(c)
	if err != nil {
		t.Fatal(err)
	}
	return res.Model
}

func TestMTTranslateCLI(t *testing.T) {
	model := tinyModel(t)
	out, errs, err := runCLIStdin("open the file\n\nprint the page\n", "mt", "translate", "--model", model, "--to", "de", "--from", "en", "--beam", "1")
	if err != nil || strings.Count(out, "\n") != 3 {
		t.Fatalf("plain: %v %s\n%q", err, errs, out)
	}
	if strings.Split(out, "\n")[1] != "" {
		t.Errorf("an empty line gave %q", strings.Split(out, "\n")[1])
	}
	out, errs, err = runCLIStdin("open the file\nprint\n", "mt", "translate", "--model", model, "--to", "fr", "--beam", "3", "--nbest", "2")
	if err != nil || strings.Count(out, "\n") != 4 || strings.Count(out, " ||| ") != 8 || !strings.HasPrefix(out, "0 ||| ") {
		t.Fatalf("n-best: %v %s\n%q", err, errs, out)
	}
	out, _, err = runCLIStdin("open the file\nprint\n", "mt", "translate", "--model", model, "--to", "fr", "--beam", "2", "--nbest", "2", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 2 {
		t.Fatalf("json: %v %q", err, out)
	}
	for _, l := range lines {
		var v struct {
			Source       string
			Translations []mt.Translation
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil || v.Source == "" || len(v.Translations) != 2 {
			t.Fatalf("json line %q: %v", l, err)
		}
	}
	junk := filepath.Join(t.TempDir(), "junk.safetensors")
	os.WriteFile(junk, []byte("not a model"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--to", "de"}, "--model is required"},
		{[]string{"--model", model}, "--to is required"},
		{[]string{"--model", filepath.Join(t.TempDir(), "none.safetensors"), "--to", "de"}, "does not exist"},
		{[]string{"--model", junk, "--to", "de"}, "not a safetensors file"},
		{[]string{"--model", model, "--to", "xx"}, `unknown target language "xx": the model knows de, en, fr`},
		{[]string{"--model", model, "--to", "de", "--from", "yy"}, "--from yy: unknown source language"},
		{[]string{"--model", model, "--to", "de", "--beam", "2", "--nbest", "3"}, "3-best needs a beam of at least 3"},
	} {
		_, _, err := runCLIStdin("open\n", append([]string{"mt", "translate"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("mt translate %v: %v, want an error containing %q", c.args, err, c.want)
		}
	}
}

func TestMTEvalModelBadInput(t *testing.T) {
	model := tinyModel(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", model}, "--model needs --pairs"},
		{[]string{"--model", model, "--pairs", "en-de", "--hyp", "h.txt"}, "not both"},
		{[]string{"--model", model, "--pairs", "en-de", "--split", "train"}, `split "train", want dev or test`},
		{[]string{"--model", model, "--pairs", "en-xx"}, `unknown target language "xx"`},
		{[]string{"--model", model, "--pairs", "ende"}, `language pair "ende"`},
	} {
		_, _, err := runCLIStdin("", append([]string{"mt", "eval"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("mt eval %v: %v, want an error containing %q", c.args, err, c.want)
		}
	}
}

func TestTrainConfigMTBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ body, want string }{
		{"kind: mt\nmt:\n  arch: shared\n", "mt.pairs"},
		{"kind: mt\nmt:\n  pairs: [en-de, ende]\n", "mt.pairs: entry 2: language pair \"ende\""},
		{"kind: mt\nmt:\n  pairs: [en-de]\n  arch: tower\n", `"tower", want shared or separate-decoders`},
		{"kind: mt\nmt:\n  pairs: [en-de]\n  dropout: 1.5\n", "mt.dropout"},
		{"kind: mt\nmt:\n  pairs: [en-de]\n  colour: blue\n", "colour"},
	} {
		p := filepath.Join(dir, "c.yaml")
		os.WriteFile(p, []byte(c.body), 0o644)
		code, _, errs := runCLI("train", "-c", p, "--out", filepath.Join(dir, "run"))
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, %s; want an error containing %q", c.body, code, errs, c.want)
		}
	}
}

// train -c with kind: mt on real lo-mt data, then mt eval --model and
// mt translate on the model it wrote.
func TestTrainConfigMTOnLoMT(t *testing.T) {
	if _, err := os.Stat("../../../shared/data/lo-mt/train/en-de.tsv"); err != nil {
		t.Skip("../shared/data/lo-mt absent: skipping the lo-mt train -c run")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "mt.yaml")
	os.WriteFile(p, []byte(`kind: mt
data_dir: ../../../shared/data
checkpoint_every: 2
mt:
  pairs: [en-de, de-en]
  d_model: 16
  heads: 2
  encoder_layers: 1
  decoder_layers: 1
  ffn: 32
  vocab_size: 400
  max_pairs: 100
  max_tokens: 512
  steps: 4
  warmup: 2
  val_every: 2
  val_sentences: 5
`), 0o644)
	out := filepath.Join(dir, "run")
	code, stdout, errs := runCLI("train", "-c", p, "--out", out, "--quiet")
	if code != 0 || !strings.Contains(stdout, "4 steps") {
		t.Fatalf("exit %d: %s %s", code, stdout, errs)
	}
	for _, f := range []string{"config.yaml", "model.safetensors", "checkpoint.safetensors", "dev.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	so, errs, err := runCLIStdin("", "mt", "eval", "--model", filepath.Join(out, "model.safetensors"), "--data-dir", "../../../shared/data",
		"--pairs", "en-de,de-en", "--max-sentences", "5", "--beam", "2", "--bootstrap", "10")
	if err != nil || strings.Count(so, "chrF2 = ") != 2 || !strings.Contains(so, "nc:6|nw:0|space:no|version:2.x") {
		t.Fatalf("mt eval: %v %s\n%s", err, errs, so)
	}
}

// mt eval --model --test: a .po catalogue (msgid -> msgstr, fuzzy
// entries left out) and a Moses-style pair of files.
func TestMTEvalModelTestFile(t *testing.T) {
	model := tinyModel(t)
	dir := t.TempDir()
	po := filepath.Join(dir, "app.de.po")
	os.WriteFile(po, []byte("msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\n"+
		"msgid \"open the file\"\nmsgstr \"de open the file\"\n\n#, fuzzy\nmsgid \"print\"\nmsgstr \"x\"\n\n"+
		"msgid \"close the window\"\nmsgstr \"de close the window\"\n"), 0o644)
	out, errs, err := runCLIStdin("", "mt", "eval", "--model", model, "--pairs", "en-de", "--test", po, "--beam", "2", "--bootstrap", "10", "--json")
	if err != nil {
		t.Fatalf("%v %s", err, errs)
	}
	var reps []mt.PairReport
	if err := json.Unmarshal([]byte(out), &reps); err != nil || len(reps) != 1 || reps[0].Report.Segments != 2 {
		t.Fatalf("po: %v %s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "t.en"), []byte("open the file\nprint the page\nsave the document\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "t.fr"), []byte("fr open the file\nfr print the page\nfr save the document\n"), 0o644)
	out, errs, err = runCLIStdin("", "mt", "eval", "--model", model, "--pairs", "en-fr", "--test", filepath.Join(dir, "t"), "--beam", "1", "--bootstrap", "10")
	if err != nil || !strings.Contains(out, "chrF2 = ") || !strings.Contains(out, "3 segments") {
		t.Fatalf("moses: %v %s\n%s", err, errs, out)
	}
	_, _, err = runCLIStdin("", "mt", "eval", "--model", model, "--pairs", "en-fr", "--test", filepath.Join(dir, "none"))
	if err == nil || !strings.Contains(err.Error(), "none.en") {
		t.Errorf("missing Moses files: %v", err)
	}
}
