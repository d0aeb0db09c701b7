package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/tensor"
)

// A tiny sequence classifier for the MAML test: a GRU over [B, T, 2]
// with ragged lengths, its final state through a linear head to 3 classes.
type tinyGRU struct {
	gru  *GRU
	head *Linear
}

func (m *tinyGRU) loss(w []*autodiff.Var, x *autodiff.Var, lengths, labels []int) *autodiff.Var {
	_, h := m.gru.Run(w[:4], x, lengths, nil)
	s := h.Shape()
	logits := m.head.Apply(w[4:], autodiff.Reshape(h, s[1], s[2]))
	return CrossEntropyLoss(logits, labels, 0)
}

// metaLoss is MAML's objective for one task and one inner SGD step,
// L_query(theta - alpha grad L_support(theta)) (Finn et al. 2017, eq. 1),
// differentiating through the inner gradient when createGraph is set.
func (m *tinyGRU) metaLoss(theta []*autodiff.Var, sx, qx *autodiff.Var, sl, ql, sy, qy []int, alpha float64, createGraph bool) *autodiff.Var {
	g := autodiff.Grad([]*autodiff.Var{m.loss(theta, sx, sl, sy)}, theta, createGraph)
	fast := make([]*autodiff.Var, len(theta))
	for i := range theta {
		fast[i] = autodiff.Sub(theta[i], autodiff.Scale(g[i], alpha))
	}
	return m.loss(fast, qx, ql, qy)
}

// The second-order MAML meta-gradient of a GRU model (the fused GRU gates
// take their composite backward inside the inner gradient) matches
// central differences of the meta-objective; first-order MAML does not.
func TestGRUMAMLMetaGradientMatchesFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	const I, H, C = 2, 3, 3
	m := &tinyGRU{NewGRU(r, I, H, 1), NewLinear(r, H, C)}
	Cast(m.gru, tensor.Float64)
	Cast(m.head, tensor.Float64)
	theta0 := []*tensor.Tensor{}
	for _, v := range append(Vars(m.gru), Vars(m.head)...) {
		theta0 = append(theta0, tensor.Scale(v.Value, 3)) // larger weights: curvature worth measuring
	}
	sx := autodiff.Const(tensor.RandN(r, tensor.Float64, 1, 4, 3, I))
	qx := autodiff.Const(tensor.RandN(r, tensor.Float64, 1, 3, 3, I))
	sl, ql := []int{3, 1, 2, 3}, []int{2, 3, 1}
	sy, qy := []int{0, 2, 1, 1}, []int{2, 0, 1}
	const alpha = 0.5
	params := func(ts []*tensor.Tensor) []*autodiff.Var {
		vs := make([]*autodiff.Var, len(ts))
		for i, t := range ts {
			vs[i] = autodiff.Param(t)
		}
		return vs
	}
	theta := params(theta0)
	second := autodiff.Grad([]*autodiff.Var{m.metaLoss(theta, sx, qx, sl, ql, sy, qy, alpha, true)}, theta, false)
	first := autodiff.Grad([]*autodiff.Var{m.metaLoss(theta, sx, qx, sl, ql, sy, qy, alpha, false)}, theta, false)
	const eps = 1e-5
	var num, ana, fo []float64
	for i, t0 := range theta0 {
		for j := 0; j < t0.Len(); j++ {
			pert := append([]*tensor.Tensor(nil), theta0...)
			x := t0.Clone()
			pert[i] = x
			orig := x.Flat(j)
			x.SetFlat(j, orig+eps)
			fp := m.metaLoss(params(pert), sx, qx, sl, ql, sy, qy, alpha, false).Item()
			x.SetFlat(j, orig-eps)
			fm := m.metaLoss(params(pert), sx, qx, sl, ql, sy, qy, alpha, false).Item()
			num = append(num, (fp-fm)/(2*eps))
			ana = append(ana, second[i].Value.Flat(j))
			fo = append(fo, first[i].Value.Flat(j))
		}
	}
	relErr := func(a, b []float64) float64 {
		var d, n float64
		for i := range a {
			d += (a[i] - b[i]) * (a[i] - b[i])
			n += b[i] * b[i]
		}
		return math.Sqrt(d / n)
	}
	if e := relErr(ana, num); e > 1e-6 {
		t.Fatalf("second-order MAML meta-gradient of the GRU: relative error %.3g > 1e-6", e)
	} else {
		t.Logf("second-order relative error %.3g", e)
	}
	if e := relErr(fo, num); e < 1e-3 {
		t.Fatalf("first-order meta-gradient within %.3g of the true one: the task does not exercise second order", e)
	} else {
		t.Logf("first-order relative error %.3g", e)
	}
}
