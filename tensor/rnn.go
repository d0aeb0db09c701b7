package tensor

import (
	"fmt"
	"math"
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
		rz, n := (*sc)[:2*hid], (*sc)[2*hid:]
		for row := lo; row < hi; row++ {
			gir, ghr := gi[row*3*hid:(row+1)*3*hid], gh[row*3*hid:(row+1)*3*hid]
			hr := h[row*hid : (row+1)*hid]
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
			if g == nil {
				o := out[row*hid : (row+1)*hid]
				for c := range o {
					o[c] = n[c] + z[c]*(hr[c]-n[c])
				}
				continue
			}
			gr := g[row*hid : (row+1)*hid]
			di, dh2, dhr := dgi[row*3*hid:(row+1)*3*hid], dgh[row*3*hid:(row+1)*3*hid], dh[row*hid:(row+1)*hid]
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
	})
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
