package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// An RNN encoder-decoder baseline assembled from the sequence layers: a
// GRU encoder over padded source sentences, a GRU decoder cell fed the
// previous target token and a Bahdanau context, tied output embeddings
// and the token loss with padding. Its gradient with respect to every
// weight passes central differences to first and second order (so MAML
// can adapt it), and padding cannot leak: changing padded source tokens
// changes nothing.
func TestRNNEncoderDecoder(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 41))
	const V, E, H, A, pad = 6, 3, 4, 3, 0
	emb := NewEmbeddingPadded(r, V, E, pad)
	enc := NewGRUCell(r, E, H)
	dec := NewGRUCell(r, E+H, H)
	att := NewAdditiveAttention(r, H, H, A)
	proj := NewLinear(r, H, E) // decoder state -> embedding space (tied logits)
	mods := []Module{emb, enc, dec, proj}
	var ws []*autodiff.Var
	for _, m := range mods {
		Cast(m, tensor.Float64)
		ws = append(ws, Vars(m)...)
	}
	for _, p := range att.Params() {
		p.V.Value = p.V.Value.AsType(tensor.Float64)
		ws = append(ws, p.V)
	}
	src := []int{2, 3, 4, 5, pad, pad} // [B=2, S=3]
	srcLen := []int{3, 1}
	tgtIn := []int{1, 2, 3, 1, 4, pad} // [B=2, T=3], teacher forcing
	tgtOut := []int{2, 3, 5, 4, pad, pad}
	loss := func(w []*autodiff.Var, src []int) *autodiff.Var {
		we, wenc, wdec, wproj, watt := w[0:1], w[1:5], w[5:9], w[9:11], w[11:14]
		x := emb.Embed(we[0], src, 2, 3)
		encOut, h := RunGRU(wenc, x, srcLen, nil)
		keys := att.ProjectKeys(watt, encOut)
		y := emb.Embed(we[0], tgtIn, 2, 3)
		var logits []*autodiff.Var
		for step := 0; step < 3; step++ {
			ctx, _ := att.Attend(watt, h, keys, encOut, srcLen)
			yt := autodiff.Reshape(autodiff.Slice(y, 1, step, step+1), 2, E)
			h = dec.Step(wdec, autodiff.Concat(1, yt, ctx), h)
			logits = append(logits, emb.Logits(we[0], proj.Apply(wproj, h)))
		}
		l, _ := TokenCrossEntropy(autodiff.Stack(1, logits...), tgtOut, SeqLossOptions{LabelSmoothing: 0.1, IgnoreIndex: pad, Ignore: true})
		return l
	}
	base := loss(ws, src).Item()
	leak := append([]int(nil), src...)
	leak[4], leak[5] = 5, 2 // padded source positions of sentence 2
	if got := loss(ws, leak).Item(); got != base {
		t.Fatalf("padded source tokens changed the loss: %v vs %v", got, base)
	}
	in := make([]*tensor.Tensor, len(ws))
	for i, w := range ws {
		in[i] = w.Value
	}
	f := func(xs []*autodiff.Var) *autodiff.Var { return loss(xs, src) }
	// the padding row's lookups pass no gradient by design; they sit at
	// padded positions whose outputs the loss ignores, so central
	// differences see only its use in the tied logits, as the gradient does
	for _, c := range bothChecks {
		if err := c.f(f, in, autodiff.CheckOptions{}); err != nil {
			t.Fatal(c.name, err)
		}
	}
}
