package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// Attention for RNN encoder-decoders: one decoder state (the query
// [B, Dq]) attends over the encoder's states (keys [B, Tk, Dk], values
// [B, Tk, Dv], usually the same tensor) with per-sequence key lengths.
// Each returns the context vector [B, Dv] and the attention weights
// [B, Tk] (zero at padded keys; a sequence without keys gets zeros).
// They hold parameters for a model to list and take explicit weights
// like every layer, but are not Modules: they have three inputs.

// AdditiveAttention is Bahdanau attention (Bahdanau, Cho and Bengio 2015,
// appendix A.1.2): score(s, h_j) = v . tanh(W s + U h_j). Parameters
// "query.weight" W [A, Dq], "key.weight" U [A, Dk] and "v" [A].
type AdditiveAttention struct {
	Query, Key, V *autodiff.Var
}

// NewAdditiveAttention returns Bahdanau attention with attention size a,
// initialised as nn.Linear layers without bias (and v likewise).
func NewAdditiveAttention(rng *rand.Rand, queryDim, keyDim, a int) *AdditiveAttention {
	u := func(fan int, shape ...int) *autodiff.Var {
		b := 1 / math.Sqrt(float64(fan))
		return autodiff.Param(tensor.RandU(rng, tensor.Float32, -b, b, shape...))
	}
	return &AdditiveAttention{Query: u(queryDim, a, queryDim), Key: u(keyDim, a, keyDim), V: u(a, a)}
}

func (m *AdditiveAttention) Params() []Param {
	return []Param{{"query.weight", m.Query}, {"key.weight", m.Key}, {"v", m.V}}
}

// ProjectKeys returns U h_j for keys [B, Tk, Dk] ([B, Tk, A]), computed
// once per source sentence and reused at every decoder step; w are the
// weights in Params order.
func (m *AdditiveAttention) ProjectKeys(w []*autodiff.Var, keys *autodiff.Var) *autodiff.Var {
	checkWeights("AdditiveAttention", w, 3)
	if s := keys.Shape(); len(s) != 3 || s[2] != w[1].Shape()[1] {
		panic(fmt.Sprintf("nn: AdditiveAttention: keys %v for key weight %v, want [B,Tk,%d]", s, w[1].Shape(), w[1].Shape()[1]))
	}
	return autodiff.MatMulNT(keys, w[1])
}

// Attend returns the context [B, Dv] and weights [B, Tk] of query
// [B, Dq] over projected keys (ProjectKeys) and values [B, Tk, Dv];
// lengths (one per sequence, nil: all Tk) mask the padded keys.
func (m *AdditiveAttention) Attend(w []*autodiff.Var, query, projKeys, values *autodiff.Var, lengths []int) (ctx, weights *autodiff.Var) {
	checkWeights("AdditiveAttention", w, 3)
	qs, ks := query.Shape(), projKeys.Shape()
	a := w[0].Shape()[0]
	if len(qs) != 2 || qs[1] != w[0].Shape()[1] || len(ks) != 3 || ks[0] != qs[0] || ks[2] != a {
		panic(fmt.Sprintf("nn: AdditiveAttention: query %v and projected keys %v for query weight %v, want [B,%d] and [B,Tk,%d]", qs, ks, w[0].Shape(), w[0].Shape()[1], a))
	}
	q := autodiff.Reshape(autodiff.MatMulNT(query, w[0]), qs[0], 1, a)
	e := autodiff.Tanh(autodiff.Add(projKeys, q))                                                // [B, Tk, A]
	scores := autodiff.Reshape(autodiff.MatMulNT(e, autodiff.Reshape(w[2], 1, a)), ks[0], ks[1]) // [B, Tk]
	return attendWith(scores, values, lengths)
}

// LuongAttention is Luong attention (Luong, Pham and Manning 2015, section
// 3.1) with the "dot" score h_t . h_s when Weight is nil and the
// "general" score h_t . (W_a h_s) otherwise, W_a [Dq, Dk] (parameter
// "weight", the layout of a bias-free nn.Linear from Dk to Dq).
type LuongAttention struct {
	Weight *autodiff.Var
}

// NewLuongAttention returns Luong attention: general (with a weight
// initialised as a bias-free nn.Linear) or, with general false, dot
// (no parameters; queryDim must equal keyDim).
func NewLuongAttention(rng *rand.Rand, queryDim, keyDim int, general bool) *LuongAttention {
	if !general {
		return &LuongAttention{}
	}
	b := 1 / math.Sqrt(float64(keyDim))
	return &LuongAttention{Weight: autodiff.Param(tensor.RandU(rng, tensor.Float32, -b, b, queryDim, keyDim))}
}

func (m *LuongAttention) Params() []Param {
	if m.Weight == nil {
		return nil
	}
	return []Param{{"weight", m.Weight}}
}

// Attend returns the context [B, Dv] and weights [B, Tk] of query
// [B, Dq] over keys [B, Tk, Dk] and values [B, Tk, Dv]; lengths (nil:
// all Tk) mask the padded keys. w holds the weight for the general score
// and is empty for the dot score.
func (m *LuongAttention) Attend(w []*autodiff.Var, query, keys, values *autodiff.Var, lengths []int) (ctx, weights *autodiff.Var) {
	n := 0
	if m.Weight != nil {
		n = 1
	}
	checkWeights("LuongAttention", w, n)
	qs, ks := query.Shape(), keys.Shape()
	q := query
	if n == 1 {
		if len(qs) != 2 || qs[1] != w[0].Shape()[0] {
			panic(fmt.Sprintf("nn: LuongAttention: query %v for weight %v", qs, w[0].Shape()))
		}
		q = autodiff.MatMul(query, w[0]) // h_t W_a: [B, Dk]
	}
	if len(qs) != 2 || len(ks) != 3 || ks[0] != qs[0] || ks[2] != q.Shape()[1] {
		panic(fmt.Sprintf("nn: LuongAttention: query %v and keys %v do not match", qs, ks))
	}
	scores := autodiff.Reshape(autodiff.MatMulNT(autodiff.Reshape(q, qs[0], 1, ks[2]), keys), ks[0], ks[1])
	return attendWith(scores, values, lengths)
}

// attendWith turns scores [B, Tk] into weights by a softmax over the
// first lengths[b] keys and returns the weighted sum of values
// [B, Tk, Dv] and the weights.
func attendWith(scores, values *autodiff.Var, lengths []int) (ctx, weights *autodiff.Var) {
	s, vs := scores.Shape(), values.Shape()
	if len(vs) != 3 || vs[0] != s[0] || vs[1] != s[1] {
		panic(fmt.Sprintf("nn: attention: values %v for %d sequences of %d keys, want [%d,%d,Dv]", vs, s[0], s[1], s[0], s[1]))
	}
	if lengths == nil {
		weights = autodiff.Softmax(scores, -1)
	} else {
		if len(lengths) != s[0] {
			panic(fmt.Sprintf("nn: attention: %d key lengths for batch %d", len(lengths), s[0]))
		}
		keep := tensor.New(scores.DType(), s...)
		fill := tensor.New(scores.DType(), s...)
		for b, n := range lengths {
			if n < 0 || n > s[1] {
				panic(fmt.Sprintf("nn: attention: key length %d of sequence %d not in [0,%d]", n, b, s[1]))
			}
			for j := 0; j < s[1]; j++ {
				if j < n {
					keep.SetFlat(b*s[1]+j, 1)
				} else {
					fill.SetFlat(b*s[1]+j, -1e30) // exp underflows to exactly 0
				}
			}
		}
		// the product with keep zeroes the rows of sequences without keys
		weights = autodiff.Mul(autodiff.Softmax(autodiff.Add(scores, autodiff.Const(fill)), -1), autodiff.Const(keep))
	}
	ctx = autodiff.Reshape(autodiff.MatMul(autodiff.Reshape(weights, s[0], 1, s[1]), values), s[0], vs[2])
	return ctx, weights
}
