package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"metalearn/data"
	"metalearn/mtl"
)

func newMTLCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mtl",
		Short: "Multi-task learning: shared and task-specific parameters",
	}
	cmd.AddCommand(newSchoolCmd())
	return cmd
}

func newSchoolCmd() *cobra.Command {
	var (
		dataDir, methods string
		splits, steps    int
		lr               float64
		asJSON           bool
	)
	cmd := &cobra.Command{
		Use:   "school",
		Short: "The School benchmark: 139 schools as tasks, explained variance over random 75/25 splits",
		Long: `The School benchmark (Evgeniou & Pontil 2004): 15,362 students of 139
schools, 28 features, exam score. Each school is a task; every split puts
75% of each school's students in training and 25% in test; the measure is
the explained variance 1 - SSE/SST over all test students, in percent.

Methods: stl (independent least squares per school), stl-ridge, pooled (one
model), additive (shared w0 + school-specific v_t with an L2 penalty on v_t,
Evgeniou & Pontil's regularised MTL), hard (shared ReLU layer, linear head
per school). The data file is <data-dir>/school/school.csv (task,x1..x28,y),
as distributed with the MALSAR toolbox.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			byName := map[string]mtl.SchoolMethod{}
			var names []string
			for _, m := range mtl.DefaultSchoolMethods {
				byName[m.Name] = m
				names = append(names, m.Name)
			}
			var chosen []mtl.SchoolMethod
			for _, n := range strings.Split(methods, ",") {
				m, ok := byName[strings.TrimSpace(n)]
				if !ok {
					return fmt.Errorf("--methods: unknown method %q (want some of %s)", n, strings.Join(names, ","))
				}
				chosen = append(chosen, m)
			}
			d, err := data.LoadSchool(filepath.Join(dataDir, "school", "school.csv"))
			if err != nil {
				return err
			}
			res, err := mtl.RunSchool(d, chosen, splits, steps, lr)
			if err != nil {
				return err
			}
			if asJSON {
				for _, r := range res {
					b, _ := json.Marshal(r)
					fmt.Fprintln(out, string(b))
				}
				return nil
			}
			fmt.Fprintf(out, "School, %d random 75/25 splits per school, %d full-batch Adam steps (lr %g)\n", splits, steps, lr)
			fmt.Fprintf(out, "%-10s  %s\n", "method", "explained variance % (mean ± sd)   time")
			for _, r := range res {
				fmt.Fprintf(out, "%-10s  %6.2f ± %.2f                      %.1fs\n", r.Method, r.Mean, r.SD, r.Seconds)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", "../shared/data", "folder holding school/school.csv")
	f.StringVar(&methods, "methods", "stl,stl-ridge,pooled,additive,hard", "comma-separated methods")
	f.IntVar(&splits, "splits", 10, "random splits (seeds 1..N)")
	f.IntVar(&steps, "steps", 300, "full-batch Adam steps per model")
	f.Float64Var(&lr, "lr", 0.02, "Adam learning rate")
	f.BoolVar(&asJSON, "json", false, "one JSON line per method")
	return cmd
}
