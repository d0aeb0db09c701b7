package data

import (
	"math"
	"strings"
	"testing"
)

// FuzzVinyalsSplit feeds arbitrary text as the three Vinyals split files:
// every accepted entry is Alphabet/characterNN/rotDDD and appears once
// across the files; every refusal names the file.
func FuzzVinyalsSplit(f *testing.F) {
	f.Add("Greek/character01/rot000\nGreek/character01/rot090\n", "Latin/character02/rot180\n\n", "Korean/character10/rot270\r\n")
	f.Add("Greek/character01/rot000\n", "Greek/character01/rot000\n", "x/y/rot000\n") // an entry in two files
	f.Add("Greek/character01/rot045\n", "", "")                                       // a bad rotation
	f.Add("/a/rot000\n", "a//rot000\n", "a/b/c/rot000\n")
	f.Add("", "\n \t\n", strings.Repeat("a", 70000)+"/b/rot000\n") // a line past bufio's 64 KiB
	f.Fuzz(func(t *testing.T, train, val, test string) {
		seen := map[string]string{}
		once := map[string]bool{}
		for _, file := range []struct{ name, src string }{{"train.txt", train}, {"val.txt", val}, {"test.txt", test}} {
			out, err := readSplitList(strings.NewReader(file.src), file.name, seen)
			if err != nil {
				if !strings.Contains(err.Error(), file.name) {
					t.Fatalf("error %q does not name %s", err, file.name)
				}
				return
			}
			if len(out) == 0 {
				t.Fatalf("%s: no entries and no error", file.name)
			}
			for _, e := range out {
				if _, _, err := parseSplitEntry(e); err != nil {
					t.Fatalf("%s: accepted %q: %v", file.name, e, err)
				}
				if once[e] {
					t.Fatalf("entry %q accepted twice", e)
				}
				once[e] = true
			}
		}
	})
}

// FuzzOfficeCSV feeds arbitrary text as an Office-Caltech SURF CSV: a
// domain is returned with labels 0..9 and finite non-negative features,
// one row per image, or an error naming the file.
func FuzzOfficeCSV(f *testing.F) {
	f.Add("label,f0,f1,f2\n1,0,3,1\n10,2,0,0\n")
	f.Add("label,f0\n0,1\n")   // label out of range
	f.Add("label,f0\n1.5,1\n") // fractional label
	f.Add("label,f0\n2,-1\n")  // negative count
	f.Add("label\n1\n")        // no features
	f.Add("f0,label\n1,1\n")   // label not first
	f.Add("label,f0\n1,1e400\n")
	f.Add("label,f0\n1,NaN\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, src string) {
		tab, err := parseCSV(strings.NewReader(src), "office.csv")
		if err != nil {
			return // FuzzCSV covers the reader's own errors
		}
		d, err := officeFromTable(tab, "office.csv", "amazon", "A")
		if err != nil {
			if !strings.Contains(err.Error(), "office.csv") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		n, k := d.X.Dim(0), d.X.Dim(1)
		if n != len(tab.Rows) || len(d.Y) != n || k != len(tab.Header)-1 {
			t.Fatalf("X %v, %d labels for %d rows and %d columns", d.X.Shape(), len(d.Y), len(tab.Rows), len(tab.Header))
		}
		for i, y := range d.Y {
			if y < 0 || y >= len(d.ClassNames) {
				t.Fatalf("row %d: label %d outside 0..%d", i, y, len(d.ClassNames)-1)
			}
		}
		for i, v := range d.X.F64() {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("feature %d = %v", i, v)
			}
		}
	})
}
