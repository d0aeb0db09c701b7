package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// Positional encodings for sequences [B, T, D] (Vaswani et al. 2017,
// section 3.5).

// SinusoidalTable returns the fixed encodings of positions 0..n-1 as
// [n, d] in dtype dt: PE(pos, 2i) = sin(pos / 10000^(2i/d)) and
// PE(pos, 2i+1) = cos(pos / 10000^(2i/d)) (the interleaved layout of the
// paper and of PyTorch's tutorial).
func SinusoidalTable(dt tensor.DType, n, d int) *tensor.Tensor {
	v := make([]float64, n*d)
	for pos := 0; pos < n; pos++ {
		for i := 0; i < d; i += 2 {
			a := float64(pos) / math.Pow(10000, float64(i)/float64(d))
			v[pos*d+i] = math.Sin(a)
			if i+1 < d {
				v[pos*d+i+1] = math.Cos(a)
			}
		}
	}
	return tensor.FromFloat64(v, n, d).AsType(dt)
}

// AddSinusoidal returns x [B, T, D] plus the sinusoidal encodings of
// positions offset..offset+T-1 (offset > 0 for incremental decoding,
// where x holds the tokens from position offset on).
func AddSinusoidal(x *autodiff.Var, offset int) *autodiff.Var {
	s := x.Shape()
	if len(s) != 3 || offset < 0 {
		panic(fmt.Sprintf("nn: AddSinusoidal: input %v at offset %d, want [B,T,D] and offset >= 0", s, offset))
	}
	pe := tensor.Slice(SinusoidalTable(x.DType(), offset+s[1], s[2]), 0, offset, offset+s[1])
	return autodiff.Add(x, autodiff.Const(pe))
}

// PositionalEmbedding is a learned table of MaxLen position vectors
// [MaxLen, D] added to the inputs (as in BERT and GPT); parameter
// "weight".
type PositionalEmbedding struct {
	Weight *autodiff.Var
}

// NewPositionalEmbedding returns a learned positional encoding for up to
// maxLen positions of size d, initialised N(0, 1) as nn.Embedding is.
func NewPositionalEmbedding(rng *rand.Rand, maxLen, d int) *PositionalEmbedding {
	return &PositionalEmbedding{Weight: autodiff.Param(tensor.RandN(rng, tensor.Float32, 1, maxLen, d))}
}

func (p *PositionalEmbedding) Params() []Param { return []Param{{"weight", p.Weight}} }

// Apply returns x [B, T, D] plus the rows 0..T-1 of the table w[0].
func (p *PositionalEmbedding) Apply(w []*autodiff.Var, x *autodiff.Var) *autodiff.Var {
	return p.ApplyAt(w, x, 0)
}

// ApplyAt returns x [B, T, D] plus the rows offset..offset+T-1 of the
// table w[0] (incremental decoding).
func (p *PositionalEmbedding) ApplyAt(w []*autodiff.Var, x *autodiff.Var, offset int) *autodiff.Var {
	checkWeights("PositionalEmbedding", w, 1)
	s, ws := x.Shape(), w[0].Shape()
	if len(s) != 3 || s[2] != ws[1] {
		panic(fmt.Sprintf("nn: PositionalEmbedding: input %v for table %v, want [B,T,%d]", s, ws, ws[1]))
	}
	if offset < 0 || offset+s[1] > ws[0] {
		panic(fmt.Sprintf("nn: PositionalEmbedding: positions %d..%d beyond the %d learned ones", offset, offset+s[1]-1, ws[0]))
	}
	return autodiff.Add(x, autodiff.Slice(w[0], 0, offset, offset+s[1]))
}
