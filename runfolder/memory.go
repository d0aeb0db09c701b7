package runfolder

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// PeakRSSMiB is the process's peak resident set size in MiB (Linux
// VmHWM), or 0 where /proc is not available.
func PeakRSSMiB() float64 {
	kb, ok := ProcStatusKiB("VmHWM:")
	if !ok {
		return 0
	}
	return float64(kb) / 1024
}

// ProcStatusKiB reads a "Name:  N kB" field of /proc/self/status (Linux),
// such as "VmRSS:" or "VmHWM:"; ok is false where it cannot be read.
func ProcStatusKiB(field string) (kb int64, ok bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, found := strings.CutPrefix(sc.Text(), field); found {
			fs := strings.Fields(rest)
			if len(fs) == 0 {
				return 0, false
			}
			v, err := strconv.ParseInt(fs[0], 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}
