package data

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/metalearn/metalearn/tensor"
)

// Ranges of the sinusoid regression tasks of the MAML paper (Finn et al.,
// 2017, section 5.1).
const (
	SinusoidAmpMin   = 0.1
	SinusoidAmpMax   = 5.0
	SinusoidPhaseMin = 0.0
	SinusoidPhaseMax = math.Pi
	SinusoidXMin     = -5.0
	SinusoidXMax     = 5.0
)

// Sinusoid is the few-shot sinusoid regression task family of MAML: each
// task is y = A sin(x - phase), the form of the reference MAML code
// (cbfinn/maml data_generator.py: amp * np.sin(x - phase)), with amplitude
// A ~ U[0.1, 5] and phase ~ U[0, pi]; inputs x ~ U[-5, 5]. Support and
// Query are the numbers of points in the two sets (K-shot means Support = K).
//
// Tasks have SupportX/SupportY [Support, 1] and QueryX/QueryY [Query, 1],
// float32; labels are nil and Ways is 0. It implements TaskDistribution.
type Sinusoid struct {
	Support, Query int
}

// Validate reports negative point counts.
func (s Sinusoid) Validate() error {
	if s.Support < 0 || s.Query < 0 {
		return fmt.Errorf("data: Sinusoid: negative point count (Support %d, Query %d)", s.Support, s.Query)
	}
	return nil
}

// Sample draws one task; see SampleWithParams.
func (s Sinusoid) Sample(rng *rand.Rand) Task {
	t, _, _ := s.SampleWithParams(rng)
	return t
}

// SampleWithParams draws one task and returns its amplitude and phase. The
// rng is used in a fixed order: amplitude, phase, the Support support x's,
// then the Query query x's. It panics on negative counts (see Validate).
func (s Sinusoid) SampleWithParams(rng *rand.Rand) (t Task, amp, phase float64) {
	if err := s.Validate(); err != nil {
		panic(err.Error())
	}
	amp = SinusoidAmpMin + (SinusoidAmpMax-SinusoidAmpMin)*rng.Float64()
	phase = SinusoidPhaseMin + (SinusoidPhaseMax-SinusoidPhaseMin)*rng.Float64()
	draw := func(n int) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = SinusoidXMin + (SinusoidXMax-SinusoidXMin)*rng.Float64()
		}
		return xs
	}
	t.SupportX, t.SupportY = s.Points(amp, phase, draw(s.Support))
	t.QueryX, t.QueryY = s.Points(amp, phase, draw(s.Query))
	return t, amp, phase
}

// Points evaluates the sinusoid with the given amplitude and phase at xs
// (e.g. a fixed grid for plotting or evaluation), returning float32 x and
// y = amp sin(x - phase), both [len(xs), 1]. The receiver is unused.
func (Sinusoid) Points(amp, phase float64, xs []float64) (x, y *tensor.Tensor) {
	x = tensor.New(tensor.Float32, len(xs), 1)
	y = tensor.New(tensor.Float32, len(xs), 1)
	xv, yv := x.F32(), y.F32()
	for i, v := range xs {
		xv[i] = float32(v)
		yv[i] = float32(amp * math.Sin(v-phase))
	}
	return x, y
}

// Linspace returns n evenly spaced values from lo to hi inclusive (n = 1
// gives [lo]; n <= 0 gives nil), e.g. Linspace(-5, 5, 100) for a plot grid.
func Linspace(lo, hi float64, n int) []float64 {
	if n <= 0 {
		return nil
	}
	out := make([]float64, n)
	for i := range out {
		if n == 1 {
			out[i] = lo
		} else {
			out[i] = lo + (hi-lo)*float64(i)/float64(n-1)
		}
	}
	return out
}
