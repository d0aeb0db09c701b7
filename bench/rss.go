package bench

import (
	"os"

	"github.com/metalearn/metalearn/runfolder"
)

// Peak memory, measured the same way on both sides of the benchmark: the
// kernel's peak resident set size (VmHWM) is reset through
// /proc/self/clear_refs ("5", Linux >= 4.0) just before a workload, and
// its increase over the resident set at that moment is the workload's
// peak memory. reference/bench_torch.py does the same for PyTorch.

// resetPeakRSS resets VmHWM to the current RSS and returns it in KiB
// (ok = false where /proc does not support it).
func resetPeakRSS() (int64, bool) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0, false
	}
	return runfolder.ProcStatusKiB("VmRSS:")
}

// peakRSS returns VmHWM in KiB.
func peakRSS() (int64, bool) { return runfolder.ProcStatusKiB("VmHWM:") }
