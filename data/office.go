package data

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/metalearn/metalearn/tensor"
)

// Office-Caltech10 (Gong et al., "Geodesic Flow Kernel for Unsupervised
// Domain Adaptation", CVPR 2012): the 10 classes shared by Office
// (Saenko et al. 2010: amazon, dslr, webcam) and Caltech-256, described by
// 800-bin bag-of-visual-words histograms of SURF descriptors. The files
// read here are CSVs with a header "label,f0,...,f799" and one image a
// line; labels are the class numbers 1..10 (as in the original .mat
// files).

// OfficeDomains lists the four domains in the conventional order A, C, D, W
// with their file names under the data folder.
var OfficeDomains = []struct{ Short, Name, File string }{
	{"A", "amazon", "amazon_SURF_L10.csv"},
	{"C", "caltech", "Caltech10_SURF_L10.csv"},
	{"D", "dslr", "dslr_SURF_L10.csv"},
	{"W", "webcam", "webcam_SURF_L10.csv"},
}

// OfficeClassNames names the 10 Office-Caltech classes in label order 1..10.
var OfficeClassNames = []string{"back_pack", "bike", "calculator", "headphones", "keyboard", "laptop_computer", "monitor", "mouse", "mug", "projector"}

// Domain is one domain of a cross-domain recognition benchmark: raw
// features X [N, F] (float64) and class ids Y in [0, len(ClassNames)).
type Domain struct {
	Name       string
	Short      string
	X          *tensor.Tensor
	Y          []int
	ClassNames []string
}

// LoadOfficeDomain reads one Office-Caltech10 SURF CSV. The first column
// must be called "label" and hold integers 1..10; every other column is a
// feature (non-negative histogram counts). Errors name the file, line and
// value.
func LoadOfficeDomain(path, name, short string) (*Domain, error) {
	t, err := ReadCSV(path)
	if err != nil {
		return nil, err
	}
	return officeFromTable(t, path, name, short)
}

// officeFromTable converts a parsed SURF CSV (path names it in errors).
func officeFromTable(t *Table, path, name, short string) (*Domain, error) {
	if len(t.Header) == 0 {
		return nil, fmt.Errorf("data: %s: no columns (Office-Caltech SURF CSV: label,f0..f799)", path)
	}
	if t.Header[0] != "label" {
		return nil, fmt.Errorf("data: %s: first column is %q, want \"label\" (Office-Caltech SURF CSV: label,f0..f799)", path, t.Header[0])
	}
	f := len(t.Header) - 1
	if f < 1 {
		return nil, fmt.Errorf("data: %s: no feature columns after \"label\"", path)
	}
	d := &Domain{Name: name, Short: short, X: tensor.New(tensor.Float64, len(t.Rows), f), Y: make([]int, len(t.Rows)), ClassNames: OfficeClassNames}
	x := d.X.F64()
	for i, r := range t.Rows {
		l := r[0]
		if l != math.Trunc(l) || l < 1 || l > float64(len(OfficeClassNames)) {
			return nil, fmt.Errorf("data: %s:%d: label %v, want an integer in 1..%d", path, i+2, l, len(OfficeClassNames))
		}
		d.Y[i] = int(l) - 1
		for j, v := range r[1:] {
			if v < 0 {
				return nil, fmt.Errorf("data: %s:%d: column %s = %v, want a non-negative histogram count", path, i+2, t.Header[j+1], v)
			}
		}
		copy(x[i*f:(i+1)*f], r[1:])
	}
	return d, nil
}

// LoadOfficeCaltech reads the domains named (short names A, C, D, W or full
// names, case-insensitive; all four when none) from dir, the folder holding
// the four *_SURF_L10.csv files. All domains must have the same number of
// features.
func LoadOfficeCaltech(dir string, names ...string) ([]*Domain, error) {
	if len(names) == 0 {
		for _, d := range OfficeDomains {
			names = append(names, d.Short)
		}
	}
	var out []*Domain
	for _, n := range names {
		idx := OfficeDomainIndex(n)
		if idx < 0 {
			return nil, fmt.Errorf("data: unknown Office-Caltech domain %q (want A/amazon, C/caltech, D/dslr or W/webcam)", n)
		}
		od := OfficeDomains[idx]
		p := filepath.Join(dir, od.File)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("data: Office-Caltech10 domain %s: %w (expected %s in %s)", od.Name, err, od.File, dir)
		}
		d, err := LoadOfficeDomain(p, od.Name, od.Short)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 && d.X.Dim(1) != out[0].X.Dim(1) {
			return nil, fmt.Errorf("data: domain %s has %d features but %s has %d; domains must share a feature space", d.Name, d.X.Dim(1), out[0].Name, out[0].X.Dim(1))
		}
		out = append(out, d)
	}
	return out, nil
}

// OfficeDomainIndex returns the index in OfficeDomains of a short or full
// domain name (case-insensitive; "Caltech10" is accepted), or -1.
func OfficeDomainIndex(name string) int {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "caltech10" {
		n = "caltech"
	}
	for i, d := range OfficeDomains {
		if n == strings.ToLower(d.Short) || n == d.Name {
			return i
		}
	}
	return -1
}
