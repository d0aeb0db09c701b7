package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// idxBytes encodes an IDX file with element type typ and the given shape;
// body is appended as is, so it may be short or long on purpose.
func idxBytes(typ byte, shape []int, body []byte) []byte {
	b := []byte{0, 0, typ, byte(len(shape))}
	for _, d := range shape {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, body...)
}

func idxGzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func idxWriteFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadIDX(t *testing.T) {
	body := []byte{1, 2, 3, 4, 5, 6}
	good := idxBytes(0x08, []int{2, 3}, body)
	gz := idxGzip(t, good)
	tests := []struct {
		name  string
		file  []byte
		shape []int
		data  []byte
		want  string // error substring; "" = success
	}{
		{"plain", good, []int{2, 3}, body, ""},
		{"gzipped", gz, []int{2, 3}, body, ""},
		{"1-D", idxBytes(0x08, []int{4}, []byte{9, 8, 7, 6}), []int{4}, []byte{9, 8, 7, 6}, ""},
		{"zero size", idxBytes(0x08, []int{0, 28, 28}, nil), []int{0, 28, 28}, []byte{}, ""},
		{"empty file", nil, nil, nil, "truncated header: 0 of 4 magic bytes"},
		{"short magic", []byte{0, 0}, nil, nil, "truncated header: 2 of 4"},
		{"bad magic", []byte{1, 2, 8, 1, 0, 0, 0, 1, 0}, nil, nil, "not an IDX file"},
		{"float32 type", idxBytes(0x0D, []int{1}, []byte{0, 0, 0, 0}), nil, nil, "element type 0x0d (float32) is not supported"},
		{"unknown type", idxBytes(0x42, []int{1}, []byte{0}), nil, nil, "element type 0x42 (unknown)"},
		{"no dimensions", idxBytes(0x08, nil, []byte{1}), nil, nil, "0 dimensions"},
		{"truncated dims", good[:9], nil, nil, "truncated header: 5 of 8 dimension bytes"},
		{"truncated body", good[:len(good)-2], nil, nil, "truncated: 4 of 6 data bytes for shape [2 3]"},
		{"trailing bytes", append(append([]byte{}, good...), 0), nil, nil, "unexpected bytes after the 6 data bytes"},
		{"huge shape", idxBytes(0x08, []int{1 << 30, 1 << 30, 1 << 30}, nil), nil, nil, "too large"},
		{"truncated gzip", gz[:len(gz)-12], nil, nil, "data bytes"},
		{"gzip trailer cut", gz[:len(gz)-4], nil, nil, "compressed stream cut short after the 6 data bytes"},
		{"gzip bad header", []byte{0x1f, 0x8b, 0, 0}, nil, nil, "bad gzip header"},
		{"gzip corrupt", append(append([]byte{}, gz[:10]...), bytes.Repeat([]byte{0xff}, 20)...), nil, nil, "flate"},
		{"gzipped truncated body", idxGzip(t, good[:len(good)-1]), nil, nil, "truncated: 5 of 6"},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := idxWriteFile(t, dir, "f"+strconv.Itoa(i)+".idx", tc.file)
			shape, data, err := ReadIDX(p)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
					t.Fatalf("error %v, want one naming %s and containing %q", err, p, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(shape) != len(tc.shape) {
				t.Fatalf("shape %v, want %v", shape, tc.shape)
			}
			n := 1
			for k := range shape {
				if shape[k] != tc.shape[k] {
					t.Fatalf("shape %v, want %v", shape, tc.shape)
				}
				n *= shape[k]
			}
			if len(data) != n || !bytes.Equal(data, tc.data) {
				t.Fatalf("data %v, want %v", data, tc.data)
			}
		})
	}
	if _, _, err := ReadIDX(filepath.Join(dir, "absent.gz")); err == nil || !strings.Contains(err.Error(), "absent.gz") {
		t.Fatalf("error %v, want one naming absent.gz", err)
	}
}

func TestLoadMNISTSynthetic(t *testing.T) {
	img := func(n, h, w int) []byte {
		b := make([]byte, n*h*w)
		for i := range b {
			b[i] = byte(i * 37)
		}
		return idxBytes(0x08, []int{n, h, w}, b)
	}
	lab := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i % 10)
		}
		return idxBytes(0x08, []int{n}, b)
	}
	tests := []struct {
		name  string
		files map[string][]byte
		split string
		n     int
		want  string
	}{
		{"gzipped train", map[string][]byte{"train-images-idx3-ubyte.gz": idxGzip(t, img(3, 28, 28)), "train-labels-idx1-ubyte.gz": idxGzip(t, lab(3))}, "train", 3, ""},
		{"unpacked t10k", map[string][]byte{"t10k-images-idx3-ubyte": img(2, 28, 28), "t10k-labels-idx1-ubyte": lab(2)}, "t10k", 2, ""},
		{"test synonym, dotted names", map[string][]byte{"t10k-images.idx3-ubyte": img(2, 28, 28), "t10k-labels.idx1-ubyte": lab(2)}, "test", 2, ""},
		{"bad split", nil, "valid", 0, `split "valid"`},
		{"no images", map[string][]byte{"train-labels-idx1-ubyte.gz": idxGzip(t, lab(3))}, "train", 0, "no MNIST images file (tried train-images-idx3-ubyte.gz"},
		{"no labels", map[string][]byte{"train-images-idx3-ubyte.gz": idxGzip(t, img(3, 28, 28))}, "train", 0, "no MNIST labels file"},
		{"count mismatch", map[string][]byte{"train-images-idx3-ubyte": img(3, 28, 28), "train-labels-idx1-ubyte": lab(4)}, "train", 0, "has 3 images but"},
		{"images 2-D", map[string][]byte{"train-images-idx3-ubyte": idxBytes(8, []int{3, 4}, make([]byte, 12)), "train-labels-idx1-ubyte": lab(3)}, "train", 0, "want 3-D"},
		{"labels 2-D", map[string][]byte{"train-images-idx3-ubyte": img(3, 28, 28), "train-labels-idx1-ubyte": idxBytes(8, []int{3, 1}, make([]byte, 3))}, "train", 0, "want 1-D"},
		{"truncated images", map[string][]byte{"train-images-idx3-ubyte": img(3, 28, 28)[:100], "train-labels-idx1-ubyte": lab(3)}, "train", 0, "truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range tc.files {
				idxWriteFile(t, dir, name, b)
			}
			images, labels, err := LoadMNIST(dir, tc.split)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := images.Shape(); len(s) != 4 || s[0] != tc.n || s[1] != 1 || s[2] != 28 || s[3] != 28 {
				t.Fatalf("images shape %v", s)
			}
			px := images.F32()
			for i := range px {
				if want := float32(byte(i*37)) / 255; px[i] != want {
					t.Fatalf("pixel %d = %v, want %v", i, px[i], want)
				}
			}
			for i, l := range labels {
				if l != i%10 {
					t.Fatalf("labels %v", labels)
				}
			}
		})
	}
}

func TestLoadMNISTReal(t *testing.T) {
	tests := []struct {
		dir   string
		first []int // first labels of the t10k split
	}{
		{"mnist", []int{7, 2, 1, 0, 4}},
		{"fashion-mnist", []int{9, 2, 1, 1, 6}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Dir(sharedDataPath(t, tc.dir+"/t10k-images-idx3-ubyte.gz"))
			images, labels, err := LoadMNIST(dir, "t10k")
			if err != nil {
				t.Fatal(err)
			}
			if s := images.Shape(); len(s) != 4 || s[0] != 10000 || s[1] != 1 || s[2] != 28 || s[3] != 28 || len(labels) != 10000 {
				t.Fatalf("images %v, %d labels", s, len(labels))
			}
			var counts [10]int
			for _, l := range labels {
				if l < 0 || l > 9 {
					t.Fatalf("label %d", l)
				}
				counts[l]++
			}
			for c, n := range counts {
				if n < 800 {
					t.Errorf("class %d has %d test images", c, n)
				}
			}
			for i, w := range tc.first {
				if labels[i] != w {
					t.Fatalf("first labels %v, want %v", labels[:len(tc.first)], tc.first)
				}
			}
			lo, hi := float32(1), float32(0)
			for _, v := range images.F32() {
				lo, hi = min(lo, v), max(hi, v)
			}
			if lo != 0 || hi != 1 {
				t.Fatalf("pixel range [%v, %v], want [0, 1]", lo, hi)
			}
			// The train labels alone (the images are larger: 47 MB).
			shape, raw, err := ReadIDX(filepath.Join(dir, "train-labels-idx1-ubyte.gz"))
			if err != nil {
				t.Fatal(err)
			}
			if len(shape) != 1 || shape[0] != 60000 || len(raw) != 60000 {
				t.Fatalf("train labels shape %v", shape)
			}
		})
	}
}
