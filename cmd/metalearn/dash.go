package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/serve"
)

func newDashCmd() *cobra.Command {
	var addr, token string
	cmd := &cobra.Command{
		Use:   "dash DIR",
		Short: "Open a live dashboard of the run folders under DIR in the browser (curves, config, summary)",
		Long: `Serve the run dashboard over the run folders directly under DIR (each holds
config.yaml, metrics.jsonl and, once finished, summary.json): learning curves
that grow while a run writes, runs compared side by side, their config and
summary. Read-only; nothing outside DIR is listed or read. The same page is
at /runs of 'metalearn serve --runs DIR'.`,
		Example: `  metalearn dash runs/                      # then open http://127.0.0.1:8090/
  METALEARN_TOKEN=secret metalearn dash runs/ --addr 0.0.0.0:8090`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve.Dashboard(ctx, args[0], addr, token, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8090", "listen address (loopback by default; set --token before exposing it)")
	cmd.Flags().StringVar(&token, "token", "", "require 'Authorization: Bearer TOKEN' on the runs API (default: $METALEARN_TOKEN)")
	return cmd
}
