// Package minnorm solves the small quadratic programs of gradient-based
// multi-task weighting on the T x T Gram matrix M = G G^T of T task
// gradients (G has one row per task): a direction d = sum_i c_i g_i has
// d.g_j = (M c)_j and ||d||^2 = c^T M c, so the projections, cosines,
// norms and minimum-norm points the papers compute on P-dimensional
// gradients are computed exactly on T-dimensional coefficient vectors.
//
//   - MinNorm2 and Hull: the minimum-norm point of a segment (closed form,
//     Sener & Koltun 2018, Algorithm 1) and of a convex hull (Wolfe 1976's
//     minimum-norm-point algorithm), for MGDA and its relatives;
//   - NNLSGram: non-negative least squares on the normal equations
//     (Lawson & Hanson 1974), for UPGrad's projections;
//   - ProjectSimplex: Euclidean projection onto the probability simplex
//     (Duchi et al. 2008), for CAGrad;
//   - EigenSym, Solve and PinvSolve: the symmetric eigendecomposition,
//     square solve and minimum-norm least-squares solve the strategies
//     need, through gonum/mat;
//   - Gram, MatVec, Quad, Combine, Sub, Dot, Norm, MaxDiag, Scaled: the
//     Gram-matrix arithmetic around them.
//
// T is small (a handful of tasks), so the code favours robustness and
// exactness over speed. Matrices are [][]float64 rows, as the weightings
// in package mtl hold them.
package minnorm
