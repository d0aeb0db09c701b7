package bench

import (
	"testing"
	"time"
)

// Every workload sets up and runs; RunGo reports a positive median.
func TestWorkloadsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every benchmark workload once")
	}
	for _, w := range Workloads() {
		ms, runs, heap := RunGo(w, 1, time.Millisecond)
		if !(ms > 0) || runs < 1 || !(heap > 0) {
			t.Errorf("%s: median %v ms over %d runs, heap %v MB", w.Name, ms, runs, heap)
		}
	}
}
