package mtl

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/minnorm"
)

func TestWeightByName(t *testing.T) {
	if len(WeightingNames) < 15 {
		t.Fatalf("only %d strategies", len(WeightingNames))
	}
	seen := map[string]bool{}
	for _, name := range WeightingNames {
		w, err := ByName(name, 1)
		if err != nil {
			t.Fatalf("ByName(%q): %v", name, err)
		}
		if w.Name() != name {
			t.Fatalf("ByName(%q).Name() = %q", name, w.Name())
		}
		if seen[name] {
			t.Fatalf("duplicate name %q", name)
		}
		seen[name] = true
	}
	for _, name := range []string{"ew", "uw", "gradnorm", "dwa", "rlw", "pcgrad", "gradvac", "mgda",
		"cagrad", "imtl", "nashmtl", "alignedmtl", "famo", "dbmtl", "upgrad"} {
		if !seen[name] {
			t.Fatalf("required name %q missing", name)
		}
	}
	if w, err := ByName(" PCGrad ", 1); err != nil || w.Name() != "pcgrad" {
		t.Fatalf("case-insensitive lookup failed: %v", err)
	}
	_, err := ByName("nope", 1)
	if err == nil || !strings.Contains(err.Error(), "nope") || !strings.Contains(err.Error(), "upgrad") {
		t.Fatalf("unknown name error = %v", err)
	}
}

func TestWeightEW(t *testing.T) {
	w := NewEW()
	got := w.Weights(0, []float64{3, 1, 2}, nil)
	for _, v := range got {
		if v != 1 {
			t.Fatalf("EW = %v", got)
		}
	}
	if w.NeedsGrads() {
		t.Fatal("EW needs no gradients")
	}
}

func wtCheckFinite(t *testing.T, name string, c []float64, n int) {
	t.Helper()
	if len(c) != n {
		t.Fatalf("%s: %d coefficients for %d tasks", name, len(c), n)
	}
	for _, v := range c {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%s: non-finite coefficients %v", name, c)
		}
	}
}

// TestWeightAllFinite runs every strategy for several calls on random
// inputs (T = 1..5) and on degenerate gradients.
func TestWeightAllFinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	type gen func(tasks int) [][]float64
	const p = 6
	gens := map[string]gen{
		"random": func(tasks int) [][]float64 { return wtRandGrads(rng, tasks, p) },
		"zero":   func(tasks int) [][]float64 { return minnorm.Zeros(tasks, p) },
		"onezero": func(tasks int) [][]float64 {
			g := wtRandGrads(rng, tasks, p)
			g[0] = make([]float64, p)
			return g
		},
		"identical": func(tasks int) [][]float64 {
			v := wtRandGrads(rng, 1, p)[0]
			g := make([][]float64, tasks)
			for i := range g {
				g[i] = append([]float64(nil), v...)
			}
			return g
		},
		"opposite": func(tasks int) [][]float64 {
			g := wtRandGrads(rng, tasks, p)
			if tasks > 1 {
				for k := range g[1] {
					g[1][k] = -g[0][k]
				}
			}
			return g
		},
		"tiny": func(tasks int) [][]float64 {
			g := wtRandGrads(rng, tasks, p)
			for i := range g {
				for k := range g[i] {
					g[i][k] *= 1e-9
				}
			}
			return g
		},
	}
	for _, name := range WeightingNames {
		for gname, gf := range gens {
			for tasks := 1; tasks <= 5; tasks++ {
				w, _ := ByName(name, uint64(tasks))
				for call := 0; call < 4; call++ {
					losses := make([]float64, tasks)
					for i := range losses {
						losses[i] = 0.1 + rng.Float64()*2
						if gname == "zero" && call == 1 {
							losses[i] = 0
						}
					}
					var grads [][]float64
					if w.NeedsGrads() {
						grads = gf(tasks)
					}
					c := w.Weights(call, losses, grads)
					wtCheckFinite(t, name+"/"+gname, c, tasks)
				}
			}
		}
	}
}

// TestWeightDoesNotModifyGrads checks that no strategy writes to grads.
func TestWeightDoesNotModifyGrads(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, name := range WeightingNames {
		w, _ := ByName(name, 1)
		g := wtRandGrads(rng, 3, 5)
		cp := minnorm.Zeros(3, 5)
		for i := range g {
			copy(cp[i], g[i])
		}
		for call := 0; call < 3; call++ {
			w.Weights(call, []float64{1, 2, 3}, g)
		}
		for i := range g {
			for k := range g[i] {
				if g[i][k] != cp[i][k] {
					t.Fatalf("%s modified grads", name)
				}
			}
		}
	}
}

func TestWeightSeedReproducible(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var inputs [][][]float64
	for call := 0; call < 5; call++ {
		inputs = append(inputs, wtRandGrads(rng, 4, 5))
	}
	losses := []float64{1, 2, 3, 4}
	for _, name := range []string{"rlw", "pcgrad", "gradvac"} {
		run := func(seed uint64) [][]float64 {
			w, _ := ByName(name, seed)
			var out [][]float64
			for call, g := range inputs {
				out = append(out, w.Weights(call, losses, g))
			}
			return out
		}
		a, b, c := run(42), run(42), run(43)
		differs := false
		for call := range a {
			for i := range a[call] {
				if a[call][i] != b[call][i] {
					t.Fatalf("%s: same seed gave different weights", name)
				}
				if a[call][i] != c[call][i] {
					differs = true
				}
			}
		}
		if !differs && name == "rlw" {
			t.Fatalf("%s: different seeds gave identical weights", name)
		}
	}
}

func TestWeightArgsPanic(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("mismatched gradient count did not panic")
		}
	}()
	NewPCGrad(1).Weights(0, []float64{1, 2}, [][]float64{{1}})
}

// TestWeightTaskCountChange checks empty inputs and that stateful
// strategies reset when the number of tasks changes.
func TestWeightTaskCountChange(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, name := range WeightingNames {
		w, _ := ByName(name, 1)
		if c := w.Weights(0, nil, nil); len(c) != 0 {
			t.Fatalf("%s: %d coefficients for 0 tasks", name, len(c))
		}
		for call, tasks := range []int{2, 2, 3, 3, 2, 4} {
			losses := make([]float64, tasks)
			for i := range losses {
				losses[i] = 1 + float64(i)
			}
			var g [][]float64
			if w.NeedsGrads() {
				g = wtRandGrads(rng, tasks, 4)
			}
			wtCheckFinite(t, name, w.Weights(call, losses, g), tasks)
		}
	}
}

func TestWeightUPGradPreference(t *testing.T) {
	up := NewUPGrad()
	up.Pref = []float64{1, 0} // d = pi(g1) = g1 + g2/2
	wtVecClose(t, "UPGrad pref", up.Weights(0, []float64{1, 1}, [][]float64{{1, 0}, {-1, 1}}), []float64{1, 0.5}, 1e-12)
}

// TestWeightNilGrads: a model without shared parameters gets nil grads even
// for gradient-based strategies; they must still return T finite weights.
func TestWeightNilGrads(t *testing.T) {
	for _, name := range WeightingNames {
		w, _ := ByName(name, 1)
		for call := 0; call < 3; call++ {
			wtCheckFinite(t, name, w.Weights(call, []float64{1, 2, 3}, nil), 3)
		}
	}
}
