package checkpoint

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// TestBadInputCheckpoint is the checkpoint part of the bad-input catalogue
// (RELIABILITY.md): every case must fail with one line naming the file and
// the offending tensor, field or value. Messages are logged as
// "catalogue | class | name | message".
func TestBadInputCheckpoint(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, ModuleTensors("", model(1)), map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	one := func(h string, body []byte) []byte { return rawHeader(h, body) }
	f4 := make([]byte, 8)
	cases := []struct {
		class, name string
		file        []byte
		want        string
	}{
		{"empty", "0 bytes", nil, "too short for a safetensors header (EOF)"},
		{"truncated", "inside the length", good[:5], "too short for a safetensors header (unexpected EOF)"},
		{"truncated", "inside the header", good[:20], "truncated header: 12 of"},
		{"truncated", "inside the data", good[:len(good)-3], "truncated: tensor"},
		{"wrong magic", "a zip file", append([]byte("PK\x03\x04\x00\x00\x00\x00"), "\x14\x00 zip member data"...), `not a safetensors file (the header after the 8-byte length starts with "\x14\x00 zip m", not '{')`},
		{"wrong magic", "a text file", []byte("// Package main does things\n"), "header length 7019813713794314031 is not plausible (corrupt or not a safetensors file)"},
		{"wrong magic", "header not JSON", one("{abcdefg", nil), "header is not valid JSON"},
		{"wrong dtype", "BF16 tensor", one(`{"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}`, f4[:4]), `tensor "w" has dtype "BF16"; only F32 and F64 are supported`},
		{"wrong dtype", "metadata not strings", one(`{"__metadata__":{"step":3}}`, nil), "__metadata__ is not a string map"},
		{"shape mismatch", "offsets disagree with the shape", one(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f4), `tensor "w": data offsets [0 8] do not match shape [3] and dtype F32`},
		{"shape mismatch", "overlapping tensors", one(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f4), "do not match shape [2] and dtype F32 (expected start 8)"},
		{"shape mismatch", "negative dimension", one(`{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f4), `tensor "w" has invalid shape [-2]`},
		{"shape mismatch", "trailing bytes", append(append([]byte(nil), good...), 0, 0, 0, 0), "4 trailing bytes after the last tensor"},
		{"huge sizes", "header length 2^63", []byte{0, 0, 0, 0, 0, 0, 0, 0x80}, "header length 9223372036854775808 is not plausible"},
		{"huge sizes", "header length 100 MB, 8 bytes present", append([]byte{0, 0, 0x40, 6, 0, 0, 0, 0}, "{}"...), "truncated header: 2 of 104857600 bytes"},
		{"huge sizes", "shape 10^12 elements", one(`{"w":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,8]}}`, f4), `tensor "w" shape [1000000 1000000] needs more data than the file holds`},
		{"huge sizes", "dimension beyond int32", one(`{"w":{"dtype":"F32","shape":[4294967296],"data_offsets":[0,8]}}`, f4), `tensor "w" has invalid shape [4294967296]`},
	}
	for _, c := range cases {
		t.Run(c.class+"/"+c.name, func(t *testing.T) {
			_, _, err := Decode(bytes.NewReader(c.file), "m.safetensors")
			if err == nil {
				t.Fatal("accepted")
			}
			t.Logf("catalogue | %s | %s | %s", c.class, c.name, err)
			if !strings.HasPrefix(err.Error(), "checkpoint m.safetensors: ") || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q, want one line naming the file and containing %q", err, c.want)
			}
		})
	}
}

// Loading into a model: a checkpoint of another architecture, a missing
// tensor, non-finite weights, float64 values beyond float32 range. The
// model is left untouched in every case.
func TestBadInputLoadInto(t *testing.T) {
	base := func() map[string]*tensor.Tensor {
		ts := map[string]*tensor.Tensor{}
		for _, n := range ModuleTensors("model", model(1)) {
			ts[n.Name] = n.Tensor.Clone()
		}
		return ts
	}
	rng := rand.New(rand.NewPCG(9, 9))
	wider := nn.NewSequential(nn.NewConv2d(rng, 1, 4, 3, 1, 1), nn.NewBatchNorm(4), nn.Flatten(), nn.NewLinear(rng, 4*4*4, 3))
	cases := []struct {
		class, name string
		ts          func() map[string]*tensor.Tensor
		m           nn.Module
		want        string
	}{
		{"incompatible checkpoint", "other architecture", base, wider, `tensor "model.0.weight" has shape [2 1 3 3], model expects [4 1 3 3]`},
		{"incompatible checkpoint", "missing tensor", func() map[string]*tensor.Tensor {
			ts := base()
			delete(ts, "model.1.running_mean")
			return ts
		}, model(2), `no tensor "model.1.running_mean" (checkpoint from another model?)`},
		{"incompatible checkpoint", "other prefix", func() map[string]*tensor.Tensor {
			ts := map[string]*tensor.Tensor{}
			for k, v := range base() {
				ts["body"+strings.TrimPrefix(k, "model")] = v
			}
			return ts
		}, model(2), `no tensor "model.0.weight"`},
		{"NaN/Inf", "NaN weight", func() map[string]*tensor.Tensor {
			ts := base()
			ts["model.3.bias"].SetFlat(1, math.NaN())
			return ts
		}, model(2), `tensor "model.3.bias" element 1 is NaN; refusing non-finite weights`},
		{"NaN/Inf", "Inf running variance", func() map[string]*tensor.Tensor {
			ts := base()
			ts["model.1.running_var"].SetFlat(0, math.Inf(1))
			return ts
		}, model(2), `tensor "model.1.running_var" element 0 is +Inf`},
		{"NaN/Inf", "float64 beyond float32 range", func() map[string]*tensor.Tensor {
			ts := base()
			w := ts["model.3.bias"].AsType(tensor.Float64)
			w.SetFlat(2, 1e300)
			ts["model.3.bias"] = w
			return ts
		}, model(2), `tensor "model.3.bias" element 2 is +Inf after conversion to float32 (value 1e+300)`},
	}
	for _, c := range cases {
		t.Run(c.class+"/"+c.name, func(t *testing.T) {
			before := ModuleTensors("", c.m)
			snap := make([]*tensor.Tensor, len(before))
			for i, n := range before {
				snap[i] = n.Tensor.Clone()
			}
			err := LoadInto(c.ts(), "model", c.m, "m.safetensors")
			if err == nil {
				t.Fatal("accepted")
			}
			t.Logf("catalogue | %s | %s | %s", c.class, c.name, err)
			if !strings.HasPrefix(err.Error(), "checkpoint m.safetensors: ") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want %q", err, c.want)
			}
			for i, n := range ModuleTensors("", c.m) {
				if tensor.MaxAbsDiff(n.Tensor, snap[i]) != 0 {
					t.Fatalf("failed load changed %s", n.Name)
				}
			}
		})
	}
}

// failAfter is a writer that fails once n bytes have been written, like a
// full disk or a process killed part-way through a write.
type failAfter struct {
	w io.Writer
	n int
}

var errInjected = errors.New("injected write failure (disk full)")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, errInjected
	}
	f.n -= len(p)
	return f.w.Write(p)
}

// An interrupted write — the writer fails in the header, in the middle of
// the tensor data, or just before the end — leaves the previous checkpoint
// byte-identical and loadable, no temporary file behind, and an error that
// names the path and the cause.
func TestBadInputInterruptedWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	old := ModuleTensors("", model(1))
	if err := WriteFile(path, old, map[string]string{"step": "1"}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	next := ModuleTensors("", model(2))
	var full bytes.Buffer
	Encode(&full, next, map[string]string{"step": "2"})
	defer func() { testWriter = nil }()
	for _, cut := range []int{0, 3, 40, full.Len() / 2, full.Len() - 1} {
		testWriter = func(w io.Writer) io.Writer { return &failAfter{w: w, n: cut} }
		err := WriteFile(path, next, map[string]string{"step": "2"})
		if err == nil || !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "checkpoint: writing "+path) {
			t.Fatalf("cut at %d: error %v", cut, err)
		}
		if cut == full.Len()/2 {
			t.Logf("catalogue | interrupted write | writer fails part-way | %s", err)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Fatalf("cut at %d: the previous checkpoint changed", cut)
		}
		ts, meta, err := ReadFile(path)
		if err != nil || meta["step"] != "1" {
			t.Fatalf("cut at %d: previous checkpoint unreadable: %v %v", cut, meta, err)
		}
		if err := LoadInto(ts, "", model(3), path); err != nil {
			t.Fatalf("cut at %d: previous checkpoint does not load: %v", cut, err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("cut at %d: %d files left in the folder", cut, len(entries))
		}
	}
	testWriter = nil
	if err := WriteFile(path, next, map[string]string{"step": "2"}); err != nil {
		t.Fatal(err)
	}
	if _, meta, err := ReadFile(path); err != nil || meta["step"] != "2" {
		t.Fatalf("write after the failures: %v %v", meta, err)
	}
}

// Writing where no file can be created: the folder is a regular file, or
// the target is a folder. (Permission bits cannot be tested here: the
// tests may run as root.)
func TestBadInputUnwritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	os.WriteFile(file, []byte("x"), 0o644)
	ts := ModuleTensors("", model(1))
	err := WriteFile(filepath.Join(file, "m.safetensors"), ts, nil)
	if err == nil || !strings.Contains(err.Error(), "checkpoint: cannot write in "+file) {
		t.Fatalf("folder is a file: %v", err)
	}
	t.Logf("catalogue | unwritable path | parent is a file | %s", err)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "keep"), nil, 0o644)
	err = WriteFile(sub, ts, nil)
	if err == nil || !strings.Contains(err.Error(), "checkpoint: renaming into "+sub) {
		t.Fatalf("target is a folder: %v", err)
	}
	t.Logf("catalogue | unwritable path | target is a non-empty folder | %s", err)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("failed writes left %d entries", len(entries))
	}
	if err := Encode(io.Discard, []Named{{"x", nil}}, nil); err == nil || !strings.Contains(err.Error(), `tensor "x" is nil`) {
		t.Fatalf("nil tensor: %v", err)
	}
	if _, _, err := ReadFile(filepath.Join(dir, "absent.safetensors")); err == nil || !strings.Contains(err.Error(), "absent.safetensors: no such file or directory") {
		t.Fatalf("missing file: %v", err)
	} else {
		t.Logf("catalogue | missing file | checkpoint | %s", err)
	}
}

// Regression (found by FuzzDecode): a zero-size tensor shares its start
// offset with the next tensor, and Decode ordered tensors by start offset
// alone with an unstable sort over map order, so a file written by Encode
// was accepted or refused at random. Damaged entries (a misspelt or
// differently cased key, a missing field, extra offsets) were read as
// defaults by encoding/json; they are now refused.
func TestDecodeZeroSizeAndStrictEntries(t *testing.T) {
	ts := []Named{
		{"a", tensor.FromFloat32([]float32{1, 2}, 2)},
		{"b", tensor.New(tensor.Float32, 0, 3)},
		{"c", tensor.FromFloat32([]float32{3}, 1)},
		{"d", tensor.New(tensor.Float64, 2, 0)},
		{"e", tensor.FromFloat32([]float32{4, 5}, 2)},
	}
	var buf bytes.Buffer
	if err := Encode(&buf, ts, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ { // map order changes from call to call
		got, _, err := Decode(bytes.NewReader(buf.Bytes()), "z.safetensors")
		if err != nil {
			t.Fatalf("decode %d: %v", i, err)
		}
		if len(got) != 5 || got["b"].Len() != 0 || got["e"].Flat(1) != 5 {
			t.Fatalf("decode %d: %v", i, got)
		}
	}
	for _, c := range []struct{ name, header, want string }{
		{"cased key", `{"w":{"dtype":"F32","Shape":[1],"data_offsets":[0,4]}}`, `tensor "w": bad header entry: missing "shape"`},
		{"unknown key", `{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"stride":[1]}}`, `bad header entry: unknown key "stride"`},
		{"missing offsets", `{"w":{"dtype":"F32","shape":[]}}`, `bad header entry: missing "data_offsets"`},
		{"three offsets", `{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, `bad header entry: data_offsets: 3 numbers, want [begin, end]`},
		{"null shape", `{"w":{"dtype":"F32","shape":null,"data_offsets":[0,4]}}`, `bad header entry: shape: null, want a list of dimensions`},
	} {
		_, _, err := Decode(bytes.NewReader(rawHeader(c.header, make([]byte, 4))), "s.safetensors")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
			continue
		}
		t.Logf("catalogue | corrupt checkpoint | header entry: %s | %s", c.name, err)
	}
}
