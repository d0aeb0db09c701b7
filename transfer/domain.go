package transfer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/plots"
	"github.com/metalearn/metalearn/runner"
	"github.com/metalearn/metalearn/stats"
	"github.com/metalearn/metalearn/tensor"
)

// Cross-domain recognition (unsupervised domain adaptation: labelled
// source, unlabelled target) with the protocol of Gong et al. 2012 (GFK)
// used by Sun, Feng & Saenko, "Return of Frustratingly Easy Domain
// Adaptation", AAAI 2016 (CORAL) on Office-Caltech10 SURF features:
// every histogram is L1-normalised, every domain z-scored on its own
// statistics; in each of 20 rounds 20 source images per class are drawn (8
// when the source is dslr or webcam), a classifier is trained on them and
// tested on the whole target domain.

// PreprocessDomain L1-normalises every row of the raw histograms x [N, D]
// and z-scores every column with the domain's own mean and standard
// deviation (a constant column becomes 0). The result is float64.
func PreprocessDomain(x *tensor.Tensor) *tensor.Tensor {
	n, d := x.Dim(0), x.Dim(1)
	out := x.AsType(tensor.Float64).Clone()
	v := out.F64()
	for i := 0; i < n; i++ {
		row := v[i*d : (i+1)*d]
		s := 0.0
		for _, a := range row {
			s += math.Abs(a)
		}
		if s > 0 {
			for j := range row {
				row[j] /= s
			}
		}
	}
	for j := 0; j < d; j++ {
		m := 0.0
		for i := 0; i < n; i++ {
			m += v[i*d+j]
		}
		m /= float64(n)
		ss := 0.0
		for i := 0; i < n; i++ {
			ss += (v[i*d+j] - m) * (v[i*d+j] - m)
		}
		sd := 1.0
		if n > 1 && ss > 0 {
			sd = math.Sqrt(ss / float64(n-1))
		}
		for i := 0; i < n; i++ {
			v[i*d+j] = (v[i*d+j] - m) / sd
		}
	}
	return out
}

// CORAL aligns source features with the target's second-order statistics
// (Sun, Feng & Saenko 2016, Algorithm 1):
//
//	Cs = cov(Ds) + lambda*I,  Ct = cov(Dt) + lambda*I
//	Ds = Ds * Cs^(-1/2)   % whitening source
//	Ds = Ds * Ct^(1/2)    % re-colouring with target covariance
//
// The paper uses lambda = 1 ("C = cov + I"). With lambda -> 0 and full-rank
// covariances the aligned source covariance equals the target covariance
// exactly; with lambda > 0 it is Ct^(1/2) (I - lambda Cs^(-1)) Ct^(1/2)
// (the covariance of the whitened source is Cs^(-1/2) (Cs - lambda I) Cs^(-1/2)).
// xs [Ns, D], xt [Nt, D]; the result is float64 [Ns, D].
func CORAL(xs, xt *tensor.Tensor, lambda float64) (*tensor.Tensor, error) {
	ct, err := TargetColouring(xt, lambda)
	if err != nil {
		return nil, err
	}
	return coralWith(xs, ct, lambda)
}

// TargetColouring returns Ct^(1/2) = (cov(xt) + lambda I)^(1/2), the part
// of CORAL that depends on the target only (compute it once per target).
func TargetColouring(xt *tensor.Tensor, lambda float64) (*mat.Dense, error) {
	if xt.Dims() != 2 || xt.Dim(0) < 2 {
		return nil, fmt.Errorf("transfer: CORAL target features have shape %v, want [N >= 2, D]", xt.Shape())
	}
	if !(lambda >= 0) {
		return nil, fmt.Errorf("transfer: CORAL lambda = %v, want >= 0", lambda)
	}
	c := Covariance(toDense(xt))
	addRidge(c, lambda)
	return SymPow(c, 0.5)
}

func addRidge(c *mat.SymDense, lambda float64) {
	d := c.SymmetricDim()
	for i := 0; i < d; i++ {
		c.SetSym(i, i, c.At(i, i)+lambda)
	}
}

func coralWith(xs *tensor.Tensor, ctHalf *mat.Dense, lambda float64) (*tensor.Tensor, error) {
	if xs.Dims() != 2 || xs.Dim(0) < 2 {
		return nil, fmt.Errorf("transfer: CORAL source features have shape %v, want [N >= 2, D]", xs.Shape())
	}
	if d, _ := ctHalf.Dims(); d != xs.Dim(1) {
		return nil, fmt.Errorf("transfer: CORAL source has %d features, target %d; domains must share a feature space", xs.Dim(1), d)
	}
	xd := toDense(xs)
	n, d := xd.Dims()
	var white *mat.Dense // Ds * Cs^(-1/2)
	if n-1 < d && lambda > 0 {
		white = whitenLowRank(xd, lambda)
	} else {
		c := Covariance(xd)
		addRidge(c, lambda)
		csInvHalf, err := SymPow(c, -0.5)
		if err != nil {
			return nil, fmt.Errorf("transfer: CORAL source covariance: %w", err)
		}
		white = mat.NewDense(n, d, nil)
		white.Mul(xd, csInvHalf)
	}
	var out mat.Dense
	out.Mul(white, ctHalf)
	return fromDense(&out), nil
}

// whitenLowRank returns X Cs^(-1/2) for Cs = cov(X) + lambda I when X has
// fewer rows than columns, through the n x n Gram matrix instead of the
// d x d covariance. With Xc the centred rows, Xc Xc^T/(n-1) = W diag(s) W^T
// and U = Xc^T W diag(s (n-1))^(-1/2) (orthonormal columns spanning the
// covariance's range), cov(X) = U diag(s) U^T and
//
//	Cs^(-1/2) = lambda^(-1/2) I + U diag((s + lambda)^(-1/2) - lambda^(-1/2)) U^T.
func whitenLowRank(x *mat.Dense, lambda float64) *mat.Dense {
	n, d := x.Dims()
	xc := mat.DenseCopyOf(x)
	for j := 0; j < d; j++ {
		m := 0.0
		for i := 0; i < n; i++ {
			m += xc.At(i, j)
		}
		m /= float64(n)
		for i := 0; i < n; i++ {
			xc.Set(i, j, xc.At(i, j)-m)
		}
	}
	g := mat.NewSymDense(n, nil)
	g.SymOuterK(1/float64(n-1), xc)
	var es mat.EigenSym
	es.Factorize(g, true)
	vals := es.Values(nil)
	var w mat.Dense
	es.VectorsTo(&w)
	top := 0.0
	for _, v := range vals {
		top = math.Max(top, v)
	}
	var keep []int
	for j, v := range vals {
		if v > 1e-10*top && v > 0 {
			keep = append(keep, j)
		}
	}
	out := mat.DenseCopyOf(x)
	out.Scale(1/math.Sqrt(lambda), out)
	if len(keep) == 0 {
		return out
	}
	// U = Xc^T W_k diag(1/sqrt(s (n-1)))
	wk := mat.NewDense(n, len(keep), nil)
	for c, j := range keep {
		f := 1 / math.Sqrt(vals[j]*float64(n-1))
		for i := 0; i < n; i++ {
			wk.Set(i, c, w.At(i, j)*f)
		}
	}
	var u mat.Dense
	u.Mul(xc.T(), wk) // [d, r]
	var xu mat.Dense
	xu.Mul(x, &u) // [n, r]
	for c, j := range keep {
		f := 1/math.Sqrt(vals[j]+lambda) - 1/math.Sqrt(lambda)
		for i := 0; i < n; i++ {
			xu.Set(i, c, xu.At(i, c)*f)
		}
	}
	var corr mat.Dense
	corr.Mul(&xu, u.T())
	out.Add(out, &corr)
	return out
}

// MMD2 is the (biased) squared maximum mean discrepancy between the rows
// of a [n, d] and b [m, d] under a sum of Gaussian kernels
// k(x, y) = sum_s exp(-||x - y||^2 / (s * mu)), mu the mean pairwise squared
// distance of the batch (held constant; the multi-bandwidth heuristic of
// Long et al. 2015, DAN):
//
//	MMD^2 = mean k(a, a') + mean k(b, b') - 2 mean k(a, b)
//
// (Gretton et al. 2012). Differentiable in a and b.
func MMD2(a, b *autodiff.Var, scales []float64) *autodiff.Var {
	z := autodiff.Concat(0, a, b)
	sq := autodiff.Sum(autodiff.Square(z), true, 1)   // [n+m, 1]
	gram := autodiff.MatMul(z, autodiff.Transpose(z)) // [n+m, n+m]
	d2 := autodiff.Sub(autodiff.Add(sq, autodiff.Transpose(sq)), autodiff.Scale(gram, 2))
	d2 = autodiff.Relu(d2) // clamp rounding below zero
	mu := tensor.Mean(d2.Value, false).Item()
	if !(mu > 0) {
		mu = 1
	}
	n, m := a.Shape()[0], b.Shape()[0]
	var k *autodiff.Var
	for _, s := range scales {
		ks := autodiff.Exp(autodiff.Scale(d2, -1/(s*mu)))
		if k == nil {
			k = ks
		} else {
			k = autodiff.Add(k, ks)
		}
	}
	kss := autodiff.Mean(autodiff.Slice(autodiff.Slice(k, 0, 0, n), 1, 0, n), false)
	ktt := autodiff.Mean(autodiff.Slice(autodiff.Slice(k, 0, n, n+m), 1, n, n+m), false)
	kst := autodiff.Mean(autodiff.Slice(autodiff.Slice(k, 0, 0, n), 1, n, n+m), false)
	return autodiff.Sub(autodiff.Add(kss, ktt), autodiff.Scale(kst, 2))
}

// DomainConfig configures CrossDomain.
type DomainConfig struct {
	Rounds int // random source samples (default 20)
	// PerClass source examples per class (default 20), PerClassSmall when
	// the source is dslr or webcam (default 8).
	PerClass, PerClassSmall int
	// Methods to run: 1nn, source-only, coral, coral-domain (source
	// covariance from the whole, unlabelled source domain instead of the
	// sampled training set), coral-1nn, svm (one-against-one C-SVC, linear
	// kernel), coral-svm (the same on CORAL-aligned source features),
	// coral-kernel (the kernels of the CORAL authors' evaluation code:
	// training Xs A Xs^T, test Xs A Xt^T, A = Cs^(-1/2) Ct^(1/2)), mmd, coral-mmd,
	// finetune, target-only (default: 1nn, source-only, coral, mmd, finetune).
	Methods []string
	// Lambda is CORAL's ridge (default 1: C = cov + I).
	Lambda float64
	// C is the inverse regularisation of the linear classifier, as in a
	// linear SVM: the L2 weight is 1/(C * n) on the mean loss (default 1).
	C float64
	// CGrid, when set, chooses C for every linear classifier by 2-fold
	// cross-validation on its (labelled source) training set, as the CORAL
	// authors' evaluation code does for its SVM; C is then unused.
	CGrid []float64
	// CVFolds is the number of folds of that cross-validation for the svm
	// methods (default 2, as in the CORAL authors' code).
	CVFolds int
	// Steps and LR of the classifiers (default 500, 0.01 Adam, full batch).
	Steps int
	LR    float64
	// MMD: hidden width of the feature layer (default 64), penalty weight
	// gamma (default 1), target examples per step (default 128).
	MMDHidden int
	MMDGamma  float64
	MMDBatch  int
	// TargetShots labelled target examples per class for finetune and
	// target-only (default 3); those examples are left out of the test.
	TargetShots int
	Seed        uint64
	Log         func(string)
	// Progress, when set, counts the rounds (Rounds per ordered pair of
	// domains) with rate and ETA.
	Progress *runner.Progress
}

// DomainMethods lists the method names CrossDomain accepts.
var DomainMethods = []string{"1nn", "source-only", "coral", "coral-domain", "coral-1nn", "svm", "coral-svm", "coral-kernel", "mmd", "coral-mmd", "finetune", "target-only"}

// PublishedOfficeSURF are the 12-pair averages of Sun et al. 2016, Table 1
// (Office-Caltech10, SURF, linear SVM), the reference for this protocol.
var PublishedOfficeSURF = map[string]float64{"1nn": 31.4, "gfk": 43.0, "jda": 46.3, "coral": 48.8}

func (c DomainConfig) withDefaults() DomainConfig {
	if c.Rounds == 0 {
		c.Rounds = 20
	}
	if c.PerClass == 0 {
		c.PerClass = 20
	}
	if c.PerClassSmall == 0 {
		c.PerClassSmall = 8
	}
	if len(c.Methods) == 0 {
		c.Methods = []string{"1nn", "source-only", "coral", "mmd", "finetune"}
	}
	if c.Lambda == 0 {
		c.Lambda = 1
	}
	if c.C == 0 {
		c.C = 1
	}
	if c.Steps == 0 {
		c.Steps = 500
	}
	if c.LR == 0 {
		c.LR = 0.01
	}
	if c.CVFolds == 0 {
		c.CVFolds = 2
	}
	if c.MMDHidden == 0 {
		c.MMDHidden = 64
	}
	if c.MMDGamma == 0 {
		c.MMDGamma = 1
	}
	if c.MMDBatch == 0 {
		c.MMDBatch = 128
	}
	if c.TargetShots == 0 {
		c.TargetShots = 3
	}
	return c
}

func (c DomainConfig) validate() error {
	for _, m := range c.Methods {
		if !slices.Contains(DomainMethods, m) {
			return fmt.Errorf("transfer: unknown domain method %q (want %s)", m, strings.Join(DomainMethods, ", "))
		}
	}
	switch {
	case c.CVFolds < 2:
		return fmt.Errorf("transfer: cross-validation folds = %d, want >= 2", c.CVFolds)
	case c.Rounds < 1 || c.PerClass < 1 || c.PerClassSmall < 1:
		return fmt.Errorf("transfer: rounds = %d, per-class = %d, per-class-small = %d: want >= 1", c.Rounds, c.PerClass, c.PerClassSmall)
	case slices.ContainsFunc(c.CGrid, func(v float64) bool { return !(v > 0) || math.IsInf(v, 0) }):
		return fmt.Errorf("transfer: C grid %v: every value must be a finite number > 0", c.CGrid)
	case !(c.Lambda >= 0) || !(c.C > 0) || !(c.LR > 0) || c.Steps < 1:
		return fmt.Errorf("transfer: lambda = %v, C = %v, lr = %v, steps = %d: want >= 0, > 0, > 0, >= 1", c.Lambda, c.C, c.LR, c.Steps)
	case c.MMDHidden < 1 || !(c.MMDGamma >= 0) || c.MMDBatch < 2 || c.TargetShots < 1:
		return fmt.Errorf("transfer: mmd hidden = %d, gamma = %v, batch = %d, target shots = %d: want >= 1, >= 0, >= 2, >= 1", c.MMDHidden, c.MMDGamma, c.MMDBatch, c.TargetShots)
	}
	return nil
}

// MethodStat is one method's accuracy (%) on one pair over the rounds.
type MethodStat struct {
	Accuracies []float64 `json:"accuracies"`
	Mean       float64   `json:"mean"`
	SD         float64   `json:"sd"`
	CI95       float64   `json:"ci95"`
}

// DomainPair is one source -> target pair.
type DomainPair struct {
	Source  string                 `json:"source"`
	Target  string                 `json:"target"`
	Results map[string]*MethodStat `json:"results"`
}

// DomainReport is the outcome of CrossDomain; accuracies in percent.
type DomainReport struct {
	Protocol  string             `json:"protocol"`
	Methods   []string           `json:"methods"`
	Pairs     []DomainPair       `json:"pairs"`
	Average   map[string]float64 `json:"average"`
	Published map[string]float64 `json:"published_average"`
}

// CrossDomain runs every method on every ordered pair of distinct domains
// (all 12 for the four Office-Caltech domains).
func CrossDomain(domains []*data.Domain, cfg DomainConfig) (*DomainReport, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if len(domains) < 2 {
		return nil, fmt.Errorf("transfer: cross-domain recognition needs >= 2 domains, got %d", len(domains))
	}
	feats := make([]*tensor.Tensor, len(domains))
	for i, d := range domains {
		if d.X.Dims() != 2 || d.X.Dim(0) != len(d.Y) {
			return nil, fmt.Errorf("transfer: domain %s has features %v for %d labels", d.Name, d.X.Shape(), len(d.Y))
		}
		if d.X.Dim(1) != domains[0].X.Dim(1) {
			return nil, fmt.Errorf("transfer: domain %s has %d features but %s has %d; domains must share a feature space", d.Name, d.X.Dim(1), domains[0].Name, domains[0].X.Dim(1))
		}
		if len(d.ClassNames) != len(domains[0].ClassNames) {
			return nil, fmt.Errorf("transfer: domain %s has %d classes but %s has %d", d.Name, len(d.ClassNames), domains[0].Name, len(domains[0].ClassNames))
		}
		feats[i] = PreprocessDomain(d.X)
	}
	rep := &DomainReport{
		Protocol:  fmt.Sprintf("L1-normalised, per-domain z-scored features; %d rounds of %d source examples per class (%d for dslr/webcam sources); whole target domain as test (finetune/target-only: %d labelled target examples per class, tested on the rest); classifier: multinomial logistic regression, L2 = 1/(C n), C = %g, %d full-batch Adam steps; svm methods: one-against-one C-SVC, %s", cfg.Rounds, cfg.PerClass, cfg.PerClassSmall, cfg.TargetShots, cfg.C, cfg.Steps, svmC(cfg)),
		Methods:   cfg.Methods,
		Average:   map[string]float64{},
		Published: PublishedOfficeSURF,
	}
	colour := make([]*mat.Dense, len(domains))
	whiten := make([]*mat.Dense, len(domains)) // (cov(source domain) + lambda I)^(-1/2)
	needCoral := slices.ContainsFunc(cfg.Methods, func(m string) bool { return strings.HasPrefix(m, "coral") })
	done := 0
	if p := cfg.Progress; p != nil {
		p.Total = len(domains) * (len(domains) - 1) * cfg.Rounds
		if p.Label == "" {
			p.Label = "domain rounds"
		}
		p.Start(0)
	}
	for s, src := range domains {
		for t, tgt := range domains {
			if s == t {
				continue
			}
			if needCoral && colour[t] == nil {
				c, err := TargetColouring(feats[t], cfg.Lambda)
				if err != nil {
					return nil, fmt.Errorf("target %s: %w", tgt.Name, err)
				}
				colour[t] = c
			}
			var domainMap *mat.Dense // Cs_domain^(-1/2) Ct^(1/2)
			if slices.Contains(cfg.Methods, "coral-domain") {
				if whiten[s] == nil {
					c := Covariance(toDense(feats[s]))
					addRidge(c, cfg.Lambda)
					w, err := SymPow(c, -0.5)
					if err != nil {
						return nil, fmt.Errorf("source %s: %w", src.Name, err)
					}
					whiten[s] = w
				}
				domainMap = mat.NewDense(feats[s].Dim(1), feats[s].Dim(1), nil)
				domainMap.Mul(whiten[s], colour[t])
			}
			per := cfg.PerClass
			if src.Short == "D" || src.Short == "W" || src.Name == "dslr" || src.Name == "webcam" {
				per = cfg.PerClassSmall
			}
			pair := DomainPair{Source: src.Name, Target: tgt.Name, Results: map[string]*MethodStat{}}
			accs := map[string][]float64{}
			target := Data{Name: tgt.Name, X: feats[t], Y: tgt.Y, ClassNames: tgt.ClassNames}
			for r := 1; r <= cfg.Rounds; r++ {
				seed := cfg.Seed*1000 + uint64(r)
				source := Shots(Data{Name: src.Name, X: feats[s], Y: src.Y, ClassNames: src.ClassNames}, per, seed)
				out, err := domainRound(source, target, colour[t], domainMap, cfg, seed)
				if err != nil {
					return nil, fmt.Errorf("%s -> %s, round %d: %w", src.Name, tgt.Name, r, err)
				}
				for m, a := range out {
					accs[m] = append(accs[m], 100*a)
				}
				done++
				if cfg.Progress != nil {
					cfg.Progress.Update(done)
				}
			}
			line := fmt.Sprintf("%-8s -> %-8s", src.Name, tgt.Name)
			for _, m := range cfg.Methods {
				st := &MethodStat{Accuracies: accs[m]}
				st.Mean, st.SD, st.CI95 = stats.MeanCI95(accs[m])
				pair.Results[m] = st
				line += fmt.Sprintf("  %s %.1f", m, st.Mean)
			}
			if cfg.Log != nil {
				cfg.Progress.Clear()
				cfg.Log(line)
			}
			rep.Pairs = append(rep.Pairs, pair)
		}
	}
	for _, m := range cfg.Methods {
		s := 0.0
		for _, p := range rep.Pairs {
			s += p.Results[m].Mean
		}
		rep.Average[m] = s / float64(len(rep.Pairs))
	}
	return rep, nil
}

// domainRound runs every method once on a source sample; accuracies in [0, 1].
func domainRound(source, target Data, ctHalf, domainMap *mat.Dense, cfg DomainConfig, seed uint64) (map[string]float64, error) {
	out := map[string]float64{}
	var aligned *tensor.Tensor
	getAligned := func() (*tensor.Tensor, error) {
		if aligned != nil {
			return aligned, nil
		}
		a, err := coralWith(source.X, ctHalf, cfg.Lambda)
		aligned = a
		return a, err
	}
	// Labelled target examples for finetune / target-only, and the rest.
	var tShots, tRest Data
	if slices.Contains(cfg.Methods, "finetune") || slices.Contains(cfg.Methods, "target-only") {
		pick := shotIndices(target, cfg.TargetShots, seed^0x7461726765)
		tShots = target.Subset(pick)
		used := map[int]bool{}
		for _, i := range pick {
			used[i] = true
		}
		var rest []int
		for i := 0; i < target.Len(); i++ {
			if !used[i] {
				rest = append(rest, i)
			}
		}
		tRest = target.Subset(rest)
	}
	var srcModel *nn.Sequential
	for _, m := range cfg.Methods {
		switch m {
		case "1nn":
			out[m] = nearestNeighbour(source, target)
		case "coral-1nn":
			a, err := getAligned()
			if err != nil {
				return nil, err
			}
			out[m] = nearestNeighbour(Data{X: a, Y: source.Y, ClassNames: source.ClassNames}, target)
		case "source-only", "finetune":
			if srcModel == nil {
				mdl, err := trainLinear(source, cfg, seed)
				if err != nil {
					return nil, err
				}
				srcModel = mdl
			}
			if m == "source-only" {
				acc, _, err := Evaluate(srcModel, f32(target))
				if err != nil {
					return nil, err
				}
				out[m] = acc
				continue
			}
			// L2-SP with the head anchored: the source classifier is the
			// prior, alpha/2 ||W - W_source||^2 with the SVM-style weight.
			ft := cloneLinear(srcModel)
			r, err := FineTune(ft, Target{Train: f32(tShots), Test: f32(tRest)}, Strategy{Kind: L2SP, L2SPAlpha: 1 / (cfg.C * float64(tShots.Len())), AnchorHead: true},
				Config{Steps: cfg.Steps / 5, LR: cfg.LR, Seed: seed})
			if err != nil {
				return nil, err
			}
			out[m] = r.TestAcc
		case "target-only":
			mdl, err := trainLinear(tShots, cfg, seed)
			if err != nil {
				return nil, err
			}
			acc, _, err := Evaluate(mdl, f32(tRest))
			if err != nil {
				return nil, err
			}
			out[m] = acc
		case "coral", "coral-domain":
			var a *tensor.Tensor
			var err error
			if m == "coral-domain" {
				var o mat.Dense
				o.Mul(toDense(source.X), domainMap)
				a = fromDense(&o)
			} else if a, err = getAligned(); err != nil {
				return nil, err
			}
			mdl, err := trainLinear(Data{X: a, Y: source.Y, ClassNames: source.ClassNames}, cfg, seed)
			if err != nil {
				return nil, err
			}
			acc, _, err := Evaluate(mdl, f32(target))
			if err != nil {
				return nil, err
			}
			out[m] = acc
		case "svm", "coral-svm", "coral-kernel":
			left, right := source.X, source.X
			if m != "svm" {
				a, err := getAligned()
				if err != nil {
					return nil, err
				}
				left = a
				if m == "coral-svm" {
					right = a
				}
			}
			acc, err := svmAccuracy(left, right, source.Y, target, cfg, seed)
			if err != nil {
				return nil, err
			}
			out[m] = acc
		case "mmd", "coral-mmd":
			s := source
			if m == "coral-mmd" {
				a, err := getAligned()
				if err != nil {
					return nil, err
				}
				s = Data{X: a, Y: source.Y, ClassNames: source.ClassNames}
			}
			acc, err := trainMMD(s, target, cfg, seed)
			if err != nil {
				return nil, err
			}
			out[m] = acc
		}
	}
	return out, nil
}

func svmC(cfg DomainConfig) string {
	if len(cfg.CGrid) == 0 {
		return fmt.Sprintf("C = %g", cfg.C)
	}
	return fmt.Sprintf("C from %v by %d-fold cross-validation on the source", cfg.CGrid, cfg.CVFolds)
}

// svmAccuracy trains the one-against-one C-SVC on the kernel
// K[i][j] = left_i . right_j of the source rows (C from cfg.CGrid by 2-fold
// cross-validation when set, else cfg.C) and returns its accuracy on the
// target, whose kernel row r is left_i . target_r. With left = right this
// is a linear SVM on those features; "coral-kernel" uses left = the
// CORAL-aligned source and right = the raw source, the kernels of the
// CORAL authors' evaluation code (training Xs A Xs^T, test Xs A Xt^T).
func svmAccuracy(left, right *tensor.Tensor, y []int, target Data, cfg DomainConfig, seed uint64) (float64, error) {
	l := left.AsType(tensor.Float64)
	k := tensor.MatMul(l, tensor.Transpose(right.AsType(tensor.Float64))).F64()
	classes := len(target.ClassNames)
	for _, v := range y {
		classes = max(classes, v+1)
	}
	c := cfg.C
	if len(cfg.CGrid) > 0 {
		var err error
		if c, err = svmGridC(k, y, classes, cfg.CGrid, cfg.CVFolds, seed); err != nil {
			return 0, err
		}
	}
	model, err := trainSVM(k, y, classes, c)
	if err != nil {
		return 0, err
	}
	kt := tensor.MatMul(target.X.AsType(tensor.Float64), tensor.Transpose(l)).F64()
	correct := 0
	for r, p := range model.predict(kt, len(y)) {
		if p == target.Y[r] {
			correct++
		}
	}
	return float64(correct) / float64(len(target.Y)), nil
}

// shotIndices repeats Shots' draw and returns the chosen indices.
func shotIndices(d Data, k int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0x73686f7473))
	var keep []int
	for _, idx := range d.ByClass() {
		idx = slices.Clone(idx)
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		if k > 0 && k < len(idx) {
			idx = idx[:k]
		}
		keep = append(keep, idx...)
	}
	slices.Sort(keep)
	return keep
}

func f32(d Data) Data {
	d.X = d.X.AsType(tensor.Float32)
	return d
}

// trainLinear fits multinomial logistic regression with an L2 penalty
// 1/(2 C n) ||W||^2 on the mean loss (the scaling of a C-SVM's objective).
//
// With cfg.CGrid, C is the grid value with the best mean accuracy over a
// stratified 2-fold split of d (ties: the first in the grid).
func trainLinear(d Data, cfg DomainConfig, seed uint64) (*nn.Sequential, error) {
	d = f32(d)
	if len(cfg.CGrid) > 0 {
		c, err := crossValidateC(d, cfg, seed)
		if err != nil {
			return nil, err
		}
		cfg.C = c
	}
	m := nn.NewSequential(nn.NewLinear(rand.New(rand.NewPCG(seed, 0x6c696e)), d.X.Dim(1), d.Classes()))
	_, err := FineTune(m, Target{Train: d}, Strategy{Kind: Scratch}, Config{Steps: cfg.Steps, LR: cfg.LR, WeightDecay: 1 / (cfg.C * float64(d.Len())), Seed: seed})
	return m, err
}

// crossValidateC picks C from cfg.CGrid by stratified 2-fold
// cross-validation on d.
func crossValidateC(d Data, cfg DomainConfig, seed uint64) (float64, error) {
	rng := rand.New(rand.NewPCG(seed, 0x6376))
	var fold [2][]int
	for _, idx := range d.ByClass() {
		idx = slices.Clone(idx)
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for k, i := range idx {
			fold[k%2] = append(fold[k%2], i)
		}
	}
	slices.Sort(fold[0])
	slices.Sort(fold[1])
	if len(fold[0]) == 0 || len(fold[1]) == 0 {
		return cfg.CGrid[0], nil
	}
	best, bestAcc := cfg.CGrid[0], -1.0
	one := cfg
	one.CGrid = nil
	for _, c := range cfg.CGrid {
		one.C = c
		acc := 0.0
		for k := 0; k < 2; k++ {
			m, err := trainLinear(d.Subset(fold[k]), one, seed)
			if err != nil {
				return 0, err
			}
			a, _, err := Evaluate(m, d.Subset(fold[1-k]))
			if err != nil {
				return 0, err
			}
			acc += a / 2
		}
		if acc > bestAcc {
			best, bestAcc = c, acc
		}
	}
	return best, nil
}

func cloneLinear(m *nn.Sequential) *nn.Sequential {
	l := m.Layers[0].(*nn.Linear)
	return nn.NewSequential(&nn.Linear{Weight: autodiff.Param(l.Weight.Value.Clone()), Bias: autodiff.Param(l.Bias.Value.Clone())})
}

// nearestNeighbour classifies every target row by its Euclidean nearest
// source row and returns the accuracy.
func nearestNeighbour(source, target Data) float64 {
	s := source.X.AsType(tensor.Float64)
	t := target.X.AsType(tensor.Float64)
	dots := tensor.MatMul(t, tensor.Transpose(s)) // [Nt, Ns]
	ns, nt, d := s.Dim(0), t.Dim(0), s.Dim(1)
	sq := make([]float64, ns)
	sv := s.F64()
	for i := range sq {
		for _, v := range sv[i*d : (i+1)*d] {
			sq[i] += v * v
		}
	}
	dv := dots.F64()
	correct := 0
	for i := 0; i < nt; i++ {
		best, arg := math.Inf(1), 0
		for j := 0; j < ns; j++ {
			if dist := sq[j] - 2*dv[i*ns+j]; dist < best {
				best, arg = dist, j
			}
		}
		if source.Y[arg] == target.Y[i] {
			correct++
		}
	}
	return float64(correct) / float64(nt)
}

// trainMMD trains a one-hidden-layer network on the labelled source with a
// multi-kernel MMD penalty between source and target hidden features
// (DAN-style, Long et al. 2015, on a shallow network):
//
//	min  CE(h(f(Xs)), ys) + gamma * MMD^2(f(Xs), f(Xt_batch)) + L2
//
// and returns the target accuracy.
func trainMMD(source, target Data, cfg DomainConfig, seed uint64) (float64, error) {
	source, target = f32(source), f32(target)
	rng := rand.New(rand.NewPCG(seed, 0x6d6d64))
	feat := nn.NewSequential(nn.NewLinear(rng, source.X.Dim(1), cfg.MMDHidden), nn.ReLU())
	head := nn.NewLinear(rng, cfg.MMDHidden, source.Classes())
	params := append(nn.Vars(feat), nn.Vars(head)...)
	opt := optim.NewAdam(params, optim.AdamConfig{LR: cfg.LR / 10})
	wd := 1 / (cfg.C * float64(source.Len()))
	xs := autodiff.Const(source.X)
	scales := []float64{0.25, 0.5, 1, 2, 4}
	nt := target.Len()
	err := safely("MMD training", func() error {
		for step := 0; step < cfg.Steps; step++ {
			idx := make([]int, min(cfg.MMDBatch, nt))
			for i := range idx {
				idx[i] = rng.IntN(nt)
			}
			xt := autodiff.Const(tensor.IndexSelect(target.X, 0, idx))
			fs, ft := nn.Forward(feat, xs), nn.Forward(feat, xt)
			loss := nn.CrossEntropyLoss(nn.Forward(head, fs), source.Y, 0)
			if cfg.MMDGamma > 0 {
				loss = autodiff.Add(loss, autodiff.Scale(MMD2(fs, ft, scales), cfg.MMDGamma))
			}
			gs := autodiff.Grad([]*autodiff.Var{loss}, params, false)
			autodiff.Free(loss)
			grads := make([]*tensor.Tensor, len(gs))
			for i, g := range gs {
				grads[i] = tensor.Add(g.Value, tensor.Scale(params[i].Value, wd))
				if grads[i].HasNaNOrInf() {
					return fmt.Errorf("step %d: gradient is not finite", step)
				}
			}
			opt.StepWith(grads)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	acc, _, err := Evaluate(nn.NewSequential(feat, head), target)
	return acc, err
}

// Table formats per-pair accuracies and the averages, with the published
// averages for reference.
func (r *DomainReport) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cross-domain accuracy (%%), mean over rounds; %s\n", r.Protocol)
	fmt.Fprintf(&b, "%-20s", "source -> target")
	for _, m := range r.Methods {
		fmt.Fprintf(&b, " %12s", m)
	}
	b.WriteString("\n")
	for _, p := range r.Pairs {
		fmt.Fprintf(&b, "%-20s", p.Source+" -> "+p.Target)
		for _, m := range r.Methods {
			st := p.Results[m]
			fmt.Fprintf(&b, " %12s", fmt.Sprintf("%.1f±%.1f", st.Mean, st.CI95))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-20s", "average")
	for _, m := range r.Methods {
		fmt.Fprintf(&b, " %12.1f", r.Average[m])
	}
	b.WriteString("\n")
	keys := make([]string, 0, len(r.Published))
	for k := range r.Published {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.WriteString("published averages (Sun et al. 2016, Table 1):")
	for _, k := range keys {
		fmt.Fprintf(&b, " %s %.1f", k, r.Published[k])
	}
	b.WriteString("\n")
	return b.String()
}

// Plot draws the per-pair accuracies as a heatmap (rows: pairs, columns:
// methods) to base.png and base.svg.
func (r *DomainReport) Plot(base string) ([]string, error) {
	h := plots.Heatmap{Title: "Cross-domain accuracy (%), Office-Caltech10 SURF", XLabel: "method", YLabel: "source -> target", ColLabels: r.Methods}
	for _, p := range r.Pairs {
		h.RowLabels = append(h.RowLabels, p.Source+"->"+p.Target)
		row := make([]float64, len(r.Methods))
		for i, m := range r.Methods {
			row[i] = p.Results[m].Mean
		}
		h.Values = append(h.Values, row)
	}
	h.RowLabels = append(h.RowLabels, "average")
	avg := make([]float64, len(r.Methods))
	for i, m := range r.Methods {
		avg[i] = r.Average[m]
	}
	h.Values = append(h.Values, avg)
	return h.Save(base)
}
