package data

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sharedOmniglotDir finds ../shared/data/omniglot (relative to the project
// root) by walking up from the test's working directory, or uses
// $METALEARN_DATA/omniglot when that is set. It skips the test when the
// folder is absent.
func sharedOmniglotDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("METALEARN_DATA"); d != "" {
		p := filepath.Join(d, "omniglot")
		if _, err := os.Stat(filepath.Join(p, "images_background.npz")); err != nil {
			t.Skipf("METALEARN_DATA=%s set but %s/images_background.npz is missing: %v", d, p, err)
		}
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Skipf("skipping real Omniglot test: %v", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "data", "omniglot")
		if _, err := os.Stat(filepath.Join(p, "images_background.npz")); err == nil {
			return p
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	t.Skipf("skipping real Omniglot test: no shared/data/omniglot/images_background.npz in %s or any parent (the project expects ../shared/data next to its root; set METALEARN_DATA to the data folder to point elsewhere)", wd)
	return ""
}

func TestOmniglotRealData(t *testing.T) {
	dir := sharedOmniglotDir(t)
	start := time.Now()

	// Raw npz: bool dtype, stored bytes 0 (ink) and 255 (background).
	raw, err := ReadNPZ(filepath.Join(dir, "images_background.npz"))
	if err != nil {
		t.Fatal(err)
	}
	img, lab := raw["images"], raw["labels"]
	if img.DType != "|b1" || lab.DType != "<i8" || len(img.Shape) != 4 || img.Shape[0] != 964 || img.Shape[1] != 20 || img.Shape[2] != 105 || img.Shape[3] != 105 {
		t.Fatalf("images %s %v, labels %s %v", img.DType, img.Shape, lab.DType, lab.Shape)
	}
	var counts [256]int
	for _, b := range img.U8[:20*105*105] {
		counts[b]++
	}
	if counts[0]+counts[255] != 20*105*105 || counts[0] == 0 || counts[0] > counts[255] {
		t.Fatalf("character 0 bytes: %d zero, %d 255, want only 0 (ink) and 255 (background), mostly 255", counts[0], counts[255])
	}
	t.Logf("read raw background npz in %v", time.Since(start))

	alpha, err := ReadAlphabets(filepath.Join(dir, "alphabets.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	bg, err := omniglotFromArrays(img, lab, 28, alpha.namer("background"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := LoadOmniglotNPZ(filepath.Join(dir, "images_evaluation.npz"), 28)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded both npz files at 28x28 in %v", time.Since(start))
	for _, c := range []struct {
		ds    *ClassDataset
		n     int
		first string
		last  string
	}{{bg, 964, "Arcadian/character01", "Tifinagh/character55"}, {ev, 659, "Angelic/character01", "ULOG/character26"}} {
		if err := c.ds.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.ds.NumClasses() != c.n || c.ds.ClassNames[0] != c.first || c.ds.ClassNames[c.n-1] != c.last {
			t.Fatalf("%d classes %q..%q, want %d %q..%q", c.ds.NumClasses(), c.ds.ClassNames[0], c.ds.ClassNames[c.ds.NumClasses()-1], c.n, c.first, c.last)
		}
		for k, idx := range c.ds.ByClass {
			if len(idx) != 20 {
				t.Fatalf("class %d (%s) has %d examples, want 20", k, c.ds.ClassNames[k], len(idx))
			}
		}
		if s := c.ds.ImageShape(); len(s) != 3 || s[0] != 1 || s[1] != 28 || s[2] != 28 {
			t.Fatalf("image shape %v, want [1 28 28]", s)
		}
		ink, background := 0.0, 0
		for _, v := range c.ds.Images.F32() {
			if v < 0 || v > 1 {
				t.Fatalf("pixel value %v outside [0, 1]", v)
			}
			ink += float64(v)
			if v == 0 {
				background++
			}
		}
		n := float64(c.ds.Images.Len())
		if ink/n < 0.03 || ink/n > 0.25 || float64(background)/n < 0.5 {
			t.Fatalf("mean ink %.3f, %.2f of pixels pure background: want mostly background", ink/n, float64(background)/n)
		}
	}
	all, err := ConcatClassDatasets(bg, ev)
	if err != nil {
		t.Fatal(err)
	}
	if all.NumClasses() != 1623 {
		t.Fatalf("%d characters, want 1623", all.NumClasses())
	}

	// Vinyals split: 1028/172/423 characters x 4 rotations.
	tr, va, te, err := VinyalsSplit(filepath.Join(dir, "splits_vinyals"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		name    string
		entries []string
		chars   int
	}{{"train", tr, 1028}, {"val", va, 172}, {"test", te, 423}} {
		if len(s.entries) != 4*s.chars {
			t.Fatalf("%s: %d entries, want %d", s.name, len(s.entries), 4*s.chars)
		}
		chars := map[string]int{}
		for _, e := range s.entries {
			chars[e[:strings.LastIndexByte(e, '/')]]++
		}
		if len(chars) != s.chars {
			t.Fatalf("%s: %d characters, want %d", s.name, len(chars), s.chars)
		}
		for c, k := range chars {
			if k != 4 {
				t.Fatalf("%s: character %s has %d rotations", s.name, c, k)
			}
			if all.ClassIndex(c) < 0 {
				t.Fatalf("%s: character %s not among the npz classes", s.name, c)
			}
		}
	}
	vd, err := SplitDataset(all, va)
	if err != nil {
		t.Fatal(err)
	}
	if vd.NumClasses() != 688 || vd.NumImages() != 688*20 {
		t.Fatalf("val split: %d classes, %d images", vd.NumClasses(), vd.NumImages())
	}
	t.Logf("splits checked at %v", time.Since(start))

	// The official small zip: same characters, same pixels.
	small := filepath.Join(dir, "official", "images_background_small1.zip")
	if _, err := os.Stat(small); err != nil {
		t.Logf("no %s: skipping the official-zip comparison", small)
		return
	}
	zds, err := LoadOmniglotZip(small, 28)
	if err != nil {
		t.Fatal(err)
	}
	if zds.NumClasses() != 136 || zds.NumImages() != 2720 {
		t.Fatalf("small1 zip: %d classes, %d images, want 136, 2720", zds.NumClasses(), zds.NumImages())
	}
	for k, name := range zds.ClassNames {
		c := bg.ClassIndex(name)
		if c < 0 {
			t.Fatalf("zip class %s not in the npz", name)
		}
		for j := range zds.ByClass[k] {
			a := zds.Images.F32()[zds.ByClass[k][j]*784 : zds.ByClass[k][j]*784+784]
			b := bg.Images.F32()[bg.ByClass[c][j]*784 : bg.ByClass[c][j]*784+784]
			for p := range a {
				if a[p] != b[p] {
					t.Fatalf("%s drawer %d pixel %d: zip %v, npz %v", name, j+1, p, a[p], b[p])
				}
			}
		}
	}
	// Pixel-identical at 105x105 for one character (Latin/character01 =
	// global id 683, npz index 682).
	zfull, err := LoadOmniglotZip(small, 105)
	if err != nil {
		t.Fatal(err)
	}
	k := zfull.ClassIndex("Latin/character01")
	c := bg.ClassIndex("Latin/character01")
	if k < 0 || c != 682 {
		t.Fatalf("Latin/character01: zip class %d, npz class %d (want 682)", k, c)
	}
	for j, i := range zfull.ByClass[k] {
		got := zfull.Images.F32()[i*105*105 : (i+1)*105*105]
		want := img.U8[(c*20+j)*105*105 : (c*20+j+1)*105*105]
		for p := range got {
			if (got[p] == 1) != (want[p] == 0) || (got[p] != 0 && got[p] != 1) {
				t.Fatalf("Latin/character01 drawer %d pixel %d: zip ink %v, npz byte %d", j+1, p, got[p], want[p])
			}
		}
	}
	t.Logf("official zip checked at %v", time.Since(start))
}

// TestOmniglotRealSplits builds the full Vinyals and MAML splits from the
// real data (about 400 MB of images each; skipped with -short).
func TestOmniglotRealSplits(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the full Omniglot split build in -short mode")
	}
	dir := sharedOmniglotDir(t)
	tr, va, te, err := LoadOmniglotVinyals(dir, 28)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		name string
		ds   *ClassDataset
		n    int
	}{{"train", tr, 4112}, {"val", va, 688}, {"test", te, 1692}} {
		if err := s.ds.Validate(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if s.ds.NumClasses() != s.n || s.ds.NumImages() != 20*s.n || s.ds.Images.Dim(0) != 20*s.n {
			t.Fatalf("%s: %d classes, %d images, want %d x 20", s.name, s.ds.NumClasses(), s.ds.NumImages(), s.n)
		}
	}
	if e, err := NewEpisodic(te, 20, 1, 19); err != nil {
		t.Fatal(err)
	} else if task := e.Sample(rand.New(rand.NewPCG(1, 1))); task.SupportX.Dim(0) != 20 || task.QueryX.Dim(0) != 380 {
		t.Fatalf("20-way 1-shot episode shapes %v %v", task.SupportX.Shape(), task.QueryX.Shape())
	}
	tr, va, te = nil, nil, nil

	all, err := LoadOmniglotAll(dir, 28)
	if err != nil {
		t.Fatal(err)
	}
	mtr, mte, err := MAMLSplit(all, 0)
	if err != nil {
		t.Fatal(err)
	}
	if mtr.NumClasses() != 4800 || mte.NumClasses() != 1692 || mtr.NumImages() != 96000 {
		t.Fatalf("MAML split: %d and %d classes", mtr.NumClasses(), mte.NumClasses())
	}
}
