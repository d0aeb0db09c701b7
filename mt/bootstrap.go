package mt

import (
	"fmt"
	"slices"
)

// Metric is a corpus metric computed from per-segment sufficient
// statistics that add up over segments (BLEU, CHRF).
type Metric interface {
	Name() string
	Signature(nrefs int) string
	SentenceStats(hyp string, refs []string) []float64
	ScoreFromStats(stats []float64) float64
}

// Bootstrap defaults as in sacreBLEU 2.x (--paired-bs-n, SACREBLEU_SEED).
const (
	DefaultBootstrapSamples = 1000
	DefaultBootstrapSeed    = 12345
)

// Bootstrap configures bootstrap resampling over segments (Koehn 2004).
// The zero value uses sacreBLEU's defaults: 1000 resamples, seed 12345.
// The resample indices are NumPy's for that seed (numpyrng.go), the ones
// sacreBLEU draws, so the CIs and p-values match sacreBLEU's up to
// floating-point rounding (sacreBLEU sums the statistics in float32).
type Bootstrap struct {
	Samples int
	Seed    uint64
}

func (b Bootstrap) params() (int, uint64) {
	n, s := b.Samples, b.Seed
	if n <= 0 {
		n = DefaultBootstrapSamples
	}
	if s == 0 {
		s = DefaultBootstrapSeed
	}
	return n, s
}

// indices draws Samples resamples of n segment indices with replacement,
// row by row, exactly as sacreBLEU's
// np.random.default_rng(seed).choice(n, size=(samples, n)).
func (b Bootstrap) indices(n int) [][]int {
	ns, seed := b.params()
	rng := newNumPyPCG64(seed)
	idx := make([][]int, ns)
	for s := range idx {
		row := make([]int, n)
		for j := range row {
			row[j] = rng.intN(uint32(n))
		}
		idx[s] = row
	}
	return idx
}

// CI is a bootstrap estimate: the mean of the resampled scores and the
// half-width of their 95% interval (sacreBLEU's estimate_ci: the sorted
// scores at positions n/40 and n-n/40-1, half their distance).
type CI struct {
	Mean      float64 `json:"mean"`
	HalfWidth float64 `json:"half_width"`
}

// String is sacreBLEU's "(μ = 48.5 ± 2.1)".
func (c CI) String() string { return fmt.Sprintf("(μ = %.1f ± %.1f)", c.Mean, c.HalfWidth) }

func estimateCI(scores []float64) CI {
	s := slices.Clone(scores)
	slices.Sort(s)
	lo := len(s) / 40
	hi := len(s) - lo - 1
	mean := 0.0
	for _, v := range s {
		mean += v
	}
	return CI{Mean: mean / float64(len(s)), HalfWidth: 0.5 * (s[hi] - s[lo])}
}

// SegmentStats computes every segment's statistics for m.
func SegmentStats(m Metric, hyps []string, refs [][]string) ([][]float64, error) {
	if _, err := checkCorpus(hyps, refs); err != nil {
		return nil, err
	}
	out := make([][]float64, len(hyps))
	for i, h := range hyps {
		out[i] = m.SentenceStats(h, segmentRefs(refs, i))
	}
	return out, nil
}

func sumStats(stats [][]float64, idx []int) []float64 {
	sum := make([]float64, len(stats[0]))
	if idx == nil {
		for _, s := range stats {
			for j, v := range s {
				sum[j] += v
			}
		}
		return sum
	}
	for _, i := range idx {
		for j, v := range stats[i] {
			sum[j] += v
		}
	}
	return sum
}

func (b Bootstrap) resampledScores(m Metric, stats [][]float64, idx [][]int) []float64 {
	scores := make([]float64, len(idx))
	for s, row := range idx {
		scores[s] = m.ScoreFromStats(sumStats(stats, row))
	}
	return scores
}

// ConfidenceInterval resamples the segments' statistics and returns the
// mean and 95% half-width of the metric.
func (b Bootstrap) ConfidenceInterval(m Metric, stats [][]float64) (CI, error) {
	if len(stats) == 0 {
		return CI{}, ErrEmptyCorpus
	}
	return estimateCI(b.resampledScores(m, stats, b.indices(len(stats)))), nil
}

// PairedResult compares a system with a baseline on the same segments.
type PairedResult struct {
	Baseline, System     float64 // the actual corpus scores
	BaselineCI, SystemCI CI
	// P is the p-value of the difference (sacreBLEU's paired bootstrap:
	// the resampled absolute differences are centred on their mean, and
	// P = (1 + #{centred > |actual difference|}) / (1 + samples)).
	P float64
}

// Paired runs the paired bootstrap test (Koehn 2004) on the segment
// statistics of a baseline and a system: both are resampled with the
// same indices.
func (b Bootstrap) Paired(m Metric, baseline, system [][]float64) (PairedResult, error) {
	if len(baseline) == 0 {
		return PairedResult{}, ErrEmptyCorpus
	}
	if len(system) != len(baseline) {
		return PairedResult{}, fmt.Errorf("mt: paired bootstrap: the system has %d segments, the baseline %d", len(system), len(baseline))
	}
	idx := b.indices(len(baseline))
	bl := b.resampledScores(m, baseline, idx)
	sy := b.resampledScores(m, system, idx)
	r := PairedResult{
		Baseline: m.ScoreFromStats(sumStats(baseline, nil)), System: m.ScoreFromStats(sumStats(system, nil)),
		BaselineCI: estimateCI(bl), SystemCI: estimateCI(sy),
	}
	real := r.System - r.Baseline
	if real < 0 {
		real = -real
	}
	diffs := make([]float64, len(idx))
	mean := 0.0
	for i := range diffs {
		d := sy[i] - bl[i]
		if d < 0 {
			d = -d
		}
		diffs[i] = d
		mean += d
	}
	mean /= float64(len(diffs))
	c := 0
	for _, d := range diffs {
		if d-mean > real {
			c++
		}
	}
	r.P = float64(c+1) / float64(len(diffs)+1)
	return r, nil
}
