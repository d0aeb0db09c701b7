package data

import (
	"bytes"
	"testing"
)

// FuzzIDX feeds arbitrary bytes (raw or gzip-compressed) to the MNIST IDX
// decoder.
func FuzzIDX(f *testing.F) {
	f.Add(idxBytes(0x08, []int{2, 2, 2}, []byte{0, 1, 2, 3, 4, 5, 6, 7}))
	f.Add(idxBytes(0x08, []int{3}, []byte{7, 8, 9}))
	f.Add(idxGzip(f, idxBytes(0x08, []int{2, 3}, []byte{1, 2, 3, 4, 5, 6})))
	f.Add(idxBytes(0x0D, []int{1}, []byte{0, 0, 0, 0}))
	f.Add(idxBytes(0x08, []int{1 << 30, 1 << 30}, nil))
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		shape, data, err := decodeIDX(bytes.NewReader(b))
		if err != nil {
			return
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		if len(shape) == 0 || len(data) != n {
			t.Fatalf("shape %v with %d data bytes", shape, len(data))
		}
	})
}
