package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// TransformerConfig sizes a Transformer (Vaswani et al. 2017).
type TransformerConfig struct {
	DModel        int // embedding size E
	Heads         int // attention heads (E must be divisible by Heads)
	EncoderLayers int
	DecoderLayers int
	FFN           int     // feed-forward inner size
	Dropout       float64 // residual, feed-forward and attention dropout
	// NormFirst selects pre-LN layers (x + f(LN(x)), Xiong et al. 2020)
	// instead of the original post-LN ones (LN(x + f(x))).
	NormFirst bool
	// Activation of the feed-forward block: "relu" (default) or "gelu".
	Activation string
	// Seed of the dropout streams.
	Seed uint64
}

func (c TransformerConfig) validate() error {
	switch {
	case c.DModel <= 0 || c.Heads <= 0 || c.DModel%c.Heads != 0:
		return fmt.Errorf("nn: Transformer: d_model %d must be a positive multiple of heads %d", c.DModel, c.Heads)
	case c.EncoderLayers < 0 || c.DecoderLayers < 0 || c.EncoderLayers+c.DecoderLayers == 0:
		return fmt.Errorf("nn: Transformer: %d encoder and %d decoder layers, want >= 0 each and at least one", c.EncoderLayers, c.DecoderLayers)
	case c.FFN <= 0:
		return fmt.Errorf("nn: Transformer: feed-forward size %d, want > 0", c.FFN)
	case c.Dropout < 0 || c.Dropout >= 1:
		return fmt.Errorf("nn: Transformer: dropout %v not in [0,1)", c.Dropout)
	case c.Activation != "" && c.Activation != "relu" && c.Activation != "gelu":
		return fmt.Errorf("nn: Transformer: activation %q, want \"relu\" or \"gelu\"", c.Activation)
	}
	return nil
}

// seedStream hands out dropout seeds, one per dropout application, so that
// a seeded model's dropout masks are reproducible.
type seedStream struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newSeedStream(seed uint64) *seedStream {
	return &seedStream{rng: rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d))}
}

func (s *seedStream) next() uint64 {
	if s == nil {
		panic("nn: a Transformer layer with dropout was not made by its constructor (New...), so it has no dropout seeds")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Uint64()
}

// sublayers holds what encoder and decoder layers share: the feed-forward
// block, the activation, the norm placement and dropout.
type sublayers struct {
	Linear1, Linear2 *Linear
	NormFirst        bool
	gelu             bool
	dropout          float64
	training         bool
	seeds            *seedStream
}

func newSublayers(rng *rand.Rand, c TransformerConfig, seeds *seedStream) sublayers {
	return sublayers{
		Linear1: NewLinear(rng, c.DModel, c.FFN), Linear2: NewLinear(rng, c.FFN, c.DModel),
		NormFirst: c.NormFirst, gelu: c.Activation == "gelu",
		dropout: c.Dropout, training: true, seeds: seeds,
	}
}

// drop applies dropout while training.
func (s *sublayers) drop(x *autodiff.Var) *autodiff.Var {
	if !s.training || s.dropout == 0 {
		return x
	}
	return autodiff.Dropout(x, s.dropout, s.seeds.next())
}

// feedForward is linear2(dropout(act(linear1(x)))) with weights w
// (linear1.weight, linear1.bias, linear2.weight, linear2.bias).
func (s *sublayers) feedForward(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	h := autodiff.Linear(x, w[0], w[1])
	if s.gelu {
		h = autodiff.GELU(h)
	} else {
		h = autodiff.Relu(h)
	}
	return autodiff.Linear(s.drop(h), w[2], w[3])
}

// residual is x + dropout(f(LN(x))) for pre-LN and LN(x + dropout(f(x)))
// for post-LN, with the LayerNorm weights norm.
func (s *sublayers) residual(norm []*autodiff.Var, x *autodiff.Var, f func(*autodiff.Var) *autodiff.Var) *autodiff.Var {
	if s.NormFirst {
		return autodiff.Add(x, s.drop(f(layerNorm(norm, x))))
	}
	return layerNorm(norm, autodiff.Add(x, s.drop(f(x))))
}

// layerNorm is LayerNorm (eps 1e-5, PyTorch's default) with weights w.
func layerNorm(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	return (&LayerNorm{Eps: 1e-5}).Apply(w, x)
}

func linearParams(prefix string, l *Linear) []Param {
	return []Param{{prefix + ".weight", l.Weight}, {prefix + ".bias", l.Bias}}
}

func normParams(prefix string, l *LayerNorm) []Param {
	return []Param{{prefix + ".weight", l.Weight}, {prefix + ".bias", l.Bias}}
}

// EncoderLayer is a Transformer encoder layer (self-attention, then the
// feed-forward block), in PyTorch's nn.TransformerEncoderLayer layout.
type EncoderLayer struct {
	SelfAttn     *MultiHeadAttention
	Norm1, Norm2 *LayerNorm
	sublayers
}

const encoderLayerParams = 12

// NewEncoderLayer returns an encoder layer sized by c.
func NewEncoderLayer(rng *rand.Rand, c TransformerConfig) *EncoderLayer {
	seeds := newSeedStream(c.Seed)
	return &EncoderLayer{
		SelfAttn: NewMultiHeadAttention(rng, c.DModel, c.Heads, c.Dropout, seeds.next()),
		Norm1:    NewLayerNorm(c.DModel), Norm2: NewLayerNorm(c.DModel),
		sublayers: newSublayers(rng, c, seeds),
	}
}

func (l *EncoderLayer) Params() []Param {
	ps := Prefixed("self_attn", l.SelfAttn.Params())
	ps = append(ps, linearParams("linear1", l.Linear1)...)
	ps = append(ps, linearParams("linear2", l.Linear2)...)
	ps = append(ps, normParams("norm1", l.Norm1)...)
	return append(ps, normParams("norm2", l.Norm2)...)
}

func (l *EncoderLayer) SetTraining(t bool) { l.training = t; l.SelfAttn.SetTraining(t) }

// Apply runs the layer on x [B,S,E] with no padding.
func (l *EncoderLayer) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	return l.Forward(w, x, nil)
}

// Forward runs the layer on x [B,S,E] whose row b has lens[b] real
// positions (nil: all real); padded keys are masked.
func (l *EncoderLayer) Forward(w []*autodiff.Var, x *autodiff.Var, lens []int) *autodiff.Var {
	checkWeights("EncoderLayer", w, encoderLayerParams)
	x = l.residual(w[8:10], x, func(h *autodiff.Var) *autodiff.Var {
		return l.SelfAttn.Attend(w[0:4], h, h, AttendOptions{KeyLengths: lens})
	})
	return l.residual(w[10:12], x, func(h *autodiff.Var) *autodiff.Var { return l.feedForward(w[4:8], h) })
}

// DecoderLayer is a Transformer decoder layer (causal self-attention,
// attention to the encoder's memory, then the feed-forward block), in
// PyTorch's nn.TransformerDecoderLayer layout.
type DecoderLayer struct {
	SelfAttn, CrossAttn *MultiHeadAttention
	Norm1, Norm2, Norm3 *LayerNorm
	sublayers
}

const decoderLayerParams = 18

// NewDecoderLayer returns a decoder layer sized by c.
func NewDecoderLayer(rng *rand.Rand, c TransformerConfig) *DecoderLayer {
	seeds := newSeedStream(c.Seed)
	return &DecoderLayer{
		SelfAttn:  NewMultiHeadAttention(rng, c.DModel, c.Heads, c.Dropout, seeds.next()),
		CrossAttn: NewMultiHeadAttention(rng, c.DModel, c.Heads, c.Dropout, seeds.next()),
		Norm1:     NewLayerNorm(c.DModel), Norm2: NewLayerNorm(c.DModel), Norm3: NewLayerNorm(c.DModel),
		sublayers: newSublayers(rng, c, seeds),
	}
}

func (l *DecoderLayer) Params() []Param {
	ps := Prefixed("self_attn", l.SelfAttn.Params())
	ps = append(ps, Prefixed("multihead_attn", l.CrossAttn.Params())...)
	ps = append(ps, linearParams("linear1", l.Linear1)...)
	ps = append(ps, linearParams("linear2", l.Linear2)...)
	ps = append(ps, normParams("norm1", l.Norm1)...)
	ps = append(ps, normParams("norm2", l.Norm2)...)
	return append(ps, normParams("norm3", l.Norm3)...)
}

func (l *DecoderLayer) SetTraining(t bool) {
	l.training = t
	l.SelfAttn.SetTraining(t)
	l.CrossAttn.SetTraining(t)
}

// Apply runs the layer on x [B,T,E] attending to itself as the memory
// (unpadded); Forward is the general form.
func (l *DecoderLayer) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	return l.Forward(w, x, nil, x, nil)
}

// Forward runs the layer on x [B,T,E] (row b has tgtLens[b] real
// positions; nil: all) with causal self-attention, attending to memory
// [B,S,E] (row b has memLens[b] real positions; nil: all).
func (l *DecoderLayer) Forward(w []*autodiff.Var, x *autodiff.Var, tgtLens []int, memory *autodiff.Var, memLens []int) *autodiff.Var {
	checkWeights("DecoderLayer", w, decoderLayerParams)
	x = l.residual(w[12:14], x, func(h *autodiff.Var) *autodiff.Var {
		return l.SelfAttn.Attend(w[0:4], h, h, AttendOptions{KeyLengths: tgtLens, Causal: true})
	})
	x = l.residual(w[14:16], x, func(h *autodiff.Var) *autodiff.Var {
		return l.CrossAttn.Attend(w[4:8], h, memory, AttendOptions{KeyLengths: memLens})
	})
	return l.residual(w[16:18], x, func(h *autodiff.Var) *autodiff.Var { return l.feedForward(w[8:12], h) })
}

// Transformer is an encoder-decoder Transformer over embeddings (no token
// embeddings or output projection: see Seq2Seq), with final LayerNorms
// after the encoder and decoder stacks. Its parameter names and shapes
// are those of PyTorch's nn.Transformer state_dict
// (encoder.layers.0.self_attn.in_proj_weight, ..., encoder.norm.weight,
// decoder.layers.0.multihead_attn.out_proj.bias, ..., decoder.norm.bias),
// so checkpoint.ModuleTensors("", t) written as safetensors loads into
// torch.nn.Transformer(d_model, nhead, num_encoder_layers,
// num_decoder_layers, dim_feedforward, norm_first=...) with
// load_state_dict(strict=True). Inputs are batch-first [B,T,E].
//
// Every method takes the weights explicitly (w, in Params order), so the
// same network runs with fast weights in MAML-style inner loops.
type Transformer struct {
	Config      TransformerConfig
	Encoder     []*EncoderLayer
	EncoderNorm *LayerNorm
	Decoder     []*DecoderLayer
	DecoderNorm *LayerNorm
}

// NewTransformer returns a Transformer sized by c, initialised as PyTorch's
// nn.Transformer is (Xavier-uniform for every matrix, zero attention
// biases, LayerNorm 1 and 0).
func NewTransformer(rng *rand.Rand, c TransformerConfig) (*Transformer, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	t := &Transformer{Config: c, EncoderNorm: NewLayerNorm(c.DModel), DecoderNorm: NewLayerNorm(c.DModel)}
	seeds := newSeedStream(c.Seed)
	for i := 0; i < c.EncoderLayers; i++ {
		lc := c
		lc.Seed = seeds.next()
		t.Encoder = append(t.Encoder, NewEncoderLayer(rng, lc))
	}
	for i := 0; i < c.DecoderLayers; i++ {
		lc := c
		lc.Seed = seeds.next()
		t.Decoder = append(t.Decoder, NewDecoderLayer(rng, lc))
	}
	for _, p := range t.Params() {
		if s := p.V.Shape(); len(s) == 2 {
			p.V.Value = XavierUniform(rng, 1, s...)
		}
	}
	return t, nil
}

func (t *Transformer) Params() []Param {
	var ps []Param
	for i, l := range t.Encoder {
		ps = append(ps, Prefixed("encoder.layers."+strconv.Itoa(i), l.Params())...)
	}
	ps = append(ps, normParams("encoder.norm", t.EncoderNorm)...)
	for i, l := range t.Decoder {
		ps = append(ps, Prefixed("decoder.layers."+strconv.Itoa(i), l.Params())...)
	}
	return append(ps, normParams("decoder.norm", t.DecoderNorm)...)
}

// SetTraining switches dropout on (training) or off (evaluation).
func (t *Transformer) SetTraining(training bool) {
	for _, l := range t.Encoder {
		l.SetTraining(training)
	}
	for _, l := range t.Decoder {
		l.SetTraining(training)
	}
}

// decoderOffset is the index in w of the decoder's first weight.
func (t *Transformer) decoderOffset() int { return encoderLayerParams*len(t.Encoder) + 2 }

func (t *Transformer) numWeights() int {
	return t.decoderOffset() + decoderLayerParams*len(t.Decoder) + 2
}

// Apply runs the encoder (Encode) on x [B,S,E] with no padding, so that a
// Transformer is a Module (whose Params include the decoder's, unused by
// Apply).
func (t *Transformer) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	return t.Encode(w, x, nil)
}

// Encode runs the encoder stack and its final norm on src [B,S,E], row b
// having srcLens[b] real positions (nil: all), and returns the memory
// [B,S,E].
func (t *Transformer) Encode(w []*autodiff.Var, src *autodiff.Var, srcLens []int) *autodiff.Var {
	checkWeights("Transformer", w, t.numWeights())
	x := src
	for i, l := range t.Encoder {
		x = l.Forward(w[i*encoderLayerParams:(i+1)*encoderLayerParams], x, srcLens)
	}
	o := encoderLayerParams * len(t.Encoder)
	return layerNorm(w[o:o+2], x)
}

// Decode runs the decoder stack and its final norm on tgt [B,T,E] (row b
// has tgtLens[b] real positions; nil: all) with causal self-attention and
// attention to memory [B,S,E] (memLens as Encode's srcLens), returning
// [B,T,E].
func (t *Transformer) Decode(w []*autodiff.Var, tgt *autodiff.Var, tgtLens []int, memory *autodiff.Var, memLens []int) *autodiff.Var {
	checkWeights("Transformer", w, t.numWeights())
	x := tgt
	o := t.decoderOffset()
	for i, l := range t.Decoder {
		x = l.Forward(w[o+i*decoderLayerParams:o+(i+1)*decoderLayerParams], x, tgtLens, memory, memLens)
	}
	o += decoderLayerParams * len(t.Decoder)
	return layerNorm(w[o:o+2], x)
}

// Forward is Decode(w, tgt, tgtLens, Encode(w, src, srcLens), srcLens):
// PyTorch's nn.Transformer(src, tgt, tgt_mask=causal,
// src_key_padding_mask, tgt_key_padding_mask, memory_key_padding_mask).
func (t *Transformer) Forward(w []*autodiff.Var, src *autodiff.Var, srcLens []int, tgt *autodiff.Var, tgtLens []int) *autodiff.Var {
	return t.Decode(w, tgt, tgtLens, t.Encode(w, src, srcLens), srcLens)
}

// Tokens is a batch of token-id sequences padded to a common length T:
// row b is IDs[b*T : b*T+Lens[b]], the rest of the row is padding.
type Tokens struct {
	IDs  []int
	Lens []int
	T    int
}

// Batch returns the number of sequences.
func (t Tokens) Batch() int { return len(t.Lens) }

// Validate checks the shape of t and that every id is in [0, vocab).
func (t Tokens) Validate(vocab int) error {
	if t.T < 0 || len(t.IDs) != len(t.Lens)*t.T {
		return fmt.Errorf("nn: Tokens: %d ids for %d rows of length %d", len(t.IDs), len(t.Lens), t.T)
	}
	for b, n := range t.Lens {
		if n < 0 || n > t.T {
			return fmt.Errorf("nn: Tokens: row %d has length %d, want 0..%d", b, n, t.T)
		}
	}
	for i, id := range t.IDs {
		if id < 0 || id >= vocab {
			return fmt.Errorf("nn: Tokens: id %d at row %d position %d not in [0,%d)", id, i/max(t.T, 1), i%max(t.T, 1), vocab)
		}
	}
	return nil
}

// Seq2Seq is a token-level Transformer translation model: a shared source
// and target embedding scaled by sqrt(d_model) plus sinusoidal positions
// (Vaswani et al. 2017, sec. 3.4-3.5), the Transformer, and an output
// projection tied to the embedding (Press & Wolf 2017). Parameters are
// "embed.weight" then the Transformer's, prefixed "transformer.".
type Seq2Seq struct {
	Embed       *Embedding
	Transformer *Transformer
	seeds       *seedStream
	training    bool
}

// NewSeq2Seq returns a Seq2Seq model over a vocabulary of vocab ids; the
// embedding is initialised N(0, d_model^-1/2).
func NewSeq2Seq(rng *rand.Rand, vocab int, c TransformerConfig) (*Seq2Seq, error) {
	if vocab <= 0 {
		return nil, fmt.Errorf("nn: Seq2Seq: vocabulary size %d, want > 0", vocab)
	}
	t, err := NewTransformer(rng, c)
	if err != nil {
		return nil, err
	}
	e := &Embedding{Weight: autodiff.Param(tensor.RandN(rng, tensor.Float32, 1/sqrtf(c.DModel), vocab, c.DModel))}
	return &Seq2Seq{Embed: e, Transformer: t, seeds: newSeedStream(c.Seed ^ 0xe7037ed1a0b428db), training: true}, nil
}

func (m *Seq2Seq) Params() []Param {
	return append([]Param{{"embed.weight", m.Embed.Weight}}, Prefixed("transformer", m.Transformer.Params())...)
}

// SetTraining switches dropout on (training) or off (evaluation).
func (m *Seq2Seq) SetTraining(t bool) { m.training = t; m.Transformer.SetTraining(t) }

// Vocab returns the vocabulary size.
func (m *Seq2Seq) Vocab() int { return m.Embed.Weight.Shape()[0] }

// Apply maps a [B,S] tensor of source ids (unpadded) to the encoder memory
// [B,S,E], so that a Seq2Seq is a Module; the methods taking Tokens are the
// general form.
func (m *Seq2Seq) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	s := x.Shape()
	if len(s) != 2 {
		panic(fmt.Sprintf("nn: Seq2Seq.Apply: input %v, want [B,S] ids", s))
	}
	ids := make([]int, x.Value.Len())
	for i := range ids {
		ids[i] = int(x.Value.Flat(i))
	}
	lens := make([]int, s[0])
	for i := range lens {
		lens[i] = s[1]
	}
	return m.Encode(w, Tokens{IDs: ids, Lens: lens, T: s[1]})
}

// embed returns the scaled embeddings plus positions of ids [B,T] whose
// first position is pos0, with dropout while training: [B,T,E].
func (m *Seq2Seq) embed(table *autodiff.Var, ids []int, b, t, pos0 int) *autodiff.Var {
	x := m.Embed.Embed(table, ids, b, t)
	x = AddSinusoidal(autodiff.Scale(x, sqrtf(table.Shape()[1])), pos0)
	if m.training && m.Transformer.Config.Dropout > 0 {
		x = autodiff.Dropout(x, m.Transformer.Config.Dropout, m.seeds.next())
	}
	return x
}

// Encode embeds src and runs the encoder: memory [B,S,E].
func (m *Seq2Seq) Encode(w []*autodiff.Var, src Tokens) *autodiff.Var {
	if err := src.Validate(w[0].Shape()[0]); err != nil {
		panic(err.Error())
	}
	return m.Transformer.Encode(w[1:], m.embed(w[0], src.IDs, src.Batch(), src.T, 0), src.Lens)
}

// Decode embeds the target prefix tgt and runs the decoder on memory
// (from Encode of a source with lengths srcLens), returning the logits
// [B,T,V] of the next token at every position.
func (m *Seq2Seq) Decode(w []*autodiff.Var, tgt Tokens, memory *autodiff.Var, srcLens []int) *autodiff.Var {
	return autodiff.MatMulNT(m.decodeHidden(w, tgt, memory, srcLens), w[0])
}

// decodeHidden is Decode before the output projection: [B,T,E].
func (m *Seq2Seq) decodeHidden(w []*autodiff.Var, tgt Tokens, memory *autodiff.Var, srcLens []int) *autodiff.Var {
	if err := tgt.Validate(w[0].Shape()[0]); err != nil {
		panic(err.Error())
	}
	return m.Transformer.Decode(w[1:], m.embed(w[0], tgt.IDs, tgt.Batch(), tgt.T, 0), tgt.Lens, memory, srcLens)
}

// Loss is the teacher-forced token-level cross-entropy, label-smoothed by
// smoothing, of target rows tgt that start with a begin-of-sentence id and
// end with the end-of-sentence id: the decoder reads tgt[:, :T-1] and
// predicts tgt[:, 1:]; padding is ignored and the loss is the mean over
// the ntokens predicted tokens.
func (m *Seq2Seq) Loss(w []*autodiff.Var, src, tgt Tokens, smoothing float64) (loss *autodiff.Var, ntokens int) {
	if tgt.T < 2 {
		panic(fmt.Sprintf("nn: Seq2Seq.Loss: target length %d, want >= 2 (begin and end of sentence)", tgt.T))
	}
	b, t := tgt.Batch(), tgt.T-1
	in := Tokens{IDs: make([]int, b*t), Lens: make([]int, b), T: t}
	var rows, labels []int
	for i := 0; i < b; i++ {
		copy(in.IDs[i*t:(i+1)*t], tgt.IDs[i*tgt.T:i*tgt.T+t])
		in.Lens[i] = max(tgt.Lens[i]-1, 0)
		for j := 0; j < in.Lens[i]; j++ {
			rows = append(rows, i*t+j)
			labels = append(labels, tgt.IDs[i*tgt.T+j+1])
		}
	}
	// only the real positions go through the output projection
	h := autodiff.Reshape(m.decodeHidden(w, in, m.Encode(w, src), src.Lens), b*t, -1)
	if len(rows) < b*t {
		h = autodiff.IndexSelect(h, 0, rows)
	}
	return TokenCrossEntropy(autodiff.MatMulNT(h, w[0]), labels, SeqLossOptions{LabelSmoothing: smoothing})
}

func sqrtf(n int) float64 { return math.Sqrt(float64(n)) }

// Reseed restarts every dropout stream of m (the embedding's, each
// layer's and each attention's) from seed, as NewSeq2Seq seeds them from
// TransformerConfig.Seed. A trainer that reseeds before each step with a
// function of the step makes the step's dropout masks independent of the
// steps before it, so a resumed run draws exactly the masks an
// uninterrupted one would.
func (m *Seq2Seq) Reseed(seed uint64) {
	m.seeds = newSeedStream(seed ^ 0xe7037ed1a0b428db)
	m.Transformer.Reseed(seed)
}

// Reseed restarts the dropout streams of every layer from seed, in the
// order NewTransformer seeds them.
func (t *Transformer) Reseed(seed uint64) {
	seeds := newSeedStream(seed)
	for _, l := range t.Encoder {
		s := newSeedStream(seeds.next())
		l.SelfAttn.seeds = newSeedStream(s.next())
		l.seeds = s
	}
	for _, l := range t.Decoder {
		s := newSeedStream(seeds.next())
		l.SelfAttn.seeds = newSeedStream(s.next())
		l.CrossAttn.seeds = newSeedStream(s.next())
		l.seeds = s
	}
}
