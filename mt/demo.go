package mt

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/plots"
)

// DemoConfig configures Demo. Zero fields take the defaults of
// DefaultDemoConfig.
type DemoConfig struct {
	// Out is the output folder: pretrain/, adapt/ and scratch/ (each a
	// Train run folder) and demo.json (the DemoResult).
	Out string
	// PretrainSteps trains the multilingual model on the embedded en->de,
	// fr, es, it, nl, pt pairs (1,000 each); AdaptSteps continues it on
	// AdaptPairs en->gl pairs (the first of the 300 embedded ones), and
	// trains the same architecture from scratch on them for comparison.
	PretrainSteps, AdaptSteps, AdaptPairs int
	// Model size: d_model, heads, layers (encoder and decoder), FFN width
	// and BPE vocabulary size.
	DModel, Heads, Layers, FFN, VocabSize int
	Seed                                  uint64
	// Log receives progress lines.
	Log func(string)
}

// DefaultDemoConfig: a 64-wide, 1+1-layer Transformer, 1,500 pretraining
// and 300 adaptation steps on 100 gl pairs.
func DefaultDemoConfig() DemoConfig {
	return DemoConfig{PretrainSteps: 1500, AdaptSteps: 300, AdaptPairs: 100, DModel: 64, Heads: 4, Layers: 1, FFN: 256, VocabSize: 2000, Seed: 1}
}

// DemoResult is what Demo measured: chrF on the 200 held-out en->gl
// sentences (greedy) of the multilingual model before adaptation (it has
// a <2gl> tag but never saw Galician), after adaptation, and of the
// from-scratch model; the pretraining dev chrF (mean over its six
// directions).
type DemoResult struct {
	PretrainDevChrF float64      `json:"pretrain_dev_chrf"`
	ChrFBefore      float64      `json:"gl_chrf_before"`
	ChrFAfter       float64      `json:"gl_chrf_after"`
	ChrFScratch     float64      `json:"gl_chrf_scratch"`
	AdaptPairs      int          `json:"adapt_pairs"`
	Pretrain        *TrainResult `json:"pretrain"`
	Adapted         *TrainResult `json:"adapted"`
	Scratch         *TrainResult `json:"scratch"`
	// Plots are demo-gl.png/.svg: en->gl held-out chrF against steps,
	// adapted (from the pretrained model's score at step 0) and from
	// scratch.
	Plots []string `json:"plots"`
}

// Demo runs the demo of the languages-as-tasks idea on the embedded
// corpus (DemoPairs): it trains a tiny multilingual model (with a tag for
// gl, unseen), scores en->gl, adapts it to gl from AdaptPairs pairs
// (TrainConfig.Init) and scores again, next to the same model trained on
// those pairs alone.
func Demo(c DemoConfig) (*DemoResult, error) {
	d := DefaultDemoConfig()
	for _, f := range []struct {
		p   *int
		def int
	}{{&c.PretrainSteps, d.PretrainSteps}, {&c.AdaptSteps, d.AdaptSteps}, {&c.AdaptPairs, d.AdaptPairs},
		{&c.DModel, d.DModel}, {&c.Heads, d.Heads}, {&c.Layers, d.Layers}, {&c.FFN, d.FFN}, {&c.VocabSize, d.VocabSize}} {
		if *f.p == 0 {
			*f.p = f.def
		}
	}
	if c.Out == "" {
		return nil, fmt.Errorf("mt demo: no output folder")
	}
	if c.Log == nil {
		c.Log = func(string) {}
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return nil, fmt.Errorf("mt demo: %w", err)
	}
	train, err := DemoCorpus("train")
	if err != nil {
		return nil, err
	}
	dev, err := DemoCorpus("dev")
	if err != nil {
		return nil, err
	}
	glTrain, err := DemoPairs("train", DemoNew)
	if err != nil {
		return nil, err
	}
	glDev, err := DemoPairs("dev", DemoNew)
	if err != nil {
		return nil, err
	}
	if c.AdaptPairs < 1 || c.AdaptPairs > len(glTrain) {
		return nil, fmt.Errorf("mt demo: %d adaptation pairs, want 1..%d", c.AdaptPairs, len(glTrain))
	}
	adapt := map[string][]data.Segment{"en-" + DemoNew: glTrain[:c.AdaptPairs]}
	adaptDev := map[string][]data.Segment{"en-" + DemoNew: glDev}

	base := DefaultTrainConfig()
	base.DModel, base.Heads, base.EncoderLayers, base.DecoderLayers, base.FFN = c.DModel, c.Heads, c.Layers, c.Layers, c.FFN
	base.VocabSize, base.MaxLen, base.MaxTokens, base.Seed = c.VocabSize, 64, 1024, c.Seed
	base.ValSentences, base.CheckpointEvery = 200, 0
	base.Log = c.Log

	pre := base
	for l := range train {
		pre.Pairs = append(pre.Pairs, l)
	}
	slices.Sort(pre.Pairs)
	pre.TrainData, pre.DevData, pre.Tags = train, dev, []string{DemoNew}
	pre.Steps, pre.Warmup, pre.LR, pre.ValEvery = c.PretrainSteps, min(200, c.PretrainSteps/4+1), 2e-3, max(1, c.PretrainSteps/5)
	pre.Out = filepath.Join(c.Out, "pretrain")
	res := &DemoResult{AdaptPairs: c.AdaptPairs}
	start := time.Now()
	c.Log(fmt.Sprintf("mt demo: pretraining on %d directions x %d pairs, %d steps", len(pre.Pairs), len(train[pre.Pairs[0]]), pre.Steps))
	if res.Pretrain, err = Train(pre); err != nil {
		return nil, err
	}
	res.PretrainDevChrF = res.Pretrain.BestDevChrF
	if res.ChrFBefore, err = demoChrF(res.Pretrain.Model, glDev); err != nil {
		return nil, err
	}
	c.Log(fmt.Sprintf("mt demo: pretrained in %.0fs, dev chrF %.1f; en->gl chrF before adaptation %.1f", time.Since(start).Seconds(), res.PretrainDevChrF, res.ChrFBefore))

	ad := base
	ad.Pairs, ad.TrainData, ad.DevData, ad.Init = []string{"en-" + DemoNew}, adapt, adaptDev, res.Pretrain.Model
	ad.Steps, ad.Warmup, ad.LR, ad.ValEvery = c.AdaptSteps, min(30, c.AdaptSteps/4+1), 1e-3, max(1, c.AdaptSteps/5)
	ad.Out = filepath.Join(c.Out, "adapt")
	if res.Adapted, err = Train(ad); err != nil {
		return nil, err
	}
	if res.ChrFAfter, err = demoChrF(res.Adapted.Model, glDev); err != nil {
		return nil, err
	}
	sc := ad
	sc.Init, sc.Out, sc.LR, sc.Warmup = "", filepath.Join(c.Out, "scratch"), 2e-3, min(200, c.AdaptSteps/4+1)
	sc.VocabSize = min(c.VocabSize, 600) // 100 short sentences cannot fill a large vocabulary
	if res.Scratch, err = Train(sc); err != nil {
		return nil, err
	}
	if res.ChrFScratch, err = demoChrF(res.Scratch.Model, glDev); err != nil {
		return nil, err
	}
	c.Log(fmt.Sprintf("mt demo: en->gl chrF after adapting on %d pairs %.1f (from scratch on them: %.1f); %.0fs in all",
		c.AdaptPairs, res.ChrFAfter, res.ChrFScratch, time.Since(start).Seconds()))
	adaptCurve, err := readDevCurve(res.Adapted.DevCurvePath)
	if err != nil {
		return nil, err
	}
	scratchCurve, err := readDevCurve(res.Scratch.DevCurvePath)
	if err != nil {
		return nil, err
	}
	adaptCurve.X = append([]float64{0}, adaptCurve.X...)
	adaptCurve.Y = append([]float64{res.ChrFBefore}, adaptCurve.Y...)
	adaptCurve.Name = fmt.Sprintf("multilingual model adapted on %d pairs", c.AdaptPairs)
	scratchCurve.Name = fmt.Sprintf("from scratch on the %d pairs", c.AdaptPairs)
	chart := plots.Line{Title: "A new language (gl) from few pairs: held-out chrF", XLabel: "training steps on gl", YLabel: "chrF (200 held-out en->gl)",
		LegendBottom: true, Series: []plots.Series{adaptCurve, scratchCurve}}
	if res.Plots, err = chart.Save(filepath.Join(c.Out, "demo-gl")); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(c.Out, "demo.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return res, nil
}

// demoChrF is the corpus chrF of the model at path on segs (greedy).
func demoChrF(path string, segs []data.Segment) (float64, error) {
	m, _, err := LoadModel(path)
	if err != nil {
		return 0, err
	}
	src := make([]string, len(segs))
	refs := make([]string, len(segs))
	for i, s := range segs {
		src[i], refs[i] = s.Source, s.Target
	}
	hyps, err := m.Translate(src, DemoNew, TranslateOptions{})
	if err != nil {
		return 0, err
	}
	out := make([]string, len(hyps))
	for i, h := range hyps {
		out[i] = h[0].Text
	}
	sc, err := CHRF{}.Corpus(out, [][]string{refs})
	if err != nil {
		return 0, err
	}
	return sc.Score, nil
}

// readDevCurve reads a run's dev.jsonl (step and chrF per line).
func readDevCurve(path string) (plots.Series, error) {
	var sr plots.Series
	b, err := os.ReadFile(path)
	if err != nil {
		return sr, fmt.Errorf("mt demo: %w", err)
	}
	for i, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var p struct {
			Step int     `json:"step"`
			ChrF float64 `json:"chrf"`
		}
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			return sr, fmt.Errorf("mt demo: %s:%d: %v", path, i+1, err)
		}
		sr.X = append(sr.X, float64(p.Step))
		sr.Y = append(sr.Y, p.ChrF)
	}
	return sr, nil
}
