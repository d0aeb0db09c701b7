package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/mtl"
)

func newMTLCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mtl",
		Short: "Multi-task learning: shared and task-specific parameters",
	}
	cmd.AddCommand(newSchoolCmd(), newMTLTrainCmd(), newMTLEvalCmd(), newMTLToyCmd(), newParkinsonsCmd())
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
			chosen, err := mtl.PickMethods(methods, mtl.DefaultSchoolMethods)
			if err != nil {
				return err
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

func newParkinsonsCmd() *cobra.Command {
	var (
		dataDir, methods, drop string
		splits, steps          int
		lr, trainFrac          float64
		asJSON                 bool
	)
	cmd := &cobra.Command{
		Use:   "parkinsons",
		Short: "Parkinson's telemonitoring: 42 patients as tasks, test MSE over random per-patient splits",
		Long: `The UCI Parkinson's telemonitoring data (Tsanas et al. 2010): 5,875 voice
recordings of 42 patients, 19 features (age, sex, test_time, 16 voice
measures), targets motor_UPDRS and total_UPDRS. Each patient is a task;
every split puts --train-frac of each patient's recordings in training
(seeds 1..N); features and target are standardised with training
statistics; each target is modelled separately; the measure is the test
MSE in UPDRS points squared over all test recordings, mean ± sd over the
splits. Methods as in 'mtl school': stl (linear model per patient),
stl-ridge, pooled (one linear model), additive (shared w0 + patient v_t,
L2 on v_t), hard (shared ReLU layer, linear head per patient). Data:
<data-dir>/parkinsons-telemonitoring/parkinsons_updrs.data.

The UPDRS scores were measured at three clinical visits and linearly
interpolated in time (Tsanas et al. 2010), so with test_time a per-patient
nonlinear model can fit them almost exactly; --drop test_time leaves the
voice measures (age and sex are constant within a patient).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			chosen, err := mtl.PickMethods(methods, mtl.DefaultParkinsonsMethods)
			if err != nil {
				return err
			}
			if !(trainFrac > 0 && trainFrac < 1) {
				return fmt.Errorf("--train-frac %v: want a fraction in (0, 1)", trainFrac)
			}
			d, err := data.LoadParkinsons(filepath.Join(dataDir, "parkinsons-telemonitoring", "parkinsons_updrs.data"))
			if err != nil {
				return err
			}
			if drop != "" {
				if d, err = mtl.WithoutFeatures(d, strings.Split(drop, ",")...); err != nil {
					return fmt.Errorf("--drop: %w", err)
				}
			}
			res, err := mtl.RunParkinsons(d, chosen, trainFrac, splits, steps, lr)
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
			fmt.Fprintf(out, "Parkinson's telemonitoring, 42 patients, %d features, %d random %.0f/%.0f splits per patient, %d full-batch Adam steps (lr %g)\n",
				len(d.Features), splits, 100*trainFrac, 100*(1-trainFrac), steps, lr)
			fmt.Fprintf(out, "%-10s  %-22s  %-22s  %s\n", "method", "motor_UPDRS MSE", "total_UPDRS MSE", "time")
			for _, m := range mtl.DefaultParkinsonsMethods {
				name := m.Name
				var cells []string
				secs := 0.0
				for _, tg := range mtl.ParkinsonsTargets {
					for _, r := range res {
						if r.Method == name && r.Target == tg {
							cells = append(cells, fmt.Sprintf("%7.3f ± %.3f", r.Mean, r.SD))
							secs += r.Seconds
						}
					}
				}
				if len(cells) == 2 {
					fmt.Fprintf(out, "%-10s  %-22s  %-22s  %.1fs\n", name, cells[0], cells[1], secs)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", "../shared/data", "folder holding parkinsons-telemonitoring/")
	f.StringVar(&methods, "methods", "stl,stl-ridge,pooled,additive,hard", "comma-separated methods")
	f.IntVar(&splits, "splits", 10, "random splits (seeds 1..N)")
	f.IntVar(&steps, "steps", 500, "full-batch Adam steps per model")
	f.Float64Var(&lr, "lr", 0.05, "Adam learning rate")
	f.StringVar(&drop, "drop", "", "comma-separated feature columns to leave out (e.g. test_time)")
	f.Float64Var(&trainFrac, "train-frac", 0.75, "fraction of each patient's recordings used for training")
	f.BoolVar(&asJSON, "json", false, "one JSON line per method and target")
	return cmd
}
