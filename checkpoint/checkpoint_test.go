package checkpoint

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

func model(seed uint64) nn.Module {
	rng := rand.New(rand.NewPCG(seed, 1))
	return nn.NewSequential(nn.NewConv2d(rng, 1, 2, 3, 1, 1), nn.NewBatchNorm(2), nn.Flatten(), nn.NewLinear(rng, 2*4*4, 3))
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	a := model(1)
	extra := Named{"f64", tensor.FromFloat64([]float64{1.5, -2}, 2)}
	meta := map[string]string{"algorithm": "maml", "step": "12"}
	if err := WriteFile(path, append(ModuleTensors("model", a), extra), meta); err != nil {
		t.Fatal(err)
	}
	ts, gotMeta, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if gotMeta["algorithm"] != "maml" || gotMeta["step"] != "12" {
		t.Fatalf("metadata %v", gotMeta)
	}
	if ts["f64"].DType() != tensor.Float64 || ts["f64"].Flat(1) != -2 {
		t.Fatalf("float64 tensor %v", ts["f64"])
	}
	b := model(2)
	if err := LoadInto(ts, "model", b, path); err != nil {
		t.Fatal(err)
	}
	for i, p := range a.Params() {
		if d := tensor.MaxAbsDiff(p.V.Value, b.Params()[i].V.Value); d != 0 {
			t.Fatalf("param %s differs by %g after round trip", p.Name, d)
		}
	}
	if n := len(nn.Buffers(b)); n != 2 {
		t.Fatalf("%d buffers", n)
	}
	// no temp files left behind
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("folder holds %d entries after write", len(entries))
	}
}

func TestLoadMismatchLeavesModelUntouched(t *testing.T) {
	ts := map[string]*tensor.Tensor{}
	for _, n := range ModuleTensors("", model(1)) {
		ts[n.Name] = n.Tensor
	}
	rng := rand.New(rand.NewPCG(3, 3))
	other := nn.NewSequential(nn.NewConv2d(rng, 1, 2, 3, 1, 1), nn.NewBatchNorm(2), nn.Flatten(), nn.NewLinear(rng, 2*4*4, 5))
	before := other.Params()[0].V.Value.Clone()
	err := LoadInto(ts, "", other, "x.safetensors")
	if err == nil || !strings.Contains(err.Error(), `"3.weight" has shape [3 32], model expects [5 32]`) {
		t.Fatalf("error %v", err)
	}
	if tensor.MaxAbsDiff(before, other.Params()[0].V.Value) != 0 {
		t.Fatal("failed load modified the model")
	}
	delete(ts, "1.running_var")
	if err := LoadInto(ts, "", model(1), "x"); err == nil || !strings.Contains(err.Error(), "1.running_var") {
		t.Fatalf("missing tensor error %v", err)
	}
}

func TestCorruptFiles(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, ModuleTensors("", model(1)), nil); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	cases := map[string][]byte{
		"empty":          {},
		"short":          good[:5],
		"huge header":    append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0}, good[8:]...),
		"truncated head": good[:20],
		"truncated data": good[:len(good)-3],
		"trailing":       append(append([]byte(nil), good...), 1, 2, 3),
		"not json":       append([]byte{4, 0, 0, 0, 0, 0, 0, 0}, []byte("abcd")...),
	}
	for name, b := range cases {
		if _, _, err := Decode(bytes.NewReader(b), "f.safetensors"); err == nil {
			t.Errorf("%s: decoded without error", name)
		} else if !strings.Contains(err.Error(), "f.safetensors") {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
	if _, _, err := ReadFile(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("missing file read without error")
	}
}

func TestAtomicWriteKeepsOldFileOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := WriteFile(path, ModuleTensors("", model(1)), nil); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	// duplicate names make Encode fail mid-way: the old file must survive
	bad := []Named{{"x", tensor.Zeros(tensor.Float32, 2)}, {"x", tensor.Zeros(tensor.Float32, 2)}}
	if err := WriteFile(path, bad, nil); err == nil {
		t.Fatal("duplicate names accepted")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("failed write changed the existing checkpoint")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("failed write left %d files", len(entries))
	}
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir", "m"), bad[:1], nil); err == nil || !strings.Contains(err.Error(), "cannot write in") {
		t.Fatalf("unwritable folder error %v", err)
	}
}

// PyTorch reads our files (skipped when python3-torch is not installed).
func TestPyTorchLoadsCheckpoint(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skip("python3 with torch not available (apt-get install python3-torch); skipping the PyTorch interop check")
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	m := model(4)
	ts := append(ModuleTensors("", m), Named{"d", tensor.FromFloat64([]float64{0.25, 3}, 1, 2)})
	if err := WriteFile(path, ts, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "../reference/load_safetensors.py", path).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var want []string
	for _, n := range ts {
		s := 0.0
		for _, v := range n.Tensor.Values() {
			s += v
		}
		dt := "float32"
		if n.Tensor.DType() == tensor.Float64 {
			dt = "float64"
		}
		want = append(want, fmt.Sprintf("%s %s %s|%.9g", n.Name, dt, strings.ReplaceAll(fmt.Sprint(n.Tensor.Shape()), " ", ", "), s))
	}
	sort.Strings(want)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(want) {
		t.Fatalf("python saw %d tensors, want %d:\n%s", len(lines), len(want), out)
	}
	for i, l := range lines {
		w, sum, _ := strings.Cut(want[i], "|")
		if !strings.HasPrefix(l, w) {
			t.Errorf("python line %q, want prefix %q", l, w)
			continue
		}
		var got, exp float64
		fmt.Sscan(l[strings.LastIndex(l, " ")+1:], &got)
		fmt.Sscan(sum, &exp)
		if math.Abs(got-exp) > 1e-5*(1+math.Abs(exp)) {
			t.Errorf("%s: python sum %v, Go sum %v", w, got, exp)
		}
	}
}

// LoadInto gives the module its own storage, not views of the map's tensors.
func TestLoadIntoCopies(t *testing.T) {
	m := model(3)
	ts := map[string]*tensor.Tensor{}
	for _, n := range ModuleTensors("", m) {
		ts[n.Name] = n.Tensor.Clone()
	}
	dst := model(4)
	if err := LoadInto(ts, "", dst, "map"); err != nil {
		t.Fatal(err)
	}
	for _, p := range dst.Params() {
		before := ts[p.Name].Flat(0)
		p.V.Value.SetFlat(0, before+1)
		if ts[p.Name].Flat(0) != before {
			t.Fatalf("%s: changing the module changed the map", p.Name)
		}
	}
}
