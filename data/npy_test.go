package data

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// buildNPY assembles an .npy file of the given major version with the
// header dict text (padded to a multiple of 64 bytes with a final newline,
// as NumPy does) and raw data.
func buildNPY(major byte, header string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString(npyMagic)
	b.WriteByte(major)
	b.WriteByte(0)
	pre := 10
	if major >= 2 {
		pre = 12
	}
	total := pre + len(header) + 1
	pad := (64 - total%64) % 64
	h := header + strings.Repeat(" ", pad) + "\n"
	if major >= 2 {
		binary.Write(&b, binary.LittleEndian, uint32(len(h)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	}
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

func hdr(descr, shape string) string {
	return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }"
}

func le(vals ...any) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

func TestReadNPY(t *testing.T) {
	tests := []struct {
		name  string
		file  []byte
		shape []int
		dtype string
		vals  []float64
	}{
		{"bool v1", buildNPY(1, hdr("|b1", "(2, 2)"), []byte{0, 1, 255, 0}), []int{2, 2}, "|b1", []float64{0, 1, 1, 0}},
		{"uint8", buildNPY(1, hdr("|u1", "(3,)"), []byte{0, 7, 255}), []int{3}, "|u1", []float64{0, 7, 255}},
		{"int32", buildNPY(1, hdr("<i4", "(2,)"), le(int32(-5), int32(1<<30))), []int{2}, "<i4", []float64{-5, 1 << 30}},
		{"int64 v2", buildNPY(2, hdr("<i8", "(1, 2)"), le(int64(-1), int64(1)<<40)), []int{1, 2}, "<i8", []float64{-1, 1 << 40}},
		{"float32 v3", buildNPY(3, hdr("<f4", "(2, 1)"), le(float32(1.5), float32(-2.25))), []int{2, 1}, "<f4", []float64{1.5, -2.25}},
		{"float64", buildNPY(1, hdr("<f8", "(3,)"), le(math.Pi, math.Inf(-1), 0.0)), []int{3}, "<f8", []float64{math.Pi, math.Inf(-1), 0}},
		{"scalar", buildNPY(1, hdr("<f8", "()"), le(2.5)), []int{}, "<f8", []float64{2.5}},
		{"empty", buildNPY(1, hdr("<f4", "(0, 3)"), nil), []int{0, 3}, "<f4", []float64{}},
		{"key order and double quotes", buildNPY(1, `{"shape": (2,), "fortran_order": False, "descr": "|u1"}`, []byte{1, 2}), []int{2}, "|u1", []float64{1, 2}},
		{"python2 long dims", buildNPY(1, hdr("|u1", "(2L,)"), []byte{1, 2}), []int{2}, "|u1", []float64{1, 2}},
		{"long data chunks", buildNPY(1, hdr("<i4", "(20000,)"), make([]byte, 80000)), []int{20000}, "<i4", make([]float64, 20000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ReadNPY(bytes.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a.Shape, tc.shape) || a.DType != tc.dtype {
				t.Fatalf("shape %v dtype %s, want %v %s", a.Shape, a.DType, tc.shape, tc.dtype)
			}
			if got := a.Float64s(); !reflect.DeepEqual(got, tc.vals) {
				t.Fatalf("values %v, want %v", got, tc.vals)
			}
		})
	}
	// Bool keeps the raw stored bytes.
	a, _ := ReadNPY(bytes.NewReader(buildNPY(1, hdr("|b1", "(2,)"), []byte{0, 255})))
	if a.U8[1] != 255 {
		t.Fatalf("bool raw byte %d, want 255", a.U8[1])
	}
}

func TestReadNPYErrors(t *testing.T) {
	good := buildNPY(1, hdr("<f4", "(2,)"), le(float32(1), float32(2)))
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "truncated npy preamble"},
		{"bad magic", []byte("\x93NUMPX\x01\x00\x10\x00"), "bad magic"},
		{"version 4", append([]byte(npyMagic+"\x04\x00"), good[8:]...), "version 4.0"},
		{"minor version", append([]byte(npyMagic+"\x01\x01"), good[8:]...), "version 1.1"},
		{"no header length", []byte(npyMagic + "\x01\x00"), "truncated npy header length"},
		{"truncated header", good[:30], "truncated npy header"},
		{"truncated data", good[:len(good)-1], "truncated npy data"},
		{"extra data", append(append([]byte(nil), good...), 0), "size mismatch"},
		{"fortran order", buildNPY(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", le(float32(1), float32(2))), "fortran_order"},
		{"complex dtype", buildNPY(1, hdr("<c8", "(1,)"), make([]byte, 8)), `unsupported dtype "<c8"`},
		{"big endian", buildNPY(1, hdr(">f4", "(1,)"), make([]byte, 4)), "big-endian"},
		{"int16", buildNPY(1, hdr("<i2", "(1,)"), make([]byte, 2)), "unsupported dtype"},
		{"structured", buildNPY(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", make([]byte, 4)), "structured"},
		{"missing shape", buildNPY(1, "{'descr': '<f4', 'fortran_order': False, }", nil), `missing key "shape"`},
		{"unknown key", buildNPY(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", make([]byte, 4)), `unexpected key "x"`},
		{"negative dim", buildNPY(1, hdr("<f4", "(-1,)"), nil), "non-negative integer"},
		{"not a dict", buildNPY(1, "['descr']", nil), "not a dict"},
		{"unterminated", buildNPY(1, "{'descr: '<f4'", nil), "npy header"},
		{"huge shape", buildNPY(1, hdr("<f8", "(2147483647, 2147483647, 2147483647)"), nil), "size mismatch"},
		{"huge dim", buildNPY(1, hdr("<f8", "(99999999999999999999,)"), nil), "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadNPY(bytes.NewReader(tc.file))
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// writeZip writes a zip with the given members (name -> content, in the
// given order) and returns its path.
func writeZip(t testing.TB, dir, name string, members [][2]string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, m := range members {
		if strings.HasSuffix(m[0], "/") {
			if _, err := zw.Create(m[0]); err != nil {
				t.Fatal(err)
			}
			continue
		}
		w, err := zw.Create(m[0])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(m[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func TestReadNPZ(t *testing.T) {
	dir := t.TempDir()
	x := string(buildNPY(1, hdr("<f4", "(2,)"), le(float32(1), float32(2))))
	y := string(buildNPY(1, hdr("<i8", "(1,)"), le(int64(7))))
	p := writeZip(t, dir, "ok.npz", [][2]string{{"x.npy", x}, {"labels.npy", y}})
	m, err := ReadNPZ(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m["x"].F32[1] != 2 || m["labels"].I64[0] != 7 {
		t.Fatalf("got %+v", m)
	}

	notZip := filepath.Join(dir, "plain.npz")
	os.WriteFile(notZip, []byte(x), 0o644)
	tests := []struct {
		name, path, want string
	}{
		{"missing file", filepath.Join(dir, "nope.npz"), "nope.npz"},
		{"not a zip", notZip, "plain.npz"},
		{"empty zip", writeZip(t, dir, "empty.npz", nil), "empty archive"},
		{"only a folder", writeZip(t, dir, "dir.npz", [][2]string{{"d/", ""}}), "no .npy members"},
		{"non-npy member", writeZip(t, dir, "txt.npz", [][2]string{{"x.npy", x}, {"notes.txt", "hi"}}), `member "notes.txt" is not a .npy file`},
		{"corrupt member", writeZip(t, dir, "bad.npz", [][2]string{{"x.npy", x[:len(x)-3]}}), `member "x.npy": truncated npy data`},
		{"duplicate", writeZip(t, dir, "dup.npz", [][2]string{{"x.npy", x}, {"x.npy", x}}), "duplicate member"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadNPZ(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadNPY(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.npy")
	os.WriteFile(p, buildNPY(1, hdr("|u1", "(2,)"), []byte{3, 4}), 0o644)
	a, err := LoadNPY(p)
	if err != nil || a.U8[1] != 4 {
		t.Fatalf("LoadNPY: %v %v", a, err)
	}
	os.WriteFile(p, []byte("junk"), 0o644)
	if _, err := LoadNPY(p); err == nil || !strings.Contains(err.Error(), "a.npy") {
		t.Fatalf("error %v does not name the file", err)
	}
}

func FuzzReadNPY(f *testing.F) {
	f.Add(buildNPY(1, hdr("<f4", "(2,)"), le(float32(1), float32(2))))
	f.Add(buildNPY(2, hdr("|b1", "(2, 2)"), []byte{0, 1, 1, 0}))
	f.Add(buildNPY(3, hdr("<i8", "()"), le(int64(3))))
	f.Add(buildNPY(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }", le(1.0)))
	f.Add([]byte(npyMagic + "\x01\x00\xff\xff{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadNPY(bytes.NewReader(b))
		if err != nil {
			return
		}
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if a.Len() != n {
			t.Fatalf("shape %v but %d elements", a.Shape, a.Len())
		}
		_ = a.Float64s()
	})
}
