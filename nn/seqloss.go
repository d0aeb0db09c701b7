package nn

import (
	"fmt"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// Reduction says how TokenCrossEntropy combines the per-token losses.
type Reduction int

const (
	// MeanOverTokens divides the summed loss by the number of real
	// (non-ignored) tokens in the batch.
	MeanOverTokens Reduction = iota
	// MeanOverSequences averages each sequence's loss over its real
	// tokens, then averages over the sequences that have any.
	MeanOverSequences
	// SumOverTokens returns the summed loss.
	SumOverTokens
)

// SeqLossOptions configures TokenCrossEntropy.
type SeqLossOptions struct {
	// LabelSmoothing in [0, 1) mixes the one-hot target with the uniform
	// distribution over the vocabulary, as PyTorch's label_smoothing:
	// (1-eps) * nll + eps * mean over classes of -log p.
	LabelSmoothing float64
	// With Ignore set, targets equal to IgnoreIndex (padding) add no loss
	// and are not counted.
	IgnoreIndex int
	Ignore      bool
	Reduction   Reduction
}

// TokenCrossEntropy returns the cross-entropy of logits [B, T, V] or
// [N, V] (MeanOverSequences needs [B, T, V]) against targets (row-major,
// one per position), reduced as
// opt.Reduction says, and the number of real tokens. It runs as one fused
// operation (autodiff.SoftmaxCrossEntropy): the [N, V] log-probabilities
// are never stored. A batch without any real token gives a zero loss.
func TokenCrossEntropy(logits *autodiff.Var, targets []int, opt SeqLossOptions) (loss *autodiff.Var, tokens int) {
	s := logits.Shape()
	if len(s) != 2 && len(s) != 3 {
		panic(fmt.Sprintf("nn: TokenCrossEntropy: logits %v, want [B,T,V] or [N,V]", s))
	}
	if opt.Reduction == MeanOverSequences && len(s) != 3 {
		panic(fmt.Sprintf("nn: TokenCrossEntropy: per-sequence averaging needs logits [B,T,V], got %v", s))
	}
	spec := tensor.XentSpec{Targets: targets, Smoothing: opt.LabelSmoothing, Ignore: opt.IgnoreIndex, IgnoreSet: opt.Ignore}
	if err := spec.Validate(s); err != nil {
		panic("nn: TokenCrossEntropy: " + err.Error())
	}
	per := autodiff.SoftmaxCrossEntropy(logits, spec) // [B,T] or [N]
	for _, t := range targets {
		if !opt.Ignore || t != opt.IgnoreIndex {
			tokens++
		}
	}
	switch opt.Reduction {
	case MeanOverTokens:
		return autodiff.Scale(autodiff.Sum(per, false), 1/float64(max(tokens, 1))), tokens
	case SumOverTokens:
		return autodiff.Sum(per, false), tokens
	case MeanOverSequences:
		b, t := s[0], s[1]
		w := tensor.New(logits.DType(), b, t)
		seqs := 0
		for i := 0; i < b; i++ {
			n := 0
			for j := 0; j < t; j++ {
				if tg := targets[i*t+j]; !opt.Ignore || tg != opt.IgnoreIndex {
					n++
				}
			}
			if n > 0 {
				seqs++
				for j := 0; j < t; j++ {
					w.SetFlat(i*t+j, 1/float64(n))
				}
			}
		}
		// ignored positions have zero loss, so weighting every position
		// of a sequence by 1/n averages over its real tokens
		return autodiff.Scale(autodiff.Sum(autodiff.Mul(per, autodiff.Const(w)), false), 1/float64(max(seqs, 1))), tokens
	}
	panic(fmt.Sprintf("nn: TokenCrossEntropy: unknown reduction %d", opt.Reduction))
}

// SequenceLogLikelihood returns the log-likelihood of each target
// sequence under logits [B, T, V], [B]: the sum over its real positions
// (targets not equal to pad; pad < 0: every position) of log softmax(logits)
// at the target. For scoring and reranking translations.
func SequenceLogLikelihood(logits *autodiff.Var, targets []int, pad int) *autodiff.Var {
	s := logits.Shape()
	if len(s) != 3 {
		panic(fmt.Sprintf("nn: SequenceLogLikelihood: logits %v, want [B,T,V]", s))
	}
	spec := tensor.XentSpec{Targets: targets, Ignore: pad, IgnoreSet: pad >= 0}
	if err := spec.Validate(s); err != nil {
		panic("nn: SequenceLogLikelihood: " + err.Error())
	}
	return autodiff.Neg(autodiff.Sum(autodiff.SoftmaxCrossEntropy(logits, spec), false, 1))
}
