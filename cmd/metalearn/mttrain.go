package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/config"
	"github.com/metalearn/metalearn/mt"
	"github.com/metalearn/metalearn/runfolder"
	"github.com/metalearn/metalearn/runner"
)

// newMTTrainCmd is `metalearn mt train`: flags mapped onto mt.TrainConfig
// and one mt.Train call (train -c with kind: mt is the same run).
func newMTTrainCmd() *cobra.Command {
	c := mt.DefaultTrainConfig()
	var (
		o          trainOpts
		dataDir    string
		maxMinutes float64
		layers     int
	)
	cmd := &cobra.Command{
		Use:   "train --pairs en-de,en-fr --out runs/mt",
		Short: "Train a translation model on the lo-mt training split (resumable)",
		Long: `Trains a Transformer translation model on the lo-mt training split of
the given directions: one shared BPE vocabulary with a <2xx> tag per
language, token-budget batches, directions drawn with temperature
sampling, Adam with warm-up and inverse-square-root decay, label smoothing,
dev chrF (greedy decoding) every --val-every steps with the best weights
kept. --arch shared is the multilingual model of Johnson et al. (2017)
(one pair: the bilingual baseline); --arch separate-decoders shares the
encoder and gives each target language its own decoder.

The output folder holds model.safetensors (best dev chrF; weights,
vocabulary and architecture in one file), checkpoint.safetensors, dev.jsonl
(dev chrF against training minutes) and, with --average N,
model-avg.safetensors. Ctrl-C stops after a checkpoint; --resume continues
exactly. The same run from a file: metalearn train -c examples/mt-tiny.yaml.`,
		Example: `  metalearn mt train --pairs en-de --steps 4000 --out runs/en-de
  metalearn mt train --pairs en-de,en-fr,en-es,en-it,en-nl,en-pt,de-en,fr-en --out runs/multi
  metalearn mt train --pairs en-de --out runs/en-de --resume`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(c.Pairs) == 0 {
				return errors.New("--pairs is required (e.g. --pairs en-de,en-fr)")
			}
			if dataDir == "" {
				dataDir = config.DefaultDataDir()
			}
			c.Data = filepath.Join(dataDir, "lo-mt")
			c.Out, c.Resume = o.out, o.resume
			if cmd.Flags().Changed("layers") {
				c.EncoderLayers, c.DecoderLayers = layers, layers
			}
			c.MaxDuration = time.Duration(maxMinutes * float64(time.Minute))
			mode, err := progressMode(o, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			resume := fmt.Sprintf("metalearn %s --resume", strings.Join(os.Args[1:], " "))
			if o.resume {
				resume = "metalearn " + strings.Join(os.Args[1:], " ")
			}
			return runMTTrain(cmd.OutOrStdout(), cmd.ErrOrStderr(), c, o, mode, resume)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&c.Pairs, "pairs", nil, "training directions, e.g. en-de,en-fr,de-en (required)")
	f.StringVar(&c.Arch, "arch", c.Arch, "shared (Johnson et al. 2017; one pair: bilingual) or separate-decoders")
	f.StringVar(&dataDir, "data-dir", "", "dataset folder holding lo-mt (default $METALEARN_DATA, else ../shared/data)")
	f.StringVar(&o.out, "out", "runs/mt", "output folder")
	f.IntVar(&c.Steps, "steps", c.Steps, "training steps (one batch each; the schedule's length)")
	f.Float64Var(&maxMinutes, "max-minutes", 0, "stop after this many minutes of training (0: no limit)")
	f.IntVar(&c.MaxPairs, "max-pairs", 0, "use at most this many training pairs per direction (0: all)")
	f.IntVar(&c.DModel, "d-model", c.DModel, "model width")
	f.IntVar(&c.Heads, "heads", c.Heads, "attention heads")
	f.IntVar(&layers, "layers", c.EncoderLayers, "encoder and decoder layers each")
	f.IntVar(&c.FFN, "ffn", c.FFN, "feed-forward width")
	f.Float64Var(&c.Dropout, "dropout", c.Dropout, "dropout")
	f.IntVar(&c.VocabSize, "vocab-size", c.VocabSize, "BPE vocabulary size")
	f.StringSliceVar(&c.Tags, "tags", nil, "extra language tags for later adaptation (e.g. gl,eu,af)")
	f.IntVar(&c.MaxTokens, "max-tokens", c.MaxTokens, "tokens per batch (source + target, padding included)")
	f.Float64Var(&c.Temperature, "temperature", c.Temperature, "direction sampling temperature (1: proportional to data, large: uniform)")
	f.Float64Var(&c.LR, "lr", c.LR, "peak learning rate")
	f.IntVar(&c.Warmup, "warmup", c.Warmup, "warm-up steps")
	f.Float64Var(&c.LabelSmoothing, "label-smoothing", c.LabelSmoothing, "label smoothing")
	f.IntVar(&c.ValEvery, "val-every", c.ValEvery, "dev chrF every N steps (0: never; the last weights are kept)")
	f.IntVar(&c.ValSentences, "val-sentences", c.ValSentences, "dev sentences per direction for validation")
	f.IntVar(&c.CheckpointEvery, "checkpoint-every", c.CheckpointEvery, "checkpoint every N steps")
	f.IntVar(&c.Average, "average", 0, "also write the mean of the last N checkpoints' weights (model-avg.safetensors)")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "random seed")
	f.StringVar(&c.Init, "init", "", "start from this model file (fine-tuning; its vocabulary and architecture are kept)")
	f.StringVar(&c.ExportTokens, "export-tokens", "", "also write the vocabulary and tokenised train/dev data to this folder (for reference/mt_torch.py)")
	f.BoolVar(&o.resume, "resume", false, "continue the run in --out from its checkpoint")
	f.BoolVar(&o.quiet, "quiet", false, "no progress output; only the final line")
	f.BoolVar(&o.asJSON, "json", false, "progress and result as JSON lines on stdout")
	f.StringVar(&o.progress, "progress", "auto", "progress display: auto, bar, lines")
	return cmd
}

// runMTTrain is the one translation run behind `mt train` and `train -c`
// with kind: mt.
func runMTTrain(stdout, stderr io.Writer, c mt.TrainConfig, o trainOpts, mode runner.Mode, resumeCmd string) error {
	prog := &runner.Progress{W: stderr, Mode: mode, Total: c.Steps, Label: "mt " + strings.Join(c.Pairs, ",")}
	if mode == runner.JSON {
		prog.W = stdout
	}
	stop, release := runner.OnInterrupt()
	defer release()
	c.Progress, c.Stop, c.ResumeCommand = prog, stop, resumeCmd
	c.Log = func(s string) {
		if mode != runner.Quiet {
			prog.Println(s)
		}
	}
	res, err := mt.Train(c)
	if err != nil {
		return stopped(err)
	}
	text := fmt.Sprintf("%d steps, %d training tokens, %.0f s; best dev chrF %.2f at step %d; model %s", res.Steps, res.Tokens, res.Seconds, res.BestDevChrF, res.BestStep, res.Model)
	if res.Averaged != "" {
		text += "; averaged " + res.Averaged
	}
	js := map[string]any{"kind": "mt", "result": res}
	return finalLine(stdout, o, js, text)
}

// trainMT runs a `train -c` configuration with kind: mt.
func trainMT(stdout, stderr io.Writer, cfg *config.Config, o trainOpts, mode runner.Mode) error {
	c := cfg.MT.TrainConfig(cfg)
	c.Resume = o.resume
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	if err := runfolder.WriteFileAtomic(filepath.Join(c.Out, "config.yaml"), cfg.Resolved()); err != nil {
		return err
	}
	return runMTTrain(stdout, stderr, c, o, mode, fmt.Sprintf("metalearn train -c %s --resume%s", cfg.File(), outFlag(o)))
}

// newMTTranslateCmd is `metalearn mt translate`: stdin lines to stdout
// lines.
func newMTTranslateCmd() *cobra.Command {
	var (
		model, to, from string
		opt             mt.TranslateOptions
		asJSON, quiet   bool
	)
	cmd := &cobra.Command{
		Use:   "translate --model m.safetensors --to de",
		Short: "Translate standard input, one line per line",
		Long: `Reads lines from standard input and writes one translation per line to
standard output (an empty line stays empty). --beam sets the beam size (1:
greedy); --nbest N writes N lines per input line as
"index ||| translation ||| score" (Moses n-best format); --json writes one
JSON object per input line with all n-best translations and their scores.`,
		Example: `  echo "Open the file" | metalearn mt translate --model runs/mt/model.safetensors --to de
  metalearn mt translate --model m.safetensors --from en --to fr --beam 4 < strings.txt > strings.fr`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if model == "" {
				return errors.New("--model is required (a model file written by `metalearn mt train`)")
			}
			if to == "" {
				return errors.New("--to is required (the target language, e.g. --to de)")
			}
			m, _, err := mt.LoadModel(model)
			if err != nil {
				return err
			}
			if err := m.CanTranslateInto(to); err != nil {
				return err
			}
			if from != "" {
				if _, ok := m.Vocab.LanguageID(from); !ok {
					return fmt.Errorf("--from %s: unknown source language: the model knows %s", from, strings.Join(m.Vocab.Languages(), ", "))
				}
			}
			var lines []string
			sc := bufio.NewScanner(cmd.InOrStdin())
			sc.Buffer(make([]byte, 1<<20), 1<<26)
			for sc.Scan() {
				lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
			}
			if err := sc.Err(); err != nil {
				return fmt.Errorf("reading standard input: %w", err)
			}
			if !quiet && len(lines) > 200 {
				mode, _ := runner.ModeFor(false, false, "auto", cmd.ErrOrStderr())
				p := &runner.Progress{W: cmd.ErrOrStderr(), Mode: mode, Total: len(lines), Label: "translate"}
				p.Start(0)
				opt.Progress = func(done int) { p.Update(done) }
				defer p.Clear()
			}
			tr, err := m.Translate(lines, to, opt)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			for i, ts := range tr {
				switch {
				case asJSON:
					if err := writeJSONLine(w, map[string]any{"source": lines[i], "translations": ts}); err != nil {
						return err
					}
				case opt.NBest > 1:
					for _, t := range ts {
						fmt.Fprintf(w, "%d ||| %s ||| %.4f\n", i, t.Text, t.Score)
					}
				default:
					fmt.Fprintln(w, ts[0].Text)
				}
			}
			return w.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "translation model file (required)")
	f.StringVar(&to, "to", "", "target language (required)")
	f.StringVar(&from, "from", "", "source language (checked against the model; the model reads any)")
	f.IntVar(&opt.Beam, "beam", 4, "beam size (1: greedy)")
	f.IntVar(&opt.NBest, "nbest", 1, "translations per line (at most --beam)")
	f.Float64Var(&opt.LengthPenalty, "length-penalty", 0.6, "beam search length penalty alpha (Wu et al. 2016)")
	f.BoolVar(&asJSON, "json", false, "one JSON object per line: source and n-best translations with scores")
	f.BoolVar(&quiet, "quiet", false, "no progress bar")
	return cmd
}

type mtModelEval struct {
	model, split, pivot, dataDir, hypDir, test string
	pairs                                      []string
	beam, maxSentences                         int
}

// runModelEval is `mt eval --model`: mt.EvaluateModel and its report.
func runModelEval(cmd *cobra.Command, me mtModelEval, eo mt.EvalOptions, asJSON bool) error {
	m, _, err := mt.LoadModel(me.model)
	if err != nil {
		return err
	}
	if me.dataDir == "" {
		me.dataDir = config.DefaultDataDir()
	}
	reps, err := mt.EvaluateModel(m, mt.ModelEvalOptions{Data: filepath.Join(me.dataDir, "lo-mt"), Split: me.split, Pairs: me.pairs, Test: me.test,
		Pivot: me.pivot, MaxSentences: me.maxSentences, HypDir: me.hypDir, Eval: eo,
		Translate: mt.TranslateOptions{Beam: me.beam, LengthPenalty: 0.6}})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		return writeJSONLine(out, reps)
	}
	for _, r := range reps {
		via := ""
		if r.Pivot != "" {
			via = " via " + r.Pivot
		}
		set := me.split
		if me.test != "" {
			set = me.test
		}
		fmt.Fprintf(out, "%s%s (%s, beam %d, translated in %.1f s):\n", r.Pair, via, set, me.beam, r.Seconds)
		if err := r.Report.Format(out); err != nil {
			return err
		}
	}
	return nil
}
