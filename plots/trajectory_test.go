package plots

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTrajectoriesSave(t *testing.T) {
	g := Grid{X: []float64{-1, 0, 1}, Y: []float64{-1, 0, 1}}
	for _, y := range g.Y {
		var row []float64
		for _, x := range g.X {
			row = append(row, x*x+y*y)
		}
		g.Z = append(g.Z, row)
	}
	tr := Trajectories{
		Title: "paths", XLabel: "x", YLabel: "y", Contour: &g,
		Curves: []Series{{Name: "front", X: []float64{-1, 1}, Y: []float64{0, 0}}},
		Paths:  []Series{{Name: "a", X: []float64{1, 0.5, 0}, Y: []float64{1, 0.2, 0}}, {Name: "b", X: []float64{-1, 0}, Y: []float64{1, 0}}},
	}
	base := filepath.Join(t.TempDir(), "traj")
	paths, err := tr.Save(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := (Trajectories{}).Save(base); err == nil {
		t.Error("empty chart: no error")
	}
	bad := Grid{X: []float64{0, 1}, Y: []float64{0, 1}, Z: [][]float64{{1, 2}}}
	if _, err := (Trajectories{Contour: &bad}).Save(base); err == nil {
		t.Error("ragged grid: no error")
	}
	if _, err := (Trajectories{Paths: []Series{{X: []float64{1}, Y: nil}}}).Save(base); err == nil {
		t.Error("mismatched path: no error")
	}
}
