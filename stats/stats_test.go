package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestTQuantile(t *testing.T) {
	// t_{0.975, df} from published tables (three decimals)
	cases := []struct {
		p    float64
		df   int
		want float64
	}{
		{0.975, 1, 12.706}, {0.975, 2, 4.303}, {0.975, 4, 2.776}, {0.975, 9, 2.262},
		{0.975, 19, 2.093}, {0.975, 30, 2.042}, {0.975, 60, 2.000}, {0.975, 120, 1.980},
		{0.975, 1000000, 1.960}, {0.95, 4, 2.132}, {0.995, 10, 3.169}, {0.5, 7, 0},
	}
	for _, c := range cases {
		if got := TQuantile(c.p, c.df); math.Abs(got-c.want) > 5e-4 {
			t.Errorf("TQuantile(%v, %d) = %v, want %v", c.p, c.df, got, c.want)
		}
	}
	for _, bad := range []struct {
		p  float64
		df int
	}{{0.975, 0}, {0, 3}, {1, 3}} {
		if got := TQuantile(bad.p, bad.df); !math.IsNaN(got) {
			t.Errorf("TQuantile(%v, %d) = %v, want NaN", bad.p, bad.df, got)
		}
	}
}

func TestMeanCI(t *testing.T) {
	cases := []struct {
		name           string
		xs             []float64
		mean, sd, half float64
	}{
		{"none", nil, 0, 0, 0},
		{"one", []float64{3}, 3, 0, 0},
		// values 1, 3: mean 2, sd sqrt(2), half 12.706 * sqrt(2) / sqrt(2)
		{"two", []float64{1, 3}, 2, math.Sqrt2, 12.7062},
		// five seeds: sd = sqrt(2.5), half = 2.7764 * sqrt(2.5)/sqrt(5)
		{"five", []float64{1, 2, 3, 4, 5}, 3, math.Sqrt(2.5), 2.7764 * math.Sqrt(0.5)},
	}
	for _, c := range cases {
		m, sd, h := MeanCI95(c.xs)
		if math.Abs(m-c.mean) > 1e-12 || math.Abs(sd-c.sd) > 1e-12 || math.Abs(h-c.half) > 1e-3 {
			t.Errorf("%s: MeanCI95 = (%v, %v, %v), want (%v, %v, %v)", c.name, m, sd, h, c.mean, c.sd, c.half)
		}
	}
	// large n: the interval is the normal one
	xs := make([]float64, 100000)
	for i := range xs {
		xs[i] = float64(i % 2)
	}
	_, sd, h := MeanCI95(xs)
	if r := h / (sd / math.Sqrt(float64(len(xs)))); math.Abs(r-1.960) > 5e-4 {
		t.Errorf("n = %d: quantile %v, want 1.960", len(xs), r)
	}
}

func TestMeanSD(t *testing.T) {
	if !math.IsNaN(Mean(nil)) {
		t.Error("Mean of nothing is not NaN")
	}
	if m, s := Mean([]float64{2, 4, 4, 4, 5, 5, 7, 9}), SD([]float64{2, 4, 4, 4, 5, 5, 7, 9}); m != 5 || math.Abs(s-math.Sqrt(32.0/7)) > 1e-12 {
		t.Errorf("Mean, SD = %v, %v; want 5, %v", m, s, math.Sqrt(32.0/7))
	}
}

func TestBootstrapCI(t *testing.T) {
	// For many normal values the bootstrap interval of the mean is close
	// to the t interval.
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 400)
	for i := range xs {
		xs[i] = 10 + 2*rng.NormFloat64()
	}
	m, _, h := MeanCI95(xs)
	lo, hi, err := BootstrapCI(xs, Mean, 0.95, 4000, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if !(lo < m && m < hi) || math.Abs((hi-lo)/(2*h)-1) > 0.1 {
		t.Errorf("bootstrap [%v, %v] around %v; t interval ±%v", lo, hi, m, h)
	}
	// a constant sample has a zero-width interval
	if lo, hi, _ := BootstrapCI([]float64{4, 4, 4}, Mean, 0.9, 50, rng); lo != 4 || hi != 4 {
		t.Errorf("constant sample: [%v, %v]", lo, hi)
	}
	for _, c := range []struct {
		xs    []float64
		level float64
		n     int
	}{{nil, 0.95, 100}, {[]float64{1}, 0.95, 1}, {[]float64{1}, 1, 100}} {
		if _, _, err := BootstrapCI(c.xs, Mean, c.level, c.n, rng); err == nil {
			t.Errorf("BootstrapCI(%v, level %v, %d resamples): no error", c.xs, c.level, c.n)
		}
	}
}

func TestQuantile(t *testing.T) {
	s := []float64{1, 2, 3, 4}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {1, 4}, {0.5, 2.5}, {1.0 / 3, 2}} {
		if got := Quantile(s, c.p); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
}
