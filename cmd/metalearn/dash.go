package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

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
			dir := args[0]
			for _, f := range []string{"metrics.jsonl", "config.yaml", "summary.json"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
					return fmt.Errorf("%s is itself a run folder (it holds %s): give the folder above it, e.g. metalearn dash %s", dir, f, filepath.Dir(filepath.Clean(dir)))
				}
			}
			if token == "" {
				token = os.Getenv("METALEARN_TOKEN")
			}
			h, err := serve.DashboardHandler(dir, token)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("--addr %s: %v", addr, err)
			}
			if host, _, _ := net.SplitHostPort(addr); token == "" && !isLoopback(host) {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: serving run folders on %s without a token\n", addr)
			}
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "run dashboard of %s: http://%s/ (auth: %v)\n", dir, ln.Addr(), token != "")
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				return fmt.Errorf("shutdown: %v", err)
			}
			if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8090", "listen address (loopback by default; set --token before exposing it)")
	cmd.Flags().StringVar(&token, "token", "", "require 'Authorization: Bearer TOKEN' on the runs API (default: $METALEARN_TOKEN)")
	return cmd
}
