package data

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"metalearn/tensor"
)

// Table is a numeric CSV file: a header and rows of float64 values.
type Table struct {
	Path   string
	Header []string
	Rows   [][]float64
}

// ReadCSV reads a comma-separated file whose first line is a header and
// whose other lines are all numeric with the header's number of columns.
// Errors name the file, line and column: a ragged row, a non-numeric cell,
// NaN or Inf, an empty file.
func ReadCSV(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	t := &Table{Path: path}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		cells := strings.Split(text, ",")
		if t.Header == nil {
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
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
		return nil, fmt.Errorf("data: %s: %w", path, err)
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
	for r, row := range t.Rows {
		id := row[ti]
		if id != math.Trunc(id) {
			return nil, fmt.Errorf("data: %s: row %d: task id %v is not an integer", t.Path, r+2, id)
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
