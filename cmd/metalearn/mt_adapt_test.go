package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/mt"
)

// mt adapt from a project's .po file, the related language picked from a
// language map (the argmax of the gl column among the model's languages),
// and its bad input.
func TestMTAdaptCLI(t *testing.T) {
	model := tinyModel(t)
	dir := t.TempDir()
	po := filepath.Join(dir, "app.gl.po")
	os.WriteFile(po, []byte(`msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"

msgid "open the file"
msgstr "abrir o ficheiro"

msgid "close the window"
msgstr "pechar a xanela"

#, fuzzy
msgid "print the page"
msgstr "imprimir"

msgid "save the document"
msgstr ""
`), 0o644)
	lm := &mt.LangMap{Languages: []string{"de", "fr", "gl", "es"}, Metric: "chrF", Gain: [][]float64{
		{0, 1, 2, 0}, {1, 0, 5, 0}, {0, 0, 0, 0}, {0, 0, 9, 0}, // es has the largest gain for gl but the model lacks it
	}}
	lmPath := filepath.Join(dir, "map.json")
	if err := lm.Save(lmPath); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "gl")
	stdout, errs, err := runCLIStdin("", "mt", "adapt", "--model", model, "--lang", "gl", "--pairs", po, "--auto-source", lmPath,
		"--steps", "2", "--warmup", "1", "--max-tokens", "128", "--max-len", "32", "--out", out, "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	var r struct{ Result mt.NewLangRun }
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	if r.Result.Source != "fr" || r.Result.K != 2 || r.Result.Steps != 2 || r.Result.Method != "finetune" {
		t.Fatalf("result %+v: want source fr (argmax among the model's languages), K 2 (translated, non-fuzzy entries), 2 steps", r.Result)
	}
	m, _, err := mt.LoadModel(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CanTranslateInto("gl"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "result.json")); err != nil {
		t.Fatal(err)
	}
	txt := filepath.Join(dir, "pairs.txt")
	os.WriteFile(txt, []byte("a\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--lang", "gl", "--k", "5", "--out", dir}, "--model, --lang and --out are required"},
		{[]string{"--model", model, "--lang", "gl", "--pairs", txt, "--out", dir}, "want a .po or .tsv"},
		{[]string{"--model", model, "--lang", "gl", "--pairs", po, "--method", "magic", "--out", dir}, "want scratch, finetune, meta or mix"},
		{[]string{"--model", model, "--lang", "gl", "--pairs", po, "--auto-source", filepath.Join(dir, "none.json"), "--out", dir}, "none.json"},
		{[]string{"--model", model, "--lang", "eu", "--pairs", po, "--auto-source", lmPath, "--out", dir}, "no column for target \"eu\""},
		{[]string{"--model", model, "--lang", "gl", "--pairs", po, "--method", "mix", "--out", dir}, "needs --related or --auto-source"},
		{[]string{"--model", model, "--lang", "gl", "--out", dir}, "give --k >= 1"},
		{[]string{"--model", model, "--lang", "gl", "--pairs", po, "--eval-split", "train", "--out", dir}, "eval split \"train\""},
		{[]string{"--model", model, "--lang", "gl", "--pairs", po, "--tag-from", "xx", "--out", dir}, "tag initialisation from \"xx\""},
	} {
		_, _, err := runCLIStdin("", append([]string{"mt", "adapt"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("mt adapt %v: %v, want %q", tc.args, err, tc.want)
		}
	}
	os.WriteFile(lmPath, []byte(`{"format":"metalearn-mt-langmap/1","languages":["a","b"],"gain":[[1]]}`), 0o644)
	if _, err := mt.LoadLangMap(lmPath); err == nil || !strings.Contains(err.Error(), "gain has 1 rows for 2 languages") {
		t.Errorf("bad map: %v", err)
	}
}

func TestMTCurvesCLI(t *testing.T) {
	dir := t.TempDir()
	for i, r := range []mt.NewLangRun{{Lang: "gl", K: 100, Method: "finetune", Seed: 1, ChrF: 30}, {Lang: "gl", K: 100, Method: "finetune", Seed: 2, ChrF: 32}} {
		b, _ := json.Marshal(r)
		p := filepath.Join(dir, "r"+string(rune('0'+i)), "result.json")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, b, 0o644)
	}
	out, _, err := runCLIStdin("", "mt", "curves", dir, "--plot", filepath.Join(dir, "c"))
	if err != nil || !strings.Contains(out, "| gl | finetune | 100 | 2 | 31.00 ±") || !strings.Contains(out, "c-gl.png") {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, _, err := runCLIStdin("", "mt", "curves", t.TempDir()); err == nil || !strings.Contains(err.Error(), "no result.json") {
		t.Errorf("empty folder: %v", err)
	}
}
