package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/bench"
	"github.com/metalearn/metalearn/tensor"
)

func newBenchCmd() *cobra.Command {
	var (
		threads         int
		asJSON, noTorch bool
		python, script  string
		only, profile   string
		minTime         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark metalearn's workloads side by side with PyTorch (when installed)",
		Long: `Runs each workload in Go and, when python3 with torch is available, the same
workload from reference/bench_torch.py, with the same thread count on both
sides (OPENBLAS_CORETYPE=SkylakeX on the PyTorch side only). Prints the median
milliseconds of each side, the ratio PyTorch/Go (> 1: Go is faster), GFLOP/s
for the gemm workloads and the Go peak heap.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if threads < 1 {
				return fmt.Errorf("--threads = %d, want >= 1", threads)
			}
			old := tensor.SetThreads(threads)
			defer tensor.SetThreads(old)
			var torch map[string]bench.TorchResult
			torchNote := ""
			switch {
			case noTorch:
				torchNote = "PyTorch side skipped (--no-torch)"
			case !bench.TorchAvailable(python):
				torchNote = fmt.Sprintf("PyTorch side skipped: %s cannot import torch (apt-get install python3-torch)", python)
			default:
				if _, err := os.Stat(script); err != nil {
					return fmt.Errorf("--torch-script: %w", err)
				}
				t, err := bench.RunTorch(python, script, threads, only)
				if err != nil {
					return err
				}
				torch = t
			}
			if profile != "" {
				// the Go side only (PyTorch ran before): its timed runs and
				// the three heap-sampled runs after them
				f, err := os.Create(profile)
				if err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("--cpuprofile %s: %w", profile, err)
				}
				defer pprof.StopCPUProfile()
			}
			var results []bench.Result
			for _, w := range bench.Workloads() {
				if only != "" && !strings.Contains(w.Name, only) {
					continue
				}
				ms, runs, heap, rss := bench.RunGo(w, 10, minTime)
				r := bench.Result{Workload: w.Name, GoMS: ms, GoHeapMB: heap, GoRSSMB: rss, Runs: runs}
				if w.Flops > 0 {
					r.GoGFLOPS = w.Flops / (ms * 1e6)
				}
				if t, ok := torch[w.Name]; ok {
					r.TorchMS, r.TorchRSSMB = t.MS, t.RSSMB
					r.Ratio = t.MS / ms
					if w.Flops > 0 {
						r.TorchGFLOP = w.Flops / (t.MS * 1e6)
					}
				}
				results = append(results, r)
			}
			if asJSON {
				b, _ := json.Marshal(map[string]any{"threads": threads, "results": results, "note": torchNote})
				fmt.Fprintln(out, string(b))
				return nil
			}
			if torchNote != "" {
				fmt.Fprintln(out, torchNote)
			}
			fmt.Fprintf(out, "%-24s %12s %12s %14s %10s %12s %12s %12s\n", "workload", "Go ms", "PyTorch ms", "PyTorch/Go", "Go GFLOP/s", "Go heap MB", "Go +RSS MB", "Torch +RSS")
			for _, r := range results {
				tm, ratio, gf, grss, trss := "-", "-", "-", "-", "-"
				if r.TorchMS > 0 {
					tm = fmt.Sprintf("%.4g", r.TorchMS)
					ratio = fmt.Sprintf("%.2fx", r.Ratio)
				}
				if r.TorchRSSMB > 0 {
					trss = fmt.Sprintf("%.1f", r.TorchRSSMB)
				}
				if r.GoRSSMB >= 0 {
					grss = fmt.Sprintf("%.1f", r.GoRSSMB)
				}
				if r.GoGFLOPS > 0 {
					gf = fmt.Sprintf("%.1f", r.GoGFLOPS)
				}
				fmt.Fprintf(out, "%-24s %12.4g %12s %14s %10s %12.1f %12s %12s\n", r.Workload, r.GoMS, tm, ratio, gf, r.GoHeapMB, grss, trss)
			}
			fmt.Fprintln(out, "+RSS: peak resident memory added while the workload ran (VmHWM reset before it), the same measure on both sides")
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&threads, "threads", 2, "threads on both sides")
	f.BoolVar(&asJSON, "json", false, "one JSON object")
	f.BoolVar(&noTorch, "no-torch", false, "skip the PyTorch side")
	f.StringVar(&python, "python", "/usr/bin/python3", "python with torch")
	f.StringVar(&script, "torch-script", filepath.Join("reference", "bench_torch.py"), "PyTorch reference script")
	f.StringVar(&only, "only", "", "run only workloads whose name contains this")
	f.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the Go side to this file (go tool pprof)")
	f.DurationVar(&minTime, "min-time", time.Second, "minimum timing per Go workload")
	return cmd
}
