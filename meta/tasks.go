package meta

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/metalearn/metalearn/data"
)

// Tasks returns the task distribution of a split ("train", "val" or
// "test"). For sinusoid all splits draw from the same family.
func (s Spec) Tasks(split string) (data.TaskDistribution, error) {
	if split != "train" && split != "val" && split != "test" {
		return nil, fmt.Errorf("split %q, want train, val or test", split)
	}
	shots := s.Shots
	if split == "train" && s.TrainShots > 0 {
		shots = s.TrainShots
	}
	if s.Dataset == "sinusoid" {
		return data.Sinusoid{Support: shots, Query: s.Queries}, nil
	}
	ds, err := s.omniglotSplit(split)
	if err != nil {
		return nil, err
	}
	return data.NewEpisodic(ds, s.Ways, shots, s.Queries)
}

func (s Spec) omniglotDir() string {
	dir := s.DataDir
	if dir == "" {
		dir = filepath.Join("..", "shared", "data")
	}
	return filepath.Join(dir, "omniglot")
}

type omniglotKey struct {
	dir, split string
	seed       uint64
}

var (
	omniglotMu    sync.Mutex
	omniglotCache = map[omniglotKey][3]*data.ClassDataset{}
)

// ErrNoValidation is returned for the validation split of the MAML-paper
// Omniglot split, which has none.
var ErrNoValidation = errors.New("the MAML-paper Omniglot split has no validation classes")

// omniglotSplit loads (once per process) and returns a split's classes:
// Vinyals train/val/test (4112/688/1692 classes with rotations) or the
// MAML-paper split train/test (4800/1692), at 28x28.
func (s Spec) omniglotSplit(split string) (*data.ClassDataset, error) {
	dir := s.omniglotDir()
	key := omniglotKey{dir, s.Split, 0}
	if s.Split == "maml" {
		key.seed = s.Seed
	}
	omniglotMu.Lock()
	defer omniglotMu.Unlock()
	sets, ok := omniglotCache[key]
	if !ok {
		if s.Split == "vinyals" {
			tr, va, te, err := data.LoadOmniglotVinyals(dir, 28)
			if err != nil {
				return nil, fmt.Errorf("%w (Omniglot: put images_background.npz, images_evaluation.npz, alphabets.tsv and splits_vinyals/ in %s, or pass --data-dir)", err, dir)
			}
			sets = [3]*data.ClassDataset{tr, va, te}
		} else {
			all, err := data.LoadOmniglotAll(dir, 28)
			if err != nil {
				return nil, fmt.Errorf("%w (Omniglot: put images_background.npz and images_evaluation.npz in %s, or pass --data-dir)", err, dir)
			}
			tr, te, err := data.MAMLSplit(all, s.Seed)
			if err != nil {
				return nil, err
			}
			sets = [3]*data.ClassDataset{tr, nil, te}
		}
		omniglotCache[key] = sets
	}
	switch split {
	case "train":
		return sets[0], nil
	case "val":
		if sets[1] == nil {
			return nil, ErrNoValidation
		}
		return sets[1], nil
	case "test":
		return sets[2], nil
	}
	return nil, fmt.Errorf("split %q, want train, val or test", split)
}
