package minnorm_test

import (
	"fmt"

	"github.com/metalearn/metalearn/minnorm"
)

// The MGDA direction of two conflicting gradients: the minimum-norm point
// of their convex hull, which makes the same angle with both
// (d.g1 = d.g2 = ||d||^2).
func ExampleHull() {
	g := [][]float64{{1, 0}, {-0.5, 1}}
	a := minnorm.Hull(minnorm.Gram(g))
	d := minnorm.Combine(g, a)
	fmt.Printf("weights %.3f, direction %.3f, d.g1 %.3f, d.g2 %.3f\n", a, d, minnorm.Dot(d, g[0]), minnorm.Dot(d, g[1]))
	// Output: weights [0.538 0.462], direction [0.308 0.462], d.g1 0.308, d.g2 0.308
}
