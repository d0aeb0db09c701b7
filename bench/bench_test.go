package bench

import (
	"strings"
	"testing"
	"time"
)

// Every workload sets up and runs; RunGo reports a positive median.
func TestWorkloadsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every benchmark workload once")
	}
	for _, w := range Workloads() {
		if strings.HasPrefix(w.Name, "mt_") {
			// seconds per run on a loaded 2-core machine, and RunGo runs
			// seven: one run shows the workload works
			w.Setup()()
			continue
		}
		ms, runs, heap, rss := RunGo(w, 1, time.Millisecond)
		if !(ms > 0) || runs < 1 || !(heap > 0) {
			t.Errorf("%s: median %v ms over %d runs, heap %v MB", w.Name, ms, runs, heap)
		}
		if _, ok := peakRSS(); ok {
			// the peak-RSS window works here: it must see the second-order
			// MAML step's hundreds of MB of intermediate tensors
			if rss < 0 || (w.Name == "omniglot_maml_2nd" && rss < 20) {
				t.Errorf("%s: peak RSS added %v MB", w.Name, rss)
			}
		}
	}
}

// benchWorkload runs one named workload under the Go benchmark harness
// (for -cpuprofile / -memprofile; `metalearn bench` is the reporting tool).
func benchWorkload(b *testing.B, name string) {
	for _, w := range Workloads() {
		if w.Name == name {
			op := w.Setup()
			op()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				op()
			}
			return
		}
	}
	b.Fatalf("no workload %q", name)
}

func BenchmarkConv4FwdBwd(b *testing.B)     { benchWorkload(b, "conv4_fwd_bwd_b25") }
func BenchmarkProtoNetEpisode(b *testing.B) { benchWorkload(b, "protonet_5w5s_episode") }
func BenchmarkOmniglotMAML2nd(b *testing.B) { benchWorkload(b, "omniglot_maml_2nd") }
func BenchmarkOmniglotMAML1st(b *testing.B) { benchWorkload(b, "omniglot_maml_1st") }

func BenchmarkSinusoidMAML2nd(b *testing.B) { benchWorkload(b, "sinusoid_maml_2nd") }
func BenchmarkSeedStep(b *testing.B)        { benchWorkload(b, "seed_step") }

func BenchmarkMTSmallTrainStep(b *testing.B)    { benchWorkload(b, "mt_small_train_step") }
func BenchmarkMTSmallGreedyDecode(b *testing.B) { benchWorkload(b, "mt_small_greedy_decode") }
func BenchmarkMTSmallBeam4Decode(b *testing.B)  { benchWorkload(b, "mt_small_beam4_decode") }
