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
//
// # Transformer
//
// MultiHeadAttention (attention.go) is PyTorch's nn.MultiheadAttention:
// in_proj_weight [3E,E], in_proj_bias, out_proj.weight/bias, batch-first
// [B,T,E] inputs; Attend takes a query, a key/value source (the same Var
// for self-attention) and AttendOptions (key lengths for padding, causal).
// Every head's scaled dot-product attention is one call of the fused
// autodiff.Attention; the composite of MatMulNT, an additive mask, Softmax
// and MatMul it replaced is kept as the reference in
// attention_composite_test.go.
//
// EncoderLayer and DecoderLayer (transformer.go) are the post-LN layers of
// Vaswani et al. (2017) or, with TransformerConfig.NormFirst, the pre-LN
// ones, with a ReLU or GELU feed-forward block and dropout on the residual
// branches, the feed-forward activations and the attention weights.
// Transformer stacks them with final encoder and decoder LayerNorms under
// the names of PyTorch's nn.Transformer state_dict
// (encoder.layers.0.self_attn.in_proj_weight, ..., decoder.norm.bias): a
// safetensors file of checkpoint.ModuleTensors("", t) loads into
// torch.nn.Transformer with load_state_dict(strict=True), and the two give
// the same outputs (TestTransformerMatchesPyTorch, through
// reference/transformer_reference.py).
//
// A Transformer has several inputs (source, target, their lengths), so
// besides Module's Apply (the encoder alone) it has Encode(w, src,
// srcLens), Decode(w, tgt, tgtLens, memory, memLens) and Forward. All take
// the weights w explicitly, in Params order, so MAML-style adaptation is
// the usual three lines with any loss built from them:
//
//	g := autodiff.Grad([]*autodiff.Var{loss(w, support)}, w, true)
//	fast := w - alpha*g                 // elementwise, per weight
//	metaLoss := loss(fast, query)       // differentiable in w to second order
//
// (TestTransformerMAMLSecondOrder checks exactly this against finite
// differences). The meta package's algorithms take a Module and a
// data.Task with tensor inputs, so running them on token batches needs a
// sequence task type (the translation application's work); its loss calls
// the functional methods here with the algorithm's fast weights.
//
// Seq2Seq is the token-level model: a shared embedding scaled by
// sqrt(d_model) plus sinusoidal positions, the Transformer, and an output
// projection tied to the embedding; Loss is the teacher-forced,
// label-smoothed cross-entropy over the real (unpadded) target tokens.
// Tokens is its padded batch type (data.TokenBatches makes them).
//
// # Decoding
//
// DecodeState (decode.go) is a batch of rows decoded one token at a time;
// Seq2Seq.StartDecoding returns one that caches the encoder memory's keys
// and values and the decoder's self-attention keys and values, so a step
// costs one position, not the whole prefix. Greedy and BeamSearch drive
// any DecodeState over a batch of sentences: beam size, the length penalty
// ((5+|Y|)/6)^alpha of Wu et al. (2016), a maximum length of ratio x
// source length + constant, a stop once Beam hypotheses of a sentence have
// ended, and n-best lists with scores.
package nn
