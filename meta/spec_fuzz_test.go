package meta

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/checkpoint"
)

// fuzzSpecTooBig reports whether a checkpoint's spec metadata asks for a
// model that is slow to build in a fuzz run. Load refuses a spec that
// describes far more values than the file holds before building anything
// (TestBadInputLoad), but up to a million values are allowed for small
// files; skipping those keeps the fuzzer fast.
func fuzzSpecTooBig(spec string) bool {
	var s Spec
	if json.Unmarshal([]byte(spec), &s) != nil {
		return false // Load refuses it before building anything
	}
	s.Defaults()
	return s.approxParams() > 1e5
}

func fuzzSeedCheckpoint(tb testing.TB, s Spec) []byte {
	tb.Helper()
	b, err := Build(s)
	if err != nil {
		tb.Fatal(err)
	}
	spec, _ := json.Marshal(b.Spec)
	var buf bytes.Buffer
	if err := checkpoint.Encode(&buf, b.Tensors(), map[string]string{"format": "metalearn-meta/1", "spec": string(spec)}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzLoad feeds arbitrary bytes, as a checkpoint file, to Load.
func FuzzLoad(f *testing.F) {
	f.Add(fuzzSeedCheckpoint(f, Spec{Algorithm: "maml", Dataset: "sinusoid", Hidden: 4, Seed: 1}))
	f.Add(fuzzSeedCheckpoint(f, Spec{Algorithm: "anil", Dataset: "sinusoid", Hidden: 3, Seed: 1}))
	f.Add(fuzzSeedCheckpoint(f, Spec{Algorithm: "metasgd", Dataset: "sinusoid", Hidden: 2, Seed: 1}))
	f.Add(fuzzSeedCheckpoint(f, Spec{Algorithm: "r2d2", Dataset: "omniglot", Ways: 2, Hidden: 2, Seed: 1}))
	f.Add(fuzzSeedCheckpoint(f, Spec{Algorithm: "maml", Dataset: "omniglot", Ways: 2, Hidden: 2, BatchNorm: "per-step", InnerSteps: 1, EvalSteps: 1, Seed: 1}))
	f.Add([]byte{})
	p := filepath.Join(f.TempDir(), "m.safetensors")
	f.Fuzz(func(t *testing.T, raw []byte) {
		if _, meta, err := checkpoint.Decode(bytes.NewReader(raw), "x"); err == nil && fuzzSpecTooBig(meta["spec"]) {
			return
		}
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := Load(p)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not name the checkpoint", err)
			}
			return
		}
		if err := b.Spec.Validate(); err != nil {
			t.Fatalf("loaded an invalid spec: %v", err)
		}
	})
}

// FuzzLoadSpec keeps a valid tensor section and fuzzes the spec JSON of
// the checkpoint metadata.
func FuzzLoadSpec(f *testing.F) {
	b, err := Build(Spec{Algorithm: "maml", Dataset: "sinusoid", Hidden: 4, Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	tensors := b.Tensors()
	spec, _ := json.Marshal(b.Spec)
	f.Add(string(spec))
	f.Add(`{"algorithm":"maml","dataset":"sinusoid","hidden":4,"shots":5,"queries":5,"inner_steps":1,"eval_steps":1,"inner_lr":0.01,"seed":1}`)
	f.Add(`{"algorithm":"maml","dataset":"sinusoid","hidden":5}`)
	f.Add(`{"algorithm":"protonet","dataset":"omniglot","hidden":4,"ways":2}`)
	f.Add(`{"algorithm":"maml","unknown":1}`)
	f.Add(`{"inner_lr":"NaN"}`)
	f.Add(`null`)
	p := filepath.Join(f.TempDir(), "m.safetensors")
	f.Fuzz(func(t *testing.T, spec string) {
		if fuzzSpecTooBig(spec) {
			return
		}
		if err := checkpoint.WriteFile(p, tensors, map[string]string{"format": "metalearn-meta/1", "spec": spec}); err != nil {
			t.Fatal(err)
		}
		got, err := Load(p)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not name the checkpoint", err)
			}
			return
		}
		if err := got.Spec.Validate(); err != nil {
			t.Fatalf("loaded an invalid spec: %v", err)
		}
	})
}
