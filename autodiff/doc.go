// Package autodiff is metalearn's define-by-run reverse-mode automatic
// differentiation engine.
//
// A *Var wraps a tensor. Operations on Vars that require gradients record,
// on the result, the inputs and a backward rule; the recorded graph is the
// tape. Grad(outputs, wrt, createGraph) walks it in reverse topological order,
// like torch.autograd.grad. Every backward rule is written with the same
// differentiable operations as the forward pass, so when createGraph is true
// the returned gradients are themselves part of a graph and can be
// differentiated again (second- and higher-order derivatives, as MAML needs).
// When createGraph is false the rules run on detached inputs, so nothing is
// recorded and no memory is kept.
//
// The graph is owned by the Vars that reference it: there is no global tape,
// so once a step's outputs become unreachable the whole graph is garbage
// collected (nothing leaks across training steps). A graph may be
// differentiated any number of times while its outputs are alive.
//
// Memory is reused rather than collected where lifetimes are known: a
// sweep without createGraph hands each intermediate gradient's storage
// back (tensor.Recycle) as soon as nothing refers to it, and Free ends a
// finished step's graph, recycling its intermediate values (PyTorch's
// retain_graph=False). A training loop that calls Free after its update
// allocates almost nothing fresh per step: conv4 at batch 25 went from 33
// MB to 3 MB per step, with the speed and peak-memory effects recorded in
// BENCHMARKS.md.
//
// Each op's forward and backward live side by side, one file per op
// family: elementwise and reduction ops (ops.go), shapes (shape.go),
// matrix products and solves (linalg.go), convolution and the fused
// convolution block (conv.go), pooling (pool.go), batch normalisation
// (batchnorm.go), per-channel sums and affine maps (channel.go), losses
// (loss.go); GradCheck and GradGradCheck (gradcheck.go) verify them
// against central finite differences in float64.
//
// Fused operations run one kernel forward and one backward where the
// composite would store large intermediates, and when a graph of the
// gradient is being built (second order) their backward recomputes the
// composite from the inputs and differentiates it locally, so every order
// of derivative is the composite's. Besides the convolution block and
// batch normalisation (conv.go, batchnorm.go) the sequence operations are
// built this way:
//
//   - Attention (attention.go): scaled dot-product attention
//     softmax(q k^T * scale + mask) v over [B, H, T, D] with key-length
//     (padding) and causal masks and dropout on the weights, computed
//     FlashAttention-style (Dao et al. 2022) with an online softmax over
//     blocks of keys: memory grows linearly with the length, and the
//     backward pass recomputes the scores block by block from the kept
//     log-sum-exp of each row. The dropout mask is a hash of (Seed, b, h,
//     i, j), so both passes agree without storing it. AttentionComposite
//     is the same from separate operations.
//   - SoftmaxCrossEntropy (loss.go): per-row cross-entropy of logits with
//     PyTorch's label smoothing and an ignore index, keeping one
//     log-sum-exp per row instead of the [N, V] log-probabilities.
//   - GRUCell, GRUSequence and LSTMSequence (rnn.go): a GRU's gate
//     arithmetic, and the whole recurrence of a GRU or LSTM over T steps
//     with per-sequence lengths (one matrix product per step forward and
//     backward, the hidden weights' gradient one product over all steps).
//   - LayerNorm (layernorm.go), GELU (ops.go, exact erf form; in float32
//     through a Chebyshev-fitted erfc, within 3e-6 relative) and Dropout
//     (ops.go, its mask a hash of seed and position, never stored): one
//     pass forward and one backward each.
//   - EmbeddingLookup (embedding.go): table rows by id, with a padding id
//     whose row receives no gradient.
package autodiff
