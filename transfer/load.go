package transfer

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/metalearn/metalearn/data"
)

// A Loader resolves dataset specs from the files under Dir:
// "office:<A|C|D|W>" (Office-Caltech10 SURF, Dir/office-caltech10-surf),
// "omniglot:<background|evaluation>" (every character of the set) and
// "omniglot:<Alphabet>" (one alphabet of either set), with Omniglot images
// resized to Size (Dir/omniglot/images_<set>.npz). Omniglot sets are read
// once per Loader.
type Loader struct {
	Dir  string
	Size int

	omniglot map[string]*data.ClassDataset
}

func (l *Loader) omniglotSet(set string) (*data.ClassDataset, error) {
	if ds, ok := l.omniglot[set]; ok {
		return ds, nil
	}
	p := filepath.Join(l.Dir, "omniglot", "images_"+set+".npz")
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("omniglot %s set not found: %w (set --data-dir to the folder holding omniglot/)", set, err)
	}
	ds, err := data.LoadOmniglotNPZ(p, l.Size)
	if err != nil {
		return nil, err
	}
	if l.omniglot == nil {
		l.omniglot = map[string]*data.ClassDataset{}
	}
	l.omniglot[set] = ds
	return ds, nil
}

// Load resolves spec; maxClasses > 0 keeps the first classes only.
func (l *Loader) Load(spec string, maxClasses int) (Data, error) {
	kind, name, ok := strings.Cut(spec, ":")
	if !ok || name == "" {
		return Data{}, fmt.Errorf("dataset %q: want office:<A|C|D|W> or omniglot:<Alphabet|background|evaluation>", spec)
	}
	switch kind {
	case "office":
		ds, err := data.LoadOfficeCaltech(filepath.Join(l.Dir, "office-caltech10-surf"), name)
		if err != nil {
			return Data{}, err
		}
		return DomainData(ds[0]), nil
	case "omniglot":
		if name == "background" || name == "evaluation" {
			ds, err := l.omniglotSet(name)
			if err != nil {
				return Data{}, err
			}
			n := ds.NumClasses()
			if maxClasses > 0 {
				n = min(n, maxClasses)
			}
			cls := make([]int, n)
			for i := range cls {
				cls[i] = i
			}
			return ClassData(ds, cls, "omniglot-"+name)
		}
		var have []string
		for _, set := range []string{"background", "evaluation"} {
			ds, err := l.omniglotSet(set)
			if err != nil {
				return Data{}, err
			}
			names, _ := OmniglotAlphabets(ds)
			if slices.Contains(names, name) {
				return OmniglotAlphabet(ds, name, maxClasses)
			}
			have = append(have, names...)
		}
		return Data{}, fmt.Errorf("dataset %q: no such Omniglot alphabet (have %s)", spec, strings.Join(have, ", "))
	}
	return Data{}, fmt.Errorf("dataset %q: unknown kind %q (want office or omniglot)", spec, kind)
}

// ParseShots reads a comma-separated list of shot counts: positive
// integers, or "all" (0: the whole pool).
func ParseShots(text string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(text, ",") {
		f = strings.TrimSpace(f)
		if f == "all" {
			out = append(out, 0)
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive integer or \"all\"", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// AutoArch parses an architecture for d's inputs and classes; "" or
// "auto" is conv4:32 for images and mlp:128 for feature vectors.
func AutoArch(text string, d Data) (Arch, error) {
	in := d.X.Shape()[1:]
	if text == "" || text == "auto" {
		text = "mlp:128"
		if len(in) == 3 {
			text = "conv4:32"
		}
	}
	return ParseArch(text, in, d.Classes())
}

// ParseStrategies reads a comma-separated strategy list (ParseStrategy)
// and validates each for a model with nLayers parameterised layers; a bare
// "freeze" freezes half of the non-head layers.
func ParseStrategies(text string, nLayers int) ([]Strategy, error) {
	var out []Strategy
	for _, s := range strings.Split(text, ",") {
		s = strings.TrimSpace(s)
		if s == "freeze" {
			s = fmt.Sprintf("freeze:%d", max(1, (nLayers-1)/2))
		}
		st, err := ParseStrategy(s)
		if err != nil {
			return nil, err
		}
		if err := st.Validate(nLayers); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
		out = append(out, st)
	}
	return out, nil
}

// Relabel maps d's classes onto the class names of a source model (to keep
// its head); target classes the source never saw are an error listing
// them.
func Relabel(d Data, source []string) (Data, error) {
	pos := map[string]int{}
	for i, n := range source {
		pos[n] = i
	}
	var unseen []string
	m := make([]int, d.Classes())
	for c, n := range d.ClassNames {
		i, ok := pos[n]
		if !ok {
			unseen = append(unseen, strconv.Quote(n))
		}
		m[c] = i
	}
	if len(unseen) > 0 {
		return d, fmt.Errorf("target %s has labels the source model never saw: %s (source classes: %d; use a new head for a new label set)", d.Name, strings.Join(unseen, ", "), len(source))
	}
	out := d
	out.Y = make([]int, len(d.Y))
	for i, y := range d.Y {
		out.Y[i] = m[y]
	}
	out.ClassNames = source
	return out, nil
}
