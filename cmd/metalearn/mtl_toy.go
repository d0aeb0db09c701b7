package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/mtl"
)

func newMTLToyCmd() *cobra.Command {
	var (
		outDir, methods string
		steps           int
		lr, scale, tol  float64
		seed            uint64
		asJSON          bool
	)
	cmd := &cobra.Command{
		Use:   "toy",
		Short: "The two-objective toy problem of CAGrad / Nash-MTL: trajectories of each weighting from 5 starts",
		Long: `Runs every chosen weighting from the five usual starting points
(-8.5,7.5), (-8.5,-5), (0,0), (9,9), (10,-8) on the two-objective problem of
CAGrad (Liu et al. 2021; --scale 0.1 is Nash-MTL's variant with L1 scaled
by 0.1), with Adam, and reports whether each run reached the Pareto front:
its final point lies within --tol (Euclidean, in x) of the Pareto set,
which is known in closed form up to a 1-D root (x1 = 14 lambda - 7, x2 about
-8.36). Also printed: the Pareto-stationarity of the final point
(min over lambda of ||lambda g1 + (1-lambda) g2||). Writes OUT/<method>_x.png|svg
(paths over contours of L1+L2 and the Pareto set), OUT/<method>_loss.png|svg
(paths in loss space with the Pareto front) and OUT/toy.json.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			cfg := mtl.ToyStudyConfig{Scale: scale, Methods: methods, ToyConfig: mtl.ToyConfig{Steps: steps, LR: lr, Tol: tol, Seed: seed}, Out: outDir}
			if !asJSON {
				header := false
				cfg.Run = func(r *mtl.ToyRun) {
					if !header {
						fmt.Fprintf(out, "toy problem (scale %g), Adam lr %g, %d steps; reached = within %g of the Pareto set\n", scale, lr, steps, tol)
						fmt.Fprintf(out, "%-11s %-12s %-22s %-20s %9s %9s %s\n", "method", "start", "final x", "final (L1, L2)", "dist", "station.", "reached")
						header = true
					}
					fmt.Fprintf(out, "%-11s %-12s %-22s %-20s %9.2g %9.2g %v\n", r.Method, fmt.Sprintf("(%g,%g)", r.Start[0], r.Start[1]),
						fmt.Sprintf("(%.3f, %.3f)", r.Final[0], r.Final[1]), fmt.Sprintf("(%.3f, %.3f)", r.FinalLoss[0], r.FinalLoss[1]), r.DistPareto, r.Stationarity, r.Reached)
				}
			}
			st, err := mtl.RunToyStudy(cfg)
			if err != nil {
				return err
			}
			if asJSON {
				for _, r := range st.Runs {
					r2 := *r
					r2.Path = nil
					b, _ := json.Marshal(r2)
					fmt.Fprintln(out, string(b))
				}
				return nil
			}
			fmt.Fprintf(out, "summary (starts that reached the front):\n")
			for _, name := range st.Methods {
				n, total := st.Reached(name)
				fmt.Fprintf(out, "  %-11s %d/%d\n", name, n, total)
			}
			fmt.Fprintf(out, "plots and toy.json in %s (%.1fs)\n", outDir, st.Seconds)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&outDir, "out", "runs/mtl-toy", "output folder for plots and toy.json")
	f.StringVar(&methods, "methods", strings.Join(mtl.ToyMethods, ","), "comma-separated weightings")
	f.IntVar(&steps, "steps", 100000, "Adam steps per run")
	f.Float64Var(&lr, "lr", 1e-3, "Adam learning rate")
	f.Float64Var(&scale, "scale", 1, "weight of L1 (1: CAGrad; 0.1: Nash-MTL)")
	f.Float64Var(&tol, "tol", 0.05, "distance to the Pareto set (in x) that counts as reaching the front")
	f.Uint64Var(&seed, "seed", 1, "seed of the randomised weightings (pcgrad, gradvac, rlw)")
	f.BoolVar(&asJSON, "json", false, "one JSON line per run (paths only in toy.json)")
	return cmd
}
