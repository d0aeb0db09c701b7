package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Mean returns the arithmetic mean of xs (NaN when xs is empty).
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// SD returns the sample standard deviation of xs, sqrt(sum (x - mean)^2 /
// (n-1)); 0 for fewer than two values.
func SD(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	m := Mean(xs)
	ss := 0.0
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

// TQuantile returns the p-quantile of Student's t distribution with df
// degrees of freedom (df > 0; NaN otherwise). TQuantile(0.975, 4) = 2.776.
func TQuantile(p float64, df int) float64 {
	if df < 1 || !(p > 0 && p < 1) {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(p)
}

// MeanCI returns the mean of xs, its sample standard deviation and the
// half-width of the two-sided Student-t confidence interval of the mean at
// level (0.95 for a 95% interval): TQuantile((1+level)/2, n-1) * sd /
// sqrt(n). With one value sd and the half-width are 0; with none all three
// are 0.
func MeanCI(xs []float64, level float64) (mean, sd, half float64) {
	n := len(xs)
	if n == 0 {
		return 0, 0, 0
	}
	mean = Mean(xs)
	if n == 1 {
		return mean, 0, 0
	}
	sd = SD(xs)
	return mean, sd, TQuantile((1+level)/2, n-1) * sd / math.Sqrt(float64(n))
}

// MeanCI95 is MeanCI at level 0.95.
func MeanCI95(xs []float64) (mean, sd, half float64) { return MeanCI(xs, 0.95) }

// BootstrapCI returns the percentile bootstrap interval (Efron & Tibshirani
// 1993, ch. 13) of stat at level: stat is computed on resamples samples of
// len(xs) values drawn from xs with replacement, and lo and hi are the
// (1-level)/2 and (1+level)/2 quantiles of those values (linear
// interpolation between order statistics). It is an error to give no
// values, fewer than 2 resamples or a level outside (0, 1).
func BootstrapCI(xs []float64, stat func([]float64) float64, level float64, resamples int, rng *rand.Rand) (lo, hi float64, err error) {
	if len(xs) == 0 {
		return 0, 0, fmt.Errorf("stats: BootstrapCI of no values")
	}
	if resamples < 2 {
		return 0, 0, fmt.Errorf("stats: BootstrapCI with %d resamples, want >= 2", resamples)
	}
	if !(level > 0 && level < 1) {
		return 0, 0, fmt.Errorf("stats: BootstrapCI level %v, want in (0, 1)", level)
	}
	vals := make([]float64, resamples)
	buf := make([]float64, len(xs))
	for r := range vals {
		for i := range buf {
			buf[i] = xs[rng.IntN(len(xs))]
		}
		vals[r] = stat(buf)
	}
	slices.Sort(vals)
	return Quantile(vals, (1-level)/2), Quantile(vals, (1+level)/2), nil
}

// Quantile returns the p-quantile of the sorted values s, interpolating
// linearly between order statistics (position p*(n-1)); NaN when s is
// empty.
func Quantile(s []float64, p float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	pos := p * float64(len(s)-1)
	i := int(math.Floor(pos))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	if i < 0 {
		return s[0]
	}
	f := pos - float64(i)
	return s[i] + f*(s[i+1]-s[i])
}
