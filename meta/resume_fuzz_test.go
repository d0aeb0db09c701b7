package meta

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/data"
)

// FuzzLoadTraining feeds arbitrary resume state (the "train_state"
// metadata of a training checkpoint, with the run's real tensors) to
// LoadTraining and, when it is accepted, resumes training from it: the
// state must be refused with an error naming the file, or resume without
// a panic (an error from Train is fine; a crash or hang is not).
func FuzzLoadTraining(f *testing.F) {
	dir := f.TempDir()
	spec := Spec{Algorithm: "maml", Dataset: "sinusoid", Shots: 2, Queries: 2, Hidden: 4, Seed: 3}
	dist := data.Sinusoid{Support: 2, Query: 2}
	cfgFor := func() TrainConfig {
		return TrainConfig{Iterations: 4, MetaBatch: 2, OuterLR: 1e-3, Seed: 3, ValEvery: 2, Workers: 1,
			Val: data.EvalSet(dist, 2, 9)}
	}
	good := filepath.Join(dir, "good.safetensors")
	b, err := Build(spec)
	if err != nil {
		f.Fatal(err)
	}
	cfg := cfgFor()
	cfg.CheckpointEvery = 3
	cfg.Checkpoint = func(st *TrainState) error { return b.SaveTraining(good, st, nil) }
	if _, err := Train(b.Algorithm, dist, cfg); err != nil {
		f.Fatal(err)
	}
	ts, md, err := checkpoint.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	state := md["train_state"]
	f.Add(state)
	f.Add(strings.Replace(state, `"iteration":4`, `"iteration":-1`, 1))
	f.Add(strings.Replace(state, `"iteration":4`, `"iteration":9223372036854775807`, 1))
	f.Add(strings.Replace(state, `"has_best":true`, `"has_best":false`, 1))
	f.Add(strings.Replace(state, `"rng":"`, `"rng":"AAAA`, 1))
	f.Add(`{"iteration":2,"rng":null,"best_iteration":-5,"elapsed_ns":-1}`)
	f.Add(`{"iteration":1,"step":99,"lr":1e308,"slots":["m","v","x"]}`)
	f.Add(`{}`)
	f.Add(`{"iteration":1}{"iteration":2}`)
	f.Add(`not json`)
	names := make([]checkpoint.Named, 0, len(ts))
	for n, t := range ts {
		names = append(names, checkpoint.Named{Name: n, Tensor: t})
	}
	path := filepath.Join(dir, "fuzz.safetensors")
	f.Fuzz(func(t *testing.T, state string) {
		m := map[string]string{}
		for k, v := range md {
			m[k] = v
		}
		m["train_state"] = state
		// Encode and a plain write: WriteFile's fsyncs would dominate
		var buf bytes.Buffer
		if err := checkpoint.Encode(&buf, names, m); err != nil {
			t.Skip("not writable as metadata:", err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(path)
		b, st, _, err := LoadTraining(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if st.Iteration < 0 || st.Skipped < 0 {
			t.Fatalf("accepted a negative iteration %d / skipped %d", st.Iteration, st.Skipped)
		}
		cfg := cfgFor()
		cfg.Resume = st
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = Train(b.Algorithm, dist, cfg) // must not panic
		}()
		select {
		case <-done:
		case <-time.After(time.Minute): // 4 tiny iterations take milliseconds
			t.Fatalf("resuming from %q did not finish", state)
		}
	})
}
