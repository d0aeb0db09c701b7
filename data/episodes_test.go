package data

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

func TestNewEpisodicErrors(t *testing.T) {
	ds := toyDataset(2, 2, 5, 3, 6) // class 1 is the smallest, 3 examples
	tests := []struct {
		name                 string
		ds                   *ClassDataset
		ways, shots, queries int
		want                 string
	}{
		{"ok", ds, 3, 1, 2, ""},
		{"ok no queries", ds, 2, 3, 0, ""},
		{"zero ways", ds, 0, 1, 1, "ways = 0"},
		{"too many ways", ds, 4, 1, 1, "only 3 classes"},
		{"zero shots", ds, 2, 0, 1, "shots = 0"},
		{"negative queries", ds, 2, 1, -1, "queries = -1"},
		{"class too small", ds, 2, 2, 2, `class 1 ("A/characterb") has only 3 examples`},
		{"invalid dataset", &ClassDataset{}, 1, 1, 1, "no Images"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEpisodic(tc.ds, tc.ways, tc.shots, tc.queries)
			if tc.want == "" {
				if err != nil || e.Ways() != tc.ways || e.Shots() != tc.shots || e.Queries() != tc.queries || e.Dataset() != tc.ds {
					t.Fatalf("NewEpisodic: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestEpisodicSample(t *testing.T) {
	ds := toyDataset(2, 2, 5, 4, 6, 5, 7)
	tests := []struct{ ways, shots, queries int }{
		{5, 1, 3}, {3, 2, 2}, {1, 4, 0}, {5, 2, 2}, {2, 1, 1},
	}
	for _, tc := range tests {
		e, err := NewEpisodic(ds, tc.ways, tc.shots, tc.queries)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, uint64(tc.ways)))
		for rep := 0; rep < 50; rep++ {
			task, classes := e.SampleClasses(rng)
			n, k, q := tc.ways, tc.shots, tc.queries
			if task.Ways != n || !reflect.DeepEqual(task.SupportX.Shape(), []int{n * k, 1, 2, 2}) || !reflect.DeepEqual(task.QueryX.Shape(), []int{n * q, 1, 2, 2}) {
				t.Fatalf("%+v: ways %d, shapes %v %v", tc, task.Ways, task.SupportX.Shape(), task.QueryX.Shape())
			}
			if task.SupportY != nil || task.QueryY != nil {
				t.Fatal("classification task with Y tensors")
			}
			if len(classes) != n {
				t.Fatalf("%d classes", len(classes))
			}
			seenClass := map[int]bool{}
			for _, c := range classes {
				if seenClass[c] {
					t.Fatalf("class %d drawn twice", c)
				}
				seenClass[c] = true
			}
			used := map[int]bool{}
			check := func(x *tensor.Tensor, labels []int, per int) {
				for r := 0; r < x.Dim(0); r++ {
					if labels[r] != r/per {
						t.Fatalf("%+v: row %d label %d, want %d (class-major)", tc, r, labels[r], r/per)
					}
					img := int(x.At(r, 0, 0, 0)) / 1000 // toy pixel encodes the image index
					if used[img] {
						t.Fatalf("%+v: image %d used twice", tc, img)
					}
					used[img] = true
					c := classes[labels[r]]
					found := false
					for _, i := range ds.ByClass[c] {
						found = found || i == img
					}
					if !found {
						t.Fatalf("%+v: row %d label %d is image %d, not of class %d", tc, r, labels[r], img, c)
					}
				}
			}
			check(task.SupportX, task.SupportLabels, k)
			check(task.QueryX, task.QueryLabels, max(q, 1))
			if len(task.QueryLabels) != n*q || len(task.SupportLabels) != n*k {
				t.Fatal("label counts")
			}
		}
	}

	// Every class and every label position gets used.
	e, _ := NewEpisodic(ds, 2, 1, 1)
	rng := rand.New(rand.NewPCG(9, 9))
	first := map[int]int{}
	for i := 0; i < 500; i++ {
		_, cl := e.SampleClasses(rng)
		first[cl[0]]++
	}
	if len(first) != 5 {
		t.Fatalf("label 0 went to classes %v, want all 5", first)
	}
}

func TestEvalSetDeterministic(t *testing.T) {
	ds := toyDataset(2, 2, 5, 4, 6, 5, 7)
	e, _ := NewEpisodic(ds, 3, 1, 2)
	dists := []struct {
		name string
		d    TaskDistribution
	}{
		{"episodic", e},
		{"sinusoid", Sinusoid{Support: 5, Query: 10}},
		{"circles", CircleFamily{Support: 8, Query: 8}},
	}
	for _, tc := range dists {
		t.Run(tc.name, func(t *testing.T) {
			a, b, c := EvalSet(tc.d, 4, 7), EvalSet(tc.d, 4, 7), EvalSet(tc.d, 4, 8)
			if len(a) != 4 {
				t.Fatalf("%d tasks", len(a))
			}
			if !tasksEqual(a, b) {
				t.Fatal("same seed gave different tasks")
			}
			if tasksEqual(a, c) {
				t.Fatal("different seeds gave the same tasks")
			}
			if tasksEqual(a[:1], a[1:2]) {
				t.Fatal("consecutive tasks identical")
			}
		})
	}
	if EvalSet(e, 0, 1) != nil || EvalSet(nil, 3, 1) != nil {
		t.Fatal("EvalSet of nothing")
	}
}

func tasksEqual(a, b []Task) bool {
	if len(a) != len(b) {
		return false
	}
	eq := func(x, y *tensor.Tensor) bool {
		if x == nil || y == nil {
			return x == y
		}
		return reflect.DeepEqual(x.Shape(), y.Shape()) && reflect.DeepEqual(x.Values(), y.Values())
	}
	for i := range a {
		if !eq(a[i].SupportX, b[i].SupportX) || !eq(a[i].SupportY, b[i].SupportY) || !eq(a[i].QueryX, b[i].QueryX) || !eq(a[i].QueryY, b[i].QueryY) ||
			!reflect.DeepEqual(a[i].SupportLabels, b[i].SupportLabels) || !reflect.DeepEqual(a[i].QueryLabels, b[i].QueryLabels) || a[i].Ways != b[i].Ways {
			return false
		}
	}
	return true
}
