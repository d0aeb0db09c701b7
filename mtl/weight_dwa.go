package mtl

import "math"

// DWA is dynamic weight averaging, from Liu, Johns & Davison, "End-to-End
// Multi-Task Learning with Attention", CVPR 2019 (Eq. 7):
//
//	w_k(t) = T exp(r_k(t-1)/Temp) / sum_i exp(r_i(t-1)/Temp),
//	r_k(t-1) = L_k(t-1) / L_k(t-2),
//
// with w_k(t) = 1 for t = 1, 2 (the first two epochs).
//
// Here an "epoch" is Window consecutive calls (default Window = 1: every
// call is an epoch, and L_k(t) is the loss passed at call t). With
// Window > 1, L_k(e) is the average of the losses passed during epoch e and
// the weights stay constant within an epoch, as in the paper and LibMTL
// (which average over the batches of an epoch). The weights of the first
// two epochs are ones. A non-positive previous loss gives ratio 1.
type DWA struct {
	// Temp is the softmax temperature (default 2).
	Temp float64
	// Window is the number of calls averaged into one "epoch" (default 1).
	Window int

	tasks      int
	calls      int
	acc        []float64 // running sum of the current epoch's losses
	prev, prv2 []float64 // averages of the last and second-to-last epochs
	epochs     int       // completed epochs
}

// NewDWA returns DWA with temperature 2 and a one-call epoch.
func NewDWA() *DWA { return &DWA{Temp: 2, Window: 1} }

// Name implements Weighting.
func (*DWA) Name() string { return "dwa" }

// NeedsGrads implements Weighting (false).
func (*DWA) NeedsGrads() bool { return false }

// Weights returns the DWA weights of the current epoch and records the
// losses.
func (d *DWA) Weights(step int, losses []float64, grads [][]float64) []float64 {
	t := len(losses)
	win := d.Window
	if win < 1 {
		win = 1
	}
	if d.tasks != t || d.acc == nil {
		*d = DWA{Temp: d.Temp, Window: d.Window, tasks: t, acc: make([]float64, t)}
	}
	out := ones(t)
	if d.epochs >= 2 {
		temp := d.Temp
		if temp <= 0 {
			temp = 2
		}
		r := make([]float64, t)
		for i := range r {
			r[i] = 1
			if d.prv2[i] > 0 {
				r[i] = d.prev[i] / d.prv2[i]
			}
			if math.IsNaN(r[i]) || math.IsInf(r[i], 0) {
				r[i] = 1
			}
			r[i] /= temp
		}
		sm := softmax(r)
		for i := range out {
			out[i] = float64(t) * sm[i]
		}
	}
	for i, l := range losses {
		d.acc[i] += l
	}
	d.calls++
	if d.calls%win == 0 {
		avg := make([]float64, t)
		for i := range avg {
			avg[i] = d.acc[i] / float64(win)
			d.acc[i] = 0
		}
		d.prv2, d.prev = d.prev, avg
		d.epochs++
	}
	return out
}
