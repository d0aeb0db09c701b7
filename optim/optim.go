package optim

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// Optimizer updates a fixed list of parameters.
type Optimizer interface {
	// Step updates every parameter from its accumulated Grad; parameters
	// with a nil Grad are skipped.
	Step()
	// StepWith updates the parameters from grads (one per parameter, nil to skip).
	StepWith(grads []*tensor.Tensor)
	// ZeroGrad clears the parameters' accumulated gradients.
	ZeroGrad()
	LR() float64
	SetLR(lr float64)
	// State returns a deep copy of the optimizer state.
	State() *State
	// LoadState restores a state saved from an optimizer of the same kind
	// over parameters of the same shapes.
	LoadState(s *State) error
}

// State is the serialisable state of an optimizer.
type State struct {
	Algorithm string
	Step      int
	LR        float64
	// Slots holds per-parameter buffers: Slots[name][i] for parameter i
	// (nil when not yet allocated).
	Slots map[string][]*SlotValue
}

// SlotValue is one saved buffer.
type SlotValue struct {
	Shape  []int
	DType  tensor.DType
	Values []float64 // exact for both float32 and float64
}

// Save writes s with encoding/gob.
func (s *State) Save(w io.Writer) error { return gob.NewEncoder(w).Encode(s) }

// LoadState reads a State written by Save.
func ReadState(r io.Reader) (*State, error) {
	var s State
	if err := gob.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("optim: reading optimizer state: %w", err)
	}
	return &s, nil
}

// base holds what every optimizer shares.
type base struct {
	params []*autodiff.Var
	lr     float64
	step   int
	slots  map[string][]*tensor.Tensor
	name   string
}

func newBase(name string, params []*autodiff.Var, lr float64, slotNames ...string) base {
	b := base{params: params, lr: lr, name: name, slots: map[string][]*tensor.Tensor{}}
	for _, s := range slotNames {
		b.slots[s] = make([]*tensor.Tensor, len(params))
	}
	return b
}

func (b *base) LR() float64      { return b.lr }
func (b *base) SetLR(lr float64) { b.lr = lr }

func (b *base) ZeroGrad() {
	for _, p := range b.params {
		p.ZeroGrad()
	}
}

func (b *base) grads() []*tensor.Tensor {
	g := make([]*tensor.Tensor, len(b.params))
	for i, p := range b.params {
		g[i] = p.Grad
	}
	return g
}

func (b *base) slot(name string, i int) *tensor.Tensor {
	s := b.slots[name][i]
	if s == nil {
		s = tensor.ZerosLike(b.params[i].Value)
		b.slots[name][i] = s
	}
	return s
}

func (b *base) checkGrads(grads []*tensor.Tensor) {
	if len(grads) != len(b.params) {
		panic(fmt.Sprintf("optim: %s: %d gradients for %d parameters", b.name, len(grads), len(b.params)))
	}
	for i, g := range grads {
		if g != nil && !tensor.SameShape(g.Shape(), b.params[i].Value.Shape()) {
			panic(fmt.Sprintf("optim: %s: gradient %d has shape %v, parameter has %v", b.name, i, g.Shape(), b.params[i].Value.Shape()))
		}
	}
}

func (b *base) State() *State {
	s := &State{Algorithm: b.name, Step: b.step, LR: b.lr, Slots: map[string][]*SlotValue{}}
	for name, ts := range b.slots {
		vs := make([]*SlotValue, len(ts))
		for i, t := range ts {
			if t != nil {
				vs[i] = &SlotValue{Shape: append([]int(nil), t.Shape()...), DType: t.DType(), Values: t.Values()}
			}
		}
		s.Slots[name] = vs
	}
	return s
}

func (b *base) LoadState(s *State) error {
	if s == nil {
		return errors.New("optim: LoadState: nil state")
	}
	if s.Algorithm != b.name {
		return fmt.Errorf("optim: LoadState: state is for %q, optimizer is %q", s.Algorithm, b.name)
	}
	slots := map[string][]*tensor.Tensor{}
	for name := range b.slots {
		vs, ok := s.Slots[name]
		if !ok {
			return fmt.Errorf("optim: LoadState: %s state lacks buffer %q", b.name, name)
		}
		if len(vs) != len(b.params) {
			return fmt.Errorf("optim: LoadState: buffer %q has %d entries for %d parameters", name, len(vs), len(b.params))
		}
		ts := make([]*tensor.Tensor, len(vs))
		for i, v := range vs {
			if v == nil {
				continue
			}
			ps := b.params[i].Value.Shape()
			if !tensor.SameShape(v.Shape, ps) || len(v.Values) != tensor.NumElems(ps) {
				return fmt.Errorf("optim: LoadState: buffer %q of parameter %d has shape %v, parameter has %v", name, i, v.Shape, ps)
			}
			ts[i] = tensor.FromValues(b.params[i].Value.DType(), v.Values, ps...)
		}
		slots[name] = ts
	}
	if s.Step < 0 || math.IsNaN(s.LR) || s.LR < 0 {
		return fmt.Errorf("optim: LoadState: invalid step %d or learning rate %v", s.Step, s.LR)
	}
	b.slots, b.step, b.lr = slots, s.Step, s.LR
	return nil
}

// SGDConfig configures SGD. Momentum 0 gives plain SGD; Nesterov needs
// Momentum > 0. WeightDecay adds WeightDecay*p to the gradient (L2).
type SGDConfig struct {
	LR, Momentum, WeightDecay float64
	Nesterov                  bool
}

// SGD is stochastic gradient descent with optional (Nesterov) momentum,
// following torch.optim.SGD: b = mu*b + g; step = g + mu*b (Nesterov) or b.
type SGD struct {
	base
	cfg SGDConfig
}

// NewSGD returns an SGD optimizer over params.
func NewSGD(params []*autodiff.Var, cfg SGDConfig) *SGD {
	if cfg.Nesterov && cfg.Momentum <= 0 {
		panic("optim: SGD: Nesterov momentum requires Momentum > 0")
	}
	return &SGD{base: newBase("sgd", params, cfg.LR, "momentum"), cfg: cfg}
}

func (o *SGD) Step() { o.StepWith(o.grads()) }

func (o *SGD) StepWith(grads []*tensor.Tensor) {
	o.checkGrads(grads)
	o.step++
	for i, g := range grads {
		if g == nil {
			continue
		}
		p := o.params[i].Value
		var buf *tensor.Tensor
		if o.cfg.Momentum != 0 {
			buf = o.slot("momentum", i)
		}
		first := o.step == 1
		if p.DType() == tensor.Float32 {
			sgdKernel(p.F32(), g.F32(), f32(buf), float32(o.lr), float32(o.cfg.Momentum), float32(o.cfg.WeightDecay), o.cfg.Nesterov, first)
		} else {
			sgdKernel(p.F64(), g.F64(), f64(buf), o.lr, o.cfg.Momentum, o.cfg.WeightDecay, o.cfg.Nesterov, first)
		}
	}
}

func f32(t *tensor.Tensor) []float32 {
	if t == nil {
		return nil
	}
	return t.F32()
}

func f64(t *tensor.Tensor) []float64 {
	if t == nil {
		return nil
	}
	return t.F64()
}

func sgdKernel[T tensor.Float](p, g, buf []T, lr, mu, wd T, nesterov, first bool) {
	g = g[:len(p)]
	for i := range p {
		d := g[i] + wd*p[i]
		if buf != nil {
			if first {
				buf[i] = d
			} else {
				buf[i] = mu*buf[i] + d
			}
			if nesterov {
				d += mu * buf[i]
			} else {
				d = buf[i]
			}
		}
		p[i] -= lr * d
	}
}

// AdamConfig configures Adam and AdamW. Zero Beta1/Beta2/Eps take the
// defaults 0.9, 0.999, 1e-8 unless ExplicitBetas is set (Reptile uses
// Beta1 = 0).
type AdamConfig struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	ExplicitBetas                      bool
}

func (c AdamConfig) withDefaults() AdamConfig {
	if !c.ExplicitBetas {
		if c.Beta1 == 0 {
			c.Beta1 = 0.9
		}
		if c.Beta2 == 0 {
			c.Beta2 = 0.999
		}
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	return c
}

// Adam implements Kingma & Ba (2015), Algorithm 1, with bias correction.
// For Adam, WeightDecay is L2 added to the gradient; for AdamW (Loshchilov
// & Hutter 2019) it is decoupled: p <- p*(1 - lr*wd) before the Adam step.
type Adam struct {
	base
	cfg       AdamConfig
	decoupled bool
}

// NewAdam returns an Adam optimizer.
func NewAdam(params []*autodiff.Var, cfg AdamConfig) *Adam {
	return &Adam{base: newBase("adam", params, cfg.LR, "m", "v"), cfg: cfg.withDefaults()}
}

// NewAdamW returns an AdamW optimizer (decoupled weight decay).
func NewAdamW(params []*autodiff.Var, cfg AdamConfig) *Adam {
	return &Adam{base: newBase("adamw", params, cfg.LR, "m", "v"), cfg: cfg.withDefaults(), decoupled: true}
}

func (o *Adam) Step() { o.StepWith(o.grads()) }

func (o *Adam) StepWith(grads []*tensor.Tensor) {
	o.checkGrads(grads)
	o.step++
	c := o.cfg
	bc1 := 1 - math.Pow(c.Beta1, float64(o.step))
	bc2 := 1 - math.Pow(c.Beta2, float64(o.step))
	var pieces []adamPiece
	for i, g := range grads {
		if g == nil {
			continue
		}
		p := o.params[i].Value
		m, v := o.slot("m", i), o.slot("v", i)
		for lo := 0; lo < p.Len(); lo += adamChunk {
			pieces = append(pieces, adamPiece{p, g, m, v, lo, min(lo+adamChunk, p.Len())})
		}
	}
	// The update is elementwise, so splitting the parameters into chunks
	// across the kernel threads gives the same bits as one loop.
	eachPiece(len(pieces), func(k int) {
		q := pieces[k]
		if q.p.DType() == tensor.Float32 {
			adamKernel(q.p.F32()[q.lo:q.hi], q.g.F32()[q.lo:q.hi], q.m.F32()[q.lo:q.hi], q.v.F32()[q.lo:q.hi], o.lr, c, bc1, bc2, o.decoupled)
		} else {
			adamKernel(q.p.F64()[q.lo:q.hi], q.g.F64()[q.lo:q.hi], q.m.F64()[q.lo:q.hi], q.v.F64()[q.lo:q.hi], o.lr, c, bc1, bc2, o.decoupled)
		}
	})
}

// adamChunk is how many elements of one parameter one Adam work piece
// updates (large enough that handing it to a goroutine is cheap).
const adamChunk = 1 << 15

type adamPiece struct {
	p, g, m, v *tensor.Tensor
	lo, hi     int
}

// eachPiece runs body(0..n-1) on up to tensor.Threads() goroutines, each
// taking the next index; serially when there is one thread or one piece.
func eachPiece(n int, body func(k int)) {
	workers := min(tensor.Threads(), n)
	if workers <= 1 {
		for k := 0; k < n; k++ {
			body(k)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := int(next.Add(1) - 1); k < n; k = int(next.Add(1) - 1) {
				body(k)
			}
		}()
	}
	wg.Wait()
}

func adamKernel[T tensor.Float](p, g, m, v []T, lr float64, c AdamConfig, bc1, bc2 float64, decoupled bool) {
	b1, b2 := T(c.Beta1), T(c.Beta2)
	stepSize := T(lr / bc1)
	sqrtBc2 := T(math.Sqrt(bc2))
	eps := T(c.Eps)
	wd := T(c.WeightDecay)
	decay := T(1 - lr*c.WeightDecay)
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i := range p {
		d := g[i]
		if decoupled {
			p[i] *= decay
		} else if wd != 0 {
			d += wd * p[i]
		}
		m[i] = b1*m[i] + (1-b1)*d
		v[i] = b2*v[i] + (1-b2)*d*d
		denom := T(math.Sqrt(float64(v[i])))/sqrtBc2 + eps
		p[i] -= stepSize * m[i] / denom
	}
}

// GlobalNorm is the Euclidean norm of all of grads together (nil entries
// skipped), without copying them.
func GlobalNorm(grads []*tensor.Tensor) float64 {
	total := 0.0
	for _, g := range grads {
		if g != nil {
			n := tensor.Norm(g)
			total += n * n
		}
	}
	return math.Sqrt(total)
}

// ClipGradNorm rescales grads so that their global Euclidean norm is at
// most maxNorm and returns the norm before clipping (torch's
// clip_grad_norm_). Nil entries are skipped.
func ClipGradNorm(grads []*tensor.Tensor, maxNorm float64) float64 {
	total := GlobalNorm(grads)
	if coef := maxNorm / (total + 1e-6); coef < 1 {
		for _, g := range grads {
			if g != nil {
				g.ScaleInPlace(coef)
			}
		}
	}
	return total
}

// Grads returns the accumulated Grad of each parameter (nil where none).
func Grads(params []*autodiff.Var) []*tensor.Tensor {
	g := make([]*tensor.Tensor, len(params))
	for i, p := range params {
		g[i] = p.Grad
	}
	return g
}
