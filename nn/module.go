package nn

import (
	"fmt"
	"strconv"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// Param is a named trainable tensor.
type Param struct {
	Name string
	V    *autodiff.Var
}

// Buffer is named non-trainable state (BatchNorm running statistics).
type Buffer struct {
	Name string
	V    *autodiff.Var
}

// Module is a layer or network.
type Module interface {
	// Params lists the trainable parameters in a fixed order.
	Params() []Param
	// Apply runs the forward pass with weights w, one per entry of
	// Params() and in the same order.
	Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var
}

// Stateful is implemented by modules with buffers.
type Stateful interface {
	Buffers() []Buffer
}

// Trainable is implemented by modules whose behaviour depends on the
// training/evaluation mode (BatchNorm, Dropout).
type Trainable interface {
	SetTraining(training bool)
}

// Forward runs m with its own parameters.
func Forward(m Module, x *autodiff.Var) *autodiff.Var { return m.Apply(Vars(m), x) }

// Vars returns the parameter Vars of m in order.
func Vars(m Module) []*autodiff.Var { return appendVars(nil, m) }

// VarAppender is implemented by modules that can list their parameter
// Vars, in Params order, without building the names: Vars (and so every
// Forward) uses it when present.
type VarAppender interface {
	AppendVars(dst []*autodiff.Var) []*autodiff.Var
}

func appendVars(dst []*autodiff.Var, m Module) []*autodiff.Var {
	if a, ok := m.(VarAppender); ok {
		return a.AppendVars(dst)
	}
	for _, p := range m.Params() {
		dst = append(dst, p.V)
	}
	return dst
}

// Buffers returns m's buffers (none when m is not Stateful).
func Buffers(m Module) []Buffer {
	if s, ok := m.(Stateful); ok {
		return s.Buffers()
	}
	return nil
}

// NumParams returns the number of scalar parameters of m.
func NumParams(m Module) int {
	n := 0
	for _, p := range m.Params() {
		n += p.V.Value.Len()
	}
	return n
}

// SetTraining switches m (and its children) between training and evaluation mode.
func SetTraining(m Module, training bool) {
	if t, ok := m.(Trainable); ok {
		t.SetTraining(training)
	}
}

// Cast converts every parameter and buffer of m to dtype dt in place.
func Cast(m Module, dt tensor.DType) {
	for _, p := range m.Params() {
		p.V.Value = p.V.Value.AsType(dt)
	}
	for _, b := range Buffers(m) {
		b.V.Value = b.V.Value.AsType(dt)
	}
}

// ZeroGrad clears the accumulated gradients of m's parameters.
func ZeroGrad(m Module) {
	for _, p := range m.Params() {
		p.V.ZeroGrad()
	}
}

// Prefixed returns ps with "prefix." prepended to every name.
func Prefixed(prefix string, ps []Param) []Param {
	out := make([]Param, len(ps))
	for i, p := range ps {
		out[i] = Param{Name: prefix + "." + p.Name, V: p.V}
	}
	return out
}

// paramCount is len(m.Params()) without building the list for the layers
// that Apply runs on every forward pass.
func paramCount(m Module) int {
	switch l := m.(type) {
	case *Linear:
		if l.Bias == nil {
			return 1
		}
		return 2
	case *Conv2d:
		if l.Bias == nil {
			return 1
		}
		return 2
	case *BatchNorm:
		return 2
	case *Func, *MaxPool:
		return 0
	case *Sequential:
		n := 0
		for _, c := range l.Layers {
			n += paramCount(c)
		}
		return n
	}
	return len(m.Params())
}

func checkWeights(layer string, w []*autodiff.Var, n int) {
	if len(w) != n {
		panic(fmt.Sprintf("nn: %s.Apply: got %d weights, want %d", layer, len(w), n))
	}
}

// Sequential chains modules; parameter names are "<index>.<name>". Runs
// of layers declared with AppendBlock are computed as one fused operation
// (ConvBlock); every other layer runs on its own.
type Sequential struct {
	Layers []Module
	blocks map[int]*ConvBlock // declared fused blocks by first layer
}

// NewSequential returns a Sequential of the given layers.
func NewSequential(layers ...Module) *Sequential { return &Sequential{Layers: layers} }

func (s *Sequential) Params() []Param {
	var ps []Param
	for i, l := range s.Layers {
		ps = append(ps, Prefixed(strconv.Itoa(i), l.Params())...)
	}
	return ps
}

func (s *Sequential) AppendVars(dst []*autodiff.Var) []*autodiff.Var {
	for _, l := range s.Layers {
		dst = appendVars(dst, l)
	}
	return dst
}

func (s *Sequential) Buffers() []Buffer {
	var bs []Buffer
	for i, l := range s.Layers {
		for _, b := range Buffers(l) {
			bs = append(bs, Buffer{Name: strconv.Itoa(i) + "." + b.Name, V: b.V})
		}
	}
	return bs
}

func (s *Sequential) SetTraining(t bool) {
	for _, l := range s.Layers {
		SetTraining(l, t)
	}
}

func (s *Sequential) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	off := 0
	for i := 0; i < len(s.Layers); i++ {
		l := s.Layers[i]
		n := paramCount(l)
		if off+n > len(w) {
			panic(fmt.Sprintf("nn: Sequential.Apply: got %d weights, want %d", len(w), len(s.Params())))
		}
		if b := s.blockAt(i); b != nil {
			// a declared fused block (ConvBlock)
			nb := paramCount(b.BN)
			if off+n+nb > len(w) {
				panic(fmt.Sprintf("nn: Sequential.Apply: got %d weights, want %d", len(w), len(s.Params())))
			}
			x = b.apply(w[off:off+n], w[off+n:off+n+nb], x)
			off += n + nb
			i += len(b.Layers()) - 1
			continue
		}
		x = l.Apply(w[off:off+n], x)
		off += n
	}
	if off != len(w) {
		panic(fmt.Sprintf("nn: Sequential.Apply: got %d weights, want %d", len(w), off))
	}
	return x
}

// Func wraps a parameter-free function (an activation, say) as a Module.
type Func struct {
	Name string
	F    func(*autodiff.Var) *autodiff.Var
}

func (f *Func) Params() []Param { return nil }

func (f *Func) AppendVars(dst []*autodiff.Var) []*autodiff.Var { return dst }

func (f *Func) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	checkWeights(f.Name, w, 0)
	return f.F(x)
}

// ReLU returns the rectified linear activation module.
func ReLU() Module { return &Func{"ReLU", autodiff.Relu} }

// LeakyReLU returns max(x, slope*x) as a module.
func LeakyReLU(slope float64) Module {
	return &Func{"LeakyReLU", func(x *autodiff.Var) *autodiff.Var { return autodiff.LeakyRelu(x, slope) }}
}

// Tanh returns the tanh activation module.
func Tanh() Module { return &Func{"Tanh", autodiff.Tanh} }

// Sigmoid returns the logistic activation module.
func Sigmoid() Module { return &Func{"Sigmoid", autodiff.Sigmoid} }

// GELU returns the (exact, erf-based) GELU activation module.
func GELU() Module { return &Func{"GELU", autodiff.GELU} }

// Flatten reshapes [N, ...] to [N, prod(...)].
func Flatten() Module { return &Func{"Flatten", autodiff.Flatten} }

// GlobalAvgPool averages [N, C, H, W] over H and W to [N, C].
func GlobalAvgPool() Module {
	return &Func{"GlobalAvgPool", func(x *autodiff.Var) *autodiff.Var { return autodiff.Mean(x, false, 2, 3) }}
}

// MaxPool2d returns a k x k max-pooling module.
func MaxPool2d(k, stride, pad int) Module { return &MaxPool{K: k, Stride: stride, Pad: pad} }

// MaxPool is max-pooling over K x K windows of [N,C,H,W] inputs, a
// parameter-free module (made by MaxPool2d).
type MaxPool struct{ K, Stride, Pad int }

func (p *MaxPool) Params() []Param { return nil }

func (p *MaxPool) AppendVars(dst []*autodiff.Var) []*autodiff.Var { return dst }

func (p *MaxPool) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	checkWeights("MaxPool2d", w, 0)
	return autodiff.MaxPool2d(x, p.K, p.Stride, p.Pad)
}

// AvgPool2d returns a k x k average-pooling module.
func AvgPool2d(k, stride, pad int) Module {
	return &Func{"AvgPool2d", func(x *autodiff.Var) *autodiff.Var { return autodiff.AvgPool2d(x, k, stride, pad) }}
}
