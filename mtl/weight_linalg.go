package mtl

// Small dense linear-algebra helpers shared by the Weighting strategies.
//
// Every gradient-manipulation strategy works on the T x T Gram matrix
// M = G G^T of the task gradients (G has one row per task): a direction
// d = sum_i c_i g_i has d.g_j = (M c)_j and ||d||^2 = c^T M c, so all the
// projections, cosines and norms the papers compute on P-dimensional
// vectors can be computed exactly on T-dimensional coefficient vectors.
// T is small (a handful of tasks), so the helpers favour robustness and
// exactness over asymptotic speed.

import (
	"fmt"
	"math"
	"sort"
)

// wDot is the inner product of two equal-length vectors.
func wDot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// wNorm is the Euclidean norm.
func wNorm(a []float64) float64 { return math.Sqrt(wDot(a, a)) }

// wOnes is a vector of n ones.
func wOnes(n int) []float64 { return wFill(n, 1) }

// wFill is a vector of n copies of v.
func wFill(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// wZeros is an r x c zero matrix.
func wZeros(r, c int) [][]float64 {
	m := make([][]float64, r)
	for i := range m {
		m[i] = make([]float64, c)
	}
	return m
}

// wIdentity is the n x n identity.
func wIdentity(n int) [][]float64 {
	m := wZeros(n, n)
	for i := range m {
		m[i][i] = 1
	}
	return m
}

// wGram is the Gram matrix M_ij = g_i . g_j of the rows of grads.
func wGram(grads [][]float64) [][]float64 {
	t := len(grads)
	m := wZeros(t, t)
	for i := 0; i < t; i++ {
		for j := i; j < t; j++ {
			v := wDot(grads[i], grads[j])
			m[i][j], m[j][i] = v, v
		}
	}
	return m
}

// wMatVec is M x.
func wMatVec(m [][]float64, x []float64) []float64 {
	out := make([]float64, len(m))
	for i := range m {
		out[i] = wDot(m[i], x)
	}
	return out
}

// wQuad is x^T M x (the squared norm of sum_i x_i g_i when M is a Gram matrix).
func wQuad(m [][]float64, x []float64) float64 { return wDot(x, wMatVec(m, x)) }

// wMaxDiag is the largest diagonal entry (the largest squared gradient norm
// when M is a Gram matrix).
func wMaxDiag(m [][]float64) float64 {
	best := 0.0
	for i := range m {
		if m[i][i] > best {
			best = m[i][i]
		}
	}
	return best
}

// wScaled returns M / s.
func wScaled(m [][]float64, s float64) [][]float64 {
	out := wZeros(len(m), len(m))
	for i := range m {
		for j := range m[i] {
			out[i][j] = m[i][j] / s
		}
	}
	return out
}

// wCombine is sum_i c_i g_i.
func wCombine(grads [][]float64, c []float64) []float64 {
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

// wSoftmax is the numerically stable softmax.
func wSoftmax(x []float64) []float64 {
	out := make([]float64, len(x))
	if len(x) == 0 {
		return out
	}
	mx := x[0]
	for _, v := range x {
		if v > mx {
			mx = v
		}
	}
	s := 0.0
	for i, v := range x {
		out[i] = math.Exp(v - mx)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// wIsZeroGrad reports whether task i's gradient is negligible relative to
// the largest one (squared norm at most 1e-24 of the largest squared norm,
// i.e. a norm ratio of 1e-12), or all gradients are exactly zero.
func wIsZeroGrad(m [][]float64, i int) bool {
	md := wMaxDiag(m)
	return md <= 0 || m[i][i] <= 1e-24*md
}

// wCheckArgs validates the arguments of a gradient-based strategy and
// returns the gradients to use. A nil (or empty) grads with losses present
// means there are no shared parameters (the trainer then passes nil): it is
// treated as T zero-length, i.e. zero, gradients. Otherwise there must be
// one gradient per loss, all of the same length; inconsistent arguments are
// a programmer error and panic.
func wCheckArgs(name string, losses []float64, grads [][]float64) [][]float64 {
	if len(grads) == 0 {
		return make([][]float64, len(losses))
	}
	if len(grads) != len(losses) {
		panic(fmt.Sprintf("mtl: %s: got %d gradients for %d losses", name, len(grads), len(losses)))
	}
	for i := range grads {
		if len(grads[i]) != len(grads[0]) {
			panic(fmt.Sprintf("mtl: %s: gradient %d has length %d, gradient 0 has %d", name, i, len(grads[i]), len(grads[0])))
		}
	}
	return grads
}

// wProjectSimplex is the Euclidean projection of v onto the probability
// simplex {x : x >= 0, sum x = 1} (sort-based algorithm of Duchi,
// Shalev-Shwartz, Singer & Chandra 2008, Fig. 1).
func wProjectSimplex(v []float64) []float64 {
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

// wJacobiEigen diagonalises the symmetric matrix a with the cyclic Jacobi
// rotation method. It returns the eigenvalues in descending order and the
// matching orthonormal eigenvectors as the columns of vecs
// (a = vecs diag(vals) vecs^T). a is not modified.
func wJacobiEigen(a [][]float64) (vals []float64, vecs [][]float64) {
	n := len(a)
	m := wZeros(n, n)
	frob := 0.0
	for i := range a {
		copy(m[i], a[i])
		for j := range a[i] {
			frob += a[i][j] * a[i][j]
		}
	}
	v := wIdentity(n)
	for sweep := 0; sweep < 100; sweep++ {
		off := 0.0
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				off += m[p][q] * m[p][q]
			}
		}
		if off == 0 || off <= 1e-34*frob {
			break
		}
		for p := 0; p < n-1; p++ {
			for q := p + 1; q < n; q++ {
				apq := m[p][q]
				if apq == 0 {
					continue
				}
				theta := (m[q][q] - m[p][p]) / (2 * apq)
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if math.IsInf(theta*theta, 1) {
					t = 1 / (2 * math.Abs(theta))
				}
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < n; k++ { // m = m J
					mkp, mkq := m[k][p], m[k][q]
					m[k][p] = c*mkp - s*mkq
					m[k][q] = s*mkp + c*mkq
				}
				for k := 0; k < n; k++ { // m = J^T m
					mpk, mqk := m[p][k], m[q][k]
					m[p][k] = c*mpk - s*mqk
					m[q][k] = s*mpk + c*mqk
				}
				m[p][q], m[q][p] = 0, 0
				for k := 0; k < n; k++ { // v = v J
					vkp, vkq := v[k][p], v[k][q]
					v[k][p] = c*vkp - s*vkq
					v[k][q] = s*vkp + c*vkq
				}
			}
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return m[order[x]][order[x]] > m[order[y]][order[y]] })
	vals = make([]float64, n)
	vecs = wZeros(n, n)
	for k, o := range order {
		vals[k] = m[o][o]
		for i := 0; i < n; i++ {
			vecs[i][k] = v[i][o]
		}
	}
	return vals, vecs
}

// wSolve solves the square system A x = b by Gaussian elimination with
// partial pivoting. ok is false when A is (numerically) singular: a pivot
// below 1e-13 times the largest entry of A.
func wSolve(a [][]float64, b []float64) (x []float64, ok bool) {
	n := len(b)
	m := wZeros(n, n+1)
	scale := 0.0
	for i := 0; i < n; i++ {
		copy(m[i], a[i])
		m[i][n] = b[i]
		for j := 0; j < n; j++ {
			scale = math.Max(scale, math.Abs(a[i][j]))
		}
	}
	if scale == 0 || math.IsNaN(scale) || math.IsInf(scale, 0) {
		return nil, false
	}
	for col := 0; col < n; col++ {
		p := col
		for r := col + 1; r < n; r++ {
			if math.Abs(m[r][col]) > math.Abs(m[p][col]) {
				p = r
			}
		}
		if math.Abs(m[p][col]) <= 1e-13*scale {
			return nil, false
		}
		m[col], m[p] = m[p], m[col]
		for r := col + 1; r < n; r++ {
			f := m[r][col] / m[col][col]
			if f == 0 {
				continue
			}
			for k := col; k <= n; k++ {
				m[r][k] -= f * m[col][k]
			}
		}
	}
	x = make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := m[i][n]
		for k := i + 1; k < n; k++ {
			s -= m[i][k] * x[k]
		}
		x[i] = s / m[i][i]
	}
	return x, true
}

// wPinvSolve returns the minimum-norm least-squares solution of A x = b
// for a symmetric (possibly singular or indefinite) A, through its
// eigendecomposition; eigenvalues below 1e-12 * n * max|eigenvalue| are
// treated as zero.
func wPinvSolve(a [][]float64, b []float64) []float64 {
	n := len(b)
	vals, vecs := wJacobiEigen(a)
	mx := 0.0
	for _, l := range vals {
		mx = math.Max(mx, math.Abs(l))
	}
	x := make([]float64, n)
	if mx == 0 {
		return x
	}
	tol := 1e-12 * float64(n) * mx
	for k, l := range vals {
		if math.Abs(l) <= tol {
			continue
		}
		proj := 0.0
		for i := 0; i < n; i++ {
			proj += vecs[i][k] * b[i]
		}
		proj /= l
		for i := 0; i < n; i++ {
			x[i] += proj * vecs[i][k]
		}
	}
	return x
}

// wSub extracts the principal submatrix M[idx][idx].
func wSub(m [][]float64, idx []int) [][]float64 {
	s := wZeros(len(idx), len(idx))
	for a, i := range idx {
		for b, j := range idx {
			s[a][b] = m[i][j]
		}
	}
	return s
}

// wNNLSGram minimises 1/2 w^T M w + b^T w subject to w >= 0, for a
// symmetric positive semi-definite M. With M = J J^T and b = J y this is the
// non-negative least-squares problem min_{w>=0} 1/2 ||J^T w + y||^2, solved
// here by the Lawson-Hanson active-set method (Lawson & Hanson 1974,
// "Solving Least Squares Problems", ch. 23) written on the normal equations
// (the passive-set subproblems use a pseudo-inverse so that rank-deficient
// Gram matrices are handled), followed by a few projected coordinate-descent
// sweeps that clean up rounding. The KKT conditions (M w + b >= 0,
// w >= 0, w_i (M w + b)_i = 0) hold to rounding at the end.
func wNNLSGram(m [][]float64, b []float64) []float64 {
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
		g := wMatVec(m, w)
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
			z := wPinvSolve(wSub(m, idx), rhs)
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
			gi := wDot(m[i], w) + b[i]
			w[i] = math.Max(0, w[i]-gi/m[i][i])
		}
	}
	return w
}

// wMinNorm2 returns the weight gamma in [0, 1] on the first vector of the
// minimum-norm point gamma*v1 + (1-gamma)*v2 of the segment between two
// vectors, given aa = v1.v1, ab = v1.v2 and bb = v2.v2 (Sener & Koltun 2018,
// Algorithm 1, in closed form).
func wMinNorm2(aa, ab, bb float64) float64 {
	if ab >= aa {
		return 1
	}
	if ab >= bb {
		return 0
	}
	return (bb - ab) / (aa + bb - 2*ab)
}

// wMinNormHull returns the convex weights alpha (alpha >= 0, sum 1) of the
// minimum-norm point of the convex hull of the vectors whose Gram matrix is
// M, computed exactly (up to rounding) by Wolfe's minimum-norm-point
// algorithm (Wolfe 1976, "Finding the nearest point in a polytope", Math.
// Programming 11) written on the Gram matrix. At the solution
// (M alpha)_i >= alpha^T M alpha for every i, with equality where
// alpha_i > 0.
func wMinNormHull(m [][]float64) []float64 {
	n := len(m)
	if n == 0 {
		return nil
	}
	md := wMaxDiag(m)
	if n == 1 || md <= 0 {
		return wFill(n, 1/float64(n))
	}
	m = wScaled(m, md) // the weights are invariant to scaling M
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
		ml := wMatVec(m, lam)
		xx := wDot(lam, ml)
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
			mu := wAffineMinimizer(m, set)
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
		return wFill(n, 1/float64(n))
	}
	for i := range lam {
		lam[i] /= sum
	}
	return lam
}

// wAffineMinimizer returns the weights mu (sum 1, any sign) of the
// minimum-norm point of the affine hull of the vectors indexed by set:
// the solution of [M_SS 1; 1^T 0] [mu; -nu] = [0; 1].
func wAffineMinimizer(m [][]float64, set []int) []float64 {
	k := len(set)
	if k == 1 {
		return []float64{1}
	}
	a := wZeros(k+1, k+1)
	rhs := make([]float64, k+1)
	for i, si := range set {
		for j, sj := range set {
			a[i][j] = m[si][sj]
		}
		a[i][k], a[k][i] = 1, 1
	}
	rhs[k] = 1
	x, ok := wSolve(a, rhs)
	if !ok {
		x = wPinvSolve(a, rhs)
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

// wAdam is the Adam update rule (Kingma & Ba 2015) with PyTorch semantics
// (bias-corrected moments; weight decay added to the gradient as an L2
// term, as torch.optim.Adam's weight_decay does). Used by the strategies
// that learn their own parameters (UW, GradNorm, FAMO).
type wAdam struct {
	lr, beta1, beta2, eps, weightDecay float64
	m, v                               []float64
	t                                  int
}

func newWAdam(lr, weightDecay float64) *wAdam {
	return &wAdam{lr: lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: weightDecay}
}

// step updates params in place with gradient grad.
func (a *wAdam) step(params, grad []float64) {
	if len(a.m) != len(params) {
		a.m = make([]float64, len(params))
		a.v = make([]float64, len(params))
		a.t = 0
	}
	a.t++
	bc1 := 1 - math.Pow(a.beta1, float64(a.t))
	bc2 := 1 - math.Pow(a.beta2, float64(a.t))
	for i := range params {
		g := grad[i] + a.weightDecay*params[i]
		a.m[i] = a.beta1*a.m[i] + (1-a.beta1)*g
		a.v[i] = a.beta2*a.v[i] + (1-a.beta2)*g*g
		params[i] -= a.lr * (a.m[i] / bc1) / (math.Sqrt(a.v[i]/bc2) + a.eps)
	}
}

// WeightOptimizer selects the update rule a strategy applies to its own
// learnable parameters (UW's log-variances, GradNorm's weights, FAMO's
// logits).
type WeightOptimizer int

const (
	// WeightOptAdam is Adam (beta1 0.9, beta2 0.999, eps 1e-8, PyTorch
	// semantics).
	WeightOptAdam WeightOptimizer = iota
	// WeightOptSGD is plain gradient descent p -= lr * (grad + wd * p).
	WeightOptSGD
)

// wParamStep applies one update of the chosen optimizer.
func wParamStep(opt WeightOptimizer, adam **wAdam, lr, wd float64, params, grad []float64) {
	if opt == WeightOptSGD {
		for i := range params {
			params[i] -= lr * (grad[i] + wd*params[i])
		}
		return
	}
	if *adam == nil || (*adam).lr != lr || (*adam).weightDecay != wd {
		if *adam == nil {
			*adam = newWAdam(lr, wd)
		} else {
			(*adam).lr, (*adam).weightDecay = lr, wd
		}
	}
	(*adam).step(params, grad)
}
