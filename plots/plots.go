package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Series is one named line of a line chart. Lo and Hi, when non-nil, give a
// band (e.g. a 95% confidence interval) drawn as error bars at each point.
type Series struct {
	Name   string
	X, Y   []float64
	Lo, Hi []float64
}

// Line describes a line chart. The legend is drawn to the right of the
// data area, never over it.
type Line struct {
	Title, XLabel, YLabel string
	LogX                  bool
	// LogY draws the y axis on a log scale (losses); points with y <= 0
	// are left out. When no point is positive the axis stays linear.
	LogY bool
	// Smooth draws each long, noisy series (SmoothMin points or more) as a
	// faint raw line under a centred moving average (training curves).
	Smooth bool
	Series []Series
	// Deprecated: LegendBottom has no effect; the legend is always drawn
	// to the right of the data area. Kept so callers written against the
	// old placement still build; it goes in the next release.
	LegendBottom bool
}

// SmoothMin is the number of points from which Line.Smooth smooths a
// series.
const SmoothMin = 30

// Bars describes a bar chart: one bar per label, with the value written
// above it. Line charts whose every series has a single point are drawn as
// bars (a lone point on a degenerate axis says nothing).
type Bars struct {
	Title, XLabel, YLabel string
	Labels                []string
	Values                []float64
	// Lo and Hi, when non-nil, give an interval drawn as an error bar.
	Lo, Hi []float64
}

// Heatmap describes a labelled square or rectangular matrix drawn as colours
// with each cell's value printed in it and a colour bar beside it. Rows
// index Y (top to bottom), columns X.
type Heatmap struct {
	Title, XLabel, YLabel string
	RowLabels, ColLabels  []string
	Values                [][]float64
	// Diverging marks signed quantities (gains, affinities): the colours
	// run from red (negative) through white (0) to blue (positive) over a
	// range symmetric about 0, so the sign reads at a glance. Values of
	// both signs always get this scale; otherwise it is a sequential
	// white-to-blue scale over [min, max].
	Diverging bool
	// ValueLabel names the quantity on the colour bar.
	ValueLabel string
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
	for _, s := range l.Series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plots: series %q has %d x values and %d y values", s.Name, len(s.X), len(s.Y))
		}
		if (s.Lo != nil && len(s.Lo) != len(s.Y)) || (s.Hi != nil && len(s.Hi) != len(s.Y)) {
			return nil, fmt.Errorf("plots: series %q band length does not match its %d points", s.Name, len(s.Y))
		}
	}
	logY := l.LogY && anyPositiveY(l.Series)
	keep := func(x, y float64) bool {
		return finite(x) && finite(y) && !(l.LogX && x <= 0) && !(logY && y <= 0)
	}
	// every series a single point (or none): a bar chart says it better
	single := true
	for _, s := range l.Series {
		n := 0
		for j := range s.X {
			if keep(s.X[j], s.Y[j]) {
				n++
			}
		}
		single = single && n <= 1
	}
	if single {
		return l.asBars().Save(base)
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
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	legend.Padding = vg.Points(4)
	p.Add(plotter.NewGrid())
	for i, s := range l.Series {
		var pts plotter.XYs
		for j := range s.X {
			if keep(s.X[j], s.Y[j]) {
				pts = append(pts, plotter.XY{X: s.X[j], Y: s.Y[j]})
			}
		}
		if len(pts) == 0 {
			continue
		}
		c := lineColors[i%len(lineColors)]
		var thumb plot.Thumbnailer
		switch {
		case len(pts) == 1:
			// a lone point among longer series: a large marker
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
			}
			sc.Color = c
			sc.Shape = draw.CircleGlyph{}
			sc.Radius = vg.Points(4)
			p.Add(sc)
			thumb = sc
		case l.Smooth && len(pts) >= SmoothMin:
			raw, err := plotter.NewLine(pts)
			if err != nil {
				return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
			}
			raw.Color = fade(c, 0.2)
			raw.Width = vg.Points(0.8)
			sm, err := plotter.NewLine(smooth(pts, logY))
			if err != nil {
				return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
			}
			sm.Color = c
			sm.Width = vg.Points(1.8)
			p.Add(raw, sm)
			thumb = sm
		default:
			ln, sc, err := plotter.NewLinePoints(pts)
			if err != nil {
				return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
			}
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
			thumb = ln
		}
		legend.Add(s.Name, thumb)
		if s.Lo != nil && s.Hi != nil {
			var eb [][3]float64
			for j := range s.X {
				if keep(s.X[j], s.Lo[j]) && keep(s.X[j], s.Hi[j]) {
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
	padSingleX(p)
	legW := legendWidth(legend, l.Series)
	w, h := 6*vg.Inch+legW, 4*vg.Inch
	return render(base, w, h, func(c draw.Canvas) {
		p.Draw(draw.Crop(c, 0, -legW, 0, 0))
		if legW > 0 {
			// the legend's top aligned with the data area's top
			lc := draw.Crop(c, c.Max.X-c.Min.X-legW+vg.Points(6), 0, 0, -titleHeight(p)-vg.Points(6))
			legend.Draw(lc)
		}
	})
}

func anyPositiveY(ss []Series) bool {
	for _, s := range ss {
		for _, y := range s.Y {
			if y > 0 && finite(y) {
				return true
			}
		}
	}
	return false
}

// asBars turns a chart of single points into bars: one bar per series,
// labelled by the series name, with its x value in the axis label.
func (l Line) asBars() Bars {
	b := Bars{Title: l.Title, YLabel: l.YLabel}
	var xs []string
	band := false
	for _, s := range l.Series {
		band = band || (s.Lo != nil && s.Hi != nil)
	}
	for _, s := range l.Series {
		v, lo, hi := math.NaN(), math.NaN(), math.NaN()
		for j := range s.Y {
			if finite(s.X[j]) && finite(s.Y[j]) {
				v = s.Y[j]
				if s.Lo != nil && s.Hi != nil {
					lo, hi = s.Lo[j], s.Hi[j]
				}
				x := strconv.FormatFloat(s.X[j], 'g', 6, 64)
				if !slices.Contains(xs, x) {
					xs = append(xs, x)
				}
			}
		}
		b.Labels = append(b.Labels, s.Name)
		b.Values = append(b.Values, v)
		if band {
			b.Lo, b.Hi = append(b.Lo, lo), append(b.Hi, hi)
		}
	}
	if l.XLabel != "" && len(xs) > 0 {
		b.XLabel = l.XLabel + " = " + strings.Join(xs, ", ")
	}
	return b
}

// Save writes the bar chart to base+".png" and base+".svg" and returns
// both paths.
func (b Bars) Save(base string) ([]string, error) {
	if len(b.Values) == 0 || len(b.Labels) != len(b.Values) {
		return nil, fmt.Errorf("plots: bar chart has %d values and %d labels", len(b.Values), len(b.Labels))
	}
	if (b.Lo != nil && len(b.Lo) != len(b.Values)) || (b.Hi != nil && len(b.Hi) != len(b.Values)) {
		return nil, errors.New("plots: bar chart interval length does not match its values")
	}
	p := plot.New()
	p.Title.Text = b.Title
	p.X.Label.Text = b.XLabel
	p.Y.Label.Text = b.YLabel
	vals := make(plotter.Values, len(b.Values))
	lo, hi := 0.0, 0.0
	for i, v := range b.Values {
		if finite(v) {
			vals[i] = v
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if b.Lo != nil && b.Hi != nil && finite(b.Lo[i]) && finite(b.Hi[i]) {
			lo, hi = math.Min(lo, b.Lo[i]), math.Max(hi, b.Hi[i])
		}
	}
	bc, err := plotter.NewBarChart(vals, vg.Points(40))
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	bc.Color = lineColors[0]
	bc.LineStyle.Width = 0
	p.Add(plotter.NewGrid(), bc)
	if b.Lo != nil && b.Hi != nil {
		yb := &plotter.YErrorBars{}
		for i := range b.Values {
			if finite(b.Lo[i]) && finite(b.Hi[i]) && finite(b.Values[i]) {
				yb.XYs = append(yb.XYs, plotter.XY{X: float64(i), Y: b.Values[i]})
				yb.YErrors = append(yb.YErrors, struct{ Low, High float64 }{b.Values[i] - b.Lo[i], b.Hi[i] - b.Values[i]})
			}
		}
		if len(yb.XYs) > 0 {
			yb.LineStyle.Width = vg.Points(1)
			yb.CapWidth = vg.Points(6)
			p.Add(yb)
		}
	}
	dec := decimals(math.Max(math.Abs(lo), math.Abs(hi)))
	var lbl plotter.XYLabels
	for i, v := range b.Values {
		y := v
		if b.Hi != nil && finite(b.Hi[i]) && v >= 0 {
			y = b.Hi[i]
		}
		if !finite(y) {
			y = 0
		}
		lbl.XYs = append(lbl.XYs, plotter.XY{X: float64(i), Y: y})
		lbl.Labels = append(lbl.Labels, formatValue(v, dec, false))
	}
	labels, err := plotter.NewLabels(lbl)
	if err != nil {
		return nil, err
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].XAlign = draw.XCenter
		labels.TextStyle[i].YAlign = draw.YBottom
		if b.Values[i] < 0 {
			labels.TextStyle[i].YAlign = draw.YTop
		}
	}
	labels.Offset.Y = vg.Points(3)
	p.Add(labels)
	p.NominalX(abbreviate(b.Labels, 16)...)
	if len(b.Labels) > 4 {
		rotateX(p)
	}
	// room above (and below) the bars for the value labels
	span := hi - lo
	if span == 0 {
		span = 1
	}
	p.X.Min, p.X.Max = -0.7, float64(len(b.Values))-0.3
	p.Y.Max = hi + 0.12*span
	if lo < 0 {
		p.Y.Min = lo - 0.12*span
	} else {
		p.Y.Min = 0
	}
	w := vg.Length(math.Max(3.5, 0.8*float64(len(b.Values))+1.5)) * vg.Inch
	return render(base, w, 4*vg.Inch, p.Draw)
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
	diverging := h.Diverging || (lo < 0 && hi > 0)
	pal := heatRamp(lo, hi, diverging)
	dec := decimals(math.Max(math.Abs(lo), math.Abs(hi)))
	p := plot.New()
	p.Title.Text = h.Title
	p.X.Label.Text = h.XLabel
	p.Y.Label.Text = h.YLabel
	var lbl plotter.XYLabels
	var textColors []color.Color
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			v := h.Values[i][j]
			col := color.Color(color.Gray{200})
			if finite(v) {
				col = pal.color(v)
			}
			y := float64(r - 1 - i)
			poly, err := plotter.NewPolygon(plotter.XYs{{X: float64(j) - 0.5, Y: y - 0.5}, {X: float64(j) + 0.5, Y: y - 0.5}, {X: float64(j) + 0.5, Y: y + 0.5}, {X: float64(j) - 0.5, Y: y + 0.5}})
			if err != nil {
				return nil, err
			}
			poly.Color = col
			poly.LineStyle.Width = vg.Points(1)
			poly.LineStyle.Color = color.White
			p.Add(poly)
			lbl.XYs = append(lbl.XYs, plotter.XY{X: float64(j), Y: y})
			lbl.Labels = append(lbl.Labels, formatValue(v, dec, diverging))
			textColors = append(textColors, textOn(col))
		}
	}
	labels, err := plotter.NewLabels(lbl)
	if err != nil {
		return nil, err
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].XAlign = draw.XCenter
		labels.TextStyle[i].YAlign = draw.YCenter
		labels.TextStyle[i].Font.Size = vg.Points(10)
		labels.TextStyle[i].Color = textColors[i]
	}
	p.Add(labels)
	cols, rows := abbreviate(h.ColLabels, 14), abbreviate(h.RowLabels, 18)
	xt := make([]plot.Tick, c)
	for j := range xt {
		xt[j] = plot.Tick{Value: float64(j), Label: cols[j]}
	}
	yt := make([]plot.Tick, r)
	for i := range yt {
		yt[i] = plot.Tick{Value: float64(r - 1 - i), Label: rows[i]}
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Min, p.X.Max = -0.5, float64(c)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(r)-0.5
	// a cell fits its number; rotate the column labels when they are wider
	cellW := math.Max(0.75, float64(p.X.Tick.Label.Font.Size)/72*0.62*float64(len(formatValue(-hi, dec, diverging))+1))
	maxCol := vg.Length(0)
	for _, s := range cols {
		maxCol = max(maxCol, p.X.Tick.Label.Width(s))
	}
	if float64(maxCol/vg.Inch) > 0.9*cellW {
		rotateX(p)
	}
	// the colour bar, in its own plot to the right
	cb := plot.New()
	cb.HideX()
	cb.Y.Label.Text = h.ValueLabel
	cb.Add(&plotter.ColorBar{ColorMap: pal, Vertical: true, Colors: 64})
	cb.Y.Min, cb.Y.Max = pal.Min(), pal.Max()
	cbW := vg.Inch * 1.1
	if h.ValueLabel != "" {
		cbW += vg.Points(14)
	}
	w := vg.Length(cellW*float64(c)+2.2)*vg.Inch + cbW
	ht := vg.Length(0.42*float64(r)+1.8) * vg.Inch
	cb.Y.Padding, cb.X.Padding = 0, 0
	return render(base, w, ht, func(dc draw.Canvas) {
		main := draw.Crop(dc, 0, -cbW, 0, 0)
		p.Draw(main)
		// the bar spans exactly the rows of cells
		da := p.DataCanvas(main)
		bottom, top := da.Min.Y-dc.Min.Y, da.Max.Y-dc.Max.Y
		side := draw.Crop(dc, dc.Max.X-dc.Min.X-cbW+vg.Points(10), -vg.Points(6), bottom, top)
		in := cb.DataCanvas(side)
		cb.Draw(draw.Crop(side, 0, 0, side.Min.Y-in.Min.Y, side.Max.Y-in.Max.Y))
	})
}

// heatRamp is the colour map of a heatmap whose finite values span
// [lo, hi]: diverging and symmetric about 0, or sequential over [lo, hi].
func heatRamp(lo, hi float64, diverging bool) *ramp {
	if diverging {
		m := math.Max(math.Abs(lo), math.Abs(hi))
		if m == 0 {
			m = 1
		}
		return newRamp(-m, m, divergingStops)
	}
	if hi == lo {
		lo, hi = lo-0.5, hi+0.5
	}
	return newRamp(lo, hi, sequentialStops)
}

func rotateX(p *plot.Plot) {
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YTop
}

// abbreviate shortens labels longer than n characters to their first
// n-1 characters and an ellipsis, or, where that would make two labels
// equal, to their start and end around the ellipsis.
func abbreviate(labels []string, n int) []string {
	out := make([]string, len(labels))
	short := func(s string, mid bool) string {
		r := []rune(s)
		if len(r) <= n {
			return s
		}
		if mid {
			k := (n - 1) / 2
			return string(r[:k]) + "…" + string(r[len(r)-(n-1-k):])
		}
		return string(r[:n-1]) + "…"
	}
	count := map[string]int{}
	for i, s := range labels {
		out[i] = short(s, false)
		count[out[i]]++
	}
	for i, s := range labels {
		if count[out[i]] > 1 {
			out[i] = short(s, true)
		}
	}
	return out
}

// decimals is the number of decimals that shows the largest magnitude m
// with three significant digits from 1 up (87.3) and two below 1 (0.65,
// 0.030, 0.0027), at most 4.
func decimals(m float64) int {
	if m == 0 || !finite(m) {
		return 2
	}
	sig := 3
	if m < 1 {
		sig = 2
	}
	return min(max(0, sig-1-int(math.Floor(math.Log10(m)))), 4)
}

func formatValue(v float64, dec int, signed bool) string {
	if !finite(v) {
		return "-"
	}
	if v != 0 && math.Abs(v) < math.Pow(10, -float64(dec))/2 {
		return strconv.FormatFloat(v, 'e', 0, 64) // would print as 0
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if signed && v > 0 {
		s = "+" + s
	}
	return s
}

// textOn is black or white, whichever reads better on background c.
func textOn(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	lum := (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 0xffff
	if lum < 0.5 {
		return color.White
	}
	return color.Black
}

func fade(c color.Color, alpha float64) color.Color {
	r, g, b, _ := c.RGBA()
	a := uint8(alpha * 255)
	f := func(v uint32) uint8 { return uint8(float64(v>>8) * alpha) } // premultiplied
	return color.RGBA{f(r), f(g), f(b), a}
}

// smooth is a centred moving average over about a fifteenth of the points
// (in log space for a log axis), cut off at the ends of the series.
func smooth(pts plotter.XYs, logY bool) plotter.XYs {
	n := len(pts)
	half := max(1, n/30)
	ys := make([]float64, n+1) // prefix sums
	for i, p := range pts {
		y := p.Y
		if logY {
			y = math.Log(y)
		}
		ys[i+1] = ys[i] + y
	}
	out := make(plotter.XYs, n)
	for i := range pts {
		lo, hi := max(0, i-half), min(n-1, i+half)
		m := (ys[hi+1] - ys[lo]) / float64(hi-lo+1)
		if logY {
			m = math.Exp(m)
		}
		out[i] = plotter.XY{X: pts[i].X, Y: m}
	}
	return out
}

// logTicks labels a log axis at 1, 2 and 5 times the powers of ten (only
// the powers of ten over more than 2.5 decades; every integer multiple
// when that gives fewer than three labels), with unlabelled minor ticks at
// the other multiples.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo || !finite(lo) || !finite(hi) {
		return nil
	}
	var all []float64
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for m := 1.0; m <= 9; m++ {
			if v := m * math.Pow(10, e); v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
				all = append(all, v)
			}
		}
	}
	wide := math.Log10(hi/lo) > 2.5 // over more decades, label powers of ten only
	major := func(v float64) bool {
		m := v / math.Pow(10, math.Floor(math.Log10(v)+1e-9))
		m = math.Round(m)
		return m == 1 || !wide && (m == 2 || m == 5)
	}
	n := 0
	for _, v := range all {
		if major(v) {
			n++
		}
	}
	if len(all) < 2 {
		return plot.DefaultTicks{}.Ticks(lo, hi) // a narrow range: linear-looking ticks
	}
	var ticks []plot.Tick
	for _, v := range all {
		t := plot.Tick{Value: v}
		if n < 3 || major(v) {
			t.Label = strconv.FormatFloat(v, 'g', 3, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// padSingleX widens a degenerate x range (every point at one x) so the
// axis shows a readable neighbourhood rather than x-1..x+1 of a large x.
func padSingleX(p *plot.Plot) {
	if p.X.Min == p.X.Max {
		d := math.Max(math.Abs(p.X.Min)*0.05, 1)
		p.X.Min, p.X.Max = p.X.Min-d, p.X.Max+d
	}
}

func legendWidth(l plot.Legend, ss []Series) vg.Length {
	w := vg.Length(0)
	for _, s := range ss {
		w = max(w, l.TextStyle.Width(s.Name))
	}
	if w == 0 {
		return 0
	}
	return w + l.ThumbnailWidth + vg.Points(24)
}

func titleHeight(p *plot.Plot) vg.Length {
	if p.Title.Text == "" {
		return 0
	}
	return p.Title.TextStyle.Height(p.Title.Text) + p.Title.Padding
}

// ramp is a colour map that interpolates linearly (in sRGB) between evenly
// spaced stops over [min, max].
type ramp struct {
	min, max, alpha float64
	stops           []color.RGBA
}

var (
	// red (negative) - white (0) - blue (positive), after ColorBrewer's RdBu
	divergingStops = []color.RGBA{{178, 24, 43, 255}, {239, 138, 98, 255}, {253, 219, 199, 255}, {247, 247, 247, 255}, {209, 229, 240, 255}, {103, 169, 207, 255}, {33, 102, 172, 255}}
	// white to dark blue, after ColorBrewer's Blues
	sequentialStops = []color.RGBA{{247, 251, 255, 255}, {198, 219, 239, 255}, {107, 174, 214, 255}, {33, 113, 181, 255}, {8, 48, 107, 255}}
)

func newRamp(lo, hi float64, stops []color.RGBA) *ramp {
	return &ramp{min: lo, max: hi, alpha: 1, stops: stops}
}

func (m *ramp) color(v float64) color.Color {
	t := (v - m.min) / (m.max - m.min)
	t = math.Max(0, math.Min(1, t))
	f := t * float64(len(m.stops)-1)
	i := min(int(f), len(m.stops)-2)
	u := f - float64(i)
	a, b := m.stops[i], m.stops[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-u) + float64(y)*u)) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

func (m *ramp) At(v float64) (color.Color, error) {
	if v < m.min || v > m.max || math.IsNaN(v) {
		return nil, palette.ErrOverflow
	}
	return m.color(v), nil
}
func (m *ramp) Max() float64       { return m.max }
func (m *ramp) SetMax(v float64)   { m.max = v }
func (m *ramp) Min() float64       { return m.min }
func (m *ramp) SetMin(v float64)   { m.min = v }
func (m *ramp) Alpha() float64     { return m.alpha }
func (m *ramp) SetAlpha(a float64) { m.alpha = a }
func (m *ramp) Palette(n int) palette.Palette {
	cs := make([]color.Color, n)
	for i := range cs {
		v := m.min
		if n > 1 {
			v += (m.max - m.min) * float64(i) / float64(n-1)
		}
		cs[i] = m.color(v)
	}
	return colors(cs)
}

type colors []color.Color

func (c colors) Colors() []color.Color { return c }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// save renders one plot at w x h (see render).
func save(p *plot.Plot, base string, w, h vg.Length) ([]string, error) {
	return render(base, w, h, p.Draw)
}

// render draws with draw into a w x h canvas on a white background and
// writes it to base+".png" and base+".svg", returning both paths.
func render(base string, w, h vg.Length, drawFn func(draw.Canvas)) ([]string, error) {
	if dir := filepath.Dir(base); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("plots: %w", err)
		}
	}
	var paths []string
	for _, ext := range []string{"png", "svg"} {
		var cv vg.CanvasWriterTo
		switch ext {
		case "png":
			cv = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseBackgroundColor(color.White))}
		default:
			cv = vgsvg.New(w, h)
		}
		dc := draw.New(cv)
		dc.SetColor(color.White)
		dc.Fill(dc.Rectangle.Path())
		drawFn(dc)
		var buf bytes.Buffer
		if _, err := cv.WriteTo(&buf); err != nil {
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
