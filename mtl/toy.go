package mtl

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/metalearn/metalearn/minnorm"
	"github.com/metalearn/metalearn/plots"
)

// ToyProblem is the two-objective problem on R^2 of Liu et al., "Conflict-
// Averse Gradient Descent for Multi-task Learning" (NeurIPS 2021, the toy
// example of section 5 / appendix; also used by Nash-MTL, Navon et al.
// 2022, and FAMO, Liu et al. 2023). With x = (x1, x2), LOWER = 5e-6,
//
//	f1 = log(max(|0.5(-x1-7) - tanh(-x2)|, LOWER)) + 6
//	f2 = log(max(|0.5(-x1+3) + tanh(-x2) + 2|, LOWER)) + 6
//	g1 = ((-x1+7)^2 + 0.1(-x2-8)^2)/10 - 20
//	g2 = ((-x1-7)^2 + 0.1(-x2-8)^2)/10 - 20
//	c1 = max(tanh(x2/2), 0),  c2 = max(tanh(-x2/2), 0)
//	L1 = Scale * (c1 f1 + c2 g1),  L2 = c1 f2 + c2 g2.
//
// For x2 > 0 the losses are the two log "valleys" (flat, badly scaled
// regions where the gradients conflict); for x2 < 0 they are two
// quadratics centred at x1 = 7 and x1 = -7. Scale = 1 is the CAGrad
// problem, Scale = 0.1 the Nash-MTL variant (imbalanced losses).
//
// The Pareto set lies in x2 < 0, where c1 = 0: with L = c2(x2) Q, Q =
// lambda g1 + (1-lambda) g2, Pareto stationarity lambda grad L1 +
// (1-lambda) grad L2 = 0 (unscaled) gives x1 = 14 lambda - 7 and
// c2'(x2) Q + c2(x2) dQ/dx2 = 0, which has one root in x2 < -8
// (about -8.36) for every lambda in [0, 1]. ParetoSet solves it.
type ToyProblem struct {
	Scale float64 // weight of L1 (0 is taken as 1)
}

const toyLower = 5e-6

func (p ToyProblem) scale() float64 {
	if p.Scale == 0 {
		return 1
	}
	return p.Scale
}

// Eval returns the losses and their gradients g[i] = dL_i/dx at x (where a
// max(., LOWER) or max(., 0) is active at its boundary, the gradient
// follows torch.clamp's convention: it passes through).
func (p ToyProblem) Eval(x1, x2 float64) (l [2]float64, g [2][2]float64) {
	th := math.Tanh(x2)
	sech2 := 1 - th*th
	// log valleys: d log|a| = da / a (zero where the clamp is active)
	a1 := -0.5*x1 - 3.5 + th // 0.5(-x1-7) - tanh(-x2)
	a2 := -0.5*x1 + 3.5 - th // 0.5(-x1+3) + tanh(-x2) + 2
	f1, f2 := math.Log(toyLower)+6, math.Log(toyLower)+6
	var df1, df2 [2]float64
	if math.Abs(a1) > toyLower {
		f1 = math.Log(math.Abs(a1)) + 6
		df1 = [2]float64{-0.5 / a1, sech2 / a1}
	}
	if math.Abs(a2) > toyLower {
		f2 = math.Log(math.Abs(a2)) + 6
		df2 = [2]float64{-0.5 / a2, -sech2 / a2}
	}
	// quadratics
	q1 := ((7-x1)*(7-x1)+0.1*(x2+8)*(x2+8))/10 - 20
	q2 := ((x1+7)*(x1+7)+0.1*(x2+8)*(x2+8))/10 - 20
	dq1 := [2]float64{(x1 - 7) / 5, 0.02 * (x2 + 8)}
	dq2 := [2]float64{(x1 + 7) / 5, 0.02 * (x2 + 8)}
	// gates
	th2 := math.Tanh(x2 / 2)
	d2 := 0.5 * (1 - th2*th2)
	c1, c2, dc1, dc2 := 0.0, 0.0, 0.0, 0.0
	// max(t, 0) passes the gradient where t >= 0, as torch.clamp does:
	// at x2 = 0 both gates are 0 but both carry their slopes, so the
	// origin is not a stationary point.
	if th2 >= 0 {
		c1, dc1 = th2, d2
	}
	if th2 <= 0 {
		c2, dc2 = -th2, -d2
	}
	s := p.scale()
	l[0] = s * (c1*f1 + c2*q1)
	l[1] = c1*f2 + c2*q2
	g[0] = [2]float64{s * (c1*df1[0] + c2*dq1[0]), s * (c1*df1[1] + dc1*f1 + c2*dq1[1] + dc2*q1)}
	g[1] = [2]float64{c1*df2[0] + c2*dq2[0], c1*df2[1] + dc1*f2 + c2*dq2[1] + dc2*q2}
	return l, g
}

// ToyStarts are the usual starting points of the toy experiments.
var ToyStarts = [][2]float64{{-8.5, 7.5}, {-8.5, -5}, {0, 0}, {9, 9}, {10, -8}}

// ToyMethods are the weightings that apply to the toy problem (methods
// whose coefficients come from the gradients, plus EW, RLW and FAMO).
// Loss-based methods that assume positive losses (UW, GLS, DB-MTL, DWA,
// GradNorm's loss ratios) are left out: the toy losses are negative.
var ToyMethods = []string{"ew", "mgda", "pcgrad", "gradvac", "cagrad", "imtl", "nashmtl", "alignedmtl", "upgrad", "famo", "rlw"}

// ParetoSet returns n points of the Pareto set, lambda = 0..1 (weight of
// the unscaled L1): x1 = 14 lambda - 7 and x2 the root of the x2
// stationarity condition in [-12, -8], found by bisection.
func (p ToyProblem) ParetoSet(n int) [][2]float64 {
	n = max(n, 2)
	out := make([][2]float64, n)
	for k := range out {
		lam := float64(k) / float64(n-1)
		x1 := 14*lam - 7
		h := func(x2 float64) float64 { // d/dx2 of lambda L1 + (1-lambda) L2, unscaled, x2 < 0
			_, g := ToyProblem{Scale: 1}.Eval(x1, x2)
			return lam*g[0][1] + (1-lam)*g[1][1]
		}
		lo, hi := -12.0, -8.0
		for range 200 {
			mid := (lo + hi) / 2
			if (h(mid) > 0) == (h(hi) > 0) {
				hi = mid
			} else {
				lo = mid
			}
		}
		out[k] = [2]float64{x1, (lo + hi) / 2}
	}
	return out
}

// ToyRun is one optimisation run of the toy problem.
type ToyRun struct {
	Method     string       `json:"method"`
	Start      [2]float64   `json:"start"`
	Final      [2]float64   `json:"final"`
	FinalLoss  [2]float64   `json:"final_losses"`
	Path       [][2]float64 `json:"path"` // every Record-th iterate, first and last included
	DistPareto float64      `json:"dist_to_pareto_set"`
	// Stationarity is min over lambda in [0,1] of ||lambda g1 + (1-lambda) g2||
	// at the final point (0 at a Pareto-stationary point).
	Stationarity float64 `json:"pareto_stationarity"`
	Reached      bool    `json:"reached_front"`
	Seconds      float64 `json:"seconds"`
}

// ToyConfig configures RunToy.
type ToyConfig struct {
	Steps  int     // Adam steps (default 100,000)
	LR     float64 // Adam learning rate (default 1e-3)
	Record int     // keep every Record-th iterate (default Steps/500)
	// Tol is the distance (in x) to the Pareto set below which a run counts
	// as having reached the front (default 0.05).
	Tol  float64
	Seed uint64
}

func (c ToyConfig) withDefaults() ToyConfig {
	if c.Steps <= 0 {
		c.Steps = 100000
	}
	if !(c.LR > 0) {
		c.LR = 1e-3
	}
	if c.Record <= 0 {
		c.Record = max(c.Steps/500, 1)
	}
	if !(c.Tol > 0) {
		c.Tol = 0.05
	}
	return c
}

// RunToy optimises the toy problem from start with the weighting method:
// every step the update direction is sum_i c_i grad L_i with c from the
// weighting, applied by Adam (PyTorch semantics), as the reference
// implementations do. FAMO gets lower bounds Lmin = -21 * scale_i (below
// the losses' infimum -20 * scale_i) since its log(L - Lmin) needs
// positive arguments.
func (p ToyProblem) RunToy(method string, start [2]float64, cfg ToyConfig) (*ToyRun, error) {
	cfg = cfg.withDefaults()
	w, err := ByName(method, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if f, ok := w.(*FAMO); ok {
		f.MinLosses = []float64{-21 * p.scale(), -21}
	}
	begin := time.Now()
	x := []float64{start[0], start[1]}
	opt := newParamAdam(cfg.LR, 0)
	r := &ToyRun{Method: w.Name(), Start: start}
	grads := [][]float64{make([]float64, 2), make([]float64, 2)}
	upd := make([]float64, 2)
	for step := 0; step < cfg.Steps; step++ {
		if step%cfg.Record == 0 {
			r.Path = append(r.Path, [2]float64{x[0], x[1]})
		}
		l, g := p.Eval(x[0], x[1])
		grads[0][0], grads[0][1], grads[1][0], grads[1][1] = g[0][0], g[0][1], g[1][0], g[1][1]
		var c []float64
		if w.NeedsGrads() {
			c = w.Weights(step, l[:], grads)
		} else {
			c = w.Weights(step, l[:], nil)
		}
		if len(c) != 2 || !finiteAll(c) {
			return nil, fmt.Errorf("mtl: toy: %s gave coefficients %v at step %d, x = %v", w.Name(), c, step, x)
		}
		upd[0] = c[0]*g[0][0] + c[1]*g[1][0]
		upd[1] = c[0]*g[0][1] + c[1]*g[1][1]
		opt.step(x, upd)
	}
	r.Final = [2]float64{x[0], x[1]}
	r.Path = append(r.Path, r.Final)
	l, g := p.Eval(x[0], x[1])
	r.FinalLoss = l
	gam := minnorm.MinNorm2(dot2(g[0], g[0]), dot2(g[0], g[1]), dot2(g[1], g[1]))
	r.Stationarity = math.Hypot(gam*g[0][0]+(1-gam)*g[1][0], gam*g[0][1]+(1-gam)*g[1][1])
	r.DistPareto = DistToSet(r.Final, p.ParetoSet(2001))
	r.Reached = r.DistPareto < cfg.Tol
	r.Seconds = time.Since(begin).Seconds()
	return r, nil
}

func dot2(a, b [2]float64) float64 { return a[0]*b[0] + a[1]*b[1] }

func finiteAll(xs []float64) bool {
	for _, v := range xs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// DistToSet is the Euclidean distance from x to the polyline through pts.
func DistToSet(x [2]float64, pts [][2]float64) float64 {
	best := math.Inf(1)
	for i := 0; i+1 < len(pts); i++ {
		a, b := pts[i], pts[i+1]
		ab := [2]float64{b[0] - a[0], b[1] - a[1]}
		ax := [2]float64{x[0] - a[0], x[1] - a[1]}
		t := 0.0
		if n := dot2(ab, ab); n > 0 {
			t = math.Min(math.Max(dot2(ax, ab)/n, 0), 1)
		}
		d := math.Hypot(ax[0]-t*ab[0], ax[1]-t*ab[1])
		best = math.Min(best, d)
	}
	if len(pts) == 1 {
		best = math.Hypot(x[0]-pts[0][0], x[1]-pts[0][1])
	}
	return best
}

// PlotRuns draws one method's runs in parameter space (over contours of
// L1+L2, with the Pareto set) and in loss space (with the Pareto front), as base_x.png|svg and base_loss.png|svg.
func (p ToyProblem) PlotRuns(base, name string, runs []*ToyRun, front [][2]float64) error {
	grid := plots.Grid{}
	for i := 0; i <= 100; i++ {
		v := -10 + 20*float64(i)/100
		grid.X = append(grid.X, v)
		grid.Y = append(grid.Y, v)
	}
	for _, y := range grid.Y {
		row := make([]float64, len(grid.X))
		for j, x := range grid.X {
			l, _ := p.Eval(x, y)
			row[j] = l[0] + l[1]
		}
		grid.Z = append(grid.Z, row)
	}
	var fx, fy, fl1, fl2 []float64
	for _, q := range front {
		fx, fy = append(fx, q[0]), append(fy, q[1])
		l, _ := p.Eval(q[0], q[1])
		fl1, fl2 = append(fl1, l[0]), append(fl2, l[1])
	}
	var xpaths, lpaths []plots.Series
	for _, r := range runs {
		label := fmt.Sprintf("(%g,%g)", r.Start[0], r.Start[1])
		var xs, ys, l1, l2 []float64
		for _, q := range r.Path {
			xs, ys = append(xs, q[0]), append(ys, q[1])
			l, _ := p.Eval(q[0], q[1])
			l1, l2 = append(l1, l[0]), append(l2, l[1])
		}
		xpaths = append(xpaths, plots.Series{Name: label, X: xs, Y: ys})
		lpaths = append(lpaths, plots.Series{Name: label, X: l1, Y: l2})
	}
	if _, err := (plots.Trajectories{Title: name + ": paths in x (contours of L1+L2)", XLabel: "x1", YLabel: "x2", Contour: &grid,
		Curves: []plots.Series{{Name: "Pareto set", X: fx, Y: fy}}, Paths: xpaths}).Save(base + "_x"); err != nil {
		return err
	}
	_, err := (plots.Trajectories{Title: name + ": paths in loss space", XLabel: "L1", YLabel: "L2",
		Curves: []plots.Series{{Name: "Pareto front", X: fl1, Y: fl2}}, Paths: lpaths}).Save(base + "_loss")
	return err
}

// CheckToyMethod reports whether the weighting name applies to the toy
// problem (ToyMethods: the others assume positive losses).
func CheckToyMethod(name string) error {
	if _, err := ByName(name, 1); err != nil {
		return err
	}
	if !slices.Contains(ToyMethods, name) {
		return fmt.Errorf("%s assumes positive losses and does not apply to the toy problem (want some of %s)", name, strings.Join(ToyMethods, ","))
	}
	return nil
}
