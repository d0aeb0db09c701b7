package main

import (
	"io"

	"github.com/metalearn/metalearn/runner"
)

// commandProgress is the progress display of a long command that has no
// --progress flag of its own (runner.CommandProgress on stderr), nothing
// with --json (whose output must stay machine-readable). The library
// function the command calls drives it.
func commandProgress(stderr io.Writer, asJSON bool, label string, total int) *runner.Progress {
	if asJSON {
		return nil
	}
	return runner.CommandProgress(stderr, label, total)
}
