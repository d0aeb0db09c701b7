package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// Named is a tensor with its name in the file.
type Named struct {
	Name   string
	Tensor *tensor.Tensor
}

type entry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// maxHeader bounds the JSON header so a corrupt length cannot make us
// allocate gigabytes.
const maxHeader = 100 << 20

// Encode writes tensors and string metadata in safetensors format.
func Encode(w io.Writer, tensors []Named, metadata map[string]string) error {
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	seen := map[string]bool{}
	for _, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" || seen[t.Name] {
			return fmt.Errorf("checkpoint: invalid or duplicate tensor name %q", t.Name)
		}
		if t.Tensor == nil {
			return fmt.Errorf("checkpoint: tensor %q is nil", t.Name)
		}
		seen[t.Name] = true
		size := int64(t.Tensor.Len()) * elemSize(t.Tensor.DType())
		header[t.Name] = entry{DType: dtypeName(t.Tensor.DType()), Shape: append([]int{}, t.Tensor.Shape()...), Offsets: [2]int64{off, off + size}}
		off += size
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("checkpoint: encoding header: %w", err)
	}
	// pad the header with spaces to a multiple of 8 bytes (alignment)
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	var lb [8]byte
	binary.LittleEndian.PutUint64(lb[:], uint64(len(hb)))
	if _, err := w.Write(lb[:]); err != nil {
		return err
	}
	if _, err := w.Write(hb); err != nil {
		return err
	}
	for _, t := range tensors {
		if _, err := w.Write(rawBytes(t.Tensor)); err != nil {
			return err
		}
	}
	return nil
}

func elemSize(dt tensor.DType) int64 {
	if dt == tensor.Float64 {
		return 8
	}
	return 4
}

func dtypeName(dt tensor.DType) string {
	if dt == tensor.Float64 {
		return "F64"
	}
	return "F32"
}

func rawBytes(t *tensor.Tensor) []byte {
	if t.DType() == tensor.Float64 {
		b := make([]byte, 8*t.Len())
		for i, v := range t.F64() {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
		return b
	}
	b := make([]byte, 4*t.Len())
	for i, v := range t.F32() {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// decodeEntry decodes one tensor's header entry strictly: exactly the keys
// "dtype", "shape" and "data_offsets" (encoding/json alone would match keys
// case-insensitively, ignore unknown ones and default missing ones to
// zero, turning a damaged entry into a plausible scalar).
func decodeEntry(v json.RawMessage) (entry, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(v, &fields); err != nil {
		return entry{}, err
	}
	var e entry
	for _, k := range []string{"dtype", "shape", "data_offsets"} {
		if _, ok := fields[k]; !ok {
			return entry{}, fmt.Errorf("missing %q", k)
		}
	}
	for k, f := range fields {
		var err error
		switch k {
		case "dtype":
			err = json.Unmarshal(f, &e.DType)
		case "shape":
			err = json.Unmarshal(f, &e.Shape)
			if err == nil && e.Shape == nil {
				err = errors.New("null, want a list of dimensions")
			}
		case "data_offsets":
			var o []int64
			if err = json.Unmarshal(f, &o); err == nil && len(o) != 2 {
				err = fmt.Errorf("%d numbers, want [begin, end]", len(o))
			}
			if err == nil {
				e.Offsets = [2]int64{o[0], o[1]}
			}
		default:
			return entry{}, fmt.Errorf("unknown key %q", k)
		}
		if err != nil {
			return entry{}, fmt.Errorf("%s: %w", k, err)
		}
	}
	return e, nil
}

// Decode reads a safetensors stream of F32/F64 tensors. name is used in
// error messages.
func Decode(r io.Reader, name string) (map[string]*tensor.Tensor, map[string]string, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("checkpoint %s: %s", name, fmt.Sprintf(format, args...))
	}
	var lb [8]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, nil, bad("too short for a safetensors header (%v)", err)
	}
	hl := binary.LittleEndian.Uint64(lb[:])
	if hl < 2 || hl > maxHeader {
		return nil, nil, bad("header length %d is not plausible (corrupt or not a safetensors file)", hl)
	}
	// Read the header as it arrives rather than allocating the announced
	// length up front: an 8-byte file may announce 100 MB.
	hb, err := io.ReadAll(io.LimitReader(r, int64(hl)))
	if err != nil {
		return nil, nil, bad("reading header: %v", err)
	}
	if len(hb) > 0 && hb[0] != '{' {
		return nil, nil, bad("not a safetensors file (the header after the 8-byte length starts with %q, not '{')", hb[:min(len(hb), 8)])
	}
	if uint64(len(hb)) != hl {
		return nil, nil, bad("truncated header: %d of %d bytes", len(hb), hl)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, nil, bad("header is not valid JSON: %v", err)
	}
	var meta map[string]string
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, nil, bad("__metadata__ is not a string map: %v", err)
		}
		delete(raw, "__metadata__")
	}
	type item struct {
		name string
		e    entry
	}
	items := make([]item, 0, len(raw))
	for k, v := range raw {
		e, err := decodeEntry(v)
		if err != nil {
			return nil, nil, bad("tensor %q: bad header entry: %v", k, err)
		}
		items = append(items, item{k, e})
	}
	// Order by position in the data section. A zero-size tensor may start
	// where the next one starts: (start, end, name) makes the order, and so
	// the result, independent of map iteration.
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i].e.Offsets, items[j].e.Offsets
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		if a[1] != b[1] {
			return a[1] < b[1]
		}
		return items[i].name < items[j].name
	})
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, bad("reading data: %v", err)
	}
	out := make(map[string]*tensor.Tensor, len(items))
	var end int64
	for _, it := range items {
		e := it.e
		var es int64
		var dt tensor.DType
		switch e.DType {
		case "F32":
			es, dt = 4, tensor.Float32
		case "F64":
			es, dt = 8, tensor.Float64
		default:
			return nil, nil, bad("tensor %q has dtype %q; only F32 and F64 are supported", it.name, e.DType)
		}
		n := int64(1)
		for _, d := range e.Shape {
			if d < 0 || d > math.MaxInt32 {
				return nil, nil, bad("tensor %q has invalid shape %v", it.name, e.Shape)
			}
			n *= int64(d)
			if n > int64(len(body)) {
				return nil, nil, bad("tensor %q shape %v needs more data than the file holds", it.name, e.Shape)
			}
		}
		if e.Offsets[0] != end || e.Offsets[1]-e.Offsets[0] != n*es {
			return nil, nil, bad("tensor %q: data offsets %v do not match shape %v and dtype %s (expected start %d)", it.name, e.Offsets, e.Shape, e.DType, end)
		}
		if e.Offsets[1] > int64(len(body)) {
			return nil, nil, bad("truncated: tensor %q needs bytes up to %d, file has %d", it.name, e.Offsets[1], len(body))
		}
		b := body[e.Offsets[0]:e.Offsets[1]]
		t := tensor.New(dt, e.Shape...)
		if dt == tensor.Float64 {
			f := t.F64()
			for i := range f {
				f[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			}
		} else {
			f := t.F32()
			for i := range f {
				f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
		out[it.name] = t
		end = e.Offsets[1]
	}
	if end != int64(len(body)) {
		return nil, nil, bad("%d trailing bytes after the last tensor", int64(len(body))-end)
	}
	return out, meta, nil
}

// testWriter, when set by a test, wraps the temporary file WriteFile
// encodes into (to inject a failure part-way through a write).
var testWriter func(io.Writer) io.Writer

// WriteFile writes a safetensors file atomically: temp file in the same
// folder, fsync, rename, fsync of the folder.
func WriteFile(path string, tensors []Named, metadata map[string]string) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint: cannot write in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	var w io.Writer = f
	if testWriter != nil {
		w = testWriter(f)
	}
	if err = Encode(w, tensors, metadata); err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("checkpoint: syncing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("checkpoint: closing %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("checkpoint: renaming into %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// ReadFile reads a safetensors file.
func ReadFile(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, nil, fmt.Errorf("checkpoint %s: is a directory, not a safetensors file", path)
	}
	return Decode(f, path)
}

// ModuleTensors lists a module's parameters and buffers under their names
// (with prefix, if not empty).
func ModuleTensors(prefix string, m nn.Module) []Named {
	var out []Named
	p := ""
	if prefix != "" {
		p = prefix + "."
	}
	for _, q := range m.Params() {
		out = append(out, Named{p + q.Name, q.V.Value})
	}
	for _, b := range nn.Buffers(m) {
		out = append(out, Named{p + b.Name, b.V.Value})
	}
	return out
}

// LoadInto copies tensors into a module's parameters and buffers by name.
// Every parameter and buffer must be present with the same shape; values
// are converted to the module's dtype and must be finite (a NaN or Inf, or
// a float64 value beyond float32 range, is an error naming the tensor and
// element). On error the module is untouched.
func LoadInto(ts map[string]*tensor.Tensor, prefix string, m nn.Module, source string) error {
	p := ""
	if prefix != "" {
		p = prefix + "."
	}
	type target struct {
		name string
		dst  **tensor.Tensor
	}
	var targets []target
	for _, q := range m.Params() {
		targets = append(targets, target{q.Name, &q.V.Value})
	}
	for _, b := range nn.Buffers(m) {
		targets = append(targets, target{b.Name, &b.V.Value})
	}
	// validate everything first so a mismatch leaves the module untouched
	conv := make([]*tensor.Tensor, len(targets))
	for i, tg := range targets {
		t, ok := ts[p+tg.name]
		if !ok {
			return fmt.Errorf("checkpoint %s: no tensor %q (checkpoint from another model?)", source, p+tg.name)
		}
		if !tensor.SameShape(t.Shape(), (*tg.dst).Shape()) {
			return fmt.Errorf("checkpoint %s: tensor %q has shape %v, model expects %v", source, p+tg.name, t.Shape(), (*tg.dst).Shape())
		}
		conv[i] = t.AsType((*tg.dst).DType())
		if conv[i] == t {
			// the module gets its own storage: an optimizer updating it in
			// place must not change the caller's map
			conv[i] = t.Clone()
		}
		if j := firstNonFinite(conv[i]); j >= 0 {
			how := ""
			if firstNonFinite(t) < 0 {
				how = fmt.Sprintf(" after conversion to %v (value %v)", (*tg.dst).DType(), t.Flat(j))
			}
			return fmt.Errorf("checkpoint %s: tensor %q element %d is %v%s; refusing non-finite weights", source, p+tg.name, j, conv[i].Flat(j), how)
		}
	}
	for i, tg := range targets {
		*tg.dst = conv[i]
	}
	return nil
}

// firstNonFinite returns the index of the first NaN or infinite element of
// t, or -1.
func firstNonFinite(t *tensor.Tensor) int {
	for i := 0; i < t.Len(); i++ {
		if v := t.Flat(i); math.IsNaN(v) || math.IsInf(v, 0) {
			return i
		}
	}
	return -1
}
