package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// writeJSONLine is the commands' JSON output: one line (--json).
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
