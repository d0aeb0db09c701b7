package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/mt"
)

func TestMTPO(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.safetensors")
	os.WriteFile(model, []byte("not a model"), 0o644)
	terms := filepath.Join(dir, "terms.tsv")
	os.WriteFile(terms, []byte("spreadsheet\tfolla de cálculo\n"), 0o644)
	out := filepath.Join(dir, "app.gl.po")
	in := filepath.Join("..", "..", "mt", "testdata", "app.pot")

	// Not a model file, no file: clear errors.
	code, _, errs := runCLI("mt", "po", "--model", model, "--lang", "gl", in, "-o", out)
	if code == 0 || !strings.Contains(errs, "--model: model file "+model+": not a safetensors file") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, _, errs = runCLI("mt", "po", "--model", filepath.Join(dir, "missing.safetensors"), "--lang", "gl", in, "-o", out)
	if code == 0 || !strings.Contains(errs, "missing.safetensors does not exist") {
		t.Fatalf("exit %d: %s", code, errs)
	}

	// A real (tiny) model: a template filled into de, placeholders intact.
	tmpl := filepath.Join(dir, "app.pot")
	raw, _ := os.ReadFile(in)
	os.WriteFile(tmpl, []byte(strings.Replace(string(raw), "Language: gl", "Language: ", 1)), 0o644)
	code, _, errs = runCLI("mt", "po", "--model", tinyModel(t), "--lang", "de", "--beam", "2", tmpl, "-o", out, "--quiet")
	if code != 0 || !strings.Contains(errs, "16 filled (fuzzy)") || strings.Contains(errs, "[===") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	g, err := data.ReadPO(out)
	if err != nil {
		t.Fatal(err)
	}
	if e := g.Entries[8]; e.ID != "Copied %1$d of %2$d files to %3$s." || !strings.Contains(e.Str[0], "%1$d") || !e.Fuzzy() {
		t.Fatalf("%+v", e)
	}
	code, _, errs = runCLI("mt", "po", "--model", tinyModel(t), "--lang", "eu", tmpl, "-o", out)
	if code == 0 || !strings.Contains(errs, `unknown target language "eu"`) {
		t.Fatalf("exit %d: %s", code, errs)
	}

	// With a (fake) model: upper-cases the masked text.
	defer func(f func(string, mt.TranslateOptions) (mt.Translator, error)) { openTranslator = f }(openTranslator)
	openTranslator = func(string, mt.TranslateOptions) (mt.Translator, error) {
		return mt.TranslatorFunc(func(ctx context.Context, texts []string, from, to string) ([]string, error) {
			r := make([]string, len(texts))
			for i, s := range texts {
				r[i] = strings.ToUpper(s)
			}
			return r, nil
		}), nil
	}
	code, _, errs = runCLI("mt", "po", "--model", model, "--lang", "gl", in, "-o", out, "--glossary", terms)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "mt po [==============================] 17/17") || !strings.Contains(errs, "19 entries: 2 already translated, 16 filled (fuzzy), 1 copied") {
		t.Errorf("stderr: %s", errs)
	}
	f, err := data.ReadPO(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range f.Entries {
		if !e.Obsolete {
			got[e.ID] = e.Str[0]
		}
	}
	for id, want := range map[string]string{
		"Save _As…":                           "SAVE _AS…",
		`Could not open "%s": %s`:             `COULD NOT OPEN "%s": %s`,
		"The spreadsheet could not be saved.": "THE folla de cálculo COULD NOT BE SAVED.",
		"_Open…":                              "_Abrir…",
	} {
		if got[id] != want {
			t.Errorf("%q -> %q, want %q", id, got[id], want)
		}
	}

	// Bad input.
	bad := filepath.Join(dir, "bad.tsv")
	os.WriteFile(bad, []byte("a\tb\tc\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", model, in, "-o", out}, "--lang is required"},
		{[]string{"--model", model, "--lang", "de", in, "-o", out}, `the catalogue's Language is "gl", not "de"`},
		{[]string{"--model", model, "--lang", "gl", in, "-o", out, "--glossary", bad}, "--glossary: " + bad + ":1: 3 columns, want 2"},
		{[]string{"--model", model, "--lang", "gl", filepath.Join(dir, "none.po"), "-o", out}, "none.po"},
		{[]string{"--model", model, "--lang", "gl", in, "-o", out, "--batch", "0"}, "--batch = 0"},
		{[]string{"--lang", "gl", in, "-o", out}, `"model" not set`},
		{[]string{"--model", model, "--lang", "gl", in, "-o", out, "--beam", "0"}, "--beam = 0"},
	} {
		code, _, errs := runCLI(append([]string{"mt", "po"}, c.args...)...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %s; want %q", c.args, code, errs, c.want)
		}
	}
}

func TestMTDemoBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--adapt-pairs", "0"}, "--adapt-pairs = 0, want >= 1"},
		{[]string{"--adapt-pairs", "400", "--out", t.TempDir()}, "mt demo: 400 adaptation pairs, want 1..300"},
		{[]string{"--pretrain-steps", "-1"}, "--pretrain-steps = -1, want >= 1"},
	} {
		code, _, errs := runCLI(append([]string{"mt", "demo"}, c.args...)...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %s; want %q", c.args, code, errs, c.want)
		}
	}
}
