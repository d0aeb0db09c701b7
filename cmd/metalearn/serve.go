package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/serve"
)

// The serve commands: the flags of package serve's Options, LoadOptions
// and DemoOptions (their names, defaults and checks live there) and Run.

func newServeCmd() *cobra.Command {
	var o serve.Options
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve meta-learned models over HTTP: adapt to each user from a few examples, then predict",
		Long: `Serve the checkpoints in --models (NAME.safetensors, as written by meta train) over JSON/HTTP:

  POST /v1/adapt    {"model":NAME,"support":{"inputs":[...],"labels":[...]},"steps":5} -> {"id":...}
  POST /v1/predict  {"id":ID,"inputs":[...]} or {"model":NAME,"support":{...},"inputs":[...]}
  POST /v1/translate {"model":NAME or "id":ID,"texts":[...],"from":"en","to":"de","beam":4} (translation models from mt train)
  POST /v1/adapt    {"model":NAME,"pairs":[{"src":..,"tgt":..,"from":..,"to":..}],"steps":10} for translation models
  GET  /v1/models, GET /healthz, GET /metrics (Prometheus text format)
  GET  /            the playground page: draw symbols, adapt, classify live
  GET  /runs        the run dashboard (with --runs DIR)

Inputs are arrays of numbers or base64 PNG images (ink = 1, background = 0,
resized to 28x28 like the Omniglot loader). SIGINT/SIGTERM drain in-flight
requests and stop. See the serve package documentation for details.`,
		Example: `  metalearn serve --models models/ --addr 127.0.0.1:8080   # then open http://127.0.0.1:8080/
  metalearn serve --models models/ --runs runs/             # playground at /, dashboard at /runs
  METALEARN_TOKEN=secret metalearn serve --models models/ --workers 2 --queue 32
  metalearn serve loadtest --url http://127.0.0.1:8080 --model proto --concurrency 8 --requests 2000
  metalearn serve demo --models models/ --model proto --users 5 --shots 1,5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return o.Run(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.Bind(cmd.Flags(), true)
	cmd.AddCommand(newServeLoadtestCmd(), newServeDemoCmd())
	return cmd
}

func newServeLoadtestCmd() *cobra.Command {
	var (
		o      serve.LoadOptions
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Drive a server on 127.0.0.1 with adapt+predict traffic; report latency percentiles, throughput, errors",
		Long: `Send synthetic few-shot traffic to a server on 127.0.0.1 only (other hosts are
refused): each operation adapts to a random N-way K-shot support set and
predicts Q queries with the returned id (--mode adapt+predict), or sends one
predict with an inline support set (--mode inline), or for a translation
model sends one translate request of --queries sentences (--mode translate;
the report adds sentences/s). It stops by itself after
--requests operations or --duration, whichever comes first. With --models it
starts an in-process server on 127.0.0.1 instead of using --url.

With --hostile N it measures --concurrency normal clients alone for
--baseline, then for --duration while N hostile clients send amplifying
bodies, bodies trickled past the read timeout, huge step counts, nulls,
duplicate keys and abandoned requests; it reports the normal clients'
latency and answers, the hostile answers, /healthz probes and (with
--server-pid, or in-process) the server's peak RSS, and fails when a normal
client gets a 5xx other than 503 or /healthz does not answer.`,
		Example: `  metalearn serve loadtest --url http://127.0.0.1:8080 --model proto --concurrency 8 --requests 2000
  metalearn serve loadtest --models models/ --model fomaml --steps 5 --requests 300
  metalearn serve loadtest --models models/ --model tiny-mt --mode translate --from en --to de --queries 1 --concurrency 8 --requests 500
  metalearn serve loadtest --url http://127.0.0.1:8080 --model proto --hostile 32 --concurrency 8 --duration 60s --server-pid 1234`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.Run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), asJSON)
		},
	}
	o.Bind(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON line")
	return cmd
}

func newServeDemoCmd() *cobra.Command {
	var (
		o      serve.DemoOptions
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Adapt to new users (unseen Omniglot alphabets) through the API; print accuracy before and after",
		Long: `Every user is an Omniglot alphabet of the Vinyals test split (characters no
model saw in training). The user sends K labelled examples of N of its
characters as base64 PNGs to POST /v1/adapt and asks POST /v1/predict for the
labels of 5 new drawings per character. The table shows accuracy before
adaptation (gradient-based models: the meta-learned initialisation; metric
models: chance) and after. With --models the server runs in-process.`,
		Example: `  metalearn serve demo --models /tmp/models --model proto --users 5 --shots 1,5
  metalearn serve demo --url http://127.0.0.1:8080 --model fomaml --steps 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.Run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), asJSON)
		},
	}
	o.Bind(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON line")
	return cmd
}
