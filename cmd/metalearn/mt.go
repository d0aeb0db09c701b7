package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/mt"
)

func newMTCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mt",
		Short: "Machine translation: train, translate, evaluate (BLEU, chrF as sacreBLEU computes them)",
	}
	cmd.AddCommand(newMTTrainCmd(), newMTTranslateCmd())
	cmd.AddCommand(newMTAdaptCmds()...)
	var o mt.EvalOptions
	var asJSON bool
	var me mtModelEval
	eval := &cobra.Command{
		Use:   "eval --hyp h.txt --ref r.txt | eval --model m.safetensors --pairs en-de",
		Short: "Corpus BLEU and chrF with sacreBLEU signatures and bootstrap 95% CIs",
		Long: `Scores a hypothesis file (one segment per line) against one or more
reference files, each a reference stream: plain text (one line per segment,
Moses style), TSV (last column: id<TAB>en<TAB>xx or src<TAB>tgt), TMX (--lang
picks the variant) or gettext .po/.mo (msgstr of translated, non-fuzzy
entries). BLEU is corpus BLEU with 13a tokenisation and exponential
smoothing, chrF uses character 6-grams, beta 2, whitespace removed: the
defaults of sacreBLEU 2.x. CIs come from 1000 bootstrap resamples (seed
12345); --baseline adds the paired bootstrap test (Koehn 2004).

With --model instead of --hyp/--ref, the model translates the lo-mt --split
(test by default) of every --pairs direction (zero-shot X->Y included;
--pivot en translates through English), or the --test file, and each is
scored the same way.`,
		Example: `  metalearn mt eval --hyp out.de --ref ../shared/data/lo-mt/test/en-de.tsv
  metalearn mt eval --model runs/mt/model.safetensors --pairs en-de,de-en --beam 4
  metalearn mt eval --model runs/mt/model.safetensors --pairs de-fr --pivot en
  metalearn mt eval --model runs/mt/model.safetensors --pairs en-de --test app.de.po`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if me.model != "" {
				return runModelEval(cmd, me, o, asJSON)
			}
			rep, err := mt.EvaluateFiles(o)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSONLine(cmd.OutOrStdout(), rep)
			}
			return rep.Format(cmd.OutOrStdout())
		},
	}
	f := eval.Flags()
	f.StringVar(&o.Hyp, "hyp", "", "hypothesis file, one segment per line (required)")
	f.StringArrayVar(&o.Refs, "ref", nil, "reference file (.txt, .tsv, .tmx, .po, .mo); repeat for several references")
	f.StringVar(&o.Baseline, "baseline", "", "baseline hypothesis file: paired bootstrap test against it")
	f.StringVar(&o.TgtLang, "lang", "", "reference language in a TMX file")
	f.StringVar(&o.SrcLang, "src-lang", "", "TMX: keep only units that also have this language")
	f.BoolVar(&o.WithFuzzy, "fuzzy", false, ".po/.mo: also use fuzzy entries as references")
	var refSide string
	f.StringVar(&refSide, "ref-side", "target", "target or source: which side of a TSV/TMX/.po reference to score against (source: the English of a lo-mt file, for X->en)")
	f.StringSliceVar(&o.Metrics, "metrics", []string{"bleu", "chrf"}, "metrics: bleu, chrf, chrf++")
	f.IntVar(&o.Bootstrap, "bootstrap", 1000, "bootstrap resamples for CIs and the paired test (0: none)")
	f.Uint64Var(&o.Seed, "seed", mt.DefaultBootstrapSeed, "bootstrap seed")
	f.BoolVar(&asJSON, "json", false, "JSON output")
	f.StringVar(&me.model, "model", "", "translation model (metalearn mt train): translate the lo-mt split and score it")
	f.StringVar(&me.split, "split", "test", "with --model: lo-mt split, dev or test")
	f.StringVar(&me.test, "test", "", "with --model: a test set instead of lo-mt: .tsv/.tmx/.po/.mo (both sides) or a Moses prefix (PREFIX.src, PREFIX.tgt)")
	f.StringSliceVar(&me.pairs, "pairs", nil, "with --model: directions, e.g. en-de,de-en,de-fr")
	f.StringVar(&me.pivot, "pivot", "", "with --model: translate X->Y through this language (e.g. en)")
	f.IntVar(&me.beam, "beam", 4, "with --model: beam size (1: greedy)")
	f.IntVar(&me.maxSentences, "max-sentences", 0, "with --model: score only the first N sentences per pair (0: all)")
	f.StringVar(&me.dataDir, "data-dir", "", "with --model: dataset folder holding lo-mt (default $METALEARN_DATA, else ../shared/data)")
	f.StringVar(&me.hypDir, "hyp-dir", "", "with --model: write each pair's translations to this folder")
	eval.PreRunE = func(cmd *cobra.Command, args []string) error {
		if me.model != "" {
			if o.Hyp != "" || len(o.Refs) > 0 {
				return errors.New("give either --model (translate a lo-mt split) or --hyp/--ref (score a file), not both")
			}
			if len(me.pairs) == 0 {
				return errors.New("--model needs --pairs (e.g. --pairs en-de)")
			}
		} else {
			if o.Hyp == "" {
				return errors.New(`required flag(s) "hyp" not set (or give --model to translate and score a lo-mt split)`)
			}
			if len(o.Refs) == 0 {
				return errors.New(`required flag(s) "ref" not set`)
			}
		}
		switch refSide {
		case "target":
		case "source":
			o.SourceSide = true
		default:
			return fmt.Errorf("--ref-side %q, want target or source", refSide)
		}
		if o.Bootstrap == 0 {
			o.Bootstrap = -1 // the flag's 0 means none; the library's 0 means the default
		}
		return nil
	}
	cmd.AddCommand(eval, newMTPOCmd(), newMTDemoCmd())
	return cmd
}
