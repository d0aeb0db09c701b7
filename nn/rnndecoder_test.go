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

// A training step over the sequence operations (embedding, GRU with
// lengths, LayerNorm, GELU, dropout, fused attention, token loss) gives
// the same loss and gradients when repeated after autodiff.Free recycled
// the previous step's graph: no fused operation keeps storage that Free
// hands back.
func TestSequenceStepWithFree(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 42))
	const B, T, V, D = 4, 16, 300, 128 // large enough for pooled (recycled) storage
	emb := NewEmbeddingPadded(r, V, D, 0)
	gru := NewGRU(r, D, D, 1)
	ln := NewLayerNorm(D)
	ids := make([]int, B*T)
	lengths := []int{16, 3, 9, 1}
	for b := 0; b < B; b++ {
		for i := 0; i < lengths[b]; i++ {
			ids[b*T+i] = 1 + r.IntN(V-1)
		}
	}
	params := append(append(Vars(emb), Vars(gru)...), Vars(ln)...)
	step := func() (float64, []*tensor.Tensor) {
		x := emb.Embed(emb.Weight, ids, B, T)
		h, _ := gru.Run(Vars(gru), x, lengths, nil)
		h = autodiff.GELU(ln.Apply(Vars(ln), autodiff.Dropout(h, 0.1, 7)))
		q := autodiff.Reshape(h, B, 1, T, D)
		a := autodiff.Reshape(autodiff.Attention(q, q, q, autodiff.AttentionOptions{KeyLengths: lengths, Causal: true, Dropout: 0.1, Seed: 3}), B, T, D)
		loss, _ := TokenCrossEntropy(emb.Logits(emb.Weight, a), ids, SeqLossOptions{LabelSmoothing: 0.1, Ignore: true})
		gs := autodiff.Grad([]*autodiff.Var{loss}, params, false)
		out := make([]*tensor.Tensor, len(gs))
		for i, g := range gs {
			out[i] = g.Value.Clone()
		}
		l := loss.Item()
		autodiff.Free(loss)
		return l, out
	}
	l1, g1 := step()
	l2, g2 := step()
	if l1 != l2 {
		t.Fatalf("loss %v then %v", l1, l2)
	}
	for i := range g1 {
		if d := tensor.MaxAbsDiff(g1[i], g2[i]); d != 0 {
			t.Fatalf("gradient %d differs by %g after Free", i, d)
		}
	}
}
