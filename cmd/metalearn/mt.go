package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/mt"
)

func newMTCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mt",
		Short: "Machine translation: evaluate translations (BLEU, chrF as sacreBLEU computes them)",
	}
	var o mt.EvalOptions
	var asJSON bool
	eval := &cobra.Command{
		Use:   "eval --hyp h.txt --ref r.txt",
		Short: "Corpus BLEU and chrF with sacreBLEU signatures and bootstrap 95% CIs",
		Long: `Scores a hypothesis file (one segment per line) against one or more
reference files, each a reference stream: plain text (one line per segment,
Moses style), TSV (last column: id<TAB>en<TAB>xx or src<TAB>tgt), TMX (--lang
picks the variant) or gettext .po/.mo (msgstr of translated, non-fuzzy
entries). BLEU is corpus BLEU with 13a tokenisation and exponential
smoothing, chrF uses character 6-grams, beta 2, whitespace removed: the
defaults of sacreBLEU 2.x. CIs come from 1000 bootstrap resamples (seed
12345); --baseline adds the paired bootstrap test (Koehn 2004).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
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
	eval.MarkFlagRequired("hyp")
	eval.MarkFlagRequired("ref")
	eval.PreRunE = func(cmd *cobra.Command, args []string) error {
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
	cmd.AddCommand(eval, newMTPOCmd())
	return cmd
}
