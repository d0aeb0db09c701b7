package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/mt"
)

func newMTDemoCmd() *cobra.Command {
	c := mt.DefaultDemoConfig()
	var asJSON bool
	c.Out = filepath.Join("runs", "mt-demo")
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "A new language from 100 pairs on the embedded corpus: multilingual pretraining, then adaptation to gl",
		Long: `Trains a tiny multilingual model on the corpus embedded in the binary
(1,000 short LibreOffice strings in each of en->de fr es it nl pt, lo-mt's
train split), scores en->gl on 200 held-out strings (lo-mt dev), adapts the
model to Galician from --adapt-pairs pairs and scores again, next to the
same model trained on those pairs alone. Writes the three runs, demo.json
and the plot demo-gl.png/.svg (held-out chrF against steps) under --out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !asJSON {
				c.Log = func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) }
			}
			res, err := mt.Demo(c)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSONLine(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "en->gl chrF on 200 held-out strings: %.1f before adaptation, %.1f after adapting on %d pairs (%.1f from scratch on them); multilingual dev chrF %.1f\nruns and demo.json in %s; plot %s\n",
				res.ChrFBefore, res.ChrFAfter, res.AdaptPairs, res.ChrFScratch, res.PretrainDevChrF, c.Out, strings.Join(res.Plots, ", "))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.Out, "out", c.Out, "output folder")
	f.IntVar(&c.PretrainSteps, "pretrain-steps", c.PretrainSteps, "multilingual training steps")
	f.IntVar(&c.AdaptSteps, "adapt-steps", c.AdaptSteps, "adaptation steps (also the from-scratch run's)")
	f.IntVar(&c.AdaptPairs, "adapt-pairs", c.AdaptPairs, "en->gl pairs to adapt on (1..300)")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "seed")
	f.BoolVar(&asJSON, "json", false, "JSON output")
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		for _, v := range []struct {
			name string
			n    int
		}{{"--pretrain-steps", c.PretrainSteps}, {"--adapt-steps", c.AdaptSteps}, {"--adapt-pairs", c.AdaptPairs}} {
			if v.n < 1 {
				return fmt.Errorf("%s = %d, want >= 1", v.name, v.n)
			}
		}
		return nil
	}
	return cmd
}
