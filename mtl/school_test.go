package mtl

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/data"
)

func schoolData(t *testing.T) *data.TaskRegression {
	p := filepath.Join("..", "..", "shared", "data", "school", "school.csv")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("School data not found at %s; skipping", p)
	}
	d, err := data.LoadSchool(p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// One split, short training: sharing must beat independent least squares
// per school, and the additive model must beat pooling.
func TestSchoolSharingHelps(t *testing.T) {
	d := schoolData(t)
	if d.NumTasks != 139 || d.X.Dim(0) != 15362 || d.X.Dim(1) != 28 {
		t.Fatalf("School: %d tasks, X %v", d.NumTasks, d.X.Shape())
	}
	ms := []SchoolMethod{DefaultSchoolMethods[0], DefaultSchoolMethods[2], DefaultSchoolMethods[3]}
	res, err := RunSchool(d, ms, 1, 150, 0.03)
	if err != nil {
		t.Fatal(err)
	}
	ev := map[string]float64{}
	for _, r := range res {
		ev[r.Method] = r.Mean
		t.Logf("%s: %.2f%% explained variance (%.1fs)", r.Method, r.Mean, r.Seconds)
	}
	if !(ev["additive"] > ev["pooled"] && ev["pooled"] > ev["stl"] && ev["additive"] > 25) {
		t.Errorf("explained variance %v: want additive > pooled > stl and additive > 25%%", ev)
	}
}

func TestDeltaConventions(t *testing.T) {
	// task 0 accuracy 0.9 vs 0.8 (higher better, +12.5%), task 1 error 0.3 vs
	// 0.2 (lower better, -50%): mean -18.75
	p, err := DeltaP([]float64{0.9, 0.3}, []float64{0.8, 0.2}, []bool{true, false})
	if err != nil || math.Abs(p+18.75) > 1e-9 {
		t.Fatalf("DeltaP = %v, %v", p, err)
	}
	m, _ := DeltaM([]float64{0.9, 0.3}, []float64{0.8, 0.2}, []bool{true, false})
	if math.Abs(m-18.75) > 1e-9 {
		t.Fatalf("DeltaM = %v", m)
	}
	if _, err := DeltaP([]float64{1}, []float64{0}, []bool{true}); err == nil {
		t.Fatal("zero baseline accepted")
	}
}

func TestPickMethods(t *testing.T) {
	got, err := PickMethods("hard, stl", DefaultSchoolMethods)
	if err != nil || len(got) != 2 || got[0].Name != "hard" || got[1].Name != "stl" {
		t.Fatalf("%+v, %v", got, err)
	}
	if _, err := PickMethods("stl,nope", DefaultSchoolMethods); err == nil || !strings.Contains(err.Error(), `unknown method "nope"`) {
		t.Errorf("error %v", err)
	}
}
