package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/metalearn/metalearn/autodiff"
)

// A ConvBlock is the convolution block of the few-shot and multi-task
// conv nets: a Conv2d, a BatchNorm, a ReLU and, when Pool is set, 2x2
// max-pooling with stride 2. A Sequential computes a block it was given by
// Sequential.AppendBlock as one fused operation:
//
//   - with pooling: autodiff.ConvBatchNormReLUPool when the BatchNorm uses
//     batch statistics and the convolution is cheap to recompute
//     (tensor.ConvRecompute), else the convolution then
//     BatchNorm.ApplyReLUPool (autodiff.BatchNormReLUPool);
//   - without: the convolution then BatchNorm.ApplyReLU
//     (autodiff.BatchNormReLU).
//
// Fusion is declared, never guessed from the layer types: a Sequential of
// the same layers appended one by one runs them one by one (to the same
// values up to rounding). The block's layers stay separate entries of
// Sequential.Layers, so parameter and buffer names and their order are
// those of the layers ("0.weight", "1.running_mean", ...; files saved
// before blocks existed load), and code that walks or indexes Layers sees
// them. serve's Conv4 kernels read the same declaration (Units).
type ConvBlock struct {
	Conv *Conv2d
	BN   *BatchNorm
	ReLU Module   // made by ReLU()
	Pool *MaxPool // nil: no pooling; else 2x2, stride 2, no padding
}

// NewConvBlock returns a block of a fresh k x k Conv2d from in to out
// channels (with bias; stride, pad), BatchNorm(out), ReLU and, when pool
// is set, MaxPool2d(2, 2, 0). It draws from rng exactly as NewConv2d does.
func NewConvBlock(rng *rand.Rand, in, out, k, stride, pad int, pool bool) *ConvBlock {
	b := &ConvBlock{Conv: NewConv2d(rng, in, out, k, stride, pad), BN: NewBatchNorm(out), ReLU: ReLU()}
	if pool {
		b.Pool = MaxPool2d(2, 2, 0).(*MaxPool)
	}
	return b
}

// Layers returns the block's layers in order.
func (b *ConvBlock) Layers() []Module {
	ls := []Module{b.Conv, b.BN, b.ReLU}
	if b.Pool != nil {
		ls = append(ls, b.Pool)
	}
	return ls
}

// check reports whether the block is well formed.
func (b *ConvBlock) check() error {
	switch {
	case b.Conv == nil || b.BN == nil || b.ReLU == nil:
		return fmt.Errorf("nn: ConvBlock needs a Conv2d, a BatchNorm and a ReLU")
	case b.Pool != nil && (b.Pool.K != 2 || b.Pool.Stride != 2 || b.Pool.Pad != 0):
		return fmt.Errorf("nn: ConvBlock pools 2x2 windows with stride 2 and no padding, not %d/%d/%d", b.Pool.K, b.Pool.Stride, b.Pool.Pad)
	}
	if f, ok := b.ReLU.(*Func); !ok || f.Name != "ReLU" {
		return fmt.Errorf("nn: ConvBlock's activation must be ReLU()")
	}
	return nil
}

// apply runs the block with the convolution's weights wc and the
// BatchNorm's wb.
func (b *ConvBlock) apply(wc, wb []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	if b.Pool == nil {
		return b.BN.ApplyReLU(wb, b.Conv.Apply(wc, x))
	}
	if y, ok := b.BN.applyConvReLUPool(b.Conv, wc, wb, x); ok {
		return y
	}
	return b.BN.ApplyReLUPool(wb, b.Conv.Apply(wc, x))
}

// AppendBlock appends b's layers to s and declares them one fused block
// (see ConvBlock). It panics on a malformed block (a programming error).
func (s *Sequential) AppendBlock(b *ConvBlock) {
	if err := b.check(); err != nil {
		panic(err)
	}
	if s.blocks == nil {
		s.blocks = map[int]*ConvBlock{}
	}
	s.blocks[len(s.Layers)] = b
	s.Layers = append(s.Layers, b.Layers()...)
}

// Append appends layers to s (run one by one).
func (s *Sequential) Append(layers ...Module) { s.Layers = append(s.Layers, layers...) }

// blockAt returns the block declared at layer i when its layers are still
// in place (a caller may have replaced a layer of s.Layers since).
func (s *Sequential) blockAt(i int) *ConvBlock {
	b := s.blocks[i]
	if b == nil {
		return nil
	}
	ls := b.Layers()
	if i+len(ls) > len(s.Layers) {
		return nil
	}
	for k, l := range ls {
		if s.Layers[i+k] != l {
			return nil
		}
	}
	return b
}

// A Unit is one step of a network's forward pass as Sequential.Apply runs
// it: a declared fused block or a single layer.
type Unit struct {
	Block *ConvBlock // nil: a single layer
	Layer Module     // the layer when Block is nil
}

// Units lists m's forward steps in order, through nested Sequentials: a
// module that is not a Sequential is one unit.
func Units(m Module) []Unit {
	s, ok := m.(*Sequential)
	if !ok {
		return []Unit{{Layer: m}}
	}
	var us []Unit
	for i := 0; i < len(s.Layers); i++ {
		if b := s.blockAt(i); b != nil {
			us = append(us, Unit{Block: b})
			i += len(b.Layers()) - 1
			continue
		}
		us = append(us, Units(s.Layers[i])...)
	}
	return us
}
