package nn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// Labels outside [0, C) are a programming error inside the engine: the
// loss panics with a message naming the label and its position (the CLI
// turns such a panic into a one-line "internal error"). Part of the
// bad-input catalogue (RELIABILITY.md).
func TestBadInputLabelOutOfRange(t *testing.T) {
	logits := autodiff.Const(tensor.New(tensor.Float32, 3, 4))
	for _, c := range []struct {
		labels []int
		want   string
	}{
		{[]int{0, 4, 1}, "label 4 at position 1 not in [0,4)"},
		{[]int{-1, 0, 0}, "label -1 at position 0 not in [0,4)"},
		{[]int{0, 1}, "for 2 labels"},
	} {
		msg := func() (msg string) {
			defer func() { msg = fmt.Sprint(recover()) }()
			CrossEntropyLoss(logits, c.labels, 0)
			return "no panic"
		}()
		t.Logf("catalogue | label out of range | CrossEntropyLoss %v | %s", c.labels, msg)
		if !strings.Contains(msg, c.want) {
			t.Errorf("labels %v: %q, want %q", c.labels, msg, c.want)
		}
	}
}
