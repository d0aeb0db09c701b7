package data

import (
	"fmt"
	"math"
	"slices"

	"github.com/metalearn/metalearn/tensor"
)

// PatientData is a multi-task regression data set whose tasks are patients:
// row i is one recording of patient Patient[i] with features X[i] and two
// targets Motor[i] and Total[i].
type PatientData struct {
	X           *tensor.Tensor // [N, F] float32 features
	Motor       []float64      // [N] motor UPDRS score
	Total       []float64      // [N] total UPDRS score
	Patient     []int          // [N] patient index 0..NumPatients-1
	NumPatients int
	Features    []string // F column names
	// SubjectIDs[k] is the file's subject# of patient index k; patient
	// indices follow increasing subject#.
	SubjectIDs []int
}

// Column names of the Parkinsons Telemonitoring file that are not features.
const (
	parkinsonsSubject = "subject#"
	parkinsonsMotor   = "motor_UPDRS"
	parkinsonsTotal   = "total_UPDRS"
)

// LoadParkinsons reads the UCI Parkinsons Telemonitoring data
// (parkinsons_updrs.data, https://archive.ics.uci.edu/dataset/189, CC BY
// 4.0): 5,875 voice recordings of 42 patients, a CSV file with a header
// line. The tasks are the patients (column subject#, 1..42), the targets
// motor_UPDRS and total_UPDRS, and the features every other column, in
// file order: age, sex, test_time (days since recruitment; a few values
// are negative in the original data), the 16 voice measures
// Jitter(%) ... PPE: 19 features in all. Features are not standardised.
//
// Errors name the file: a missing column, a non-integer subject#, and the
// errors of ReadCSV (ragged rows, non-numeric cells).
func LoadParkinsons(path string) (*PatientData, error) {
	t, err := ReadCSV(path)
	if err != nil {
		return nil, err
	}
	return parkinsonsFromTable(t, path)
}

// parkinsonsFromTable builds the patient data from a parsed table; path
// names the file in errors.
func parkinsonsFromTable(t *Table, path string) (*PatientData, error) {
	si, err := t.Column(parkinsonsSubject)
	if err != nil {
		return nil, err
	}
	mi, err := t.Column(parkinsonsMotor)
	if err != nil {
		return nil, err
	}
	ti, err := t.Column(parkinsonsTotal)
	if err != nil {
		return nil, err
	}
	var feats []int
	d := &PatientData{}
	for i, h := range t.Header {
		if i != si && i != mi && i != ti {
			feats = append(feats, i)
			d.Features = append(d.Features, h)
		}
	}
	if len(feats) == 0 {
		return nil, fmt.Errorf("data: %s: no feature columns besides %s, %s and %s", path, parkinsonsSubject, parkinsonsMotor, parkinsonsTotal)
	}
	// ReadCSV skips blank lines, so row numbers below are data-row
	// ordinals (the header is not counted).
	seen := map[int]bool{}
	for r, row := range t.Rows {
		id := row[si]
		if id != math.Trunc(id) || math.Abs(id) > 1<<31 {
			return nil, fmt.Errorf("data: %s: data row %d: %s %v is not an integer", path, r+1, parkinsonsSubject, id)
		}
		if !seen[int(id)] {
			seen[int(id)] = true
			d.SubjectIDs = append(d.SubjectIDs, int(id))
		}
	}
	slices.Sort(d.SubjectIDs)
	index := make(map[int]int, len(d.SubjectIDs))
	for k, id := range d.SubjectIDs {
		index[id] = k
	}
	n, nf := len(t.Rows), len(feats)
	d.X = tensor.New(tensor.Float32, n, nf)
	d.NumPatients = len(d.SubjectIDs)
	d.Motor, d.Total, d.Patient = make([]float64, n), make([]float64, n), make([]int, n)
	x := d.X.F32()
	for r, row := range t.Rows {
		d.Patient[r] = index[int(row[si])]
		d.Motor[r], d.Total[r] = row[mi], row[ti]
		for j, c := range feats {
			x[r*nf+j] = float32(row[c])
		}
	}
	return d, nil
}
