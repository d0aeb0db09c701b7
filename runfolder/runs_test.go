package runfolder

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFolderLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := []byte("kind: meta\n")
	f, err := Create(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for step := 1; step <= 6; step++ {
		if err := f.Log(step, "train", "loss", 1/float64(step)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Log(7, "train", "loss", math.NaN()); err == nil {
		t.Fatal("NaN metric accepted")
	}
	f.Close()
	// a second Create on the same folder is refused
	if _, err := Create(dir, cfg); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("err = %v", err)
	}
	// a torn last line (killed process) and records after the checkpoint are dropped
	fh, _ := os.OpenFile(f.MetricsPath(), os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString(`{"step":7,"spl`)
	fh.Close()
	if _, err := Resume(dir, []byte("kind: mtl\n"), 4, 0); err == nil {
		t.Fatal("resumed with a different config")
	}
	g, err := Resume(dir, cfg, 4, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if g.Elapsed() < 3*time.Second {
		t.Fatalf("elapsed %v does not include the earlier run", g.Elapsed())
	}
	g.Log(5, "val", "acc", 0.5)
	g.Close()
	recs, err := ReadMetrics(g.MetricsPath())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 || recs[3].Step != 4 || recs[4].Split != "val" {
		t.Fatalf("records after resume: %+v", recs)
	}
	files, err := PlotRecords(recs, g.PlotDir(), "test")
	if err != nil || len(files) != 4 {
		t.Fatalf("plots: %v %v", files, err)
	}
	if err := g.WriteSummary(map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestUnwritableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		// root ignores permissions; use a path under a regular file instead
		base := filepath.Join(t.TempDir(), "file")
		os.WriteFile(base, nil, 0o644)
		if _, err := Create(filepath.Join(base, "run"), []byte("x")); err == nil || !strings.Contains(err.Error(), "cannot create") {
			t.Fatalf("err = %v", err)
		}
		return
	}
	ro := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(ro, 0o555)
	if _, err := Create(filepath.Join(ro, "run"), []byte("x")); err == nil || !strings.Contains(err.Error(), "cannot create") {
		t.Fatalf("err = %v", err)
	}
}

func TestPeakRSS(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = 1
	}
	if p := PeakRSSMiB(); p < 64 {
		t.Fatalf("peak RSS %.1f MiB after touching 64 MiB", p)
	}
	_ = buf[len(buf)-1]
}

// Temporary files left by a process killed during an atomic write (a
// checkpoint, the config, the trimmed metrics) are removed when the run
// folder is next started; other files stay.
func TestResumeCleansOrphanTemporaries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := []byte("kind: meta\n")
	f, err := Create(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.Log(1, "train", "loss", 1)
	f.Close()
	orphans := []string{
		filepath.Join(dir, "checkpoints", ".latest.safetensors.tmp-123456"),
		filepath.Join(dir, ".metrics.jsonl.tmp98765"),
		filepath.Join(dir, ".summary.json.tmp1"),
	}
	keep := []string{filepath.Join(dir, "notes.tmp.txt"), filepath.Join(dir, "checkpoints", "best.safetensors")}
	for _, p := range append(append([]string(nil), orphans...), keep...) {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g, err := Resume(dir, cfg, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for _, p := range orphans {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("orphan %s still there after Resume", p)
		}
	}
	for _, p := range keep {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	if len(g.Cleaned) != len(orphans) {
		t.Errorf("Cleaned = %v, want the %d orphans", g.Cleaned, len(orphans))
	}
}
