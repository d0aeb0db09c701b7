package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/mtl"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/plots"
	"github.com/metalearn/metalearn/runfolder"
	"github.com/metalearn/metalearn/tensor"
)

// The demo's fixed settings.
const (
	Hidden     = 40
	Shots      = 10 // K: labelled points of a new task in the table
	Query      = 100
	InnerLR    = 0.5
	FitSteps   = 100 // Adam steps when fitting K points (scratch, transfer)
	FitLR      = 0.01
	AdaptSteps = 10 // MAML adaptation steps at test time
)

// CurveShots are the K of the accuracy-vs-K curves.
var CurveShots = []int{2, 5, 10, 20, 40}

// Config is a demo run.
type Config struct {
	Seed uint64
	// Out receives plots/ and demo.json.
	Out string
	// Iterations of MAML meta-training (>= 1); EvalTasks unseen circles
	// per K (>= 2).
	Iterations, EvalTasks int
	// Log, when set, receives a line as each part starts.
	Log func(string)
}

// Row is one line of the demo's table.
type Row struct {
	Part, Method string
	Accuracy     meta.Summary
	Note         string
}

// Result is the demo's table, its curves and the files written; it
// marshals to demo.json.
type Result struct {
	BestValIteration int            `json:"best_val_iteration"`
	MetaCurve        []meta.Summary `json:"meta_curve"`
	MetaGain         float64        `json:"meta_gain"`
	Plots            []string       `json:"plots"`
	Rows             []Row          `json:"rows"`
	ScratchCurve     []meta.Summary `json:"scratch_curve"`
	Seconds          float64        `json:"seconds"`
	Seed             uint64         `json:"seed"`
	Shots            []int          `json:"shots"`
	TransferCurve    []meta.Summary `json:"transfer_curve"`
	TransferGain     float64        `json:"transfer_gain"`

	out string
}

// circleTasks turns the seed's circle tasks into 2-way classification
// episodes (label 1 = outside the circle) with inputs centred on 0 (2x-1),
// the same scaling mtl.CirclesExperiment uses.
type circleTasks struct{ support, query int }

func (c circleTasks) Sample(rng *rand.Rand) data.Task {
	t := data.CircleFamily{Support: c.support, Query: c.query}.Sample(rng)
	labels := func(y *tensor.Tensor) []int {
		out := make([]int, y.Dim(0))
		for i := range out {
			out[i] = int(y.Flat(i))
		}
		return out
	}
	centre := func(x *tensor.Tensor) *tensor.Tensor { return tensor.AddScalar(tensor.Scale(x, 2), -1) }
	return data.Task{SupportX: centre(t.SupportX), QueryX: centre(t.QueryX), SupportLabels: labels(t.SupportY), QueryLabels: labels(t.QueryY), Ways: 2}
}

// Run performs the demo and writes cfg.Out/plots and cfg.Out/demo.json.
func Run(cfg Config) (*Result, error) {
	start := time.Now()
	if cfg.Iterations < 1 || cfg.EvalTasks < 2 {
		return nil, fmt.Errorf("--iterations = %d and --eval-tasks = %d, want >= 1 and >= 2", cfg.Iterations, cfg.EvalTasks)
	}
	if err := os.MkdirAll(filepath.Join(cfg.Out, "plots"), 0o755); err != nil {
		return nil, fmt.Errorf("--out %s: %w", cfg.Out, err)
	}
	say := func(format string, a ...any) {
		if cfg.Log != nil {
			cfg.Log(fmt.Sprintf(format, a...))
		}
	}
	seed := cfg.Seed
	var rows []Row

	// 1. single-task vs multi-task on 10 related circle tasks
	say("[1/3] single-task vs multi-task: 10 circle tasks, 20 labelled points each ...")
	e := mtl.CirclesExperiment(10, 20, seed)
	rc := mtl.RunConfig{Arch: "hard", Hidden: Hidden, Seed: seed, Train: mtl.TrainConfig{Steps: 300, LR: 0.01, Seed: seed}}
	stl, err := e.RunSTL(rc)
	if err != nil {
		return nil, err
	}
	mtlModel, err := e.BuildModel("hard", e.Tasks, Hidden, rand.New(rand.NewPCG(seed, 99)))
	if err != nil {
		return nil, err
	}
	if err := mtl.Train(mtlModel, e.Tasks, e.Train, rc.Train); err != nil {
		return nil, err
	}
	all := make([]int, len(e.Tasks))
	for i := range all {
		all[i] = i
	}
	mt := e.Metrics(mtlModel, e.Test, all)
	rows = append(rows, Row{"1 multi-task", "single-task models", summarise(stl), "one model per task"},
		Row{"1 multi-task", "multi-task model", summarise(mt), "shared trunk + task heads"})

	// 2. meta-learning: MAML over the circle family
	say("[2/3] meta-learning: MAML on the circle family, %d iterations ...", cfg.Iterations)
	rng := rand.New(rand.NewPCG(seed, 0x64656d6f))
	model := nn.MLP(rng, nn.ReLU, 2, Hidden, Hidden, 2)
	maml, err := meta.NewMAML(nil, model, meta.MAMLConfig{InnerLR: InnerLR, InnerSteps: 1, EvalSteps: AdaptSteps})
	if err != nil {
		return nil, err
	}
	family := circleTasks{support: Shots, query: Query}
	var curve []meta.Progress
	val := data.EvalSet(family, 50, seed+1000)
	res, err := meta.Train(maml, family, meta.TrainConfig{Iterations: cfg.Iterations, MetaBatch: 10, OuterLR: 1e-3, Seed: seed,
		ValEvery: max(cfg.Iterations/15, 1), Val: val, ValSteps: AdaptSteps,
		Log: func(p meta.Progress) {
			if p.Val != nil {
				curve = append(curve, p)
			}
		}})
	if err != nil {
		return nil, err
	}

	// 3. evaluation on unseen circles: meta vs transfer vs scratch, K = 2..40
	say("[3/3] adapting to %d unseen circles from K labelled points ...", cfg.EvalTasks)
	hs, ok := mtlModel.(*mtl.HardSharing)
	if !ok {
		return nil, errors.New("demo: the multi-task model is not hard sharing")
	}
	encoder, ok := hs.Encoder.(*nn.Sequential)
	if !ok {
		return nil, errors.New("demo: the multi-task trunk is not a Sequential")
	}
	r := &Result{Shots: CurveShots, Seed: seed, BestValIteration: res.BestIteration, out: cfg.Out}
	for _, k := range CurveShots {
		tasks := data.EvalSet(circleTasks{support: k, query: Query}, cfg.EvalTasks, seed+2000)
		mSum := meta.Evaluate(maml, tasks, AdaptSteps, 0)
		tr, sc := make([]meta.TaskResult, len(tasks)), make([]meta.TaskResult, len(tasks))
		meta.Parallel(len(tasks), 0, func(i int) {
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			sc[i] = fitTask(nn.MLP(r, nn.ReLU, 2, Hidden, Hidden, 2), tasks[i])
			tr[i] = fitTask(nn.NewSequential(cloneTrunk(encoder), nn.NewLinear(r, Hidden, 2)), tasks[i])
		})
		r.MetaCurve = append(r.MetaCurve, mSum)
		r.TransferCurve = append(r.TransferCurve, meta.Summarise(tr))
		r.ScratchCurve = append(r.ScratchCurve, meta.Summarise(sc))
		if k == Shots {
			rows = append(rows,
				Row{"2 meta-learning", "from scratch", r.ScratchCurve[len(r.ScratchCurve)-1], fmt.Sprintf("new MLP, %d Adam steps on K=%d", FitSteps, k)},
				Row{"2 meta-learning", "MAML adaptation", mSum, fmt.Sprintf("%d SGD steps from the meta-learned init", AdaptSteps)},
				Row{"3 transfer", "fine-tuned trunk", r.TransferCurve[len(r.TransferCurve)-1], fmt.Sprintf("multi-task trunk + new head, %d Adam steps", FitSteps)})
		}
	}
	r.Rows = rows
	if r.Plots, err = r.plot(curve); err != nil {
		return nil, err
	}
	r.TransferGain = rows[4].Accuracy.Mean - rows[2].Accuracy.Mean
	r.MetaGain = rows[3].Accuracy.Mean - rows[2].Accuracy.Mean
	r.Seconds = time.Since(start).Seconds()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := runfolder.WriteFileAtomic(filepath.Join(cfg.Out, "demo.json"), append(b, '\n')); err != nil {
		return nil, err
	}
	return r, nil
}

// plot writes the accuracy-vs-K curves and the MAML learning curve.
func (r *Result) plot(curve []meta.Progress) ([]string, error) {
	var files []string
	line := plots.Line{Title: "Unseen circle tasks: accuracy vs labelled points", XLabel: "K labelled points of the new task", YLabel: "query accuracy", LogX: true, LegendBottom: true}
	for _, s := range []struct {
		name string
		v    []meta.Summary
	}{{"MAML adaptation", r.MetaCurve}, {"transfer (fine-tuned trunk)", r.TransferCurve}, {"from scratch", r.ScratchCurve}} {
		ser := plots.Series{Name: s.name}
		for i, k := range r.Shots {
			ser.X = append(ser.X, float64(k))
			ser.Y = append(ser.Y, s.v[i].Mean)
			ser.Lo = append(ser.Lo, s.v[i].Mean-s.v[i].CI95)
			ser.Hi = append(ser.Hi, s.v[i].Mean+s.v[i].CI95)
		}
		line.Series = append(line.Series, ser)
	}
	ps, err := line.Save(filepath.Join(r.out, "plots", "adaptation_vs_k"))
	if err != nil {
		return nil, err
	}
	files = append(files, ps...)
	lc := plots.Line{Title: "MAML meta-training on circles", XLabel: "iteration", YLabel: "validation accuracy (K=10, 10 steps)", LegendBottom: true}
	ser := plots.Series{Name: "validation"}
	for _, p := range curve {
		ser.X = append(ser.X, float64(p.Iteration))
		ser.Y = append(ser.Y, p.Val.Mean)
	}
	lc.Series = []plots.Series{ser}
	if ps, err = lc.Save(filepath.Join(r.out, "plots", "maml_learning_curve")); err != nil {
		return nil, err
	}
	return append(files, ps...), nil
}

// Report prints the table, the gains and where the files are.
func (r *Result) Report(w io.Writer) error {
	rows := r.Rows
	fmt.Fprintf(w, "\nmetalearn demo (seed %d): circle tasks, accuracy on held-out points (mean ± 95%% CI)\n\n", r.Seed)
	fmt.Fprintf(w, "%-16s %-20s %-18s %s\n", "part", "method", "accuracy", "how")
	for _, row := range rows {
		fmt.Fprintf(w, "%-16s %-20s %.3f ± %.3f    %s\n", row.Part, row.Method, row.Accuracy.Mean, row.Accuracy.CI95, row.Note)
	}
	fmt.Fprintf(w, "\nmulti-task gain over single-task: %+.3f; meta-learning gain over scratch (K=%d): %+.3f; transfer gain over scratch: %+.3f\n",
		rows[1].Accuracy.Mean-rows[0].Accuracy.Mean, Shots, r.MetaGain, r.TransferGain)
	_, err := fmt.Fprintf(w, "plots: %s\nresults: %s (%.0fs)\n", filepath.Join(r.out, "plots"), filepath.Join(r.out, "demo.json"), r.Seconds)
	return err
}

func summarise(accs []float64) meta.Summary {
	rs := make([]meta.TaskResult, len(accs))
	for i, a := range accs {
		rs[i] = meta.TaskResult{Metric: a}
	}
	return meta.Summarise(rs)
}

// fitTask trains m on the task's support set with full-batch Adam
// (FitSteps steps, rate FitLR) and returns its query loss and accuracy.
func fitTask(m nn.Module, t data.Task) meta.TaskResult {
	params := nn.Vars(m)
	opt := optim.NewAdam(params, optim.AdamConfig{LR: FitLR})
	xs, xq := autodiff.Const(t.SupportX), autodiff.Const(t.QueryX)
	grads := make([]*tensor.Tensor, len(params))
	for s := 0; s < FitSteps; s++ {
		g := autodiff.Grad([]*autodiff.Var{nn.CrossEntropyLoss(nn.Forward(m, xs), t.SupportLabels, 0)}, params, false)
		for i, v := range g {
			grads[i] = nil
			if v != nil {
				grads[i] = v.Value
			}
		}
		opt.StepWith(grads)
	}
	pred := nn.Forward(m, xq)
	return meta.TaskResult{Loss: nn.CrossEntropyLoss(pred, t.QueryLabels, 0).Item(), Metric: nn.Accuracy(pred.Value, t.QueryLabels)}
}

// cloneTrunk returns a copy of a Sequential of Linear layers and
// parameter-free layers with its own parameters (the source stays
// untouched).
func cloneTrunk(seq *nn.Sequential) nn.Module {
	layers := make([]nn.Module, len(seq.Layers))
	for i, l := range seq.Layers {
		if lin, ok := l.(*nn.Linear); ok {
			c := &nn.Linear{Weight: autodiff.Param(lin.Weight.Value.Clone())}
			if lin.Bias != nil {
				c.Bias = autodiff.Param(lin.Bias.Value.Clone())
			}
			layers[i] = c
		} else {
			layers[i] = l // parameter-free
		}
	}
	return nn.NewSequential(layers...)
}
