package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMTEval(t *testing.T) {
	dir := t.TempDir()
	w := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hyp := w("h.txt", "The dog bit the man.\nIt wasn't surprising.\nThe man had just bitten him.\n")
	r1 := w("r1.txt", "The dog bit the man.\nIt was not unexpected.\nThe man bit him first.\n")
	r2 := w("r2.tsv", "a\tx\tThe dog had bit the man.\nb\ty\tNo one was surprised.\nc\tz\tThe man had bitten the dog.\n")
	code, out, errs := runCLI("mt", "eval", "--hyp", hyp, "--ref", r1, "--ref", r2)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18) (μ = ",
		"nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x",
		"chrF2 = 59.73 (μ = ",
		"nrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x",
		"3 segments; 95% CIs from 1000 bootstrap resamples",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// .po references (translated, non-fuzzy entries in order), paired
	// test against a baseline, JSON.
	po := w("ref.po", "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\n"+
		"msgid \"a\"\nmsgstr \"The dog bit the man.\"\n\n#, fuzzy\nmsgid \"f\"\nmsgstr \"skipped\"\n\n"+
		"msgid \"b\"\nmsgstr \"It was not unexpected.\"\n\nmsgid \"c\"\nmsgstr \"The man bit him first.\"\n")
	base := w("b.txt", "A dog.\nNo.\nA man.\n")
	code, out, errs = runCLI("mt", "eval", "--hyp", hyp, "--ref", po, "--baseline", base, "--json", "--metrics", "chrf")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Segments int
		Results  []struct {
			Name     string
			Score    float64
			Baseline *float64
			P        *float64
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Segments != 3 || len(rep.Results) != 1 || rep.Results[0].Name != "chrF2" || rep.Results[0].P == nil || *rep.Results[0].Baseline >= rep.Results[0].Score {
		t.Fatalf("%s", out)
	}
	// --ref-side source scores against the TSV's middle column.
	code, out, errs = runCLI("mt", "eval", "--hyp", w("src.txt", "x\ny\nz\n"), "--ref", r2, "--ref-side", "source", "--metrics", "chrf", "--bootstrap", "0")
	if code != 0 || !strings.HasPrefix(out, "chrF2 = 100.00\n") {
		t.Fatalf("source side: exit %d %q %q", code, out, errs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"mt", "eval", "--hyp", hyp, "--ref", r1, "--ref-side", "left"}, `--ref-side "left"`},
		{[]string{"mt", "eval", "--hyp", hyp, "--ref", r1, "--ref-side", "source"}, "has no source side"},
		{[]string{"mt", "eval", "--hyp", hyp, "--ref", w("short.txt", "x\n")}, "has 3 segments but " + filepath.Join(dir, "short.txt") + " has 1 references"},
		{[]string{"mt", "eval", "--hyp", hyp}, `required flag(s) "ref" not set`},
		{[]string{"mt", "eval", "--hyp", hyp, "--ref", r1, "--metrics", "meteor"}, `unknown metric "meteor"`},
		{[]string{"mt", "eval", "--hyp", w("bad.txt", "a\n\xff\nc\n"), "--ref", r1}, "bad.txt:2: invalid UTF-8"},
		{[]string{"mt", "eval", "--hyp", hyp, "--ref", w("r.tmx", "<tmx/>")}, "needs its language"},
		{[]string{"mt", "eval", "--hyp", hyp, "--ref", w("e.txt", "")}, "has 0 references"},
		{[]string{"mt", "eval", "--hyp", w("empty.txt", ""), "--ref", w("e2.txt", "")}, "empty corpus"},
	} {
		code, _, errs := runCLI(c.args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args[len(c.args)-1], code, errs, c.want)
		}
	}
}

// lo-mt is known to data list/verify; get says where it lives (no
// rebuild from the Debian packages), and succeeds when it is present.
func TestDataLoMT(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := runCLI("data", "get", "lo-mt", "--data-dir", dir)
	if code == 0 || !strings.Contains(errs, "lo-mt cannot be downloaded automatically") || !strings.Contains(errs, "does not implement") {
		t.Fatalf("absent: exit %d %q", code, errs)
	}
	shared := filepath.Join("..", "..", "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(shared, "lo-mt", "SHA256SUMS")); err != nil {
		t.Skipf("no lo-mt corpus at %s: %v", shared, err)
	}
	code, out, errs := runCLI("data", "verify", "lo-mt", "--data-dir", shared)
	if code != 0 || strings.Count(out, "ok (sha256)") != 28 {
		t.Fatalf("verify: exit %d %q %q", code, out, errs)
	}
	code, out, errs = runCLI("data", "get", "lo-mt", "--data-dir", shared)
	if code != 0 || !strings.Contains(out, "lo-mt: all files present and verified") {
		t.Fatalf("get: exit %d %q %q", code, out, errs)
	}
}
