package mtl

// EW is equal weighting: every task loss gets coefficient 1, i.e. the
// shared update is the gradient of the plain sum of the task losses. It is
// the baseline every multi-task weighting paper compares against (e.g.
// "EW" in Lin et al. 2022, "Reasonable effectiveness of random weighting",
// TMLR; and in LibMTL).
type EW struct{}

// NewEW returns the equal-weighting strategy (no hyper-parameters).
func NewEW() *EW { return &EW{} }

// Name implements Weighting.
func (*EW) Name() string { return "ew" }

// NeedsGrads implements Weighting (false).
func (*EW) NeedsGrads() bool { return false }

// Weights returns one 1 per task.
func (*EW) Weights(step int, losses []float64, grads [][]float64) []float64 {
	return ones(len(losses))
}
