package mt

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/runfolder"
)

// AdaptOptions is one `metalearn mt adapt` run: where the new language's
// pairs come from, how the related language is chosen, the method, and
// the evaluation of the adapted model.
type AdaptOptions struct {
	Model string
	Lang  string
	// PairsFile, when set, holds the English -> Lang pairs: a .po file
	// (its translated, non-fuzzy entries) or a parallel .tsv (source,
	// target or id, source, target). Otherwise K pairs are drawn from
	// the lo-mt train split under Data (SampleK with Seed).
	PairsFile string
	Data      string
	K         int
	Seed      uint64
	// Method: MethodScratch, MethodFinetune, MethodMeta, MethodMix
	// (MetaAlgorithm "fomaml" or "reptile" for MethodMeta).
	Method string
	// TagFrom initialises the new tag (default: Related when set).
	// Related is the related language (tag init and, for MethodMix, the
	// mixed-in language); with AutoSource it is the map's best source
	// among the model's languages (LangMap.AutoSource).
	TagFrom    []string
	Related    string
	AutoSource string // a LangMap JSON file
	// RelatedPairs (MethodMix) and MetaPairs (MethodMeta, per source
	// direction) cap the lo-mt train pairs read for those languages.
	RelatedPairs int
	MetaPairs    int
	Meta         MetaConfig
	// Train is the adaptation run (Steps, LR, MaxTokens, MaxLen, Warmup,
	// ValEvery...); its Data, Pairs, Init and Out are set here.
	Train TrainConfig
	// EvalSplit ("dev", "test" or "" for none) and EvalSentences (0: all)
	// score the adapted model on lo-mt; the scores go to result.json.
	EvalSplit     string
	EvalSentences int
	Out           string
}

// AdaptRun gathers the data AdaptOptions names, runs AdaptNewLanguage, evaluates
// the adapted model and writes Out/result.json (a NewLangRun).
func AdaptRun(o AdaptOptions) (*NewLangRun, *TrainResult, error) {
	if o.Model == "" || o.Lang == "" || o.Out == "" {
		return nil, nil, errors.New("mt adapt: --model, --lang and --out are required")
	}
	if o.EvalSplit != "" && o.EvalSplit != "dev" && o.EvalSplit != "test" {
		return nil, nil, fmt.Errorf("mt adapt: eval split %q, want dev, test or empty", o.EvalSplit)
	}
	base, _, err := LoadModel(o.Model)
	if err != nil {
		return nil, nil, fmt.Errorf("mt adapt: %w", err)
	}
	var pairs []data.Segment
	switch {
	case o.PairsFile != "":
		switch strings.ToLower(filepath.Ext(o.PairsFile)) {
		case ".po":
			f, err := data.ReadPO(o.PairsFile)
			if err != nil {
				return nil, nil, fmt.Errorf("mt adapt: %w", err)
			}
			pairs = f.Segments(false)
		case ".tsv":
			if pairs, err = data.ReadParallelTSV(o.PairsFile); err != nil {
				return nil, nil, fmt.Errorf("mt adapt: %w", err)
			}
		default:
			return nil, nil, fmt.Errorf("mt adapt: pairs file %s: want a .po or .tsv file", o.PairsFile)
		}
		if len(pairs) == 0 {
			return nil, nil, fmt.Errorf("mt adapt: pairs file %s has no translated pairs", o.PairsFile)
		}
		if o.K > 0 && o.K < len(pairs) {
			if pairs, err = SampleK(pairs, o.K, o.Seed); err != nil {
				return nil, nil, fmt.Errorf("mt adapt: %w", err)
			}
		}
	default:
		if o.K < 1 {
			return nil, nil, fmt.Errorf("mt adapt: K = %d: give --k >= 1 (pairs drawn from lo-mt) or --pairs FILE", o.K)
		}
		all, err := data.LoadLoMTPair(o.Data, "train", "en", o.Lang)
		if err != nil {
			return nil, nil, fmt.Errorf("mt adapt: %w", err)
		}
		if pairs, err = SampleK(all, o.K, o.Seed); err != nil {
			return nil, nil, fmt.Errorf("mt adapt: en-%s: %w", o.Lang, err)
		}
	}
	known := slices.DeleteFunc(base.Vocab.Languages(), func(l string) bool { return l == o.Lang || l == "en" })
	related := o.Related
	if o.AutoSource != "" {
		lm, err := LoadLangMap(o.AutoSource)
		if err != nil {
			return nil, nil, fmt.Errorf("mt adapt: --auto-source: %w", err)
		}
		if related, _, err = lm.AutoSource(o.Lang, known); err != nil {
			return nil, nil, fmt.Errorf("mt adapt: --auto-source %s: %w", o.AutoSource, err)
		}
	}
	tagFrom := o.TagFrom
	if len(tagFrom) == 0 && related != "" {
		tagFrom = []string{related}
	}
	c := NewLangConfig{Model: o.Model, Lang: o.Lang, Pairs: pairs, Method: o.Method, TagFrom: tagFrom, Related: related,
		Meta: o.Meta, Train: o.Train, Out: o.Out}
	c.Train.Data = o.Data
	c.Train.Seed = o.Seed
	readLoMT := func(lang string, max int) ([]data.Segment, error) {
		all, err := data.LoadLoMTPair(o.Data, "train", "en", lang)
		if err != nil {
			return nil, err
		}
		if max > 0 && max < len(all) {
			return SampleK(all, max, o.Seed)
		}
		return all, nil
	}
	switch o.Method {
	case MethodMix:
		if related == "" {
			return nil, nil, errors.New("mt adapt: --method mix needs --related or --auto-source")
		}
		if c.RelatedPairs, err = readLoMT(related, o.RelatedPairs); err != nil {
			return nil, nil, fmt.Errorf("mt adapt: related language: %w", err)
		}
	case MethodMeta:
		c.MetaTasks = map[string][]data.Segment{}
		for _, p := range base.Spec.Pairs {
			src, tgt, err := ParsePair(p)
			if err != nil || src != "en" || tgt == o.Lang {
				continue
			}
			if c.MetaTasks[p], err = readLoMT(tgt, o.MetaPairs); err != nil {
				return nil, nil, fmt.Errorf("mt adapt: meta task %s: %w", p, err)
			}
		}
	}
	res, err := AdaptNewLanguage(c)
	if err != nil {
		return nil, nil, err
	}
	run := &NewLangRun{Lang: o.Lang, K: len(pairs), Method: o.Method, Seed: o.Seed, Steps: res.Steps, Split: o.EvalSplit, Source: related}
	if o.Method == MethodMeta {
		run.Method += "-" + o.Meta.Algorithm
	}
	if o.EvalSplit != "" {
		am, _, err := LoadModel(res.Model)
		if err != nil {
			return nil, nil, err
		}
		rep, err := EvaluateModel(am, ModelEvalOptions{Data: o.Data, Split: o.EvalSplit, Pairs: []string{"en-" + o.Lang},
			MaxSentences: o.EvalSentences, Eval: EvalOptions{Bootstrap: -1}})
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rep[0].Report.Results {
			switch r.Name {
			case "chrF2", "chrF", "chrf":
				run.ChrF = r.Score
			case "BLEU", "bleu":
				run.BLEU = r.Score
			}
		}
	}
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	if err := runfolder.WriteFileAtomic(filepath.Join(o.Out, "result.json"), append(b, '\n')); err != nil {
		return nil, nil, err
	}
	return run, res, nil
}
