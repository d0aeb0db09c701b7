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
//
// Sequence layers work on batch-first tensors [B, T, D] with per-sequence
// lengths for padding, and keep PyTorch's parameter names and layouts:
//
//   - Embedding with an optional padding id (its row gets no gradient) and
//     Logits, the tied output projection through the same table;
//     SinusoidalTable / AddSinusoidal and PositionalEmbedding (learned),
//     both with a position offset for incremental decoding (posenc.go).
//   - GRUCell, LSTMCell and the stacked GRU and LSTM (rnn.go), with the
//     gate order and weight_ih/weight_hh/bias_ih/bias_hh layout of
//     torch.nn; RunGRU and RunLSTM run a cell over [B, T, I] with lengths:
//     a sequence's state is frozen after its length and its outputs there
//     are zero. Each runner's recurrence is one fused operation.
//   - AdditiveAttention (Bahdanau) and LuongAttention (dot and general)
//     for RNN decoders (rnnattn.go).
//   - TokenCrossEntropy (label smoothing, ignore index, averaging per token
//     or per sequence, returning the token count) and
//     SequenceLogLikelihood for scoring (seqloss.go), on the fused
//     autodiff.SoftmaxCrossEntropy.
//
// Scaled dot-product attention itself is autodiff.Attention (one fused
// operation with padding and causal masks and dropout).
package nn
