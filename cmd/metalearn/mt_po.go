package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/mt"
	"github.com/metalearn/metalearn/runfolder"
)

// openTranslator loads a translation model file (written by `metalearn
// mt train`) as a Translator; tests replace it with a fake.
var openTranslator = func(path string, o mt.TranslateOptions) (mt.Translator, error) {
	m, _, err := mt.LoadModel(path)
	if err != nil {
		return nil, fmt.Errorf("--model: %w", err)
	}
	return mt.ModelTranslator{Model: m, Options: o}, nil
}

func newMTPOCmd() *cobra.Command {
	var o mt.FillOptions
	var to mt.TranslateOptions
	var model, out, glossary string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "po --model m.safetensors --lang gl app.po -o app.gl.po",
		Short: "Fill the untranslated entries of a gettext catalogue with machine translations (marked fuzzy)",
		Long: `Fills the untranslated entries of a .po/.pot catalogue with a
translation model's output, marked fuzzy for review. Placeholders (%s, %1$d,
%(name)s, {0}, $(ARG1), %PRODUCTNAME, $name$, ${x}, @VAR@), markup, entities
and control characters are masked before translation and restored exactly
(a placeholder the model drops is put back and the entry gets a comment
saying so); the accelerator marker (~, &, _) goes back before a letter of
the translation; plural entries get the singular's and the plural's
translation per the header's Plural-Forms. Translated entries, obsolete
entries and the header are left as they are. --glossary terms.tsv
(source term<TAB>target term) forces terminology.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.To == "" {
				return fmt.Errorf("--lang is required (the target language, e.g. gl)")
			}
			if glossary != "" {
				g, err := mt.ReadGlossary(glossary)
				if err != nil {
					return fmt.Errorf("--glossary: %w", err)
				}
				o.Glossary = g
			}
			if _, err := os.Stat(args[0]); err != nil { // before the (slow) model load
				return err
			}
			tr, err := openTranslator(model, to)
			if err != nil {
				return err
			}
			if !quiet {
				o.Progress = mtProgressBar(cmd.ErrOrStderr(), "mt po")
			}
			b, rep, err := mt.FillPOFile(context.Background(), args[0], tr, o)
			if err != nil {
				return err
			}
			if out == "-" {
				_, err = cmd.OutOrStdout().Write(b)
			} else {
				err = runfolder.WriteFileAtomic(out, b)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "mt po: %d entries: %d already translated, %d filled (fuzzy), %d copied (no text), %d repaired (see their comments); %d distinct texts translated\n",
				rep.Entries, rep.Translated, rep.Filled, rep.Copied, rep.Repaired, rep.Texts)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "translation model file (required)")
	f.StringVar(&o.To, "lang", "", "target language (required), e.g. gl")
	f.StringVar(&o.From, "from", "en", "source language of the msgids")
	f.StringVarP(&out, "output", "o", "", "output catalogue (required; - for stdout), written atomically")
	f.StringVar(&glossary, "glossary", "", "TSV glossary: source term<TAB>target term per line")
	f.StringVar(&o.Accelerators, "accelerators", mt.DefaultAccelerators, `accelerator markers to recognise ("none" for none)`)
	f.IntVar(&o.BatchSize, "batch", 32, "texts per translation batch")
	f.IntVar(&to.Beam, "beam", 4, "beam size (1: greedy)")
	f.Float64Var(&to.LengthPenalty, "length-penalty", 0, "beam search length penalty alpha (Wu et al. 2016; 0: none)")
	f.BoolVar(&quiet, "quiet", false, "no progress bar")
	cmd.MarkFlagRequired("model")
	cmd.MarkFlagRequired("output")
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if o.BatchSize < 1 {
			return fmt.Errorf("--batch = %d, want >= 1", o.BatchSize)
		}
		if to.Beam < 1 {
			return fmt.Errorf("--beam = %d, want >= 1", to.Beam)
		}
		return nil
	}
	return cmd
}

// mtProgressBar draws "name [=====     ] done/total" on w, redrawn in place.
func mtProgressBar(w io.Writer, name string) func(done, total int) {
	return func(done, total int) {
		const width = 30
		n := 0
		if total > 0 {
			n = done * width / total
		}
		fmt.Fprintf(w, "\r%s [%s%s] %d/%d", name, strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total)
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}
