package mtl

// Weighting is a multi-task loss/gradient balancing strategy.
//
// Every strategy metalearn implements produces an update for the shared
// parameters that is a linear combination of the per-task gradients
// (loss weightings trivially; PCGrad, GradVac, CAGrad, MGDA, IMTL, Nash-MTL,
// Aligned-MTL and UPGrad because their projections and solutions live in
// the span of the task gradients). So a strategy returns coefficients c and
// the trainer back-propagates sum_i c_i * L_i once, with c held constant,
// to get the shared update. Task-specific parameters (heads) receive their
// own task's gradient.
type Weighting interface {
	// Name is the strategy's short name (e.g. "pcgrad").
	Name() string
	// NeedsGrads reports whether Weights uses grads; when false the
	// trainer passes nil and skips the per-task backward passes.
	NeedsGrads() bool
	// Weights returns one coefficient per task. step counts calls from 0;
	// losses are the current task losses; grads[i] is task i's gradient
	// with respect to the shared parameters (or the shared representation,
	// for methods documented as such), flattened, all of equal length.
	// Implementations may keep state across calls (e.g. loss histories or
	// their own learnable parameters) and must not modify grads.
	Weights(step int, losses []float64, grads [][]float64) []float64
}
