package meta

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/checkpoint"
)

// TestBadInputLoad is the meta-checkpoint part of the bad-input catalogue
// (RELIABILITY.md): Load must refuse each file with one line naming the
// checkpoint and the offending field or tensor. Messages are logged as
// "catalogue | class | name | message".
func TestBadInputLoad(t *testing.T) {
	dir := t.TempDir()
	good, err := Build(Spec{Algorithm: "metasgd", Dataset: "sinusoid", Hidden: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(good.Spec)
	metaOf := func(s string) map[string]string { return map[string]string{"format": "metalearn-meta/1", "spec": s} }
	// write stores tensors and metadata as a checkpoint file.
	write := func(name string, ts []checkpoint.Named, meta map[string]string) string {
		p := filepath.Join(dir, name)
		if err := checkpoint.WriteFile(p, ts, meta); err != nil {
			t.Fatal(err)
		}
		return p
	}
	raw := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	without := func(drop string) []checkpoint.Named {
		var out []checkpoint.Named
		for _, n := range good.Tensors() {
			if n.Name != drop {
				out = append(out, n)
			}
		}
		return out
	}
	withValue := func(name string, v float64) []checkpoint.Named {
		var out []checkpoint.Named
		for _, n := range good.Tensors() {
			if n.Name == name {
				n.Tensor = n.Tensor.Clone()
				n.Tensor.SetFlat(0, v)
			}
			out = append(out, n)
		}
		return out
	}
	var full bytes.Buffer
	checkpoint.Encode(&full, good.Tensors(), metaOf(string(spec)))
	wider := strings.Replace(string(spec), `"hidden":4`, `"hidden":5`, 1)
	cases := []struct {
		class, name, path string
		want              []string
	}{
		{"missing file", "checkpoint", filepath.Join(dir, "absent.safetensors"), []string{"absent.safetensors: no such file or directory"}},
		{"empty", "checkpoint", raw("empty.safetensors", nil), []string{"empty.safetensors: too short for a safetensors header"}},
		{"corrupt checkpoint", "truncated", raw("cut.safetensors", full.Bytes()[:full.Len()-7]), []string{"cut.safetensors: truncated: tensor"}},
		{"corrupt checkpoint", "flipped length byte", raw("flip.safetensors", append([]byte{0xff}, full.Bytes()[1:]...)), []string{"flip.safetensors"}},
		{"incompatible checkpoint", "plain weights, no metadata", write("plain.safetensors", good.Tensors(), nil), []string{`plain.safetensors: not a metalearn meta-learning checkpoint (format "")`}},
		{"incompatible checkpoint", "other format version", write("v2.safetensors", good.Tensors(), map[string]string{"format": "metalearn-meta/2", "spec": string(spec)}), []string{`format "metalearn-meta/2"`}},
		{"corrupt checkpoint", "spec not JSON", write("nojson.safetensors", good.Tensors(), metaOf("{algorithm: maml")), []string{"nojson.safetensors: bad spec metadata: invalid character 'a'"}},
		{"incompatible checkpoint", "unknown spec field", write("field.safetensors", good.Tensors(), metaOf(`{"algorithm":"maml","hiddden":4}`)), []string{`field.safetensors: bad spec metadata: json: unknown field "hiddden"`}},
		{"bad value", "spec ways = 1", write("ways.safetensors", good.Tensors(), metaOf(`{"algorithm":"protonet","dataset":"omniglot","ways":1}`)), []string{"ways.safetensors: ways = 1, want >= 2"}},
		{"NaN/Inf", "spec inner_lr = -1", write("lr.safetensors", good.Tensors(), metaOf(`{"algorithm":"maml","inner_lr":-1}`)), []string{"lr.safetensors: inner learning rate = -1, want > 0"}},
		{"shape mismatch", "spec says hidden 5, tensors hidden 4", write("wide.safetensors", good.Tensors(), metaOf(wider)), []string{`wide.safetensors: tensor "model.0.weight" has shape [4 1], model expects [5 1]`}},
		{"incompatible checkpoint", "missing model tensor", write("nomodel.safetensors", without("model.2.bias"), metaOf(string(spec))), []string{`nomodel.safetensors: no tensor "model.2.bias"`}},
		{"incompatible checkpoint", "missing learned learning rates", write("nolr.safetensors", without("meta.0"), metaOf(string(spec))), []string{`nolr.safetensors: missing or mis-shaped tensor "meta.0"`}},
		{"NaN/Inf", "NaN weight", write("nan.safetensors", withValue("model.0.weight", math.NaN()), metaOf(string(spec))), []string{`nan.safetensors: tensor "model.0.weight" element 0 is NaN; refusing non-finite weights`}},
	}
	for _, c := range cases {
		t.Run(c.class+"/"+c.name, func(t *testing.T) {
			_, err := Load(c.path)
			if err == nil {
				t.Fatal("accepted")
			}
			t.Logf("catalogue | %s | %s | %s", c.class, c.name, err)
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message spans several lines")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}

	t.Run("NaN/Inf/NaN learned learning rate", func(t *testing.T) {
		p := write("nanlr.safetensors", withValue("meta.0", math.NaN()), metaOf(string(spec)))
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), `"meta.0" holds NaN`) {
			t.Fatalf("err = %v", err)
		}
		t.Logf("catalogue | NaN/Inf | NaN learned learning rate | %s", err)
	})
	t.Run("huge sizes/spec hidden 10^6 with a small file", func(t *testing.T) {
		var m map[string]any
		json.Unmarshal(spec, &m)
		m["hidden"] = 1000000
		js, _ := json.Marshal(m)
		p := write("huge.safetensors", nil, metaOf(string(js)))
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), "describes a") {
			t.Fatalf("err = %v", err)
		}
		t.Logf("catalogue | huge sizes | spec hidden 10^6 in a small file | %s", err)
	})
}

// The NaN check applies to every module Load fills: the ANIL body too.
func TestBadInputLoadANILBody(t *testing.T) {
	b, err := Build(Spec{Algorithm: "anil", Dataset: "sinusoid", Hidden: 3, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	ts := b.Tensors()
	for i := range ts {
		if strings.HasPrefix(ts[i].Name, "body.") {
			ts[i].Tensor = ts[i].Tensor.Clone()
			ts[i].Tensor.SetFlat(0, math.Inf(-1))
			break
		}
	}
	spec, _ := json.Marshal(b.Spec)
	p := filepath.Join(t.TempDir(), "anil.safetensors")
	if err := checkpoint.WriteFile(p, ts, map[string]string{"format": "metalearn-meta/1", "spec": string(spec)}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), `tensor "body.0.weight" element 0 is -Inf`) {
		t.Fatalf("error %v", err)
	}
}
