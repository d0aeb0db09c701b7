package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/metalearn/metalearn/runfolder"
)

// The commands' JSON output: one line on stdout (--json) or an indented
// file written atomically.

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func writeJSONFile(path string, v any) error {
	b, err := jsonIndent(v)
	if err != nil {
		return err
	}
	return runfolder.WriteFileAtomic(path, b)
}

func jsonIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return append(b, '\n'), err
}
