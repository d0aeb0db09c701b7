package data

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestSinusoid(t *testing.T) {
	tests := []struct{ support, query int }{{5, 10}, {10, 0}, {0, 3}, {1, 1}}
	for _, tc := range tests {
		s := Sinusoid{Support: tc.support, Query: tc.query}
		rng := rand.New(rand.NewPCG(1, 2))
		for rep := 0; rep < 200; rep++ {
			task, amp, phase := s.SampleWithParams(rng)
			if amp < SinusoidAmpMin || amp > SinusoidAmpMax || phase < 0 || phase > math.Pi {
				t.Fatalf("amp %v phase %v out of range", amp, phase)
			}
			if task.Ways != 0 || task.SupportLabels != nil || task.QueryLabels != nil {
				t.Fatal("regression task with labels")
			}
			for _, p := range []struct {
				name string
				n    int
				x, y []float32
				xs   []int
			}{{"support", tc.support, task.SupportX.F32(), task.SupportY.F32(), task.SupportX.Shape()},
				{"query", tc.query, task.QueryX.F32(), task.QueryY.F32(), task.QueryX.Shape()}} {
				if !reflect.DeepEqual(p.xs, []int{p.n, 1}) || len(p.y) != p.n {
					t.Fatalf("%s shape %v", p.name, p.xs)
				}
				for i := range p.x {
					x := float64(p.x[i])
					if x < -5 || x > 5 {
						t.Fatalf("x = %v outside [-5, 5]", x)
					}
					if want := amp * math.Sin(x-phase); math.Abs(float64(p.y[i])-want) > 1e-5 {
						t.Fatalf("y(%v) = %v, want A sin(x - phase) = %v", x, p.y[i], want)
					}
				}
			}
		}
	}
	// Same rng state, same task; Sample matches SampleWithParams.
	s := Sinusoid{Support: 3, Query: 3}
	a := s.Sample(rand.New(rand.NewPCG(5, 5)))
	b, _, _ := s.SampleWithParams(rand.New(rand.NewPCG(5, 5)))
	if !tasksEqual([]Task{a}, []Task{b}) {
		t.Fatal("Sample and SampleWithParams differ for the same rng state")
	}
	if err := (Sinusoid{Support: -1}).Validate(); err == nil || !strings.Contains(err.Error(), "Support -1") {
		t.Fatalf("Validate: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("negative count did not panic")
			}
		}()
		Sinusoid{Query: -2}.Sample(rand.New(rand.NewPCG(1, 1)))
	}()
}

func TestSinusoidPointsAndLinspace(t *testing.T) {
	grid := Linspace(-5, 5, 11)
	if len(grid) != 11 || grid[0] != -5 || grid[10] != 5 || grid[5] != 0 {
		t.Fatalf("Linspace %v", grid)
	}
	tests := []struct {
		lo, hi float64
		n      int
		want   []float64
	}{{0, 1, 3, []float64{0, 0.5, 1}}, {2, 9, 1, []float64{2}}, {0, 1, 0, nil}, {0, 1, -1, nil}}
	for _, tc := range tests {
		if got := Linspace(tc.lo, tc.hi, tc.n); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Linspace(%v, %v, %d) = %v, want %v", tc.lo, tc.hi, tc.n, got, tc.want)
		}
	}
	x, y := Sinusoid{}.Points(2, math.Pi/2, []float64{0, math.Pi / 2, math.Pi})
	want := []float32{-2, 0, 2}
	for i := range want {
		if math.Abs(float64(y.F32()[i]-want[i])) > 1e-6 || x.Dim(1) != 1 || y.Dim(1) != 1 {
			t.Fatalf("Points: y %v, want %v", y.F32(), want)
		}
	}
}

func TestCircleFamily(t *testing.T) {
	tests := []struct{ support, query int }{{10, 20}, {1, 0}, {0, 5}}
	for _, tc := range tests {
		f := CircleFamily{Support: tc.support, Query: tc.query}
		rng := rand.New(rand.NewPCG(4, 2))
		for rep := 0; rep < 100; rep++ {
			task, c := f.SampleWithCircle(rng)
			if c.CX < 0.25 || c.CX > 0.75 || c.CY < 0.25 || c.CY > 0.75 || c.R < 0.15 || c.R > 0.45 {
				t.Fatalf("circle %+v out of range", c)
			}
			if task.Ways != 0 || task.SupportLabels != nil || task.QueryLabels != nil {
				t.Fatal("labels set")
			}
			if !reflect.DeepEqual(task.SupportX.Shape(), []int{tc.support, 2}) || !reflect.DeepEqual(task.SupportY.Shape(), []int{tc.support, 1}) ||
				!reflect.DeepEqual(task.QueryX.Shape(), []int{tc.query, 2}) || !reflect.DeepEqual(task.QueryY.Shape(), []int{tc.query, 1}) {
				t.Fatalf("shapes %v %v %v %v", task.SupportX.Shape(), task.SupportY.Shape(), task.QueryX.Shape(), task.QueryY.Shape())
			}
			for _, xy := range [][2][]float32{{task.SupportX.F32(), task.SupportY.F32()}, {task.QueryX.F32(), task.QueryY.F32()}} {
				for i, lab := range xy[1] {
					px, py := float64(xy[0][2*i]), float64(xy[0][2*i+1])
					out := (px-c.CX)*(px-c.CX)+(py-c.CY)*(py-c.CY) > c.R*c.R
					// float32 rounding of the point can flip points on the circle.
					if lab != 0 && lab != 1 || (lab == 1) != out && math.Abs(math.Hypot(px-c.CX, py-c.CY)-c.R) > 1e-6 {
						t.Fatalf("point (%v, %v) labelled %v for circle %+v", px, py, lab, c)
					}
				}
			}
		}
	}
	if err := (CircleFamily{Query: -1}).Validate(); err == nil {
		t.Fatal("negative query count accepted")
	}
	a := CircleFamily{Support: 4, Query: 4}.Sample(rand.New(rand.NewPCG(1, 1)))
	b := CircleFamily{Support: 4, Query: 4}.Sample(rand.New(rand.NewPCG(1, 1)))
	if !tasksEqual([]Task{a}, []Task{b}) {
		t.Fatal("same rng state, different tasks")
	}
}
