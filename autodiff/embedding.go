package autodiff

import (
	"fmt"

	"github.com/metalearn/metalearn/tensor"
)

// EmbeddingLookup returns the rows ids of the table w [num, dim] as
// [len(ids), dim], like IndexSelect(w, 0, ids), except that the row pad
// (a padding id; negative: none) passes no gradient, as with PyTorch's
// padding_idx: positions holding pad read its row but contribute nothing
// to w's gradient. Ids must lie in [0, num).
func EmbeddingLookup(w *Var, ids []int, pad int) *Var {
	s := w.Shape()
	if len(s) != 2 {
		panic(fmt.Sprintf("autodiff: EmbeddingLookup: table %v, want [num, dim]", s))
	}
	var pos, kept []int
	for p, id := range ids {
		if id < 0 || id >= s[0] {
			panic(fmt.Sprintf("autodiff: EmbeddingLookup: id %d at position %d not in [0,%d)", id, p, s[0]))
		}
		if id != pad {
			pos = append(pos, p)
			kept = append(kept, id)
		}
	}
	if len(kept) == len(ids) {
		return IndexSelect(w, 0, ids)
	}
	shape := append([]int(nil), s...)
	return record("EmbeddingLookup", tensor.IndexSelect(w.Value, 0, ids), func(g *Var, in []*Var, out *Var, needs []bool) []*Var {
		// the rows of g at the non-padding positions, added into their ids
		return []*Var{indexAdd(IndexSelect(g, 0, pos), shape, 0, kept)}
	}, w)
}
