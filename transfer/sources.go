package transfer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/tensor"
)

// ClassData flattens the listed classes of an image collection into a Data
// (X [N, C, H, W] float32, classes renumbered in the order given).
func ClassData(ds *data.ClassDataset, classes []int, name string) (Data, error) {
	if err := ds.Validate(); err != nil {
		return Data{}, err
	}
	d := Data{Name: name}
	var idx []int
	for k, c := range classes {
		if c < 0 || c >= ds.NumClasses() {
			return Data{}, fmt.Errorf("transfer: class %d out of range [0, %d)", c, ds.NumClasses())
		}
		d.ClassNames = append(d.ClassNames, ds.ClassNames[c])
		for _, i := range ds.ByClass[c] {
			idx = append(idx, i)
			d.Y = append(d.Y, k)
		}
	}
	if len(idx) == 0 {
		return Data{}, fmt.Errorf("transfer: %s: no examples", name)
	}
	d.X = tensor.IndexSelect(ds.Images, 0, idx).AsType(tensor.Float32)
	return d, nil
}

// OmniglotAlphabets lists the alphabets of an Omniglot dataset whose class
// names are "Alphabet/characterNN" (data.LoadOmniglotNPZ with
// alphabets.tsv), in order of first appearance, with their class indices.
func OmniglotAlphabets(ds *data.ClassDataset) (names []string, classes map[string][]int) {
	classes = map[string][]int{}
	for c, n := range ds.ClassNames {
		a, _, ok := strings.Cut(n, "/")
		if !ok {
			continue
		}
		if _, seen := classes[a]; !seen {
			names = append(names, a)
		}
		classes[a] = append(classes[a], c)
	}
	return names, classes
}

// OmniglotAlphabet returns one alphabet's characters as a classification
// task (at most maxChars characters, the first ones; 0 = all).
func OmniglotAlphabet(ds *data.ClassDataset, alphabet string, maxChars int) (Data, error) {
	names, classes := OmniglotAlphabets(ds)
	cs, ok := classes[alphabet]
	if !ok {
		if len(names) == 0 {
			return Data{}, fmt.Errorf("transfer: the Omniglot classes carry no alphabet names (alphabets.tsv missing next to the npz?)")
		}
		return Data{}, fmt.Errorf("transfer: no Omniglot alphabet %q here (have %s)", alphabet, strings.Join(names, ", "))
	}
	if maxChars > 0 && len(cs) > maxChars {
		cs = cs[:maxChars]
	}
	return ClassData(ds, cs, alphabet)
}

// DomainData returns a cross-domain benchmark domain as a Data with the
// CORAL-protocol preprocessing (PreprocessDomain), float32.
func DomainData(d *data.Domain) Data {
	return Data{Name: d.Name, X: PreprocessDomain(d.X).AsType(tensor.Float32), Y: slices.Clone(d.Y), ClassNames: d.ClassNames}
}
