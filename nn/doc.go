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
//
// Fusion is explicit: a ConvBlock (Conv2d, BatchNorm, ReLU, optional 2x2
// max-pooling) appended with Sequential.AppendBlock runs as one fused
// operation; Conv4, Conv4Strided and the multi-task and transfer conv nets
// are built of them. Layers appended one by one always run one by one.
// Units lists a network's steps as Apply runs them, for code (serve's
// Conv4 kernels) that needs to know which blocks are fused.
package nn
