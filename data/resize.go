package data

// Area (box) resampling: every output pixel is the average of the input
// area it covers, with fractional weights for partly covered input pixels.
// For 105 -> 28 each output pixel covers 3.75 x 3.75 input pixels. This is
// OpenCV's INTER_AREA for shrinking and PIL's BOX filter in general.

// areaTap is the set of input pixels feeding one output pixel.
type areaTap struct {
	start int       // first input index
	w     []float64 // weights of inputs start, start+1, ...; they sum to 1
}

// areaTaps returns the 1-D area-resampling taps from in to out samples.
// Output j covers the input interval [j*in/out, (j+1)*in/out); the weights
// are computed exactly in units of 1/out, so they are exact rationals.
func areaTaps(in, out int) []areaTap {
	taps := make([]areaTap, out)
	for j := 0; j < out; j++ {
		lo, hi := j*in, (j+1)*in // in units of 1/out
		first, last := lo/out, (hi-1)/out
		t := areaTap{start: first, w: make([]float64, last-first+1)}
		for i := first; i <= last; i++ {
			a, b := max(lo, i*out), min(hi, (i+1)*out)
			t.w[i-first] = float64(b-a) / float64(in)
		}
		taps[j] = t
	}
	return taps
}

// resizer resamples h x w planes to oh x ow with area averaging; it keeps a
// scratch buffer, so use one per goroutine.
type resizer struct {
	h, w, oh, ow int
	ty, tx       []areaTap
	tmp          []float64 // h x ow after the horizontal pass
}

func newResizer(h, w, oh, ow int) *resizer {
	return &resizer{h: h, w: w, oh: oh, ow: ow, ty: areaTaps(h, oh), tx: areaTaps(w, ow), tmp: make([]float64, h*ow)}
}

// resize writes src (h x w, row-major) resampled into dst (oh x ow).
func (r *resizer) resize(dst []float32, src []float64) {
	if r.h == r.oh && r.w == r.ow {
		for i, v := range src[:r.h*r.w] {
			dst[i] = float32(v)
		}
		return
	}
	for y := 0; y < r.h; y++ {
		row := src[y*r.w : (y+1)*r.w]
		for x, t := range r.tx {
			s := 0.0
			for k, wt := range t.w {
				s += wt * row[t.start+k]
			}
			r.tmp[y*r.ow+x] = s
		}
	}
	for y, t := range r.ty {
		for x := 0; x < r.ow; x++ {
			s := 0.0
			for k, wt := range t.w {
				s += wt * r.tmp[(t.start+k)*r.ow+x]
			}
			dst[y*r.ow+x] = float32(s)
		}
	}
}

// ResizeArea resamples one h x w plane (row-major) to oh x ow by area
// averaging and returns the result. It returns nil when a size is not
// positive or src is shorter than h*w.
func ResizeArea(src []float64, h, w, oh, ow int) []float32 {
	if h <= 0 || w <= 0 || oh <= 0 || ow <= 0 || len(src) < h*w {
		return nil
	}
	dst := make([]float32, oh*ow)
	newResizer(h, w, oh, ow).resize(dst, src)
	return dst
}
