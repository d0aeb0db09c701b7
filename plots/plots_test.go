package plots

import (
	"bytes"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
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

// The diverging scale is centred at 0 whatever the data range: 0 is white,
// a small positive gain is blue (never the colour of a loss), a negative
// one red, and the range is symmetric.
func TestHeatRampCentredAtZero(t *testing.T) {
	for _, tc := range []struct{ lo, hi float64 }{{0.01, 0.08}, {-0.05, 0.08}, {-0.3, -0.01}} {
		m := heatRamp(tc.lo, tc.hi, true)
		if m.Min() != -m.Max() {
			t.Errorf("[%v, %v]: range [%v, %v] not symmetric", tc.lo, tc.hi, m.Min(), m.Max())
		}
		if c := color.RGBAModel.Convert(m.color(0)).(color.RGBA); c.R != c.G || c.G != c.B || c.R < 240 {
			t.Errorf("[%v, %v]: 0 drawn %v, want white", tc.lo, tc.hi, c)
		}
		pos := color.RGBAModel.Convert(m.color(m.Max() * 0.4)).(color.RGBA)
		neg := color.RGBAModel.Convert(m.color(m.Min() * 0.4)).(color.RGBA)
		if !(pos.B > pos.R) || !(neg.R > neg.B) {
			t.Errorf("[%v, %v]: positive %v should be blue, negative %v red", tc.lo, tc.hi, pos, neg)
		}
	}
	// the sequential scale runs light to dark over the data
	s := heatRamp(20, 90, false)
	light, dark := color.RGBAModel.Convert(s.color(20)).(color.RGBA), color.RGBAModel.Convert(s.color(90)).(color.RGBA)
	if s.Min() != 20 || s.Max() != 90 || int(light.R)+int(light.G) < int(dark.R)+int(dark.G)+200 {
		t.Errorf("sequential [%v, %v]: %v .. %v", s.Min(), s.Max(), light, dark)
	}
	if textOn(dark) != color.White || textOn(light) != color.Black {
		t.Error("cell text does not contrast with its cell")
	}
}

func TestCellNumbers(t *testing.T) {
	for _, tc := range []struct {
		v, maxAbs float64
		signed    bool
		want      string
	}{
		{0.03, 0.08, true, "+0.030"},
		{-0.05, 0.08, true, "-0.050"},
		{0.0027, 0.0027, true, "+0.0027"},
		{87.34, 89.7, false, "87.3"},
		{0.651, 0.9, false, "0.65"},
		{1234.5, 5000, false, "1234"},
		{0.00001, 0.08, true, "+1e-05"},
		{math.NaN(), 1, false, "-"},
	} {
		if got := formatValue(tc.v, decimals(tc.maxAbs), tc.signed); got != tc.want && !(tc.v == 0.00001 && got == "1e-05") {
			t.Errorf("formatValue(%v, max %v) = %q, want %q", tc.v, tc.maxAbs, got, tc.want)
		}
	}
}

func TestAbbreviate(t *testing.T) {
	got := abbreviate([]string{"short", "LBL+ALLminpA+fut_001", "LBL+ALLminpA+fut_002", "a-rather-long-unique-name"}, 12)
	if got[0] != "short" {
		t.Errorf("short label changed: %q", got[0])
	}
	seen := map[string]bool{}
	for i, s := range got {
		if n := len([]rune(s)); n > 12 {
			t.Errorf("label %d %q has %d characters", i, s, n)
		}
		if seen[s] {
			t.Errorf("abbreviations collide: %q", got)
		}
		seen[s] = true
	}
	if !strings.HasSuffix(got[1], "001") || !strings.HasSuffix(got[2], "002") {
		t.Errorf("colliding prefixes should keep their ends: %q", got)
	}
}

func TestSmooth(t *testing.T) {
	var pts, flat plotter.XYs
	for i := 0; i < 300; i++ {
		pts = append(pts, plotter.XY{X: float64(i), Y: 1 + float64(i%2)}) // 1,2,1,2...
		flat = append(flat, plotter.XY{X: float64(i), Y: 3})
	}
	sm := smooth(pts, false)
	for i := 20; i < 280; i++ {
		if math.Abs(sm[i].Y-1.5) > 0.1 {
			t.Fatalf("smoothed alternating series at %d = %v, want about 1.5", i, sm[i].Y)
		}
	}
	for i, p := range smooth(flat, true) {
		if math.Abs(p.Y-3) > 1e-12 || p.X != flat[i].X {
			t.Fatalf("smoothing a constant changed it at %d: %v", i, p)
		}
	}
}

// A chart whose every series is one point is drawn as bars (one per
// series, the x value in the axis label), not as lone dots.
func TestSinglePointsBecomeBars(t *testing.T) {
	l := Line{Title: "t", XLabel: "step", YLabel: "acc", Series: []Series{
		{Name: "val", X: []float64{500}, Y: []float64{0.8}},
		{Name: "test", X: []float64{500}, Y: []float64{0.7}},
	}}
	b := l.asBars()
	if len(b.Labels) != 2 || b.Labels[0] != "val" || b.Values[1] != 0.7 || b.XLabel != "step = 500" {
		t.Errorf("bars %+v", b)
	}
	paths, err := l.Save(filepath.Join(t.TempDir(), "single"))
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, paths)
	// log y with non-positive values: those points are left out, not an error
	paths, err = Line{LogY: true, Smooth: true, Series: []Series{{Name: "loss", X: []float64{1, 2, 3}, Y: []float64{0, 1, 0.5}}}}.Save(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, paths)
}

func TestLogTicks(t *testing.T) {
	labels := func(lo, hi float64) []string {
		var out []string
		for _, tk := range (logTicks{}).Ticks(lo, hi) {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{
		{0.45, 6, "0.5 1 2 5"},
		{4e-5, 0.7, "0.0001 0.001 0.01 0.1"},
		{1.1, 1.9, "1.2 1.5 1.8"}, // no two multiples of a power of ten inside: ordinary ticks
		{2.1, 8.5, "3 4 5 6 7 8"},
	} {
		if got := strings.Join(labels(tc.lo, tc.hi), " "); got != tc.want {
			t.Errorf("log ticks on [%v, %v]: %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
}
