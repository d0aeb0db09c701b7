package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/serve"
	"github.com/metalearn/metalearn/tensor"
)

// serveFlags are the server options shared by serve and the subcommands
// that start an in-process server (loadtest, demo with --models).
type serveFlags struct {
	models, addr, token, runs   string
	workers, queue              int
	queueTimeout, cacheTTL      time.Duration
	cacheEntries                int
	cacheMB, maxBodyMB, maxLR   float64
	maxSupport, maxQueries      int
	maxSteps, maxWays, maxImage int
	kernelThreads               int
	shutdownTimeout             time.Duration
}

func (f *serveFlags) bind(cmd *cobra.Command, withAddr bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.models, "models", "", "model directory: NAME.safetensors checkpoints from `meta train` are served as NAME")
	if withAddr {
		fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen address (loopback by default; set --token before exposing it)")
		fl.StringVar(&f.token, "token", "", "require 'Authorization: Bearer TOKEN' (default: $METALEARN_TOKEN)")
		fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM, wait this long for in-flight requests")
		fl.StringVar(&f.runs, "runs", "", "also show the run dashboard at /runs over the run folders directly under this directory")
	}
	fl.IntVar(&f.workers, "workers", 0, "requests computing in parallel (0: the number of cores)")
	fl.IntVar(&f.queue, "queue", 64, "requests waiting for a worker; more get 429")
	fl.DurationVar(&f.queueTimeout, "queue-timeout", 5*time.Second, "longest wait for a worker (then 503)")
	fl.IntVar(&f.cacheEntries, "cache-entries", 1000, "adapted models kept (least recently used evicted first)")
	fl.Float64Var(&f.cacheMB, "cache-mb", 256, "memory bound of the adapted-model cache, MiB")
	fl.DurationVar(&f.cacheTTL, "cache-ttl", 15*time.Minute, "an adapted model unused this long expires")
	fl.Float64Var(&f.maxBodyMB, "max-body-mb", 8, "request body limit, MiB")
	fl.IntVar(&f.maxSupport, "max-support", 200, "support examples per request")
	fl.IntVar(&f.maxQueries, "max-queries", 500, "query inputs per predict request")
	fl.IntVar(&f.maxSteps, "max-steps", 20, "adaptation steps per request")
	fl.IntVar(&f.maxWays, "max-ways", 100, "classes of a metric-based support set")
	fl.IntVar(&f.maxImage, "max-image-side", 512, "largest image side (PNG or nested array), pixels")
	fl.Float64Var(&f.maxLR, "max-lr", 10, "largest learning_rate a request may ask for")
	fl.IntVar(&f.kernelThreads, "kernel-threads", 0, "goroutines per tensor kernel (0: the number of cores; 1 suits many concurrent requests)")
}

// config validates the flags and returns the server configuration.
func (f *serveFlags) config(cmd *cobra.Command) (serve.Config, error) {
	var c serve.Config
	if f.models == "" {
		return c, errors.New("--models is required (the directory of NAME.safetensors checkpoints)")
	}
	for _, p := range []struct {
		name string
		v    int
		min  int
	}{{"workers", f.workers, 0}, {"queue", f.queue, 0}, {"cache-entries", f.cacheEntries, 1}, {"max-support", f.maxSupport, 1},
		{"max-queries", f.maxQueries, 1}, {"max-steps", f.maxSteps, 1}, {"max-ways", f.maxWays, 2}, {"max-image-side", f.maxImage, 1}, {"kernel-threads", f.kernelThreads, 0}} {
		if p.v < p.min {
			return c, fmt.Errorf("--%s = %d, want >= %d", p.name, p.v, p.min)
		}
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"cache-mb", f.cacheMB}, {"max-body-mb", f.maxBodyMB}, {"max-lr", f.maxLR}} {
		if !(p.v > 0) || p.v > 1e9 {
			return c, fmt.Errorf("--%s = %v, want a positive number", p.name, p.v)
		}
	}
	for _, p := range []struct {
		name string
		v    time.Duration
	}{{"queue-timeout", f.queueTimeout}, {"cache-ttl", f.cacheTTL}} {
		if p.v <= 0 {
			return c, fmt.Errorf("--%s = %v, want a positive duration", p.name, p.v)
		}
	}
	if st, err := os.Stat(f.models); err != nil || !st.IsDir() {
		return c, fmt.Errorf("--models %s: not a readable directory", f.models)
	}
	token := f.token
	if token == "" {
		token = os.Getenv("METALEARN_TOKEN")
	}
	queue := f.queue
	if queue == 0 {
		queue = -1 // no waiting at all
	}
	c = serve.Config{ModelDir: f.models, Addr: f.addr, Token: token, Workers: f.workers, Queue: queue, QueueTimeout: f.queueTimeout,
		CacheEntries: f.cacheEntries, CacheBytes: int64(f.cacheMB * (1 << 20)), CacheTTL: f.cacheTTL,
		Limits: serve.Limits{MaxBodyBytes: int64(f.maxBodyMB * (1 << 20)), MaxSupport: f.maxSupport, MaxQueries: f.maxQueries,
			MaxSteps: f.maxSteps, MaxWays: f.maxWays, MaxImageSide: f.maxImage, MaxLR: f.maxLR},
		RunsDir:  f.runs,
		ErrorLog: log.New(cmd.ErrOrStderr(), "metalearn serve: ", log.LstdFlags)}
	if f.kernelThreads > 0 {
		tensor.SetThreads(f.kernelThreads)
	}
	return c, nil
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve meta-learned models over HTTP: adapt to each user from a few examples, then predict",
		Long: `Serve the checkpoints in --models (NAME.safetensors, as written by meta train) over JSON/HTTP:

  POST /v1/adapt    {"model":NAME,"support":{"inputs":[...],"labels":[...]},"steps":5} -> {"id":...}
  POST /v1/predict  {"id":ID,"inputs":[...]} or {"model":NAME,"support":{...},"inputs":[...]}
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
			cfg, err := f.config(cmd)
			if err != nil {
				return err
			}
			if f.shutdownTimeout <= 0 {
				return fmt.Errorf("--shutdown-timeout = %v, want a positive duration", f.shutdownTimeout)
			}
			s, err := serve.New(cfg)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("--addr %s: %v", cfg.Addr, err)
			}
			out := cmd.OutOrStdout()
			if host, _, _ := net.SplitHostPort(cfg.Addr); cfg.Token == "" && !isLoopback(host) {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: serving on %s without a token\n", cfg.Addr)
			}
			fmt.Fprintf(out, "serving %s on http://%s (auth: %v)\n", cfg.ModelDir, ln.Addr(), cfg.Token != "")
			fmt.Fprintf(out, "playground: http://%s/\n", ln.Addr())
			if cfg.RunsDir != "" {
				fmt.Fprintf(out, "run dashboard: http://%s/runs (run folders under %s)\n", ln.Addr(), cfg.RunsDir)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			errc := make(chan error, 1)
			go func() { errc <- s.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			fmt.Fprintln(out, "shutting down: draining in-flight requests")
			sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
			defer cancel()
			if err := s.Shutdown(sctx); err != nil {
				return fmt.Errorf("shutdown: %v", err)
			}
			if err := <-errc; err != nil {
				return err
			}
			fmt.Fprintln(out, "stopped")
			return nil
		},
	}
	f.bind(cmd, true)
	cmd.AddCommand(newServeLoadtestCmd(), newServeDemoCmd())
	return cmd
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// target returns the URL to drive: --url, or an in-process server over
// --models on 127.0.0.1 (stopped by the returned function).
func target(cmd *cobra.Command, url, token string, f *serveFlags) (string, string, func(), error) {
	if url != "" && f.models != "" {
		return "", "", nil, errors.New("give --url (a running server) or --models (start one here), not both")
	}
	if url != "" {
		if _, err := serve.CheckLocalURL(url); err != nil {
			return "", "", nil, fmt.Errorf("--url: %v", err)
		}
		if token == "" {
			token = os.Getenv("METALEARN_TOKEN")
		}
		return url, token, func() {}, nil
	}
	if f.models == "" {
		return "", "", nil, errors.New("give --url http://127.0.0.1:PORT or --models DIR")
	}
	cfg, err := f.config(cmd)
	if err != nil {
		return "", "", nil, err
	}
	cfg.Token = ""
	s, err := serve.New(cfg)
	if err != nil {
		return "", "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, err
	}
	go func() { _ = s.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), "", stop, nil
}

func newServeLoadtestCmd() *cobra.Command {
	var (
		f                               serveFlags
		url, token, model, mode         string
		conc, requests, ways, shots, qs int
		steps                           int
		duration                        time.Duration
		png, asJSON                     bool
		seed                            uint64
	)
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Drive a server on 127.0.0.1 with adapt+predict traffic; report latency percentiles, throughput, errors",
		Long: `Send synthetic few-shot traffic to a server on 127.0.0.1 only (other hosts are
refused): each operation adapts to a random N-way K-shot support set and
predicts Q queries with the returned id (--mode adapt+predict), or sends one
predict with an inline support set (--mode inline). It stops by itself after
--requests operations or --duration, whichever comes first. With --models it
starts an in-process server on 127.0.0.1 instead of using --url.`,
		Example: `  metalearn serve loadtest --url http://127.0.0.1:8080 --model proto --concurrency 8 --requests 2000
  metalearn serve loadtest --models models/ --model fomaml --steps 5 --requests 300`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if model == "" {
				return errors.New("--model is required")
			}
			if !serve.ValidModelName(model) {
				return fmt.Errorf("--model %q: want a plain model name", model)
			}
			u, tok, stop, err := target(cmd, url, token, &f)
			if err != nil {
				return err
			}
			defer stop()
			cfg := serve.LoadConfig{URL: u, Token: tok, Model: model, Concurrency: conc, Operations: requests, Duration: duration,
				Mode: mode, Ways: ways, Shots: shots, Queries: qs, PNG: png, Seed: seed}
			if cmd.Flags().Changed("steps") {
				if steps < 0 {
					return fmt.Errorf("--steps = %d, want >= 0", steps)
				}
				cfg.Steps = &steps
			}
			switch {
			case conc < 1 || conc > serve.MaxConcurrency:
				return fmt.Errorf("--concurrency = %d, want 1..%d", conc, serve.MaxConcurrency)
			case requests < 1 || requests > serve.MaxLoadRequests:
				return fmt.Errorf("--requests = %d, want 1..%d", requests, serve.MaxLoadRequests)
			case duration <= 0 || duration > serve.MaxLoadDuration:
				return fmt.Errorf("--duration = %v, want 0 < duration <= %v", duration, serve.MaxLoadDuration)
			case ways < 0 || shots < 1 || qs < 1:
				return fmt.Errorf("--ways %d, --shots %d, --queries %d: want ways >= 0, shots >= 1, queries >= 1", ways, shots, qs)
			}
			rep, err := serve.LoadTest(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				b, _ := json.Marshal(map[string]any{"report": rep, "target": u, "cores": runtime.NumCPU(), "kernel_threads": tensor.Threads()})
				fmt.Fprintln(out, string(b))
			} else {
				fmt.Fprintln(out, rep)
				for _, e := range rep.ErrorSamples {
					fmt.Fprintf(out, "  error: %s\n", e)
				}
			}
			if rep.Errors > 0 {
				return fmt.Errorf("%d of %d operations failed", rep.Errors, rep.Operations)
			}
			return nil
		},
	}
	f.bind(cmd, false)
	fl := cmd.Flags()
	fl.StringVar(&url, "url", "", "server to drive: http://127.0.0.1:PORT (or use --models)")
	fl.StringVar(&token, "token", "", "bearer token (default: $METALEARN_TOKEN)")
	fl.StringVar(&model, "model", "", "model name")
	fl.StringVar(&mode, "mode", "adapt+predict", "adapt+predict (two requests per operation) or inline (one predict with the support set)")
	fl.IntVar(&conc, "concurrency", 8, "clients in parallel")
	fl.IntVar(&requests, "requests", 1000, "operations to send (then stop)")
	fl.DurationVar(&duration, "duration", 60*time.Second, "stop after this long at most")
	fl.IntVar(&ways, "ways", 0, "classes per support set (default: the model's, else 5)")
	fl.IntVar(&shots, "shots", 1, "support examples per class")
	fl.IntVar(&qs, "queries", 5, "query inputs per operation")
	fl.IntVar(&steps, "steps", 0, "adaptation steps (default: the model's)")
	fl.BoolVar(&png, "png", false, "send images as base64 PNG instead of arrays")
	fl.Uint64Var(&seed, "seed", 1, "seed of the synthetic inputs")
	fl.BoolVar(&asJSON, "json", false, "print one JSON line")
	return cmd
}

func newServeDemoCmd() *cobra.Command {
	var (
		f                           serveFlags
		url, token, model, dataDir  string
		shotsList                   string
		users, ways, queries, steps int
		arrays, asJSON              bool
		seed                        uint64
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
			if model == "" {
				return errors.New("--model is required")
			}
			if !serve.ValidModelName(model) {
				return fmt.Errorf("--model %q: want a plain model name", model)
			}
			var shots []int
			for _, s := range strings.Split(shotsList, ",") {
				k, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || k < 1 {
					return fmt.Errorf("--shots %q: want a comma-separated list of K >= 1", shotsList)
				}
				shots = append(shots, k)
			}
			if users < 1 || queries < 1 || ways < 0 {
				return fmt.Errorf("--users %d, --queries %d, --ways %d: want users >= 1, queries >= 1, ways >= 0", users, queries, ways)
			}
			u, tok, stop, err := target(cmd, url, token, &f)
			if err != nil {
				return err
			}
			defer stop()
			cfg := serve.DemoConfig{URL: u, Token: tok, Model: model, DataDir: dataDir, Users: users, Ways: ways, Shots: shots, Queries: queries, Arrays: arrays, Seed: seed}
			if cmd.Flags().Changed("steps") {
				if steps < 0 {
					return fmt.Errorf("--steps = %d, want >= 0", steps)
				}
				cfg.Steps = &steps
			}
			out := cmd.OutOrStdout()
			w := out
			if asJSON {
				w = io.Discard
			}
			rep, err := serve.Demo(cmd.Context(), cfg, w)
			if err != nil {
				return err
			}
			if asJSON {
				b, _ := json.Marshal(rep)
				fmt.Fprintln(out, string(b))
			} else {
				fmt.Fprintf(out, "%.1fs\n", rep.Seconds)
			}
			return nil
		},
	}
	f.bind(cmd, false)
	fl := cmd.Flags()
	fl.StringVar(&url, "url", "", "server: http://127.0.0.1:PORT (or use --models)")
	fl.StringVar(&token, "token", "", "bearer token (default: $METALEARN_TOKEN)")
	fl.StringVar(&model, "model", "", "model name (an Omniglot checkpoint)")
	fl.StringVar(&dataDir, "data-dir", "../shared/data", "folder holding omniglot/")
	fl.IntVar(&users, "users", 5, "users (test alphabets)")
	fl.IntVar(&ways, "ways", 0, "N characters per user (default: the model's, else 5)")
	fl.StringVar(&shotsList, "shots", "1,5", "K examples per character, comma-separated")
	fl.IntVar(&queries, "queries", 5, "query drawings per character")
	fl.IntVar(&steps, "steps", 0, "adaptation steps (gradient-based; default: the model's)")
	fl.BoolVar(&arrays, "arrays", false, "send arrays instead of base64 PNGs")
	fl.Uint64Var(&seed, "seed", 1, "seed (characters and drawings)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON line")
	return cmd
}
