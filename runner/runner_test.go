package runner

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

// toy is a deterministic "training" whose whole state is a random stream
// and a weight: resuming must give the same weight as running through.
type toy struct {
	pcg *rand.PCG
	rng *rand.Rand
	w   float64
}

func newToy() *toy {
	p := rand.NewPCG(1, 2)
	return &toy{pcg: p, rng: rand.New(p)}
}

func (t *toy) step(int) (Result, error) {
	t.w += t.rng.Float64() - 0.4
	return Result{Loss: t.w, Units: 3}, nil
}

func (t *toy) config(steps int) Config {
	return Config{Steps: steps, Step: t.step, ValEvery: 3, Metric: "loss",
		Validate: func(int) (float64, error) { return math.Abs(t.w - 1), nil },
		Snapshot: func() []*tensor.Tensor { return []*tensor.Tensor{tensor.Scalar(tensor.Float64, t.w)} },
		Restore:  func(b []*tensor.Tensor) error { t.w = b[0].Item(); return nil }}
}

func TestResumeIsExact(t *testing.T) {
	ref := newToy()
	want, err := Run(ref.config(20))
	if err != nil {
		t.Fatal(err)
	}
	// stop after step 8 with a checkpoint, then continue in a new process
	first := newToy()
	stop := make(chan struct{})
	var saved State
	var rngState []byte
	cfg := first.config(20)
	cfg.Stop, cfg.CheckpointName, cfg.ResumeCommand = stop, "ckpt", "train --resume"
	cfg.Log = func(e Event) {
		if e.Step == 8 {
			close(stop)
		}
	}
	cfg.Checkpoint = func(s State) error {
		saved = s
		rngState, _ = first.pcg.MarshalBinary()
		return nil
	}
	_, err = Run(cfg)
	var in *Interrupted
	if !errors.Is(err, ErrStopped) || !errors.As(err, &in) || in.Step != 8 || !strings.Contains(err.Error(), "ckpt (step 8); continue with: train --resume") {
		t.Fatalf("stop: %v", err)
	}
	second := newToy()
	second.pcg.UnmarshalBinary(rngState)
	second.w = first.w
	cfg = second.config(20)
	cfg.Resume = &saved
	got, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if second.w != ref.w || got.BestStep != want.BestStep || got.BestValue != want.BestValue || got.Units != 60 || got.Steps != 20 {
		t.Fatalf("resumed: w %v best %d %v units %d; uninterrupted: w %v best %d %v", second.w, got.BestStep, got.BestValue, got.Units, ref.w, want.BestStep, want.BestValue)
	}
}

func TestBestKeepingFollowsTheMetric(t *testing.T) {
	for _, tc := range []struct {
		metric string
		want   float64 // the weight kept: values peak (accuracy 1) at w = 5
	}{{"accuracy", 5}, {"val/acc", 5}, {"chrF", 5}, {"mse", 10}, {"loss", 10}} {
		w := 0.0
		_, err := Run(Config{Steps: 10, Step: func(int) (Result, error) { w++; return Result{}, nil },
			ValEvery: 1, Metric: tc.metric, Validate: func(int) (float64, error) { return 1 - math.Abs(w-5)/10, nil },
			Snapshot: func() []*tensor.Tensor { return []*tensor.Tensor{tensor.Scalar(tensor.Float64, w)} },
			Restore:  func(b []*tensor.Tensor) error { w = b[0].Item(); return nil }})
		if err != nil || w != tc.want {
			t.Errorf("%s: kept w = %v (err %v), want %v", tc.metric, w, err, tc.want)
		}
	}
	if _, err := Run(Config{Steps: 1, Step: func(int) (Result, error) { return Result{}, nil }, ValEvery: 1, Metric: "goodness",
		Validate: func(int) (float64, error) { return 0, nil }}); err == nil || !strings.Contains(err.Error(), `"goodness"`) {
		t.Errorf("unknown metric: err = %v", err)
	}
}

func TestBudgetsAndNonFinite(t *testing.T) {
	n := 0
	out, err := Run(Config{Steps: 100, MaxUnits: 10, Step: func(int) (Result, error) { n++; return Result{Units: 4}, nil }})
	if err != nil || out.Steps != 3 || out.Units != 12 || n != 3 {
		t.Fatalf("unit budget: %+v %v", out, err)
	}
	bad := errors.New("loss is NaN")
	nan := func(i int) (Result, error) {
		if i == 1 {
			return Result{Loss: math.NaN(), NonFinite: bad}, nil
		}
		return Result{Loss: 1}, nil
	}
	if _, err := Run(Config{Steps: 3, Step: nan, Checkpoint: func(State) error { return nil }, CheckpointEvery: 1, CheckpointName: "c"}); !errors.Is(err, bad) ||
		!strings.Contains(err.Error(), "last good checkpoint: c (step 1)") {
		t.Fatalf("stop on NaN: %v", err)
	}
	out, err = Run(Config{Steps: 3, Step: nan, SkipNonFinite: true})
	if err != nil || out.Skipped != 1 || out.Steps != 3 {
		t.Fatalf("skip NaN: %+v %v", out, err)
	}
}

func TestProgressThroughTheDriver(t *testing.T) {
	var buf bytes.Buffer
	p := &Progress{W: &buf, Mode: Lines, Total: 5, Label: "toy"}
	if _, err := Run(Config{Steps: 5, Step: func(int) (Result, error) { return Result{Loss: 2, Fields: []Field{{"acc", 0.5}}}, nil }, Progress: p}); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); !strings.Contains(s, "toy 5/5 (100%)") || !strings.Contains(s, "loss 2  acc 0.5") {
		t.Fatalf("progress %q", s)
	}
	for _, tc := range []struct {
		quiet, json bool
		progress    string
		want        Mode
	}{{true, false, "auto", Quiet}, {false, true, "auto", JSON}, {false, false, "bar", Bar}, {false, false, "auto", Lines}} {
		if m, err := ModeFor(tc.quiet, tc.json, tc.progress, &buf); err != nil || m != tc.want {
			t.Errorf("ModeFor(%v, %v, %q) = %v, %v; want %v", tc.quiet, tc.json, tc.progress, m, err, tc.want)
		}
	}
	if _, err := ModeFor(true, true, "auto", &buf); err == nil {
		t.Error("--quiet with --json accepted")
	}
}
