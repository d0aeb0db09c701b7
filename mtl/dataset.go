package mtl

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/metalearn/metalearn/data"
)

// Default example counts of the "multimnist" dataset spec.
const (
	DefaultMultiMNISTTrain = 10000
	DefaultMultiMNISTTest  = 2000
)

// ExperimentSpec names a multi-task problem the way `metalearn mtl train
// --dataset` and `transfer affinity --dataset` do:
//
//   - "circles": the seed's circle problem as Tasks related tasks with
//     PerTask training points each (built in);
//   - "mulan:<set>": Mulan multi-target regression,
//     DataDir/mtr-mulan/<set>.arff, one task per target, 80/20 split;
//   - "multimnist[:NTRAIN[:NTEST]]": MultiMNIST from DataDir/mnist
//     (defaults DefaultMultiMNISTTrain, DefaultMultiMNISTTest);
//   - "parkinsons:motor|total": Parkinson's telemonitoring, 42 patients as
//     tasks, DataDir/parkinsons-telemonitoring/parkinsons_updrs.data, 75%
//     of each patient's recordings for training.
//
// Build draws the split (and the circles) from the seed.
type ExperimentSpec struct {
	Dataset        string
	DataDir        string
	Tasks, PerTask int // circles only
}

// Check validates the spec without reading any file; errors start with
// `dataset "<name>"`.
func (s ExperimentSpec) Check() error {
	_, _, err := s.parse()
	return err
}

// parse checks the spec and returns the multimnist example counts.
func (s ExperimentSpec) parse() (nTrain, nTest int, err error) {
	name := s.Dataset
	switch {
	case name == "circles":
		if s.Tasks < 1 || s.PerTask < 2 {
			return 0, 0, fmt.Errorf("dataset %q: %d tasks and %d training points per task, want >= 1 and >= 2", name, s.Tasks, s.PerTask)
		}
	case strings.HasPrefix(name, "mulan:"):
		if _, known := data.MulanTargets[strings.TrimPrefix(name, "mulan:")]; !known {
			var names []string
			for k := range data.MulanTargets {
				names = append(names, k)
			}
			slices.Sort(names)
			return 0, 0, fmt.Errorf("dataset %q: unknown Mulan set (want mulan:<%s>)", name, strings.Join(names, "|"))
		}
	case name == "multimnist" || strings.HasPrefix(name, "multimnist:"):
		nTrain, nTest = DefaultMultiMNISTTrain, DefaultMultiMNISTTest
		if rest := strings.TrimPrefix(name, "multimnist"); rest != "" {
			parts := strings.Split(strings.TrimPrefix(rest, ":"), ":")
			if len(parts) > 2 {
				return 0, 0, fmt.Errorf("dataset %q: want multimnist[:NTRAIN[:NTEST]]", name)
			}
			for i, p := range parts {
				v, err := strconv.Atoi(p)
				if err != nil || v < 1 {
					return 0, 0, fmt.Errorf("dataset %q: %q is not a positive example count (want multimnist[:NTRAIN[:NTEST]])", name, p)
				}
				if i == 0 {
					nTrain = v
				} else {
					nTest = v
				}
			}
		}
	case name == "parkinsons" || strings.HasPrefix(name, "parkinsons:"):
		if !slices.Contains(ParkinsonsTargets, strings.TrimPrefix(strings.TrimPrefix(name, "parkinsons"), ":")) {
			return 0, 0, fmt.Errorf("dataset %q: want parkinsons:motor or parkinsons:total (one target, 42 patients as tasks)", name)
		}
	default:
		return 0, 0, fmt.Errorf("dataset %q: unknown (want circles, mulan:<set>, multimnist[:NTRAIN[:NTEST]] or parkinsons:motor|total)", name)
	}
	return nTrain, nTest, nil
}

// Build returns the experiment for seed, or an error naming the spec and
// what was expected, or the file that could not be read.
func (s ExperimentSpec) Build(seed uint64) (*Experiment, error) {
	nTrain, nTest, err := s.parse()
	if err != nil {
		return nil, err
	}
	name := s.Dataset
	switch {
	case name == "circles":
		return CirclesExperiment(s.Tasks, s.PerTask, seed), nil
	case strings.HasPrefix(name, "mulan:"):
		set := strings.TrimPrefix(name, "mulan:")
		mt, err := data.LoadMulan(filepath.Join(s.DataDir, "mtr-mulan", set+".arff"), 0)
		if err != nil {
			return nil, err
		}
		return MulanExperiment(mt, set, 0.8, seed)
	case strings.HasPrefix(name, "multimnist"):
		return MultiMNISTExperiment(filepath.Join(s.DataDir, "mnist"), nTrain, nTest, seed)
	default: // parkinsons:<target>
		target := strings.TrimPrefix(name, "parkinsons:")
		d, err := data.LoadParkinsons(filepath.Join(s.DataDir, "parkinsons-telemonitoring", "parkinsons_updrs.data"))
		if err != nil {
			return nil, err
		}
		return ParkinsonsExperiment(d, target, 0.75, seed)
	}
}
