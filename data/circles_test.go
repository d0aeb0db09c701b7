package data

import (
	"math/rand/v2"
	"testing"
)

func TestCircleLabelsAndSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := SeedCircle.Sample(rng, 1000)
	ones := 0
	for i := 0; i < 1000; i++ {
		px, py := x.At(i, 0), x.At(i, 1)
		if px < 0 || px >= 1 || py < 0 || py >= 1 {
			t.Fatalf("point %d (%v, %v) outside the unit square", i, px, py)
		}
		out := (px-0.5)*(px-0.5)+(py-0.5)*(py-0.5) > 0.25
		if (y.At(i, 0) == 1) != out {
			t.Fatalf("point %d (%v, %v) labelled %v", i, px, py, y.At(i, 0))
		}
		if out {
			ones++
		}
	}
	// P(outside) = 1 - pi/4 ~ 0.215
	if ones < 170 || ones > 260 {
		t.Fatalf("%d of 1000 points outside the circle, want ~215", ones)
	}
	a, b, c, d := Split(x, y, 0.8)
	if a.Dim(0) != 800 || b.Dim(0) != 800 || c.Dim(0) != 200 || d.Dim(0) != 200 {
		t.Fatalf("split sizes %v %v %v %v", a.Shape(), b.Shape(), c.Shape(), d.Shape())
	}
	if c.At(0, 0) != x.At(800, 0) {
		t.Fatal("test part does not start at row 800")
	}
}
