package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// attention is scaled dot-product attention softmax(q k^T * scale + mask) v
// for q [B,H,Tq,D], k [B,H,Tk,D] and v [B,H,Tk,Dv], returning [B,H,Tq,Dv]
// (Vaswani et al. 2017, eq. 1): the fused autodiff.Attention, the one place
// multi-head attention calls.
func attention(q, k, v *autodiff.Var, opt autodiff.AttentionOptions) *autodiff.Var {
	return autodiff.Attention(q, k, v, opt)
}

// MultiHeadAttention is multi-head attention (Vaswani et al. 2017, sec.
// 3.2.2) in PyTorch's nn.MultiheadAttention layout: the query, key and
// value projections stacked in InProjWeight [3E,E] and InProjBias [3E],
// then OutProj [E,E]. Inputs and outputs are batch-first [B,T,E].
type MultiHeadAttention struct {
	InProjWeight, InProjBias *autodiff.Var
	OutProj                  *Linear
	Heads                    int
	// Dropout on the attention weights while Training.
	Dropout  float64
	Training bool
	seeds    *seedStream
}

// NewMultiHeadAttention returns multi-head attention over embeddings of
// size e split into heads heads, initialised as PyTorch does (Xavier-uniform
// in-projection, zero biases, out-projection as nn.Linear with zero bias).
// seed drives the attention dropout.
func NewMultiHeadAttention(rng *rand.Rand, e, heads int, dropout float64, seed uint64) *MultiHeadAttention {
	if heads <= 0 || e%heads != 0 {
		panic(fmt.Sprintf("nn: MultiHeadAttention: embedding size %d is not divisible by %d heads", e, heads))
	}
	out := NewLinear(rng, e, e)
	out.Bias = autodiff.Param(tensor.Zeros(tensor.Float32, e))
	return &MultiHeadAttention{
		InProjWeight: autodiff.Param(XavierUniform(rng, 1, 3*e, e)),
		InProjBias:   autodiff.Param(tensor.Zeros(tensor.Float32, 3*e)),
		OutProj:      out,
		Heads:        heads,
		Dropout:      dropout,
		Training:     true,
		seeds:        newSeedStream(seed),
	}
}

func (a *MultiHeadAttention) Params() []Param {
	return []Param{
		{"in_proj_weight", a.InProjWeight}, {"in_proj_bias", a.InProjBias},
		{"out_proj.weight", a.OutProj.Weight}, {"out_proj.bias", a.OutProj.Bias},
	}
}

func (a *MultiHeadAttention) AppendVars(dst []*autodiff.Var) []*autodiff.Var {
	return append(dst, a.InProjWeight, a.InProjBias, a.OutProj.Weight, a.OutProj.Bias)
}

func (a *MultiHeadAttention) SetTraining(t bool) { a.Training = t }

// Apply is unmasked self-attention of x [B,T,E].
func (a *MultiHeadAttention) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	return a.Attend(w, x, x, AttendOptions{})
}

// AttendOptions are the masks of one multi-head attention call.
type AttendOptions struct {
	// KeyLengths[b] is the number of real (unpadded) keys of row b; nil
	// means every key is real.
	KeyLengths []int
	// Causal masks key j for query i when j > i + (Tk - Tq).
	Causal bool
}

// Attend attends from query [B,Tq,E] to key/value source [B,Tk,E] (the same
// Var for self-attention) with weights w in Params order, returning
// [B,Tq,E].
func (a *MultiHeadAttention) Attend(w []*autodiff.Var, query, source *autodiff.Var, opt AttendOptions) *autodiff.Var {
	checkWeights("MultiHeadAttention", w, 4)
	var q, k, v *autodiff.Var
	if query == source {
		q, k, v = a.projectQKV(w, query)
	} else {
		q = a.projectQ(w, query)
		k, v = a.projectKV(w, source)
	}
	return a.combine(w, q, k, v, opt)
}

// combine attends with projected heads q [B,H,Tq,D], k, v [B,H,Tk,D] and
// applies the output projection.
func (a *MultiHeadAttention) combine(w []*autodiff.Var, q, k, v *autodiff.Var, opt AttendOptions) *autodiff.Var {
	ao := autodiff.AttentionOptions{KeyLengths: opt.KeyLengths, Causal: opt.Causal}
	if a.Training && a.Dropout > 0 {
		ao.Dropout, ao.Seed = a.Dropout, a.seeds.next()
	}
	o := attention(q, k, v, ao) // [B,H,Tq,D]
	s := o.Shape()
	o = autodiff.Reshape(autodiff.Permute(o, 0, 2, 1, 3), s[0], s[2], s[1]*s[3])
	return autodiff.Linear(o, w[2], w[3])
}

// heads reshapes x [B,T,E] to [B,H,T,E/H].
func (a *MultiHeadAttention) heads(x *autodiff.Var) *autodiff.Var {
	s := x.Shape()
	if len(s) != 3 {
		panic(fmt.Sprintf("nn: MultiHeadAttention: input %v, want [B,T,E]", s))
	}
	return autodiff.Permute(autodiff.Reshape(x, s[0], s[1], a.Heads, s[2]/a.Heads), 0, 2, 1, 3)
}

// projectQKV projects x [B,T,E] to the query, key and value heads in one
// product.
func (a *MultiHeadAttention) projectQKV(w []*autodiff.Var, x *autodiff.Var) (q, k, v *autodiff.Var) {
	e := w[0].Shape()[1]
	qkv := autodiff.Linear(x, w[0], w[1]) // [B,T,3E]
	return a.heads(autodiff.Slice(qkv, 2, 0, e)), a.heads(autodiff.Slice(qkv, 2, e, 2*e)), a.heads(autodiff.Slice(qkv, 2, 2*e, 3*e))
}

// projectQ projects x [B,T,E] to the query heads.
func (a *MultiHeadAttention) projectQ(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	e := w[0].Shape()[1]
	return a.heads(autodiff.Linear(x, autodiff.Slice(w[0], 0, 0, e), autodiff.Slice(w[1], 0, 0, e)))
}

// projectKV projects x [B,T,E] to the key and value heads in one product.
func (a *MultiHeadAttention) projectKV(w []*autodiff.Var, x *autodiff.Var) (k, v *autodiff.Var) {
	e := w[0].Shape()[1]
	kv := autodiff.Linear(x, autodiff.Slice(w[0], 0, e, 3*e), autodiff.Slice(w[1], 0, e, 3*e))
	return a.heads(autodiff.Slice(kv, 2, 0, e)), a.heads(autodiff.Slice(kv, 2, e, 2*e))
}
