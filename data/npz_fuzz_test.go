package data

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
)

// npzBytes builds an .npz archive in memory; deflate chooses compression.
func npzBytes(tb testing.TB, deflate bool, members ...[2]string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		method := zip.Store
		if deflate {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m[0], Method: method})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(m[1])); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzNPZ feeds arbitrary bytes to the .npz reader (zip container plus
// .npy members) and, when they decode, to the Omniglot array conversion.
func FuzzNPZ(f *testing.F) {
	img := buildNPY(1, hdr("|b1", "(2, 2, 3, 3)"), bytes.Repeat([]byte{1, 0, 1}, 12))
	lab := buildNPY(1, hdr("<i8", "(2, 2)"), le(int64(0), int64(0), int64(1), int64(1)))
	f.Add(npzBytes(f, false, [2]string{"images.npy", string(img)}, [2]string{"labels.npy", string(lab)}))
	f.Add(npzBytes(f, true, [2]string{"images.npy", string(img)}))
	f.Add(npzBytes(f, true, [2]string{"x.npy", string(buildNPY(2, hdr("<f4", "(3,)"), le(float32(1), float32(2), float32(3))))}))
	f.Add(npzBytes(f, false, [2]string{"a.npy", string(buildNPY(1, hdr("<f8", "()"), le(2.5)))}, [2]string{"dir/", ""}))
	f.Add(npzBytes(f, false, [2]string{"notes.txt", "hello"}))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, b []byte) {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		arrs, err := readNPZ(zr, int64(len(b)), "fuzz.npz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "npz fuzz.npz") {
				t.Fatalf("error %q does not name the archive", err)
			}
			return
		}
		for k, a := range arrs {
			n := 1
			for _, d := range a.Shape {
				n *= d
			}
			if a.Len() != n {
				t.Fatalf("member %q: shape %v but %d elements", k, a.Shape, a.Len())
			}
			// Every element came out of the archive: at most ~1032 bytes
			// per compressed byte.
			if int64(a.Len())*int64(npyItemSize(a.DType)) > 1100*int64(len(b))+1100 {
				t.Fatalf("member %q: %d elements from a %d-byte archive", k, a.Len(), len(b))
			}
		}
		ds, err := omniglotFromArrays(arrs["images"], arrs["labels"], 4, nil)
		if err == nil {
			if err := ds.Validate(); err != nil {
				t.Fatalf("omniglotFromArrays returned an invalid dataset: %v", err)
			}
		}
	})
}
