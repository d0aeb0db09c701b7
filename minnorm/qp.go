package minnorm

import (
	"math"
	"sort"
)

// ProjectSimplex is the Euclidean projection of v onto the probability
// simplex {x : x >= 0, sum x = 1} (sort-based algorithm of Duchi,
// Shalev-Shwartz, Singer & Chandra 2008, Fig. 1).
func ProjectSimplex(v []float64) []float64 {
	n := len(v)
	u := append([]float64(nil), v...)
	sort.Sort(sort.Reverse(sort.Float64Slice(u)))
	css, theta := 0.0, 0.0
	for i := 0; i < n; i++ {
		css += u[i]
		t := (css - 1) / float64(i+1)
		if u[i]-t > 0 {
			theta = t
		}
	}
	out := make([]float64, n)
	for i := range v {
		out[i] = math.Max(v[i]-theta, 0)
	}
	return out
}

// NNLSGram minimises 1/2 w^T M w + b^T w subject to w >= 0, for a
// symmetric positive semi-definite M. With M = J J^T and b = J y this is the
// non-negative least-squares problem min_{w>=0} 1/2 ||J^T w + y||^2, solved
// here by the Lawson-Hanson active-set method (Lawson & Hanson 1974,
// "Solving Least Squares Problems", ch. 23) written on the normal equations
// (the passive-set subproblems use a pseudo-inverse so that rank-deficient
// Gram matrices are handled), followed by a few projected coordinate-descent
// sweeps that clean up rounding. The KKT conditions (M w + b >= 0,
// w >= 0, w_i (M w + b)_i = 0) hold to rounding at the end.
func NNLSGram(m [][]float64, b []float64) []float64 {
	n := len(b)
	w := make([]float64, n)
	if n == 0 {
		return w
	}
	scale := 0.0
	for i := 0; i < n; i++ {
		scale = math.Max(scale, math.Abs(b[i]))
		for j := 0; j < n; j++ {
			scale = math.Max(scale, math.Abs(m[i][j]))
		}
	}
	if scale == 0 {
		return w
	}
	tol := 1e-13 * scale
	passive := make([]bool, n)
	maxIter := 3*n + 10
	for outer := 0; outer < maxIter; outer++ {
		g := MatVec(m, w)
		j, best := -1, tol
		for i := 0; i < n; i++ {
			g[i] += b[i]
			if !passive[i] && -g[i] > best {
				j, best = i, -g[i]
			}
		}
		if j < 0 {
			break
		}
		passive[j] = true
		for inner := 0; inner < maxIter; inner++ {
			var idx []int
			for i := 0; i < n; i++ {
				if passive[i] {
					idx = append(idx, i)
				}
			}
			if len(idx) == 0 {
				break
			}
			rhs := make([]float64, len(idx))
			for a, i := range idx {
				rhs[a] = -b[i]
			}
			z := PinvSolve(Sub(m, idx), rhs)
			allPos := true
			for _, v := range z {
				if !(v > 0) {
					allPos = false
					break
				}
			}
			if allPos {
				for a, i := range idx {
					w[i] = z[a]
				}
				break
			}
			// Move from w towards z until the first passive variable hits
			// zero, and make it active.
			alpha, block := 1.0, -1
			for a, i := range idx {
				if z[a] <= 0 {
					den := w[i] - z[a]
					r := 0.0
					if den > 0 {
						r = w[i] / den
					}
					if r < alpha || block < 0 {
						alpha, block = r, i
					}
				}
			}
			for a, i := range idx {
				w[i] += alpha * (z[a] - w[i])
			}
			w[block] = 0
			for _, i := range idx {
				if w[i] <= 0 {
					w[i] = 0
					passive[i] = false
				}
			}
		}
	}
	// Projected coordinate descent polish (monotone; exact minimisation
	// along each coordinate).
	for sweep := 0; sweep < 20; sweep++ {
		for i := 0; i < n; i++ {
			if m[i][i] <= 0 {
				continue
			}
			gi := Dot(m[i], w) + b[i]
			w[i] = math.Max(0, w[i]-gi/m[i][i])
		}
	}
	return w
}

// MinNorm2 returns the weight gamma in [0, 1] on the first vector of the
// minimum-norm point gamma*v1 + (1-gamma)*v2 of the segment between two
// vectors, given aa = v1.v1, ab = v1.v2 and bb = v2.v2 (Sener & Koltun 2018,
// Algorithm 1, in closed form).
func MinNorm2(aa, ab, bb float64) float64 {
	if ab >= aa {
		return 1
	}
	if ab >= bb {
		return 0
	}
	return (bb - ab) / (aa + bb - 2*ab)
}

// Hull returns the convex weights alpha (alpha >= 0, sum 1) of the
// minimum-norm point of the convex hull of the vectors whose Gram matrix is
// M, computed exactly (up to rounding) by Wolfe's minimum-norm-point
// algorithm (Wolfe 1976, "Finding the nearest point in a polytope", Math.
// Programming 11) written on the Gram matrix. At the solution
// (M alpha)_i >= alpha^T M alpha for every i, with equality where
// alpha_i > 0.
func Hull(m [][]float64) []float64 {
	n := len(m)
	if n == 0 {
		return nil
	}
	md := MaxDiag(m)
	if n == 1 || md <= 0 {
		return fill(n, 1/float64(n))
	}
	m = Scaled(m, md) // the weights are invariant to scaling M
	lam := make([]float64, n)
	j0 := 0
	for i := 1; i < n; i++ {
		if m[i][i] < m[j0][j0] {
			j0 = i
		}
	}
	lam[j0] = 1
	set := []int{j0}
	const tol = 1e-13
	for major := 0; major < 20*n+20; major++ {
		ml := MatVec(m, lam)
		xx := Dot(lam, ml)
		j := 0
		for i := 1; i < n; i++ {
			if ml[i] < ml[j] {
				j = i
			}
		}
		if xx-ml[j] <= tol {
			break
		}
		in := false
		for _, s := range set {
			if s == j {
				in = true
			}
		}
		if in {
			break
		}
		set = append(set, j)
		for minor := 0; minor < 4*n+4; minor++ {
			mu := affineMinimizer(m, set)
			allPos := true
			for _, v := range mu {
				if !(v > 1e-15) {
					allPos = false
					break
				}
			}
			if allPos {
				for a, s := range set {
					lam[s] = mu[a]
				}
				break
			}
			theta, block := 1.0, -1
			for a, s := range set {
				if mu[a] <= 1e-15 {
					den := lam[s] - mu[a]
					r := 0.0
					if den > 0 {
						r = lam[s] / den
					}
					if r < theta || block < 0 {
						theta, block = r, s
					}
				}
			}
			for a, s := range set {
				lam[s] = (1-theta)*lam[s] + theta*mu[a]
			}
			lam[block] = 0
			kept := set[:0]
			for _, s := range set {
				if lam[s] > 0 {
					kept = append(kept, s)
				} else {
					lam[s] = 0
				}
			}
			set = kept
			if len(set) <= 1 {
				break
			}
		}
	}
	sum := 0.0
	for i := range lam {
		lam[i] = math.Max(lam[i], 0)
		sum += lam[i]
	}
	if !(sum > 0) {
		return fill(n, 1/float64(n))
	}
	for i := range lam {
		lam[i] /= sum
	}
	return lam
}

// HullFrankWolfe approximates Hull by Sener & Koltun's (2018) Algorithm 2 (Frank-Wolfe) on the Gram
// matrix: alpha = 1/T; repeat: t = argmin_r (M alpha)_r, exact line search
// gamma = argmin ||(1-gamma) theta + gamma g_t||^2 on [0, 1], alpha <-
// (1-gamma) alpha + gamma e_t; stop after maxIter steps or when
// ||change||_1 < stop.
func HullFrankWolfe(m [][]float64, maxIter int, stop float64) []float64 {
	t := len(m)
	alpha := fill(t, 1/float64(t))
	if t <= 1 {
		return alpha
	}
	if t == 2 {
		a := MinNorm2(m[0][0], m[0][1], m[1][1])
		return []float64{a, 1 - a}
	}
	if maxIter <= 0 {
		maxIter = 250
	}
	for it := 0; it < maxIter; it++ {
		ma := MatVec(m, alpha)
		best := 0
		for r := 1; r < t; r++ {
			if ma[r] < ma[best] {
				best = r
			}
		}
		// gamma here is the weight kept on the current iterate theta.
		keep := MinNorm2(Dot(alpha, ma), ma[best], m[best][best])
		change := 0.0
		for r := range alpha {
			na := keep * alpha[r]
			if r == best {
				na += 1 - keep
			}
			change += math.Abs(na - alpha[r])
			alpha[r] = na
		}
		if change < stop {
			break
		}
	}
	return alpha
}

// affineMinimizer returns the weights mu (sum 1, any sign) of the
// minimum-norm point of the affine hull of the vectors indexed by set:
// the solution of [M_SS 1; 1^T 0] [mu; -nu] = [0; 1].
func affineMinimizer(m [][]float64, set []int) []float64 {
	k := len(set)
	if k == 1 {
		return []float64{1}
	}
	a := Zeros(k+1, k+1)
	rhs := make([]float64, k+1)
	for i, si := range set {
		for j, sj := range set {
			a[i][j] = m[si][sj]
		}
		a[i][k], a[k][i] = 1, 1
	}
	rhs[k] = 1
	x, ok := Solve(a, rhs)
	if !ok {
		x = PinvSolve(a, rhs)
	}
	mu := x[:k]
	s := 0.0
	for _, v := range mu {
		s += v
	}
	if s != 0 && !math.IsNaN(s) {
		for i := range mu {
			mu[i] /= s
		}
	}
	return mu
}

// fill is a vector of n copies of v.
func fill(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}
