package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadOfficeDomain(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, body, want string
	}{
		{"good", "label,f0,f1,f2\n1,0,2,1\n10,3,0,0\n", ""},
		{"bad header", "class,f0\n1,0\n", "first column is \"class\""},
		{"label 0", "label,f0\n0,1\n", ":2: label 0, want an integer in 1..10"},
		{"label 11", "label,f0\n1,1\n11,1\n", ":3: label 11"},
		{"fractional label", "label,f0\n1.5,1\n", "label 1.5"},
		{"negative count", "label,f0,f1\n1,1,-2\n", "column f1 = -2, want a non-negative"},
		{"no features", "label\n1\n", "no feature columns"},
		{"ragged", "label,f0,f1\n1,1\n", "2 columns, header has 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".csv")
			writeFile(t, p, c.body)
			d, err := LoadOfficeDomain(p, "x", "X")
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d.X.Dim(0) != 2 || d.X.Dim(1) != 3 || d.Y[0] != 0 || d.Y[1] != 9 || d.X.At(0, 1) != 2 {
					t.Fatalf("loaded %v %v", d.X, d.Y)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error %v, want one naming %s and containing %q", err, p, c.want)
			}
		})
	}
}

func TestLoadOfficeCaltech(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "amazon_SURF_L10.csv"), "label,f0,f1\n1,1,2\n2,0,1\n")
	writeFile(t, filepath.Join(dir, "dslr_SURF_L10.csv"), "label,f0,f1\n3,1,2\n")
	writeFile(t, filepath.Join(dir, "webcam_SURF_L10.csv"), "label,f0\n3,1\n")
	ds, err := LoadOfficeCaltech(dir, "A", "dslr")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Name != "amazon" || ds[1].Short != "D" || len(ds[0].ClassNames) != 10 {
		t.Fatalf("domains %+v", ds)
	}
	for _, c := range []struct {
		names []string
		want  string
	}{
		{[]string{"A", "W"}, "webcam has 1 features but amazon has 2"},
		{[]string{"A", "C"}, "Caltech10_SURF_L10.csv"},
		{[]string{"Z"}, "unknown Office-Caltech domain \"Z\""},
	} {
		if _, err := LoadOfficeCaltech(dir, c.names...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.names, err, c.want)
		}
	}
	if OfficeDomainIndex("Caltech10") != 1 || OfficeDomainIndex("w") != 3 || OfficeDomainIndex("x") != -1 {
		t.Error("OfficeDomainIndex")
	}
}

func TestLoadOfficeCaltechReal(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "office-caltech10-surf")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("Office-Caltech10 SURF not found at %s (see ../shared/data/README.md): %v", dir, err)
	}
	ds, err := LoadOfficeCaltech(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"amazon": 958, "caltech": 1123, "dslr": 157, "webcam": 295}
	for _, d := range ds {
		if d.X.Dim(0) != want[d.Name] || d.X.Dim(1) != 800 {
			t.Errorf("%s: %v, want [%d 800]", d.Name, d.X.Shape(), want[d.Name])
		}
		seen := map[int]bool{}
		for _, y := range d.Y {
			seen[y] = true
		}
		if len(seen) != 10 {
			t.Errorf("%s has %d classes, want 10", d.Name, len(seen))
		}
	}
}
