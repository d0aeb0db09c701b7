package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/mtl"
)

func newSeedCmd() *cobra.Command {
	var (
		heads, asJSON bool
		seed          uint64
		epochs        int
		lr            float64
		hidden        int
		points        int
		every         int
	)
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Train the seed example: one network on two circle-classification tasks",
		Long: `Train the seed example on built-in data.

Two tasks of 1,000 points uniform in the unit square, labelled 1 outside the
circle of radius 0.5 centred at (0.5, 0.5); 80/20 train/test split.

Faithful recipe (default): the seed's MTLNet (Linear 2->10, ReLU, Linear 10->1,
sigmoid) shared by both tasks, BCE, Adam lr 1e-3, 1,000 epochs of one
full-batch step per task. It underfits: ~0.75-0.90 test accuracy is the
correct reproduction.

Improved recipe (--heads): a shared trunk (Linear 2->H, tanh, Linear H->H,
tanh) with one Linear H->1 head per task, BCE with logits, Adam lr 1e-2
with cosine decay, 1,000 epochs; reaches >= 0.98 on both tasks (seed 1).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := mtl.DefaultSeedConfig(heads)
			cfg.Seed = seed
			if cmd.Flags().Changed("epochs") {
				cfg.Epochs = epochs
			}
			if cmd.Flags().Changed("lr") {
				cfg.LR = lr
			}
			if cmd.Flags().Changed("hidden") {
				if !heads {
					return fmt.Errorf("--hidden applies only with --heads (the faithful MTLNet has 10 hidden units)")
				}
				cfg.Hidden = hidden
			}
			cfg.Points = points
			if every < 0 {
				return fmt.Errorf("--progress = %d, want >= 0", every)
			}
			out := cmd.OutOrStdout()
			var progress func(int, []float64)
			if every > 0 && !asJSON {
				progress = func(epoch int, losses []float64) {
					if (epoch+1)%every == 0 {
						fmt.Fprintf(out, "epoch %5d  train loss task1 %.4f  task2 %.4f\n", epoch+1, losses[0], losses[1])
					}
				}
			}
			start := time.Now()
			res, err := mtl.RunSeed(cfg, progress)
			if err != nil {
				return err
			}
			secs := time.Since(start).Seconds()
			if asJSON {
				b, err := json.Marshal(struct {
					*mtl.SeedResult
					Seconds float64 `json:"seconds"`
				}{res, secs})
				if err != nil {
					return err
				}
				fmt.Fprintln(out, string(b))
				return nil
			}
			fmt.Fprintf(out, "seed example, %s recipe (seed %d, %d epochs, lr %g, %d parameters)\n", res.Recipe, res.Seed, res.Epochs, res.LR, res.Params)
			for _, t := range res.Tasks {
				fmt.Fprintf(out, "task %d: test accuracy %.4f  test loss %.4f  train loss %.4f\n", t.Task, t.TestAccuracy, t.TestLoss, t.TrainLoss)
			}
			fmt.Fprintf(out, "time %.2fs\n", secs)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&heads, "heads", false, "improved recipe: shared trunk with one head per task")
	f.BoolVar(&asJSON, "json", false, "print one JSON line instead of text")
	f.Uint64Var(&seed, "seed", 1, "random seed (data, initialisation)")
	f.IntVar(&epochs, "epochs", 0, "epochs (default 1000)")
	f.Float64Var(&lr, "lr", 0, "Adam learning rate (default 1e-3, or 1e-2 with --heads)")
	f.IntVar(&hidden, "hidden", 32, "trunk width with --heads")
	f.IntVar(&points, "points", 1000, "points per task")
	f.IntVar(&every, "progress", 0, "print training losses every N epochs (0: off)")
	return cmd
}
