package nn

import (
	"fmt"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// MSELoss returns mean((pred - target)^2).
func MSELoss(pred, target *autodiff.Var) *autodiff.Var {
	mustSameShape("MSELoss", pred, target)
	return autodiff.Mean(autodiff.Square(autodiff.Sub(pred, target)), false)
}

// BCELoss returns the mean binary cross-entropy of probabilities p against
// targets in [0, 1]. As in PyTorch the logs are clamped at -100 so p = 0 or
// 1 gives a finite loss (a clamped term passes no gradient); prefer
// BCEWithLogitsLoss for numerical stability. It is one fused operation
// (autodiff.BinaryCrossEntropy).
func BCELoss(p, target *autodiff.Var) *autodiff.Var {
	mustSameShape("BCELoss", p, target)
	return autodiff.BinaryCrossEntropy(p, target)
}

// BCEWithLogitsLoss returns the mean binary cross-entropy of sigmoid(x)
// against targets, computed stably as softplus(x) - x*t.
func BCEWithLogitsLoss(x, target *autodiff.Var) *autodiff.Var {
	mustSameShape("BCEWithLogitsLoss", x, target)
	return autodiff.Mean(autodiff.Sub(autodiff.Softplus(x), autodiff.Mul(x, target)), false)
}

// CrossEntropyLoss returns the mean cross-entropy of logits [N,C] against
// integer labels, via a stable log-softmax. smoothing in [0,1) mixes the
// one-hot target with the uniform distribution (label smoothing).
func CrossEntropyLoss(logits *autodiff.Var, labels []int, smoothing float64) *autodiff.Var {
	if smoothing < 0 || smoothing >= 1 {
		panic(fmt.Sprintf("nn: CrossEntropyLoss: label smoothing %v not in [0,1)", smoothing))
	}
	logp := autodiff.LogSoftmax(logits, -1)
	nll := NLLLoss(logp, labels)
	if smoothing == 0 {
		return nll
	}
	uniform := autodiff.Neg(autodiff.Mean(logp, false)) // mean over N and C
	return autodiff.Add(autodiff.Scale(nll, 1-smoothing), autodiff.Scale(uniform, smoothing))
}

// NLLLoss returns -mean(logp[i, labels[i]]) for log-probabilities [N,C].
func NLLLoss(logp *autodiff.Var, labels []int) *autodiff.Var {
	s := logp.Shape()
	if len(s) != 2 || s[0] != len(labels) {
		panic(fmt.Sprintf("nn: NLLLoss: log-probabilities %v for %d labels, want [%d,C]", s, len(labels), len(labels)))
	}
	for i, l := range labels {
		if l < 0 || l >= s[1] {
			panic(fmt.Sprintf("nn: NLLLoss: label %d at position %d not in [0,%d)", l, i, s[1]))
		}
	}
	picked := autodiff.Gather(logp, 1, labels, []int{len(labels), 1})
	return autodiff.Neg(autodiff.Mean(picked, false))
}

// Accuracy returns the fraction of rows of logits [N,C] whose argmax equals the label.
func Accuracy(logits *tensor.Tensor, labels []int) float64 {
	pred := tensor.ArgMax(logits, -1)
	if len(pred) != len(labels) {
		panic(fmt.Sprintf("nn: Accuracy: %d predictions for %d labels", len(pred), len(labels)))
	}
	c := 0
	for i, p := range pred {
		if p == labels[i] {
			c++
		}
	}
	return float64(c) / float64(len(labels))
}

func mustSameShape(op string, a, b *autodiff.Var) {
	if !tensor.SameShape(a.Shape(), b.Shape()) {
		panic(fmt.Sprintf("nn: %s: prediction shape %v vs target shape %v", op, a.Shape(), b.Shape()))
	}
}
