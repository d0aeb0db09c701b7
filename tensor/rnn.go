package tensor

import (
	"fmt"
	"math"
	"unsafe"
)

// The gate arithmetic of a GRU cell (Cho et al. 2014, in PyTorch's form)
// as one kernel forward and one backward. With the input projection gi =
// x W_ih^T + b_ih and the hidden projection gh = h W_hh^T + b_hh, both
// [B, 3H] in the gate order (r, z, n):
//
//	r = sigmoid(gi_r + gh_r)    z = sigmoid(gi_z + gh_z)
//	n = tanh(gi_n + r * gh_n)   h' = (1 - z) * n + z * h
//
// The backward pass recomputes r, z and n from the inputs (three
// elementwise passes are cheaper than storing them), and for the
// gradient g of h':
//
//	dn = g (1-z)          dz = g (h - n)        dh = g z
//	an = dn (1 - n^2)     az = dz z (1-z)       ar = an gh_n r (1-r)
//	dgi = [ar, az, an]    dgh = [ar, az, an r]

func gruShapes(op string, gi, gh, h *Tensor) (b, hid int) {
	mustSameDType(op, gi, gh, h)
	if h.Dims() != 2 || gi.Dims() != 2 || !SameShape(gi.shape, gh.shape) || gi.shape[0] != h.shape[0] || gi.shape[1] != 3*h.shape[1] {
		panic(fmt.Sprintf("tensor: %s: gates %v and %v for state %v, want [B,3H], [B,3H], [B,H]", op, gi.shape, gh.shape, h.shape))
	}
	return h.shape[0], h.shape[1]
}

// GRUCell returns the next state h' [B, H] of a GRU cell from the input
// and hidden projections gi, gh [B, 3H] (biases included) and the state h.
func GRUCell(gi, gh, h *Tensor) *Tensor {
	b, hid := gruShapes("GRUCell", gi, gh, h)
	out := newDirty(h.dtype, b, hid)
	if h.dtype == Float32 {
		gruRun(gi.f32, gh.f32, h.f32, nil, out.f32, nil, nil, nil, b, hid)
	} else {
		gruRun(gi.f64, gh.f64, h.f64, nil, out.f64, nil, nil, nil, b, hid)
	}
	return out
}

// GRUCellBackward returns the gradients of <GRUCell(gi, gh, h), g> with
// respect to gi, gh and h.
func GRUCellBackward(g, gi, gh, h *Tensor) (dgi, dgh, dh *Tensor) {
	b, hid := gruShapes("GRUCellBackward", gi, gh, h)
	mustSameDType("GRUCellBackward", g, h)
	if !SameShape(g.shape, h.shape) {
		panic(fmt.Sprintf("tensor: GRUCellBackward: gradient %v for state %v", g.shape, h.shape))
	}
	dgi, dgh, dh = newDirty(h.dtype, b, 3*hid), newDirty(h.dtype, b, 3*hid), newDirty(h.dtype, b, hid)
	if h.dtype == Float32 {
		gruRun(gi.f32, gh.f32, h.f32, g.f32, nil, dgi.f32, dgh.f32, dh.f32, b, hid)
	} else {
		gruRun(gi.f64, gh.f64, h.f64, g.f64, nil, dgi.f64, dgh.f64, dh.f64, b, hid)
	}
	return dgi, dgh, dh
}

// gruRun computes the forward pass (g nil: into out) or the backward pass
// (into dgi, dgh, dh), row by row.
func gruRun[T Float](gi, gh, h, g, out, dgi, dgh, dh []T, b, hid int) {
	parallelFor(b, b*hid*40, func(lo, hi int) {
		sc := getScratch[T](3 * hid)
		defer putScratch(sc)
		for row := lo; row < hi; row++ {
			r3, r1 := row*3*hid, row*hid
			if g == nil {
				gruRow(gi[r3:r3+3*hid], gh[r3:r3+3*hid], h[r1:r1+hid], nil, out[r1:r1+hid], nil, nil, nil, *sc)
				continue
			}
			gruRow(gi[r3:r3+3*hid], gh[r3:r3+3*hid], h[r1:r1+hid], g[r1:r1+hid], nil, dgi[r3:r3+3*hid], dgh[r3:r3+3*hid], dh[r1:r1+hid], *sc)
		}
	})
}

// gruRow is one row of gruRun (sc: 3H scratch values). In the backward
// pass (g not nil) dh receives only the direct part g z.
func gruRow[T Float](gir, ghr, hr, gr, o, di, dh2, dhr, sc []T) {
	hid := len(hr)
	rz, n := sc[:2*hid], sc[2*hid:3*hid]
	for c := range rz {
		rz[c] = gir[c] + ghr[c]
	}
	sigmoidInto(rz, rz)
	r, z := rz[:hid], rz[hid:]
	ghn := ghr[2*hid:]
	for c := range n {
		n[c] = gir[2*hid+c] + r[c]*ghn[c]
	}
	tanhInto(n, n)
	if gr == nil {
		o = o[:hid]
		for c := range o {
			o[c] = n[c] + z[c]*(hr[c]-n[c])
		}
		return
	}
	for c := 0; c < hid; c++ {
		gc, zc, nc, rc := gr[c], z[c], n[c], r[c]
		an := gc * (1 - zc) * (1 - nc*nc)
		az := gc * (hr[c] - nc) * zc * (1 - zc)
		ar := an * ghn[c] * rc * (1 - rc)
		di[c], di[hid+c], di[2*hid+c] = ar, az, an
		dh2[c], dh2[hid+c], dh2[2*hid+c] = ar, az, an*rc
		dhr[c] = gc * zc
	}
}

// GRUSequence runs a GRU's recurrence over T steps in one call: from the
// input projections gi [T, B, 3H] (biases included), the hidden weights
// whh [3H, H] and bias bhh [3H] and the initial state h0 [B, H], it
// returns the states out [T, B, H] and the hidden projections gh
// [T, B, 3H] (kept for the backward pass). With lengths (one per batch
// entry, in [0, T]; nil: all T), entry b runs for lengths[b] steps and its
// rows of out are zero after that.
func GRUSequence(gi, whh, bhh, h0 *Tensor, lengths []int) (out, gh *Tensor) {
	t, b, hid := gruSeqShapes("GRUSequence", gi, whh, bhh, h0, lengths)
	out, gh = New(h0.dtype, t, b, hid), newDirty(h0.dtype, t, b, 3*hid)
	if h0.dtype == Float32 {
		gruSeqForward(gi.f32, whh.f32, bhh.f32, h0.f32, lengths, out.f32, gh.f32, t, b, hid)
	} else {
		gruSeqForward(gi.f64, whh.f64, bhh.f64, h0.f64, lengths, out.f64, gh.f64, t, b, hid)
	}
	return out, gh
}

func gruSeqShapes(op string, gi, whh, bhh, h0 *Tensor, lengths []int) (t, b, hid int) {
	mustSameDType(op, gi, whh, bhh, h0)
	if h0.Dims() != 2 || gi.Dims() != 3 {
		panic(fmt.Sprintf("tensor: %s: input projections %v and state %v, want [T,B,3H] and [B,H]", op, gi.shape, h0.shape))
	}
	t, b, hid = gi.shape[0], h0.shape[0], h0.shape[1]
	if gi.shape[1] != b || gi.shape[2] != 3*hid || !SameShape(whh.shape, []int{3 * hid, hid}) || bhh.Len() != 3*hid {
		panic(fmt.Sprintf("tensor: %s: input projections %v, weight %v, bias %v for state %v", op, gi.shape, whh.shape, bhh.shape, h0.shape))
	}
	if lengths != nil {
		if len(lengths) != b {
			panic(fmt.Sprintf("tensor: %s: %d lengths for batch %d", op, len(lengths), b))
		}
		for i, n := range lengths {
			if n < 0 || n > t {
				panic(fmt.Sprintf("tensor: %s: length %d of entry %d not in [0,%d]", op, n, i, t))
			}
		}
	}
	return t, b, hid
}

func runs(lengths []int, b, t int) bool { return lengths == nil || t < lengths[b] }

func gruSeqForward[T Float](gi, whh, bhh, h0 []T, lengths []int, out, gh []T, t, b, hid int) {
	wt := getScratch[T](3 * hid * hid) // whh^T [H, 3H]
	hc := getScratch[T](b * hid)       // the current states
	defer putScratch(wt)
	defer putScratch(hc)
	transpose2D(whh, *wt, 3*hid, hid)
	copy(*hc, h0)
	for s := 0; s < t; s++ {
		ghs := gh[s*b*3*hid : (s+1)*b*3*hid]
		for r := 0; r < b; r++ {
			copy(ghs[r*3*hid:(r+1)*3*hid], bhh)
		}
		gemmStep(b, 3*hid, hid, *hc, hid, *wt, 3*hid, ghs, 3*hid, true)
		gis, outs := gi[s*b*3*hid:], out[s*b*hid:]
		parallelFor(b, b*hid*40, func(lo, hi int) {
			sc := getScratch[T](3 * hid)
			defer putScratch(sc)
			for r := lo; r < hi; r++ {
				if !runs(lengths, r, s) {
					continue
				}
				o := outs[r*hid : (r+1)*hid]
				gruRow(gis[r*3*hid:(r+1)*3*hid], ghs[r*3*hid:(r+1)*3*hid], (*hc)[r*hid:(r+1)*hid], nil, o, nil, nil, nil, *sc)
				copy((*hc)[r*hid:(r+1)*hid], o)
			}
		})
	}
}

// GRUSequenceBackward returns the gradients of <out, g> (out, gh from
// GRUSequence) with respect to gi, whh, bhh and h0 (backpropagation
// through time: per step one product for the state's gradient; the
// weight gradient is one product over all steps at the end).
func GRUSequenceBackward(g, gi, whh, bhh, h0, out, gh *Tensor, lengths []int) (dgi, dwhh, dbhh, dh0 *Tensor) {
	t, b, hid := gruSeqShapes("GRUSequenceBackward", gi, whh, bhh, h0, lengths)
	mustSameDType("GRUSequenceBackward", g, out, gh, h0)
	if !SameShape(g.shape, []int{t, b, hid}) || !SameShape(out.shape, g.shape) || !SameShape(gh.shape, gi.shape) {
		panic(fmt.Sprintf("tensor: GRUSequenceBackward: gradient %v, states %v, projections %v for input projections %v", g.shape, out.shape, gh.shape, gi.shape))
	}
	dgi, dh0 = New(h0.dtype, t, b, 3*hid), New(h0.dtype, b, hid)
	if t == 0 {
		return dgi, New(h0.dtype, 3*hid, hid), New(h0.dtype, 3*hid), dh0
	}
	dgh := New(h0.dtype, t, b, 3*hid)
	prev := newDirty(h0.dtype, t, b, hid) // the state before each step
	if h0.dtype == Float32 {
		gruSeqBackward(g.f32, gi.f32, whh.f32, h0.f32, lengths, out.f32, gh.f32, dgi.f32, dgh.f32, prev.f32, dh0.f32, t, b, hid)
	} else {
		gruSeqBackward(g.f64, gi.f64, whh.f64, h0.f64, lengths, out.f64, gh.f64, dgi.f64, dgh.f64, prev.f64, dh0.f64, t, b, hid)
	}
	// rows of dgh are zero where a sequence did not run, so whatever prev
	// holds there adds nothing
	dwhh = MatMulTN(Reshape(dgh, t*b, 3*hid), Reshape(prev, t*b, hid))
	dbhh = Sum(Reshape(dgh, t*b, 3*hid), false, 0)
	Recycle(dgh)
	Recycle(prev)
	return dgi, dwhh, dbhh, dh0
}

func gruSeqBackward[T Float](g, gi, whh, h0 []T, lengths []int, out, gh, dgi, dgh, prev, dh []T, t, b, hid int) {
	copy(prev[:b*hid], h0)
	copy(prev[b*hid:], out[:(t-1)*b*hid])
	for s := t - 1; s >= 0; s-- {
		o3, o1 := s*b*3*hid, s*b*hid
		parallelFor(b, b*hid*40, func(lo, hi int) {
			sc := getScratch[T](4 * hid)
			defer putScratch(sc)
			gs := (*sc)[3*hid:]
			for r := lo; r < hi; r++ {
				if !runs(lengths, r, s) {
					continue
				}
				r3, r1 := o3+r*3*hid, o1+r*hid
				dr := dh[r*hid : (r+1)*hid]
				gr := g[r1 : r1+hid]
				for c := range gs {
					gs[c] = dr[c] + gr[c]
				}
				gruRow(gi[r3:r3+3*hid], gh[r3:r3+3*hid], prev[r1:r1+hid], gs, nil, dgi[r3:r3+3*hid], dgh[r3:r3+3*hid], dr, *sc)
			}
		})
		// dh += dgh_s whh (rows that did not run have dgh 0: their
		// gradient passes unchanged)
		gemmStep(b, hid, 3*hid, dgh[o3:o3+b*3*hid], 3*hid, whh, hid, dh, hid, true)
	}
}

// sigmoidInto sets o = 1/(1+e^-x) (o may be x): AVX-512 for float32 where
// available, else exact to the last bit of float64 arithmetic.
func sigmoidInto[T Float](o, x []T) {
	o = o[:len(x)]
	if f, g := asF32(x), asF32(o); f != nil && useAVX512Exp && len(f) >= 16 {
		n := len(f) &^ 15
		sigmoidF32AVX512(&g[0], &f[0], n)
		x, o = x[n:], o[n:]
	}
	for i, v := range x {
		f := float64(v)
		if f >= 0 {
			o[i] = T(1 / (1 + math.Exp(-f)))
		} else {
			e := math.Exp(f)
			o[i] = T(e / (1 + e))
		}
	}
}

// tanhInto sets o = tanh(x) (o may be x); float32 on AVX-512 as
// 2 sigmoid(2x) - 1, within a few float32 ulps of 1 in absolute terms.
func tanhInto[T Float](o, x []T) {
	o = o[:len(x)]
	if f, g := asF32(x), asF32(o); f != nil && useAVX512Exp && len(f) >= 16 {
		n := len(f) &^ 15
		for i := range g[:n] {
			g[i] = 2 * f[i]
		}
		sigmoidF32AVX512(&g[0], &g[0], n)
		for i := range g[:n] {
			g[i] = 2*g[i] - 1
		}
		x, o = x[n:], o[n:]
	}
	for i, v := range x {
		o[i] = T(math.Tanh(float64(v)))
	}
}

// LSTMSequence runs an LSTM's recurrence over T steps in one call
// (Hochreiter and Schmidhuber 1997, PyTorch's form, gates i, f, g, o):
// with the input projections gi [T, B, 4H] (biases included), the hidden
// weights whh [4H, H] and bias bhh [4H] and the initial states h0, c0
// [B, H], at each step
//
//	a = gi_t + h whh^T + bhh    i, f, o = sigmoid(a_i, a_f, a_o)   g = tanh(a_g)
//	c' = f c + i g              h' = o tanh(c')
//
// It returns the states [2, T, B, H] (hidden states, then cell states,
// after each step) and the pre-activations a [T, B, 4H] (for the backward
// pass). With lengths (nil: all T) entry b runs for lengths[b] steps; its
// states are zero after that.
func LSTMSequence(gi, whh, bhh, h0, c0 *Tensor, lengths []int) (states, act *Tensor) {
	t, b, hid := lstmSeqShapes("LSTMSequence", gi, whh, bhh, h0, c0, lengths)
	states, act = New(h0.dtype, 2, t, b, hid), newDirty(h0.dtype, t, b, 4*hid)
	if h0.dtype == Float32 {
		lstmSeqForward(gi.f32, whh.f32, bhh.f32, h0.f32, c0.f32, lengths, states.f32, act.f32, t, b, hid)
	} else {
		lstmSeqForward(gi.f64, whh.f64, bhh.f64, h0.f64, c0.f64, lengths, states.f64, act.f64, t, b, hid)
	}
	return states, act
}

func lstmSeqShapes(op string, gi, whh, bhh, h0, c0 *Tensor, lengths []int) (t, b, hid int) {
	mustSameDType(op, gi, whh, bhh, h0, c0)
	if h0.Dims() != 2 || gi.Dims() != 3 || !SameShape(h0.shape, c0.shape) {
		panic(fmt.Sprintf("tensor: %s: input projections %v and states %v, %v, want [T,B,4H] and [B,H]", op, gi.shape, h0.shape, c0.shape))
	}
	t, b, hid = gi.shape[0], h0.shape[0], h0.shape[1]
	if gi.shape[1] != b || gi.shape[2] != 4*hid || !SameShape(whh.shape, []int{4 * hid, hid}) || bhh.Len() != 4*hid {
		panic(fmt.Sprintf("tensor: %s: input projections %v, weight %v, bias %v for state %v", op, gi.shape, whh.shape, bhh.shape, h0.shape))
	}
	if lengths != nil {
		if len(lengths) != b {
			panic(fmt.Sprintf("tensor: %s: %d lengths for batch %d", op, len(lengths), b))
		}
		for i, n := range lengths {
			if n < 0 || n > t {
				panic(fmt.Sprintf("tensor: %s: length %d of entry %d not in [0,%d]", op, n, i, t))
			}
		}
	}
	return t, b, hid
}

// lstmGates sets sc[:4H] to i, f, g, o from the pre-activations a.
func lstmGates[T Float](a, sc []T) {
	hid := len(a) / 4
	sigmoidInto(sc[:2*hid], a[:2*hid])
	tanhInto(sc[2*hid:3*hid], a[2*hid:3*hid])
	sigmoidInto(sc[3*hid:4*hid], a[3*hid:])
}

func lstmSeqForward[T Float](gi, whh, bhh, h0, c0 []T, lengths []int, states, act []T, t, b, hid int) {
	wt := getScratch[T](4 * hid * hid)
	cur := getScratch[T](2 * b * hid) // the current h, then c
	defer putScratch(wt)
	defer putScratch(cur)
	transpose2D(whh, *wt, 4*hid, hid)
	hc, cc := (*cur)[:b*hid], (*cur)[b*hid:]
	copy(hc, h0)
	copy(cc, c0)
	hs, cs := states[:t*b*hid], states[t*b*hid:]
	for s := 0; s < t; s++ {
		as := act[s*b*4*hid : (s+1)*b*4*hid]
		gis := gi[s*b*4*hid : (s+1)*b*4*hid]
		for r := 0; r < b; r++ {
			ar := as[r*4*hid : (r+1)*4*hid]
			for c := range ar {
				ar[c] = gis[r*4*hid+c] + bhh[c]
			}
		}
		gemmStep(b, 4*hid, hid, hc, hid, *wt, 4*hid, as, 4*hid, true)
		parallelFor(b, b*hid*40, func(lo, hi int) {
			sc := getScratch[T](5 * hid)
			defer putScratch(sc)
			for r := lo; r < hi; r++ {
				if !runs(lengths, r, s) {
					continue
				}
				lstmGates(as[r*4*hid:(r+1)*4*hid], *sc)
				i, f, g, o, tc := (*sc)[:hid], (*sc)[hid:2*hid], (*sc)[2*hid:3*hid], (*sc)[3*hid:4*hid], (*sc)[4*hid:]
				cr, hr := cc[r*hid:(r+1)*hid], hc[r*hid:(r+1)*hid]
				for c := range cr {
					cr[c] = f[c]*cr[c] + i[c]*g[c]
				}
				tanhInto(tc, cr)
				for c := range hr {
					hr[c] = o[c] * tc[c]
				}
				copy(hs[(s*b+r)*hid:(s*b+r+1)*hid], hr)
				copy(cs[(s*b+r)*hid:(s*b+r+1)*hid], cr)
			}
		})
	}
}

// LSTMSequenceBackward returns the gradients of <states, g> (states, act
// from LSTMSequence; g [2, T, B, H]) with respect to gi, whh, bhh, h0 and
// c0, by backpropagation through time as GRUSequenceBackward.
func LSTMSequenceBackward(g, gi, whh, bhh, h0, c0, states, act *Tensor, lengths []int) (dgi, dwhh, dbhh, dh0, dc0 *Tensor) {
	t, b, hid := lstmSeqShapes("LSTMSequenceBackward", gi, whh, bhh, h0, c0, lengths)
	mustSameDType("LSTMSequenceBackward", g, states, act, h0)
	if !SameShape(g.shape, []int{2, t, b, hid}) || !SameShape(states.shape, g.shape) || !SameShape(act.shape, gi.shape) {
		panic(fmt.Sprintf("tensor: LSTMSequenceBackward: gradient %v, states %v, activations %v for input projections %v", g.shape, states.shape, act.shape, gi.shape))
	}
	dgi, dh0, dc0 = New(h0.dtype, t, b, 4*hid), New(h0.dtype, b, hid), New(h0.dtype, b, hid)
	if t == 0 {
		return dgi, New(h0.dtype, 4*hid, hid), New(h0.dtype, 4*hid), dh0, dc0
	}
	prev := newDirty(h0.dtype, 2, t, b, hid) // h and c before each step
	if h0.dtype == Float32 {
		lstmSeqBackward(g.f32, whh.f32, h0.f32, c0.f32, lengths, states.f32, act.f32, dgi.f32, prev.f32, dh0.f32, dc0.f32, t, b, hid)
	} else {
		lstmSeqBackward(g.f64, whh.f64, h0.f64, c0.f64, lengths, states.f64, act.f64, dgi.f64, prev.f64, dh0.f64, dc0.f64, t, b, hid)
	}
	// the gates' gradient is both dgi and the hidden projection's gradient
	dwhh = MatMulTN(Reshape(dgi, t*b, 4*hid), Reshape(Slice(prev, 0, 0, 1), t*b, hid))
	dbhh = Sum(Reshape(dgi, t*b, 4*hid), false, 0)
	Recycle(prev)
	return dgi, dwhh, dbhh, dh0, dc0
}

func lstmSeqBackward[T Float](g, whh, h0, c0 []T, lengths []int, states, act, dgi, prev, dh, dc []T, t, b, hid int) {
	n := t * b * hid
	hs, cs := states[:n], states[n:]
	hp, cp := prev[:n], prev[n:]
	copy(hp[:b*hid], h0)
	copy(hp[b*hid:], hs[:n-b*hid])
	copy(cp[:b*hid], c0)
	copy(cp[b*hid:], cs[:n-b*hid])
	gh, gc := g[:n], g[n:]
	for s := t - 1; s >= 0; s-- {
		o4, o1 := s*b*4*hid, s*b*hid
		parallelFor(b, b*hid*50, func(lo, hi int) {
			sc := getScratch[T](5 * hid)
			defer putScratch(sc)
			for r := lo; r < hi; r++ {
				if !runs(lengths, r, s) {
					continue
				}
				r4, r1 := o4+r*4*hid, o1+r*hid
				lstmGates(act[r4:r4+4*hid], *sc)
				i, f, gg, o, tc := (*sc)[:hid], (*sc)[hid:2*hid], (*sc)[2*hid:3*hid], (*sc)[3*hid:4*hid], (*sc)[4*hid:]
				tanhInto(tc, cs[r1:r1+hid])
				dhr, dcr := dh[r*hid:(r+1)*hid], dc[r*hid:(r+1)*hid]
				da := dgi[r4 : r4+4*hid]
				cprev := cp[r1 : r1+hid]
				for c := 0; c < hid; c++ {
					dhc := dhr[c] + gh[r1+c]
					dcc := dcr[c] + gc[r1+c] + dhc*o[c]*(1-tc[c]*tc[c])
					da[c] = dcc * gg[c] * i[c] * (1 - i[c])
					da[hid+c] = dcc * cprev[c] * f[c] * (1 - f[c])
					da[2*hid+c] = dcc * i[c] * (1 - gg[c]*gg[c])
					da[3*hid+c] = dhc * tc[c] * o[c] * (1 - o[c])
					dcr[c] = dcc * f[c]
					dhr[c] = 0 // replaced by the product below
				}
			}
		})
		// dh = dgates_s whh for the rows that ran (their dh was zeroed);
		// rows that did not run have zero gates' gradient and keep theirs
		gemmStep(b, hid, 4*hid, dgi[o4:o4+b*4*hid], 4*hid, whh, hid, dh, hid, true)
	}
}

// gemmStep computes C (+)= A*B like gemmRun for the per-step products of
// the recurrences, where B (a weight matrix) is too large for the
// unpacked kernels and would be packed again at every step: with direct
// (AVX-512) kernels it splits C into column panels whose slice of B fits
// them, run in parallel, each panel a gemmSerial call. Every element is
// computed exactly as gemmRun computes it (the kernels round the same way
// whichever driver runs them).
func gemmStep[T Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, acc bool) {
	kern := kernelFor[T]()
	var z T
	if kern.direct == nil || k*n*int(unsafe.Sizeof(z)) <= gemmSmallMaxB || m == 0 || k == 0 {
		gemmRun(m, n, k, a, lda, b, ldb, c, ldc, acc)
		return
	}
	nc := gemmSmallMaxB / (k * int(unsafe.Sizeof(z))) / kern.nr * kern.nr
	if nc == 0 {
		gemmRun(m, n, k, a, lda, b, ldb, c, ldc, acc)
		return
	}
	panels := (n + nc - 1) / nc
	parallelFor(panels, m*n*k, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			j0 := p * nc
			cols := min(nc, n-j0)
			gemmSerial(m, cols, k, a, lda, b[j0:], ldb, c[j0:], ldc, acc)
		}
	})
}
