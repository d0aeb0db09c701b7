package minnorm

import "math"

// Dot is the inner product of two equal-length vectors.
func Dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// Norm is the Euclidean norm.
func Norm(a []float64) float64 { return math.Sqrt(Dot(a, a)) }

// Zeros is an r x c zero matrix.
func Zeros(r, c int) [][]float64 {
	m := make([][]float64, r)
	for i := range m {
		m[i] = make([]float64, c)
	}
	return m
}

// Gram is the Gram matrix M_ij = g_i . g_j of the rows of grads.
func Gram(grads [][]float64) [][]float64 {
	t := len(grads)
	m := Zeros(t, t)
	for i := 0; i < t; i++ {
		for j := i; j < t; j++ {
			v := Dot(grads[i], grads[j])
			m[i][j], m[j][i] = v, v
		}
	}
	return m
}

// MatVec is M x.
func MatVec(m [][]float64, x []float64) []float64 {
	out := make([]float64, len(m))
	for i := range m {
		out[i] = Dot(m[i], x)
	}
	return out
}

// Quad is x^T M x (the squared norm of sum_i x_i g_i when M is a Gram
// matrix).
func Quad(m [][]float64, x []float64) float64 { return Dot(x, MatVec(m, x)) }

// MaxDiag is the largest diagonal entry, or 0 (the largest squared
// gradient norm when M is a Gram matrix).
func MaxDiag(m [][]float64) float64 {
	best := 0.0
	for i := range m {
		if m[i][i] > best {
			best = m[i][i]
		}
	}
	return best
}

// Scaled returns M / s.
func Scaled(m [][]float64, s float64) [][]float64 {
	out := Zeros(len(m), len(m))
	for i := range m {
		for j := range m[i] {
			out[i][j] = m[i][j] / s
		}
	}
	return out
}

// Combine is sum_i c_i g_i (nil for no vectors).
func Combine(grads [][]float64, c []float64) []float64 {
	if len(grads) == 0 {
		return nil
	}
	out := make([]float64, len(grads[0]))
	for i, g := range grads {
		for k, v := range g {
			out[k] += c[i] * v
		}
	}
	return out
}

// Sub extracts the principal submatrix M[idx][idx].
func Sub(m [][]float64, idx []int) [][]float64 {
	s := Zeros(len(idx), len(idx))
	for a, i := range idx {
		for b, j := range idx {
			s[a][b] = m[i][j]
		}
	}
	return s
}
