package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/metalearn/metalearn/tensor"
)

// The commands `metalearn serve`, `serve loadtest` and `serve demo` as
// settings with names: Options, LoadOptions and DemoOptions are the one
// home of their flags (names, defaults, help, checks) and runs; the CLI
// binds the flags and calls Run.

// Options are the server settings of `metalearn serve`, also used by the
// in-process server of `serve loadtest` and `serve demo` (--models).
type Options struct {
	Models, Addr, Token, Runs   string
	Workers, Queue              int
	QueueTimeout, CacheTTL      time.Duration
	CacheEntries                int
	CacheMB, MaxBodyMB, MaxLR   float64
	MaxSupport, MaxQueries      int
	MaxSteps, MaxWays, MaxImage int
	KernelThreads               int
	ShutdownTimeout             time.Duration
	MaxConns                    int
	MemoryMB                    float64
	RequestTimeout, ReadTimeout time.Duration
	WriteTimeout                time.Duration
	// translation models
	MaxTexts, MaxTextBytes, MaxBeam, MaxLen, MaxPairs int
	TranslateBatch                                    int
}

// Bind defines the server flags; withAddr adds --addr, --token and
// --shutdown-timeout (the listening server's).
func (o *Options) Bind(fl *pflag.FlagSet, withAddr bool) {
	fl.StringVar(&o.Models, "models", "", "model directory: NAME.safetensors checkpoints from `meta train` are served as NAME")
	if withAddr {
		fl.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "listen address (loopback by default; set --token before exposing it)")
		fl.StringVar(&o.Token, "token", "", "require 'Authorization: Bearer TOKEN' (default: $METALEARN_TOKEN)")
		fl.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM, wait this long for in-flight requests")
		fl.StringVar(&o.Runs, "runs", "", "also show the run dashboard at /runs over the run folders directly under this directory")
	}
	fl.IntVar(&o.Workers, "workers", 0, "requests computing in parallel (0: the number of cores)")
	fl.IntVar(&o.Queue, "queue", 64, "requests waiting for a worker; more get 429")
	fl.DurationVar(&o.QueueTimeout, "queue-timeout", 5*time.Second, "longest wait for a worker (then 503)")
	fl.IntVar(&o.CacheEntries, "cache-entries", 1000, "adapted models kept (least recently used evicted first)")
	fl.Float64Var(&o.CacheMB, "cache-mb", 256, "memory bound of the adapted-model cache, MiB")
	fl.DurationVar(&o.CacheTTL, "cache-ttl", 15*time.Minute, "an adapted model unused this long expires")
	fl.Float64Var(&o.MaxBodyMB, "max-body-mb", 8, "request body limit, MiB")
	fl.IntVar(&o.MaxSupport, "max-support", 200, "support examples per request")
	fl.IntVar(&o.MaxQueries, "max-queries", 500, "query inputs per predict request")
	fl.IntVar(&o.MaxSteps, "max-steps", 20, "adaptation steps per request")
	fl.IntVar(&o.MaxWays, "max-ways", 100, "classes of a metric-based support set")
	fl.IntVar(&o.MaxImage, "max-image-side", 512, "largest image side (PNG or nested array), pixels")
	fl.Float64Var(&o.MaxLR, "max-lr", 10, "largest learning_rate a request may ask for")
	fl.IntVar(&o.MaxConns, "max-conns", 256, "open connections at most; one more is answered 503 and closed")
	fl.Float64Var(&o.MemoryMB, "memory-mb", 256, "memory all requests together may hold while read and computed, MiB (each reserves 4x its body; beyond: wait up to --queue-timeout, then 503)")
	fl.DurationVar(&o.RequestTimeout, "request-timeout", 30*time.Second, "longest a request may wait and compute (then 503; the adaptation stops)")
	fl.DurationVar(&o.ReadTimeout, "read-timeout", 20*time.Second, "longest a client may take to send a request, body included (then 408)")
	fl.DurationVar(&o.WriteTimeout, "write-timeout", 10*time.Second, "longest a client may take to read an answer")
	fl.IntVar(&o.MaxTexts, "max-texts", 64, "texts per translate request (translation models)")
	fl.IntVar(&o.MaxTextBytes, "max-text-bytes", 2048, "bytes of one text or one side of an adaptation pair (translation models)")
	fl.IntVar(&o.MaxBeam, "max-beam", 8, "largest beam a translate request may ask for")
	fl.IntVar(&o.MaxLen, "max-len", 256, "source tokens per text at most (default and bound of max_len; the output is at most 2*max_len+10 tokens)")
	fl.IntVar(&o.MaxPairs, "max-pairs", 200, "adaptation pairs per adapt request (translation models)")
	fl.IntVar(&o.TranslateBatch, "translate-batch", 64, "texts of concurrent translate requests decoded as one batch while they wait for a worker (1: no batching)")
	fl.IntVar(&o.KernelThreads, "kernel-threads", 0, "goroutines per tensor kernel (0: the number of cores; 1 suits many concurrent requests)")
}

// Config checks the settings and returns the server configuration (the
// token defaults to $METALEARN_TOKEN); errors go to errLog. A positive
// KernelThreads sets tensor.SetThreads for the process.
func (o *Options) Config(errLog io.Writer) (Config, error) {
	var c Config
	if o.Models == "" {
		return c, errors.New("--models is required (the directory of NAME.safetensors checkpoints)")
	}
	for _, p := range []struct {
		name string
		v    int
		min  int
	}{{"workers", o.Workers, 0}, {"queue", o.Queue, 0}, {"cache-entries", o.CacheEntries, 1}, {"max-support", o.MaxSupport, 1},
		{"max-queries", o.MaxQueries, 1}, {"max-steps", o.MaxSteps, 1}, {"max-ways", o.MaxWays, 2}, {"max-image-side", o.MaxImage, 1}, {"kernel-threads", o.KernelThreads, 0}, {"max-conns", o.MaxConns, 1},
		{"max-texts", o.MaxTexts, 1}, {"max-text-bytes", o.MaxTextBytes, 1}, {"max-beam", o.MaxBeam, 1}, {"max-len", o.MaxLen, 2}, {"max-pairs", o.MaxPairs, 1}, {"translate-batch", o.TranslateBatch, 1}} {
		if p.v < p.min {
			return c, fmt.Errorf("--%s = %d, want >= %d", p.name, p.v, p.min)
		}
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"cache-mb", o.CacheMB}, {"max-body-mb", o.MaxBodyMB}, {"max-lr", o.MaxLR}, {"memory-mb", o.MemoryMB}} {
		if !(p.v > 0) || p.v > 1e9 {
			return c, fmt.Errorf("--%s = %v, want a positive number", p.name, p.v)
		}
	}
	for _, p := range []struct {
		name string
		v    time.Duration
	}{{"queue-timeout", o.QueueTimeout}, {"cache-ttl", o.CacheTTL}, {"request-timeout", o.RequestTimeout}, {"read-timeout", o.ReadTimeout}, {"write-timeout", o.WriteTimeout}} {
		if p.v <= 0 {
			return c, fmt.Errorf("--%s = %v, want a positive duration", p.name, p.v)
		}
	}
	if st, err := os.Stat(o.Models); err != nil || !st.IsDir() {
		return c, fmt.Errorf("--models %s: not a readable directory", o.Models)
	}
	token := o.Token
	if token == "" {
		token = os.Getenv("METALEARN_TOKEN")
	}
	queue := o.Queue
	if queue == 0 {
		queue = -1 // no waiting at all
	}
	c = Config{ModelDir: o.Models, Addr: o.Addr, Token: token, Workers: o.Workers, Queue: queue, QueueTimeout: o.QueueTimeout,
		CacheEntries: o.CacheEntries, CacheBytes: int64(o.CacheMB * (1 << 20)), CacheTTL: o.CacheTTL,
		Limits: Limits{MaxBodyBytes: int64(o.MaxBodyMB * (1 << 20)), MaxSupport: o.MaxSupport, MaxQueries: o.MaxQueries,
			MaxSteps: o.MaxSteps, MaxWays: o.MaxWays, MaxImageSide: o.MaxImage, MaxLR: o.MaxLR,
			MaxTexts: o.MaxTexts, MaxTextBytes: o.MaxTextBytes, MaxBeam: o.MaxBeam, MaxLen: o.MaxLen, MaxPairs: o.MaxPairs},
		MaxConns: o.MaxConns, MemoryBudget: int64(o.MemoryMB * (1 << 20)), RequestTimeout: o.RequestTimeout,
		ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
		RunsDir: o.Runs, TranslateBatch: o.TranslateBatch,
		ErrorLog: log.New(errLog, "metalearn serve: ", log.LstdFlags)}
	if o.KernelThreads > 0 {
		tensor.SetThreads(o.KernelThreads)
	}
	return c, nil
}

// Run serves until ctx is done (SIGINT/SIGTERM in the CLI), then drains
// in-flight requests for at most ShutdownTimeout. The address and the
// shutdown steps are reported to out, warnings to errw.
func (o *Options) Run(ctx context.Context, out, errw io.Writer) error {
	cfg, err := o.Config(errw)
	if err != nil {
		return err
	}
	if o.ShutdownTimeout <= 0 {
		return fmt.Errorf("--shutdown-timeout = %v, want a positive duration", o.ShutdownTimeout)
	}
	s, err := New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %v", cfg.Addr, err)
	}
	if host, _, _ := net.SplitHostPort(cfg.Addr); cfg.Token == "" && !isLoopback(host) {
		fmt.Fprintf(errw, "warning: serving on %s without a token\n", cfg.Addr)
	}
	fmt.Fprintf(out, "serving %s on http://%s (auth: %v)\n", cfg.ModelDir, ln.Addr(), cfg.Token != "")
	fmt.Fprintf(out, "playground: http://%s/\n", ln.Addr())
	if cfg.RunsDir != "" {
		fmt.Fprintf(out, "run dashboard: http://%s/runs (run folders under %s)\n", ln.Addr(), cfg.RunsDir)
	}
	draining := func() { fmt.Fprintln(out, "shutting down: draining in-flight requests") }
	if err := serveUntil(ctx, func() error { return s.Serve(ln) }, s.Shutdown, o.ShutdownTimeout, draining); err != nil {
		return err
	}
	fmt.Fprintln(out, "stopped")
	return nil
}

// serveUntil runs serve until it fails or ctx is done; then it calls
// draining (when set) and shutdown with timeout, and waits for serve to
// return (http.ErrServerClosed is the normal end).
func serveUntil(ctx context.Context, serve func() error, shutdown func(context.Context) error, timeout time.Duration, draining func()) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if draining != nil {
		draining()
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Server.Shutdown: past the timeout the computations in flight are
	// stopped and answered 503; an error only if one did not stop
	if err := shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %v", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Dashboard serves the run dashboard over the run folders directly under
// dir (DashboardHandler) at addr until ctx is done (`metalearn dash`); the
// token defaults to $METALEARN_TOKEN.
func Dashboard(ctx context.Context, dir, addr, token string, out, errw io.Writer) error {
	for _, f := range []string{"metrics.jsonl", "config.yaml", "summary.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return fmt.Errorf("%s is itself a run folder (it holds %s): give the folder above it, e.g. metalearn dash %s", dir, f, filepath.Dir(filepath.Clean(dir)))
		}
	}
	if token == "" {
		token = os.Getenv("METALEARN_TOKEN")
	}
	h, err := DashboardHandler(dir, token)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %v", addr, err)
	}
	if host, _, _ := net.SplitHostPort(addr); token == "" && !isLoopback(host) {
		fmt.Fprintf(errw, "warning: serving run folders on %s without a token\n", addr)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(out, "run dashboard of %s: http://%s/ (auth: %v)\n", dir, ln.Addr(), token != "")
	return serveUntil(ctx, func() error { return srv.Serve(ln) }, srv.Shutdown, 5*time.Second, nil)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clientFlags are the target of the client commands: a running server
// (--url, --token) or one started here over --models.
type clientFlags struct {
	Server     Options
	URL, Token string
}

func (c *clientFlags) bind(fl *pflag.FlagSet, urlUsage string) {
	c.Server.Bind(fl, false)
	fl.StringVar(&c.URL, "url", "", urlUsage)
	fl.StringVar(&c.Token, "token", "", "bearer token (default: $METALEARN_TOKEN)")
}

// target returns the URL to drive: --url, or an in-process server over
// --models on 127.0.0.1 (stopped by the returned function).
func (c *clientFlags) target(errw io.Writer) (string, string, func(), error) {
	url, token, f := c.URL, c.Token, &c.Server
	if url != "" && f.Models != "" {
		return "", "", nil, errors.New("give --url (a running server) or --models (start one here), not both")
	}
	if url != "" {
		if _, err := CheckLocalURL(url); err != nil {
			return "", "", nil, fmt.Errorf("--url: %v", err)
		}
		if token == "" {
			token = os.Getenv("METALEARN_TOKEN")
		}
		return url, token, func() {}, nil
	}
	if f.Models == "" {
		return "", "", nil, errors.New("give --url http://127.0.0.1:PORT or --models DIR")
	}
	cfg, err := f.Config(errw)
	if err != nil {
		return "", "", nil, err
	}
	cfg.Token = ""
	s, err := New(cfg)
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

func checkModelFlag(model string) error {
	if model == "" {
		return errors.New("--model is required")
	}
	if !ValidModelName(model) {
		return fmt.Errorf("--model %q: want a plain model name", model)
	}
	return nil
}

// LoadOptions are the settings of `metalearn serve loadtest` (LoadTest).
type LoadOptions struct {
	clientFlags
	Model, Mode                        string
	From, To                           string
	Beam                               int
	Concurrency, Requests, Ways, Shots int
	Queries, Steps                     int
	Duration                           time.Duration
	PNG                                bool
	Seed                               uint64
	// Hostile > 0 runs HostileLoad instead of LoadTest (runHostile).
	Hostile, ServerPID int
	Baseline           time.Duration
	AmplifyMB          float64
	fs                 *pflag.FlagSet
}

// Bind defines the loadtest flags.
func (o *LoadOptions) Bind(fl *pflag.FlagSet) {
	o.fs = fl
	o.clientFlags.bind(fl, "server to drive: http://127.0.0.1:PORT (or use --models)")
	fl.StringVar(&o.Model, "model", "", "model name")
	fl.StringVar(&o.Mode, "mode", "adapt+predict", "adapt+predict (two requests per operation), inline (one predict with the support set) or translate (one translate request of --queries sentences; translation models)")
	fl.StringVar(&o.From, "from", "en", "with --mode translate: source language")
	fl.StringVar(&o.To, "to", "", "with --mode translate: target language (default: the first other language of the model's pairs)")
	fl.IntVar(&o.Beam, "beam", 1, "with --mode translate: beam size")
	fl.IntVar(&o.Concurrency, "concurrency", 8, "clients in parallel")
	fl.IntVar(&o.Requests, "requests", 1000, "operations to send (then stop)")
	fl.DurationVar(&o.Duration, "duration", 60*time.Second, "stop after this long at most")
	fl.IntVar(&o.Ways, "ways", 0, "classes per support set (default: the model's, else 5)")
	fl.IntVar(&o.Shots, "shots", 1, "support examples per class")
	fl.IntVar(&o.Queries, "queries", 5, "query inputs per operation")
	fl.IntVar(&o.Steps, "steps", 0, "adaptation steps (default: the model's)")
	fl.BoolVar(&o.PNG, "png", false, "send images as base64 PNG instead of arrays")
	fl.Uint64Var(&o.Seed, "seed", 1, "seed of the synthetic inputs")
	fl.IntVar(&o.Hostile, "hostile", 0, "hostile clients mixed with the --concurrency normal ones (0: an ordinary load test)")
	fl.DurationVar(&o.Baseline, "baseline", 0, "with --hostile: how long the normal clients run alone first (default --duration/4, at least 2s)")
	fl.Float64Var(&o.AmplifyMB, "amplify-mb", 8, "with --hostile: size of an amplifying body, MiB (kept 4 KiB under it)")
	fl.IntVar(&o.ServerPID, "server-pid", 0, "with --hostile and --url: the server's process id, to sample its RSS (Linux /proc)")
}

// steps is --steps when it was given.
func steps(fs *pflag.FlagSet, v int) (*int, error) {
	if fs == nil || !fs.Changed("steps") {
		return nil, nil
	}
	if v < 0 {
		return nil, fmt.Errorf("--steps = %d, want >= 0", v)
	}
	return &v, nil
}

// Run drives the target with LoadTest and reports to out (asJSON: one
// JSON line); operations that failed make an error.
func (o *LoadOptions) Run(ctx context.Context, out, errw io.Writer, asJSON bool) error {
	if err := checkModelFlag(o.Model); err != nil {
		return err
	}
	u, tok, stop, err := o.target(errw)
	if err != nil {
		return err
	}
	defer stop()
	if o.Hostile > 0 {
		return o.runHostile(ctx, HostileConfig{URL: u, Token: tok, Model: o.Model, Hostile: o.Hostile, Normal: o.Concurrency, Duration: o.Duration,
			Baseline: o.Baseline, AmplifyBytes: int(o.AmplifyMB * (1 << 20)), MaxSteps: o.Server.MaxSteps, Seed: o.Seed}, o.URL == "", out, asJSON)
	}
	cfg := LoadConfig{URL: u, Token: tok, Model: o.Model, Concurrency: o.Concurrency, Operations: o.Requests, Duration: o.Duration,
		Mode: o.Mode, Ways: o.Ways, Shots: o.Shots, Queries: o.Queries, PNG: o.PNG, Seed: o.Seed, From: o.From, To: o.To, Beam: o.Beam}
	if cfg.Steps, err = steps(o.fs, o.Steps); err != nil {
		return err
	}
	switch {
	case o.Concurrency < 1 || o.Concurrency > MaxConcurrency:
		return fmt.Errorf("--concurrency = %d, want 1..%d", o.Concurrency, MaxConcurrency)
	case o.Requests < 1 || o.Requests > MaxLoadRequests:
		return fmt.Errorf("--requests = %d, want 1..%d", o.Requests, MaxLoadRequests)
	case o.Duration <= 0 || o.Duration > MaxLoadDuration:
		return fmt.Errorf("--duration = %v, want 0 < duration <= %v", o.Duration, MaxLoadDuration)
	case o.Ways < 0 || o.Shots < 1 || o.Queries < 1:
		return fmt.Errorf("--ways %d, --shots %d, --queries %d: want ways >= 0, shots >= 1, queries >= 1", o.Ways, o.Shots, o.Queries)
	}
	rep, err := LoadTest(ctx, cfg)
	if err != nil {
		return err
	}
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
}

// runHostile runs HostileLoad and prints its report; the peak RSS is the
// server's (--server-pid) or, in-process, this process's.
func (o *LoadOptions) runHostile(ctx context.Context, cfg HostileConfig, inProcess bool, out io.Writer, asJSON bool) error {
	pid := o.ServerPID
	switch {
	case cfg.Hostile > MaxConcurrency:
		return fmt.Errorf("--hostile = %d, want 1..%d", cfg.Hostile, MaxConcurrency)
	case cfg.Duration <= 0 || cfg.Duration > MaxLoadDuration:
		return fmt.Errorf("--duration = %v, want 0 < duration <= %v", cfg.Duration, MaxLoadDuration)
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
	rep, err := HostileLoad(ctx, cfg)
	if err != nil {
		return err
	}
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

// DemoOptions are the settings of `metalearn serve demo` (Demo).
type DemoOptions struct {
	clientFlags
	Model, DataDir, Shots       string
	Users, Ways, Queries, Steps int
	Arrays                      bool
	Seed                        uint64
	fs                          *pflag.FlagSet
}

// Bind defines the demo flags.
func (o *DemoOptions) Bind(fl *pflag.FlagSet) {
	o.fs = fl
	o.clientFlags.bind(fl, "server: http://127.0.0.1:PORT (or use --models)")
	fl.StringVar(&o.Model, "model", "", "model name (an Omniglot checkpoint)")
	fl.StringVar(&o.DataDir, "data-dir", "../shared/data", "folder holding omniglot/")
	fl.IntVar(&o.Users, "users", 5, "users (test alphabets)")
	fl.IntVar(&o.Ways, "ways", 0, "N characters per user (default: the model's, else 5)")
	fl.StringVar(&o.Shots, "shots", "1,5", "K examples per character, comma-separated")
	fl.IntVar(&o.Queries, "queries", 5, "query drawings per character")
	fl.IntVar(&o.Steps, "steps", 0, "adaptation steps (gradient-based; default: the model's)")
	fl.BoolVar(&o.Arrays, "arrays", false, "send arrays instead of base64 PNGs")
	fl.Uint64Var(&o.Seed, "seed", 1, "seed (characters and drawings)")
}

// Run runs Demo against the target, printing its table to out (asJSON:
// one JSON line instead).
func (o *DemoOptions) Run(ctx context.Context, out, errw io.Writer, asJSON bool) error {
	if err := checkModelFlag(o.Model); err != nil {
		return err
	}
	var shots []int
	for _, s := range strings.Split(o.Shots, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || k < 1 {
			return fmt.Errorf("--shots %q: want a comma-separated list of K >= 1", o.Shots)
		}
		shots = append(shots, k)
	}
	if o.Users < 1 || o.Queries < 1 || o.Ways < 0 {
		return fmt.Errorf("--users %d, --queries %d, --ways %d: want users >= 1, queries >= 1, ways >= 0", o.Users, o.Queries, o.Ways)
	}
	u, tok, stop, err := o.target(errw)
	if err != nil {
		return err
	}
	defer stop()
	cfg := DemoConfig{URL: u, Token: tok, Model: o.Model, DataDir: o.DataDir, Users: o.Users, Ways: o.Ways, Shots: shots, Queries: o.Queries, Arrays: o.Arrays, Seed: o.Seed}
	if cfg.Steps, err = steps(o.fs, o.Steps); err != nil {
		return err
	}
	w := out
	if asJSON {
		w = io.Discard
	}
	rep, err := Demo(ctx, cfg, w)
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
}
