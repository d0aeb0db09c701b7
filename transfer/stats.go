package transfer

import "math"

// tCrit95 is the two-sided 95% quantile of Student's t distribution,
// t_{0.975, df}, for df = 1..30.
var tCrit95 = []float64{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}

// meanCI returns the mean, the sample standard deviation and the half-width
// of the 95% confidence interval of the mean (Student t, n-1 degrees of
// freedom; 1.96 beyond 30). With one value the interval is 0.
func meanCI(xs []float64) (mean, sd, ci float64) {
	n := len(xs)
	if n == 0 {
		return 0, 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(n)
	if n == 1 {
		return mean, 0, 0
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	sd = math.Sqrt(ss / float64(n-1))
	t := 1.96
	if n-1 <= len(tCrit95) {
		t = tCrit95[n-2]
	}
	return mean, sd, t * sd / math.Sqrt(float64(n))
}
