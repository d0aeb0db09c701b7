package data

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// pngBytes encodes an h x w image; ink pixels (set[y*w+x]) are black on
// white. kind chooses the PNG colour model.
func pngBytes(t testing.TB, h, w int, set func(y, x int) bool, kind string) []byte {
	t.Helper()
	var img image.Image
	switch kind {
	case "gray":
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if !set(y, x) {
					g.SetGray(x, y, color.Gray{255})
				}
			}
		}
		img = g
	case "paletted":
		p := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.White, color.Black})
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if set(y, x) {
					p.SetColorIndex(x, y, 1)
				}
			}
		}
		img = p
	case "rgba": // ink opaque red-free black, background fully transparent
		r := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if set(y, x) {
					r.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
				}
			}
		}
		img = r
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// diag marks the main diagonal as ink.
func diag(y, x int) bool { return y == x }

// omniglotTree is a small official-layout tree: relative path -> content.
func omniglotTree(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"Alpha/character01/0001_01.png": pngBytes(t, 4, 4, diag, "gray"),
		"Alpha/character01/0001_02.png": pngBytes(t, 4, 4, diag, "paletted"),
		"Alpha/character02/0002_01.png": pngBytes(t, 4, 4, func(y, x int) bool { return true }, "rgba"),
		"Beta/character01/0003_01.png":  pngBytes(t, 4, 4, func(y, x int) bool { return false }, "gray"),
		"Beta/character01/.DS_Store":    []byte("junk"),
		"LICENSE":                       []byte("MIT"),
	}
}

func writeTree(t testing.TB, root string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func zipTree(t testing.TB, dir, name, top string, files map[string][]byte) string {
	var members [][2]string
	for n, b := range files {
		members = append(members, [2]string{top + n, string(b)})
	}
	return writeZip(t, dir, name, members)
}

func checkSmallOmniglot(t *testing.T, ds *ClassDataset, size int) {
	t.Helper()
	if err := ds.Validate(); err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"Alpha/character01", "Alpha/character02", "Beta/character01"}
	if !reflect.DeepEqual(ds.ClassNames, wantNames) || !reflect.DeepEqual(ds.ByClass, [][]int{{0, 1}, {2}, {3}}) {
		t.Fatalf("classes %v %v", ds.ClassNames, ds.ByClass)
	}
	if !reflect.DeepEqual(ds.Images.Shape(), []int{4, 1, size, size}) {
		t.Fatalf("shape %v", ds.Images.Shape())
	}
	per := size * size
	v := ds.Images.F32()
	sum := func(i int) (s float32) {
		for _, x := range v[i*per : (i+1)*per] {
			s += x
		}
		return s
	}
	// Diagonal ink covers 4 of 16 pixels: mean 1/4, whatever the size.
	for i, want := range []float32{0.25, 0.25, 1, 0} {
		if got := sum(i) / float32(per); got < want-1e-6 || got > want+1e-6 {
			t.Errorf("image %d mean ink %v, want %v", i, got, want)
		}
	}
	if size == 4 && (v[0] != 1 || v[1] != 0) {
		t.Errorf("image 0 starts %v, want ink 1 then background 0", v[:2])
	}
}

func TestLoadOmniglotDirAndZip(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "images_background")
	writeTree(t, root, omniglotTree(t))
	for _, size := range []int{4, 2} {
		ds, err := LoadOmniglotDir(root, size)
		if err != nil {
			t.Fatal(err)
		}
		checkSmallOmniglot(t, ds, size)
	}
	for _, top := range []string{"images_background/", ""} {
		p := zipTree(t, dir, "z"+strings.TrimSuffix(top, "/")+".zip", top, omniglotTree(t))
		ds, err := LoadOmniglotZip(p, 4)
		if err != nil {
			t.Fatalf("top %q: %v", top, err)
		}
		checkSmallOmniglot(t, ds, 4)
	}
}

func TestLoadOmniglotErrors(t *testing.T) {
	dir := t.TempDir()
	with := func(extra map[string][]byte) map[string][]byte {
		m := omniglotTree(t)
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"non-image file", with(map[string][]byte{"Alpha/character01/notes.txt": []byte("x")}), "non-image file images/Alpha/character01/notes.txt"},
		{"mismatched size", with(map[string][]byte{"Beta/character01/0003_02.png": pngBytes(t, 5, 4, diag, "gray")}), "image images/Beta/character01/0003_02.png is 4x5"},
		{"corrupt png", with(map[string][]byte{"Beta/character01/0003_02.png": []byte("not a png")}), "decoding images/Beta/character01/0003_02.png"},
		{"file in alphabet folder", with(map[string][]byte{"Alpha/readme.txt": []byte("x")}), "unexpected file images/Alpha/readme.txt"},
		{"empty character", with(map[string][]byte{"Beta/character02/.keep": nil}), "character folder images/Beta/character02 has no images"},
		{"no classes", map[string][]byte{"README": []byte("x")}, "no classes found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "images")
			writeTree(t, root, tc.files)
			if _, err := LoadOmniglotDir(root, 4); err == nil || !strings.Contains(err.Error(), strings.Replace(tc.want, "images/", "", 1)) {
				t.Fatalf("dir: error %v, want %q", err, tc.want)
			}
			p := zipTree(t, t.TempDir(), "x.zip", "images/", tc.files)
			if _, err := LoadOmniglotZip(p, 4); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("zip: error %v, want %q", err, tc.want)
			}
		})
	}
	zipTests := []struct {
		name, path, want string
	}{
		{"empty zip", writeZip(t, dir, "empty.zip", nil), "is empty"},
		{"no pngs", writeZip(t, dir, "txt.zip", [][2]string{{"a/b.txt", "x"}}), "no classes found"},
		{"too deep", writeZip(t, dir, "deep.zip", [][2]string{{"a/b/c/d/e.png", "x"}}), "a/b/c/d/e.png is not at"},
		{"missing", filepath.Join(dir, "none.zip"), "none.zip"},
	}
	for _, tc := range zipTests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := LoadOmniglotZip(tc.path, 28); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := LoadOmniglotDir(filepath.Join(dir, "absent"), 28); err == nil {
		t.Fatal("absent dir loaded")
	}
	root := filepath.Join(dir, "ok")
	writeTree(t, root, omniglotTree(t))
	if _, err := LoadOmniglotDir(root, 0); err == nil || !strings.Contains(err.Error(), "size 0") {
		t.Fatalf("size 0: %v", err)
	}
}

const testAlphabets = "set\tfirst_id\tlast_id\talphabet\tn_chars\n" +
	"background\t0001\t0002\tAlpha\t2\n" +
	"evaluation\t0003\t0003\tGamma\t1\n"

// writeOmniglotNPZ writes images_<set>.npz with c characters of d drawers of
// 4x4 images (byte 0 = ink on the diagonal of character k's images for k
// even, none for k odd) and labels base..base+c-1.
func writeOmniglotNPZ(t testing.TB, dir, set string, c, d int, base int64) string {
	img := make([]byte, c*d*16)
	for i := range img {
		img[i] = 255
	}
	for k := 0; k < c; k += 2 {
		for j := 0; j < d; j++ {
			for p := 0; p < 4; p++ {
				img[(k*d+j)*16+p*5] = 0
			}
		}
	}
	var lab []any
	for k := 0; k < c; k++ {
		for j := 0; j < d; j++ {
			lab = append(lab, base+int64(k))
		}
	}
	shape := "(" + itoa(c) + ", " + itoa(d) + ", 4, 4)"
	return writeZip(t, dir, "images_"+set+".npz", [][2]string{
		{"images.npy", string(buildNPY(1, hdr("|b1", shape), img))},
		{"labels.npy", string(buildNPY(1, hdr("<i8", "("+itoa(c)+", "+itoa(d)+")"), le(lab...)))},
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestLoadOmniglotNPZ(t *testing.T) {
	dir := t.TempDir()
	bg := writeOmniglotNPZ(t, dir, "background", 2, 3, 0)
	ev := writeOmniglotNPZ(t, dir, "evaluation", 1, 3, 0)

	// Without alphabets.tsv: class%04d names.
	ds, err := LoadOmniglotNPZ(bg, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ds.ClassNames, []string{"class0000", "class0001"}) || !reflect.DeepEqual(ds.ByClass, [][]int{{0, 1, 2}, {3, 4, 5}}) {
		t.Fatalf("classes %v %v", ds.ClassNames, ds.ByClass)
	}
	if ds.Images.At(0, 0, 1, 1) != 1 || ds.Images.At(0, 0, 0, 1) != 0 || ds.Images.At(3, 0, 1, 1) != 0 {
		t.Fatal("ink/background values wrong")
	}
	small, err := LoadOmniglotNPZ(bg, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := small.Images.At(0, 0, 0, 0); got != 0.5 {
		t.Fatalf("2x2 resize of a 4x4 diagonal: top-left %v, want 0.5", got)
	}

	// With alphabets.tsv: Alphabet/characterNN names, per set.
	os.WriteFile(filepath.Join(dir, "alphabets.tsv"), []byte(testAlphabets), 0o644)
	all, err := LoadOmniglotAll(dir, 4)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Alpha/character01", "Alpha/character02", "Gamma/character01"}; !reflect.DeepEqual(all.ClassNames, want) {
		t.Fatalf("names %v, want %v", all.ClassNames, want)
	}
	_ = ev

	tests := []struct {
		name, tsv, want string
		members         [][2]string
	}{
		{"bad tsv", "set\tfirst_id\tlast_id\talphabet\tn_chars\nbackground\t1\t2\tAlpha\t3\n", "alphabets.tsv line 2", nil},
		{"short tsv row", "background\t1\t2\n", "3 tab-separated fields", nil},
		{"no images", testAlphabets, "no images.npy", [][2]string{{"labels.npy", string(buildNPY(1, hdr("<i8", "(1, 1)"), le(int64(0))))}}},
		{"float images", testAlphabets, "dtype <f4", [][2]string{{"images.npy", string(buildNPY(1, hdr("<f4", "(1, 1, 1, 1)"), le(float32(0))))}}},
		{"3-d images", testAlphabets, "shape [1 1 1]", [][2]string{{"images.npy", string(buildNPY(1, hdr("|u1", "(1, 1, 1)"), []byte{0}))}}},
		{"labels shape", testAlphabets, "labels.npy has shape [2]", [][2]string{
			{"images.npy", string(buildNPY(1, hdr("|u1", "(1, 2, 1, 1)"), []byte{0, 0}))},
			{"labels.npy", string(buildNPY(1, hdr("<i8", "(2,)"), le(int64(0), int64(0))))}}},
		{"labels vary", testAlphabets, "character 0 has labels 0 and 1", [][2]string{
			{"images.npy", string(buildNPY(1, hdr("|u1", "(1, 2, 1, 1)"), []byte{0, 0}))},
			{"labels.npy", string(buildNPY(1, hdr("<i8", "(1, 2)"), le(int64(0), int64(1))))}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			os.WriteFile(filepath.Join(d, "alphabets.tsv"), []byte(tc.tsv), 0o644)
			p := filepath.Join(d, "images_background.npz")
			if tc.members != nil {
				p = writeZip(t, d, "images_background.npz", tc.members)
			} else {
				writeOmniglotNPZ(t, d, "background", 1, 1, 0)
			}
			_, err := LoadOmniglotNPZ(p, 4)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := LoadOmniglotNPZ(bg, -1); err == nil {
		t.Fatal("negative size accepted")
	}
}

func TestSplits(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) { os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644) }
	write("train.txt", "Alpha/character01/rot000\nAlpha/character01/rot090\n\n")
	write("val.txt", "Alpha/character02/rot180\n")
	write("test.txt", "Gamma/character01/rot270\r\n")
	tr, va, te, err := VinyalsSplit(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 2 || va[0] != "Alpha/character02/rot180" || te[0] != "Gamma/character01/rot270" {
		t.Fatalf("splits %v %v %v", tr, va, te)
	}
	all := toyDataset(2, 2, 2, 1, 1)
	all.ClassNames = []string{"Alpha/character01", "Alpha/character02", "Gamma/character01"}
	ds, err := SplitDataset(all, tr)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ds.ClassNames, tr) || !reflect.DeepEqual(ds.ByClass, [][]int{{0, 1}, {2, 3}}) {
		t.Fatalf("split dataset %v %v", ds.ClassNames, ds.ByClass)
	}
	// Image 1 (1000 1001 / 1002 1003) rotated 90 ccw: 1001 1003 / 1000 1002.
	if got := ds.Images.F32()[12:16]; !reflect.DeepEqual(got, []float32{1001, 1003, 1000, 1002}) {
		t.Fatalf("rotated image %v", got)
	}
	if _, err := SplitDataset(all, []string{"Beta/character01/rot000"}); err == nil || !strings.Contains(err.Error(), `no class "Beta/character01"`) {
		t.Fatalf("unknown class: %v", err)
	}

	errTests := []struct{ name, train, want string }{
		{"bad rotation", "Alpha/character01/rot045\n", "train.txt line 1"},
		{"too few parts", "Alpha/rot000\n", "not Alphabet/characterNN/rotDDD"},
		{"duplicate", "Alpha/character01/rot000\nAlpha/character01/rot000\n", "already in"},
		{"overlap with val", "Alpha/character02/rot180\n", "already in"},
		{"empty", "\n", "no entries"},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			write("train.txt", tc.train)
			// val is read after train, so overlap is reported on val.txt.
			if _, _, _, err := VinyalsSplit(dir); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if _, _, _, err := VinyalsSplit(filepath.Join(dir, "absent")); err == nil {
		t.Fatal("absent split dir accepted")
	}
}

func TestMAMLSplit(t *testing.T) {
	per := make([]int, 1210)
	for i := range per {
		per[i] = 1
	}
	ds := toyDataset(2, 2, per...)
	for i := range ds.ClassNames {
		ds.ClassNames[i] = "c" + itoa(i)
	}
	tr, te, err := MAMLSplit(ds, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tr.NumClasses() != 4800 || te.NumClasses() != 40 {
		t.Fatalf("sizes %d %d, want 4800 and 40", tr.NumClasses(), te.NumClasses())
	}
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, n := range append(tr.ClassNames[:1200:1200], te.ClassNames[:10]...) {
		if seen[n] {
			t.Fatalf("class %s in both parts", n)
		}
		seen[n] = true
	}
	if len(seen) != 1210 {
		t.Fatalf("%d distinct characters", len(seen))
	}
	if te.ClassNames[10] != te.ClassNames[0]+"/rot090" {
		t.Fatalf("test class 10 is %s, want %s/rot090", te.ClassNames[10], te.ClassNames[0])
	}
	tr2, _, _ := MAMLSplit(ds, 1)
	tr3, _, _ := MAMLSplit(ds, 2)
	if !reflect.DeepEqual(tr.ClassNames, tr2.ClassNames) || reflect.DeepEqual(tr.ClassNames, tr3.ClassNames) {
		t.Fatal("MAMLSplit not a deterministic function of the seed")
	}
	if _, _, err := MAMLSplit(toyDataset(2, 2, 1, 1), 1); err == nil || !strings.Contains(err.Error(), "2 classes") {
		t.Fatalf("small dataset: %v", err)
	}
}
