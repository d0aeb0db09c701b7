package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/metalearn/metalearn/runfolder"
)

// The runs API behind the dashboard (read-only, GET, same token as the
// rest of the API):
//
//	GET /v1/runs                      the run folders directly under the runs directory
//	GET /v1/runs/NAME                 one run: config.yaml (text), summary.json, status
//	GET /v1/runs/NAME/metrics?offset=N  metrics.jsonl records from byte N on
//
// Only plain names (as for models) directly under the runs directory are
// served; run folders and files that are symbolic links or not regular are
// neither listed nor read, and every open goes through an os.Root, so
// nothing outside the directory is reachable.

// Bounds of the runs API.
const (
	maxRunsListed   = 1000    // run folders in one listing
	maxRunTextBytes = 1 << 20 // config.yaml, summary.json
	maxMetricsChunk = 2 << 20 // metrics.jsonl bytes per request
	runActiveWindow = 2 * time.Minute
)

// RunInfo describes one run folder (GET /v1/runs).
type RunInfo struct {
	Name         string    `json:"name"`
	Status       string    `json:"status"` // finished (summary.json written), running (metrics written recently), stopped
	Modified     time.Time `json:"modified"`
	MetricsBytes int64     `json:"metrics_bytes"`
	HasConfig    bool      `json:"has_config"`
	HasSummary   bool      `json:"has_summary"`
}

// RunDetail is GET /v1/runs/NAME.
type RunDetail struct {
	RunInfo
	Config  string          `json:"config,omitempty"`
	Summary json.RawMessage `json:"summary,omitempty"`
}

// MetricsChunk is GET /v1/runs/NAME/metrics: the records in
// [offset, next offset). Reset is set when the log shrank or was rewritten
// since offset (a resumed run trims it): the records then start at 0.
type MetricsChunk struct {
	Offset   int64              `json:"offset"`
	Next     int64              `json:"next"`
	Size     int64              `json:"size"`
	Reset    bool               `json:"reset,omitempty"`
	More     bool               `json:"more,omitempty"`
	BadLines int                `json:"bad_lines,omitempty"`
	Records  []runfolder.Record `json:"records"`
}

type runStore struct {
	dir  string
	root *os.Root
}

func newRunStore(dir string) (*runStore, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("runs directory %s: %v", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("runs directory: %v", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("runs directory %s is not a directory", dir)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("runs directory: %v", err)
	}
	return &runStore{dir: abs, root: root}, nil
}

// runFiles names the files of run NAME relative to the runs directory,
// from runfolder's layout.
func runFiles(name string) *runfolder.Folder { return &runfolder.Folder{Dir: name} }

func (rs *runStore) serve(w http.ResponseWriter, r *http.Request) error {
	rest := strings.TrimPrefix(r.URL.Path, "/v1/runs")
	if rest == "" || rest == "/" {
		return rs.list(w)
	}
	parts := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	name := parts[0]
	if !ValidModelName(name) {
		return &apiError{http.StatusNotFound, fmt.Sprintf("invalid run name %q: want a plain folder name directly under the runs directory", name)}
	}
	switch {
	case len(parts) == 1:
		return rs.detail(w, name)
	case len(parts) == 2 && parts[1] == "metrics":
		var off int64
		if q := r.URL.Query().Get("offset"); q != "" {
			v, err := strconv.ParseInt(q, 10, 64)
			if err != nil || v < 0 {
				return badRequest("offset = %q, want a byte offset >= 0", q)
			}
			off = v
		}
		return rs.metrics(w, name, off)
	}
	return &apiError{http.StatusNotFound, fmt.Sprintf("no route %s (GET /v1/runs, /v1/runs/NAME, /v1/runs/NAME/metrics?offset=N)", r.URL.Path)}
}

// regular stats name inside the root without following a final symbolic
// link; ok only for a regular file.
func (rs *runStore) regular(name string) (fs.FileInfo, bool) {
	st, err := rs.root.Lstat(name)
	if err != nil || !st.Mode().IsRegular() {
		return nil, false
	}
	return st, true
}

// info describes run name, or fails when it is not a run folder.
func (rs *runStore) info(name string) (RunInfo, error) {
	st, err := rs.root.Lstat(name)
	if err != nil || !st.IsDir() {
		return RunInfo{}, &apiError{http.StatusNotFound, fmt.Sprintf("no run folder %q in the runs directory", name)}
	}
	f := runFiles(name)
	ri := RunInfo{Name: name, Modified: st.ModTime()}
	cfg, hasCfg := rs.regular(f.ConfigPath())
	met, hasMet := rs.regular(f.MetricsPath())
	sum, hasSum := rs.regular(f.SummaryPath())
	if !hasCfg && !hasMet && !hasSum {
		return RunInfo{}, &apiError{http.StatusNotFound, fmt.Sprintf("%q holds no run (no config.yaml, metrics.jsonl or summary.json)", name)}
	}
	ri.HasConfig, ri.HasSummary = hasCfg, hasSum
	for _, fi := range []fs.FileInfo{cfg, met, sum} {
		if fi != nil && fi.ModTime().After(ri.Modified) {
			ri.Modified = fi.ModTime()
		}
	}
	switch {
	case hasSum:
		ri.Status = "finished"
	case hasMet && time.Since(met.ModTime()) < runActiveWindow:
		ri.Status = "running"
	default:
		ri.Status = "stopped"
	}
	if hasMet {
		ri.MetricsBytes = met.Size()
	}
	return ri, nil
}

func (rs *runStore) list(w http.ResponseWriter) error {
	d, err := rs.root.Open(".")
	if err != nil {
		return fmt.Errorf("runs directory: %v", err)
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("runs directory: %v", err)
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	runs := []RunInfo{}
	truncated := false
	for _, e := range ents {
		// ReadDir reports a symbolic link as such (not its target):
		// only real directories with plain names are runs.
		if !e.IsDir() || e.Type()&fs.ModeSymlink != 0 || !ValidModelName(e.Name()) {
			continue
		}
		ri, err := rs.info(e.Name())
		if err != nil {
			continue
		}
		if len(runs) == maxRunsListed {
			truncated = true
			break
		}
		runs = append(runs, ri)
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs, "truncated": truncated})
	return nil
}

// readSmall reads a regular file of at most maxRunTextBytes.
func (rs *runStore) readSmall(name string) ([]byte, error) {
	if _, ok := rs.regular(name); !ok {
		return nil, os.ErrNotExist
	}
	f, err := rs.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRunTextBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRunTextBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", filepath.Base(name), maxRunTextBytes)
	}
	return b, nil
}

func (rs *runStore) detail(w http.ResponseWriter, name string) error {
	ri, err := rs.info(name)
	if err != nil {
		return err
	}
	d := RunDetail{RunInfo: ri}
	f := runFiles(name)
	if ri.HasConfig {
		b, err := rs.readSmall(f.ConfigPath())
		if err != nil {
			return &apiError{http.StatusUnprocessableEntity, fmt.Sprintf("run %s: config.yaml: %v", name, err)}
		}
		d.Config = string(b)
	}
	if ri.HasSummary {
		b, err := rs.readSmall(f.SummaryPath())
		if err != nil {
			return &apiError{http.StatusUnprocessableEntity, fmt.Sprintf("run %s: summary.json: %v", name, err)}
		}
		if !json.Valid(b) {
			return &apiError{http.StatusUnprocessableEntity, fmt.Sprintf("run %s: summary.json is not valid JSON", name)}
		}
		d.Summary = json.RawMessage(bytes.TrimSpace(b))
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// metrics answers the complete lines of metrics.jsonl from byte off on (at
// most maxMetricsChunk bytes). An offset past the end, or not at the start
// of a line, means the log was trimmed or rewritten (a resumed run): the
// answer then starts again at 0 with Reset set.
func (rs *runStore) metrics(w http.ResponseWriter, name string, off int64) error {
	if _, err := rs.info(name); err != nil {
		return err
	}
	p := runFiles(name).MetricsPath()
	out := MetricsChunk{Records: []runfolder.Record{}}
	if _, ok := rs.regular(p); !ok {
		writeJSON(w, http.StatusOK, out) // no metrics yet
		return nil
	}
	f, err := rs.root.Open(p)
	if err != nil {
		return fmt.Errorf("run %s: metrics.jsonl: %v", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("run %s: metrics.jsonl: %v", name, err)
	}
	out.Size = st.Size()
	if off > 0 {
		var prev [1]byte
		if off > out.Size {
			off, out.Reset = 0, true
		} else if _, err := f.ReadAt(prev[:], off-1); err != nil || prev[0] != '\n' {
			off, out.Reset = 0, true
		}
	}
	out.Offset, out.Next = off, off
	n := min(out.Size-off, maxMetricsChunk)
	buf := make([]byte, n)
	k, err := f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("run %s: metrics.jsonl: %v", name, err)
	}
	buf = buf[:k]
	end := bytes.LastIndexByte(buf, '\n')
	if end < 0 {
		if int64(k) == maxMetricsChunk {
			return &apiError{http.StatusUnprocessableEntity, fmt.Sprintf("run %s: metrics.jsonl has a line longer than %d bytes at byte %d", name, maxMetricsChunk, off)}
		}
		writeJSON(w, http.StatusOK, out) // only a line being written
		return nil
	}
	buf = buf[:end+1]
	out.Next = off + int64(len(buf))
	out.More = out.Next < out.Size && int64(k) == maxMetricsChunk
	for _, line := range bytes.Split(buf[:end], []byte{'\n'}) {
		var rec runfolder.Record
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if json.Unmarshal(line, &rec) != nil {
			out.BadLines++
			continue
		}
		out.Records = append(out.Records, rec)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
