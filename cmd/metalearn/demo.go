package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

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

type demoOpts struct {
	seed       uint64
	out        string
	iterations int
	evalTasks  int
	asJSON     bool
}

func newDemoCmd() *cobra.Command {
	var o demoOpts
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The whole idea on built-in data in about a minute: multi-task vs single-task, meta-learning vs scratch, transfer gain",
		Long: `Every task is one of the seed's circle problems: points in the unit square,
label 1 outside a random circle. The demo

 1. trains 10 circle tasks (20 labelled points each) as single-task models and
    as one multi-task model (a shared trunk + one head per task),
 2. meta-learns (second-order MAML) an initialisation over the circle family
    and adapts it to unseen circles from K labelled points,
 3. transfers the multi-task trunk to unseen circles (fine-tuning from K
    points),
and compares 2 and 3 with training from scratch on the same K points, on 200
unseen circles (mean accuracy ± 95% CI). Plots go to <out>/plots.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.iterations < 1 || o.evalTasks < 2 {
				return fmt.Errorf("--iterations = %d and --eval-tasks = %d, want >= 1 and >= 2", o.iterations, o.evalTasks)
			}
			return runDemo(cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&o.seed, "seed", 1, "random seed")
	f.StringVar(&o.out, "out", "runs/demo", "folder for the plots and demo.json")
	f.IntVar(&o.iterations, "iterations", 1500, "MAML meta-training iterations")
	f.IntVar(&o.evalTasks, "eval-tasks", 200, "unseen circle tasks for evaluation")
	f.BoolVar(&o.asJSON, "json", false, "print the results as one JSON object")
	return cmd
}

const (
	demoHidden     = 40
	demoShots      = 10 // K: labelled points of a new task
	demoQuery      = 100
	demoInnerLR    = 0.5
	demoFitSteps   = 100 // Adam steps when fitting K points (scratch, transfer)
	demoFitLR      = 0.01
	demoAdaptSteps = 10 // MAML adaptation steps at test time
)

type demoRow struct {
	Part, Method string
	Accuracy     meta.Summary
	Note         string
}

func runDemo(stdout, stderr io.Writer, o demoOpts) error {
	start := time.Now()
	if err := os.MkdirAll(filepath.Join(o.out, "plots"), 0o755); err != nil {
		return fmt.Errorf("--out %s: %w", o.out, err)
	}
	say := func(format string, a ...any) {
		if !o.asJSON {
			fmt.Fprintf(stderr, format+"\n", a...)
		}
	}
	var rows []demoRow

	// 1. single-task vs multi-task on 10 related circle tasks
	say("[1/3] single-task vs multi-task: 10 circle tasks, 20 labelled points each ...")
	e := mtl.CirclesExperiment(10, 20, o.seed)
	rc := mtl.RunConfig{Arch: "hard", Hidden: demoHidden, Seed: o.seed, Train: mtl.TrainConfig{Steps: 300, LR: 0.01, Seed: o.seed}}
	stl, err := e.RunSTL(rc)
	if err != nil {
		return err
	}
	mtlModel, err := e.BuildModel("hard", e.Tasks, demoHidden, rand.New(rand.NewPCG(o.seed, 99)))
	if err != nil {
		return err
	}
	if err := mtl.Train(mtlModel, e.Tasks, e.Train, rc.Train); err != nil {
		return err
	}
	all := make([]int, len(e.Tasks))
	for i := range all {
		all[i] = i
	}
	mt := e.Metrics(mtlModel, e.Test, all)
	rows = append(rows, demoRow{"1 multi-task", "single-task models", summarise(stl), "one model per task"},
		demoRow{"1 multi-task", "multi-task model", summarise(mt), "shared trunk + task heads"})

	// 2. meta-learning: MAML over the circle family
	say("[2/3] meta-learning: MAML on the circle family, %d iterations ...", o.iterations)
	rng := rand.New(rand.NewPCG(o.seed, 0x64656d6f))
	model := nn.MLP(rng, nn.ReLU, 2, demoHidden, demoHidden, 2)
	maml, err := meta.NewMAML(nil, model, meta.MAMLConfig{InnerLR: demoInnerLR, InnerSteps: 1, EvalSteps: demoAdaptSteps})
	if err != nil {
		return err
	}
	family := circleTasks{support: demoShots, query: demoQuery}
	var curve []meta.Progress
	val := data.EvalSet(family, 50, o.seed+1000)
	res, err := meta.Train(maml, family, meta.TrainConfig{Iterations: o.iterations, MetaBatch: 10, OuterLR: 1e-3, Seed: o.seed,
		ValEvery: max(o.iterations/15, 1), Val: val, ValSteps: demoAdaptSteps,
		Log: func(p meta.Progress) {
			if p.Val != nil {
				curve = append(curve, p)
			}
		}})
	if err != nil {
		return err
	}

	// 3. evaluation on unseen circles: meta vs transfer vs scratch, K = 2..40
	say("[3/3] adapting to %d unseen circles from K labelled points ...", o.evalTasks)
	encoder := mtlModel.(*mtl.HardSharing).Encoder
	shots := []int{2, 5, 10, 20, 40}
	type curvePts struct{ meta, transfer, scratch []meta.Summary }
	var cp curvePts
	for _, k := range shots {
		tasks := data.EvalSet(circleTasks{support: k, query: demoQuery}, o.evalTasks, o.seed+2000)
		mSum := meta.Evaluate(maml, tasks, demoAdaptSteps, 0)
		tr, sc := make([]meta.TaskResult, len(tasks)), make([]meta.TaskResult, len(tasks))
		meta.Parallel(len(tasks), 0, func(i int) {
			r := rand.New(rand.NewPCG(o.seed, uint64(i)))
			sc[i] = fitTask(nn.MLP(r, nn.ReLU, 2, demoHidden, demoHidden, 2), tasks[i])
			tr[i] = fitTask(nn.NewSequential(cloneModule(encoder), nn.NewLinear(r, demoHidden, 2)), tasks[i])
		})
		cp.meta = append(cp.meta, mSum)
		cp.transfer = append(cp.transfer, meta.Summarise(tr))
		cp.scratch = append(cp.scratch, meta.Summarise(sc))
		if k == demoShots {
			rows = append(rows,
				demoRow{"2 meta-learning", "from scratch", cp.scratch[len(cp.scratch)-1], fmt.Sprintf("new MLP, %d Adam steps on K=%d", demoFitSteps, k)},
				demoRow{"2 meta-learning", "MAML adaptation", mSum, fmt.Sprintf("%d SGD steps from the meta-learned init", demoAdaptSteps)},
				demoRow{"3 transfer", "fine-tuned trunk", cp.transfer[len(cp.transfer)-1], fmt.Sprintf("multi-task trunk + new head, %d Adam steps", demoFitSteps)})
		}
	}
	// plots
	var files []string
	line := plots.Line{Title: "Unseen circle tasks: accuracy vs labelled points", XLabel: "K labelled points of the new task", YLabel: "query accuracy", LogX: true, LegendBottom: true}
	for _, s := range []struct {
		name string
		v    []meta.Summary
	}{{"MAML adaptation", cp.meta}, {"transfer (fine-tuned trunk)", cp.transfer}, {"from scratch", cp.scratch}} {
		ser := plots.Series{Name: s.name}
		for i, k := range shots {
			ser.X = append(ser.X, float64(k))
			ser.Y = append(ser.Y, s.v[i].Mean)
			ser.Lo = append(ser.Lo, s.v[i].Mean-s.v[i].CI95)
			ser.Hi = append(ser.Hi, s.v[i].Mean+s.v[i].CI95)
		}
		line.Series = append(line.Series, ser)
	}
	ps, err := line.Save(filepath.Join(o.out, "plots", "adaptation_vs_k"))
	if err != nil {
		return err
	}
	files = append(files, ps...)
	lc := plots.Line{Title: "MAML meta-training on circles", XLabel: "iteration", YLabel: "validation accuracy (K=10, 10 steps)", LegendBottom: true}
	ser := plots.Series{Name: "validation"}
	for _, p := range curve {
		ser.X = append(ser.X, float64(p.Iteration))
		ser.Y = append(ser.Y, p.Val.Mean)
	}
	lc.Series = []plots.Series{ser}
	if ps, err = lc.Save(filepath.Join(o.out, "plots", "maml_learning_curve")); err != nil {
		return err
	}
	files = append(files, ps...)

	gain := rows[4].Accuracy.Mean - rows[2].Accuracy.Mean
	result := map[string]any{"rows": rows, "shots": shots, "meta_curve": cp.meta, "transfer_curve": cp.transfer, "scratch_curve": cp.scratch,
		"transfer_gain": gain, "meta_gain": rows[3].Accuracy.Mean - rows[2].Accuracy.Mean, "best_val_iteration": res.BestIteration,
		"plots": files, "seconds": time.Since(start).Seconds(), "seed": o.seed}
	if err := writeJSONFile(filepath.Join(o.out, "demo.json"), result); err != nil {
		return err
	}
	if o.asJSON {
		return writeJSONLine(stdout, result)
	}
	fmt.Fprintf(stdout, "\nmetalearn demo (seed %d): circle tasks, accuracy on held-out points (mean ± 95%% CI)\n\n", o.seed)
	fmt.Fprintf(stdout, "%-16s %-20s %-18s %s\n", "part", "method", "accuracy", "how")
	for _, r := range rows {
		fmt.Fprintf(stdout, "%-16s %-20s %.3f ± %.3f    %s\n", r.Part, r.Method, r.Accuracy.Mean, r.Accuracy.CI95, r.Note)
	}
	fmt.Fprintf(stdout, "\nmulti-task gain over single-task: %+.3f; meta-learning gain over scratch (K=%d): %+.3f; transfer gain over scratch: %+.3f\n",
		rows[1].Accuracy.Mean-rows[0].Accuracy.Mean, demoShots, rows[3].Accuracy.Mean-rows[2].Accuracy.Mean, gain)
	fmt.Fprintf(stdout, "plots: %s\nresults: %s (%.0fs)\n", filepath.Join(o.out, "plots"), filepath.Join(o.out, "demo.json"), time.Since(start).Seconds())
	return nil
}

func summarise(accs []float64) meta.Summary {
	rs := make([]meta.TaskResult, len(accs))
	for i, a := range accs {
		rs[i] = meta.TaskResult{Metric: a}
	}
	return meta.Summarise(rs)
}

// fitTask trains m on the task's support set with Adam and returns its
// query accuracy.
func fitTask(m nn.Module, t data.Task) meta.TaskResult {
	params := nn.Vars(m)
	opt := optim.NewAdam(params, optim.AdamConfig{LR: demoFitLR})
	xs, xq := autodiff.Const(t.SupportX), autodiff.Const(t.QueryX)
	for s := 0; s < demoFitSteps; s++ {
		g := autodiff.Grad([]*autodiff.Var{nn.CrossEntropyLoss(nn.Forward(m, xs), t.SupportLabels, 0)}, params, false)
		opt.StepWith(values(g))
	}
	pred := nn.Forward(m, xq)
	return meta.TaskResult{Loss: nn.CrossEntropyLoss(pred, t.QueryLabels, 0).Item(), Metric: nn.Accuracy(pred.Value, t.QueryLabels)}
}

func values(vs []*autodiff.Var) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(vs))
	for i, v := range vs {
		if v != nil {
			out[i] = v.Value
		}
	}
	return out
}

// cloneModule returns a copy of a Sequential of Linear layers and
// activations with its own parameters (the source stays untouched).
func cloneModule(m nn.Module) nn.Module {
	seq, ok := m.(*nn.Sequential)
	if !ok {
		panic("demo: trunk is not a Sequential")
	}
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

func writeJSONFile(path string, v any) error {
	b, err := jsonIndent(v)
	if err != nil {
		return err
	}
	return runfolder.WriteFileAtomic(path, b)
}

func jsonIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return append(b, '\n'), err
}
