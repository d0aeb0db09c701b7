package stats_test

import (
	"fmt"

	"github.com/metalearn/metalearn/stats"
)

func ExampleMeanCI95() {
	// test accuracies of five seeds
	m, sd, half := stats.MeanCI95([]float64{0.81, 0.84, 0.79, 0.83, 0.82})
	fmt.Printf("%.3f ± %.3f (sd %.3f, t = %.3f)\n", m, half, sd, stats.TQuantile(0.975, 4))
	// Output: 0.818 ± 0.024 (sd 0.019, t = 2.776)
}
