// Package nn provides neural-network layers, losses and initialisers on top
// of autodiff.
//
// A Module lists its parameters (named, in a fixed order, e.g. "0.weight")
// and computes its forward pass with an explicitly supplied list of weights:
//
//	y := m.Apply(weights, x)
//
// Forward(m, x) is Apply with the module's own parameters. Passing other
// weights ("fast weights", e.g. theta - alpha*grad) runs the same network
// functionally, which is what MAML-style inner loops need: the module itself
// is never mutated by an inner loop.
//
// Layers are created in float32 from a seeded *rand.Rand; Cast converts a
// whole module (parameters and buffers) to another dtype, e.g. float64 for
// gradient checks.
package nn
