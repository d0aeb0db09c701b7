package transfer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// Data is a labelled classification set: inputs X [N, ...] (one example per
// row of the first axis, float32 or float64) and class ids Y in
// [0, len(ClassNames)).
type Data struct {
	Name       string
	X          *tensor.Tensor
	Y          []int
	ClassNames []string
}

// Classes returns the number of classes.
func (d Data) Classes() int { return len(d.ClassNames) }

// Len returns the number of examples.
func (d Data) Len() int {
	if d.X == nil {
		return 0
	}
	return d.X.Dim(0)
}

// Empty reports whether d holds no examples.
func (d Data) Empty() bool { return d.Len() == 0 }

// Validate checks shapes and label ranges; what names the set in errors.
func (d Data) Validate(what string) error {
	if d.X == nil {
		return fmt.Errorf("transfer: %s data has no inputs", what)
	}
	if d.X.Dims() < 2 {
		return fmt.Errorf("transfer: %s inputs have shape %v, want [N, ...]", what, d.X.Shape())
	}
	if len(d.Y) != d.X.Dim(0) {
		return fmt.Errorf("transfer: %s data has %d labels for %d examples", what, len(d.Y), d.X.Dim(0))
	}
	if len(d.ClassNames) == 0 {
		return fmt.Errorf("transfer: %s data has no class names", what)
	}
	for i, y := range d.Y {
		if y < 0 || y >= len(d.ClassNames) {
			return fmt.Errorf("transfer: %s example %d has label %d, want [0, %d)", what, i, y, len(d.ClassNames))
		}
	}
	return nil
}

// Subset returns the examples idx (inputs copied).
func (d Data) Subset(idx []int) Data {
	y := make([]int, len(idx))
	for i, r := range idx {
		y[i] = d.Y[r]
	}
	return Data{Name: d.Name, X: tensor.IndexSelect(d.X, 0, idx), Y: y, ClassNames: d.ClassNames}
}

// ByClass lists the example indices of every class.
func (d Data) ByClass() [][]int {
	out := make([][]int, d.Classes())
	for i, y := range d.Y {
		out[y] = append(out[y], i)
	}
	return out
}

// SplitPerClass shuffles every class's examples (seeded) and cuts them into
// len(fracs) consecutive parts with the given fractions (they must sum to
// at most 1; the last part takes the rest when they sum to 1). Every part
// of a class with at least len(fracs) examples gets at least one example,
// so small classes stay represented everywhere.
func SplitPerClass(d Data, fracs []float64, seed uint64) ([]Data, error) {
	if err := d.Validate("split"); err != nil {
		return nil, err
	}
	sum := 0.0
	for _, f := range fracs {
		if !(f > 0) {
			return nil, fmt.Errorf("transfer: split fractions %v must be positive", fracs)
		}
		sum += f
	}
	if len(fracs) == 0 || sum > 1+1e-9 {
		return nil, fmt.Errorf("transfer: split fractions %v must be non-empty and sum to at most 1", fracs)
	}
	rng := rand.New(rand.NewPCG(seed, 0x73706c6974))
	parts := make([][]int, len(fracs))
	for _, idx := range d.ByClass() {
		idx = slices.Clone(idx)
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		n := len(idx)
		cut := make([]int, len(fracs)+1)
		acc := 0.0
		for p, f := range fracs {
			acc += f
			cut[p+1] = int(math.Round(acc * float64(n)))
		}
		if math.Abs(sum-1) < 1e-9 {
			cut[len(fracs)] = n
		}
		if n >= len(fracs) { // at least one per part
			for p := 1; p <= len(fracs); p++ {
				if cut[p] <= cut[p-1] {
					cut[p] = cut[p-1] + 1
				}
			}
			for p := len(fracs); p >= 1; p-- {
				lim := n - (len(fracs) - p)
				if cut[p] > lim {
					cut[p] = lim
				}
			}
		}
		for p := range fracs {
			parts[p] = append(parts[p], idx[cut[p]:cut[p+1]]...)
		}
	}
	out := make([]Data, len(fracs))
	for p, idx := range parts {
		slices.Sort(idx)
		out[p] = d.Subset(idx)
	}
	return out, nil
}

// Shots returns k examples of every class drawn without replacement
// (seeded); a class with fewer than k examples, or k <= 0 ("all"), keeps
// all its examples.
func Shots(d Data, k int, seed uint64) Data { return d.Subset(shotIndices(d, k, seed)) }

// evalBatch bounds the examples per forward pass at evaluation.
const evalBatch = 512

// Evaluate returns the accuracy and mean cross-entropy of the classifier m
// on d (0, 0 when d is empty), in evaluation mode (BatchNorm running statistics, no dropout) and
// without recording a graph. Errors from the forward pass (a shape that does
// not fit the model, say) are returned, not raised.
func Evaluate(m nn.Module, d Data) (acc, loss float64, err error) {
	if d.Empty() {
		return 0, 0, nil
	}
	nn.SetTraining(m, false)
	defer nn.SetTraining(m, true)
	err = safely("evaluation forward pass", func() error {
		correct, total := 0.0, 0.0
		n := d.Len()
		for lo := 0; lo < n; lo += evalBatch {
			hi := min(lo+evalBatch, n)
			x := tensor.Slice(d.X, 0, lo, hi)
			y := d.Y[lo:hi]
			var logits *autodiff.Var
			autodiff.NoGrad(func() { logits = nn.Forward(m, autodiff.Const(x)) })
			if logits.Value.Dims() != 2 || logits.Value.Dim(0) != hi-lo {
				return fmt.Errorf("model output has shape %v, want [%d, classes]", logits.Shape(), hi-lo)
			}
			if c := logits.Value.Dim(1); slices.Max(y) >= c {
				return fmt.Errorf("label %d but the model has %d outputs", slices.Max(y), c)
			}
			correct += nn.Accuracy(logits.Value, y) * float64(hi-lo)
			var l float64
			autodiff.NoGrad(func() { l = nn.CrossEntropyLoss(logits, y, 0).Item() })
			total += l * float64(hi-lo)
		}
		acc, loss = correct/float64(n), total/float64(n)
		return nil
	})
	return acc, loss, err
}

// safely runs f and turns a panic (the engine panics on shape mismatches)
// into an error naming what was running.
func safely(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("transfer: %s: %v", what, r)
		}
	}()
	if err := f(); err != nil {
		return fmt.Errorf("transfer: %s: %w", what, err)
	}
	return nil
}
