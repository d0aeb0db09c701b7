package mtl

// Helpers shared by the Weighting strategies; the Gram-matrix arithmetic
// and the quadratic programs they solve are in package minnorm.

import (
	"fmt"
	"math"

	"github.com/metalearn/metalearn/minnorm"
)

// ones is a vector of n ones.
func ones(n int) []float64 { return fill(n, 1) }

// fill is a vector of n copies of v.
func fill(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// softmax is the numerically stable softmax.
func softmax(x []float64) []float64 {
	out := make([]float64, len(x))
	if len(x) == 0 {
		return out
	}
	mx := x[0]
	for _, v := range x {
		if v > mx {
			mx = v
		}
	}
	s := 0.0
	for i, v := range x {
		out[i] = math.Exp(v - mx)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// isZeroGrad reports whether task i's gradient is negligible relative to
// the largest one (squared norm at most 1e-24 of the largest squared norm,
// i.e. a norm ratio of 1e-12), or all gradients are exactly zero.
func isZeroGrad(m [][]float64, i int) bool {
	md := minnorm.MaxDiag(m)
	return md <= 0 || m[i][i] <= 1e-24*md
}

// checkGradArgs validates the arguments of a gradient-based strategy and
// returns the gradients to use. A nil (or empty) grads with losses present
// means there are no shared parameters (the trainer then passes nil): it is
// treated as T zero-length, i.e. zero, gradients. Otherwise there must be
// one gradient per loss, all of the same length; inconsistent arguments are
// a programmer error and panic.
func checkGradArgs(name string, losses []float64, grads [][]float64) [][]float64 {
	if len(grads) == 0 {
		return make([][]float64, len(losses))
	}
	if len(grads) != len(losses) {
		panic(fmt.Sprintf("mtl: %s: got %d gradients for %d losses", name, len(grads), len(losses)))
	}
	for i := range grads {
		if len(grads[i]) != len(grads[0]) {
			panic(fmt.Sprintf("mtl: %s: gradient %d has length %d, gradient 0 has %d", name, i, len(grads[i]), len(grads[0])))
		}
	}
	return grads
}
