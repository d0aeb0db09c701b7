package transfer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// A C-support-vector classifier on a precomputed kernel, the classifier of
// the CORAL authors' evaluation (libsvm "-t 4": precomputed kernel; C
// chosen from a grid by 2-fold cross-validation; several classes by
// one-against-one voting).
//
// The binary problem is the C-SVC dual (Cortes & Vapnik 1995)
//
//	min_a  1/2 a^T Q a - e^T a   s.t.  0 <= a_i <= C,  y^T a = 0,
//	Q_ij = y_i y_j K(x_i, x_j),
//
// solved by sequential minimal optimisation with the second-order working
// set selection of Fan, Chen & Lin (JMLR 2005, "Working set selection using
// second order information", WSS 3 with tau for non-positive curvature),
// stopping when the maximal KKT violation m(a) - M(a) < eps. The decision
// value is f(x) = sum_i a_i y_i K(x_i, x) - rho, rho from the free
// multipliers (or the midpoint of the feasible interval when none is free).
//
// The gradient is updated from row i of K (Q_i[k] = y_i y_k K[i][k]), so a
// non-symmetric kernel — as in the CORAL evaluation code, whose training
// kernel is Xs A Xs^T — is handled the way libsvm handles it.

// svmEps is the stopping tolerance on the KKT violation (libsvm's default).
const svmEps = 1e-3

// svmTau replaces a non-positive curvature in the two-variable subproblem.
const svmTau = 1e-12

// binarySVM solves the dual for the rows idx of the square kernel k (row
// major, n x n) with labels y (+1/-1, one per idx) and returns the
// multipliers and rho.
func binarySVM(k []float64, n int, idx []int, y []float64, c float64) (alpha []float64, rho float64) {
	m := len(idx)
	kk := func(a, b int) float64 { return k[idx[a]*n+idx[b]] }
	alpha = make([]float64, m)
	g := make([]float64, m) // gradient of the dual objective: Q a - e
	for i := range g {
		g[i] = -1
	}
	qd := make([]float64, m)
	for i := range qd {
		qd[i] = kk(i, i)
	}
	upper := func(t int) bool { return alpha[t] >= c }
	lower := func(t int) bool { return alpha[t] <= 0 }
	maxIter := max(10000000, 100*m)
	for iter := 0; iter < maxIter; iter++ {
		// i: the maximal violator in I_up.
		gmax, i := math.Inf(-1), -1
		for t := 0; t < m; t++ {
			if (y[t] > 0 && !upper(t)) || (y[t] < 0 && !lower(t)) {
				if v := -y[t] * g[t]; v >= gmax {
					gmax, i = v, t
				}
			}
		}
		// j: in I_low, the largest second-order decrease.
		gmax2, j, best := math.Inf(-1), -1, math.Inf(1)
		for t := 0; t < m; t++ {
			if !((y[t] > 0 && !lower(t)) || (y[t] < 0 && !upper(t))) {
				continue
			}
			yg := y[t] * g[t]
			gmax2 = max(gmax2, yg)
			if i < 0 {
				continue
			}
			diff := gmax + yg
			if diff <= 0 {
				continue
			}
			quad := qd[i] + qd[t] - 2*kk(i, t)
			if quad <= 0 {
				quad = svmTau
			}
			if obj := -diff * diff / quad; obj <= best {
				best, j = obj, t
			}
		}
		if i < 0 || j < 0 || gmax+gmax2 < svmEps {
			break
		}
		qij := y[i] * y[j] * kk(i, j)
		ai, aj := alpha[i], alpha[j]
		if y[i] != y[j] {
			quad := qd[i] + qd[j] + 2*qij
			if quad <= 0 {
				quad = svmTau
			}
			delta := (-g[i] - g[j]) / quad
			diff := ai - aj
			alpha[i] += delta
			alpha[j] += delta
			if diff > 0 {
				if alpha[j] < 0 {
					alpha[j], alpha[i] = 0, diff
				}
			} else if alpha[i] < 0 {
				alpha[i], alpha[j] = 0, -diff
			}
			if diff > 0 {
				if alpha[i] > c {
					alpha[i], alpha[j] = c, c-diff
				}
			} else if alpha[j] > c {
				alpha[j], alpha[i] = c, c+diff
			}
		} else {
			quad := qd[i] + qd[j] - 2*qij
			if quad <= 0 {
				quad = svmTau
			}
			delta := (g[i] - g[j]) / quad
			sum := ai + aj
			alpha[i] -= delta
			alpha[j] += delta
			if sum > c {
				if alpha[i] > c {
					alpha[i], alpha[j] = c, sum-c
				}
				if alpha[j] > c {
					alpha[j], alpha[i] = c, sum-c
				}
			} else {
				if alpha[j] < 0 {
					alpha[j], alpha[i] = 0, sum
				}
				if alpha[i] < 0 {
					alpha[i], alpha[j] = 0, sum
				}
			}
		}
		di, dj := alpha[i]-ai, alpha[j]-aj
		for t := 0; t < m; t++ {
			g[t] += y[i]*y[t]*kk(i, t)*di + y[j]*y[t]*kk(j, t)*dj
		}
	}
	// rho: the mean of y_t g_t over free multipliers, else the midpoint.
	ub, lb, sum, free := math.Inf(1), math.Inf(-1), 0.0, 0
	for t := 0; t < m; t++ {
		yg := y[t] * g[t]
		switch {
		case upper(t):
			if y[t] < 0 {
				ub = min(ub, yg)
			} else {
				lb = max(lb, yg)
			}
		case lower(t):
			if y[t] > 0 {
				ub = min(ub, yg)
			} else {
				lb = max(lb, yg)
			}
		default:
			free++
			sum += yg
		}
	}
	if free > 0 {
		return alpha, sum / float64(free)
	}
	return alpha, (ub + lb) / 2
}

// svmModel is a one-against-one set of binary classifiers.
type svmModel struct {
	classes int
	pairs   []svmPair
}

type svmPair struct {
	a, b int       // class a is +1, b is -1
	idx  []int     // training rows
	coef []float64 // alpha_i y_i
	rho  float64
}

// trainSVM fits one binary C-SVC per pair of classes on the n x n kernel k
// (row-major) of training rows with labels y in [0, classes).
func trainSVM(k []float64, y []int, classes int, c float64) (*svmModel, error) {
	n := len(y)
	if len(k) != n*n {
		return nil, fmt.Errorf("transfer: svm kernel has %d values for %d examples, want %d", len(k), n, n*n)
	}
	if !(c > 0) || math.IsInf(c, 0) {
		return nil, fmt.Errorf("transfer: svm C = %v, want a finite value > 0", c)
	}
	m := &svmModel{classes: classes}
	byClass := make([][]int, classes)
	for i, l := range y {
		if l < 0 || l >= classes {
			return nil, fmt.Errorf("transfer: svm label %d of example %d outside [0, %d)", l, i, classes)
		}
		byClass[l] = append(byClass[l], i)
	}
	for a := 0; a < classes; a++ {
		for b := a + 1; b < classes; b++ {
			if len(byClass[a]) == 0 || len(byClass[b]) == 0 {
				continue
			}
			idx := append(slices.Clone(byClass[a]), byClass[b]...)
			lab := make([]float64, len(idx))
			for t := range lab {
				lab[t] = -1
				if t < len(byClass[a]) {
					lab[t] = 1
				}
			}
			alpha, rho := binarySVM(k, n, idx, lab, c)
			p := svmPair{a: a, b: b, rho: rho}
			for t, al := range alpha {
				if al != 0 {
					p.idx = append(p.idx, idx[t])
					p.coef = append(p.coef, al*lab[t])
				}
			}
			m.pairs = append(m.pairs, p)
		}
	}
	return m, nil
}

// predict classifies rows of the kernel kt (rows x n training examples,
// row-major): kt[r*n+i] = K(x_i, x_r). Votes are tied to the lowest class.
func (m *svmModel) predict(kt []float64, n int) []int {
	rows := len(kt) / n
	out := make([]int, rows)
	votes := make([]int, m.classes)
	for r := 0; r < rows; r++ {
		clear(votes)
		row := kt[r*n : (r+1)*n]
		for _, p := range m.pairs {
			f := -p.rho
			for t, i := range p.idx {
				f += p.coef[t] * row[i]
			}
			if f > 0 {
				votes[p.a]++
			} else {
				votes[p.b]++
			}
		}
		best := 0
		for cl, v := range votes {
			if v > votes[best] {
				best = cl
			}
		}
		out[r] = best
	}
	return out
}

// svmGridC picks C from grid by stratified k-fold cross-validation on the
// training kernel (ties: the first in the grid); folds = 2 is libsvm's
// "-v 2" of the CORAL evaluation code.
func svmGridC(k []float64, y []int, classes int, grid []float64, folds int, seed uint64) (float64, error) {
	n := len(y)
	rng := rand.New(rand.NewPCG(seed, 0x73766d))
	byClass := make([][]int, classes)
	for i, l := range y {
		byClass[l] = append(byClass[l], i)
	}
	fold := make([][]int, folds)
	next := 0 // classes continue where the previous one stopped, so folds stay balanced
	for _, idx := range byClass {
		idx = slices.Clone(idx)
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx {
			fold[next%folds] = append(fold[next%folds], i)
			next++
		}
	}
	best, bestAcc := grid[0], -1.0
	for _, c := range grid {
		correct := 0
		for f := 0; f < folds; f++ {
			te := fold[f]
			var tr []int
			for g := range fold {
				if g != f {
					tr = append(tr, fold[g]...)
				}
			}
			if len(tr) == 0 || len(te) == 0 {
				continue
			}
			sub := make([]float64, len(tr)*len(tr))
			lab := make([]int, len(tr))
			for a, i := range tr {
				lab[a] = y[i]
				for b, j := range tr {
					sub[a*len(tr)+b] = k[i*n+j]
				}
			}
			m, err := trainSVM(sub, lab, classes, c)
			if err != nil {
				return 0, err
			}
			kt := make([]float64, len(te)*len(tr))
			for a, i := range te {
				for b, j := range tr {
					kt[a*len(tr)+b] = k[i*n+j] // the held-out example's row, as libsvm reads it
				}
			}
			for a, p := range m.predict(kt, len(tr)) {
				if p == y[te[a]] {
					correct++
				}
			}
		}
		if acc := float64(correct) / float64(n); acc > bestAcc {
			best, bestAcc = c, acc
		}
	}
	return best, nil
}
