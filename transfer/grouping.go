package transfer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/metalearn/metalearn/mtl"
	"github.com/metalearn/metalearn/tensor"
)

// Task grouping from affinities (TAG, Fifty et al. 2021, Sec. 3.2): the
// tasks are split into k groups, each trained as one multi-task model, and
// the split maximises the total affinity each task receives from its own
// group:
//
//	score(P) = sum_{G in P} sum_{j in G, |G|>1} (1/(|G|-1)) sum_{i in G, i != j} Zhat_{i->j}
//
// (a task alone in its group receives 0). TAG also allows overlapping
// groups (a task served by its best group); here groups are a partition,
// searched exhaustively over all S(n, k) set partitions (Stirling numbers
// of the second kind), which is exact and fast for the small task counts
// TAG targets (n <= ~12).

// MaxPartitions bounds the exhaustive search.
const MaxPartitions = 5_000_000

// Grouping is a partition of tasks into groups.
type Grouping struct {
	Groups [][]int    `json:"groups"`
	Names  [][]string `json:"names,omitempty"`
	Score  float64    `json:"score"`
}

// String writes the groups as {a,b}{c}.
func (g Grouping) String() string {
	var b strings.Builder
	for k, grp := range g.Groups {
		b.WriteString("{")
		for i, t := range grp {
			if i > 0 {
				b.WriteString(",")
			}
			if g.Names != nil {
				b.WriteString(g.Names[k][i])
			} else {
				fmt.Fprint(&b, t)
			}
		}
		b.WriteString("}")
	}
	return b.String()
}

// GroupScore is score(P) above.
func GroupScore(z [][]float64, groups [][]int) float64 {
	s := 0.0
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		for _, j := range g {
			in := 0.0
			for _, i := range g {
				if i != j {
					in += z[i][j]
				}
			}
			s += in / float64(len(g)-1)
		}
	}
	return s
}

// stirling2 returns S(n, k), saturating at MaxPartitions+1.
func stirling2(n, k int) int {
	s := make([][]int, n+1)
	for i := range s {
		s[i] = make([]int, k+1)
	}
	s[0][0] = 1
	for i := 1; i <= n; i++ {
		for j := 1; j <= min(i, k); j++ {
			s[i][j] = min(j*s[i-1][j]+s[i-1][j-1], MaxPartitions+1)
		}
	}
	return s[n][k]
}

// Partitions calls fn with every partition of n items into exactly k
// non-empty groups, as a restricted growth string (assign[i] = group of
// item i, groups numbered by first appearance). fn returning false stops.
func Partitions(n, k int, fn func(assign []int) bool) {
	if k < 1 || k > n {
		return
	}
	assign := make([]int, n)
	var rec func(i, used int) bool
	rec = func(i, used int) bool {
		if n-i < k-used { // not enough items left to open the missing groups
			return true
		}
		if i == n {
			return used != k || fn(assign)
		}
		for g := 0; g <= min(used, k-1); g++ {
			assign[i] = g
			nu := used
			if g == used {
				nu++
			}
			if !rec(i+1, nu) {
				return false
			}
		}
		return true
	}
	rec(0, 0)
}

func groupsOf(assign []int, k int) [][]int {
	gs := make([][]int, k)
	for i, g := range assign {
		gs[g] = append(gs[g], i)
	}
	return gs
}

// GroupResult is the outcome of GroupTasks.
type GroupResult struct {
	K          int      `json:"k"`
	Partitions int      `json:"partitions_searched"`
	Best       Grouping `json:"recommended"`
	Worst      Grouping `json:"worst"`
}

func validateAffinity(z [][]float64) error {
	n := len(z)
	if n == 0 {
		return fmt.Errorf("transfer: empty affinity matrix")
	}
	for i, row := range z {
		if len(row) != n {
			return fmt.Errorf("transfer: affinity row %d has %d entries, want %d (square matrix)", i, len(row), n)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("transfer: affinity[%d][%d] = %v, want a finite number", i, j, v)
			}
		}
	}
	return nil
}

// GroupTasks returns the partition of the tasks into k groups with the
// highest total within-group affinity (and the lowest, for contrast) by
// exhaustive search. names (optional) label the tasks.
func GroupTasks(z [][]float64, names []string, k int) (*GroupResult, error) {
	if err := validateAffinity(z); err != nil {
		return nil, err
	}
	n := len(z)
	if k < 1 || k > n {
		return nil, fmt.Errorf("transfer: %d groups for %d tasks, want 1 <= groups <= %d", k, n, n)
	}
	if names != nil && len(names) != n {
		return nil, fmt.Errorf("transfer: %d task names for %d tasks", len(names), n)
	}
	if c := stirling2(n, k); c > MaxPartitions {
		return nil, fmt.Errorf("transfer: %d tasks in %d groups have more than %d partitions; exhaustive search is for small task counts (use fewer tasks)", n, k, MaxPartitions)
	}
	res := &GroupResult{K: k}
	best, worst := math.Inf(-1), math.Inf(1)
	var bestA, worstA []int
	Partitions(n, k, func(a []int) bool {
		res.Partitions++
		s := GroupScore(z, groupsOf(a, k))
		if s > best+1e-15 {
			best, bestA = s, slices.Clone(a)
		}
		if s < worst-1e-15 {
			worst, worstA = s, slices.Clone(a)
		}
		return true
	})
	res.Best = named(Grouping{Groups: groupsOf(bestA, k), Score: best}, names)
	res.Worst = named(Grouping{Groups: groupsOf(worstA, k), Score: worst}, names)
	return res, nil
}

func named(g Grouping, names []string) Grouping {
	if names == nil {
		return g
	}
	g.Names = make([][]string, len(g.Groups))
	for i, grp := range g.Groups {
		for _, t := range grp {
			g.Names[i] = append(g.Names[i], names[t])
		}
	}
	return g
}

// GroupCheck is one partition trained for real.
type GroupCheck struct {
	Grouping Grouping `json:"grouping"`
	Role     string   `json:"role"` // recommended, worst, one-group, random, or all
	// Metrics[t]: test metric of task t when trained with its group.
	Metrics []float64 `json:"metrics"`
	Mean    float64   `json:"mean_metric"`
	// DeltaP is the LibMTL Delta_p (%) against the one-group model (all
	// tasks together): positive = better.
	DeltaP float64 `json:"delta_p_vs_one_group"`
	// Rank is the partition's position by DeltaP among the checked ones (1 = best).
	Rank int `json:"rank"`
}

// CheckResult compares predicted and realised quality of groupings.
type CheckResult struct {
	Tasks []string     `json:"tasks"`
	K     int          `json:"k"`
	All   bool         `json:"all_partitions_trained"`
	Rows  []GroupCheck `json:"groupings"`
	// Spearman is the rank correlation between affinity score and
	// realised DeltaP over the checked partitions.
	Spearman float64 `json:"spearman_score_vs_delta_p"`
	// RecommendedRank is the rank of the recommended partition (1 = best).
	RecommendedRank int  `json:"recommended_rank"`
	HigherIsBetter  bool `json:"metric_higher_is_better"`
}

// CheckGroupings trains each group of candidate partitions as one
// multi-task model (e.RunMTL with cfg) and measures every task's test
// metric: the check of a grouping recommendation against real training.
// When S(n, k) <= maxAll every partition is trained (groups are cached, so
// each distinct group trains once); otherwise the recommended and worst
// partitions and `random` random ones.
func CheckGroupings(e *mtl.Experiment, z [][]float64, k int, cfg mtl.RunConfig, maxAll, random int, seed uint64) (*CheckResult, error) {
	n := len(e.Tasks)
	if len(z) != n {
		return nil, fmt.Errorf("transfer: affinity matrix for %d tasks, experiment has %d", len(z), n)
	}
	names := make([]string, n)
	for i, t := range e.Tasks {
		names[i] = t.Name
	}
	gr, err := GroupTasks(z, names, k)
	if err != nil {
		return nil, err
	}
	hb := e.HigherIsBetter()
	res := &CheckResult{Tasks: names, K: k, HigherIsBetter: hb[0]}
	type cand struct {
		g    Grouping
		role string
	}
	var cands []cand
	if gr.Partitions <= maxAll {
		res.All = true
		Partitions(n, k, func(a []int) bool {
			gs := groupsOf(a, k)
			role := "all"
			switch {
			case slices.Equal(a, assignOf(gr.Best.Groups, n)):
				role = "recommended"
			case slices.Equal(a, assignOf(gr.Worst.Groups, n)):
				role = "worst"
			}
			cands = append(cands, cand{named(Grouping{Groups: gs, Score: GroupScore(z, gs)}, names), role})
			return true
		})
	} else {
		cands = append(cands, cand{gr.Best, "recommended"}, cand{gr.Worst, "worst"})
		rng := rand.New(rand.NewPCG(seed, 0x67727570))
		for r := 0; r < random; r++ {
			a := make([]int, n)
			for {
				perm := rng.Perm(n)
				for i, t := range perm {
					a[t] = i % k
				}
				if !slices.Equal(a, assignOf(gr.Best.Groups, n)) {
					break
				}
			}
			gs := canonical(a, k)
			cands = append(cands, cand{named(Grouping{Groups: gs, Score: GroupScore(z, gs)}, names), "random"})
		}
	}
	cache := map[string][]float64{}
	train := func(group []int) ([]float64, error) {
		key := fmt.Sprint(group)
		if m, ok := cache[key]; ok {
			return m, nil
		}
		sub := SubExperiment(e, group)
		m, err := sub.RunMTL(cfg)
		if err != nil {
			return nil, fmt.Errorf("group %v: %w", group, err)
		}
		cache[key] = m
		return m, nil
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	base, err := train(all)
	if err != nil {
		return nil, err
	}
	if k > 1 {
		res.Rows = append(res.Rows, GroupCheck{Grouping: named(Grouping{Groups: [][]int{all}, Score: GroupScore(z, [][]int{all})}, names), Role: "one-group", Metrics: base, Mean: mean(base)})
	}
	for _, c := range cands {
		metrics := make([]float64, n)
		for _, g := range c.g.Groups {
			m, err := train(g)
			if err != nil {
				return nil, err
			}
			for i, t := range g {
				metrics[t] = m[i]
			}
		}
		dp, err := mtl.DeltaP(metrics, base, hb)
		if err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, GroupCheck{Grouping: c.g, Role: c.role, Metrics: metrics, Mean: mean(metrics), DeltaP: dp})
	}
	// ranks among the k-group candidates (the one-group row is a reference)
	var idx []int
	for i, r := range res.Rows {
		if r.Role != "one-group" {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return res.Rows[idx[a]].DeltaP > res.Rows[idx[b]].DeltaP })
	for r, i := range idx {
		res.Rows[i].Rank = r + 1
		if res.Rows[i].Role == "recommended" {
			res.RecommendedRank = r + 1
		}
	}
	var xs, ys []float64
	for _, i := range idx {
		xs = append(xs, res.Rows[i].Grouping.Score)
		ys = append(ys, res.Rows[i].DeltaP)
	}
	res.Spearman = spearman(xs, ys)
	return res, nil
}

func assignOf(groups [][]int, n int) []int {
	a := make([]int, n)
	for g, grp := range groups {
		for _, t := range grp {
			a[t] = g
		}
	}
	return canonicalAssign(a)
}

// canonicalAssign renumbers groups by first appearance.
func canonicalAssign(a []int) []int {
	m := map[int]int{}
	out := make([]int, len(a))
	for i, g := range a {
		if _, ok := m[g]; !ok {
			m[g] = len(m)
		}
		out[i] = m[g]
	}
	return out
}

func canonical(a []int, k int) [][]int { return groupsOf(canonicalAssign(a), k) }

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// spearman is the rank correlation of xs and ys (average ranks for ties).
func spearman(xs, ys []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	rx, ry := ranks(xs), ranks(ys)
	mx, my := mean(rx), mean(ry)
	var sxy, sxx, syy float64
	for i := range rx {
		sxy += (rx[i] - mx) * (ry[i] - my)
		sxx += (rx[i] - mx) * (rx[i] - mx)
		syy += (ry[i] - my) * (ry[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return xs[idx[a]] < xs[idx[b]] })
	r := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && xs[idx[j+1]] == xs[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j)/2 + 1
		}
		i = j + 1
	}
	return r
}

// SubExperiment restricts a multi-task experiment to the tasks listed (in
// that order): target and mask columns are selected, and multi-input rows
// of other tasks are dropped.
func SubExperiment(e *mtl.Experiment, tasks []int) *mtl.Experiment {
	sub := &mtl.Experiment{Name: e.Name, Features: e.Features}
	for _, t := range tasks {
		sub.Tasks = append(sub.Tasks, e.Tasks[t])
	}
	if e.Scale != nil {
		for _, t := range tasks {
			sub.Scale = append(sub.Scale, e.Scale[t])
		}
	}
	pick := func(d mtl.Dataset) mtl.Dataset {
		out := mtl.Dataset{X: d.X, Y: tensor.IndexSelect(d.Y, 1, tasks)}
		if d.Mask != nil {
			out.Mask = tensor.IndexSelect(d.Mask, 1, tasks)
		}
		if d.RowTask != nil {
			pos := map[int]int{}
			for i, t := range tasks {
				pos[t] = i
			}
			var rows, rt []int
			for i, t := range d.RowTask {
				if p, ok := pos[t]; ok {
					rows = append(rows, i)
					rt = append(rt, p)
				}
			}
			out = out.Subset(rows)
			out.RowTask = rt
		}
		return out
	}
	sub.Train, sub.Test = pick(e.Train), pick(e.Test)
	if e.Val != nil {
		v := pick(*e.Val)
		sub.Val = &v
	}
	return sub
}

// Table formats the check.
func (c *CheckResult) Table() string {
	var b strings.Builder
	dir := "lower"
	if c.HigherIsBetter {
		dir = "higher"
	}
	fmt.Fprintf(&b, "grouping check (%d groups): every group trained as one model; mean test metric (%s is better), Delta_p vs one group\n", c.K, dir)
	fmt.Fprintf(&b, "%-5s %-12s %-10s %-11s %-10s %s\n", "rank", "role", "score", "mean", "Delta_p%", "groups")
	rows := slices.Clone(c.Rows)
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := rows[a].Rank, rows[b].Rank
		if ra == 0 {
			ra = math.MaxInt
		}
		if rb == 0 {
			rb = math.MaxInt
		}
		return ra < rb
	})
	for _, r := range rows {
		rank := "-"
		if r.Rank > 0 {
			rank = fmt.Sprint(r.Rank)
		}
		fmt.Fprintf(&b, "%-5s %-12s %-10.4f %-11.4f %+-10.2f %s\n", rank, r.Role, r.Grouping.Score, r.Mean, r.DeltaP, r.Grouping)
	}
	fmt.Fprintf(&b, "recommended partition ranks %d of %d; Spearman(affinity score, Delta_p) = %.3f\n", c.RecommendedRank, len(c.Rows)-boolInt(c.K > 1), c.Spearman)
	return b.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
