package mtl

import (
	"math/rand/v2"
	"testing"
)

// pinProblems are fixed multi-task problems: losses and gradients for a
// few steps (random, and rank-deficient: task 2's gradient a multiple of
// task 0's).
func pinProblems() map[string][][2][][]float64 {
	out := map[string][][2][][]float64{}
	for _, name := range []string{"random", "rankdef"} {
		r := rand.New(rand.NewPCG(42, 7))
		var steps [][2][][]float64
		for s := 0; s < 6; s++ {
			losses := []float64{1 + r.Float64(), 0.5 + r.Float64(), 2 + r.Float64()}
			grads := make([][]float64, 3)
			for i := range grads {
				grads[i] = make([]float64, 5)
				for k := range grads[i] {
					grads[i][k] = r.NormFloat64()
				}
			}
			if name == "rankdef" {
				for k := range grads[2] {
					grads[2][k] = 2 * grads[0][k]
				}
			}
			steps = append(steps, [2][][]float64{{losses}, grads})
		}
		out[name] = steps
	}
	return out
}

func pinRun(t *testing.T, method, problem string) [][]float64 {
	w, err := ByName(method, 3)
	if err != nil {
		t.Fatal(err)
	}
	var cs [][]float64
	for s, st := range pinProblems()[problem] {
		losses := append([]float64(nil), st[0][0]...)
		grads := make([][]float64, len(st[1]))
		for i, g := range st[1] {
			grads[i] = append([]float64(nil), g...)
		}
		if !w.NeedsGrads() {
			grads = nil
		}
		cs = append(cs, w.Weights(s, losses, grads))
	}
	return cs
}
