package main

import (
	"io"

	"github.com/metalearn/metalearn/runner"
)

// commandProgress is the progress display of a long command that has no
// --progress flag of its own: a bar with ETA on a terminal, a plain line
// every ten seconds in logs, nothing with --json (whose output must stay
// machine-readable). The library function the command calls drives it.
func commandProgress(stderr io.Writer, asJSON bool, label string, total int) *runner.Progress {
	if asJSON {
		return nil
	}
	mode, _ := runner.ModeFor(false, false, "auto", stderr)
	return &runner.Progress{W: stderr, Mode: mode, Label: label, Total: total}
}
