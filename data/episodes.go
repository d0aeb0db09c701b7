package data

import (
	"fmt"
	"math/rand/v2"

	"github.com/metalearn/metalearn/tensor"
)

// Episodic samples N-way K-shot classification episodes from a
// ClassDataset. It implements TaskDistribution.
type Episodic struct {
	ds                   *ClassDataset
	ways, shots, queries int
}

// NewEpisodic returns the distribution of ways-way, shots-shot episodes with
// queries query examples per class. It checks, once, that ds is valid,
// 1 <= ways <= ds.NumClasses(), shots >= 1, queries >= 0 and that every
// class has at least shots+queries examples (the error names the smallest
// class and its size).
func NewEpisodic(ds *ClassDataset, ways, shots, queries int) (*Episodic, error) {
	if err := ds.Validate(); err != nil {
		return nil, fmt.Errorf("data: NewEpisodic: %w", err)
	}
	switch {
	case ways < 1:
		return nil, fmt.Errorf("data: NewEpisodic: ways = %d, need at least 1", ways)
	case ways > ds.NumClasses():
		return nil, fmt.Errorf("data: NewEpisodic: ways = %d but the dataset has only %d classes", ways, ds.NumClasses())
	case shots < 1:
		return nil, fmt.Errorf("data: NewEpisodic: shots = %d, need at least 1", shots)
	case queries < 0:
		return nil, fmt.Errorf("data: NewEpisodic: queries = %d, must not be negative", queries)
	}
	small := 0
	for c, idx := range ds.ByClass {
		if len(idx) < len(ds.ByClass[small]) {
			small = c
		}
	}
	if have := len(ds.ByClass[small]); shots+queries > have {
		return nil, fmt.Errorf("data: NewEpisodic: shots+queries = %d+%d = %d but class %d (%q) has only %d examples",
			shots, queries, shots+queries, small, ds.ClassNames[small], have)
	}
	return &Episodic{ds: ds, ways: ways, shots: shots, queries: queries}, nil
}

// Ways returns N, the number of classes per episode.
func (e *Episodic) Ways() int { return e.ways }

// Shots returns K, the number of support examples per class.
func (e *Episodic) Shots() int { return e.shots }

// Queries returns Q, the number of query examples per class.
func (e *Episodic) Queries() int { return e.queries }

// Dataset returns the dataset episodes are drawn from.
func (e *Episodic) Dataset() *ClassDataset { return e.ds }

// Sample draws one episode: N = ways distinct classes in random order
// (episode label i is the i-th class drawn), and for each class K = shots
// support and Q = queries query examples, all distinct. SupportX is
// [N*K, C, H, W] and QueryX [N*Q, C, H, W], both class-major (label 0's
// examples first); SupportLabels/QueryLabels hold the labels 0..N-1 in the
// same order, Ways = N, and SupportY/QueryY are nil. The same rng state
// gives the same episode.
func (e *Episodic) Sample(rng *rand.Rand) Task {
	t, _ := e.SampleClasses(rng)
	return t
}

// SampleClasses is Sample that also returns the dataset class index behind
// each episode label.
func (e *Episodic) SampleClasses(rng *rand.Rand) (Task, []int) {
	n, k, q := e.ways, e.shots, e.queries
	classes := make([]int, 0, n)
	chosen := make(map[int]bool, n)
	for len(classes) < n {
		c := rng.IntN(len(e.ds.ByClass))
		if !chosen[c] {
			chosen[c] = true
			classes = append(classes, c)
		}
	}
	sIdx := make([]int, 0, n*k)
	qIdx := make([]int, 0, n*q)
	sLab := make([]int, 0, n*k)
	qLab := make([]int, 0, n*q)
	for label, c := range classes {
		pool := append([]int(nil), e.ds.ByClass[c]...)
		for i := 0; i < k+q; i++ { // partial Fisher-Yates
			j := i + rng.IntN(len(pool)-i)
			pool[i], pool[j] = pool[j], pool[i]
		}
		sIdx = append(sIdx, pool[:k]...)
		qIdx = append(qIdx, pool[k:k+q]...)
		for i := 0; i < k; i++ {
			sLab = append(sLab, label)
		}
		for i := 0; i < q; i++ {
			qLab = append(qLab, label)
		}
	}
	return Task{
		SupportX:      tensor.IndexSelect(e.ds.Images, 0, sIdx),
		QueryX:        tensor.IndexSelect(e.ds.Images, 0, qIdx),
		SupportLabels: sLab,
		QueryLabels:   qLab,
		Ways:          n,
	}, classes
}

// EvalSet draws n tasks from dist with a generator seeded by seed, so that
// two calls with the same seed (and an equal dist) return identical tasks:
// use it to evaluate on the same episodes across runs. n <= 0 gives nil.
func EvalSet(dist TaskDistribution, n int, seed uint64) []Task {
	if n <= 0 || dist == nil {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x6576616c)) // "eval"
	tasks := make([]Task, n)
	for i := range tasks {
		tasks[i] = dist.Sample(rng)
	}
	return tasks
}
