package transfer

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// Layer is one top-level child of an nn.Sequential that holds parameters.
// Fine-tuning strategies count layers this way: activations, pooling and
// Flatten carry no weights and are not layers. The last layer is the head.
type Layer struct {
	Index  int        // position among the Sequential's children
	Name   string     // the parameter-name prefix, e.g. "3"
	Type   string     // the child's Go type, e.g. "*nn.Linear"
	Params []nn.Param // names relative to the child
}

// Vars returns the layer's parameter variables.
func (l Layer) Vars() []*autodiff.Var {
	vs := make([]*autodiff.Var, len(l.Params))
	for i, p := range l.Params {
		vs[i] = p.V
	}
	return vs
}

// Layers lists m's parameterised top-level children in order.
func Layers(m *nn.Sequential) []Layer {
	var out []Layer
	for i, c := range m.Layers {
		if ps := c.Params(); len(ps) > 0 {
			out = append(out, Layer{Index: i, Name: strconv.Itoa(i), Type: fmt.Sprintf("%T", c), Params: ps})
		}
	}
	return out
}

// headNames returns the full parameter names of m's head (last layer).
func headNames(m *nn.Sequential) map[string]bool {
	ls := Layers(m)
	out := map[string]bool{}
	if len(ls) == 0 {
		return out
	}
	h := ls[len(ls)-1]
	for _, p := range h.Params {
		out[h.Name+"."+p.Name] = true
	}
	return out
}

// HeadOutputs returns the number of outputs of m's head when it is an
// nn.Linear, else 0.
func HeadOutputs(m *nn.Sequential) int {
	ls := Layers(m)
	if len(ls) == 0 {
		return 0
	}
	if lin, ok := m.Layers[ls[len(ls)-1].Index].(*nn.Linear); ok {
		return lin.Weight.Value.Dim(0)
	}
	return 0
}

// ReplaceHead swaps m's head (its last parameterised child, which must be an
// nn.Linear) for a freshly initialised nn.Linear with the same inputs and
// the given number of outputs: the usual way to reuse a source network for
// a target with another label set.
func ReplaceHead(m *nn.Sequential, classes int, rng *rand.Rand) error {
	ls := Layers(m)
	if len(ls) == 0 {
		return fmt.Errorf("transfer: the model has no layer with parameters, so no head to replace")
	}
	h := ls[len(ls)-1]
	lin, ok := m.Layers[h.Index].(*nn.Linear)
	if !ok {
		return fmt.Errorf("transfer: the model's head (child %d) is %s, want *nn.Linear to replace it", h.Index, h.Type)
	}
	if classes < 1 {
		return fmt.Errorf("transfer: new head with %d outputs, want >= 1", classes)
	}
	nl := nn.NewLinear(rng, lin.Weight.Value.Dim(1), classes)
	if dt := lin.Weight.Value.DType(); dt != tensor.Float32 {
		nl.Weight.Value = nl.Weight.Value.AsType(dt)
		nl.Bias.Value = nl.Bias.Value.AsType(dt)
	}
	m.Layers[h.Index] = nl
	return nil
}

// LoadSource copies source weights (parameters and buffers by name, as
// written by checkpoint.ModuleTensors) into m. With newHead the head's
// parameters are not loaded (they keep their fresh initialisation and may
// differ in shape from the source head). Every tensor is checked before
// anything is copied; all mismatches (missing, extra, wrong shape) are
// listed in one error, and m is left untouched then. source names the
// checkpoint in the message.
func LoadSource(m *nn.Sequential, weights map[string]*tensor.Tensor, newHead bool, source string) error {
	skip := map[string]bool{}
	if newHead {
		skip = headNames(m)
	}
	type target struct {
		name string
		dst  **tensor.Tensor
	}
	var targets []target
	for _, p := range m.Params() {
		if !skip[p.Name] {
			targets = append(targets, target{p.Name, &p.V.Value})
		}
	}
	for _, b := range nn.Buffers(m) {
		targets = append(targets, target{b.Name, &b.V.Value})
	}
	var bad []string
	want := map[string]bool{}
	for _, tg := range targets {
		want[tg.name] = true
		t, ok := weights[tg.name]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s: missing from the source (model expects shape %v)", tg.name, (*tg.dst).Shape()))
		case !tensor.SameShape(t.Shape(), (*tg.dst).Shape()):
			bad = append(bad, fmt.Sprintf("%s: shape %v in the source, %v in the target model", tg.name, t.Shape(), (*tg.dst).Shape()))
		}
	}
	var extra []string
	for name := range weights {
		if !want[name] && !skip[name] {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		bad = append(bad, fmt.Sprintf("%s: in the source but not a parameter of the target model", name))
	}
	if len(bad) > 0 {
		return fmt.Errorf("transfer: source %s is incompatible with the target model (%d mismatching tensors): %s", source, len(bad), strings.Join(bad, "; "))
	}
	for _, tg := range targets {
		// copy: the model must never share storage with the caller's map
		// (optimizers update parameters in place)
		*tg.dst = weights[tg.name].AsType((*tg.dst).DType()).Clone()
	}
	return nil
}

// snapshot copies every parameter and buffer value of m.
func snapshot(m nn.Module) []*tensor.Tensor {
	var out []*tensor.Tensor
	for _, p := range m.Params() {
		out = append(out, p.V.Value.Clone())
	}
	for _, b := range nn.Buffers(m) {
		out = append(out, b.V.Value.Clone())
	}
	return out
}

// restore writes a snapshot back.
func restore(m nn.Module, s []*tensor.Tensor) {
	i := 0
	for _, p := range m.Params() {
		p.V.Value = s[i].Clone()
		i++
	}
	for _, b := range nn.Buffers(m) {
		b.V.Value = s[i].Clone()
		i++
	}
}

// Weights returns copies of m's parameters and buffers by name: the form
// LoadSource and Source.Weights take (and checkpoint.ReadFile returns).
func Weights(m nn.Module) map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{}
	for _, p := range m.Params() {
		out[p.Name] = p.V.Value.Clone()
	}
	for _, b := range nn.Buffers(m) {
		out[b.Name] = b.V.Value.Clone()
	}
	return out
}
