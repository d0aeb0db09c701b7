package tensor

import (
	"fmt"
	"math"
)

// Scaled dot-product attention, softmax(Q K^T * scale + mask) V, computed
// without storing the score matrix (FlashAttention: Dao, Fu, Ermon, Rudra
// and Re, "FlashAttention: Fast and Memory-Efficient Exact Attention with
// IO-Awareness", NeurIPS 2022).
//
// For each (batch, head) and block of query rows the forward pass walks
// the keys in blocks. One block of scores S = Q_blk K_blk^T is formed with
// the gemm kernels, and each row keeps a running maximum m and a running
// sum l of exp(s - m):
//
//	m' = max(m, rowmax(S))        l' = l e^(m-m') + sum_j e^(s_j - m')
//	O' = O e^(m-m') + e^(S - m') V_blk
//
// At the end O = O / l and the row's log-sum-exp L = m + log l is kept for
// the backward pass. Extra memory is one score block per worker plus the
// transposed keys of one head: linear in the sequence length.
//
// The backward pass recomputes each score block from Q, K and L
// (P = e^(S*scale - L)) and accumulates, with D_i = sum_c dO_ic O_ic,
//
//	dV += P~^T dO    dP = (dO V^T) o Z    dS = P o (dP - D) * scale
//	dQ += dS K       dK += dS^T Q
//
// where Z is the dropout mask scaled by 1/(1-p) and P~ = P o Z.
//
// Both masks of AttentionSpec hide a suffix of the keys from each query
// row, so a row i sees exactly the keys j < visible(i); blocks of keys no
// row of a query block sees are skipped.

// AttentionSpec describes the masks, scale and dropout of Attention.
type AttentionSpec struct {
	// Scale multiplies q.k; 0 means 1/sqrt(D).
	Scale float64
	// KeyLengths, when not nil, holds one length per batch entry: keys at
	// positions >= KeyLengths[b] are masked (padding).
	KeyLengths []int
	// Causal masks key j for query i when j > i + (Tk - Tq).
	Causal bool
	// Dropout is the probability of dropping each attention weight; the
	// kept weights are scaled by 1/(1-Dropout).
	Dropout float64
	// Seed selects the dropout mask, a fixed function of (Seed, b, h, i, j)
	// (Keeps), so forward and backward agree without storing it.
	Seed uint64
}

// attnGeom holds the validated sizes of one attention call.
type attnGeom struct {
	b, h, tq, tk, d, dv int
	scale               float64
}

// Validate checks the shapes q [B,H,Tq,D], k [B,H,Tk,D], v [B,H,Tk,Dv]
// and the spec against them.
func (s *AttentionSpec) Validate(q, k, v []int) error {
	if len(q) != 4 || len(k) != 4 || len(v) != 4 {
		return fmt.Errorf("want q [B,H,Tq,D], k [B,H,Tk,D], v [B,H,Tk,Dv], got %v, %v, %v", q, k, v)
	}
	if k[0] != q[0] || k[1] != q[1] || k[3] != q[3] || v[0] != q[0] || v[1] != q[1] || v[2] != k[2] {
		return fmt.Errorf("shapes do not match: q %v, k %v, v %v (want q [B,H,Tq,D], k [B,H,Tk,D], v [B,H,Tk,Dv])", q, k, v)
	}
	if s.KeyLengths != nil {
		if len(s.KeyLengths) != q[0] {
			return fmt.Errorf("%d key lengths for batch %d", len(s.KeyLengths), q[0])
		}
		for i, n := range s.KeyLengths {
			if n < 0 || n > k[2] {
				return fmt.Errorf("key length %d of batch entry %d not in [0,%d]", n, i, k[2])
			}
		}
	}
	if !(s.Dropout >= 0 && s.Dropout < 1) {
		return fmt.Errorf("dropout %v not in [0,1)", s.Dropout)
	}
	return nil
}

// geometry validates the operands (panicking with a message naming the
// problem) and returns their sizes.
func (s *AttentionSpec) geometry(op string, q, k, v *Tensor) attnGeom {
	mustSameDType(op, q, k, v)
	if err := s.Validate(q.shape, k.shape, v.shape); err != nil {
		panic("tensor: " + op + ": " + err.Error())
	}
	g := attnGeom{b: q.shape[0], h: q.shape[1], tq: q.shape[2], d: q.shape[3], tk: k.shape[2], dv: v.shape[3]}
	g.scale = s.Scale
	if g.scale == 0 {
		g.scale = 1 / math.Sqrt(float64(max(g.d, 1)))
	}
	return g
}

// visible returns how many keys (a prefix) query row i of batch entry b sees.
func (s *AttentionSpec) visible(g attnGeom, b, i int) int {
	n := g.tk
	if s.KeyLengths != nil {
		n = min(n, s.KeyLengths[b])
	}
	if s.Causal {
		n = min(n, max(i+g.tk-g.tq+1, 0))
	}
	return n
}

// Keeps reports whether dropout keeps the weight of key j for
// query i in head h of batch entry b. It hashes (Seed, b, h, i, j) with
// the SplitMix64 finaliser and keeps the weight when the resulting
// uniform number in [0,1) is at least Dropout.
func (s *AttentionSpec) Keeps(b, h, i, j int) bool {
	return attnUniform(attnRowKey(s.Seed, b, h, i), j) >= s.Dropout
}

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

const golden64 = 0x9e3779b97f4a7c15

func attnRowKey(seed uint64, b, h, i int) uint64 {
	z := mix64(seed + golden64*uint64(b+1))
	z = mix64(z + golden64*uint64(h+1))
	return mix64(z + golden64*uint64(i+1))
}

func attnUniform(row uint64, j int) float64 {
	return float64(mix64(row+golden64*uint64(j+1))>>11) * (1.0 / (1 << 53))
}

// AttentionVisible returns the mask of Attention as a 0/1 tensor
// [B,1,Tq,Tk] of dtype dt (1 where key j is visible to query i), or nil
// when nothing is masked. It is for composing attention from separate
// operations (the reference path, and gradients of gradients).
func AttentionVisible(s AttentionSpec, dt DType, b, tq, tk int) *Tensor {
	if s.KeyLengths == nil && !s.Causal {
		return nil
	}
	g := attnGeom{b: b, tq: tq, tk: tk}
	m := New(dt, b, 1, tq, tk)
	for bi := 0; bi < b; bi++ {
		for i := 0; i < tq; i++ {
			n := s.visible(g, bi, i)
			for j := 0; j < n; j++ {
				m.SetFlat((bi*tq+i)*tk+j, 1)
			}
		}
	}
	return m
}

// AttentionDropoutMask returns Attention's dropout mask as a tensor
// [B,H,Tq,Tk] of dtype dt holding 0 (dropped) or 1/(1-Dropout) (kept), or
// nil when Dropout is 0.
func AttentionDropoutMask(s AttentionSpec, dt DType, b, h, tq, tk int) *Tensor {
	if s.Dropout == 0 {
		return nil
	}
	m := New(dt, b, h, tq, tk)
	keep := 1 / (1 - s.Dropout)
	o := 0
	for bi := 0; bi < b; bi++ {
		for hi := 0; hi < h; hi++ {
			for i := 0; i < tq; i++ {
				row := attnRowKey(s.Seed, bi, hi, i)
				for j := 0; j < tk; j++ {
					if attnUniform(row, j) >= s.Dropout {
						m.SetFlat(o, keep)
					}
					o++
				}
			}
		}
	}
	return m
}

// Block sizes of the attention kernels: query rows per block (a multiple
// of the AVX-512 kernels' 12 and 4 rows would not divide 64 evenly, but
// gemmSmall splits 64 rows into near-equal tiles) and keys per block (a
// multiple of the 16- and 32-wide kernel tiles).
const attnBlockQ, attnBlockK = 64, 128

// attnFewQueries is the most query rows for which the forward pass reads
// the keys in place (see attnForward).
const attnFewQueries = 4

// Attention returns softmax(q k^T * scale + mask) v (with dropout on the
// weights) for q [B,H,Tq,D], k [B,H,Tk,D], v [B,H,Tk,Dv], and the
// log-sum-exp of each row's masked, scaled scores [B,H,Tq] in float64
// (-Inf for a row that sees no key; its output row is zero). See the
// comment at the top of attention.go for the algorithm.
func Attention(q, k, v *Tensor, s AttentionSpec) (out, lse *Tensor) {
	g := s.geometry("Attention", q, k, v)
	out = New(q.dtype, g.b, g.h, g.tq, g.dv)
	lse = New(Float64, g.b, g.h, g.tq)
	if q.dtype == Float32 {
		attnForward(&s, g, q.f32, k.f32, v.f32, out.f32, lse.f64)
	} else {
		attnForward(&s, g, q.f64, k.f64, v.f64, out.f64, lse.f64)
	}
	return out, lse
}

// AttentionBackward returns the gradients of <Attention(q, k, v, s), gout>
// with respect to q, k and v, given the forward output out and log-sum-exp
// lse.
func AttentionBackward(gout, q, k, v, out, lse *Tensor, s AttentionSpec) (dq, dk, dv *Tensor) {
	g := s.geometry("AttentionBackward", q, k, v)
	mustSameDType("AttentionBackward", q, gout, out)
	if !SameShape(gout.shape, []int{g.b, g.h, g.tq, g.dv}) || !SameShape(out.shape, gout.shape) || lse.dtype != Float64 || lse.Len() != g.b*g.h*g.tq {
		panic(fmt.Sprintf("tensor: AttentionBackward: gradient %v, output %v, lse %v for q %v, v %v", gout.shape, out.shape, lse.shape, q.shape, v.shape))
	}
	dq, dk, dv = New(q.dtype, q.shape...), New(q.dtype, k.shape...), New(q.dtype, v.shape...)
	if q.dtype == Float32 {
		attnBackward(&s, g, gout.f32, q.f32, k.f32, v.f32, out.f32, lse.f64, dq.f32, dk.f32, dv.f32)
	} else {
		attnBackward(&s, g, gout.f64, q.f64, k.f64, v.f64, out.f64, lse.f64, dq.f64, dk.f64, dv.f64)
	}
	return dq, dk, dv
}

// attnForward runs the forward pass over (batch*head, query block) tasks.
func attnForward[T Float](s *AttentionSpec, g attnGeom, q, k, v, out []T, lse []float64) {
	nqb := (g.tq + attnBlockQ - 1) / attnBlockQ
	bh := g.b * g.h
	work := bh * g.tq * g.tk * (g.d + g.dv) * 2
	// Scores S = Q_blk K_blk^T need K^T as the gemm's right operand: the
	// transposed keys of every head, [B*H][D][Tk] (the same size as k).
	// With few query rows (incremental decoding: Tq = 1) transposing every
	// key would cost as much as the products, so the kernel forms S^T =
	// K_blk Q_blk^T from the keys in place and the small transposed
	// queries instead, and transposes the [Tk_blk, Tq] result.
	fewQueries := g.tq <= attnFewQueries
	var kt *[]T
	if !fewQueries {
		kt = getScratch[T](bh * g.d * g.tk)
		defer putScratch(kt)
		parallelFor(bh, bh*g.tk*g.d, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				transpose2D(k[p*g.tk*g.d:(p+1)*g.tk*g.d], (*kt)[p*g.d*g.tk:(p+1)*g.d*g.tk], g.tk, g.d)
			}
		})
	}
	parallelFor(bh*nqb, work, func(lo, hi int) {
		sc := getScratch[T](2*attnBlockQ*attnBlockK + attnBlockQ*g.d)
		defer putScratch(sc)
		var m, l [attnBlockQ]float64
		for task := lo; task < hi; task++ {
			p, qb := task/nqb, task%nqb
			b, h := p/g.h, p%g.h
			i0 := qb * attnBlockQ
			i1 := min(i0+attnBlockQ, g.tq)
			br := i1 - i0
			qs := q[(p*g.tq+i0)*g.d:]
			os := out[(p*g.tq+i0)*g.dv : (p*g.tq+i1)*g.dv]
			var kts, qt []T
			if fewQueries {
				qt = (*sc)[2*attnBlockQ*attnBlockK : 2*attnBlockQ*attnBlockK+g.d*br]
				transpose2D(qs[:br*g.d], qt, br, g.d)
			} else {
				kts = (*kt)[p*g.d*g.tk:]
			}
			for r := 0; r < br; r++ {
				m[r], l[r] = math.Inf(-1), 0
			}
			jmax := s.visible(g, b, i1-1) // rows see nested prefixes
			for j0 := 0; j0 < jmax; j0 += attnBlockK {
				j1 := min(j0+attnBlockK, jmax)
				bc := j1 - j0
				S := (*sc)[:br*bc]
				if fewQueries {
					st := (*sc)[attnBlockQ*attnBlockK : attnBlockQ*attnBlockK+bc*br]
					gemmSerial(bc, br, g.d, k[(p*g.tk+j0)*g.d:], g.d, qt, br, st, br, false)
					transpose2D(st, S, bc, br)
				} else {
					gemmSerial(br, bc, g.d, qs, g.d, kts[j0:], g.tk, S, bc, false)
				}
				for r := 0; r < br; r++ {
					i := i0 + r
					row := S[r*bc : (r+1)*bc]
					n := min(s.visible(g, b, i), j1) - j0
					if n <= 0 {
						clear(row)
						continue
					}
					mx := rowMaxScaled(row[:n], g.scale)
					mnew := max(m[r], mx)
					corr := math.Exp(m[r] - mnew)
					sum := expShift(row[:n], row[:n], g.scale, mnew)
					clear(row[n:])
					if s.Dropout > 0 {
						rk := attnRowKey(s.Seed, b, h, i)
						keep := T(1 / (1 - s.Dropout))
						for c := range row[:n] {
							if attnUniform(rk, j0+c) >= s.Dropout {
								row[c] *= keep
							} else {
								row[c] = 0
							}
						}
					}
					lold := l[r]
					l[r] = lold*corr + sum
					m[r] = mnew
					if corr != 1 && lold != 0 { // rescale what earlier blocks added
						o := os[r*g.dv : (r+1)*g.dv]
						cf := T(corr)
						for c := range o {
							o[c] *= cf
						}
					}
				}
				gemmSerial(br, g.dv, bc, S, bc, v[(p*g.tk+j0)*g.dv:], g.dv, os, g.dv, true)
			}
			for r := 0; r < br; r++ {
				ls := lse[p*g.tq+i0+r:]
				if l[r] == 0 {
					ls[0] = math.Inf(-1)
					continue
				}
				ls[0] = m[r] + math.Log(l[r])
				o := os[r*g.dv : (r+1)*g.dv]
				inv := T(1 / l[r])
				for c := range o {
					o[c] *= inv
				}
			}
		}
	})
}

// attnBackward runs the backward pass, one task per (batch, head): the
// key and value gradients of a head gather contributions from every query
// block.
func attnBackward[T Float](s *AttentionSpec, g attnGeom, gout, q, k, v, out []T, lse []float64, dq, dk, dv []T) {
	bh := g.b * g.h
	work := bh * g.tq * g.tk * (2*g.d + 2*g.dv) * 2
	parallelFor(bh, work, func(lo, hi int) {
		kt := getScratch[T](g.d*g.tk + g.dv*g.tk)
		sc := getScratch[T](3 * attnBlockQ * attnBlockK)
		defer putScratch(kt)
		defer putScratch(sc)
		var dsum [attnBlockQ]float64
		for p := lo; p < hi; p++ {
			b, h := p/g.h, p%g.h
			kts, vts := (*kt)[:g.d*g.tk], (*kt)[g.d*g.tk:]
			transpose2D(k[p*g.tk*g.d:(p+1)*g.tk*g.d], kts, g.tk, g.d)
			transpose2D(v[p*g.tk*g.dv:(p+1)*g.tk*g.dv], vts, g.tk, g.dv)
			for i0 := 0; i0 < g.tq; i0 += attnBlockQ {
				i1 := min(i0+attnBlockQ, g.tq)
				br := i1 - i0
				qs := q[(p*g.tq+i0)*g.d:]
				gos := gout[(p*g.tq+i0)*g.dv:]
				dqs := dq[(p*g.tq+i0)*g.d:]
				for r := 0; r < br; r++ {
					o := (p*g.tq + i0 + r) * g.dv
					sum := 0.0
					for c := 0; c < g.dv; c++ {
						sum += float64(gout[o+c]) * float64(out[o+c])
					}
					dsum[r] = sum
				}
				jmax := s.visible(g, b, i1-1)
				for j0 := 0; j0 < jmax; j0 += attnBlockK {
					j1 := min(j0+attnBlockK, jmax)
					bc := j1 - j0
					P := (*sc)[:br*bc]
					dP := (*sc)[attnBlockQ*attnBlockK : attnBlockQ*attnBlockK+br*bc]
					tr := (*sc)[2*attnBlockQ*attnBlockK : 2*attnBlockQ*attnBlockK+br*bc]
					gemmSerial(br, bc, g.d, qs, g.d, kts[j0:], g.tk, P, bc, false)
					gemmSerial(br, bc, g.dv, gos, g.dv, vts[j0:], g.tk, dP, bc, false)
					for r := 0; r < br; r++ {
						i := i0 + r
						row, drow := P[r*bc:(r+1)*bc], dP[r*bc:(r+1)*bc]
						n := min(s.visible(g, b, i), j1) - j0
						L := lse[p*g.tq+i]
						if n <= 0 || math.IsInf(L, -1) {
							clear(row)
							clear(drow)
							continue
						}
						var rk uint64
						keep := 1 / (1 - s.Dropout)
						if s.Dropout > 0 {
							rk = attnRowKey(s.Seed, b, h, i)
						}
						expShift(row[:n], row[:n], g.scale, L)
						if s.Dropout > 0 {
							for c := 0; c < n; c++ {
								pr, z := row[c], T(0)
								if attnUniform(rk, j0+c) >= s.Dropout {
									z = T(keep)
								}
								row[c] = pr * z
								drow[c] = pr * (drow[c]*z - T(dsum[r])) * T(g.scale)
							}
						} else {
							ds, sc := T(dsum[r]), T(g.scale)
							for c, pr := range row[:n] {
								drow[c] = pr * (drow[c] - ds) * sc
							}
						}
						clear(row[n:])
						clear(drow[n:])
					}
					// dV += P~^T dO
					transpose2D(P, tr, br, bc)
					gemmSerial(bc, g.dv, br, tr, br, gos, g.dv, dv[(p*g.tk+j0)*g.dv:], g.dv, true)
					// dQ += dS K
					gemmSerial(br, g.d, bc, dP, bc, k[(p*g.tk+j0)*g.d:], g.d, dqs, g.d, true)
					// dK += dS^T Q
					transpose2D(dP, tr, br, bc)
					gemmSerial(bc, g.d, br, tr, br, qs, g.d, dk[(p*g.tk+j0)*g.d:], g.d, true)
				}
			}
		}
	})
}

// expShift sets o[i] = e^(x[i]*scale - shift) and returns the sum of the
// o[i] (AVX-512 for float32 where available, including the ragged tail
// through a 16-value buffer).
func expShift[T Float](o, x []T, scale, shift float64) float64 {
	n := len(x)
	o = o[:n]
	if f, g := asF32(x), asF32(o); f != nil && useAVX512Exp {
		n16 := n &^ 15
		sum := 0.0
		if n16 > 0 {
			sum = float64(expShiftF32AVX512(&g[0], &f[0], n16, float32(scale), float32(shift)))
		}
		if n16 < n {
			var in, out [16]float32
			copy(in[:], f[n16:])
			expShiftF32AVX512(&out[0], &in[0], 16, float32(scale), float32(shift))
			for i, e := range out[:n-n16] {
				g[n16+i] = e
				sum += float64(e)
			}
		}
		return sum
	}
	sum := 0.0
	for i, v := range x {
		e := math.Exp(float64(v)*scale - shift)
		o[i] = T(e)
		sum += e
	}
	return sum
}

// rowMaxScaled returns max(x[i]*scale) over a non-empty x (four
// independent running extremes, for instruction-level parallelism).
func rowMaxScaled[T Float](x []T, scale float64) float64 {
	sign := T(1)
	if scale < 0 {
		sign = -1
	}
	m := [4]T{sign * x[0], sign * x[0], sign * x[0], sign * x[0]}
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		if a := sign * v[0]; a > m[0] {
			m[0] = a
		}
		if a := sign * v[1]; a > m[1] {
			m[1] = a
		}
		if a := sign * v[2]; a > m[2] {
			m[2] = a
		}
		if a := sign * v[3]; a > m[3] {
			m[3] = a
		}
	}
	for ; i < len(x); i++ {
		if a := sign * x[i]; a > m[0] {
			m[0] = a
		}
	}
	mx := max(m[0], m[1], m[2], m[3])
	return float64(sign*mx) * scale
}
