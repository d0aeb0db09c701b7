package data

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadParkinsonsSynthetic(t *testing.T) {
	const header = "subject#,age,sex,test_time,motor_UPDRS,total_UPDRS,Jitter(%)\n"
	tests := []struct {
		name    string
		src     string
		want    string // error substring; "" = success
		patient []int
	}{
		{"ok", header + "7,60,0,1.5,20,30,0.01\n3,70,1,-2,21,31,0.02\n7,60,0,9,22,32,0.03\n", "", []int{1, 0, 1}},
		{"no trailing newline", header + "5,60,0,1.5,20,30,0.01", "", []int{0}},
		{"missing subject column", "id,age,motor_UPDRS,total_UPDRS\n1,2,3,4\n", `no column "subject#"`, nil},
		{"missing target column", "subject#,age,motor_UPDRS\n1,2,3\n", `no column "total_UPDRS"`, nil},
		{"no features", "subject#,motor_UPDRS,total_UPDRS\n1,2,3\n", "no feature columns", nil},
		{"fractional subject", header + "1.5,60,0,1,20,30,0.01\n", "data row 1: subject# 1.5 is not an integer", nil},
		{"ragged row", header + "1,60,0,1,20,30\n", ":2: 6 columns, header has 7", nil},
		{"non-numeric", header + "1,60,0,1,20,30,0.01\n1,60,M,1,20,30,0.01\n", ":3: column 3 (sex)", nil},
		{"header only", header, "no data rows", nil},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "p"+string(rune('a'+i))+".data")
			if err := os.WriteFile(p, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := LoadParkinsons(p)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
					t.Fatalf("error %v, want one naming %s and containing %q", err, p, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.Patient, tc.patient) {
				t.Fatalf("patients %v, want %v", d.Patient, tc.patient)
			}
			if !slices.Equal(d.Features, []string{"age", "sex", "test_time", "Jitter(%)"}) {
				t.Fatalf("features %v", d.Features)
			}
			if s := d.X.Shape(); s[0] != len(tc.patient) || s[1] != 4 {
				t.Fatalf("X shape %v", s)
			}
			if d.Motor[0] != 20 || d.Total[0] != 30 || d.X.At(0, 3) != float64(float32(0.01)) {
				t.Fatalf("row 0: motor %v total %v X %v", d.Motor[0], d.Total[0], d.X.F32()[:4])
			}
		})
	}
	if _, err := LoadParkinsons(filepath.Join(dir, "absent.data")); err == nil || !strings.Contains(err.Error(), "absent.data") {
		t.Fatalf("error %v, want one naming absent.data", err)
	}
	d, err := LoadParkinsons(filepath.Join(dir, "pa.data"))
	if err != nil {
		t.Fatal(err)
	}
	if d.NumPatients != 2 || !slices.Equal(d.SubjectIDs, []int{3, 7}) {
		t.Fatalf("%d patients, subject ids %v", d.NumPatients, d.SubjectIDs)
	}
}

func TestLoadParkinsonsReal(t *testing.T) {
	p := sharedDataPath(t, "parkinsons-telemonitoring/parkinsons_updrs.data")
	d, err := LoadParkinsons(p)
	if err != nil {
		t.Fatal(err)
	}
	if s := d.X.Shape(); len(s) != 2 || s[0] != 5875 || s[1] != 19 {
		t.Fatalf("X shape %v, want [5875 19]", s)
	}
	if len(d.Motor) != 5875 || len(d.Total) != 5875 || len(d.Patient) != 5875 {
		t.Fatalf("%d motor, %d total, %d patient values", len(d.Motor), len(d.Total), len(d.Patient))
	}
	if d.NumPatients != 42 || len(d.SubjectIDs) != 42 || d.SubjectIDs[0] != 1 || d.SubjectIDs[41] != 42 {
		t.Fatalf("%d patients, subject ids %v", d.NumPatients, d.SubjectIDs)
	}
	wantFeat := []string{"age", "sex", "test_time", "Jitter(%)", "Jitter(Abs)", "Jitter:RAP", "Jitter:PPQ5", "Jitter:DDP",
		"Shimmer", "Shimmer(dB)", "Shimmer:APQ3", "Shimmer:APQ5", "Shimmer:APQ11", "Shimmer:DDA", "NHR", "HNR", "RPDE", "DFA", "PPE"}
	if !slices.Equal(d.Features, wantFeat) {
		t.Fatalf("features %v, want %v", d.Features, wantFeat)
	}
	counts := make([]int, d.NumPatients)
	for _, k := range d.Patient {
		counts[k]++
	}
	if lo, hi := slices.Min(counts), slices.Max(counts); lo != 101 || hi != 168 {
		t.Errorf("recordings per patient %d..%d, want 101..168", lo, hi)
	}
	if lo, hi := slices.Min(d.Motor), slices.Max(d.Motor); lo != 5.0377 || hi != 39.511 {
		t.Errorf("motor_UPDRS range %v..%v, want 5.0377..39.511", lo, hi)
	}
	if lo, hi := slices.Min(d.Total), slices.Max(d.Total); lo != 7 || hi != 54.992 {
		t.Errorf("total_UPDRS range %v..%v, want 7..54.992", lo, hi)
	}
	// First row: subject 1, age 72, sex 0, test_time 5.6431, motor 28.199.
	if d.Patient[0] != 0 || d.X.At(0, 0) != 72 || d.X.At(0, 1) != 0 || d.X.At(0, 2) != float64(float32(5.6431)) || d.Motor[0] != 28.199 || d.Total[0] != 34.398 {
		t.Errorf("row 0: patient %d, X %v, motor %v, total %v", d.Patient[0], d.X.F32()[:3], d.Motor[0], d.Total[0])
	}
}
