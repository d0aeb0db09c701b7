package data

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCSV feeds arbitrary text to the numeric CSV reader and, when it
// parses, to the School (task,...,y) and Parkinson's conversions.
func FuzzCSV(f *testing.F) {
	f.Add("task,x1,x2,y\n1,0.5,2,10\n1,1,-3,11\n2,0,0,9\n")
	f.Add("\ufefftask,y\r\n1,2\r\n\r\n3,4\r\n")
	f.Add("subject#,age,motor_UPDRS,total_UPDRS,jitter\n1,60,10,20,0.01\n2,70,11,21,0.02\n")
	f.Add("a,b\n1,NaN\n")
	f.Add("a,b\n1\n")
	f.Add("a,a\n1,2\n")
	f.Add("task,y\n1e300,2\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, src string) {
		tab, err := parseCSV(strings.NewReader(src), "fuzz.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "data: fuzz.csv") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(tab.Rows) == 0 {
			t.Fatal("no rows but no error")
		}
		for i, r := range tab.Rows {
			if len(r) != len(tab.Header) {
				t.Fatalf("row %d has %d cells, header %d", i, len(r), len(tab.Header))
			}
			for _, v := range r {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("row %d holds %v", i, v)
				}
			}
		}
		if len(tab.Header) >= 2 {
			if d, err := tableToTasks(tab, tab.Header[0], tab.Header[len(tab.Header)-1]); err == nil {
				for _, k := range d.Task {
					if k < 0 || k >= d.NumTasks {
						t.Fatalf("task index %d of %d", k, d.NumTasks)
					}
				}
			}
		}
		if p, err := parkinsonsFromTable(tab, "fuzz.csv"); err == nil {
			for _, k := range p.Patient {
				if k < 0 || k >= p.NumPatients {
					t.Fatalf("patient index %d of %d", k, p.NumPatients)
				}
			}
		}
	})
}

// FuzzReadAlphabets feeds arbitrary text to the alphabets.tsv reader.
func FuzzReadAlphabets(f *testing.F) {
	f.Add("set\tfirst_id\tlast_id\talphabet\tn_chars\nbackground\t0001\t0026\tArcadian\t26\n")
	f.Add("background\t1\t2\tA\t2\nevaluation\t3\t3\tB\t1\n")
	f.Add("background\t2\t1\tA\t0\n")
	f.Add("x\n")
	p := filepath.Join(f.TempDir(), "alphabets.tsv")
	f.Fuzz(func(t *testing.T, src string) {
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		as, err := ReadAlphabets(p)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, a := range as {
			if a.First < 1 || a.Last < a.First {
				t.Fatalf("accepted bad row %+v", a)
			}
			_ = as.CharacterName(a.First)
			if nm := as.namer(a.Set); nm != nil {
				_ = nm(0, 1<<40)
			}
		}
	})
}
