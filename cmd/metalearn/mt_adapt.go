package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/metalearn/metalearn/config"
	"github.com/metalearn/metalearn/mt"
)

// adaptTrainFlags binds the adaptation run's settings (a subset of
// mt.TrainConfig) to flags.
func adaptTrainFlags(f *pflag.FlagSet, c *mt.TrainConfig, prefix string) {
	f.IntVar(&c.Steps, prefix+"steps", c.Steps, "optimiser steps on the new language (equal for every method)")
	f.Float64Var(&c.LR, prefix+"lr", c.LR, "peak learning rate")
	f.IntVar(&c.Warmup, prefix+"warmup", c.Warmup, "warm-up steps")
	f.IntVar(&c.MaxTokens, prefix+"max-tokens", c.MaxTokens, "tokens per batch")
	f.IntVar(&c.MaxLen, prefix+"max-len", c.MaxLen, "tokens per sentence (longer ones are cut)")
	f.IntVar(&c.ValEvery, prefix+"val-every", c.ValEvery, "dev chrF every N steps, best weights kept (0: the last weights)")
	f.IntVar(&c.ValSentences, prefix+"val-sentences", c.ValSentences, "dev sentences for validation")
}

func newMTAdaptCmds() []*cobra.Command {
	return []*cobra.Command{newMTAdaptCmd(), newMTLangMapCmd(), newMTCurvesCmd()}
}

// newMTAdaptCmd is `metalearn mt adapt`: flags onto mt.AdaptOptions and
// one mt.AdaptRun call.
func newMTAdaptCmd() *cobra.Command {
	o := mt.AdaptOptions{Method: mt.MethodFinetune, Meta: mt.DefaultMetaConfig(), Seed: 1, MetaPairs: 2000, RelatedPairs: 2000}
	o.Train = mt.DefaultTrainConfig()
	o.Train.Steps, o.Train.Warmup, o.Train.ValEvery, o.Train.CheckpointEvery = 500, 50, 0, 0
	var dataDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "adapt --model m.safetensors --lang gl (--k 500 | --pairs my-project.po) --out runs/gl",
		Short: "Adapt a multilingual model to a new language from a few pairs (fine-tuning, meta-learning, mixing)",
		Long: `Adapts a multilingual translation model to English -> --lang from K pairs:
--pairs FILE (a .po file's translated entries or a parallel .tsv) or --k K
pairs drawn from the lo-mt training split with --seed. Methods, all with the
same --steps updates on the new language:

  scratch   the same architecture and vocabulary from random weights
  finetune  continue the multilingual model (Zoph et al. 2016)
  meta      first meta-learn over the model's languages as tasks (Gu et al.
            2018, MetaNMT; --meta-algorithm fomaml or reptile), then fine-tune
  mix       fine-tune on the new language mixed with a related one (Neubig &
            Hu 2018)

A language the model has no tag for gets one, initialised as the mean of
--tag-from's tags (default: the related language). --auto-source map.json
picks the related language from a language map (mt langmap). The folder
gets model.safetensors and result.json (with --eval-split, chrF and BLEU).`,
		Example: `  metalearn mt adapt --model runs/multi/model.safetensors --lang gl --k 500 --out runs/gl-500
  metalearn mt adapt --model runs/multi/model.safetensors --lang gl --pairs my-project.po --auto-source runs/langmap/langmap.json --out runs/gl-po
  metalearn mt adapt --model runs/multi/model.safetensors --lang af --k 100 --method meta --meta-algorithm reptile --out runs/af-meta`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dataDir == "" {
				dataDir = config.DefaultDataDir()
			}
			o.Data = filepath.Join(dataDir, "lo-mt")
			o.Meta.Seed = o.Seed
			if o.Train.ValEvery > 0 && o.PairsFile != "" {
				return errors.New("--val-every reads the lo-mt dev split; with --pairs use --val-every 0")
			}
			run, res, err := mt.AdaptRun(o)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSONLine(cmd.OutOrStdout(), map[string]any{"result": run, "train": res})
			}
			text := fmt.Sprintf("%s en-%s from %d pairs, %d steps: model %s", run.Method, run.Lang, run.K, run.Steps, res.Model)
			if run.Source != "" {
				text += "; related language " + run.Source
			}
			if run.Split != "" {
				text += fmt.Sprintf("; %s chrF %.2f BLEU %.2f", run.Split, run.ChrF, run.BLEU)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), text)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "the multilingual model file (required)")
	f.StringVar(&o.Lang, "lang", "", "the new target language, e.g. gl (required)")
	f.StringVar(&o.PairsFile, "pairs", "", "English -> lang pairs: a .po file or a parallel .tsv (default: --k pairs from lo-mt)")
	f.IntVar(&o.K, "k", 0, "pairs to draw from the lo-mt train split (with --pairs: a subset of the file)")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the K-pair draw and the run")
	f.StringVar(&o.Method, "method", o.Method, "scratch, finetune, meta or mix")
	f.StringVar(&o.Meta.Algorithm, "meta-algorithm", o.Meta.Algorithm, "fomaml, reptile or maml (second order) (--method meta)")
	f.IntVar(&o.Meta.Steps, "meta-steps", o.Meta.Steps, "outer steps of the meta-learning stage")
	f.IntVar(&o.Meta.MetaBatch, "meta-batch", o.Meta.MetaBatch, "languages per outer step")
	f.IntVar(&o.Meta.InnerSteps, "inner-steps", o.Meta.InnerSteps, "inner SGD steps per language")
	f.Float64Var(&o.Meta.InnerLR, "inner-lr", o.Meta.InnerLR, "inner SGD rate")
	f.Float64Var(&o.Meta.OuterLR, "outer-lr", 0, "outer rate (0: 0.1 for fomaml and maml, 0.5 for reptile)")
	f.IntVar(&o.Meta.MaxTokens, "meta-max-tokens", o.Meta.MaxTokens, "tokens per support or query batch")
	f.IntVar(&o.MetaPairs, "meta-pairs", o.MetaPairs, "lo-mt train pairs read per meta task (0: all)")
	f.StringSliceVar(&o.TagFrom, "tag-from", nil, "languages whose tags' mean initialises the new tag")
	f.StringVar(&o.Related, "related", "", "the related language (tag init; mixed in with --method mix)")
	f.StringVar(&o.AutoSource, "auto-source", "", "language map JSON: pick the related language with the largest gain")
	f.IntVar(&o.RelatedPairs, "related-pairs", o.RelatedPairs, "lo-mt train pairs of the related language (--method mix; 0: all)")
	adaptTrainFlags(f, &o.Train, "")
	f.StringVar(&o.EvalSplit, "eval-split", "", "score the adapted model on this lo-mt split (dev or test)")
	f.IntVar(&o.EvalSentences, "eval-sentences", 0, "score only the first N sentences (0: all)")
	f.StringVar(&dataDir, "data-dir", "", "dataset folder holding lo-mt (default $METALEARN_DATA, else ../shared/data)")
	f.StringVar(&o.Out, "out", "", "output folder (required)")
	f.BoolVar(&asJSON, "json", false, "the result as one JSON line")
	return cmd
}

// newMTLangMapCmd is `metalearn mt langmap`: one mt.BuildLangMap call.
func newMTLangMapCmd() *cobra.Command {
	var o mt.LangMapOptions
	o.Map.Source = mt.DefaultTrainConfig()
	o.Map.Source.ValEvery, o.Map.Source.CheckpointEvery = 0, 0
	o.Map.Target = mt.DefaultTrainConfig()
	o.Map.Target.Steps, o.Map.Target.Warmup, o.Map.Target.ValEvery, o.Map.Target.CheckpointEvery = 500, 50, 0, 0
	o.Map.K, o.Map.Seed, o.Map.EvalSentences = 500, 1, 200
	var dataDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "langmap --langs es,pt,gl,it,fr,nl,de,af,eu --out runs/langmap",
		Short: "The language relationship map: transfer gain of each source for each target, TAG affinity, groups",
		Long: `For every language s trains an English -> s model (--source-steps), then
adapts it to English -> t for every t from K pairs (--target-steps) and
compares with the same adaptation from random weights: gain[s][t] = chrF
(dev, first --eval-sentences) adapted from s minus from scratch. Writes
langmap.json (for mt adapt --auto-source) and the heatmap langmap-gain.png.
--affinity N also trains one multilingual model on all languages and
measures the TAG lookahead affinity every N steps (langmap-affinity.png);
--groups K partitions the languages with the grouping search.`,
		Example: `  metalearn mt langmap --langs es,pt,gl,nl,de,af,eu --k 500 --affinity 10 --groups 3 --out runs/langmap`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dataDir == "" {
				dataDir = config.DefaultDataDir()
			}
			o.Map.Data = filepath.Join(dataDir, "lo-mt")
			o.Command = "metalearn " + strings.Join(os.Args[1:], " ")
			if !asJSON {
				o.Map.Log = func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) }
			}
			rep, err := mt.BuildLangMap(o)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSONLine(cmd.OutOrStdout(), rep)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "wrote %s\n", strings.Join(rep.Files, ", "))
			if rep.Groups != nil {
				fmt.Fprintf(w, "groups by transfer gain: %s\n", rep.Groups.Best)
			}
			if rep.AffGroup != nil {
				fmt.Fprintf(w, "groups by TAG affinity: %s\n", rep.AffGroup.Best)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Map.Languages, "langs", nil, "languages (English -> each), e.g. es,pt,gl,nl,de,af,eu (required)")
	f.IntVar(&o.Map.K, "k", o.Map.K, "target pairs per adaptation")
	f.Uint64Var(&o.Map.Seed, "seed", o.Map.Seed, "seed of the K-pair draw")
	f.IntVar(&o.Map.EvalSentences, "eval-sentences", o.Map.EvalSentences, "dev sentences scoring each adaptation (0: all)")
	f.IntVar(&o.Map.Source.Steps, "source-steps", o.Map.Source.Steps, "steps of each source model")
	f.IntVar(&o.Map.Source.MaxPairs, "source-pairs", 0, "training pairs per source model (0: all)")
	f.IntVar(&o.Map.Source.DModel, "d-model", o.Map.Source.DModel, "model width (source models)")
	f.IntVar(&o.Map.Source.FFN, "ffn", o.Map.Source.FFN, "feed-forward width")
	f.IntVar(&o.Map.Source.VocabSize, "vocab-size", o.Map.Source.VocabSize, "BPE vocabulary size of each source model")
	f.IntVar(&o.Map.Source.MaxTokens, "max-tokens", o.Map.Source.MaxTokens, "tokens per batch (source models and the affinity run)")
	f.IntVar(&o.Map.Source.Warmup, "warmup", o.Map.Source.Warmup, "warm-up steps of the source models")
	adaptTrainFlags(f, &o.Map.Target, "target-")
	f.IntVar(&o.Affinity, "affinity", 0, "also measure the TAG affinity every N steps of a multilingual run (0: no)")
	f.Float64Var(&o.AffinityLR, "affinity-lr", 0, "lookahead SGD rate (default: the peak learning rate)")
	f.IntVar(&o.AffinitySentences, "affinity-sentences", 32, "sentences per language in the lookahead batch")
	f.IntVar(&o.Groups, "groups", 0, "partition the languages into this many groups (0: no grouping)")
	f.StringVar(&dataDir, "data-dir", "", "dataset folder holding lo-mt (default $METALEARN_DATA, else ../shared/data)")
	f.StringVar(&o.Map.Out, "out", "runs/langmap", "output folder")
	f.BoolVar(&asJSON, "json", false, "the report as one JSON line")
	return cmd
}

// newMTCurvesCmd is `metalearn mt curves`: the learning curves of the
// adaptation runs under a folder (mt.ReadRuns, Curves, PlotCurves).
func newMTCurvesCmd() *cobra.Command {
	var plot string
	cmd := &cobra.Command{
		Use:   "curves RUNS_DIR [--plot base]",
		Short: "Learning curves (chrF/BLEU vs K, 95% CIs over seeds) of the mt adapt runs under a folder",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			runs, err := mt.ReadRuns(args[0])
			if err != nil {
				return err
			}
			ps := mt.Curves(runs)
			fmt.Fprint(cmd.OutOrStdout(), mt.CurvesTable(ps))
			if plot != "" {
				fs, err := mt.PlotCurves(ps, plot)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", strings.Join(fs, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&plot, "plot", "", "also draw chrF vs K per language to <base>-<lang>.png/.svg")
	return cmd
}
