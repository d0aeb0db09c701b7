package stats_test

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/metalearn/metalearn/stats"
)

func ExampleMeanCI95() {
	// test accuracies of five seeds
	m, sd, half := stats.MeanCI95([]float64{0.81, 0.84, 0.79, 0.83, 0.82})
	fmt.Printf("%.3f ± %.3f (sd %.3f, t = %.3f)\n", m, half, sd, stats.TQuantile(0.975, 4))
	// Output: 0.818 ± 0.024 (sd 0.019, t = 2.776)
}

// A percentile bootstrap interval of the median of a few seeds' results.
func ExampleBootstrapCI() {
	xs := []float64{0.81, 0.84, 0.79, 0.83, 0.82, 0.80, 0.85}
	median := func(s []float64) float64 {
		c := append([]float64(nil), s...)
		slices.Sort(c)
		return c[len(c)/2]
	}
	lo, hi, err := stats.BootstrapCI(xs, median, 0.9, 2000, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		panic(err)
	}
	fmt.Println(lo <= median(xs) && median(xs) <= hi, lo >= 0.79, hi <= 0.85)
	// Output: true true true
}
