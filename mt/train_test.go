package mt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/runner"
	"github.com/metalearn/metalearn/tensor"
)

// toyPairs makes word-for-word "translations" of random English
// sentences: target word = dictionary[lang][word].
func toyPairs(seed uint64, n int, langs ...string) map[string][]data.Segment {
	words := []string{"open", "the", "file", "save", "close", "window", "new", "document", "print", "page", "insert", "table"}
	rng := rand.New(rand.NewPCG(seed, 7))
	out := map[string][]data.Segment{}
	for _, l := range langs {
		for i := 0; i < n; i++ {
			k := 1 + rng.IntN(5)
			var en, tg []string
			for j := 0; j < k; j++ {
				w := words[rng.IntN(len(words))]
				en = append(en, w)
				tg = append(tg, l+strings.ToUpper(w[:1])+w[1:])
			}
			out["en-"+l] = append(out["en-"+l], data.Segment{Source: strings.Join(en, " "), Target: strings.Join(tg, " ")})
		}
	}
	return out
}

func tinyConfig(t *testing.T, arch string) TrainConfig {
	c := DefaultTrainConfig()
	c.Arch = arch
	c.Pairs = []string{"en-de", "en-fr"}
	c.TrainData = toyPairs(1, 60, "de", "fr")
	c.DevData = toyPairs(2, 8, "de", "fr")
	c.DModel, c.Heads, c.EncoderLayers, c.DecoderLayers, c.FFN = 16, 2, 1, 1, 32
	c.VocabSize = 320
	c.MaxLen, c.MaxTokens = 32, 160
	c.Steps, c.Warmup, c.LR = 12, 3, 3e-3
	c.ValEvery, c.ValSentences, c.CheckpointEvery = 4, 8, 4
	c.Out = t.TempDir()
	return c
}

// An interrupted and resumed run ends bit for bit where an uninterrupted
// one does: same model file, same checkpoint tensors (weights, Adam
// state, best weights), same validation curve.
func TestTrainResumeExact(t *testing.T) {
	for _, arch := range []string{ArchShared, ArchSeparateDecoders} {
		t.Run(arch, func(t *testing.T) {
			full := tinyConfig(t, arch)
			full.Average = 2
			if _, err := Train(full); err != nil {
				t.Fatal(err)
			}
			part := tinyConfig(t, arch)
			part.Average = 2
			stop := make(chan struct{})
			part.Stop = stop
			part.Log = func(s string) {
				if strings.HasPrefix(s, "step 4:") {
					close(stop)
				}
			}
			_, err := Train(part)
			var ie *runner.Interrupted
			if !errors.As(err, &ie) || ie.Step != 4 {
				t.Fatalf("interrupted run: %v, want an interruption after step 4", err)
			}
			part.Stop, part.Log, part.Resume = nil, nil, true
			if _, err := Train(part); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"model.safetensors", "model-avg.safetensors", "checkpoint.safetensors"} {
				a, _, err := checkpoint.ReadFile(filepath.Join(full.Out, f))
				if err != nil {
					t.Fatal(err)
				}
				b, _, err := checkpoint.ReadFile(filepath.Join(part.Out, f))
				if err != nil {
					t.Fatal(err)
				}
				if len(a) != len(b) {
					t.Fatalf("%s: %d tensors uninterrupted, %d resumed", f, len(a), len(b))
				}
				for name, ta := range a {
					if !bytes.Equal(tensorBytes(ta), tensorBytes(b[name])) {
						t.Fatalf("%s: tensor %s differs between the uninterrupted and the resumed run", f, name)
					}
				}
			}
			ca, _ := os.ReadFile(filepath.Join(full.Out, "dev.jsonl"))
			cb, _ := os.ReadFile(filepath.Join(part.Out, "dev.jsonl"))
			if strip(string(ca)) != strip(string(cb)) || strings.Count(string(ca), "\n") != 3 {
				t.Fatalf("dev curves differ:\n%s\n%s", ca, cb)
			}
		})
	}
}

// strip removes the wall-time fields of a dev curve.
func strip(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if i := strings.Index(l, `"minutes"`); i >= 0 {
			j := strings.Index(l[i:], ",")
			l = l[:i] + l[i+j+1:]
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func tensorBytes(t *tensor.Tensor) []byte {
	var b []byte
	for _, v := range t.Values() {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// A saved model loads back with the same architecture, vocabulary and
// weights and translates the same; the separate-decoder model stores one
// decoder per target and shares the encoder.
func TestModelSaveLoad(t *testing.T) {
	for _, arch := range []string{ArchShared, ArchSeparateDecoders} {
		t.Run(arch, func(t *testing.T) {
			c := tinyConfig(t, arch)
			c.Steps, c.ValEvery = 6, 0
			res, err := Train(c)
			if err != nil {
				t.Fatal(err)
			}
			m, md, err := LoadModel(res.Model)
			if err != nil {
				t.Fatal(err)
			}
			if md["format"] != ModelFormat || m.Spec.Arch != arch || m.Spec.Version != ModelVersion {
				t.Fatalf("metadata %v, spec %+v", md["format"], m.Spec)
			}
			names := map[string]bool{}
			for _, p := range m.Params() {
				names[p.Name] = true
			}
			if arch == ArchSeparateDecoders {
				if !names["decoder.de.transformer.decoder.norm.weight"] || !names["decoder.fr.transformer.decoder.norm.weight"] || !names["transformer.encoder.norm.weight"] {
					t.Fatalf("separate-decoder names: %v", names)
				}
				if m.nets["de"].Embed != m.nets["fr"].Embed || m.nets["de"].Transformer.Encoder[0] != m.nets["fr"].Transformer.Encoder[0] {
					t.Fatal("the decoders' networks do not share the embedding and encoder")
				}
			} else if !names["transformer.decoder.norm.weight"] {
				t.Fatalf("shared names: %v", names)
			}
			m2, _, err := LoadModel(res.Model)
			if err != nil {
				t.Fatal(err)
			}
			src := []string{"open the file", "print page", ""}
			a, err := m.Translate(src, "de", TranslateOptions{Beam: 3, NBest: 2})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := m2.Translate(src, "de", TranslateOptions{Beam: 3, NBest: 2})
			for i := range a {
				if len(a[i]) != 2 {
					t.Fatalf("line %d: %d translations, want 2", i, len(a[i]))
				}
				for j := range a[i] {
					if a[i][j] != b[i][j] {
						t.Fatalf("line %d: %v after one load, %v after another", i, a[i][j], b[i][j])
					}
				}
			}
		})
	}
}

// Bad input: a missing model, a file that is not safetensors, a
// safetensors file that is not a translation model, a damaged spec, an
// unknown target language, an impossible n-best.
func TestModelBadInput(t *testing.T) {
	dir := t.TempDir()
	c := tinyConfig(t, ArchShared)
	c.Steps, c.ValEvery = 2, 0
	res, err := Train(c)
	if err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.safetensors")
	os.WriteFile(junk, []byte("hello"), 0o644)
	other := filepath.Join(dir, "other.safetensors")
	checkpoint.WriteFile(other, []checkpoint.Named{{Name: "w", Tensor: tensor.Zeros(tensor.Float32, 2)}}, map[string]string{"format": "metalearn-mtl/1"})
	ts, md, _ := checkpoint.ReadFile(res.Model)
	var named []checkpoint.Named
	for n, v := range ts {
		named = append(named, checkpoint.Named{Name: n, Tensor: v})
	}
	badSpec := filepath.Join(dir, "badspec.safetensors")
	md2 := map[string]string{}
	for k, v := range md {
		md2[k] = v
	}
	md2["spec"] = strings.Replace(md["spec"], `"version":1`, `"version":9`, 1)
	checkpoint.WriteFile(badSpec, named, md2)
	huge := filepath.Join(dir, "huge.safetensors")
	md2["spec"] = strings.Replace(md["spec"], `"d_model":16`, `"d_model":1000000000`, 1)
	checkpoint.WriteFile(huge, named, md2)
	wide := filepath.Join(dir, "wide.safetensors")
	md2["spec"] = strings.Replace(md["spec"], `"d_model":16`, `"d_model":32`, 1)
	checkpoint.WriteFile(wide, named, md2)
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "none.safetensors"), "does not exist"},
		{junk, "not a safetensors file"},
		{other, "not a translation model"},
		{badSpec, "version 9"},
		{huge, "implausible architecture"},
		{wide, `tensor "embed.weight" missing or not`},
	} {
		_, _, err := LoadModel(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadModel(%s): %v, want an error containing %q", filepath.Base(c.path), err, c.want)
		}
	}
	m, _, err := LoadModel(res.Model)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Translate([]string{"open"}, "xx", TranslateOptions{}); err == nil || !strings.Contains(err.Error(), `unknown target language "xx"`) {
		t.Errorf("unknown language: %v", err)
	}
	if _, err := m.Translate([]string{"open"}, "de", TranslateOptions{Beam: 2, NBest: 3}); err == nil {
		t.Error("3-best from a beam of 2 was accepted")
	}
	bad := tinyConfig(t, ArchShared)
	bad.Pairs = []string{"en"}
	if _, err := Train(bad); err == nil || !strings.Contains(err.Error(), `language pair "en"`) {
		t.Errorf("bad pair: %v", err)
	}
	bad = tinyConfig(t, ArchShared)
	bad.Resume = true
	if _, err := Train(bad); err == nil || !strings.Contains(err.Error(), "no checkpoint") {
		t.Errorf("resume without checkpoint: %v", err)
	}
}

// AverageModels is the element-wise mean of the files' weights.
func TestAverageModels(t *testing.T) {
	c := tinyConfig(t, ArchShared)
	c.Steps, c.ValEvery, c.CheckpointEvery, c.Average = 4, 0, 2, 2
	res, err := Train(c)
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := LoadModel(filepath.Join(c.Out, "checkpoints", "step-0000002.safetensors"))
	b, _, _ := LoadModel(filepath.Join(c.Out, "checkpoints", "step-0000004.safetensors"))
	avg, _, err := LoadModel(res.Averaged)
	if err != nil || a == nil || b == nil {
		t.Fatalf("%v %v %v", err, a, b)
	}
	pa, pb, pv := a.Params(), b.Params(), avg.Params()
	for i := range pv {
		x, y, z := pa[i].V.Value.Values(), pb[i].V.Value.Values(), pv[i].V.Value.Values()
		for j := range z {
			if want := float64(float32((x[j] + y[j]) / 2)); z[j] != want {
				t.Fatalf("%s[%d]: %v, want (%v+%v)/2", pv[i].Name, j, z[j], x[j], y[j])
			}
		}
	}
}

// Init continues from a saved model: its vocabulary is kept and, after
// one step at a negligible learning rate, its weights are still the saved
// ones (a fresh model's are not); a target without a tag is refused.
func TestTrainInit(t *testing.T) {
	c := tinyConfig(t, ArchShared)
	c.Steps, c.ValEvery = 20, 0
	base, err := Train(c)
	if err != nil {
		t.Fatal(err)
	}
	want := mustLoad(t, base.Model)
	wantVocab, _ := want.Vocab.Marshal()
	for _, init := range []string{base.Model, ""} {
		f := tinyConfig(t, ArchShared)
		f.Pairs, f.Steps, f.ValEvery, f.Init, f.LR, f.Seed = []string{"en-de"}, 1, 0, init, 1e-12, 9
		res, err := Train(f)
		if err != nil {
			t.Fatal(err)
		}
		m := mustLoad(t, res.Model)
		got := m.Params()[0].V.Value.Values()
		wv := want.Params()[0].V.Value.Values()
		close := len(got) == len(wv)
		for i, v := range wv {
			if !close {
				break
			}
			if math.Abs(got[i]-v) > 1e-6 {
				close = false
			}
		}
		if init != "" {
			voc, _ := m.Vocab.Marshal()
			if !close || !bytes.Equal(voc, wantVocab) || len(m.Spec.Pairs) != 2 {
				t.Fatalf("init: weights kept %v, same vocabulary %v, pairs %v", close, bytes.Equal(voc, wantVocab), m.Spec.Pairs)
			}
		} else if close {
			t.Fatal("a fresh model has the saved model's embedding")
		}
	}
	bad := tinyConfig(t, ArchShared)
	bad.Pairs, bad.Init = []string{"en-de", "en-xx"}, base.Model
	bad.TrainData["en-xx"] = bad.TrainData["en-de"]
	bad.DevData["en-xx"] = bad.DevData["en-de"]
	if _, err := Train(bad); err == nil || !strings.Contains(err.Error(), `unknown target language "xx"`) {
		t.Fatalf("init with an untagged target: %v", err)
	}
}

func mustLoad(t *testing.T, path string) *Model {
	t.Helper()
	m, _, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
