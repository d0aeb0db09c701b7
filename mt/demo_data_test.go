package mt

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/data"
)

// TestDemoDataChecksums: every embedded file is listed in SHA256SUMS with
// the sha256 of its uncompressed text, and the embedded corpus is small.
func TestDemoDataChecksums(t *testing.T) {
	sums, err := demoFS.ReadFile("demodata/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		h, name, ok := strings.Cut(l, "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", l)
		}
		listed[name] = h
	}
	total := 0
	n := 0
	fs.WalkDir(demoFS, "demodata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, _ := d.Info()
		total += int(info.Size())
		if !strings.HasSuffix(p, ".gz") {
			return nil
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p, "demodata/"), ".gz")
		b, err := demoFile(name)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		if got := hex.EncodeToString(h[:]); got != listed[name] {
			t.Errorf("%s: sha256 %s, SHA256SUMS says %q", name, got, listed[name])
		}
		n++
		return nil
	})
	if n != len(listed) || n != 14 {
		t.Errorf("%d embedded files, %d listed, want 14", n, len(listed))
	}
	if total > 2<<20 {
		t.Errorf("demo data is %d bytes, want < 2 MiB", total)
	}
}

func TestDemoPairs(t *testing.T) {
	want := map[string]int{"train": 1000, "dev": 200}
	var english map[string]string
	for _, split := range []string{"train", "dev"} {
		english = map[string]string{}
		for _, l := range append(append([]string{}, DemoPretrain...), DemoNew) {
			segs, err := DemoPairs(split, l)
			if err != nil {
				t.Fatal(err)
			}
			n := want[split]
			if split == "train" && l == DemoNew {
				n = 300
			}
			if len(segs) != n {
				t.Errorf("%s %s: %d pairs, want %d", split, l, len(segs), n)
			}
			for _, s := range segs {
				if s.ID == "" || s.Source == "" || s.Target == "" || len([]rune(s.Source)) > 60 {
					t.Fatalf("%s %s: %+v", split, l, s)
				}
				if e, ok := english[s.ID]; ok && e != s.Source {
					t.Fatalf("id %s has two English strings", s.ID)
				}
				if l != DemoNew || split == "dev" {
					english[s.ID] = s.Source
				}
			}
		}
	}
	if _, err := DemoPairs("test", "de"); err == nil || !strings.Contains(err.Error(), `unknown split "test"`) {
		t.Errorf("test split: %v", err)
	}
	if _, err := DemoPairs("train", "eu"); err == nil || !strings.Contains(err.Error(), `unknown language "eu"`) {
		t.Errorf("eu: %v", err)
	}
	c, err := DemoCorpus("dev")
	if err != nil || len(c) != 6 || len(c["en-nl"]) != 200 {
		t.Errorf("DemoCorpus: %v %d", err, len(c))
	}
	if c, err := DemoCorpus("train", DemoNew); err != nil || len(c) != 1 || len(c["en-gl"]) != 300 {
		t.Errorf("DemoCorpus gl: %v %d", err, len(c))
	}
	if !strings.Contains(DemoAttribution(), "MPL-2.0") {
		t.Error("attribution lacks the license")
	}
}

// TestDemoDataFromTrainOnly: with lo-mt at hand, every embedded train id
// is in lo-mt's train split and every dev id in its dev split, with the
// same text; none is in the test split.
func TestDemoDataFromTrainOnly(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "lo-mt")
	for _, split := range []string{"train", "dev"} {
		for _, l := range append(append([]string{}, DemoPretrain...), DemoNew) {
			ref, err := data.LoadLoMT(dir, split, l)
			if err != nil {
				t.Skipf("lo-mt not available (%v): the provenance check needs ../shared/data/lo-mt", err)
			}
			test, err := data.LoadLoMT(dir, "test", l)
			if err != nil {
				t.Fatal(err)
			}
			byID := map[string]data.Segment{}
			for _, s := range ref {
				byID[s.ID] = s
			}
			inTest := map[string]bool{}
			for _, s := range test {
				inTest[s.ID] = true
			}
			segs, _ := DemoPairs(split, l)
			for _, s := range segs {
				r, ok := byID[s.ID]
				if !ok || r.Source != s.Source || r.Target != s.Target || inTest[s.ID] {
					t.Fatalf("%s %s: %+v not as in lo-mt %s (in test: %v)", split, l, s, split, inTest[s.ID])
				}
			}
		}
	}
}
