package runfolder

import (
	"bytes"
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

func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := &Progress{W: &buf, Mode: Lines, Total: 100, Label: "meta", Interval: 10 * time.Second, Now: func() time.Time { return now }}
	p.Start(0)
	for step := 1; step <= 100; step++ {
		now = now.Add(time.Second) // 1 step per second
		p.Update(step, Field{"loss", 1.5})
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// first update, then one every 10 s, then the final one
	if len(lines) != 11 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	if want := "meta 1/100 (1%)  1.00 it/s  elapsed 1s  ETA 1m39s  loss 1.5"; lines[0] != want {
		t.Fatalf("first line %q, want %q", lines[0], want)
	}
	if !strings.HasPrefix(lines[10], "meta 100/100 (100%)") || strings.Contains(out, "\r") {
		t.Fatalf("last line %q", lines[10])
	}
}

func TestProgressBarAndQuiet(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := &Progress{W: &buf, Mode: Bar, Total: 4, Now: func() time.Time { return now }}
	p.Start(0)
	for step := 1; step <= 4; step++ {
		now = now.Add(time.Second)
		p.Update(step)
	}
	if !strings.Contains(buf.String(), "\r[") || !strings.HasSuffix(buf.String(), "\n") {
		t.Fatalf("bar output %q", buf.String())
	}
	buf.Reset()
	q := &Progress{W: &buf, Mode: Quiet, Total: 4}
	q.Start(0)
	q.Update(4)
	q.Println("x")
	if buf.Len() != 0 {
		t.Fatalf("quiet mode wrote %q", buf.String())
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
