package serve

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/metalearn/metalearn/tensor"
)

// Limits bound what one request may ask for. Zero fields take the defaults.
type Limits struct {
	MaxBodyBytes int64   // request body (default 8 MiB)
	MaxSupport   int     // support examples per request (default 200)
	MaxQueries   int     // query inputs per predict request (default 500)
	MaxSteps     int     // adaptation steps (default 20)
	MaxWays      int     // classes of a metric-based support set (default 100)
	MaxImageSide int     // PNG / nested-array image width and height (default 512)
	MaxLR        float64 // learning_rate (default 10)

	// translation models (translate.go)
	MaxTexts     int // texts per translate request (default 64)
	MaxTextBytes int // bytes of one text or one side of a pair (default 2048)
	MaxBeam      int // beam (default 8)
	MaxLen       int // max_len, source tokens (default and bound 256; output at most 2*max_len+10 tokens)
	MaxPairs     int // pairs per adapt request (default 200)
}

// Config configures a Server. Zero fields take the defaults.
type Config struct {
	// ModelDir holds the servable checkpoints NAME.safetensors (written by
	// `metalearn meta train` or meta.Built.Save). Required.
	ModelDir string
	// Addr is the listen address of ListenAndServe (default 127.0.0.1:8080).
	Addr string
	// Token, when set, is required on every route but /healthz as
	// "Authorization: Bearer TOKEN".
	Token string
	// Workers bounds the requests computing at once (default GOMAXPROCS).
	Workers int
	// Queue bounds the requests waiting for a worker (default 64;
	// negative: none wait); more are refused with 429. QueueTimeout bounds
	// the wait (default 5s; then 503).
	Queue        int
	QueueTimeout time.Duration
	// Cache bounds the adapted models kept: count (default 1000), bytes
	// (default 256 MiB) and time since last use (default 15 min).
	CacheEntries int
	CacheBytes   int64
	CacheTTL     time.Duration
	Limits       Limits
	// MemoryBudget bounds the memory all requests together may hold while
	// they are read, decoded and computed (default 256 MiB; at least 4x
	// the body limit): each POST reserves 4x its declared body size before
	// reading it; one that does not fit waits up to QueueTimeout, then 503.
	MemoryBudget int64
	// MaxConns caps the open connections (default 256); one more is
	// answered 503 and closed.
	MaxConns int
	// RequestTimeout bounds one request's wait and computation (default
	// 30s; then 503, and the adaptation stops at its next step).
	RequestTimeout time.Duration
	// ReadTimeout bounds reading a request, headers and body (default
	// 20s; a body not received by then is answered 408). WriteTimeout
	// bounds writing an answer (default 10s).
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// FailedLoadTTL is how long a model file that failed to load is not
	// read again (default 30s); a change of its modification time ends it.
	FailedLoadTTL time.Duration
	// RunsDir, when set, adds the run dashboard (GET /runs) and the
	// read-only runs API over the run folders directly under it (web.go).
	RunsDir string
	// TranslateBatch bounds the texts of concurrent translate requests
	// decoded as one batch (batch.go; default 64; 1: every request alone).
	TranslateBatch int
	// Now is the clock of the cache (default time.Now); tests inject one.
	Now func() time.Time
	// ErrorLog receives server errors (default: discarded).
	ErrorLog *log.Logger
}

func (c *Config) defaults() {
	setInt := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	setInt(&c.Workers, runtime.GOMAXPROCS(0))
	switch {
	case c.Queue == 0:
		c.Queue = 64
	case c.Queue < 0:
		c.Queue = 0
	}
	setInt(&c.CacheEntries, 1000)
	if c.QueueTimeout <= 0 {
		c.QueueTimeout = 5 * time.Second
	}
	if c.CacheBytes <= 0 {
		c.CacheBytes = 256 << 20
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = 15 * time.Minute
	}
	setDur := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	setDur(&c.RequestTimeout, 30*time.Second)
	setDur(&c.ReadTimeout, 20*time.Second)
	setDur(&c.WriteTimeout, 10*time.Second)
	setDur(&c.FailedLoadTTL, 30*time.Second)
	setInt(&c.MaxConns, 256)
	setInt(&c.TranslateBatch, 64)
	l := &c.Limits
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 8 << 20
	}
	if c.MemoryBudget <= 0 {
		c.MemoryBudget = 256 << 20
	}
	setInt(&l.MaxSupport, 200)
	setInt(&l.MaxQueries, 500)
	setInt(&l.MaxSteps, 20)
	setInt(&l.MaxWays, 100)
	setInt(&l.MaxImageSide, 512)
	setInt(&l.MaxTexts, 64)
	setInt(&l.MaxTextBytes, 2048)
	setInt(&l.MaxBeam, 8)
	setInt(&l.MaxLen, 256)
	setInt(&l.MaxPairs, 200)
	if !(l.MaxLR > 0) {
		l.MaxLR = 10
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ErrorLog == nil {
		c.ErrorLog = log.New(io.Discard, "", 0)
	}
}

// Server adapts meta-learned models to users over HTTP. See the package
// documentation for the API.
type Server struct {
	cfg      Config
	reg      *registry
	cache    *cache
	pool     *pool
	budget   *budget
	conns    atomic.Pointer[connLimit] // set by Serve
	met      *metrics
	srv      *http.Server
	draining atomic.Bool
	stop     chan struct{}
	stopOnce sync.Once
	// base is cancelled at the shutdown deadline: every request's context
	// ends with it, so computations in flight stop and answer 503.
	base       context.Context
	cancelBase context.CancelCauseFunc
	// answering counts the requests whose body was read and whose answer
	// is not written yet (Shutdown waits for them, not for body readers)
	answering  atomic.Int64
	timeoutErr error     // the request timeout's answer
	runs       *runStore // Config.RunsDir, or nil
	// beforeCompute, when set (tests), runs while a request holds a worker.
	beforeCompute func()
	batches       *batcher // translate requests decoded together (batch.go)
	// afterJoin, when set (tests), runs after a translate request joined a batch.
	afterJoin func()
}

// New checks cfg and returns a Server; models load on first use.
func New(cfg Config) (*Server, error) {
	if cfg.ModelDir == "" {
		return nil, errors.New("serve: no model directory")
	}
	cfg.defaults()
	reg, err := newRegistry(cfg.ModelDir)
	if err != nil {
		return nil, err
	}
	reg.failTTL, reg.now, reg.log = cfg.FailedLoadTTL, cfg.Now, cfg.ErrorLog
	s := &Server{cfg: cfg, reg: reg, met: newMetrics(), stop: make(chan struct{}),
		cache:   newCache(cfg.CacheEntries, cfg.CacheBytes, cfg.CacheTTL, cfg.Now),
		pool:    newPool(cfg.Workers, cfg.Queue, cfg.QueueTimeout),
		batches: newBatcher(cfg.TranslateBatch),
		budget:  newBudget(max(cfg.MemoryBudget, reservation(cfg.Limits.MaxBodyBytes)), cfg.QueueTimeout)}
	if cfg.RunsDir != "" {
		if s.runs, err = newRunStore(cfg.RunsDir); err != nil {
			return nil, err
		}
	}
	s.base, s.cancelBase = context.WithCancelCause(context.Background())
	s.timeoutErr = &apiError{http.StatusServiceUnavailable, fmt.Sprintf("the request took longer than the request timeout (%v) and was stopped; ask for fewer steps or examples, or retry later", cfg.RequestTimeout)}
	// The write timeout is a backstop for the whole exchange; each answer
	// also gets WriteTimeout from its first byte (statusWriter).
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: min(10*time.Second, cfg.ReadTimeout), ReadTimeout: cfg.ReadTimeout,
		WriteTimeout: cfg.ReadTimeout + cfg.QueueTimeout + cfg.RequestTimeout + cfg.WriteTimeout,
		IdleTimeout:  time.Minute, ErrorLog: cfg.ErrorLog}
	go s.janitor()
	return s, nil
}

// janitor drops expired adapted models in the background.
func (s *Server) janitor() {
	t := time.NewTicker(min(max(s.cfg.CacheTTL/4, time.Second), time.Minute))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.cache.sweep()
		case <-s.stop:
			return
		}
	}
}

// ListenAndServe listens on Config.Addr and serves until Shutdown.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve serves on ln until Shutdown; it returns nil after a Shutdown. At
// most MaxConns connections are open at once.
func (s *Server) Serve(ln net.Listener) error {
	cl := newConnLimit(ln, s.cfg.MaxConns)
	s.conns.Store(cl)
	err := s.srv.Serve(cl)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// errShuttingDown ends the computations still running at the shutdown
// deadline.
var errShuttingDown = &apiError{http.StatusServiceUnavailable, "server is shutting down: the computation was stopped at the shutdown deadline; retry later"}

// shutdownGrace is how long Shutdown leaves, after cancelling the
// computations, for their 503 answers to be written (at most a quarter of
// the time to its deadline; the cancellation comes that much before it).
const shutdownGrace = 2 * time.Second

// Shutdown stops accepting connections and requests and waits for the
// in-flight ones to finish. Shortly before ctx's deadline (or when ctx
// ends, without one) it cancels the computations in flight (each stops at
// its next step and is answered 503), waits for those answers until the
// deadline, closes the connections left (clients still sending a body or
// not reading their answer) and returns nil; an error only if a
// computation did not stop.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.stopOnce.Do(func() { close(s.stop) })
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(context.Background()) }()
	// with a deadline, computations are cancelled a grace period before
	// it, so their answers are written and all is closed by the deadline
	grace := shutdownGrace
	var early <-chan time.Time
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		grace = max(min(shutdownGrace, left/4), 0)
		t := time.NewTimer(left - grace)
		defer t.Stop()
		early = t.C
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	case <-early:
	}
	s.cancelBase(errShuttingDown)
	t := time.NewTimer(grace)
	defer t.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case err := <-done:
			return err
		case <-t.C:
			break wait
		case <-tick.C:
			if s.answering.Load() == 0 { // every request with a body is answered
				break wait
			}
		}
	}
	_ = s.srv.Close()
	if n := s.pool.running.Load(); n > 0 {
		return fmt.Errorf("serve: %d computations did not stop within %v of the shutdown deadline", n, shutdownGrace)
	}
	s.cfg.ErrorLog.Printf("serve: shutdown deadline: closed the connections still reading a request or writing an answer")
	return nil
}

// Handler returns the HTTP handler (for tests or embedding in another
// server): the API, the web pages and the runs API (web.go).
func (s *Server) Handler() http.Handler { return s.site() }

// statusWriter records the status code and gives the answer
// writeTimeout from its first byte (a client that does not read its
// answer cannot hold the connection).
type statusWriter struct {
	http.ResponseWriter
	code         int
	writeTimeout time.Duration
	bodyRead     bool // counted in Server.answering until answered
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
		if w.writeTimeout > 0 {
			_ = http.NewResponseController(w.ResponseWriter).SetWriteDeadline(time.Now().Add(w.writeTimeout))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// routes maps each path to its method. POST routes take a JSON body:
// serveHTTP bounds it (size, memory budget, time) before the handler runs.
var routes = map[string]string{"/v1/adapt": "POST", "/v1/predict": "POST", "/v1/translate": "POST", "/v1/models": "GET", "/healthz": "GET", "/metrics": "GET"}

func (s *Server) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &statusWriter{ResponseWriter: rw, writeTimeout: s.cfg.WriteTimeout}
	route := r.URL.Path
	method, known := routes[route]
	if !known {
		route = "other"
	}
	defer func() {
		if w.bodyRead {
			defer s.answering.Add(-1)
		}
		if p := recover(); p != nil {
			s.met.panicked()
			s.cfg.ErrorLog.Printf("serve: panic in %s: %v", r.URL.Path, p)
			if w.code == 0 {
				writeError(w, &apiError{http.StatusInternalServerError, fmt.Sprintf("internal error: %v", p)})
			}
		}
		s.met.observe(route, w.code, time.Since(start))
	}()
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch {
	case !known:
		writeError(w, &apiError{http.StatusNotFound, fmt.Sprintf("no route %s (routes: POST /v1/adapt, POST /v1/predict, POST /v1/translate, GET /v1/models, GET /healthz, GET /metrics)", r.URL.Path)})
		return
	case r.Method != method && !(method == "GET" && r.Method == http.MethodHead):
		w.Header().Set("Allow", method)
		writeError(w, &apiError{http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, method)})
		return
	case route != "/healthz" && !s.authorized(r):
		w.Header().Set("WWW-Authenticate", `Bearer realm="metalearn"`)
		writeError(w, &apiError{http.StatusUnauthorized, "missing or wrong bearer token (Authorization: Bearer TOKEN)"})
		return
	}
	if method == http.MethodPost {
		release, err := s.admit(w, r)
		if err != nil {
			writeError(w, err)
			return
		}
		defer release()
		ctx, cancel := s.requestContext(r.Context())
		defer cancel()
		r = r.WithContext(ctx)
	}
	var err error
	switch route {
	case "/healthz":
		status := "ok"
		if s.draining.Load() {
			status = "draining"
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": status, "models_loaded": s.reg.loaded()})
	case "/metrics":
		s.writeMetrics(w)
	case "/v1/models":
		err = s.handleModels(w)
	case "/v1/adapt":
		err = s.handleAdapt(w, r)
	case "/v1/predict":
		err = s.handlePredict(w, r)
	case "/v1/translate":
		err = s.handleTranslate(w, r)
	}
	if err != nil {
		writeError(w, err)
	}
}

// authorized compares the bearer token in constant time.
func (s *Server) authorized(r *http.Request) bool { return bearerOK(r, s.cfg.Token) }

// bearerOK checks r's "Authorization: Bearer TOKEN" against token in
// constant time; an empty token admits everyone. The API and the web
// pages' runs API both ask it.
func bearerOK(r *http.Request, token string) bool {
	if token == "" {
		return true
	}
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(h[len(prefix):]), []byte(token)) == 1
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{http.StatusInternalServerError, err.Error()}
	}
	writeJSON(w, ae.code, ErrorResponse{Error: ae.msg})
}

func (s *Server) writeMetrics(w http.ResponseWriter) {
	n, b, ev := s.cache.stats()
	g := gauges{cacheEntries: n, cacheBytes: b, evictions: ev, running: s.pool.running.Load(), waiting: s.pool.waiting.Load(),
		rejected: [4]uint64{s.pool.rejected[0].Load(), s.pool.rejected[1].Load(), s.pool.rejected[2].Load(), s.conns.Load().refusedCount()},
		models:   s.reg.loaded(), workers: s.cfg.Workers, translateBatches: s.batches.batches.Load()}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.met.write(w, g)
}

// admit checks a POST before its body is read: a declared Content-Length
// past the body limit is refused at once, and the request reserves its
// share of the memory budget (released by the returned function).
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (func(), error) {
	limit := s.cfg.Limits.MaxBodyBytes
	n := r.ContentLength
	if n > limit {
		w.Header().Set("Connection", "close")
		return nil, &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("declared Content-Length %d is larger than the body limit (%d bytes)", n, limit)}
	}
	if n < 0 { // unknown (chunked): the most it may be
		n = limit
	}
	if s.draining.Load() {
		return nil, errDraining
	}
	res := reservation(n)
	if err := s.budget.acquire(r.Context(), res); err != nil {
		s.pool.rejected[2].Add(1)
		w.Header().Set("Retry-After", "1")
		return nil, err
	}
	return func() { s.budget.release(res) }, nil
}

// requestContext bounds a request by the request timeout and the
// shutdown deadline; its cause tells which ended it (ctxError).
func (s *Server) requestContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	stop := context.AfterFunc(s.base, func() { cancel(context.Cause(s.base)) })
	tctx, tcancel := context.WithTimeoutCause(ctx, s.cfg.RequestTimeout, s.timeoutErr)
	return tctx, func() {
		tcancel()
		stop()
		cancel(context.Canceled)
	}
}

var errDraining = &apiError{http.StatusServiceUnavailable, "server is shutting down"}

// ctxError is the answer for a request whose context ended while it was
// doing what: the request timeout or the shutdown (their own messages),
// else the client went away.
func ctxError(ctx context.Context, what string) error {
	var ae *apiError
	if errors.As(context.Cause(ctx), &ae) {
		return ae
	}
	return &apiError{http.StatusServiceUnavailable, "request cancelled (the client closed the connection) while " + what}
}

// decode reads one JSON value into v (*AdaptRequest or *PredictRequest):
// size-bounded, unknown fields and trailing data refused, element counts
// bounded while decoding (bodyscan.go). The common request shape takes
// the one-pass fast decoder (fastjson.go); anything else, and every
// malformed body, the general one.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	limit := s.cfg.Limits.MaxBodyBytes
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= limit {
		buf.Grow(int(n) + 1)
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)}
		}
		var ne net.Error
		if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			w.Header().Set("Connection", "close")
			return &apiError{http.StatusRequestTimeout, fmt.Sprintf("the request body did not arrive within the read timeout (%v)", s.cfg.ReadTimeout)}
		}
		return badRequest("reading the request body: %v", err)
	}
	if sw, ok := w.(*statusWriter); ok && !sw.bodyRead {
		sw.bodyRead = true
		s.answering.Add(1)
	}
	data := buf.Bytes()
	lim := s.bodyLimits()
	switch req := v.(type) {
	case *AdaptRequest:
		var fast AdaptRequest
		ok, err := fastDecodeAdaptLimited(data, &fast, lim)
		if err != nil {
			return err
		}
		if ok {
			*req = fast
			return nil
		}
	case *PredictRequest:
		var fast PredictRequest
		ok, err := fastDecodePredictLimited(data, &fast, lim)
		if err != nil {
			return err
		}
		if ok {
			*req = fast
			return nil
		}
	}
	if err := scanBody(data, lim); err != nil {
		return err
	}
	return decodeGeneral(data, v)
}

// decodeGeneral is the general decoder: encoding/json, unknown fields and
// trailing data refused, errors worded for the client.
func decodeGeneral(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return badRequest("empty request body: want a JSON object")
		}
		return badRequest("malformed JSON: %s", jsonMsg(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("malformed JSON: data after the object")
	}
	return nil
}

// compute runs f holding a worker slot. f's context ends with the
// request (timeout, client gone, shutdown deadline); an error after it
// ended is answered by why it ended.
func (s *Server) compute(r *http.Request, f func(ctx context.Context) error) error {
	if s.draining.Load() {
		return errDraining
	}
	ctx := r.Context()
	if err := s.pool.acquire(ctx); err != nil {
		if ctx.Err() != nil {
			return ctxError(ctx, "waiting for a worker")
		}
		return err
	}
	defer s.pool.release()
	if s.beforeCompute != nil {
		s.beforeCompute()
	}
	err := f(ctx)
	if err != nil && ctx.Err() != nil {
		return ctxError(ctx, "computing")
	}
	return err
}

func (s *Server) handleModels(w http.ResponseWriter) error {
	names, err := s.reg.names()
	if err != nil {
		return err
	}
	out := make([]ModelInfo, 0, len(names))
	for _, n := range names {
		m, err := s.reg.get(n)
		if err != nil {
			out = append(out, ModelInfo{Name: n, Error: err.Error()})
			continue
		}
		info := m.info()
		info.DefaultSteps = min(info.DefaultSteps, s.cfg.Limits.MaxSteps)
		out = append(out, info)
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out})
	return nil
}

// stepsLR validates the requested adaptation steps and learning rate.
// Every step count is bounded by MaxSteps, the checkpoint's default too
// (clamped: a model file cannot ask for more than the server allows).
func (s *Server) stepsLR(m *model, steps *int, lr *float64) (int, float64, error) {
	n := min(m.defaultSteps(), s.cfg.Limits.MaxSteps)
	if steps != nil {
		if m.kind != KindGradient && *steps != 0 {
			return 0, 0, badRequest("model %s is metric-based (%s): it takes no adaptation steps", m.name, m.spec.Algorithm)
		}
		if *steps < 0 || *steps > s.cfg.Limits.MaxSteps {
			return 0, 0, badRequest("steps = %d, want 0..%d", *steps, s.cfg.Limits.MaxSteps)
		}
		n = *steps
	}
	var rate float64
	if lr != nil {
		if m.kind != KindGradient {
			return 0, 0, badRequest("model %s is metric-based (%s): it takes no learning_rate", m.name, m.spec.Algorithm)
		}
		if !(*lr > 0) || *lr > s.cfg.Limits.MaxLR {
			return 0, 0, badRequest("learning_rate = %v, want 0 < learning_rate <= %v", *lr, s.cfg.Limits.MaxLR)
		}
		rate = *lr
	}
	return n, rate, nil
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

func (s *Server) handleAdapt(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	var req AdaptRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Model == "" {
		return badRequest("model is required")
	}
	m, err := s.reg.get(req.Model)
	if err != nil {
		return err
	}
	if m.kind == KindTranslation {
		return s.adaptTranslation(w, r, m, &req, start)
	}
	if len(req.Pairs) > 0 {
		return badRequest("pairs are for translation models; model %s (kind %s) takes support", m.name, m.kind)
	}
	steps, lr, err := s.stepsLR(m, req.Steps, req.LearningRate)
	if err != nil {
		return err
	}
	var a *adapted
	err = s.compute(r, func(ctx context.Context) error {
		sup, err := s.parseSupport(m, &req.Support, "support")
		if err != nil {
			return err
		}
		a, err = m.adapt(ctx, sup, steps, lr)
		return err
	})
	if err != nil {
		return err
	}
	a.id = newID()
	if !s.cache.put(a) {
		return &apiError{http.StatusInsufficientStorage, fmt.Sprintf("the adapted model needs %d bytes, more than the cache holds (%d)", a.bytes, s.cfg.CacheBytes)}
	}
	s.met.count(s.met.adaptations, m.name)
	writeJSON(w, http.StatusOK, AdaptResponse{ID: a.id, Model: m.name, Kind: m.kind, Ways: a.support.ways, SupportSize: len(req.Support.Inputs),
		Steps: a.steps, Bytes: a.bytes, TTLSeconds: s.cfg.CacheTTL.Seconds(), ElapsedMS: ms(time.Since(start))})
	return nil
}

func (s *Server) handlePredict(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	var req PredictRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if len(req.Inputs) == 0 {
		return badRequest("inputs is empty")
	}
	if len(req.Inputs) > s.cfg.Limits.MaxQueries {
		return &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("%d inputs, the limit is %d", len(req.Inputs), s.cfg.Limits.MaxQueries)}
	}
	var (
		m       *model
		a       *adapted
		inline  bool
		steps   int
		lr      float64
		err     error
		outcome PredictResponse
	)
	switch {
	case req.ID != "" && req.Support != nil:
		return badRequest("give either id or model with support, not both")
	case req.ID != "":
		if req.Steps != nil || req.LearningRate != nil {
			return badRequest("steps and learning_rate belong to the adaptation; an id is already adapted")
		}
		var ok bool
		if a, ok = s.cache.get(req.ID); !ok {
			return &apiError{http.StatusNotFound, "unknown or expired adapted-model id; adapt again"}
		}
		m = a.model
		if err := notTranslation(m, "/v1/predict"); err != nil {
			return err
		}
		if req.Model != "" && req.Model != m.name {
			return badRequest("id belongs to model %q, not %q", m.name, req.Model)
		}
	case req.Support != nil:
		if req.Model == "" {
			return badRequest("model is required with support")
		}
		if m, err = s.reg.get(req.Model); err != nil {
			return err
		}
		if err := notTranslation(m, "/v1/predict"); err != nil {
			return err
		}
		if steps, lr, err = s.stepsLR(m, req.Steps, req.LearningRate); err != nil {
			return err
		}
		inline = true
	default:
		return badRequest("give id (from /v1/adapt) or model with support")
	}
	err = s.compute(r, func(ctx context.Context) error {
		xq, err := s.parseInputs(m, req.Inputs, req.parsed, "inputs")
		if err != nil {
			return err
		}
		if inline {
			sup, err := s.parseSupport(m, req.Support, "support")
			if err != nil {
				return err
			}
			if a, err = m.adapt(ctx, sup, steps, lr); err != nil {
				return err
			}
		}
		out := a.predict(xq)
		if out.HasNaNOrInf() {
			return &apiError{http.StatusUnprocessableEntity, "the model produced non-finite outputs for these inputs"}
		}
		outcome = s.predictResponse(m, out)
		return nil
	})
	if err != nil {
		return err
	}
	if inline {
		s.met.count(s.met.adaptations, m.name)
	} else {
		outcome.ID = a.id
	}
	s.met.count(s.met.predictions, m.name)
	outcome.ElapsedMS = ms(time.Since(start))
	writeJSON(w, http.StatusOK, outcome)
	return nil
}

// predictResponse turns logits into labels and probabilities, or values.
func (s *Server) predictResponse(m *model, out *tensor.Tensor) PredictResponse {
	resp := PredictResponse{Model: m.name}
	n, k := out.Dim(0), out.Dim(1)
	if m.regression {
		v := out.Values()
		for i := 0; i < n; i++ {
			resp.Values = append(resp.Values, v[i*k:(i+1)*k])
		}
		return resp
	}
	p := tensor.Softmax(out, 1).Values()
	resp.Labels = tensor.ArgMax(out, 1)
	for i := 0; i < n; i++ {
		resp.Probabilities = append(resp.Probabilities, p[i*k:(i+1)*k])
	}
	return resp
}
