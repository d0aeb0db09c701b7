package mtl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunToyStudy(t *testing.T) {
	out := t.TempDir()
	var seen int
	st, err := RunToyStudy(ToyStudyConfig{Scale: 1, Methods: " EW,mgda", ToyConfig: ToyConfig{Steps: 20, LR: 0.001, Tol: 0.1, Seed: 1}, Out: out,
		Run: func(*ToyRun) { seen++ }})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * len(ToyStarts); len(st.Runs) != want || seen != want || strings.Join(st.Methods, ",") != "ew,mgda" {
		t.Fatalf("%d runs, %d reported, methods %v", len(st.Runs), seen, st.Methods)
	}
	if n, total := st.Reached("ew"); total != len(ToyStarts) || n != 0 {
		t.Errorf("ew reached %d of %d after 20 tiny steps", n, total)
	}
	for _, f := range []string{"toy.json", "ew_x.svg", "mgda_loss.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	for _, c := range []ToyStudyConfig{{Scale: 1, Methods: "ew", ToyConfig: ToyConfig{Steps: 0, LR: 1, Tol: 1}}, {Scale: 1, Methods: "uw", ToyConfig: ToyConfig{Steps: 1, LR: 1, Tol: 1}}} {
		c.Out = t.TempDir()
		if _, err := RunToyStudy(c); err == nil {
			t.Errorf("%+v ran", c)
		}
	}
}
