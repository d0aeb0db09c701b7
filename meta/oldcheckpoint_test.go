package meta

import (
	"testing"

	"github.com/metalearn/metalearn/data"
)

// testdata/v0-maml-sinusoid-it10.train.safetensors was written by the
// metalearn binary before the run driver (commit 745467b):
//
//	metalearn meta train --algo maml --hidden 8 --iterations 10 --val-every 5 \
//	    --val-tasks 5 --checkpoint-every 5 --out old.safetensors
//
// It must still load, with its 0-based iterations read as the library's
// 1-based ones, and resuming it must give the weights of an uninterrupted
// 20-iteration run.
func TestOldTrainingCheckpointResumes(t *testing.T) {
	const path = "testdata/v0-maml-sinusoid-it10.train.safetensors"
	old, st, md, err := LoadTraining(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Iteration != 10 || st.BestIteration != 10 || st.BestVal == nil || md["iterations"] != "10" {
		t.Fatalf("state: iteration %d, best %d (%v), metadata %v; want 10, 10, validated", st.Iteration, st.BestIteration, st.BestVal, md)
	}
	if len(st.Curve) != 2 || st.Curve[0].Iteration != 5 || st.Curve[1].Iteration != 10 {
		t.Fatalf("curve iterations %+v, want 5 and 10", st.Curve)
	}
	s := old.Spec
	cfg := func() TrainConfig {
		val, err := s.Tasks("val")
		if err != nil {
			t.Fatal(err)
		}
		return TrainConfig{Iterations: 20, MetaBatch: 25, OuterLR: 1e-3, Seed: s.Seed, ValEvery: 5, Val: data.EvalSet(val, 5, s.Seed+1000)}
	}
	train, _ := s.Tasks("train")
	c := cfg()
	c.Resume = st
	resumed, err := Train(old.Algorithm, train, c)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Train(fresh.Algorithm, train, cfg())
	if err != nil {
		t.Fatal(err)
	}
	if resumed.BestIteration != ref.BestIteration || *resumed.BestVal != *ref.BestVal {
		t.Fatalf("resumed: best %d %v; uninterrupted: best %d %v", resumed.BestIteration, resumed.BestVal, ref.BestIteration, ref.BestVal)
	}
	a, b := old.Tensors(), fresh.Tensors()
	for i := range a {
		x, y := a[i].Tensor.Values(), b[i].Tensor.Values()
		for j := range x {
			if x[j] != y[j] {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", a[i].Name, j, x[j], y[j])
			}
		}
	}
	// and it round-trips: saved again, the file keeps the 0-based layout
	p := t.TempDir() + "/again.safetensors"
	if err := old.SaveTraining(p, st, nil); err != nil {
		t.Fatal(err)
	}
	_, st2, _, err := LoadTraining(p)
	if err != nil || st2.BestIteration != st.BestIteration || st2.Curve[1].Iteration != 10 {
		t.Fatalf("round trip: %v, best %d, curve %+v", err, st2.BestIteration, st2.Curve)
	}
}
