package mtl

import (
	"fmt"
	"math"
)

// DeltaP is the relative improvement of a multi-task model over single-task
// baselines in LibMTL's convention (Lin & Zhang 2023): positive = better,
//
//	Delta_p = 100/T * sum_t (-1)^{s_t} (M_t - B_t) / B_t,
//
// with s_t = 1 when lower is better. The baselines B must be single-task
// models trained by the same protocol (not epoch-0 results).
func DeltaP(m, base []float64, higherBetter []bool) (float64, error) {
	return delta(m, base, higherBetter, true)
}

// DeltaM is the same quantity in the Nash-MTL / CAGrad convention
// (Navon et al. 2022, eq. 9): Delta_m = 100/T * sum_t (-1)^{delta_t}
// (M_t - B_t) / B_t with delta_t = 1 when higher is better, so positive =
// worse. DeltaM = -DeltaP.
func DeltaM(m, base []float64, higherBetter []bool) (float64, error) {
	return delta(m, base, higherBetter, false)
}

func delta(m, base []float64, hb []bool, positiveBetter bool) (float64, error) {
	if len(m) != len(base) || len(m) != len(hb) || len(m) == 0 {
		return 0, fmt.Errorf("mtl: delta needs equal non-empty metric lists, got %d, %d, %d", len(m), len(base), len(hb))
	}
	s := 0.0
	for i := range m {
		if base[i] == 0 || math.IsNaN(base[i]) {
			return 0, fmt.Errorf("mtl: delta: baseline metric %d is %v", i, base[i])
		}
		r := (m[i] - base[i]) / math.Abs(base[i])
		if hb[i] != positiveBetter {
			r = -r
		}
		s += r
	}
	return 100 * s / float64(len(m)), nil
}
