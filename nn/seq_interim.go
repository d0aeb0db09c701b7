package nn

// Interim pieces that the sequence-ops work (nn/posenc.go) provides in
// full; this file is deleted when both land, and callers switch to those.

import (
	"math"

	"github.com/metalearn/metalearn/tensor"
)

// sinusoidPositions returns the sinusoidal position encodings of positions
// pos0 .. pos0+t-1 for embeddings of size d, [t,d] (Vaswani et al. 2017,
// sec. 3.5): PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(same).
func sinusoidPositions(pos0, t, d int, dt tensor.DType) *tensor.Tensor {
	v := make([]float64, t*d)
	for p := 0; p < t; p++ {
		for i := 0; i < d; i += 2 {
			a := float64(pos0+p) / math.Pow(10000, float64(i)/float64(d))
			v[p*d+i] = math.Sin(a)
			if i+1 < d {
				v[p*d+i+1] = math.Cos(a)
			}
		}
	}
	return tensor.FromValues(dt, v, t, d)
}
