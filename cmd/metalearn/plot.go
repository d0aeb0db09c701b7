package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/runfolder"
)

func newPlotCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "plot RUN_FOLDER",
		Short: "Redraw a run's learning curves (plots/*.png, *.svg) from its metrics.jsonl",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			p := filepath.Join(dir, "metrics.jsonl")
			recs, err := runfolder.ReadMetrics(p)
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%s is not a run folder (no metrics.jsonl)", dir)
			}
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				return fmt.Errorf("%s: no metrics recorded yet", p)
			}
			files, err := runfolder.PlotRecords(recs, filepath.Join(dir, "plots"), filepath.Base(dir))
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
}
