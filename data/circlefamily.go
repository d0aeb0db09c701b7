package data

import (
	"fmt"
	"math/rand/v2"
)

// Ranges of the CircleFamily tasks.
const (
	CircleCentreMin = 0.25
	CircleCentreMax = 0.75
	CircleRadiusMin = 0.15
	CircleRadiusMax = 0.45
)

// CircleFamily is a distribution over Circle tasks: each task is a circle
// with centre uniform in [0.25, 0.75]^2 and radius uniform in [0.15, 0.45];
// points uniform in the unit square are labelled 1 outside the circle and 0
// inside. It implements TaskDistribution.
//
// Tasks are binary classification posed regression-style, for a model with
// one sigmoid/logit output and a BCE loss: SupportX [Support, 2],
// SupportY [Support, 1], QueryX [Query, 2], QueryY [Query, 1], all float32
// with 0/1 targets; SupportLabels/QueryLabels are nil and Ways is 0.
type CircleFamily struct {
	Support, Query int
}

// Validate reports negative point counts.
func (f CircleFamily) Validate() error {
	if f.Support < 0 || f.Query < 0 {
		return fmt.Errorf("data: CircleFamily: negative point count (Support %d, Query %d)", f.Support, f.Query)
	}
	return nil
}

// Sample draws one task; see SampleWithCircle.
func (f CircleFamily) Sample(rng *rand.Rand) Task {
	t, _ := f.SampleWithCircle(rng)
	return t
}

// SampleWithCircle draws one task and returns its circle. The rng is used
// in a fixed order: centre x, centre y, radius, the support points, then the
// query points. It panics on negative counts (see Validate).
func (f CircleFamily) SampleWithCircle(rng *rand.Rand) (Task, Circle) {
	if err := f.Validate(); err != nil {
		panic(err.Error())
	}
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	c := Circle{CX: u(CircleCentreMin, CircleCentreMax), CY: u(CircleCentreMin, CircleCentreMax), R: u(CircleRadiusMin, CircleRadiusMax)}
	var t Task
	t.SupportX, t.SupportY = c.Sample(rng, f.Support)
	t.QueryX, t.QueryY = c.Sample(rng, f.Query)
	return t, c
}
