package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one named line of a line chart. Lo and Hi, when non-nil, give a
// band (e.g. a 95% confidence interval) drawn as error bars at each point.
type Series struct {
	Name   string
	X, Y   []float64
	Lo, Hi []float64
}

// Line describes a line chart.
type Line struct {
	Title, XLabel, YLabel string
	LogX                  bool
	// LegendBottom puts the legend in the lower right corner (for curves
	// that rise to the upper right).
	LegendBottom bool
	Series       []Series
}

// Heatmap describes a labelled square or rectangular matrix drawn as colours
// with each cell's value printed in it. Rows index Y (top to bottom), columns X.
type Heatmap struct {
	Title, XLabel, YLabel string
	RowLabels, ColLabels  []string
	Values                [][]float64
}

var lineColors = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
	color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255}, color.RGBA{188, 189, 34, 255},
	color.RGBA{23, 190, 207, 255},
}

// Save writes the chart to base+".png" and base+".svg" and returns both paths.
func (l Line) Save(base string) ([]string, error) {
	if len(l.Series) == 0 {
		return nil, errors.New("plots: line chart has no series")
	}
	p := plot.New()
	p.Title.Text = l.Title
	p.X.Label.Text = l.XLabel
	p.Y.Label.Text = l.YLabel
	if l.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		// label the measured x values themselves when there are few
		xs := map[float64]bool{}
		for _, s := range l.Series {
			for _, x := range s.X {
				if x > 0 && finite(x) {
					xs[x] = true
				}
			}
		}
		if len(xs) <= 12 {
			var ticks []plot.Tick
			for x := range xs {
				ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', 4, 64)})
			}
			sort.Slice(ticks, func(i, j int) bool { return ticks[i].Value < ticks[j].Value })
			p.X.Tick.Marker = plot.ConstantTicks(ticks)
		}
	}
	p.Legend.Top = !l.LegendBottom
	for i, s := range l.Series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plots: series %q has %d x values and %d y values", s.Name, len(s.X), len(s.Y))
		}
		if (s.Lo != nil && len(s.Lo) != len(s.Y)) || (s.Hi != nil && len(s.Hi) != len(s.Y)) {
			return nil, fmt.Errorf("plots: series %q band length does not match its %d points", s.Name, len(s.Y))
		}
		var pts plotter.XYs
		for j := range s.X {
			if !finite(s.X[j]) || !finite(s.Y[j]) || (l.LogX && s.X[j] <= 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: s.X[j], Y: s.Y[j]})
		}
		if len(pts) == 0 {
			continue
		}
		ln, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
		}
		c := lineColors[i%len(lineColors)]
		ln.Color = c
		ln.Width = vg.Points(1.5)
		sc.Color = c
		sc.Shape = draw.CircleGlyph{}
		sc.Radius = vg.Points(2)
		if len(pts) > 60 {
			p.Add(ln)
		} else {
			p.Add(ln, sc)
		}
		p.Legend.Add(s.Name, ln)
		if s.Lo != nil && s.Hi != nil {
			var eb [][3]float64
			for j := range s.X {
				if finite(s.X[j]) && finite(s.Lo[j]) && finite(s.Hi[j]) && !(l.LogX && s.X[j] <= 0) {
					eb = append(eb, [3]float64{s.X[j], s.Lo[j], s.Hi[j]})
				}
			}
			if len(eb) > 0 {
				yb := &plotter.YErrorBars{XYs: make(plotter.XYs, len(eb)), YErrors: make(plotter.YErrors, len(eb))}
				for j, e := range eb {
					mid := (e[1] + e[2]) / 2
					yb.XYs[j] = plotter.XY{X: e[0], Y: mid}
					yb.YErrors[j].Low = mid - e[1]
					yb.YErrors[j].High = e[2] - mid
				}
				yb.LineStyle.Color = c
				yb.LineStyle.Width = vg.Points(1)
				yb.CapWidth = vg.Points(4)
				p.Add(yb)
			}
		}
	}
	p.Add(plotter.NewGrid())
	return save(p, base, 6*vg.Inch, 4*vg.Inch)
}

// Save writes the heatmap to base+".png" and base+".svg" and returns both paths.
func (h Heatmap) Save(base string) ([]string, error) {
	r := len(h.Values)
	if r == 0 || len(h.Values[0]) == 0 {
		return nil, errors.New("plots: heatmap has no cells")
	}
	c := len(h.Values[0])
	for i, row := range h.Values {
		if len(row) != c {
			return nil, fmt.Errorf("plots: heatmap row %d has %d cells, want %d", i, len(row), c)
		}
	}
	if len(h.RowLabels) != r || len(h.ColLabels) != c {
		return nil, fmt.Errorf("plots: heatmap is %dx%d but has %d row and %d column labels", r, c, len(h.RowLabels), len(h.ColLabels))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, row := range h.Values {
		for _, v := range row {
			if finite(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if !finite(lo) {
		lo, hi = 0, 1
	}
	if hi == lo {
		hi = lo + 1
	}
	// Symmetric colour range around zero when values take both signs, so
	// "helps" and "hurts" read as different hues.
	if lo < 0 && hi > 0 {
		m := math.Max(-lo, hi)
		lo, hi = -m, m
	}
	pal := moreland.SmoothBlueRed()
	pal.SetMin(lo)
	pal.SetMax(hi)
	p := plot.New()
	p.Title.Text = h.Title
	p.X.Label.Text = h.XLabel
	p.Y.Label.Text = h.YLabel
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			v := h.Values[i][j]
			col := color.Color(color.Gray{200})
			if finite(v) {
				cc, err := pal.At(v)
				if err == nil {
					col = cc
				}
			}
			y := float64(r - 1 - i)
			poly, err := plotter.NewPolygon(plotter.XYs{{X: float64(j) - 0.5, Y: y - 0.5}, {X: float64(j) + 0.5, Y: y - 0.5}, {X: float64(j) + 0.5, Y: y + 0.5}, {X: float64(j) - 0.5, Y: y + 0.5}})
			if err != nil {
				return nil, err
			}
			poly.Color = col
			poly.LineStyle.Width = vg.Points(0.5)
			poly.LineStyle.Color = color.White
			p.Add(poly)
		}
	}
	var lbl plotter.XYLabels
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			lbl.XYs = append(lbl.XYs, plotter.XY{X: float64(j), Y: float64(r - 1 - i)})
			lbl.Labels = append(lbl.Labels, cellText(h.Values[i][j]))
		}
	}
	labels, err := plotter.NewLabels(lbl)
	if err != nil {
		return nil, err
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].XAlign = draw.XCenter
		labels.TextStyle[i].YAlign = draw.YCenter
		labels.TextStyle[i].Font.Size = vg.Points(cellFont(r, c))
	}
	p.Add(labels)
	xt := make([]plot.Tick, c)
	for j := range xt {
		xt[j] = plot.Tick{Value: float64(j), Label: h.ColLabels[j]}
	}
	yt := make([]plot.Tick, r)
	for i := range yt {
		yt[i] = plot.Tick{Value: float64(r - 1 - i), Label: h.RowLabels[i]}
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Min, p.X.Max = -0.5, float64(c)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(r)-0.5
	if c > 6 {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YTop
	}
	size := vg.Length(math.Max(4, 0.6*float64(max(r, c))+2)) * vg.Inch
	return save(p, base, size, size)
}

func cellText(v float64) string {
	if !finite(v) {
		return "-"
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

func cellFont(r, c int) float64 {
	n := max(r, c)
	switch {
	case n <= 6:
		return 10
	case n <= 12:
		return 8
	default:
		return 6
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func save(p *plot.Plot, base string, w, h vg.Length) ([]string, error) {
	if dir := filepath.Dir(base); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("plots: %w", err)
		}
	}
	var paths []string
	for _, ext := range []string{"png", "svg"} {
		wt, err := p.WriterTo(w, h, ext)
		if err != nil {
			return nil, fmt.Errorf("plots: render %s: %w", ext, err)
		}
		var buf bytes.Buffer
		if _, err := wt.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("plots: render %s: %w", ext, err)
		}
		path := base + "." + ext
		if err := atomicWrite(path, buf.Bytes()); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

func atomicWrite(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("plots: write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("plots: write %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("plots: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("plots: write %s: %w", path, err)
	}
	return nil
}
