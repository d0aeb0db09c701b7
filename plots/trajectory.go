package plots

import (
	"errors"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Grid is a function sampled on a rectangular grid: Z[i][j] is the value
// at (X[j], Y[i]).
type Grid struct {
	X, Y []float64
	Z    [][]float64
}

func (g Grid) valid() bool {
	if len(g.X) < 2 || len(g.Y) < 2 || len(g.Z) != len(g.Y) {
		return false
	}
	for _, r := range g.Z {
		if len(r) != len(g.X) {
			return false
		}
	}
	return true
}

// gridXYZ adapts Grid to plotter.GridXYZ.
type gridXYZ struct{ g Grid }

func (a gridXYZ) Dims() (c, r int)   { return len(a.g.X), len(a.g.Y) }
func (a gridXYZ) Z(c, r int) float64 { return a.g.Z[r][c] }
func (a gridXYZ) X(c int) float64    { return a.g.X[c] }
func (a gridXYZ) Y(r int) float64    { return a.g.Y[r] }

// Trajectories describes optimisation paths in a plane: optional contour
// lines of a function (Contour, Levels), reference curves drawn thick and
// grey (e.g. a Pareto front), and paths drawn as coloured lines with a
// filled circle at the start and a cross at the end.
type Trajectories struct {
	Title, XLabel, YLabel string
	Contour               *Grid
	Levels                []float64 // contour levels (nil: 12 evenly spaced)
	Curves                []Series  // reference curves
	Paths                 []Series
}

// Save writes the chart to base+".png" and base+".svg" and returns both paths.
func (t Trajectories) Save(base string) ([]string, error) {
	if len(t.Paths) == 0 && len(t.Curves) == 0 && t.Contour == nil {
		return nil, errors.New("plots: trajectory chart has nothing to draw")
	}
	p := plot.New()
	p.Title.Text = t.Title
	p.X.Label.Text = t.XLabel
	p.Y.Label.Text = t.YLabel
	if t.Contour != nil {
		if !t.Contour.valid() {
			return nil, errors.New("plots: contour grid needs at least 2x2 points and Z rows matching X and Y")
		}
		levels := t.Levels
		if levels == nil {
			lo, hi := gridRange(*t.Contour)
			for k := 1; k <= 12; k++ {
				levels = append(levels, lo+(hi-lo)*float64(k)/13)
			}
		}
		pal := moreland.SmoothBlueRed().Palette(len(levels))
		c := plotter.NewContour(gridXYZ{*t.Contour}, levels, fadedPalette{pal})
		p.Add(c)
	}
	for _, s := range t.Curves {
		pts, err := xys(s)
		if err != nil {
			return nil, err
		}
		ln, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("plots: curve %q: %w", s.Name, err)
		}
		ln.Color = color.RGBA{114, 114, 122, 255}
		ln.Width = vg.Points(5)
		p.Add(ln)
		if s.Name != "" {
			p.Legend.Add(s.Name, ln)
		}
	}
	for i, s := range t.Paths {
		pts, err := xys(s)
		if err != nil {
			return nil, err
		}
		if len(pts) == 0 {
			continue
		}
		c := lineColors[i%len(lineColors)]
		ln, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("plots: path %q: %w", s.Name, err)
		}
		ln.Color = c
		ln.Width = vg.Points(1.5)
		start, _ := plotter.NewScatter(pts[:1])
		start.Shape = draw.CircleGlyph{}
		start.Radius = vg.Points(3.5)
		start.Color = color.Black
		end, _ := plotter.NewScatter(pts[len(pts)-1:])
		end.Shape = draw.CrossGlyph{}
		end.Radius = vg.Points(4)
		end.Color = c
		p.Add(ln, start, end)
		if s.Name != "" {
			p.Legend.Add(s.Name, ln)
		}
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return save(p, base, 6*vg.Inch, 5*vg.Inch)
}

func xys(s Series) (plotter.XYs, error) {
	if len(s.X) != len(s.Y) {
		return nil, fmt.Errorf("plots: series %q has %d x values and %d y values", s.Name, len(s.X), len(s.Y))
	}
	var pts plotter.XYs
	for j := range s.X {
		if finite(s.X[j]) && finite(s.Y[j]) {
			pts = append(pts, plotter.XY{X: s.X[j], Y: s.Y[j]})
		}
	}
	return pts, nil
}

func gridRange(g Grid) (lo, hi float64) {
	first := true
	for _, r := range g.Z {
		for _, v := range r {
			if !finite(v) {
				continue
			}
			if first || v < lo {
				lo = v
			}
			if first || v > hi {
				hi = v
			}
			first = false
		}
	}
	return lo, hi
}

// fadedPalette lightens a palette so contour lines stay behind the paths.
type fadedPalette struct{ p palette.Palette }

func (f fadedPalette) Colors() []color.Color {
	cs := f.p.Colors()
	out := make([]color.Color, len(cs))
	for i, c := range cs {
		r, g, b, _ := c.RGBA()
		mix := func(v uint32) uint8 { return uint8((v>>8)/2 + 127) }
		out[i] = color.RGBA{mix(r), mix(g), mix(b), 255}
	}
	return out
}
