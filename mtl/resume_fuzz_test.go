package mtl

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/metalearn/metalearn/checkpoint"
)

// FuzzLoadTraining feeds arbitrary resume state (the "train_state"
// metadata, with a real run's tensors) to LoadTraining and, when it is
// accepted, resumes training from it with a stateful weighting: the state
// is refused with an error naming the file, or training resumes without a
// panic or hang (an error from Train is fine).
func FuzzLoadTraining(f *testing.F) {
	dir := f.TempDir()
	e := CirclesExperiment(3, 10, 3)
	val := e.Train
	build := func() (Model, TrainConfig) {
		m, err := e.BuildModel("hard", e.Tasks, 4, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			f.Fatal(err)
		}
		w, err := ByName("dwa", 3)
		if err != nil {
			f.Fatal(err)
		}
		return m, TrainConfig{Steps: 6, LR: 0.01, BatchSize: 8, Seed: 9, Weighting: w, Val: &val, ValEvery: 2}
	}
	good := filepath.Join(dir, "good.safetensors")
	m, cfg := build()
	cfg.CheckpointEvery = 4
	cfg.Checkpoint = func(st *TrainState) error { return SaveTraining(good, m, st, nil) }
	if err := Train(m, e.Tasks, e.Train, cfg); err != nil {
		f.Fatal(err)
	}
	ts, md, err := checkpoint.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	state := md["train_state"]
	f.Add(state)
	f.Add(strings.Replace(state, `"step":6`, `"step":-3`, 1))
	f.Add(strings.Replace(state, `"step":6`, `"step":9223372036854775807`, 1))
	f.Add(strings.Replace(state, `"has_best":true`, `"has_best":false`, 1))
	f.Add(strings.Replace(state, `"weighting":"`, `"weighting":"AAAA`, 1))
	f.Add(`{"step":1,"rng":"AAAA","weighting":"//8=","best_val":-1e308}`)
	f.Add(`{"step":1,"optimizer":"adam","optimizer_slots":["m"],"optimizer_step":-1}`)
	f.Add(`{}`)
	f.Add(`[]`)
	names := make([]checkpoint.Named, 0, len(ts))
	for n, t := range ts {
		names = append(names, checkpoint.Named{Name: n, Tensor: t})
	}
	path := filepath.Join(dir, "fuzz.safetensors")
	f.Fuzz(func(t *testing.T, state string) {
		md2 := map[string]string{}
		for k, v := range md {
			md2[k] = v
		}
		md2["train_state"] = state
		var buf bytes.Buffer // Encode and a plain write: no fsync per input
		if err := checkpoint.Encode(&buf, names, md2); err != nil {
			t.Skip("not writable as metadata:", err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(path)
		m, cfg := build()
		st, _, err := LoadTraining(path, m)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if st.Step < 0 {
			t.Fatalf("accepted a negative step %d", st.Step)
		}
		cfg.Resume = st
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = Train(m, e.Tasks, e.Train, cfg) // must not panic
		}()
		select {
		case <-done:
		case <-time.After(time.Minute): // 6 tiny steps take milliseconds
			t.Fatalf("resuming from %q did not finish", state)
		}
	})
}
