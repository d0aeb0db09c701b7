package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/metalearn/metalearn/tensor"
)

// maxTextLine bounds one line of a CSV or ARFF file (a variable so that
// tests can lower it).
var maxTextLine = 1 << 26

// lineError explains a bufio.Scanner error.
func lineError(err error) error {
	if errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("line longer than %d bytes (not a text file, or no line breaks)", maxTextLine)
	}
	return err
}

// Table is a numeric CSV file: a header and rows of float64 values.
type Table struct {
	Path   string
	Header []string
	Rows   [][]float64
}

// ReadCSV reads a comma-separated file whose first line is a header and
// whose other lines are all numeric with the header's number of columns.
// Errors name the file, line and column: a ragged row, a non-numeric cell,
// NaN or Inf, an empty file, two columns with the same name. A UTF-8
// byte-order mark before the header is ignored.
func ReadCSV(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	return parseCSV(f, path)
}

// parseCSV reads CSV text from r as ReadCSV does; path names it in errors.
func parseCSV(r io.Reader, path string) (*Table, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxTextLine)), maxTextLine)
	t := &Table{Path: path}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff") // UTF-8 byte-order mark
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		cells := strings.Split(text, ",")
		if t.Header == nil {
			seen := make(map[string]int, len(cells))
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
				if j, dup := seen[cells[i]]; dup {
					return nil, fmt.Errorf("data: %s:%d: column %d (%q) has the same name as column %d", path, line, i+1, cells[i], j+1)
				}
				seen[cells[i]] = i
			}
			t.Header = cells
			continue
		}
		if len(cells) != len(t.Header) {
			return nil, fmt.Errorf("data: %s:%d: %d columns, header has %d", path, line, len(cells), len(t.Header))
		}
		row := make([]float64, len(cells))
		for i, c := range cells {
			v, err := strconv.ParseFloat(strings.TrimSpace(c), 64)
			if errors.Is(err, strconv.ErrRange) && math.IsInf(v, 0) {
				return nil, fmt.Errorf("data: %s:%d: column %d (%s): %q is beyond the float64 range", path, line, i+1, t.Header[i], strings.TrimSpace(c))
			}
			if err != nil {
				return nil, fmt.Errorf("data: %s:%d: column %d (%s): %q is not a number", path, line, i+1, t.Header[i], c)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("data: %s:%d: column %d (%s): %v is not a finite number", path, line, i+1, t.Header[i], c)
			}
			row[i] = v
		}
		t.Rows = append(t.Rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: %s:%d: %w", path, line+1, lineError(err))
	}
	if t.Header == nil || len(t.Rows) == 0 {
		return nil, fmt.Errorf("data: %s: no data rows", path)
	}
	return t, nil
}

// Column returns the index of a header name, or an error naming the file.
func (t *Table) Column(name string) (int, error) {
	for i, h := range t.Header {
		if h == name {
			return i, nil
		}
	}
	return -1, fmt.Errorf("data: %s: no column %q (columns: %s)", t.Path, name, strings.Join(t.Header, ","))
}

// TaskRegression is a multi-task regression dataset in "multi-input" form:
// every row belongs to exactly one task.
type TaskRegression struct {
	X        *tensor.Tensor // [N, F] float32
	Y        []float64      // [N]
	Task     []int          // [N], 0..NumTasks-1
	NumTasks int
	Features []string
}

// LoadSchool reads the School data (school.csv: task,x1..x28,y; task ids
// 1..139) as distributed with the MALSAR toolbox.
func LoadSchool(path string) (*TaskRegression, error) {
	t, err := ReadCSV(path)
	if err != nil {
		return nil, err
	}
	return tableToTasks(t, "task", "y")
}

func tableToTasks(t *Table, taskCol, yCol string) (*TaskRegression, error) {
	ti, err := t.Column(taskCol)
	if err != nil {
		return nil, err
	}
	yi, err := t.Column(yCol)
	if err != nil {
		return nil, err
	}
	var feats []int
	var names []string
	for i, h := range t.Header {
		if i != ti && i != yi {
			feats = append(feats, i)
			names = append(names, h)
		}
	}
	ids := map[int]int{}
	var order []int
	d := &TaskRegression{X: tensor.New(tensor.Float32, len(t.Rows), len(feats)), Features: names}
	x := d.X.F32()
	// ReadCSV skips blank lines, so rows are counted as data rows (the
	// header is not counted).
	for r, row := range t.Rows {
		id := row[ti]
		if id != math.Trunc(id) || math.Abs(id) > 1<<31 {
			return nil, fmt.Errorf("data: %s: data row %d: %s %v is not an integer task id", t.Path, r+1, taskCol, id)
		}
		k, ok := ids[int(id)]
		if !ok {
			k = len(order)
			ids[int(id)] = k
			order = append(order, int(id))
		}
		d.Task = append(d.Task, k)
		d.Y = append(d.Y, row[yi])
		for j, c := range feats {
			x[r*len(feats)+j] = float32(row[c])
		}
	}
	d.NumTasks = len(order)
	return d, nil
}
