package mtl

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/metalearn/metalearn/data"
)

const parkinsonsFile = "../../shared/data/parkinsons-telemonitoring/parkinsons_updrs.data"

func loadParkinsons(t *testing.T) *data.PatientData {
	t.Helper()
	if _, err := os.Stat(parkinsonsFile); err != nil {
		t.Skipf("Parkinson's data not found at %s (../shared/data from the repository root): %v", parkinsonsFile, err)
	}
	d, err := data.LoadParkinsons(parkinsonsFile)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParkinsonsSplit(t *testing.T) {
	d := loadParkinsons(t)
	s, err := parkinsonsSplit(d, "total", 0.75, 1)
	if err != nil {
		t.Fatal(err)
	}
	e := s.Experiment
	if len(e.Tasks) != 42 || e.Train.Rows()+e.Test.Rows() != 5875 || e.Features != 19 {
		t.Fatalf("%d tasks, %d+%d rows, %d features", len(e.Tasks), e.Train.Rows(), e.Test.Rows(), e.Features)
	}
	if f := float64(e.Train.Rows()) / 5875; math.Abs(f-0.75) > 0.01 {
		t.Errorf("train fraction %.3f", f)
	}
	if err := e.Train.Validate(e.Tasks); err != nil {
		t.Fatal(err)
	}
	if _, err := parkinsonsSplit(d, "tremor", 0.75, 1); err == nil {
		t.Error("unknown target: no error")
	}
	// predicting the training mean gives MSE ~ the target's variance
	zero, _ := SchoolModel("pooled", rand.New(rand.NewPCG(1, 1)), 19, 42, 1)
	for _, p := range zero.Shared() {
		p.V.Value.ScaleInPlace(0)
	}
	mse := s.TestMSE(zero)
	if r := mse / (s.YSD * s.YSD); r < 0.8 || r > 1.2 {
		t.Errorf("constant predictor MSE %.2f vs variance %.2f", mse, s.YSD*s.YSD)
	}
}

// Per-patient and shared models beat one pooled linear model by far
// (patients differ in their UPDRS level), on one split, both targets.
func TestRunParkinsonsSmall(t *testing.T) {
	d := loadParkinsons(t)
	methods := []SchoolMethod{{Name: "stl", Model: "stl"}, {Name: "pooled", Model: "pooled"}, {Name: "additive", Model: "additive", WeightDecaySpecific: 0.1}}
	res, err := RunParkinsons(d, methods, 0.75, 1, 60, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, r := range res {
		t.Logf("%-8s %-5s MSE %.2f", r.Method, r.Target, r.Mean)
		got[r.Method+"/"+r.Target] = r.Mean
	}
	for _, tg := range ParkinsonsTargets {
		if !(got["additive/"+tg] < 0.5*got["pooled/"+tg]) || !(got["stl/"+tg] < 0.5*got["pooled/"+tg]) {
			t.Errorf("%s: additive %.2f, stl %.2f, pooled %.2f", tg, got["additive/"+tg], got["stl/"+tg], got["pooled/"+tg])
		}
	}
}

func TestParkinsonsWithoutFeatures(t *testing.T) {
	d := loadParkinsons(t)
	nd, err := WithoutFeatures(d, "test_time")
	if err != nil {
		t.Fatal(err)
	}
	if nd.X.Dim(1) != 18 || len(nd.Features) != 18 || d.X.Dim(1) != 19 {
		t.Fatalf("%d columns, %d names (original %d)", nd.X.Dim(1), len(nd.Features), d.X.Dim(1))
	}
	for _, f := range nd.Features {
		if f == "test_time" {
			t.Fatal("test_time still there")
		}
	}
	if nd.X.At(5, 2) != d.X.At(5, 3) { // age, sex, test_time, Jitter(%): Jitter moved left
		t.Errorf("columns shifted wrongly")
	}
	if _, err := WithoutFeatures(d, "nope"); err == nil {
		t.Error("unknown feature: no error")
	}
}
