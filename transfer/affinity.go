package transfer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/mtl"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/plots"
	"github.com/metalearn/metalearn/tensor"
)

// Inter-task affinity by one-step lookahead: Fifty, Amid, Zhao, Yu, Anil &
// Finn, "Efficiently Identifying Task Groupings for Multi-Task Learning",
// NeurIPS 2021 (TAG). During ordinary multi-task training, at step t with
// shared parameters theta_s and batch X^t, for every task i
//
//	theta_s^{t+1|i} = theta_s^t - eta * grad_{theta_s} L_i(X^t, theta_s^t, theta_i^t)      (Eq. 1)
//
// and the affinity of task i onto task j is
//
//	Z^t_{i->j} = 1 - L_j(X^t, theta_s^{t+1|i}, theta_j^t) / L_j(X^t, theta_s^t, theta_j^t)  (Eq. 2)
//
// averaged over the training run: Zhat_{i->j} = (1/T) sum_t Z^t_{i->j}
// (Eq. 3). Positive: a step on i's loss lowers j's loss (i helps j);
// negative: it raises it. Only the shared parameters move in the lookahead;
// the task-specific ones stay at theta^t.

// AffinityConfig configures TaskAffinity.
type AffinityConfig struct {
	// Train is the multi-task training run during which the affinities
	// are measured (equal weighting when Train.Weighting is nil).
	Train mtl.TrainConfig
	// Every: lookahead after every Every-th step (default 1, as in TAG).
	Every int
	// LookaheadLR is eta in Eq. 1 (default Train.LR). TAG uses the
	// training optimizer's step; a plain SGD step makes Z comparable
	// across tasks whatever the optimizer.
	LookaheadLR float64
	// Batch: rows of the training set (sampled every lookahead) on which
	// the lookahead is evaluated; 0 = all rows.
	Batch int
}

// Affinity is a measured inter-task affinity matrix.
type Affinity struct {
	Tasks []string `json:"tasks"`
	// Z[i][j] is the mean affinity of task i onto task j (Eq. 3); the
	// diagonal is each task's effect on itself.
	Z [][]float64 `json:"affinity"`
	// Lookaheads is the number of steps averaged.
	Lookaheads int `json:"lookaheads"`
}

// TaskAffinity trains m on d with the given tasks (mtl.Train) and measures
// the TAG lookahead affinities along the way. On return m is trained.
func TaskAffinity(m mtl.Model, tasks []mtl.TaskSpec, d mtl.Dataset, cfg AffinityConfig) (*Affinity, error) {
	if err := d.Validate(tasks); err != nil {
		return nil, err
	}
	if m.NumTasks() != len(tasks) {
		return nil, fmt.Errorf("transfer: model has %d task outputs for %d tasks", m.NumTasks(), len(tasks))
	}
	if cfg.Every == 0 {
		cfg.Every = 1
	}
	if cfg.LookaheadLR == 0 {
		cfg.LookaheadLR = cfg.Train.LR
	}
	if cfg.Every < 1 || !(cfg.LookaheadLR > 0) || cfg.Batch < 0 {
		return nil, fmt.Errorf("transfer: affinity every = %d, lookahead lr = %v, batch = %d: want >= 1, > 0, >= 0", cfg.Every, cfg.LookaheadLR, cfg.Batch)
	}
	n := len(tasks)
	shared := m.Shared()
	if len(shared) == 0 {
		return nil, fmt.Errorf("transfer: the model has no shared parameters, so tasks cannot affect each other")
	}
	sum := make([][]float64, n)
	for i := range sum {
		sum[i] = make([]float64, n)
	}
	count := make([][]int, n)
	for i := range count {
		count[i] = make([]int, n)
	}
	rng := rand.New(rand.NewPCG(cfg.Train.Seed, 0x746167))
	lookaheads := 0
	var lookErr error
	lookahead := func() error {
		batch := d
		if cfg.Batch > 0 && cfg.Batch < d.Rows() {
			idx := make([]int, cfg.Batch)
			for i := range idx {
				idx[i] = rng.IntN(d.Rows())
			}
			batch = d.Subset(idx)
		}
		parts := splitByTask(batch, n)
		before := taskLosses(m, tasks, parts)
		grads := make([][]*tensor.Tensor, n)
		for i, l := range before {
			if l == nil {
				continue
			}
			gs := autodiff.Grad([]*autodiff.Var{l}, paramVars(shared), false)
			grads[i] = make([]*tensor.Tensor, len(gs))
			for k, g := range gs {
				if g != nil {
					grads[i][k] = g.Value
				}
			}
		}
		saved := make([]*tensor.Tensor, len(shared))
		for k, p := range shared {
			saved[k] = p.V.Value
		}
		for i := range tasks {
			if grads[i] == nil {
				continue
			}
			for k, p := range shared {
				if grads[i][k] != nil {
					p.V.Value = tensor.Sub(saved[k], tensor.Scale(grads[i][k], cfg.LookaheadLR))
				}
			}
			var after []*autodiff.Var
			autodiff.NoGrad(func() { after = taskLosses(m, tasks, parts) })
			for k, p := range shared {
				p.V.Value = saved[k]
			}
			for j := range tasks {
				if before[j] == nil {
					continue
				}
				lb, la := before[j].Item(), after[j].Item()
				if lb > 0 && !math.IsNaN(la) && !math.IsInf(la, 0) {
					sum[i][j] += 1 - la/lb
					count[i][j]++
				}
			}
		}
		lookaheads++
		return nil
	}
	tc := cfg.Train
	userLog := tc.Log
	tc.Log = func(step int, losses []float64) {
		if userLog != nil {
			userLog(step, losses)
		}
		if lookErr == nil && (step+1)%cfg.Every == 0 {
			lookErr = safely("affinity lookahead", lookahead)
		}
	}
	if err := mtl.Train(m, tasks, d, tc); err != nil {
		return nil, err
	}
	if lookErr != nil {
		return nil, lookErr
	}
	a := &Affinity{Lookaheads: lookaheads, Z: make([][]float64, n)}
	for i, t := range tasks {
		a.Tasks = append(a.Tasks, t.Name)
		a.Z[i] = make([]float64, n)
		for j := range tasks {
			if count[i][j] > 0 {
				a.Z[i][j] = sum[i][j] / float64(count[i][j])
			}
		}
	}
	return a, nil
}

// taskPart is one task's rows of a batch (multi-input data) or the whole
// batch (nil rows).
type taskPart struct {
	all   bool
	data  mtl.Dataset
	empty bool
}

// splitByTask prepares the per-task row subsets of multi-input data once.
func splitByTask(d mtl.Dataset, n int) []taskPart {
	if d.RowTask == nil {
		return []taskPart{{all: true, data: d}}
	}
	rows := make([][]int, n)
	for i, t := range d.RowTask {
		rows[t] = append(rows[t], i)
	}
	out := make([]taskPart, n)
	for t, r := range rows {
		if len(r) == 0 {
			out[t] = taskPart{empty: true}
			continue
		}
		out[t] = taskPart{data: d.Subset(r)}
	}
	return out
}

// taskLosses returns every task's masked loss on its part of the batch
// (nil for a task without labelled rows there).
func taskLosses(m mtl.Model, tasks []mtl.TaskSpec, parts []taskPart) []*autodiff.Var {
	out := make([]*autodiff.Var, len(tasks))
	if len(parts) == 1 && parts[0].all {
		d := parts[0].data
		ls := mtl.TaskLosses(tasks, m.Forward(autodiff.Const(d.X)), d.Y, d.Mask)
		for t, l := range ls {
			if d.Mask == nil || tensor.Sum(tensor.Slice(d.Mask, 1, t, t+1), false).Item() > 0 {
				out[t] = l
			}
		}
		return out
	}
	for t, p := range parts {
		if p.empty {
			continue
		}
		x := autodiff.Const(p.data.X)
		var o *autodiff.Var
		if f, ok := m.(mtl.TaskForwarder); ok {
			o = f.ForwardTask(x, t)
		} else {
			o = m.Forward(x)[t]
		}
		y := tensor.Slice(p.data.Y, 1, t, t+1)
		var mask *tensor.Tensor
		if p.data.Mask != nil {
			mask = tensor.Slice(p.data.Mask, 1, t, t+1)
			if tensor.Sum(mask, false).Item() == 0 {
				continue
			}
		}
		out[t] = mtl.TaskLosses([]mtl.TaskSpec{tasks[t]}, []*autodiff.Var{o}, y, mask)[0]
	}
	return out
}

func paramVars(ps []nn.Param) []*autodiff.Var {
	vs := make([]*autodiff.Var, len(ps))
	for i, p := range ps {
		vs[i] = p.V
	}
	return vs
}

// Table formats the affinity matrix (rows: i, columns: j, entry Z_{i->j}).
func (a *Affinity) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "inter-task affinity Z[i->j] (TAG lookahead, %d lookaheads); row i = task stepped on, column j = task measured\n", a.Lookaheads)
	w := 9
	for _, t := range a.Tasks {
		w = max(w, min(len(t), 16)+1)
	}
	fmt.Fprintf(&b, "%-*s", w, "")
	for _, t := range a.Tasks {
		fmt.Fprintf(&b, " %*s", w, short(t, w))
	}
	b.WriteString("\n")
	for i, t := range a.Tasks {
		fmt.Fprintf(&b, "%-*s", w, short(t, w))
		for j := range a.Tasks {
			fmt.Fprintf(&b, " %*s", w, fmt.Sprintf("%+.2e", a.Z[i][j]))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Plot draws the affinity matrix as a heatmap (base.png, base.svg).
func (a *Affinity) Plot(base string) ([]string, error) {
	return plots.Heatmap{
		Title:      fmt.Sprintf("Inter-task affinity Z[i->j] (TAG, %d lookaheads)", a.Lookaheads),
		XLabel:     "task j (measured)",
		YLabel:     "task i (stepped on)",
		RowLabels:  a.Tasks,
		ColLabels:  a.Tasks,
		Values:     a.Z,
		Diverging:  true,
		ValueLabel: "affinity (> 0: a step on i helps j)",
	}.Save(base)
}
