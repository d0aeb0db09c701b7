package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/metalearn/metalearn/mtl"
)

// mtlTableRow is one line of mtl train's table.
type mtlTableRow struct {
	Weighting      string
	Metrics        []float64 // one per task
	DeltaP, DeltaM float64
	Seconds        float64
}

// maxTaskColumns is the most tasks mtl train's table shows one column
// each; with more it shows the mean (every task's metric is in --json).
const maxTaskColumns = 6

// printMTLTable prints the per-task test metrics (a column per task when
// there are at most maxTaskColumns tasks), Delta_p and Delta_m.
func printMTLTable(out io.Writer, e *mtl.Experiment, rows []mtlTableRow) {
	hib := e.HigherIsBetter()
	kinds := map[bool]bool{}
	for _, h := range hib {
		kinds[h] = true
	}
	var what []string
	if kinds[true] {
		what = append(what, "accuracy (higher is better)")
	}
	if kinds[false] {
		what = append(what, "RMSE (lower is better)")
	}
	T := len(e.Tasks)
	perTask := T <= maxTaskColumns
	if perTask {
		fmt.Fprintf(out, "test metric per task: %s\n", strings.Join(what, "; "))
	} else {
		fmt.Fprintf(out, "test metric: mean over the %d tasks of %s (per task: --json)\n", T, strings.Join(what, " / "))
	}
	fmt.Fprintf(out, "%-12s", "weighting")
	if perTask {
		for _, t := range e.Tasks {
			name := t.Name
			if len(name) > 10 {
				name = name[:9] + "~"
			}
			fmt.Fprintf(out, " %10s", name)
		}
	} else {
		fmt.Fprintf(out, " %10s", "mean")
	}
	fmt.Fprintf(out, " %9s %9s %8s\n", "Delta_p%", "Delta_m%", "time")
	for _, r := range rows {
		fmt.Fprintf(out, "%-12s", r.Weighting)
		if perTask {
			for _, v := range r.Metrics {
				fmt.Fprintf(out, " %10.4f", v)
			}
		} else {
			mean := 0.0
			for _, v := range r.Metrics {
				mean += v
			}
			fmt.Fprintf(out, " %10.4f", mean/float64(len(r.Metrics)))
		}
		fmt.Fprintf(out, " %+9.2f %+9.2f %7.1fs\n", r.DeltaP, r.DeltaM, r.Seconds)
	}
}
