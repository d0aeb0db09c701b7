package runner

import (
	"fmt"
	"strings"
)

// Metric directions by name: a validation metric's name says whether a
// higher value is better, so no caller has to remember a separate flag.
var (
	higherBetter = []string{"accuracy", "acc", "chrf", "bleu", "f1", "auc", "r2", "map", "ndcg", "reward"}
	lowerBetter  = []string{"loss", "mse", "rmse", "mae", "error", "err", "perplexity", "ppl", "wer", "cer", "nll"}
)

// HigherIsBetter reports whether a higher value of the named metric is
// better (accuracy, chrF, BLEU: true; loss, MSE, perplexity: false). A
// name of the form "val/accuracy" or "accuracy/task" is judged by its
// known part; an unknown metric is an error.
func HigherIsBetter(metric string) (bool, error) {
	for _, part := range strings.FieldsFunc(strings.ToLower(metric), func(r rune) bool { return r == '/' || r == '.' || r == ':' || r == '_' || r == '-' }) {
		for _, m := range higherBetter {
			if part == m {
				return true, nil
			}
		}
		for _, m := range lowerBetter {
			if part == m {
				return false, nil
			}
		}
	}
	return false, fmt.Errorf("validation metric %q: unknown direction (want one of %s, or one of %s)", metric,
		strings.Join(higherBetter, ", "), strings.Join(lowerBetter, ", "))
}
