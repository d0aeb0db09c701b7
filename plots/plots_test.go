package plots

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLineSave(t *testing.T) {
	dir := t.TempDir()
	l := Line{Title: "curve", XLabel: "step", YLabel: "loss", Series: []Series{
		{Name: "a", X: []float64{1, 2, 3}, Y: []float64{3, 2, 1}, Lo: []float64{2.5, 1.5, 0.5}, Hi: []float64{3.5, 2.5, 1.5}},
		{Name: "b", X: []float64{1, 2, 3}, Y: []float64{1, math.NaN(), 2}},
	}}
	paths, err := l.Save(filepath.Join(dir, "sub", "curve"))
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, paths)
}

func TestHeatmapSave(t *testing.T) {
	dir := t.TempDir()
	h := Heatmap{Title: "affinity", RowLabels: []string{"x", "y"}, ColLabels: []string{"x", "y"},
		Values: [][]float64{{0, -0.5}, {0.25, math.NaN()}}}
	paths, err := h.Save(filepath.Join(dir, "aff"))
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, paths)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]func() error{
		"no series": func() error { _, err := (Line{}).Save(filepath.Join(dir, "a")); return err },
		"ragged": func() error {
			_, err := (Line{Series: []Series{{X: []float64{1}, Y: nil}}}).Save(filepath.Join(dir, "b"))
			return err
		},
		"empty map":  func() error { _, err := (Heatmap{}).Save(filepath.Join(dir, "c")); return err },
		"bad labels": func() error { _, err := (Heatmap{Values: [][]float64{{1}}}).Save(filepath.Join(dir, "d")); return err },
		"ragged rows": func() error {
			_, err := (Heatmap{Values: [][]float64{{1, 2}, {1}}, RowLabels: []string{"a", "b"}, ColLabels: []string{"a", "b"}}).Save(filepath.Join(dir, "e"))
			return err
		},
	}
	for name, f := range cases {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("bad input left files behind: %v", entries)
	}
}

func checkFiles(t *testing.T, paths []string) {
	t.Helper()
	if len(paths) != 2 {
		t.Fatalf("got %d paths", len(paths))
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", paths[0], err)
	}
	if img.Bounds().Dx() < 100 {
		t.Errorf("PNG is %d px wide", img.Bounds().Dx())
	}
	s, err := os.ReadFile(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(s), "<svg") {
		t.Errorf("%s is not SVG", paths[1])
	}
	entries, _ := os.ReadDir(filepath.Dir(paths[0]))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}
