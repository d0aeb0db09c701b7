package runfolder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzMetrics feeds arbitrary text as a run's metrics.jsonl to
// ReadMetrics and to the trimming a resume does: ReadMetrics returns
// records or an error naming the file and line, and whatever trimming
// keeps is a log ReadMetrics reads back, with no record past the step.
func FuzzMetrics(f *testing.F) {
	f.Add(`{"step":1,"split":"train","metric":"loss","value":0.5,"wall":0.1}`+"\n"+`{"step":2,"split":"val","metric":"acc","value":0.9,"wall":0.2}`+"\n", 1)
	f.Add(`{"step":1,"split":"train","metric":"loss","value":0.5}`+"\n"+`{"step":2,"spl`, 5) // torn last line
	f.Add("\n\n"+`{"step":-1}`+"\r\n"+`{"step":1e400}`+"\n", 0)
	f.Add(`{"step":1}{"step":2}`+"\n"+`[]`+"\n"+`null`+"\n", 3)
	f.Add(strings.Repeat("x", 2<<20)+"\n"+`{"step":1,"metric":"m","value":1}`+"\n", 2) // a line past bufio's 1 MiB
	f.Add("", 0)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src string, step int) {
		path := filepath.Join(dir, "metrics.jsonl")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadMetrics(path); err != nil && !strings.HasPrefix(err.Error(), path+":") {
			t.Fatalf("error %q does not name the file and line", err)
		}
		if err := trimMetrics(path, step); err != nil {
			t.Fatalf("trimMetrics: %v", err)
		}
		recs, err := ReadMetrics(path)
		if err != nil {
			t.Fatalf("the trimmed log does not read back: %v", err)
		}
		for _, r := range recs {
			if r.Step > step {
				t.Fatalf("record at step %d kept when trimming to %d", r.Step, step)
			}
		}
	})
}
