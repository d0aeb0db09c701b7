package runner

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// Mode selects how progress is shown.
type Mode int

const (
	Bar   Mode = iota // a redrawn bar with rate, ETA and the latest values (terminals)
	Lines             // a plain line at most every Interval (logs, CI, pipes)
	JSON              // one JSON object per update
	Quiet             // nothing
)

// Field is one named value shown with the progress.
type Field struct {
	Name  string
	Value float64
}

// Progress reports a loop's progress to a writer.
type Progress struct {
	W        io.Writer
	Mode     Mode
	Total    int
	Label    string
	Interval time.Duration // Lines: minimum time between lines (default 10 s); Bar: redraw (default 200 ms)
	Now      func() time.Time

	start     time.Time
	first     int
	last      time.Time
	lastStep  int
	drawnOnce bool
	barLen    int
}

// Start begins timing at step first (non-zero when resuming).
func (p *Progress) Start(first int) {
	if p.Now == nil {
		p.Now = time.Now
	}
	p.start, p.first, p.lastStep = p.Now(), first, first
	if p.Interval == 0 {
		if p.Mode == Bar {
			p.Interval = 200 * time.Millisecond
		} else {
			p.Interval = 10 * time.Second
		}
	}
}

// Update reports that step steps (of Total) are done.
func (p *Progress) Update(step int, fields ...Field) {
	now := p.Now()
	p.lastStep = step
	if p.Mode == Quiet {
		return
	}
	if p.Mode == JSON {
		m := map[string]any{"step": step, "total": p.Total}
		for _, f := range fields {
			m[f.Name] = f.Value
		}
		b, _ := json.Marshal(m)
		fmt.Fprintln(p.W, string(b))
		return
	}
	final := step >= p.Total
	if p.drawnOnce && now.Sub(p.last) < p.Interval && !final {
		return
	}
	p.last, p.drawnOnce = now, true
	elapsed := now.Sub(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(step-p.first) / elapsed.Seconds()
	}
	eta := "?"
	if rate > 0 {
		eta = fmtDuration(time.Duration(float64(p.Total-step) / rate * float64(time.Second)))
	}
	var vals strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&vals, "  %s %.4g", f.Name, f.Value)
	}
	pct := 100 * float64(step) / float64(max(p.Total, 1))
	if p.Mode == Lines {
		fmt.Fprintf(p.W, "%s%d/%d (%.0f%%)  %.2f it/s  elapsed %s  ETA %s%s\n", p.label(), step, p.Total, pct, rate, fmtDuration(elapsed), eta, vals.String())
		return
	}
	const width = 24
	filled := int(float64(width) * float64(step) / float64(max(p.Total, 1)))
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	line := fmt.Sprintf("\r%s[%s] %3.0f%% %d/%d  %.2f it/s  ETA %s%s", p.label(), bar, pct, step, p.Total, rate, eta, vals.String())
	pad := ""
	if n := len(line); n < p.barLen {
		pad = strings.Repeat(" ", p.barLen-n)
	}
	p.barLen = len(line)
	fmt.Fprint(p.W, line+pad)
	if final {
		fmt.Fprintln(p.W)
		p.barLen = 0
	}
}

// Clear erases a bar being drawn (it is redrawn by the next Update), so
// that another writer can print to the same terminal; a no-op otherwise.
func (p *Progress) Clear() {
	if p == nil || p.Mode != Bar || p.barLen == 0 {
		return
	}
	fmt.Fprint(p.W, "\r"+strings.Repeat(" ", p.barLen)+"\r")
	p.barLen = 0
	p.drawnOnce = false
}

// Println prints a message without garbling a bar being drawn (nothing in
// the Quiet and JSON modes, or on a nil Progress).
func (p *Progress) Println(msg string) {
	if p == nil || p.Mode == Quiet || p.Mode == JSON {
		return
	}
	p.Clear()
	fmt.Fprintln(p.W, msg)
}

func (p *Progress) label() string {
	if p.Label == "" {
		return ""
	}
	return p.Label + " "
}

func fmtDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%dh%02dm%02ds", s/3600, s/60%60, s%60)
	}
	if s >= 60 {
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%ds", s)
}

// ModeFor chooses the progress mode from the usual command-line options:
// --quiet, --json, and --progress auto (a bar when w is a terminal, lines
// otherwise), bar or lines.
func ModeFor(quiet, asJSON bool, progress string, w io.Writer) (Mode, error) {
	switch {
	case quiet && asJSON:
		return 0, fmt.Errorf("--quiet and --json: choose one")
	case quiet:
		return Quiet, nil
	case asJSON:
		return JSON, nil
	}
	switch progress {
	case "bar":
		return Bar, nil
	case "lines":
		return Lines, nil
	case "auto", "":
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return Bar, nil
		}
		return Lines, nil
	}
	return 0, fmt.Errorf("--progress %q, want auto, bar or lines", progress)
}

// CommandProgress is the progress display of a long command that has no
// --progress option of its own: a bar with ETA when w is a terminal, a
// plain line every ten seconds otherwise (logs, CI, files).
func CommandProgress(w io.Writer, label string, total int) *Progress {
	mode, _ := ModeFor(false, false, "auto", w)
	return &Progress{W: w, Mode: mode, Label: label, Total: total}
}
