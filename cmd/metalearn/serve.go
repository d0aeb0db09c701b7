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
	maxConns                    int
	memoryMB                    float64
	requestTimeout, readTimeout time.Duration
	writeTimeout                time.Duration
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
	fl.IntVar(&f.maxConns, "max-conns", 256, "open connections at most; one more is answered 503 and closed")
	fl.Float64Var(&f.memoryMB, "memory-mb", 256, "memory all requests together may hold while read and computed, MiB (each reserves 4x its body; beyond: wait up to --queue-timeout, then 503)")
	fl.DurationVar(&f.requestTimeout, "request-timeout", 30*time.Second, "longest a request may wait and compute (then 503; the adaptation stops)")
	fl.DurationVar(&f.readTimeout, "read-timeout", 20*time.Second, "longest a client may take to send a request, body included (then 408)")
	fl.DurationVar(&f.writeTimeout, "write-timeout", 10*time.Second, "longest a client may take to read an answer")
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
		{"max-queries", f.maxQueries, 1}, {"max-steps", f.maxSteps, 1}, {"max-ways", f.maxWays, 2}, {"max-image-side", f.maxImage, 1}, {"kernel-threads", f.kernelThreads, 0}, {"max-conns", f.maxConns, 1}} {
		if p.v < p.min {
			return c, fmt.Errorf("--%s = %d, want >= %d", p.name, p.v, p.min)
		}
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"cache-mb", f.cacheMB}, {"max-body-mb", f.maxBodyMB}, {"max-lr", f.maxLR}, {"memory-mb", f.memoryMB}} {
		if !(p.v > 0) || p.v > 1e9 {
			return c, fmt.Errorf("--%s = %v, want a positive number", p.name, p.v)
		}
	}
	for _, p := range []struct {
		name string
		v    time.Duration
	}{{"queue-timeout", f.queueTimeout}, {"cache-ttl", f.cacheTTL}, {"request-timeout", f.requestTimeout}, {"read-timeout", f.readTimeout}, {"write-timeout", f.writeTimeout}} {
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
		MaxConns: f.maxConns, MemoryBudget: int64(f.memoryMB * (1 << 20)), RequestTimeout: f.requestTimeout,
		ReadTimeout: f.readTimeout, WriteTimeout: f.writeTimeout,
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
			// past the timeout the computations in flight are stopped and
			// answered 503; an error only if one did not stop
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
		hostile, serverPID              int
		baseline                        time.Duration
		amplifyMB                       float64
	)
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Drive a server on 127.0.0.1 with adapt+predict traffic; report latency percentiles, throughput, errors",
		Long: `Send synthetic few-shot traffic to a server on 127.0.0.1 only (other hosts are
refused): each operation adapts to a random N-way K-shot support set and
predicts Q queries with the returned id (--mode adapt+predict), or sends one
predict with an inline support set (--mode inline). It stops by itself after
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
  metalearn serve loadtest --url http://127.0.0.1:8080 --model proto --hostile 32 --concurrency 8 --duration 60s --server-pid 1234`,
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
			if hostile > 0 {
				return runHostile(cmd, serve.HostileConfig{URL: u, Token: tok, Model: model, Hostile: hostile, Normal: conc, Duration: duration,
					Baseline: baseline, AmplifyBytes: int(amplifyMB * (1 << 20)), MaxSteps: f.maxSteps, Seed: seed}, url == "", serverPID, asJSON)
			}
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
	fl.IntVar(&hostile, "hostile", 0, "hostile clients mixed with the --concurrency normal ones (0: an ordinary load test)")
	fl.DurationVar(&baseline, "baseline", 0, "with --hostile: how long the normal clients run alone first (default --duration/4, at least 2s)")
	fl.Float64Var(&amplifyMB, "amplify-mb", 8, "with --hostile: size of an amplifying body, MiB (kept 4 KiB under it)")
	fl.IntVar(&serverPID, "server-pid", 0, "with --hostile and --url: the server's process id, to sample its RSS (Linux /proc)")
	return cmd
}

// runHostile runs serve.HostileLoad and prints its report; the peak RSS
// is the server's (--server-pid) or, in-process, this process's.
func runHostile(cmd *cobra.Command, cfg serve.HostileConfig, inProcess bool, pid int, asJSON bool) error {
	switch {
	case cfg.Hostile > serve.MaxConcurrency:
		return fmt.Errorf("--hostile = %d, want 1..%d", cfg.Hostile, serve.MaxConcurrency)
	case cfg.Duration <= 0 || cfg.Duration > serve.MaxLoadDuration:
		return fmt.Errorf("--duration = %v, want 0 < duration <= %v", cfg.Duration, serve.MaxLoadDuration)
	case cfg.AmplifyBytes < 4096:
		return fmt.Errorf("--amplify-mb: want at least 4 KiB")
	}
	statm := ""
	switch {
	case pid > 0:
		statm = fmt.Sprintf("/proc/%d/statm", pid)
	case inProcess:
		statm = "/proc/self/statm"
	}
	if statm != "" {
		if _, err := os.ReadFile(statm); err != nil {
			return fmt.Errorf("--server-pid: cannot read %s: %v", statm, err)
		}
		cfg.RSS = func() int64 {
			b, err := os.ReadFile(statm)
			if err != nil {
				return 0
			}
			var size, res int64
			fmt.Sscan(string(b), &size, &res)
			return res * int64(os.Getpagesize())
		}
	}
	rep, err := serve.HostileLoad(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		b, _ := json.Marshal(map[string]any{"report": rep, "target": cfg.URL, "cores": runtime.NumCPU(), "in_process": inProcess})
		fmt.Fprintln(out, string(b))
	} else {
		fmt.Fprintln(out, rep)
	}
	switch {
	case rep.Normal5xx > 0:
		return fmt.Errorf("normal clients got %d 5xx answers other than 503 (%v)", rep.Normal5xx, rep.NormalFailures)
	case rep.HealthFailures > 0:
		return fmt.Errorf("/healthz failed %d of %d probes", rep.HealthFailures, rep.HealthProbes)
	}
	return nil
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
