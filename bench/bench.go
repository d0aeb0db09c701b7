// Package bench holds metalearn's benchmark workloads — the same ones as
// reference/bench_torch.py — and runs them side by side with PyTorch.
package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sort"
	"time"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/mtl"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/tensor"
)

// Workload is one benchmark: Setup builds the state and returns the
// operation to time. Flops, when non-zero, turns the time into GFLOP/s.
type Workload struct {
	Name  string
	Flops float64
	Setup func() func()
}

// Workloads lists the benchmark workloads.
func Workloads() []Workload {
	return []Workload{
		{Name: "seed_step", Setup: seedStep},
		{Name: "mlp_fwd_bwd", Setup: mlpFwdBwd},
		{Name: "sinusoid_maml_2nd", Setup: func() func() { return sinusoidMAML(false) }},
		{Name: "sinusoid_maml_1st", Setup: func() func() { return sinusoidMAML(true) }},
		{Name: "conv4_fwd_bwd_b25", Setup: conv4FwdBwd},
		{Name: "protonet_5w5s_episode", Setup: protoEpisode},
		{Name: "omniglot_maml_2nd", Setup: func() func() { return omniglotMAML(false) }},
		{Name: "omniglot_maml_1st", Setup: func() func() { return omniglotMAML(true) }},
		{Name: "mt_small_train_step", Setup: func() func() { return mtTrainStep(mtSmall) }},
		{Name: "mt_tiny_train_step", Setup: func() func() { return mtTrainStep(mtTiny) }},
		{Name: "mt_small_greedy_decode", Setup: func() func() { return mtGreedyDecode(mtSmall) }},
		{Name: "mt_small_beam4_decode", Setup: func() func() { return mtBeamDecode(mtSmall, 4) }},
		{Name: "gru_step", Setup: gruStep},
		{Name: "sgemm_512", Flops: 2 * 512 * 512 * 512, Setup: func() func() { return sgemm(512, 512, 512) }},
		{Name: "sgemm_10x40x40", Flops: 2 * 10 * 40 * 40, Setup: func() func() { return sgemm(10, 40, 40) }},
	}
}

func seedStep() func() {
	rng := rand.New(rand.NewPCG(1, 1))
	cfg := mtl.DefaultSeedConfig(false)
	m := mtl.NewSeedModel(rng, cfg, 1)
	x, y := data.SeedCircle.Sample(rng, 800)
	xs, ys := autodiff.Const(x), autodiff.Const(y)
	var vs []*autodiff.Var
	for _, p := range m.Params() {
		vs = append(vs, p.V)
	}
	opt := optim.NewAdam(vs, optim.AdamConfig{LR: 1e-3})
	return func() {
		opt.ZeroGrad()
		loss := nn.BCELoss(autodiff.Sigmoid(m.Logits(0, xs)), ys)
		loss.Backward()
		opt.Step()
		autodiff.Free(loss)
	}
}

func mlpFwdBwd() func() {
	rng := rand.New(rand.NewPCG(1, 1))
	m := nn.MLP(rng, nn.ReLU, 1, 40, 40, 1)
	x := autodiff.Const(tensor.RandU(rng, tensor.Float32, -5, 5, 10, 1))
	y := autodiff.Const(tensor.RandN(rng, tensor.Float32, 1, 10, 1))
	return func() {
		nn.ZeroGrad(m)
		nn.MSELoss(nn.Forward(m, x), y).Backward()
	}
}

// sinusoidMAML is one outer step: 25 tasks, 10 support + 10 query, one
// inner step of 0.01, Adam outer.
func sinusoidMAML(firstOrder bool) func() {
	rng := rand.New(rand.NewPCG(1, 1))
	m, _ := meta.NewMAML(nil, nn.MLP(rng, nn.ReLU, 1, 40, 40, 1), meta.MAMLConfig{InnerLR: 0.01, InnerSteps: 1, FirstOrder: firstOrder})
	tasks := data.EvalSet(data.Sinusoid{Support: 10, Query: 10}, 25, 1)
	opt := optim.NewAdam(m.MetaParams(), optim.AdamConfig{LR: 1e-3})
	return func() {
		grads := make([][]*tensor.Tensor, len(tasks))
		meta.Parallel(len(tasks), 0, func(i int) { grads[i], _ = m.TaskGradient(tasks[i], 0) })
		opt.StepWith(meta.AverageGrads(grads))
	}
}

func conv4Net(rng *rand.Rand) nn.Module {
	return nn.NewSequential(nn.Conv4(rng, 1, 64), nn.NewLinear(rng, 64, 5))
}

func conv4FwdBwd() func() {
	rng := rand.New(rand.NewPCG(1, 1))
	m := conv4Net(rng)
	x := autodiff.Const(tensor.RandN(rng, tensor.Float32, 1, 25, 1, 28, 28))
	labels := make([]int, 25)
	for i := range labels {
		labels[i] = i % 5
	}
	return func() {
		nn.ZeroGrad(m)
		loss := nn.CrossEntropyLoss(nn.Forward(m, x), labels, 0)
		loss.Backward()
		autodiff.Free(loss) // as a training loop does: the next step reuses the storage
	}
}

func protoEpisode() func() {
	rng := rand.New(rand.NewPCG(1, 1))
	enc := nn.Conv4(rng, 1, 64)
	p, _ := meta.NewProtoNet(enc, meta.Prototypes)
	opt := optim.NewAdam(p.MetaParams(), optim.AdamConfig{LR: 1e-3})
	t := data.Task{SupportX: tensor.RandN(rng, tensor.Float32, 1, 25, 1, 28, 28), QueryX: tensor.RandN(rng, tensor.Float32, 1, 75, 1, 28, 28), Ways: 5}
	for i := 0; i < 25; i++ {
		t.SupportLabels = append(t.SupportLabels, i/5)
	}
	for i := 0; i < 75; i++ {
		t.QueryLabels = append(t.QueryLabels, i/15)
	}
	return func() {
		g, _ := p.TaskGradient(t, 0)
		opt.StepWith(g)
	}
}

// omniglotMAML is one outer step of MAML on Omniglot-shaped data: 5-way
// 1-shot, 15 queries per class, meta-batch 4, one inner step of 0.4,
// conv4 (64 filters, transductive BatchNorm) + linear head, Adam outer.
// Random images stand in for Omniglot (the cost does not depend on pixels).
func omniglotMAML(firstOrder bool) func() {
	rng := rand.New(rand.NewPCG(1, 1))
	enc := nn.Conv4(rng, 1, 64)
	for _, l := range enc.Layers {
		if bn, ok := l.(*nn.BatchNorm); ok {
			bn.TrackRunningStats = false
		}
	}
	m, _ := meta.NewMAML(nil, nn.NewSequential(enc, nn.NewLinear(rng, 64, 5)), meta.MAMLConfig{InnerLR: 0.4, InnerSteps: 1, FirstOrder: firstOrder})
	tasks := make([]data.Task, 4)
	for i := range tasks {
		t := data.Task{SupportX: tensor.RandN(rng, tensor.Float32, 1, 5, 1, 28, 28), QueryX: tensor.RandN(rng, tensor.Float32, 1, 75, 1, 28, 28), Ways: 5}
		for c := 0; c < 5; c++ {
			t.SupportLabels = append(t.SupportLabels, c)
		}
		for q := 0; q < 75; q++ {
			t.QueryLabels = append(t.QueryLabels, q/15)
		}
		tasks[i] = t
	}
	opt := optim.NewAdam(m.MetaParams(), optim.AdamConfig{LR: 1e-3})
	return func() {
		grads := make([][]*tensor.Tensor, len(tasks))
		meta.Parallel(len(tasks), 0, func(i int) { grads[i], _ = m.TaskGradient(tasks[i], 0) })
		opt.StepWith(meta.AverageGrads(grads))
	}
}

// mtShape is a translation-model benchmark shape: a pre-LN Transformer
// with tied embeddings over a shared vocabulary, batches of mtBatch pairs
// of mtLen source and mtLen target tokens (the decoder reads mtLen tokens
// and predicts mtLen), dropout 0.1, label smoothing 0.1, Adam.
type mtShape struct {
	dModel, heads, layers, ffn, vocab int
}

var (
	mtSmall = mtShape{dModel: 256, heads: 4, layers: 3, ffn: 1024, vocab: 8000}
	mtTiny  = mtShape{dModel: 128, heads: 4, layers: 2, ffn: 512, vocab: 4000}
)

const mtBatch, mtLen = 64, 24

func mtModel(s mtShape) (*nn.Seq2Seq, *rand.Rand) {
	rng := rand.New(rand.NewPCG(1, 1))
	m, err := nn.NewSeq2Seq(rng, s.vocab, nn.TransformerConfig{DModel: s.dModel, Heads: s.heads, EncoderLayers: s.layers,
		DecoderLayers: s.layers, FFN: s.ffn, Dropout: 0.1, NormFirst: true, Seed: 1})
	if err != nil {
		panic(err)
	}
	return m, rng
}

// randomTokens is n rows of t random ids in [3, vocab) (0-2: padding,
// begin and end of sentence).
func randomTokens(rng *rand.Rand, n, t, vocab int) nn.Tokens {
	tk := nn.Tokens{IDs: make([]int, n*t), Lens: make([]int, n), T: t}
	for i := range tk.IDs {
		tk.IDs[i] = 3 + rng.IntN(vocab-3)
	}
	for i := range tk.Lens {
		tk.Lens[i] = t
	}
	return tk
}

func mtTrainStep(s mtShape) func() {
	m, rng := mtModel(s)
	src := randomTokens(rng, mtBatch, mtLen, s.vocab)
	tgt := randomTokens(rng, mtBatch, mtLen+1, s.vocab) // decoder input = first 24, labels = last 24
	w := nn.Vars(m)
	opt := optim.NewAdam(w, optim.AdamConfig{LR: 1e-4})
	return func() {
		opt.ZeroGrad()
		loss, _ := m.Loss(w, src, tgt, 0.1)
		loss.Backward()
		opt.Step()
		autodiff.Free(loss)
	}
}

// mtGreedyDecode is 24 greedy steps (no early stop) for 64 sources of 24
// tokens, with the incremental (key/value cached) decoder.
func mtGreedyDecode(s mtShape) func() {
	m, rng := mtModel(s)
	m.SetTraining(false)
	src := randomTokens(rng, mtBatch, mtLen, s.vocab)
	w := nn.Vars(m)
	return func() {
		st := m.StartDecoding(w, src)
		tokens := make([]int, mtBatch)
		for i := range tokens {
			tokens[i] = 1
		}
		for step := 0; step < mtLen; step++ {
			tokens = tensor.ArgMax(st.Step(tokens), -1)
		}
	}
}

// mtBeamDecode is beam search (length penalty 0.6, at most 24 output
// tokens) for 64 sources of 24 tokens; how soon hypotheses end depends on
// the (random, fixed) model.
func mtBeamDecode(s mtShape, beam int) func() {
	m, rng := mtModel(s)
	m.SetTraining(false)
	src := randomTokens(rng, mtBatch, mtLen, s.vocab)
	w := nn.Vars(m)
	cfg := nn.SearchConfig{Beam: beam, LengthPenalty: 0.6, MaxLenConst: mtLen, BOS: 1, EOS: 2}
	return func() {
		if _, err := nn.BeamSearch(m.StartDecoding(w, src), src.Lens, cfg); err != nil {
			panic(err)
		}
	}
}

// gruStep is a 1-layer GRU (input and hidden 512) over a batch of 64
// sequences of 24 steps, forward and backward (to the weights; the loss is
// the sum of the outputs).
func gruStep() func() {
	rng := rand.New(rand.NewPCG(1, 1))
	g := nn.NewGRU(rng, 512, 512, 1)
	w := nn.Vars(g)
	x := autodiff.Const(tensor.RandN(rng, tensor.Float32, 1, 64, 24, 512))
	return func() {
		nn.ZeroGrad(g)
		out, _ := g.Run(w, x, nil, nil)
		loss := autodiff.Sum(out, false)
		loss.Backward()
		autodiff.Free(loss)
	}
}

func sgemm(m, n, k int) func() {
	rng := rand.New(rand.NewPCG(1, 1))
	a := tensor.RandN(rng, tensor.Float32, 1, m, k)
	b := tensor.RandN(rng, tensor.Float32, 1, k, n)
	return func() { tensor.MatMul(a, b) }
}

// Result is one workload's numbers.
type Result struct {
	Workload string  `json:"workload"`
	GoMS     float64 `json:"go_median_ms"`
	GoHeapMB float64 `json:"go_peak_heap_mb"`
	// Peak resident memory added while the workload ran (warm-up and timed
	// runs) over the process's resident set just before it; -1 where it
	// cannot be measured. Measured the same way for PyTorch.
	GoRSSMB    float64 `json:"go_peak_rss_mb"`
	TorchRSSMB float64 `json:"torch_peak_rss_mb,omitempty"`
	TorchMS    float64 `json:"torch_median_ms,omitempty"`
	Ratio      float64 `json:"ratio_torch_over_go,omitempty"`
	GoGFLOPS   float64 `json:"go_gflops,omitempty"`
	TorchGFLOP float64 `json:"torch_gflops,omitempty"`
	Runs       int     `json:"go_runs"`
}

// RunGo times a workload: warm-up, then at least minRuns runs and minTime,
// returning the median in milliseconds, the run count, the peak heap in
// use seen by a sampler and the peak resident memory added (MiB, -1 if
// unavailable). The heap sampler (runtime.ReadMemStats stops the world)
// runs only during a few extra runs after the timed ones, so that it does
// not interrupt the timed runs' parallel kernels; the peak resident set
// covers the warm-up, timed and sampled runs.
func RunGo(w Workload, minRuns int, minTime time.Duration) (ms float64, runs int, heapMB, rssMB float64) {
	op := w.Setup()
	runtime.GC()
	debug.FreeOSMemory()
	base, rssOK := resetPeakRSS()
	for i := 0; i < 3; i++ {
		op()
	}
	runtime.GC()
	var times []float64
	start := time.Now()
	for len(times) < minRuns || time.Since(start) < minTime {
		t0 := time.Now()
		op()
		times = append(times, float64(time.Since(t0).Nanoseconds())/1e6)
	}
	p := sampledHeap(op, 3)
	rssMB = -1
	if hwm, ok := peakRSS(); ok && rssOK {
		rssMB = float64(hwm-base) / 1024
	}
	sort.Float64s(times)
	return times[len(times)/2], len(times), float64(p) / (1 << 20), rssMB
}

// sampledHeap runs op n times while sampling the heap in use every 2 ms
// and returns the peak seen.
func sampledHeap(op func(), n int) uint64 {
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		p := m.HeapInuse
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				runtime.ReadMemStats(&m)
				peak <- max(p, m.HeapInuse)
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				p = max(p, m.HeapInuse)
			}
		}
	}()
	for i := 0; i < n; i++ {
		op()
	}
	close(stop)
	return <-peak
}

// TorchAvailable reports whether python3 with torch can run.
func TorchAvailable(python string) bool {
	return exec.Command(python, "-c", "import torch").Run() == nil
}

// TorchResult is one workload's PyTorch numbers.
type TorchResult struct {
	MS    float64 // median milliseconds
	RSSMB float64 // peak resident memory added, MiB (0 if not reported)
}

// RunTorch runs the PyTorch reference script (only the workloads whose name
// contains only, when it is not empty) and returns its numbers by workload.
func RunTorch(python, script string, threads int, only string) (map[string]TorchResult, error) {
	args := []string{script, "--threads", fmt.Sprint(threads)}
	if only != "" {
		args = append(args, "--only", only)
	}
	cmd := exec.Command(python, args...)
	cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX", fmt.Sprintf("OMP_NUM_THREADS=%d", threads))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("bench: %s %s: %v: %s", python, script, err, errb.String())
	}
	res := map[string]TorchResult{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r struct {
			Workload string  `json:"workload"`
			Median   float64 `json:"median_ms"`
			RSS      float64 `json:"peak_rss_mb"`
		}
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Workload != "" {
			res[r.Workload] = TorchResult{MS: r.Median, RSSMB: r.RSS}
		}
	}
	return res, nil
}
