package mtl

import (
	"math"
	"strings"
	"testing"
)

// FuzzBaselines feeds arbitrary bytes as baselines.json: it is refused
// with an error naming the file, or it holds one finite metric and one
// direction per task, which Delta_p can compare against.
func FuzzBaselines(f *testing.F) {
	f.Add([]byte(`{"format":"metalearn-mtl-baselines/1","dataset":"circles","experiment":"circles-3","arch":"single","hidden":8,"seed":1,"steps":10,"lr":0.01,"tasks":["a","b"],"higher_is_better":[true,false],"metrics":[0.9,0.2]}`))
	f.Add([]byte(`{"format":"metalearn-mtl-baselines/1","tasks":["a"],"higher_is_better":[true],"metrics":[0.5,0.7]}`)) // more metrics than tasks
	f.Add([]byte(`{"format":"metalearn-mtl-baselines/1","tasks":["a"],"higher_is_better":[],"metrics":[0.5]}`))         // no direction
	f.Add([]byte(`{"format":"metalearn-mtl-baselines/1","tasks":["a"],"higher_is_better":[true],"metrics":[1e999]}`))
	f.Add([]byte(`{"format":"metalearn-mtl-baselines/1","tasks":[],"metrics":[]}`))
	f.Add([]byte(`{"format":"other"}`))
	f.Add([]byte(`{"format":"metalearn-mtl-baselines/1","tasks":["a"],"higher_is_better":[true],"metrics":[0]} {}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		bl, err := ParseBaselines(b, "baselines.json")
		if err != nil {
			if !strings.Contains(err.Error(), "baselines.json") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		n := len(bl.Tasks)
		if n == 0 || len(bl.Metrics) != n || (len(bl.HigherIsBetter) != n && len(bl.HigherIsBetter) != 0) {
			t.Fatalf("accepted %d tasks, %d metrics, %d directions", n, len(bl.Metrics), len(bl.HigherIsBetter))
		}
		for _, m := range bl.Metrics {
			if math.IsNaN(m) || math.IsInf(m, 0) {
				t.Fatalf("accepted metric %v", m)
			}
		}
		hib := bl.HigherIsBetter
		if len(hib) == 0 {
			hib = make([]bool, n)
		}
		_, _ = DeltaP(bl.Metrics, bl.Metrics, hib) // must not panic
	})
}
