package data

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// badCase is one row of the bad-input catalogue (RELIABILITY.md): the
// class of bad input, a call that must fail, and a fragment the error must
// contain (usually the file, field or value).
type badCase struct {
	class, name string
	run         func(t *testing.T) error
	want        []string
}

// runBadCases runs the rows: every call must return an error (no panic, no
// silent success) containing every wanted fragment. The messages are
// logged as "catalogue | class | name | message" for RELIABILITY.md.
func runBadCases(t *testing.T, cases []badCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.class+"/"+c.name, func(t *testing.T) {
			err := c.run(t)
			if err == nil {
				t.Fatalf("accepted")
			}
			msg := err.Error()
			t.Logf("catalogue | %s | %s | %s", c.class, c.name, msg)
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans several lines: %q", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// rawZip writes a zip whose one member has forged sizes in its headers.
func rawZip(t *testing.T, name string, compressed, uncompressed uint64, body []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CompressedSize64: compressed, UncompressedSize64: uncompressed})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "forged.npz", buf.Bytes())
}

// hugePNG is a valid 1x1 grey PNG whose header claims width x height.
func hugePNG(t *testing.T, width, height uint32) []byte {
	b := pngBytes(t, 1, 1, diag, "gray")
	// IHDR: length(4) "IHDR"(4) width(4) height(4) ... crc(4), after the
	// 8-byte signature.
	binary.BigEndian.PutUint32(b[16:], width)
	binary.BigEndian.PutUint32(b[20:], height)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestBadInputNPY(t *testing.T) {
	f4 := func(vals ...float32) []byte {
		var b []byte
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	npy := func(b []byte) func(*testing.T) error {
		return func(t *testing.T) error {
			_, err := LoadNPY(writeTemp(t, "x.npy", b))
			return err
		}
	}
	runBadCases(t, []badCase{
		{"empty", "npy", npy(nil), []string{"x.npy: truncated npy preamble: empty file (0 bytes)"}},
		{"truncated", "npy preamble", npy([]byte(npyMagic[:4])), []string{"x.npy", "truncated"}},
		{"truncated", "npy data", npy(buildNPY(1, hdr("<f4", "(4,)"), f4(1, 2))), []string{"x.npy", "truncated npy data: shape [4] of <f4 needs 16 bytes, have 8"}},
		{"wrong magic", "npy", npy([]byte("PK\x03\x04 this is a zip")), []string{"x.npy", "not an npy file"}},
		{"wrong dtype", "npy complex", npy(buildNPY(1, hdr("<c8", "(1,)"), make([]byte, 8))), []string{"x.npy", `unsupported dtype "<c8"`}},
		{"wrong dtype", "npy big-endian", npy(buildNPY(1, hdr(">f4", "(1,)"), make([]byte, 4))), []string{"big-endian"}},
		{"wrong dtype", "npy fortran order", npy(buildNPY(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", f4(1))), []string{"fortran_order"}},
		{"shape mismatch", "npy trailing data", npy(buildNPY(1, hdr("<f4", "(1,)"), f4(1, 2))), []string{"x.npy", "shape/data size mismatch"}},
		{"huge sizes", "npy shape 10^12 elements", npy(buildNPY(1, hdr("<f4", "(1000000, 1000000)"), f4(1))), []string{"x.npy", "shape/data size mismatch: shape [1000000 1000000]"}},
		{"huge sizes", "npy dimension beyond int32", npy(buildNPY(1, hdr("<f4", "(99999999999,)"), nil)), []string{"too large"}},
		{"huge sizes", "npy header length", npy(append([]byte(npyMagic+"\x02\x00"), 0xff, 0xff, 0xff, 0x7f)), []string{"truncated npy header: header length 2147483647"}},
	})
}

func TestBadInputNPZ(t *testing.T) {
	npz := func(p string) func(*testing.T) error {
		return func(*testing.T) error { _, err := ReadNPZ(p); return err }
	}
	dir := t.TempDir()
	npyf := string(buildNPY(1, hdr("|u1", "(2,)"), []byte{1, 2}))
	runBadCases(t, []badCase{
		{"empty", "npz of 0 bytes", npz(writeTemp(t, "e.npz", nil)), []string{"e.npz", "not a valid zip file"}},
		{"wrong magic", "npz", npz(writeTemp(t, "w.npz", []byte("\x93NUMPY not a zip"))), []string{"w.npz", "not a valid zip file"}},
		{"empty", "npz without members", npz(writeZip(t, dir, "none.npz", nil)), []string{"none.npz", "empty archive"}},
		{"wrong dtype", "npz member not .npy", npz(writeZip(t, dir, "txt.npz", [][2]string{{"a.txt", "x"}})), []string{"txt.npz", `member "a.txt" is not a .npy file`}},
		{"truncated", "npz member", npz(writeZip(t, dir, "tr.npz", [][2]string{{"a.npy", npyf[:len(npyf)-1]}})), []string{"tr.npz", `member "a.npy"`, "truncated npy data"}},
		{"huge sizes", "npz uncompressed size 1 TB", npz(rawZip(t, "a.npy", 10, 1<<40, make([]byte, 10))), []string{"forged.npz", "implausible uncompressed size 1099511627776 for 10 compressed bytes"}},
		{"huge sizes", "npz compressed size beyond the archive", npz(rawZip(t, "a.npy", 1<<30, 1<<35, make([]byte, 10))), []string{"forged.npz", "more than the"}},
	})
	// A member name with "../" is only a map key: nothing is written.
	p := writeZip(t, dir, "trav.npz", [][2]string{{"../../evil.npy", npyf}})
	arrs, err := ReadNPZ(p)
	if err != nil || arrs["../../evil"] == nil || len(arrs) != 1 {
		t.Fatalf("path-traversal member name: %v %v", arrs, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "..", "evil.npy")); err == nil {
		t.Fatal("reading an npz created a file outside its folder")
	}
}

func TestBadInputIDX(t *testing.T) {
	idx := func(b []byte) func(*testing.T) error {
		return func(t *testing.T) error { _, _, err := ReadIDX(writeTemp(t, "x-ubyte", b)); return err }
	}
	gz := idxGzip(t, idxBytes(8, []int{4}, []byte{1, 2, 3, 4}))
	runBadCases(t, []badCase{
		{"empty", "idx", idx(nil), []string{"x-ubyte", "truncated header: 0 of 4 magic bytes"}},
		{"truncated", "idx dimensions", idx([]byte{0, 0, 8, 3, 0, 0}), []string{"truncated header: 2 of 12 dimension bytes"}},
		{"truncated", "idx data", idx(idxBytes(8, []int{2, 3}, []byte{1, 2})), []string{"truncated: 2 of 6 data bytes for shape [2 3]"}},
		{"truncated", "idx gzip stream", idx(gz[:len(gz)-6]), []string{"x-ubyte"}},
		{"wrong magic", "idx", idx([]byte("GIF89a")), []string{"not an IDX file"}},
		{"wrong dtype", "idx float32", idx(idxBytes(0x0D, []int{1}, make([]byte, 4))), []string{"element type 0x0d (float32) is not supported"}},
		{"shape mismatch", "idx 0 dimensions", idx([]byte{0, 0, 8, 0}), []string{"declares 0 dimensions"}},
		{"shape mismatch", "idx trailing bytes", idx(idxBytes(8, []int{1}, []byte{1, 2})), []string{"unexpected bytes after the 1 data bytes"}},
		{"huge sizes", "idx 2^31 x 2^31", idx(idxBytes(8, []int{1 << 31, 1 << 31}, nil)), []string{"shape [2147483648 2147483648] is too large"}},
		{"huge sizes", "idx 4 GB claim, 3 bytes present", idx(idxBytes(8, []int{1 << 16, 1 << 16}, []byte{1, 2, 3})), []string{"truncated: 3 of 4294967296 data bytes"}},
		{"corrupt", "idx gzip", idx([]byte{0x1f, 0x8b, 1, 2, 3}), []string{"x-ubyte", "gzip"}},
	})
	// MNIST-level checks: a count mismatch between images and labels, and
	// labels that are not 1-D.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "train-images-idx3-ubyte"), idxBytes(8, []int{2, 2, 2}, make([]byte, 8)), 0o644)
	os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), idxBytes(8, []int{3}, []byte{1, 2, 3}), 0o644)
	dir2 := t.TempDir()
	os.WriteFile(filepath.Join(dir2, "train-images-idx3-ubyte"), idxBytes(8, []int{2, 2, 2}, make([]byte, 8)), 0o644)
	os.WriteFile(filepath.Join(dir2, "train-labels-idx1-ubyte"), idxBytes(8, []int{2, 1}, []byte{1, 2}), 0o644)
	mnist := func(d, split string) func(*testing.T) error {
		return func(*testing.T) error { _, _, err := LoadMNIST(d, split); return err }
	}
	runBadCases(t, []badCase{
		{"shape mismatch", "mnist images vs labels count", mnist(dir, "train"), []string{"has 2 images but", "has 3 labels"}},
		{"shape mismatch", "mnist labels not 1-D", mnist(dir2, "train"), []string{"labels have shape [2 1], want 1-D"}},
		{"missing file", "mnist folder", mnist(t.TempDir(), "train"), []string{"no MNIST images file (tried train-images-idx3-ubyte.gz"}},
		{"bad value", "mnist split", mnist(dir, "validation"), []string{`split "validation"`}},
	})
}

func TestBadInputCSV(t *testing.T) {
	csv := func(src string) func(*testing.T) error {
		return func(t *testing.T) error { _, err := ReadCSV(writeTemp(t, "s.csv", []byte(src))); return err }
	}
	school := func(src string) func(*testing.T) error {
		return func(t *testing.T) error { _, err := LoadSchool(writeTemp(t, "school.csv", []byte(src))); return err }
	}
	runBadCases(t, []badCase{
		{"empty", "csv", csv(""), []string{"s.csv: no data rows"}},
		{"empty", "csv header only", csv("a,b\n"), []string{"s.csv: no data rows"}},
		{"ragged rows", "csv", csv("a,b,c\n1,2,3\n4,5\n"), []string{"s.csv:3: 2 columns, header has 3"}},
		{"wrong dtype", "csv non-numeric cell", csv("a,b\n1,abc\n"), []string{`s.csv:2: column 2 (b): "abc" is not a number`}},
		{"NaN/Inf", "csv NaN", csv("a,b\n1,NaN\n"), []string{"s.csv:2: column 2 (b): NaN is not a finite number"}},
		{"NaN/Inf", "csv Inf", csv("a,b\n-inf,1\n"), []string{"s.csv:2: column 1 (a): -inf is not a finite number"}},
		{"NaN/Inf", "csv overflow 1e999", csv("a,b\n1e999,1\n"), []string{`s.csv:2: column 1 (a): "1e999" is beyond the float64 range`}},
		{"shape mismatch", "csv duplicate column name", csv("x,y,x\n1,2,3\n"), []string{`s.csv:1: column 3 ("x") has the same name as column 1`}},
		{"missing field", "school without task column", school("id,y\n1,2\n"), []string{`school.csv: no column "task" (columns: id,y)`}},
		{"label out of range", "school fractional task id", school("task,x,y\n1.5,0,1\n"), []string{"school.csv: data row 1: task 1.5 is not an integer task id"}},
		{"label out of range", "school task id 1e300", school("task,x,y\n1,0,1\n\n1e300,0,1\n"), []string{"data row 2: task 1e+300 is not an integer task id"}},
	})
	runBadCases(t, []badCase{
		{"huge sizes", "csv line longer than the limit", func(t *testing.T) error {
			old := maxTextLine
			maxTextLine = 64
			defer func() { maxTextLine = old }()
			_, err := ReadCSV(writeTemp(t, "s.csv", []byte("a,b\n1,2\n"+strings.Repeat("7", 100)+",1\n")))
			return err
		}, []string{"s.csv:3: line longer than 64 bytes (not a text file, or no line breaks)"}},
		{"huge sizes", "arff line longer than the limit", func(t *testing.T) error {
			old := maxTextLine
			maxTextLine = 64
			defer func() { maxTextLine = old }()
			_, err := ParseARFF(strings.NewReader("@relation "+strings.Repeat("r", 100)+"\n"), "m.arff")
			return err
		}, []string{"m.arff:1: line longer than 64 bytes"}},
	})
	// A UTF-8 byte-order mark (as Excel writes) is not part of the first
	// column's name.
	tab, err := ReadCSV(writeTemp(t, "bom.csv", []byte("\ufefftask,y\n1,2\n")))
	if err != nil || tab.Header[0] != "task" {
		t.Fatalf("BOM: %v %q", err, tab.Header)
	}
}

func TestBadInputParkinsons(t *testing.T) {
	pk := func(src string) func(*testing.T) error {
		return func(t *testing.T) error { _, err := LoadParkinsons(writeTemp(t, "p.data", []byte(src))); return err }
	}
	runBadCases(t, []badCase{
		{"missing field", "parkinsons motor_UPDRS", pk("subject#,age,total_UPDRS,j\n1,60,20,0.1\n"), []string{`p.data: no column "motor_UPDRS"`}},
		{"label out of range", "parkinsons subject 1e12", pk("subject#,age,motor_UPDRS,total_UPDRS\n1e12,60,10,20\n"), []string{"data row 1: subject# 1e+12 is not an integer"}},
		{"shape mismatch", "parkinsons no feature columns", pk("subject#,motor_UPDRS,total_UPDRS\n1,10,20\n"), []string{"no feature columns"}},
	})
}

func TestBadInputARFF(t *testing.T) {
	arff := func(src string) func(*testing.T) error {
		return func(*testing.T) error { _, err := ParseARFF(strings.NewReader(src), "m.arff"); return err }
	}
	head := "@relation r\n@attribute a numeric\n@attribute b {x,y}\n@data\n"
	runBadCases(t, []badCase{
		{"empty", "arff", arff(""), []string{"m.arff: no @data section (0 attributes declared)"}},
		{"truncated", "arff without @data", arff("@relation r\n@attribute a numeric\n"), []string{"m.arff: no @data section (1 attributes declared)"}},
		{"ragged rows", "arff", arff(head + "1,x\n2\n"), []string{"m.arff:6: 1 values, want 2"}},
		{"wrong dtype", "arff string attribute", arff("@relation r\n@attribute s string\n@data\n"), []string{`m.arff:2: attribute "s": type string is not supported`}},
		{"wrong dtype", "arff non-numeric cell", arff(head + "abc,x\n"), []string{`m.arff:5: attribute 1 (a): "abc" is not a finite number`}},
		{"NaN/Inf", "arff NaN", arff(head + "NaN,x\n"), []string{`attribute 1 (a): "NaN" is not a finite number`}},
		{"NaN/Inf", "arff Infinity", arff(head + "Infinity,x\n"), []string{`"Infinity" is not a finite number`}},
		{"label out of range", "arff nominal value", arff(head + "1,z\n"), []string{`m.arff:5: attribute 2 (b): "z" is not one of its nominal values {x,y}`}},
		{"label out of range", "arff sparse index", arff(head + "{7 1}\n"), []string{`m.arff:5: sparse entry "7 1": index "7" is not in 0..1`}},
		{"huge sizes", "arff rows x attributes over the cap", func(t *testing.T) error {
			old := maxARFFCells
			maxARFFCells = 10
			defer func() { maxARFFCells = old }()
			_, err := ParseARFF(strings.NewReader(head+"{}\n{}\n{}\n{}\n{}\n{}\n"), "m.arff")
			return err
		}, []string{"m.arff:10: data too large: 6 rows of 2 attributes exceed the limit of 10 values"}},
	})
	a, _ := ParseARFF(strings.NewReader(head+"1,x\n"), "m.arff")
	runBadCases(t, []badCase{
		{"bad value", "mulan targets count", func(*testing.T) error { _, err := a.SplitTargets("m.arff", 5); return err }, []string{"5 targets requested, want 1..1"}},
		{"wrong dtype", "mulan nominal target", func(*testing.T) error {
			b, _ := ParseARFF(strings.NewReader("@relation r\n@attribute a numeric\n@attribute b {x,y}\n@data\n1,x\n"), "m.arff")
			_, err := b.SplitTargets("m.arff", 1)
			return err
		}, []string{`target attribute "b" is nominal`}},
	})
}

func TestBadInputOmniglot(t *testing.T) {
	dir := t.TempDir()
	zipOf := func(files map[string][]byte) string {
		var members [][2]string
		for n, b := range files {
			members = append(members, [2]string{n, string(b)})
		}
		return writeZip(t, t.TempDir(), "images_background.zip", members)
	}
	oz := func(p string) func(*testing.T) error {
		return func(*testing.T) error { _, err := LoadOmniglotZip(p, 28); return err }
	}
	ok := pngBytes(t, 4, 4, diag, "gray")
	png := pngBytes(t, 4, 4, diag, "gray")
	runBadCases(t, []badCase{
		{"empty", "omniglot zip of 0 bytes", oz(writeTemp(t, "e.zip", nil)), []string{"e.zip", "not a valid zip file"}},
		{"truncated", "omniglot png", oz(zipOf(map[string][]byte{"A/c1/1.png": png[:len(png)/2]})), []string{"decoding A/c1/1.png", "not enough pixel data"}},
		{"wrong magic", "omniglot png is a jpeg", oz(zipOf(map[string][]byte{"A/c1/1.png": []byte("\xff\xd8\xff\xe0JFIF")})), []string{"decoding A/c1/1.png: png: invalid format: not a PNG file"}},
		{"shape mismatch", "omniglot image sizes differ", oz(zipOf(map[string][]byte{"A/c1/1.png": ok, "A/c1/2.png": pngBytes(t, 5, 4, diag, "gray")})), []string{"image A/c1/2.png is 4x5, but A/c1/1.png is 4x4"}},
		{"huge sizes", "omniglot png claiming 100000x100000", oz(zipOf(map[string][]byte{"A/c1/1.png": hugePNG(t, 100000, 100000)})), []string{"image A/c1/1.png is 100000x100000, more than the 16777216 pixels allowed"}},
		{"path traversal", "omniglot zip member ../", oz(zipOf(map[string][]byte{"../A/c1/1.png": ok})), []string{`member "../A/c1/1.png" has an unsafe path`}},
		{"path traversal", "omniglot zip absolute member", oz(zipOf(map[string][]byte{"/A/c1/1.png": ok})), []string{`member "/A/c1/1.png" has an unsafe path`}},
		{"missing file", "omniglot folder", func(*testing.T) error { _, err := LoadOmniglotDir(filepath.Join(dir, "absent"), 28); return err }, []string{"absent: no such file or directory"}},
		{"bad value", "omniglot image size 0", func(*testing.T) error {
			_, err := LoadOmniglotZip(zipOf(map[string][]byte{"A/c1/1.png": ok}), 0)
			return err
		}, []string{"image size 0 must be positive"}},
	})

	// .npz repacks: arrays of the wrong dtype or shape, inconsistent labels.
	npzOf := func(members ...[2]string) func(*testing.T) error {
		return func(t *testing.T) error {
			_, err := LoadOmniglotNPZ(writeZip(t, t.TempDir(), "images_background.npz", members), 28)
			return err
		}
	}
	u8 := func(shape string, n int) string { return string(buildNPY(1, hdr("|u1", shape), make([]byte, n))) }
	i8 := func(shape string, vals ...int64) string {
		var b []byte
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
		return string(buildNPY(1, hdr("<i8", shape), b))
	}
	runBadCases(t, []badCase{
		{"wrong dtype", "omniglot npz float images", npzOf([2]string{"images.npy", string(buildNPY(1, hdr("<f4", "(1, 1, 1, 1)"), make([]byte, 4)))}), []string{"images_background.npz", "images.npy has dtype <f4, want |b1 or |u1"}},
		{"shape mismatch", "omniglot npz 3-D images", npzOf([2]string{"images.npy", u8("(2, 2, 2)", 8)}), []string{"images.npy has shape [2 2 2], want non-empty (characters, drawers, height, width)"}},
		{"shape mismatch", "omniglot npz labels shape", npzOf([2]string{"images.npy", u8("(2, 1, 2, 2)", 8)}, [2]string{"labels.npy", i8("(3,)", 0, 1, 2)}), []string{"labels.npy has shape [3], want [2 1]"}},
		{"label out of range", "omniglot npz labels differ within a character", npzOf([2]string{"images.npy", u8("(1, 2, 2, 2)", 8)}, [2]string{"labels.npy", i8("(1, 2)", 0, 5)}), []string{"labels.npy: character 0 has labels 0 and 5"}},
		{"missing field", "omniglot npz without images", npzOf([2]string{"labels.npy", i8("(1, 1)", 0)}), []string{"no images.npy member"}},
	})

	// alphabets.tsv and the Vinyals split files.
	tsv := func(src string) func(*testing.T) error {
		return func(t *testing.T) error {
			_, err := ReadAlphabets(writeTemp(t, "alphabets.tsv", []byte(src)))
			return err
		}
	}
	split := func(train string) func(*testing.T) error {
		return func(t *testing.T) error {
			d := t.TempDir()
			os.WriteFile(filepath.Join(d, "train.txt"), []byte(train), 0o644)
			os.WriteFile(filepath.Join(d, "val.txt"), []byte("B/character01/rot000\n"), 0o644)
			os.WriteFile(filepath.Join(d, "test.txt"), []byte("C/character01/rot000\n"), 0o644)
			_, _, _, err := VinyalsSplit(d)
			return err
		}
	}
	runBadCases(t, []badCase{
		{"empty", "alphabets.tsv", tsv(""), []string{"alphabets.tsv: no alphabets"}},
		{"ragged rows", "alphabets.tsv", tsv("background\t1\t2\tA\n"), []string{"alphabets.tsv line 1: 4 tab-separated fields, want 5"}},
		{"bad value", "alphabets.tsv ids", tsv("background\t5\t2\tA\t0\n"), []string{`alphabets.tsv line 1: bad row "background\t5\t2\tA\t0"`}},
		{"empty", "vinyals train.txt", split("\n\n"), []string{"train.txt: no entries"}},
		{"bad value", "vinyals rotation", split("A/character01/rot045\n"), []string{`train.txt line 1: entry "A/character01/rot045": rotation "rot045" is not rot000`}},
		{"path traversal", "vinyals entry ../", split("../../etc/rot000\n"), []string{`train.txt line 1: entry "../../etc/rot000" is not Alphabet/characterNN/rotDDD`}},
		{"shape mismatch", "vinyals entry in two files", split("B/character01/rot000\n"), []string{`val.txt line 1: entry "B/character01/rot000" already in`}},
	})
}

func TestBadInputEpisodes(t *testing.T) {
	ds := toyDataset(4, 4, 3, 3, 2)
	bad := &ClassDataset{Images: ds.Images, ByClass: [][]int{{0, 99}}, ClassNames: []string{"a"}}
	ep := func(d *ClassDataset, ways, shots, queries int) func(*testing.T) error {
		return func(*testing.T) error { _, err := NewEpisodic(d, ways, shots, queries); return err }
	}
	runBadCases(t, []badCase{
		{"N-way too large", "episodes 5-way from 3 classes", ep(ds, 5, 1, 1), []string{"ways = 5 but the dataset has only 3 classes"}},
		{"N-way too large", "episodes K+Q beyond a class", ep(ds, 2, 2, 1), []string{"shots+queries = 2+1 = 3 but class 2", "has only 2 examples"}},
		{"bad value", "episodes 0-shot", ep(ds, 2, 0, 1), []string{"shots = 0, need at least 1"}},
		{"label out of range", "dataset index out of range", ep(bad, 1, 1, 0), []string{`class 0 ("a") refers to image 99, outside [0, 8)`}},
		{"empty", "dataset without classes", ep(&ClassDataset{Images: ds.Images}, 1, 1, 0), []string{"has no classes"}},
	})
}
