// Package tensor provides dense, row-major float32 and float64 tensors and the
// numeric kernels the rest of metalearn is built on: broadcasting elementwise
// arithmetic, reductions, matrix products, 2-D convolution and pooling, shape
// manipulation and numerically stable softmax/log-softmax/logsumexp.
//
// Tensors are treated as immutable values: every operation returns a new
// tensor (shape-only operations such as Reshape may share storage with their
// input). The only in-place operations are the ones whose names say so
// (AddScaledInPlace and friends), used by optimizers.
//
// Shape or dtype mismatches are programming errors and panic with a message
// naming the operation and the shapes involved, in the style of gonum. Code
// that handles user input validates shapes before calling into this package.
//
// Kernels are written once, generically over float32 and float64, with the
// dtype switch done once per call (never per element). Large operations are
// split across all available cores.
//
// A convolution runs as im2col + gemm, as an implicit gemm over padded
// planes (stride 1, conv_implicit.go) or, for float32 3x3 layers with
// stride 1 and padding 1 on AVX-512 machines, as a Winograd F(2x2, 3x3)
// convolution (winograd.go), chosen by shape; the paths agree up to
// rounding, and each is tested against a float64 reference. A convolution
// with few input channels followed by BatchNorm, ReLU and 2x2 pooling can
// run as one block that recomputes its output instead of storing it
// (convbn.go), with the separate operations' numbers bit for bit.
//
// For sequences: Attention runs scaled dot-product attention block by
// block with an online softmax (attention.go, never storing the score
// matrix), SoftmaxCrossEntropy a row-wise loss over large vocabularies
// (xent.go), GRUCell / GRUSequence / LSTMSequence the recurrent cells
// (rnn.go), LayerNorm and GELU, each with its backward kernel.
package tensor
