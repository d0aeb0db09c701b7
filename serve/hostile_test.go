package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/metalearn/metalearn/meta"
)

// Tests of issue 23: the server under hostile input and load. Each case
// is something a single client could do to the server before the fix.

// amplifyingBody is the amplification attack: a body of n one-value
// inputs, far past the support limit, that costs ~100 bytes of Go values
// per 4 bytes of JSON when decoded in full. general forces the general
// (encoding/json) path: an escape in the model name is left to it.
func amplifyingBody(n int, general bool) []byte {
	var b bytes.Buffer
	name := `"proto"`
	if general {
		name = `"pr\u006fto"`
	}
	b.WriteString(`{"model":` + name + `,"support":{"inputs":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("[0]")
	}
	b.WriteString(`],"labels":[0,1]}}`)
	return b.Bytes()
}

// Both decoders stop at the first input past the limit: decoding a body
// of 500,000 inputs against a limit of 200 allocates a small multiple of
// the body, not ~100 bytes per input (about 50 MB before the fix).
func TestAmplifyingBodyStopsAtLimit(t *testing.T) {
	dir := writeModels(t, "proto")
	s, err := New(Config{ModelDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	for _, general := range []bool{false, true} {
		body := amplifyingBody(500_000, general)
		run := func() (int, string) {
			req, _ := http.NewRequest(http.MethodPost, "/v1/adapt", bytes.NewReader(body))
			req.ContentLength = int64(len(body))
			rec := newRecorder()
			h.ServeHTTP(rec, req)
			return rec.code, rec.buf.String()
		}
		run() // warm: the model loads
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		code, msg := run()
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "support.inputs") || !strings.Contains(msg, "200") {
			t.Errorf("general=%v: %d %s, want 413 naming support.inputs and the limit 200", general, code, msg)
		}
		if limit := uint64(3 * len(body)); alloc > limit {
			t.Errorf("general=%v: decoding a %d-byte body allocated %d bytes, want <= %d (3x the body)", general, len(body), alloc, limit)
		}
	}
}

// recorder is a minimal http.ResponseWriter (httptest's records headers
// and body the same way; this one avoids its allocations in the
// measurement above).
type recorder struct {
	h    http.Header
	code int
	buf  bytes.Buffer
}

func newRecorder() *recorder { return &recorder{h: http.Header{}} }

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(c int) {
	if r.code == 0 {
		r.code = c
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = 200
	}
	return r.buf.Write(b)
}

// rss returns the resident set size of this process in bytes (Linux).
func rss(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("SKIPPED: peak RSS needs /proc/self/statm (Linux): %v", err)
	}
	var size, res int64
	if _, err := fmt.Sscan(string(b), &size, &res); err != nil {
		t.Skipf("SKIPPED: /proc/self/statm unreadable: %v", err)
	}
	return res * int64(os.Getpagesize())
}

// peakRSS samples the RSS until stop is closed and returns the largest.
func peakRSS(t *testing.T, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		for {
			peak = max(peak, rss(t))
			select {
			case <-stop:
				out <- max(peak, rss(t))
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return out
}

// The bound of issue 23: 16 concurrent amplifying requests (8 MiB bodies
// of 2 million inputs each) keep the peak RSS under twice the idle RSS
// plus the request-memory budget. Before the fix each cost 230-310 MB.
func TestPeakRSSUnderAmplifyingRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short: sends 16 x 8 MiB bodies")
	}
	dir := writeModels(t, "proto")
	const budget = 64 << 20
	s, err := New(Config{ModelDir: dir, Workers: 2, MemoryBudget: budget})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	defer s.Shutdown(context.Background())
	url := "http://" + ln.Addr().String()
	body := amplifyingBody(2_000_000, false) // 8.0 MB, under the 8 MiB limit
	runtime.GC()
	idle := rss(t)
	stop := make(chan struct{})
	peak := peakRSS(t, stop)
	var wg sync.WaitGroup
	codes := make([]int, 16)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(url+"/v1/adapt", "application/json", bytes.NewReader(body))
			if err != nil {
				codes[i] = -1
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	close(stop)
	p := <-peak
	bound := 2*idle + budget
	t.Logf("idle RSS %.0f MiB, peak %.0f MiB under 16 x %.1f MiB amplifying bodies, bound %.0f MiB; statuses %v",
		float64(idle)/(1<<20), float64(p)/(1<<20), float64(len(body))/(1<<20), float64(bound)/(1<<20), codes)
	if p > bound {
		t.Errorf("peak RSS %d bytes > 2 x idle %d + budget %d", p, idle, int64(budget))
	}
	for i, c := range codes {
		if c != 413 && c != 503 {
			t.Errorf("request %d: status %d, want 413 (too many inputs) or 503 (memory budget)", i, c)
		}
	}
}

// A declared Content-Length past the limit is refused before any of the
// body is read.
func TestContentLengthCheckedUpFront(t *testing.T) {
	dir := writeModels(t, "proto")
	s, err := New(Config{ModelDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	defer s.Shutdown(context.Background())
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// headers only: the server must answer without waiting for the body
	fmt.Fprintf(c, "POST /v1/adapt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", 100<<20)
	c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a hang detector, far above the answer's time
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(b), "Content-Length") {
		t.Errorf("%d %s, want 413 naming the declared Content-Length", resp.StatusCode, b)
	}
}

// The request-memory budget: a body that does not fit in what is left
// waits (up to the queue timeout) and is then refused with 503.
func TestMemoryBudget(t *testing.T) {
	dir := writeModels(t, "proto")
	s, ts := newTest(t, Config{ModelDir: dir, MemoryBudget: 1 << 20, QueueTimeout: 100 * time.Millisecond,
		Limits: Limits{MaxBodyBytes: 200 << 10}})
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	var once sync.Once
	s.beforeCompute = func() {
		entered <- struct{}{}
		once.Do(func() { <-release })
	}
	e := randomEpisode(1, 5, 1, 1)
	big, _ := json.Marshal(AdaptRequest{Model: "proto", Support: Support{Inputs: e.sIn, Labels: e.sl}})
	// pad to ~150 KiB with spaces: the reservation is 4x the body
	big = append(big[:len(big)-1], append(bytes.Repeat([]byte(" "), 150<<10), '}')...)
	first := make(chan int)
	go func() { c, _ := post(t, ts.URL+"/v1/adapt", "", big); first <- c }()
	<-entered
	code, b := post(t, ts.URL+"/v1/adapt", "", big)
	if code != 503 || !strings.Contains(string(b), "memory budget") {
		t.Errorf("second large body over the budget: %d %s, want 503 naming the memory budget", code, b)
	}
	close(release)
	if c := <-first; c != 200 {
		t.Errorf("first request: %d", c)
	}
	if s.budget.inUse() != 0 {
		t.Errorf("budget still holds %d bytes after all requests", s.budget.inUse())
	}
	// a small request fits while nothing else runs
	if code, b := post(t, ts.URL+"/v1/adapt", "", big); code != 200 {
		t.Errorf("alone: %d %s", code, b)
	}
}

// More open connections than MaxConns: the extra one gets an immediate
// 503 and is closed, not queued in the kernel.
func TestConnectionCap(t *testing.T) {
	dir := writeModels(t, "proto")
	s, err := New(Config{ModelDir: dir, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	defer s.Shutdown(context.Background())
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	for s.conns.Load().open.Load() < 2 { // both accepted
		time.Sleep(time.Millisecond)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("third connection: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || !strings.Contains(string(b), "connections") {
		t.Errorf("third connection: %d %s, want 503 naming the connection limit", resp.StatusCode, b)
	}
	held[0].Close()
	for s.conns.Load().open.Load() > 1 {
		time.Sleep(time.Millisecond)
	}
	if code, _ := get(t, "http://"+ln.Addr().String()+"/healthz", ""); code != 200 {
		t.Errorf("after one closed: /healthz %d", code)
	}
}

// null, duplicate keys and labels that overflowed l+1 are errors naming
// the field and value (before: null read as 0, the last duplicate won,
// and the labels gave "need at least 2 classes").
func TestSilentlyAcceptedInput(t *testing.T) {
	dir := writeModels(t, "proto", "sine", "fomaml")
	_, ts := newTest(t, Config{ModelDir: dir})
	e := randomEpisode(1, 2, 1, 1)
	img0, img1 := string(e.sIn[0]), string(e.sIn[1])
	nulls := "[" + strings.TrimSuffix(strings.Repeat("null,", 784), ",") + "]"
	cases := []struct {
		name, path, body string
		want             []string
	}{
		{"null label", "/v1/adapt", `{"model":"proto","support":{"inputs":[` + img0 + `,` + img1 + `],"labels":[null,1]}}`, []string{"null", "support.labels[0]"}},
		{"null input", "/v1/adapt", `{"model":"proto","support":{"inputs":[null,` + img1 + `],"labels":[0,1]}}`, []string{"null", "support.inputs[0]"}},
		{"784 nulls", "/v1/adapt", `{"model":"proto","support":{"inputs":[` + nulls + `,` + img1 + `],"labels":[0,1]}}`, []string{"null", "support.inputs[0][0]"}},
		{"null target", "/v1/adapt", `{"model":"sine","support":{"inputs":[[1],[2]],"targets":[null,1]}}`, []string{"null", "support.targets[0]"}},
		{"null scalar input", "/v1/predict", `{"model":"sine","support":{"inputs":[[1],[2]],"targets":[0,1]},"inputs":[null]}`, []string{"null", "inputs[0]"}},
		{"null steps", "/v1/adapt", `{"model":"fomaml","steps":null,"support":{"inputs":[` + img0 + `],"labels":[0]}}`, []string{"null", "steps"}},
		{"duplicate key", "/v1/adapt", `{"model":"fomaml","model":"proto","support":{"inputs":[` + img0 + `,` + img1 + `],"labels":[0,1]}}`, []string{"duplicate", `"model"`}},
		{"duplicate nested key", "/v1/adapt", `{"model":"proto","support":{"inputs":[` + img0 + `,` + img1 + `],"labels":[0,1],"labels":[1,0]}}`, []string{"duplicate", `"labels"`, "support"}},
		{"negative label", "/v1/adapt", `{"model":"proto","support":{"inputs":[` + img0 + `,` + img1 + `],"labels":[-1,0]}}`, []string{"support.labels[0] = -1"}},
		{"label near MaxInt64", "/v1/adapt", `{"model":"proto","support":{"inputs":[` + img0 + `,` + img1 + `],"labels":[9223372036854775807,0]}}`, []string{"support.labels[0] = 9223372036854775807"}},
	}
	for _, tc := range cases {
		code, b := post(t, ts.URL+tc.path, "", tc.body)
		msg := errorMessage(b)
		t.Logf("catalogue | serve | %s | %d %s", tc.name, code, msg)
		ok := code == 400
		for _, w := range tc.want {
			ok = ok && strings.Contains(msg, w)
		}
		if !ok {
			t.Errorf("%s: %d %s, want 400 naming %q", tc.name, code, b, tc.want)
		}
	}
}

// errorMessage is the message of an error answer ("" if none).
func errorMessage(b []byte) string {
	var e ErrorResponse
	_ = json.Unmarshal(b, &e)
	return e.Error
}

// steppedModel saves a fomaml test model whose spec asks for evalSteps
// adaptation steps by default.
func steppedModel(t *testing.T, dir, name string, evalSteps int) {
	t.Helper()
	s := testSpecs["fomaml"]
	s.Seed = 5
	b, err := meta.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	b.Spec.EvalSteps = evalSteps
	if err := b.Save(filepath.Join(dir, name+ModelExt), nil); err != nil {
		t.Fatal(err)
	}
}

// A checkpoint's eval_steps is clamped to the server's MaxSteps (before it
// bypassed it), and one past meta's bound is refused at load, naming it.
func TestCheckpointStepsClamped(t *testing.T) {
	dir := writeModels(t, "proto")
	steppedModel(t, dir, "many", 50)
	steppedModel(t, dir, "absurd", 1_000_000_000)
	_, ts := newTest(t, Config{ModelDir: dir, Limits: Limits{MaxSteps: 3}})
	e := randomEpisode(1, 5, 1, 1)
	code, b := post(t, ts.URL+"/v1/adapt", "", AdaptRequest{Model: "many", Support: Support{Inputs: e.sIn, Labels: e.sl}})
	var ar AdaptResponse
	_ = json.Unmarshal(b, &ar)
	if code != 200 || ar.Steps != 3 {
		t.Errorf("model with eval_steps 50 under MaxSteps 3: %d %s, want 200 with steps 3", code, b)
	}
	_, b = get(t, ts.URL+"/v1/models", "")
	if !strings.Contains(string(b), `"name":"many"`) || !strings.Contains(string(b), `"default_steps":3`) {
		t.Errorf("/v1/models: %s, want many with default_steps 3", b)
	}
	code, b = post(t, ts.URL+"/v1/adapt", "", AdaptRequest{Model: "absurd", Support: Support{Inputs: e.sIn, Labels: e.sl}})
	if code != 500 || !strings.Contains(string(b), "eval steps = 1000000000") {
		t.Errorf("model with eval_steps 1e9: %d %s, want 500 naming eval steps", code, b)
	}
}

// countingCtx is a context whose Err turns non-nil after n calls: a
// deterministic stand-in for a deadline passing during adaptation.
type countingCtx struct {
	context.Context
	n     int
	calls atomic.Int64
}

func (c *countingCtx) Err() error {
	if c.calls.Add(1) > int64(c.n) {
		return context.DeadlineExceeded
	}
	return nil
}

// Adaptation stops at the first step after its context is cancelled, on
// every path (fused kernels, generic autodiff, Reptile).
func TestAdaptationStopsWhenCancelled(t *testing.T) {
	dir := writeModels(t, "fomaml", "maml-run", "reptile")
	s, err := New(Config{ModelDir: dir, Limits: Limits{MaxSteps: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	e := randomEpisode(1, 5, 1, 1)
	for _, name := range []string{"fomaml", "maml-run", "reptile"} {
		m, err := s.reg.get(name)
		if err != nil {
			t.Fatal(err)
		}
		sup, err := s.parseSupport(m, &Support{Inputs: e.sIn, Labels: e.sl}, "support")
		if err != nil {
			t.Fatal(err)
		}
		ctx := &countingCtx{Context: context.Background(), n: 4}
		if _, err := m.adapt(ctx, sup, 1000, 0); err != context.DeadlineExceeded {
			t.Errorf("%s: adapt with a context cancelled after 4 checks: %v, want context.DeadlineExceeded", name, err)
		}
		if n := ctx.calls.Load(); n != 5 {
			t.Errorf("%s: the context was checked %d times for 1000 steps, want 5 (stopped at the first check after cancellation)", name, n)
		}
	}
}

// A request that computes longer than RequestTimeout is answered 503 and
// says so; the worker is free again at once.
func TestRequestTimeout(t *testing.T) {
	dir := writeModels(t, "fomaml")
	s, ts := newTest(t, Config{ModelDir: dir, Workers: 1, RequestTimeout: time.Nanosecond, Limits: Limits{MaxSteps: 1_000_000}})
	e := randomEpisode(1, 5, 1, 1)
	steps := 1_000_000
	code, b := post(t, ts.URL+"/v1/adapt", "", AdaptRequest{Model: "fomaml", Support: Support{Inputs: e.sIn, Labels: e.sl}, Steps: &steps})
	if code != 503 || !strings.Contains(string(b), "request timeout") {
		t.Errorf("%d %s, want 503 naming the request timeout", code, b)
	}
	if n := s.pool.running.Load(); n != 0 {
		t.Errorf("%d workers still busy", n)
	}
}

// A body trickled slower than ReadTimeout is cut with 408.
func TestSlowBodyCut(t *testing.T) {
	dir := writeModels(t, "proto")
	s, err := New(Config{ModelDir: dir, ReadTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	defer s.Shutdown(context.Background())
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/adapt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"model\":")
	// then nothing: the server must give up on its own
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // hang detector only
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 408 || !strings.Contains(string(b), "read timeout") {
		t.Errorf("%d %s, want 408 naming the read timeout", resp.StatusCode, b)
	}
}

// Shutdown past its deadline cancels the computation in flight, which is
// answered 503, and returns nil (before: it waited for the computation and
// returned the context's error, so serve exited 1).
func TestShutdownCancelsInFlight(t *testing.T) {
	dir := writeModels(t, "fomaml")
	s, err := New(Config{ModelDir: dir, Workers: 1, Limits: Limits{MaxSteps: 1_000_000}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error)
	go func() { served <- s.Serve(ln) }()
	entered := make(chan struct{})
	s.beforeCompute = func() { close(entered) }
	e := randomEpisode(1, 5, 1, 1)
	steps := 1_000_000
	type answer struct {
		code int
		body []byte
	}
	inflight := make(chan answer)
	go func() {
		c, b := post(t, "http://"+ln.Addr().String()+"/v1/adapt", "", AdaptRequest{Model: "fomaml", Support: Support{Inputs: e.sIn, Labels: e.sl}, Steps: &steps})
		inflight <- answer{c, b}
	}()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the deadline has passed at once
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v, want nil after cancelling the computation", err)
	}
	a := <-inflight
	if a.code != 503 || !strings.Contains(string(a.body), "shutting down") {
		t.Errorf("in-flight request: %d %s, want 503 saying the server is shutting down", a.code, a.body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// A corrupt model file: the 500 names the model, not the server's path;
// the failure is remembered (the file is not re-read on every request)
// until the TTL passes or the file's modification time changes.
func TestFailedModelLoad(t *testing.T) {
	dir := writeModels(t, "proto")
	good, err := os.ReadFile(filepath.Join(dir, "proto"+ModelExt))
	if err != nil {
		t.Fatal(err)
	}
	// corrupt: the header length garbled; the same size as the good file,
	// so only the modification time can tell them apart
	corrupt := append([]byte(nil), good...)
	copy(corrupt, "\xff\xff\xff\xff\xff\xff\xff\x7f")
	path := filepath.Join(dir, "bad"+ModelExt)
	if err := os.WriteFile(path, corrupt, 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	_, ts := newTest(t, Config{ModelDir: dir, Now: clock, FailedLoadTTL: time.Minute})
	e := randomEpisode(1, 5, 1, 1)
	req := AdaptRequest{Model: "bad", Support: Support{Inputs: e.sIn, Labels: e.sl}}
	code, b := post(t, ts.URL+"/v1/adapt", "", req)
	if msg := errorMessage(b); code != 500 || !strings.Contains(msg, `"bad"`) || strings.Contains(msg, dir) {
		t.Errorf("corrupt model: %d %s, want 500 naming the model without the directory %s", code, b, dir)
	}
	// the file becomes valid but keeps its mtime: the failure is cached
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if code, b := post(t, ts.URL+"/v1/adapt", "", req); code != 500 {
		t.Errorf("within the TTL, same mtime: %d %s, want the cached 500", code, b)
	}
	// the TTL passes: reloaded
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if code, b := post(t, ts.URL+"/v1/adapt", "", req); code != 200 {
		t.Errorf("after the TTL: %d %s, want 200", code, b)
	}
	// a new failing model: a changed mtime reloads at once
	path2 := filepath.Join(dir, "later"+ModelExt)
	if err := os.WriteFile(path2, corrupt, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path2, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	req.Model = "later"
	if code, _ := post(t, ts.URL+"/v1/adapt", "", req); code != 500 {
		t.Errorf("later, corrupt: %d", code)
	}
	if err := os.WriteFile(path2, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path2, mtime.Add(time.Second), mtime.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if code, b := post(t, ts.URL+"/v1/adapt", "", req); code != 200 {
		t.Errorf("later, fixed with a new mtime: %d %s, want 200", code, b)
	}
}

// The short form of the hostile-load test (issue 23): 8 hostile clients
// (every kind in HostileKinds) and 4 normal ones for a few seconds against
// an in-process server. Pass/fail does not depend on speed beyond
// generous bounds: normal clients get no 5xx but documented 503s,
// /healthz answers every probe, hostile requests get their 4xx, the peak
// RSS stays under 2x idle + the memory budget, and Shutdown returns nil.
// The full form (32 + 8 clients, 60 s) is `metalearn serve loadtest
// --hostile 32` (RELIABILITY.md).
func TestHostileLoadShort(t *testing.T) {
	dir := writeModels(t, "proto")
	const budget = 64 << 20
	s, err := New(Config{ModelDir: dir, Workers: 2, MemoryBudget: budget, ReadTimeout: time.Second, Limits: Limits{MaxSteps: 5}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	runtime.GC()
	idle := rss(t)
	rep, err := HostileLoad(context.Background(), HostileConfig{URL: "http://" + ln.Addr().String(), Model: "proto",
		Hostile: 8, Normal: 4, Baseline: time.Second, Duration: 3 * time.Second, AmplifyBytes: 1 << 20,
		SlowGap: 300 * time.Millisecond, MaxSteps: 5, RSS: func() int64 { return rss(t) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", rep)
	if rep.Normal5xx != 0 {
		t.Errorf("normal clients got %d 5xx answers other than 503: %v", rep.Normal5xx, rep.NormalFailures)
	}
	if rep.LoadedOps == 0 {
		t.Errorf("no normal operation succeeded under load: %v", rep.NormalStatus)
	}
	if rep.HealthProbes == 0 || rep.HealthFailures != 0 {
		t.Errorf("/healthz: %d of %d probes failed", rep.HealthFailures, rep.HealthProbes)
	}
	if bound := 2*idle + budget; rep.PeakRSS > bound {
		t.Errorf("peak RSS %d > 2 x idle %d + budget %d", rep.PeakRSS, idle, int64(budget))
	}
	if rep.LoadedP99 > 30_000 { // a hang detector, not a speed test
		t.Errorf("normal p99 %.0f ms under load", rep.LoadedP99)
	}
	want := map[string][]int{"amplify": {413, 503}, "huge-steps": {400}, "nulls": {400}, "duplicate-keys": {400}, "slow-body": {408}}
	for kind, codes := range want {
		st := rep.HostileStatus[kind]
		n := 0
		for code, k := range st {
			if slices.Contains(codes, code) {
				n += k
			} else if code >= 500 && code != 503 {
				t.Errorf("hostile %s: %d answers %d", kind, k, code)
			}
		}
		if n == 0 {
			t.Errorf("hostile %s: answers %v, want some of %v", kind, st, codes)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown after the load: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// A client still sending its body does not hold Shutdown past its
// deadline or make it fail (before: Shutdown returned the context's error
// and `serve` exited 1).
func TestShutdownWithSlowClient(t *testing.T) {
	dir := writeModels(t, "proto")
	s, err := New(Config{ModelDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/adapt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"model\":")
	for s.conns.Load().open.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the request is being read
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown with a client still sending: %v, want nil", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
