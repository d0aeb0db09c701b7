package mtl

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// modelFileCase builds one architecture twice (different seeds) so a
// round trip has something to overwrite.
type modelFileCase struct {
	arch string
	e    *Experiment
}

func modelFileCases() []modelFileCase {
	tab := CirclesExperiment(3, 10, 1)
	img := &Experiment{Name: "img", Tasks: []TaskSpec{{Name: "a", Kind: Classification, Classes: 3}, {Name: "b", Kind: Regression}}, Features: 144, Image: &tinyConv}
	var cs []modelFileCase
	for _, a := range []string{"hard", "mmoe", "cgc", "cross-stitch"} {
		cs = append(cs, modelFileCase{a, tab})
	}
	return append(cs, modelFileCase{"hard", img}, modelFileCase{"mtan", img})
}

func (c modelFileCase) build(t *testing.T, seed uint64) Model {
	t.Helper()
	m, err := c.e.BuildModel(c.arch, c.e.Tasks, 5, rand.New(rand.NewPCG(seed, 99)))
	if err != nil {
		t.Fatal(err)
	}
	// give the buffers values a fresh model does not have
	r := rand.New(rand.NewPCG(seed, 7))
	for _, b := range modelBuffers(m) {
		v := b.V.Value.Clone()
		for i := 0; i < v.Len(); i++ {
			v.SetFlat(i, 0.5+r.Float64())
		}
		b.V.Value = v
	}
	return m
}

func sameTensors(t *testing.T, what string, got, want []checkpoint.Named) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d tensors, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := got[i].Tensor, want[i].Tensor
		if got[i].Name != want[i].Name || !tensor.SameShape(g.Shape(), w.Shape()) {
			t.Fatalf("%s: tensor %d is %s %v, want %s %v", what, i, got[i].Name, g.Shape(), want[i].Name, w.Shape())
		}
		for j := 0; j < w.Len(); j++ {
			if g.Flat(j) != w.Flat(j) {
				t.Fatalf("%s: %s[%d] = %v, want %v", what, want[i].Name, j, g.Flat(j), w.Flat(j))
			}
		}
	}
}

func TestModelFileRoundTrip(t *testing.T) {
	for _, c := range modelFileCases() {
		t.Run(c.e.Name+"/"+c.arch, func(t *testing.T) {
			src, dst := c.build(t, 1), c.build(t, 2)
			path := filepath.Join(t.TempDir(), "m.safetensors")
			if err := SaveModel(path, src, map[string]string{"k": "v"}); err != nil {
				t.Fatal(err)
			}
			md, missing, err := LoadModel(path, dst)
			if err != nil {
				t.Fatal(err)
			}
			if md["k"] != "v" || md["format"] != ModelFormat || missing != nil {
				t.Fatalf("metadata %v, missing buffers %v", md, missing)
			}
			sameTensors(t, "loaded", ModelTensors(dst), ModelTensors(src))
			if c.arch == "mtan" && len(modelBuffers(dst)) == 0 {
				t.Fatal("MTAN has no buffers: the round trip did not cover them")
			}
			// the loaded tensors are the model's own: changing them leaves
			// a second load from the same file unchanged
			for _, n := range ModelTensors(dst) {
				n.Tensor.SetFlat(0, 1e6)
			}
			again := c.build(t, 3)
			if _, _, err := LoadModel(path, again); err != nil {
				t.Fatal(err)
			}
			sameTensors(t, "reloaded", ModelTensors(again), ModelTensors(src))
		})
	}
}

// The writers this file replaces, kept here as they were so their files
// stay loadable: `metalearn train` (parameters only, "config" metadata),
// `mtl train --save` (parameters and buffers, "metalearn.mtl" metadata)
// and SaveTraining before buffers (parameters and training state).
func oldTrainWriter(path string, m Model) error {
	var named []checkpoint.Named
	for _, p := range AllParams(m) {
		named = append(named, checkpoint.Named{Name: p.Name, Tensor: p.V.Value})
	}
	return checkpoint.WriteFile(path, named, map[string]string{"format": "metalearn-mtl/1", "config": "name: x\n"})
}

func oldSaveWriter(path string, m Model) error {
	var out []checkpoint.Named
	for _, p := range AllParams(m) {
		out = append(out, checkpoint.Named{Name: p.Name, Tensor: p.V.Value})
	}
	if s, ok := m.(nn.Stateful); ok {
		for _, b := range s.Buffers() {
			out = append(out, checkpoint.Named{Name: b.Name, Tensor: b.V.Value})
		}
	}
	b, _ := json.Marshal(map[string]any{"format": "metalearn-mtl/1", "dataset": "circles", "experiment": "circles", "arch": "hard", "hidden": 5, "seed": 1, "weighting": "ew", "tasks": []string{"a"}})
	return checkpoint.WriteFile(path, out, map[string]string{"format": "metalearn-mtl/1", "metalearn.mtl": string(b)})
}

func oldSaveTraining(path string, m Model) error {
	var ts []checkpoint.Named
	for _, p := range AllParams(m) {
		ts = append(ts, checkpoint.Named{Name: p.Name, Tensor: p.V.Value})
	}
	opt, om := checkpoint.OptimizerTensors(nil)
	ts = append(ts, opt...)
	js, _ := json.Marshal(savedState{Step: 7, OptimizerMeta: om})
	return checkpoint.WriteFile(path, ts, map[string]string{"format": "metalearn-mtl/1", "train_state": string(js)})
}

func TestModelFileOldWritersLoad(t *testing.T) {
	for _, c := range modelFileCases() {
		for _, w := range []struct {
			name        string
			write       func(string, Model) error
			withBuffers bool
		}{{"metalearn train", oldTrainWriter, false}, {"mtl train --save", oldSaveWriter, true}, {"SaveTraining", oldSaveTraining, false}} {
			t.Run(c.e.Name+"/"+c.arch+"/"+w.name, func(t *testing.T) {
				src, dst := c.build(t, 1), c.build(t, 2)
				path := filepath.Join(t.TempDir(), "old.safetensors")
				if err := w.write(path, src); err != nil {
					t.Fatal(err)
				}
				before := ModelTensors(dst)
				bufs := append([]checkpoint.Named(nil), before[len(AllParams(dst)):]...)
				_, missing, err := LoadModel(path, dst)
				if err != nil {
					t.Fatal(err)
				}
				got := ModelTensors(dst)
				np := len(AllParams(dst))
				sameTensors(t, "parameters", got[:np], ModelTensors(src)[:np])
				switch {
				case w.withBuffers || len(bufs) == 0:
					if missing != nil {
						t.Fatalf("missing buffers %v", missing)
					}
					sameTensors(t, "buffers", got[np:], ModelTensors(src)[np:])
				default:
					if len(missing) != len(bufs) || missing[0] != bufs[0].Name {
						t.Fatalf("missing buffers %v, want the %d of the model", missing, len(bufs))
					}
					sameTensors(t, "buffers kept", got[np:], bufs)
				}
				if w.name == "SaveTraining" {
					st, _, err := LoadTraining(path, c.build(t, 3))
					if err != nil || st.Step != 7 {
						t.Fatalf("LoadTraining: step %v, %v", st, err)
					}
				}
			})
		}
	}
}

func TestSaveTrainingKeepsBuffers(t *testing.T) {
	c := modelFileCase{"mtan", &Experiment{Name: "img", Tasks: []TaskSpec{{Name: "a", Kind: Regression}}, Features: 144, Image: &tinyConv}}
	src, dst := c.build(t, 1), c.build(t, 2)
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	if err := SaveTraining(path, src, &TrainState{Step: 3}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadTraining(path, dst); err != nil {
		t.Fatal(err)
	}
	sameTensors(t, "resumed", ModelTensors(dst), ModelTensors(src))
}

// TestBadInputModelFile is the multi-task model file part of the
// bad-input catalogue (RELIABILITY.md): every refusal names the file and
// the tensor, and leaves the model untouched.
func TestBadInputModelFile(t *testing.T) {
	img := &Experiment{Name: "img", Tasks: []TaskSpec{{Name: "a", Kind: Regression}}, Features: 144, Image: &tinyConv}
	c := modelFileCase{"mtan", img}
	src := c.build(t, 1)
	dir := t.TempDir()
	write := func(name string, ts []checkpoint.Named, format string) string {
		p := filepath.Join(dir, name)
		if err := checkpoint.WriteFile(p, ts, map[string]string{"format": format}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	all := ModelTensors(src)
	np := len(AllParams(src))
	nan := all[0].Tensor.Clone()
	nan.SetFlat(0, math.NaN())
	withNaN := append([]checkpoint.Named{{Name: all[0].Name, Tensor: nan}}, all[1:]...)
	cases := []struct {
		class, name, path, want string
	}{
		{"incompatible checkpoint", "multi-task model: a meta-learning file", write("f.safetensors", all, "metalearn-meta/1"), "not a metalearn multi-task model"},
		{"incompatible checkpoint", "multi-task model: missing parameter", write("p.safetensors", all[1:], ModelFormat), "has no tensor"},
		{"incompatible checkpoint", "multi-task model: some BatchNorm buffers only", write("b.safetensors", all[:np+1], ModelFormat), "buffers"},
		{"incompatible checkpoint", "multi-task model: a tensor of no model", write("x.safetensors", append(all, checkpoint.Named{Name: "other", Tensor: all[0].Tensor}), ModelFormat), `unexpected tensor "other"`},
		{"NaN/Inf", "multi-task model: NaN weight", write("n.safetensors", withNaN, ModelFormat), "element 0 is NaN"},
		{"incompatible checkpoint", "multi-task model: hard sharing file, MTAN model", filepath.Join(dir, "hard.safetensors"), "does not fit"},
	}
	hard, _ := img.BuildModel("hard", img.Tasks, 5, rand.New(rand.NewPCG(1, 1)))
	if err := SaveModel(cases[len(cases)-1].path, hard, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		dst := c.build(t, 2)
		before := ModelTensors(dst)
		_, _, err := LoadModel(tc.path, dst)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
			continue
		}
		t.Logf("catalogue | %s | %s | %s", tc.class, tc.name, strings.ReplaceAll(err.Error(), dir, "<dir>"))
		sameTensors(t, tc.name+": model after a failed load", ModelTensors(dst), before)
	}
}
