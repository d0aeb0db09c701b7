package checkpoint

import (
	"bytes"
	"encoding/binary"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

// rawHeader builds a safetensors stream from a header text and a body.
func rawHeader(h string, body []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(b, h...), body...)
}

// FuzzDecode feeds arbitrary bytes to the safetensors reader. Whatever
// decodes must survive an Encode/Decode round trip bit for bit.
func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	Encode(&buf, ModuleTensors("", model(1)), map[string]string{"a": "b"})
	f.Add(buf.Bytes())
	buf.Reset()
	Encode(&buf, []Named{{"d", tensor.FromFloat64([]float64{1, math.Inf(1)}, 2)}, {"s", tensor.New(tensor.Float32)}, {"z", tensor.New(tensor.Float32, 0, 3)}}, nil)
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Add(rawHeader(`{"x":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(rawHeader(`{"x":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}`, make([]byte, 2)))
	f.Add(rawHeader(`{"__metadata__":{"k":1}}`, nil))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0x40, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, meta, err := Decode(bytes.NewReader(b), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "checkpoint fuzz: ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		total := 0
		names := make([]string, 0, len(ts))
		for n, x := range ts {
			total += x.Len()
			names = append(names, n)
		}
		if 4*total > len(b) {
			t.Fatalf("%d elements from %d bytes", total, len(b))
		}
		sort.Strings(names)
		var named []Named
		for _, n := range names {
			named = append(named, Named{n, ts[n]})
		}
		var out bytes.Buffer
		if err := Encode(&out, named, meta); err != nil {
			if strings.Contains(err.Error(), "invalid or duplicate tensor name") {
				return // Decode accepts names Encode refuses ("")
			}
			t.Fatalf("re-encoding a decoded file: %v", err)
		}
		ts2, meta2, err := Decode(bytes.NewReader(out.Bytes()), "again")
		if err != nil {
			t.Fatalf("decoding a re-encoded file: %v", err)
		}
		if len(ts2) != len(ts) || len(meta2) != len(meta) {
			t.Fatalf("round trip changed counts: %d/%d tensors, %d/%d metadata", len(ts2), len(ts), len(meta2), len(meta))
		}
		for n, x := range ts {
			y := ts2[n]
			if y == nil || x.DType() != y.DType() || !tensor.SameShape(x.Shape(), y.Shape()) {
				t.Fatalf("tensor %q changed in the round trip", n)
			}
			for i := 0; i < x.Len(); i++ {
				a, c := x.Flat(i), y.Flat(i)
				if math.Float64bits(a) != math.Float64bits(c) && !(a != a && c != c) {
					t.Fatalf("tensor %q element %d: %v then %v", n, i, a, c)
				}
			}
		}
	})
}
