package data

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Segment is one parallel segment: a source text and its translation,
// with the identifiers the file format has (ID: a TSV id column, a TMX
// tuid or a gettext msgid's position; Context: gettext's msgctxt).
type Segment struct {
	ID, Context    string
	Source, Target string
	// Line is the 1-based line of the segment in its file (0 when the
	// format has no lines, e.g. .mo).
	Line int
}

// ParseError is bad input in a data file: the file, the 1-based line (0
// when unknown) and what is wrong.
type ParseError struct {
	File   string
	Line   int
	Reason string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Reason)
}

func parseErr(file string, line int, format string, args ...any) error {
	return &ParseError{File: file, Line: line, Reason: fmt.Sprintf(format, args...)}
}

// maxLineBytes bounds one line of a text corpus file.
const maxLineBytes = 16 << 20

// readLines splits r into lines (without the "\n" and a final "\r"),
// checking UTF-8. A last line without "\n" counts; an empty input has no
// lines.
func readLines(r io.Reader, name string) ([]string, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var lines []string
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		var long []byte
		for err == bufio.ErrBufferFull {
			long = append(long, line...)
			if len(long) > maxLineBytes {
				return nil, parseErr(name, n, "line longer than %d bytes", maxLineBytes)
			}
			line, err = br.ReadSlice('\n')
		}
		if long != nil {
			line = append(long, line...)
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		if len(line) == 0 && err == io.EOF {
			return lines, nil
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if !utf8.Valid(line) {
			return nil, parseErr(name, n, "invalid UTF-8 at byte %d of the line", invalidAt(line))
		}
		lines = append(lines, string(line))
		if err == io.EOF {
			return lines, nil
		}
	}
}

func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i + 1
		}
		i += size
	}
	return 0
}

// ReadLines reads a UTF-8 text file as lines ("\n" or "\r\n" endings),
// e.g. a hypothesis file; bad UTF-8 is an error naming file and line.
func ReadLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLines(f, path)
}

// ParseMoses pairs two line-aligned texts (Moses style: corpus.en and
// corpus.de, one segment per line); the line counts must match.
func ParseMoses(src, tgt io.Reader, srcName, tgtName string) ([]Segment, error) {
	s, err := readLines(src, srcName)
	if err != nil {
		return nil, err
	}
	t, err := readLines(tgt, tgtName)
	if err != nil {
		return nil, err
	}
	if len(s) != len(t) {
		return nil, parseErr(tgtName, 0, "%d lines, but %s has %d: Moses-style parallel files must have the same number of lines", len(t), srcName, len(s))
	}
	out := make([]Segment, len(s))
	for i := range s {
		out[i] = Segment{Source: s[i], Target: t[i], Line: i + 1}
	}
	return out, nil
}

// ReadMoses reads the parallel files prefix.src and prefix.tgt (e.g.
// ReadMoses("train", "en", "de") reads train.en and train.de).
func ReadMoses(prefix, src, tgt string) ([]Segment, error) {
	a, b := prefix+"."+src, prefix+"."+tgt
	fa, err := os.Open(a)
	if err != nil {
		return nil, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return nil, err
	}
	defer fb.Close()
	return ParseMoses(fa, fb, a, b)
}

// ParseParallelTSV reads tab-separated parallel text: either two columns
// (source<TAB>target) or three (id<TAB>source<TAB>target, the lo-mt
// layout). Every line must have the column count of the first; no header;
// an empty line is an error.
func ParseParallelTSV(r io.Reader, name string) ([]Segment, error) {
	lines, err := readLines(r, name)
	if err != nil {
		return nil, err
	}
	cols := 0
	out := make([]Segment, 0, len(lines))
	for i, l := range lines {
		f := strings.Split(l, "\t")
		if cols == 0 {
			cols = len(f)
			if cols != 2 && cols != 3 {
				return nil, parseErr(name, i+1, "%d tab-separated columns, want 2 (source, target) or 3 (id, source, target)", cols)
			}
		}
		if len(f) != cols {
			return nil, parseErr(name, i+1, "%d tab-separated columns, want %d like line 1", len(f), cols)
		}
		s := Segment{Line: i + 1}
		if cols == 3 {
			if f[0] == "" {
				return nil, parseErr(name, i+1, "empty id")
			}
			s.ID, f = f[0], f[1:]
		}
		s.Source, s.Target = f[0], f[1]
		out = append(out, s)
	}
	return out, nil
}

// ReadParallelTSV reads a parallel TSV file (see ParseParallelTSV).
func ReadParallelTSV(path string) ([]Segment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseParallelTSV(f, path)
}
