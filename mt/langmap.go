package mt

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/plots"
	"github.com/metalearn/metalearn/runfolder"
	"github.com/metalearn/metalearn/stats"
	"github.com/metalearn/metalearn/tensor"
	"github.com/metalearn/metalearn/transfer"
)

// LangMapFormat names the JSON layout of a saved LangMap.
const LangMapFormat = "metalearn-mt-langmap/1"

// LangMap is the language relationship map: Gain[s][t] is the transfer
// gain of source language s for target language t (the metric of a model
// trained on English->s and then adapted to English->t, minus the metric
// of the same adaptation from random weights), and optionally the TAG
// affinity measured during multilingual training.
type LangMap struct {
	Format    string      `json:"format"`
	Languages []string    `json:"languages"`
	Metric    string      `json:"metric"`
	Gain      [][]float64 `json:"gain"`
	// Scratch[t] is the from-scratch baseline of target t, Adapted[s][t]
	// the adapted model's score (Gain = Adapted - Scratch).
	Scratch  []float64          `json:"scratch,omitempty"`
	Adapted  [][]float64        `json:"adapted,omitempty"`
	Affinity *transfer.Affinity `json:"affinity,omitempty"`
	Command  string             `json:"command,omitempty"`
}

// Validate checks the map's shape and values.
func (m *LangMap) Validate() error {
	n := len(m.Languages)
	if n == 0 {
		return errors.New("language map: no languages")
	}
	seen := map[string]bool{}
	for _, l := range m.Languages {
		if l == "" || seen[l] {
			return fmt.Errorf("language map: language %q empty or repeated", l)
		}
		seen[l] = true
	}
	if len(m.Gain) != n {
		return fmt.Errorf("language map: gain has %d rows for %d languages", len(m.Gain), n)
	}
	for i, row := range m.Gain {
		if len(row) != n {
			return fmt.Errorf("language map: gain row %d (%s) has %d entries, want %d", i, m.Languages[i], len(row), n)
		}
		for j, v := range row {
			if math.IsInf(v, 0) {
				return fmt.Errorf("language map: gain[%s][%s] = %v, want finite (NaN for not measured)", m.Languages[i], m.Languages[j], v)
			}
		}
	}
	return nil
}

// Save writes the map as JSON (atomically).
func (m *LangMap) Save(path string) error {
	m.Format = LangMapFormat
	if err := m.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m.jsonSafe(), "", "  ")
	if err != nil {
		return err
	}
	return runfolder.WriteFileAtomic(path, append(b, '\n'))
}

// jsonSafe replaces NaN (not measured) by null-able values: JSON has no
// NaN, so unmeasured cells are written as null through *float64 rows.
func (m *LangMap) jsonSafe() any {
	type out struct {
		*LangMap
		Gain [][]*float64 `json:"gain"`
	}
	o := out{LangMap: m, Gain: make([][]*float64, len(m.Gain))}
	for i, row := range m.Gain {
		for _, v := range row {
			if math.IsNaN(v) {
				o.Gain[i] = append(o.Gain[i], nil)
			} else {
				v := v
				o.Gain[i] = append(o.Gain[i], &v)
			}
		}
	}
	return o
}

// LoadLangMap reads a map written by Save.
func LoadLangMap(path string) (*LangMap, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw struct {
		LangMap
		Gain [][]*float64 `json:"gain"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("language map %s: %v", path, err)
	}
	m := raw.LangMap
	if m.Format != LangMapFormat {
		return nil, fmt.Errorf("language map %s: format %q, want %q", path, m.Format, LangMapFormat)
	}
	m.Gain = make([][]float64, len(raw.Gain))
	for i, row := range raw.Gain {
		for _, v := range row {
			if v == nil {
				m.Gain[i] = append(m.Gain[i], math.NaN())
			} else {
				m.Gain[i] = append(m.Gain[i], *v)
			}
		}
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// AutoSource returns the source language with the largest measured gain
// for target (itself excluded), restricted to candidates when given (e.g.
// the languages a model knows). Ties go to the first in Languages order.
func (m *LangMap) AutoSource(target string, candidates []string) (string, float64, error) {
	t := slices.Index(m.Languages, target)
	if t < 0 {
		return "", 0, fmt.Errorf("language map: no column for target %q (it has %s)", target, strings.Join(m.Languages, ", "))
	}
	best, bestV := "", math.Inf(-1)
	for s, l := range m.Languages {
		if s == t || (candidates != nil && !slices.Contains(candidates, l)) {
			continue
		}
		if v := m.Gain[s][t]; !math.IsNaN(v) && v > bestV {
			best, bestV = l, v
		}
	}
	if best == "" {
		return "", 0, fmt.Errorf("language map: no measured source language for target %q among %v", target, candidates)
	}
	return best, bestV, nil
}

// Plot draws the gain matrix as a heatmap (base.png, base.svg).
func (m *LangMap) Plot(base string) ([]string, error) {
	return plots.Heatmap{
		Title:     fmt.Sprintf("Transfer gain (%s)", m.Metric),
		XLabel:    "target language (adapted to)",
		YLabel:    "source language (trained on)",
		RowLabels: m.Languages, ColLabels: m.Languages, Values: m.Gain,
	}.Save(base)
}

// Groups partitions the languages into k groups by the symmetrised gain
// (Gain + Gain^T, unmeasured cells as 0) with transfer.GroupTasks.
func (m *LangMap) Groups(k int) (*transfer.GroupResult, error) {
	n := len(m.Languages)
	z := make([][]float64, n)
	for i := range z {
		z[i] = make([]float64, n)
		for j := range z[i] {
			a, b := m.Gain[i][j], m.Gain[j][i]
			if math.IsNaN(a) {
				a = 0
			}
			if math.IsNaN(b) {
				b = 0
			}
			z[i][j] = a + b
		}
	}
	return transfer.GroupTasks(z, m.Languages, k)
}

// TransferMapConfig configures TransferMap: for every source language s a
// bilingual English->s model (Source.Steps), then for every target t its
// K-pair adaptation from that model (Target.Steps, MethodFinetune) and
// from random weights (MethodScratch, with t's own bilingual model's
// architecture and vocabulary, one baseline per target), all scored on
// t's dev split.
type TransferMapConfig struct {
	Data      string
	Languages []string
	// Source is the bilingual training run (Pairs, Data, Tags and Out are
	// set per language); Target the adaptation run.
	Source, Target TrainConfig
	// K target pairs (SampleK of the train split, seeded by Seed).
	K    int
	Seed uint64
	// EvalSentences: the first so many dev sentences score each
	// adaptation (0: all).
	EvalSentences int
	Out           string
	Log           func(string)
}

// TransferMap measures the gain matrix (see TransferMapConfig).
func TransferMap(c TransferMapConfig) (*LangMap, error) {
	if len(c.Languages) < 2 {
		return nil, fmt.Errorf("mt langmap: %d languages, want >= 2", len(c.Languages))
	}
	if c.Out == "" {
		return nil, errors.New("mt langmap: no output folder")
	}
	logf := func(f string, a ...any) {
		if c.Log != nil {
			c.Log(fmt.Sprintf(f, a...))
		}
	}
	n := len(c.Languages)
	models := make([]string, n)
	for i, s := range c.Languages {
		tc := c.Source
		tc.Data, tc.Pairs, tc.Tags, tc.Out = c.Data, []string{"en-" + s}, c.Languages, filepath.Join(c.Out, "source-"+s)
		r, err := Train(tc)
		if err != nil {
			return nil, fmt.Errorf("mt langmap: source %s: %w", s, err)
		}
		models[i] = r.Model
		logf("source %s: %s", s, r.Model)
	}
	score := func(model, t string) (float64, error) {
		m, _, err := LoadModel(model)
		if err != nil {
			return 0, err
		}
		rep, err := EvaluateModel(m, ModelEvalOptions{Data: c.Data, Split: "dev", Pairs: []string{"en-" + t},
			MaxSentences: c.EvalSentences, Eval: EvalOptions{Metrics: []string{"chrf"}, Bootstrap: -1}})
		if err != nil {
			return 0, err
		}
		return rep[0].Report.Results[0].Score, nil
	}
	lm := &LangMap{Languages: slices.Clone(c.Languages), Metric: "chrF", Gain: make([][]float64, n), Adapted: make([][]float64, n),
		Scratch: make([]float64, n)}
	for i := range lm.Gain {
		lm.Gain[i] = make([]float64, n)
		lm.Adapted[i] = make([]float64, n)
	}
	for j, t := range c.Languages {
		all, err := data.LoadLoMTPair(c.Data, "train", "en", t)
		if err != nil {
			return nil, fmt.Errorf("mt langmap: %w", err)
		}
		pairs, err := SampleK(all, c.K, c.Seed)
		if err != nil {
			return nil, fmt.Errorf("mt langmap: target %s: %w", t, err)
		}
		adapt := func(method, from, out string) (float64, error) {
			tc := c.Target
			tc.Data = c.Data
			r, err := AdaptNewLanguage(NewLangConfig{Model: from, Lang: t, Pairs: pairs, Method: method, Train: tc, Out: out})
			if err != nil {
				return 0, err
			}
			return score(r.Model, t)
		}
		if lm.Scratch[j], err = adapt(MethodScratch, models[j], filepath.Join(c.Out, "scratch-"+t)); err != nil {
			return nil, fmt.Errorf("mt langmap: scratch %s: %w", t, err)
		}
		for i, s := range c.Languages {
			v, err := adapt(MethodFinetune, models[i], filepath.Join(c.Out, "adapt-"+s+"-"+t))
			if err != nil {
				return nil, fmt.Errorf("mt langmap: %s -> %s: %w", s, t, err)
			}
			lm.Adapted[i][j], lm.Gain[i][j] = v, v-lm.Scratch[j]
			logf("%s -> %s: chrF %.2f (scratch %.2f, gain %+.2f)", s, t, v, lm.Scratch[j], lm.Gain[i][j])
		}
	}
	return lm, nil
}

// LanguageAffinity trains c (a multilingual run, Train) and measures the
// TAG affinity between its directions along the way (Fifty et al. 2021,
// the formula of transfer.TaskAffinity): every `every` steps, for every
// direction i, the weights shared by all directions take one SGD step of
// rate lr on i's loss, and Z[i][j] accumulates 1 - L_j(after)/L_j(before)
// on a fixed batch of each direction j (its first `sentences` training
// pairs, dropout off). Z[i][j] > 0: a step on i lowers j's loss.
func LanguageAffinity(c TrainConfig, every int, lr float64, sentences int) (*transfer.Affinity, *TrainResult, error) {
	if every < 1 || !(lr > 0) || sentences < 1 {
		return nil, nil, fmt.Errorf("mt affinity: every = %d, lr = %v, sentences = %d: want >= 1, > 0, >= 1", every, lr, sentences)
	}
	if err := c.validate(); err != nil {
		return nil, nil, err
	}
	cc := c
	cc.ValEvery = 0
	dirs, err := loadDirections(&cc)
	if err != nil {
		return nil, nil, err
	}
	n := len(dirs)
	sum := make([][]float64, n)
	for i := range sum {
		sum[i] = make([]float64, n)
	}
	var batches []data.SeqBatch
	looks := 0
	c.AfterStep = func(step int, m *Model) error {
		if step%every != 0 {
			return nil
		}
		if batches == nil {
			for _, d := range dirs {
				var ps []data.SeqPair
				for _, s := range d.rawTrain[:min(sentences, len(d.rawTrain))] {
					src, err := m.EncodeSource(s.Source, d.tgt, c.MaxLen)
					if err != nil {
						return err
					}
					ps = append(ps, data.SeqPair{Src: src, Tgt: m.EncodeTarget(s.Target, c.MaxLen)})
				}
				bs, err := data.TokenBatches(ps, data.TokenBatchConfig{MaxTokens: 1 << 30, Pad: PAD, Seed: 1})
				if err != nil {
					return err
				}
				batches = append(batches, bs[0])
			}
		}
		m.SetTraining(false)
		defer m.SetTraining(true)
		params := m.Params()
		shared := map[*autodiff.Var]bool{}
		for _, p := range params {
			if !strings.HasPrefix(p.Name, "decoder.") {
				shared[p.V] = true
			}
		}
		loss := func(j int, grad bool) (float64, map[*autodiff.Var]*tensor.Tensor, error) {
			net, w, err := m.net(dirs[j].tgt)
			if err != nil {
				return 0, nil, err
			}
			var l *autodiff.Var
			if !grad {
				autodiff.NoGrad(func() { l, _ = net.Loss(w, batches[j].Src, batches[j].Tgt, 0) })
				return l.Item(), nil, nil
			}
			l, _ = net.Loss(w, batches[j].Src, batches[j].Tgt, 0)
			gs := autodiff.Grad([]*autodiff.Var{l}, w, false)
			g := map[*autodiff.Var]*tensor.Tensor{}
			for k, v := range w {
				if gs[k] != nil && shared[v] {
					g[v] = gs[k].Value
				}
			}
			return l.Item(), g, nil
		}
		before := make([]float64, n)
		grads := make([]map[*autodiff.Var]*tensor.Tensor, n)
		for j := range dirs {
			if before[j], grads[j], err = loss(j, true); err != nil {
				return err
			}
		}
		for i := range dirs {
			saved := map[*autodiff.Var]*tensor.Tensor{}
			for v, g := range grads[i] {
				saved[v] = v.Value
				v.Value = tensor.Sub(v.Value, tensor.Scale(g, lr))
			}
			for j := range dirs {
				after, _, err := loss(j, false)
				if err != nil {
					return err
				}
				if before[j] > 0 && !math.IsNaN(after) && !math.IsInf(after, 0) {
					sum[i][j] += 1 - after/before[j]
				}
			}
			for v, t := range saved {
				v.Value = t
			}
		}
		looks++
		return nil
	}
	res, err := Train(c)
	if err != nil {
		return nil, nil, err
	}
	a := &transfer.Affinity{Lookaheads: looks, Z: make([][]float64, n)}
	for i, d := range dirs {
		a.Tasks = append(a.Tasks, d.name)
		a.Z[i] = make([]float64, n)
		for j := range dirs {
			if looks > 0 {
				a.Z[i][j] = sum[i][j] / float64(looks)
			}
		}
	}
	return a, res, nil
}

// NewLangRun is one adaptation run's record (written by `mt adapt` as
// result.json and read by Curves).
type NewLangRun struct {
	Lang   string  `json:"lang"`
	K      int     `json:"k"`
	Method string  `json:"method"`
	Seed   uint64  `json:"seed"`
	Steps  int     `json:"steps"`
	ChrF   float64 `json:"chrf"`
	BLEU   float64 `json:"bleu"`
	Split  string  `json:"split"`
	Source string  `json:"source,omitempty"`
}

// CurvePoint is one (language, method, K) point of a learning curve: the
// mean over seeds with its 95% t-interval half-width (stats.MeanCI95;
// 0 with one seed).
type CurvePoint struct {
	Lang, Method   string
	K, Seeds       int
	ChrF, ChrFHalf float64
	BLEU, BLEUHalf float64
}

// Curves groups runs by (language, method, K) and averages over seeds.
func Curves(runs []NewLangRun) []CurvePoint {
	type key struct {
		lang, method string
		k            int
	}
	groups := map[key][]NewLangRun{}
	for _, r := range runs {
		k := key{r.Lang, r.Method, r.K}
		groups[k] = append(groups[k], r)
	}
	var out []CurvePoint
	for k, rs := range groups {
		var c, b []float64
		for _, r := range rs {
			c, b = append(c, r.ChrF), append(b, r.BLEU)
		}
		p := CurvePoint{Lang: k.lang, Method: k.method, K: k.k, Seeds: len(rs)}
		p.ChrF, _, p.ChrFHalf = stats.MeanCI95(c)
		p.BLEU, _, p.BLEUHalf = stats.MeanCI95(b)
		if len(rs) < 2 {
			p.ChrFHalf, p.BLEUHalf = 0, 0
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Lang != b.Lang {
			return a.Lang < b.Lang
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		return a.K < b.K
	})
	return out
}

// CurvesTable formats the points as a Markdown table.
func CurvesTable(ps []CurvePoint) string {
	var b strings.Builder
	b.WriteString("| lang | method | K | seeds | chrF (95% CI) | BLEU (95% CI) |\n|---|---|---|---|---|---|\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %.2f ± %.2f | %.2f ± %.2f |\n", p.Lang, p.Method, p.K, p.Seeds, p.ChrF, p.ChrFHalf, p.BLEU, p.BLEUHalf)
	}
	return b.String()
}

// PlotCurves draws chrF vs K per method with 95% CI bars, one chart per
// language (base-<lang>.png/.svg), and returns the files.
func PlotCurves(ps []CurvePoint, base string) ([]string, error) {
	byLang := map[string]map[string]*plots.Series{}
	var langs []string
	for _, p := range ps {
		if byLang[p.Lang] == nil {
			byLang[p.Lang] = map[string]*plots.Series{}
			langs = append(langs, p.Lang)
		}
		s := byLang[p.Lang][p.Method]
		if s == nil {
			s = &plots.Series{Name: p.Method}
			byLang[p.Lang][p.Method] = s
		}
		s.X, s.Y = append(s.X, float64(p.K)), append(s.Y, p.ChrF)
		s.Lo, s.Hi = append(s.Lo, p.ChrF-p.ChrFHalf), append(s.Hi, p.ChrF+p.ChrFHalf)
	}
	var files []string
	for _, l := range langs {
		var methods []string
		for m := range byLang[l] {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		var series []plots.Series
		for _, m := range methods {
			series = append(series, *byLang[l][m])
		}
		fs, err := plots.Line{Title: "en-" + l + ": chrF vs K (95% CI)",
			XLabel: "K (training pairs)", YLabel: "chrF", LogX: true, Series: series}.Save(base + "-" + l)
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	return files, nil
}

// ReadRuns reads every result.json under dir (recursively).
func ReadRuns(dir string) ([]NewLangRun, error) {
	var out []NewLangRun
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "result.json" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var r NewLangRun
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		if r.Lang == "" || r.Method == "" || r.K < 1 {
			return fmt.Errorf("%s: not an adaptation result (lang %q, method %q, k %d)", p, r.Lang, r.Method, r.K)
		}
		out = append(out, r)
		return nil
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("no result.json under %s", dir)
	}
	return out, err
}

// LangMapOptions is one `metalearn mt langmap` run.
type LangMapOptions struct {
	Map TransferMapConfig
	// Affinity > 0 also trains a multilingual model on English -> every
	// language (AffinityTrain, Map.Source's settings by default) and
	// measures the TAG affinity every Affinity steps (lookahead rate
	// AffinityLR on AffinitySentences sentences per language).
	Affinity          int
	AffinityLR        float64
	AffinitySentences int
	AffinityTrain     *TrainConfig
	// Groups > 0 partitions the languages into this many groups.
	Groups  int
	Command string
}

// LangMapReport is what BuildLangMap wrote.
type LangMapReport struct {
	Map      *LangMap              `json:"map"`
	Files    []string              `json:"files"`
	Groups   *transfer.GroupResult `json:"groups,omitempty"`
	AffGroup *transfer.GroupResult `json:"affinity_groups,omitempty"`
}

// BuildLangMap measures the transfer-gain map (TransferMap) and, if asked,
// the TAG affinity, writes Out/langmap.json, the heatmaps
// (Out/langmap-gain.png/.svg, Out/langmap-affinity.png/.svg) and groups
// the languages.
func BuildLangMap(o LangMapOptions) (*LangMapReport, error) {
	lm, err := TransferMap(o.Map)
	if err != nil {
		return nil, err
	}
	lm.Command = o.Command
	rep := &LangMapReport{Map: lm}
	if o.Affinity > 0 {
		tc := o.Map.Source
		if o.AffinityTrain != nil {
			tc = *o.AffinityTrain
		}
		tc.Data, tc.Out = o.Map.Data, filepath.Join(o.Map.Out, "affinity-run")
		tc.Pairs = nil
		for _, l := range o.Map.Languages {
			tc.Pairs = append(tc.Pairs, "en-"+l)
		}
		lr, sents := o.AffinityLR, o.AffinitySentences
		if lr == 0 {
			lr = tc.LR
		}
		if sents == 0 {
			sents = 32
		}
		a, _, err := LanguageAffinity(tc, o.Affinity, lr, sents)
		if err != nil {
			return nil, fmt.Errorf("mt langmap: affinity: %w", err)
		}
		lm.Affinity = a
		fs, err := a.Plot(filepath.Join(o.Map.Out, "langmap-affinity"))
		if err != nil {
			return nil, err
		}
		rep.Files = append(rep.Files, fs...)
	}
	path := filepath.Join(o.Map.Out, "langmap.json")
	if err := lm.Save(path); err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, path)
	fs, err := lm.Plot(filepath.Join(o.Map.Out, "langmap-gain"))
	if err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, fs...)
	if o.Groups > 0 {
		if rep.Groups, err = lm.Groups(o.Groups); err != nil {
			return nil, err
		}
		if lm.Affinity != nil {
			n := len(lm.Affinity.Z)
			z := make([][]float64, n)
			for i := range z {
				z[i] = make([]float64, n)
				for j := range z[i] {
					z[i][j] = lm.Affinity.Z[i][j] + lm.Affinity.Z[j][i]
				}
			}
			if rep.AffGroup, err = transfer.GroupTasks(z, lm.Affinity.Tasks, o.Groups); err != nil {
				return nil, err
			}
		}
	}
	return rep, nil
}
