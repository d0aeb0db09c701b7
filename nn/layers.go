package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// Linear is y = x W^T + b with W [out, in] and b [out] (torch layout).
type Linear struct {
	Weight, Bias *autodiff.Var // Bias nil when created without bias
}

// NewLinear returns a Linear layer initialised as torch.nn.Linear does:
// weights and bias U(-1/sqrt(in), 1/sqrt(in)).
func NewLinear(rng *rand.Rand, in, out int) *Linear {
	b := 1 / math.Sqrt(float64(in))
	return &Linear{
		Weight: autodiff.Param(tensor.RandU(rng, tensor.Float32, -b, b, out, in)),
		Bias:   autodiff.Param(tensor.RandU(rng, tensor.Float32, -b, b, out)),
	}
}

func (l *Linear) AppendVars(dst []*autodiff.Var) []*autodiff.Var {
	dst = append(dst, l.Weight)
	if l.Bias != nil {
		dst = append(dst, l.Bias)
	}
	return dst
}

func (l *Linear) Params() []Param {
	ps := []Param{{"weight", l.Weight}}
	if l.Bias != nil {
		ps = append(ps, Param{"bias", l.Bias})
	}
	return ps
}

func (l *Linear) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	checkWeights("Linear", w, paramCount(l))
	var b *autodiff.Var
	if len(w) == 2 {
		b = w[1]
	}
	return autodiff.Linear(x, w[0], b)
}

// Conv2d is a 2-D convolution layer (cross-correlation, torch layout).
type Conv2d struct {
	Weight, Bias *autodiff.Var // Weight [O,C,K,K]; Bias [O] or nil
	Stride, Pad  int
}

// NewConv2d returns a k x k convolution initialised as torch.nn.Conv2d does
// (weights and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))).
func NewConv2d(rng *rand.Rand, in, out, k, stride, pad int) *Conv2d {
	b := 1 / math.Sqrt(float64(in*k*k))
	return &Conv2d{
		Weight: autodiff.Param(tensor.RandU(rng, tensor.Float32, -b, b, out, in, k, k)),
		Bias:   autodiff.Param(tensor.RandU(rng, tensor.Float32, -b, b, out)),
		Stride: stride, Pad: pad,
	}
}

func (c *Conv2d) AppendVars(dst []*autodiff.Var) []*autodiff.Var {
	dst = append(dst, c.Weight)
	if c.Bias != nil {
		dst = append(dst, c.Bias)
	}
	return dst
}

func (c *Conv2d) Params() []Param {
	ps := []Param{{"weight", c.Weight}}
	if c.Bias != nil {
		ps = append(ps, Param{"bias", c.Bias})
	}
	return ps
}

func (c *Conv2d) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	checkWeights("Conv2d", w, paramCount(c))
	if s := x.Shape(); len(s) != 4 || s[1] != w[0].Shape()[1] {
		panic(fmt.Sprintf("nn: Conv2d: input %v does not match weight %v (want [N,%d,H,W])", s, w[0].Shape(), w[0].Shape()[1]))
	}
	if len(w) == 2 {
		return autodiff.Conv2dBias(x, w[0], w[1], c.Stride, c.Pad)
	}
	return autodiff.Conv2d(x, w[0], c.Stride, c.Pad)
}

// BatchNorm normalises over the batch (and spatial) axes per channel, for
// inputs [N,C] (BatchNorm1d) or [N,C,H,W] (BatchNorm2d). In training mode it
// uses batch statistics and updates the running estimates (momentum 0.1,
// unbiased variance, as PyTorch); in evaluation mode it uses the running
// estimates.
type BatchNorm struct {
	Weight, Bias            *autodiff.Var // gamma, beta [C]
	RunningMean, RunningVar *autodiff.Var // buffers [C]
	Eps, Momentum           float64
	Training                bool
	// TrackRunningStats false always uses batch statistics (transductive).
	TrackRunningStats bool
	mu                sync.Mutex
}

// NewBatchNorm returns a BatchNorm over c channels (gamma 1, beta 0).
func NewBatchNorm(c int) *BatchNorm {
	return &BatchNorm{
		Weight:            autodiff.Param(tensor.Ones(tensor.Float32, c)),
		Bias:              autodiff.Param(tensor.Zeros(tensor.Float32, c)),
		RunningMean:       autodiff.Const(tensor.Zeros(tensor.Float32, c)),
		RunningVar:        autodiff.Const(tensor.Ones(tensor.Float32, c)),
		Eps:               1e-5,
		Momentum:          0.1,
		Training:          true,
		TrackRunningStats: true,
	}
}

func (b *BatchNorm) Params() []Param { return []Param{{"weight", b.Weight}, {"bias", b.Bias}} }

func (b *BatchNorm) AppendVars(dst []*autodiff.Var) []*autodiff.Var {
	return append(dst, b.Weight, b.Bias)
}

func (b *BatchNorm) Buffers() []Buffer {
	return []Buffer{{"running_mean", b.RunningMean}, {"running_var", b.RunningVar}}
}

func (b *BatchNorm) SetTraining(t bool) { b.Training = t }

// batchStatistics reports whether b normalises with the batch's own
// statistics (training, or transductive) rather than the running ones.
func (b *BatchNorm) batchStatistics() bool { return b.Training || !b.TrackRunningStats }

func (b *BatchNorm) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	return b.apply(w, x, false)
}

// ApplyReLU is Relu(b.Apply(w, x)), fused in training mode (one output
// tensor, masked backward). Sequential uses it for BatchNorm then ReLU.
func (b *BatchNorm) ApplyReLU(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	return b.apply(w, x, true)
}

// ApplyReLUPool is MaxPool2d(ReLU(BatchNorm(x)), 2, 2, 0) for x [N,C,H,W];
// with batch statistics it runs as one fused operation
// (autodiff.BatchNormReLUPool).
func (b *BatchNorm) ApplyReLUPool(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	checkWeights("BatchNorm", w, 2)
	s := x.Shape()
	c := w[0].Shape()[0]
	if len(s) != 4 || s[1] != c {
		panic(fmt.Sprintf("nn: BatchNorm over %d channels then pooling: input %v, want [N,%d,H,W]", c, s, c))
	}
	if b.batchStatistics() {
		y, mean, variance := autodiff.BatchNormReLUPool(x, w[0], w[1], b.Eps)
		if b.Training && b.TrackRunningStats {
			b.updateRunning(mean, variance, x.Value.Len()/c)
		}
		return y
	}
	return autodiff.MaxPool2d(b.apply(w, x, true), 2, 2, 0)
}

// applyConvReLUPool is b.ApplyReLUPool(wb, conv.Apply(wc, x)) as one fused
// operation (autodiff.ConvBatchNormReLUPool) when b uses batch statistics
// and the convolution is cheap to recompute (tensor.ConvRecompute); ok
// false: not applicable, nothing done.
func (b *BatchNorm) applyConvReLUPool(conv *Conv2d, wc, wb []*autodiff.Var, x *autodiff.Var) (y *autodiff.Var, ok bool) {
	if !b.batchStatistics() || len(wc) == 0 || len(wb) != 2 {
		return nil, false
	}
	s, ws := x.Shape(), wc[0].Shape()
	if !tensor.ConvRecompute(s, ws, conv.Stride, conv.Pad) || wb[0].Shape()[0] != ws[0] {
		return nil, false
	}
	checkWeights("Conv2d", wc, paramCount(conv))
	var bias *autodiff.Var
	if len(wc) == 2 {
		bias = wc[1]
	}
	y, mean, variance := autodiff.ConvBatchNormReLUPool(x, wc[0], bias, wb[0], wb[1], conv.Stride, conv.Pad, b.Eps)
	if b.Training && b.TrackRunningStats {
		oh, ow := tensor.ConvOutSize(s[2], ws[2], conv.Stride, conv.Pad), tensor.ConvOutSize(s[3], ws[3], conv.Stride, conv.Pad)
		b.updateRunning(mean, variance, s[0]*oh*ow)
	}
	return y, true
}

func (b *BatchNorm) apply(w []*autodiff.Var, x *autodiff.Var, relu bool) *autodiff.Var {
	checkWeights("BatchNorm", w, 2)
	s := x.Shape()
	c := w[0].Shape()[0]
	if (len(s) != 2 && len(s) != 4) || s[1] != c {
		panic(fmt.Sprintf("nn: BatchNorm over %d channels: input %v, want [N,%d] or [N,%d,H,W]", c, s, c, c))
	}
	if b.batchStatistics() {
		// fused: one kernel forward, one backward (itself differentiable)
		bn := autodiff.BatchNormTrain
		if relu {
			bn = autodiff.BatchNormReLU
		}
		y, mean, variance := bn(x, w[0], w[1], b.Eps)
		if b.Training && b.TrackRunningStats {
			b.updateRunning(mean, variance, x.Value.Len()/c)
		}
		return y
	}
	// running statistics: y = x*scale + shift per channel, with
	// scale = gamma/sqrt(running_var+eps), shift = beta - running_mean*scale
	rv := b.RunningVar.Value.AsType(tensor.Float64).F64()
	inv := tensor.FromFloat64(tensor.InvStd(rv, b.Eps), c).AsType(x.DType())
	scale := autodiff.Mul(autodiff.Reshape(w[0], c), autodiff.Const(inv))
	rm := autodiff.Const(tensor.Reshape(b.RunningMean.Value, c).AsType(x.DType()))
	shift := autodiff.Sub(autodiff.Reshape(w[1], c), autodiff.Mul(rm, scale))
	y := autodiff.ChannelAffine(x, scale, shift)
	if relu {
		y = autodiff.Relu(y)
	}
	return y
}

func (b *BatchNorm) updateRunning(mean, biasedVar *tensor.Tensor, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.RunningMean.Value.Len()
	m := tensor.Reshape(mean, c).AsType(b.RunningMean.Value.DType())
	v := tensor.Reshape(biasedVar, c).AsType(b.RunningVar.Value.DType())
	unb := 1.0
	if n > 1 {
		unb = float64(n) / float64(n-1)
	}
	rm := b.RunningMean.Value.Clone()
	rv := b.RunningVar.Value.Clone()
	rm.ScaleInPlace(1 - b.Momentum)
	rm.AddScaledInPlace(b.Momentum, m)
	rv.ScaleInPlace(1 - b.Momentum)
	rv.AddScaledInPlace(b.Momentum*unb, v)
	b.RunningMean.Value, b.RunningVar.Value = rm, rv
}

// LayerNorm normalises over the last dimension with a learned affine map.
type LayerNorm struct {
	Weight, Bias *autodiff.Var // [D]
	Eps          float64
}

// NewLayerNorm returns a LayerNorm over a last dimension of size d.
func NewLayerNorm(d int) *LayerNorm {
	return &LayerNorm{
		Weight: autodiff.Param(tensor.Ones(tensor.Float32, d)),
		Bias:   autodiff.Param(tensor.Zeros(tensor.Float32, d)),
		Eps:    1e-5,
	}
}

func (l *LayerNorm) Params() []Param { return []Param{{"weight", l.Weight}, {"bias", l.Bias}} }

func (l *LayerNorm) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	checkWeights("LayerNorm", w, 2)
	s := x.Shape()
	if len(s) == 0 || s[len(s)-1] != w[0].Shape()[0] {
		panic(fmt.Sprintf("nn: LayerNorm over %d features: input %v", w[0].Shape()[0], s))
	}
	return autodiff.LayerNorm(x, w[0], w[1], l.Eps) // one fused operation
}

// Dropout zeroes each element with probability P during training and
// scales the rest by 1/(1-P); it is the identity in evaluation mode. Its
// random stream is seeded, so runs are reproducible.
type Dropout struct {
	P        float64
	Training bool
	mu       sync.Mutex
	rng      *rand.Rand
}

// NewDropout returns a Dropout layer with its own seeded random stream.
func NewDropout(p float64, seed uint64) *Dropout {
	if p < 0 || p >= 1 {
		panic(fmt.Sprintf("nn: Dropout probability %v not in [0, 1)", p))
	}
	return &Dropout{P: p, Training: true, rng: rand.New(rand.NewPCG(seed, 0xd1b54a32d192ed03))}
}

func (d *Dropout) Params() []Param    { return nil }
func (d *Dropout) SetTraining(t bool) { d.Training = t }

func (d *Dropout) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	checkWeights("Dropout", w, 0)
	if !d.Training || d.P == 0 {
		return x
	}
	// one draw per call seeds the mask, a hash of (seed, index) applied
	// in one pass (autodiff.Dropout)
	d.mu.Lock()
	seed := d.rng.Uint64()
	d.mu.Unlock()
	return autodiff.Dropout(x, d.P, seed)
}

// Embedding maps integer ids to rows of a [num, dim] table. Apply reads the
// ids from x's values (which must be whole numbers in range) and returns
// shape x.shape + [dim].
//
// With Padded set, the row PaddingIdx is padding, as PyTorch's padding_idx:
// NewEmbeddingPadded zeroes it, and it never receives a gradient, so it
// stays as it is through training and through MAML's inner steps.
type Embedding struct {
	Weight     *autodiff.Var
	PaddingIdx int
	Padded     bool
}

// NewEmbedding returns an embedding table initialised N(0, 1) as PyTorch does.
func NewEmbedding(rng *rand.Rand, num, dim int) *Embedding {
	return &Embedding{Weight: autodiff.Param(tensor.RandN(rng, tensor.Float32, 1, num, dim))}
}

// NewEmbeddingPadded is NewEmbedding with row pad as padding (zeroed, no
// gradient).
func NewEmbeddingPadded(rng *rand.Rand, num, dim, pad int) *Embedding {
	if pad < 0 || pad >= num {
		panic(fmt.Sprintf("nn: Embedding: padding id %d not in [0,%d)", pad, num))
	}
	e := NewEmbedding(rng, num, dim)
	for j := 0; j < dim; j++ {
		e.Weight.Value.Set(0, pad, j)
	}
	e.PaddingIdx, e.Padded = pad, true
	return e
}

func (e *Embedding) Params() []Param { return []Param{{"weight", e.Weight}} }

func (e *Embedding) pad() int {
	if e.Padded {
		return e.PaddingIdx
	}
	return -1
}

// Lookup returns the rows of table w for ids, [len(ids), dim] (the
// padding row, if any, passes no gradient).
func (e *Embedding) Lookup(w *autodiff.Var, ids []int) *autodiff.Var {
	return autodiff.EmbeddingLookup(w, ids, e.pad())
}

// Embed returns the rows of table w for ids shaped shape + [dim] (ids
// row-major, e.g. [B, T] token ids).
func (e *Embedding) Embed(w *autodiff.Var, ids []int, shape ...int) *autodiff.Var {
	if tensor.NumElems(shape) != len(ids) {
		panic(fmt.Sprintf("nn: Embedding: %d ids for shape %v", len(ids), shape))
	}
	return autodiff.Reshape(e.Lookup(w, ids), append(append([]int(nil), shape...), w.Shape()[1])...)
}

// Logits is the tied output projection: h [..., dim] times the transposed
// table w [num, dim], giving scores [..., num] over the vocabulary (input
// and output embeddings share one matrix, Press and Wolf 2017).
func (e *Embedding) Logits(w *autodiff.Var, h *autodiff.Var) *autodiff.Var {
	if s := h.Shape(); len(s) == 0 || s[len(s)-1] != w.Shape()[1] {
		panic(fmt.Sprintf("nn: Embedding.Logits: hidden %v for table %v", s, w.Shape()))
	}
	return autodiff.MatMulNT(h, w)
}

func (e *Embedding) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	checkWeights("Embedding", w, 1)
	num := w[0].Shape()[0]
	ids := make([]int, x.Value.Len())
	for i := range ids {
		v := x.Value.Flat(i)
		if v != math.Trunc(v) || v < 0 || int(v) >= num {
			panic(fmt.Sprintf("nn: Embedding: id %v at position %d is not an integer in [0,%d)", v, i, num))
		}
		ids[i] = int(v)
	}
	return e.Embed(w[0], ids, x.Shape()...)
}
