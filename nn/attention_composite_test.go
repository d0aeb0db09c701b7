package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// attentionComposite is scaled dot-product attention softmax(q k^T * scale + mask) v
// for q [B,H,Tq,D], k [B,H,Tk,D] and v [B,H,Tk,Dv], returning [B,H,Tq,Dv]
// (Vaswani et al. 2017, eq. 1). It composes existing differentiable ops, so it is correct to any
// order, and materialises the [B,H,Tq,Tk] score matrix.
func attentionComposite(q, k, v *autodiff.Var, opt autodiff.AttentionOptions) *autodiff.Var {
	qs, ks := q.Shape(), k.Shape()
	if len(qs) != 4 || len(ks) != 4 || len(v.Shape()) != 4 {
		panic(fmt.Sprintf("nn: attention: q %v, k %v, v %v, want [B,H,T,D] each", qs, ks, v.Shape()))
	}
	b, tq, tk := qs[0], qs[2], ks[2]
	scale := opt.Scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(qs[3]))
	}
	scores := autodiff.Scale(autodiff.MatMulNT(q, k), scale) // [B,H,Tq,Tk]
	if mask := attentionMask(b, tq, tk, opt, q.DType()); mask != nil {
		scores = autodiff.Add(scores, autodiff.Const(mask))
	}
	p := autodiff.Softmax(scores, -1)
	if opt.Dropout > 0 {
		p = autodiff.Mul(p, autodiff.Const(dropoutMask(p.Shape(), p.DType(), opt.Dropout, opt.Seed)))
	}
	return autodiff.MatMul(p, v)
}

// attentionMask returns the additive [B,1,Tq,Tk] mask (0 = attend, -Inf =
// masked) of the key lengths and causality in opt, or nil when nothing is
// masked. A query row with no visible key would give NaN through softmax;
// such rows keep their first key instead.
func attentionMask(b, tq, tk int, opt autodiff.AttentionOptions, dt tensor.DType) *tensor.Tensor {
	if opt.KeyLengths == nil && !opt.Causal {
		return nil
	}
	if opt.KeyLengths != nil && len(opt.KeyLengths) != b {
		panic(fmt.Sprintf("nn: attention: %d key lengths for a batch of %d", len(opt.KeyLengths), b))
	}
	m := make([]float64, b*tq*tk)
	for i := range m {
		m[i] = math.Inf(-1)
	}
	for bi := 0; bi < b; bi++ {
		n := tk
		if opt.KeyLengths != nil {
			n = min(opt.KeyLengths[bi], tk)
		}
		for i := 0; i < tq; i++ {
			last := n - 1
			if opt.Causal {
				last = min(last, i+tk-tq)
			}
			last = max(last, 0)
			row := m[(bi*tq+i)*tk:]
			for j := 0; j <= last; j++ {
				row[j] = 0
			}
		}
	}
	return tensor.FromValues(dt, m, b, 1, tq, tk)
}

// dropoutMask returns a tensor of 0 and 1/(1-p) entries, each zero with
// probability p, from a stream seeded by seed.
func dropoutMask(shape []int, dt tensor.DType, p float64, seed uint64) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	n := tensor.NumElems(shape)
	s := 1 / (1 - p)
	if dt == tensor.Float32 {
		m := make([]float32, n)
		for i := range m {
			if rng.Float64() >= p {
				m[i] = float32(s)
			}
		}
		return tensor.FromFloat32(m, shape...)
	}
	m := make([]float64, n)
	for i := range m {
		if rng.Float64() >= p {
			m[i] = s
		}
	}
	return tensor.FromValues(dt, m, shape...)
}

// The fused attention that multi-head attention calls gives the
// composite's values with padding and causal masks (every query row sees
// at least one key here; without dropout).
func TestAttentionFusedMatchesComposite(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		name   string
		tq, tk int
		lens   []int
		causal bool
	}{
		{"plain", 5, 7, nil, false},
		{"padded", 5, 7, []int{7, 3}, false},
		{"causal", 6, 6, []int{6, 4}, true},
		{"decode step", 1, 6, []int{6, 2}, true},
	} {
		q := autodiff.Const(tensor.RandN(rng, tensor.Float64, 1, 2, 3, c.tq, 4))
		k := autodiff.Const(tensor.RandN(rng, tensor.Float64, 1, 2, 3, c.tk, 4))
		v := autodiff.Const(tensor.RandN(rng, tensor.Float64, 1, 2, 3, c.tk, 5))
		o := autodiff.AttentionOptions{KeyLengths: c.lens, Causal: c.causal}
		got, want := attention(q, k, v, o).Value.Values(), attentionComposite(q, k, v, o).Value.Values()
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Fatalf("%s: element %d: fused %v, composite %v", c.name, i, got[i], want[i])
			}
		}
	}
}
