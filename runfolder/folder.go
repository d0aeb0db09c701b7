package runfolder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/metalearn/metalearn/plots"
)

// Folder is an open run folder.
type Folder struct {
	Dir string
	// Cleaned lists the orphan temporary files (from a process killed
	// during an atomic write) removed when the folder was opened.
	Cleaned []string
	start   time.Time
	mu      sync.Mutex
	metrics *os.File
}

// Record is one line of metrics.jsonl.
type Record struct {
	Step   int     `json:"step"`
	Split  string  `json:"split"`
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	Wall   float64 `json:"wall"` // seconds since the run started (across resumes)
}

// Paths inside a run folder.
func (f *Folder) ConfigPath() string  { return filepath.Join(f.Dir, "config.yaml") }
func (f *Folder) MetricsPath() string { return filepath.Join(f.Dir, "metrics.jsonl") }
func (f *Folder) CheckpointPath() string {
	return filepath.Join(f.Dir, "checkpoints", "latest.safetensors")
}
func (f *Folder) ModelPath() string   { return filepath.Join(f.Dir, "model.safetensors") }
func (f *Folder) SummaryPath() string { return filepath.Join(f.Dir, "summary.json") }
func (f *Folder) PlotDir() string     { return filepath.Join(f.Dir, "plots") }

// Create starts a new run in dir with the resolved configuration. A folder
// that already holds a run is refused (resume it, or choose another).
func Create(dir string, config []byte) (*Folder, error) {
	f := &Folder{Dir: dir, start: time.Now()}
	f.Cleaned = cleanTemporaries(dir)
	for _, p := range []string{f.SummaryPath(), f.CheckpointPath(), f.MetricsPath()} {
		if _, err := os.Stat(p); err == nil {
			return nil, fmt.Errorf("run folder %s already holds a run (%s); continue it with --resume or choose another folder (--out)", dir, filepath.Base(p))
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755); err != nil {
		return nil, fmt.Errorf("run folder %s: cannot create it: %w", dir, unwrapPath(err))
	}
	if err := WriteFileAtomic(f.ConfigPath(), config); err != nil {
		return nil, fmt.Errorf("run folder %s: %w", dir, err)
	}
	m, err := os.OpenFile(f.MetricsPath(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run folder %s: %w", dir, unwrapPath(err))
	}
	f.metrics = m
	return f, nil
}

// Resume reopens the run in dir, which must have been started with the
// same resolved configuration. Metric records after step (the checkpoint's
// step) are dropped, since the resumed run recomputes them; elapsed is the
// wall time the run had used by then.
func Resume(dir string, config []byte, step int, elapsed time.Duration) (*Folder, error) {
	f := &Folder{Dir: dir, start: time.Now().Add(-elapsed)}
	f.Cleaned = cleanTemporaries(dir)
	old, err := os.ReadFile(f.ConfigPath())
	if err != nil {
		return nil, fmt.Errorf("run folder %s: cannot resume: %w", dir, unwrapPath(err))
	}
	if !bytes.Equal(old, config) {
		return nil, fmt.Errorf("run folder %s: cannot resume: its config.yaml differs from this configuration (start a new run with another --out, or resume with the same settings)", dir)
	}
	if err := trimMetrics(f.MetricsPath(), step); err != nil {
		return nil, fmt.Errorf("run folder %s: %w", dir, err)
	}
	os.Remove(f.SummaryPath())
	m, err := os.OpenFile(f.MetricsPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run folder %s: %w", dir, unwrapPath(err))
	}
	f.metrics = m
	return f, nil
}

// cleanTemporaries removes the temporary files of atomic writes
// (".NAME.tmp*", WriteFileAtomic's and checkpoint.WriteFile's) that a
// process killed mid-write left in dir and dir/checkpoints, and returns
// their paths. Only this run's own writers use the folder, so a
// temporary found when a run starts is an orphan.
func cleanTemporaries(dir string) []string {
	var out []string
	for _, d := range []string{dir, filepath.Join(dir, "checkpoints")} {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			n := e.Name()
			if !e.Type().IsRegular() || !strings.HasPrefix(n, ".") || !strings.Contains(n, ".tmp") {
				continue
			}
			p := filepath.Join(d, n)
			if os.Remove(p) == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// trimMetrics keeps the records with Step <= step (and drops a torn last
// line left by a killed process).
func trimMetrics(path string, step int) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep bytes.Buffer
	for _, l := range lines(b) {
		var r Record
		if json.Unmarshal(l, &r) != nil || r.Step > step {
			continue
		}
		keep.Write(l)
		keep.WriteByte('\n')
	}
	return WriteFileAtomic(path, keep.Bytes())
}

// lines splits a metrics log into its non-blank lines (no length limit:
// a damaged long line is one bad record, not the end of the file).
func lines(b []byte) [][]byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if l = bytes.TrimRight(l, "\r"); len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// Elapsed is the run's wall time so far, across resumes.
func (f *Folder) Elapsed() time.Duration { return time.Since(f.start) }

// Log appends one metric record. JSON has no NaN or infinity, so a
// non-finite value is not recorded and is reported in the returned error.
func (f *Folder) Log(step int, split, metric string, value float64) error {
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return fmt.Errorf("metric %s/%s at step %d is %v; not recorded", split, metric, step, value)
	}
	b, _ := json.Marshal(Record{Step: step, Split: split, Metric: metric, Value: value, Wall: math.Round(f.Elapsed().Seconds()*1000) / 1000})
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.metrics.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", f.MetricsPath(), err)
	}
	return nil
}

// Sync flushes the metrics log to disk (called at checkpoints).
func (f *Folder) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.metrics.Sync()
}

// Close closes the metrics log.
func (f *Folder) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.metrics == nil {
		return nil
	}
	err := f.metrics.Close()
	f.metrics = nil
	return err
}

// WriteSummary writes summary.json (atomically, last).
func (f *Folder) WriteSummary(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return WriteFileAtomic(f.SummaryPath(), append(b, '\n'))
}

// ReadMetrics reads a metrics.jsonl file.
func ReadMetrics(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Record
	for i, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(l, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// PlotCurves draws one learning-curve chart per metric (a line per split)
// from the metrics log into plots/, returning the files written.
func (f *Folder) PlotCurves(title string) ([]string, error) {
	if err := f.Sync(); err != nil {
		return nil, err
	}
	recs, err := ReadMetrics(f.MetricsPath())
	if err != nil {
		return nil, err
	}
	return PlotRecords(recs, f.PlotDir(), title)
}

// PlotRecords draws one chart per metric into dir.
func PlotRecords(recs []Record, dir, title string) ([]string, error) {
	type key struct{ metric, split string }
	series := map[key]*plots.Series{}
	metrics := map[string][]string{}
	for _, r := range recs {
		k := key{r.Metric, r.Split}
		s, ok := series[k]
		if !ok {
			s = &plots.Series{Name: r.Split}
			series[k] = s
			metrics[r.Metric] = append(metrics[r.Metric], r.Split)
		}
		s.X = append(s.X, float64(r.Step))
		s.Y = append(s.Y, r.Value)
	}
	names := make([]string, 0, len(metrics))
	for m := range metrics {
		names = append(names, m)
	}
	sort.Strings(names)
	var files []string
	for _, m := range names {
		l := plots.Line{Title: title + ": " + m, XLabel: "step", YLabel: m}
		for _, sp := range metrics[m] {
			l.Series = append(l.Series, *series[key{m, sp}])
		}
		ps, err := l.Save(filepath.Join(dir, m))
		if err != nil {
			return files, err
		}
		files = append(files, ps...)
	}
	return files, nil
}

// WriteFileAtomic writes b to path through a temporary file in the same
// folder, fsyncs it, renames it over path and fsyncs the folder.
func WriteFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	if _, err := tmp.Write(b); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// unwrapPath drops the *PathError wrapper whose path the caller already names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
