package serve

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// HostileConfig configures HostileLoad: normal adapt+predict clients
// measured alone, then again while hostile clients send what issue 23
// found harmful (see HostileKinds).
type HostileConfig struct {
	URL, Token, Model string        // http://127.0.0.1:PORT only; a classifier
	Hostile           int           // hostile clients (default 32)
	Normal            int           // normal clients (default 8)
	Duration          time.Duration // the loaded phase (default 60s)
	Baseline          time.Duration // normal clients alone, before (default Duration/4, at least 2s)
	AmplifyBytes      int           // size of an amplifying body (default 8 MiB less 4 KiB)
	SlowGap           time.Duration // gap between the bytes of a slow body (default 500ms)
	AbandonAfter      time.Duration // an abandoned request's client leaves after this (default 50ms)
	MaxSteps          int           // the server's step limit, for the abandoned requests (default 20)
	// RSS, when set, samples the server's resident memory (bytes) every
	// 20 ms; the report gives the peak.
	RSS  func() int64
	Seed uint64
}

// HostileKinds lists the hostile requests, sent round-robin by each
// hostile client: an amplifying body (millions of one-value inputs, past
// the support limit), a body trickled slower than the read timeout, a step
// count far past the limit, nulls as labels and pixels, duplicate keys,
// and a request at the step limit abandoned by its client mid-computation.
var HostileKinds = []string{"amplify", "slow-body", "huge-steps", "nulls", "duplicate-keys", "abandoned"}

// HostileReport is what HostileLoad measured. Latencies are per normal
// operation (adapt + predict), in milliseconds.
type HostileReport struct {
	Model          string      `json:"model"`
	Hostile        int         `json:"hostile_clients"`
	Normal         int         `json:"normal_clients"`
	Seconds        float64     `json:"seconds"`
	BaselineOps    int         `json:"baseline_ops"`
	BaselineP50    float64     `json:"baseline_p50_ms"`
	BaselineP99    float64     `json:"baseline_p99_ms"`
	LoadedOps      int         `json:"loaded_ops"`
	LoadedP50      float64     `json:"loaded_p50_ms"`
	LoadedP99      float64     `json:"loaded_p99_ms"`
	P99Ratio       float64     `json:"p99_ratio"`
	NormalStatus   map[int]int `json:"normal_status"` // HTTP status -> count, loaded phase
	NormalFailures []string    `json:"normal_failures,omitempty"`
	// Normal5xx counts the normal clients' 5xx answers other than 503 (the
	// documented overload answer), and transport errors.
	Normal5xx      int                    `json:"normal_5xx_not_503"`
	Normal503      int                    `json:"normal_503"`
	HostileStatus  map[string]map[int]int `json:"hostile_status"` // kind -> status -> count (0: no answer)
	HealthProbes   int                    `json:"health_probes"`
	HealthFailures int                    `json:"health_failures"`
	HealthMaxMS    float64                `json:"health_max_ms"`
	PeakRSS        int64                  `json:"peak_rss_bytes,omitempty"`
}

func (r HostileReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d normal + %d hostile clients, %.1fs loaded\n", r.Model, r.Normal, r.Hostile, r.Seconds)
	fmt.Fprintf(&b, "  normal alone:  %d ops, p50 %.1f ms, p99 %.1f ms\n", r.BaselineOps, r.BaselineP50, r.BaselineP99)
	fmt.Fprintf(&b, "  under attack:  %d ops, p50 %.1f ms, p99 %.1f ms (p99 %.2fx)\n", r.LoadedOps, r.LoadedP50, r.LoadedP99, r.P99Ratio)
	fmt.Fprintf(&b, "  normal answers %v; 5xx other than 503: %d; 503: %d\n", r.NormalStatus, r.Normal5xx, r.Normal503)
	for _, k := range HostileKinds {
		fmt.Fprintf(&b, "  hostile %-14s %v\n", k, r.HostileStatus[k])
	}
	fmt.Fprintf(&b, "  /healthz: %d probes, %d failed, slowest %.1f ms", r.HealthProbes, r.HealthFailures, r.HealthMaxMS)
	if r.PeakRSS > 0 {
		fmt.Fprintf(&b, "\n  server peak RSS %.0f MiB", float64(r.PeakRSS)/(1<<20))
	}
	return b.String()
}

// HostileLoad measures normal traffic alone and then mixed with hostile
// clients, against a server on 127.0.0.1 only. It stops by itself after
// Baseline + Duration (plus the time to finish the requests in flight).
func HostileLoad(ctx context.Context, cfg HostileConfig) (HostileReport, error) {
	var rep HostileReport
	u, err := CheckLocalURL(cfg.URL)
	if err != nil {
		return rep, err
	}
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&cfg.Hostile, 32)
	def(&cfg.Normal, 8)
	def(&cfg.AmplifyBytes, 8<<20-4<<10)
	def(&cfg.MaxSteps, 20)
	if cfg.Duration <= 0 {
		cfg.Duration = time.Minute
	}
	if cfg.Baseline <= 0 {
		cfg.Baseline = max(cfg.Duration/4, 2*time.Second)
	}
	if cfg.SlowGap <= 0 {
		cfg.SlowGap = 500 * time.Millisecond
	}
	if cfg.AbandonAfter <= 0 {
		cfg.AbandonAfter = 50 * time.Millisecond
	}
	switch {
	case cfg.Hostile > MaxConcurrency || cfg.Normal > MaxConcurrency:
		return rep, fmt.Errorf("at most %d clients of each kind", MaxConcurrency)
	case cfg.Duration > MaxLoadDuration || cfg.Baseline > MaxLoadDuration:
		return rep, fmt.Errorf("duration at most %v", MaxLoadDuration)
	}
	normal := &Client{BaseURL: cfg.URL, Token: cfg.Token, HTTP: &http.Client{Timeout: 2 * time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Normal, MaxConnsPerHost: cfg.Normal}}}
	info, err := normal.Model(ctx, cfg.Model)
	if err != nil {
		return rep, err
	}
	if info.Task != "classification" {
		return rep, fmt.Errorf("model %s is a %s model; the load generator drives classifiers", cfg.Model, info.Task)
	}
	lc := LoadConfig{Model: cfg.Model, Ways: max(info.Ways, 5), Shots: 1, Queries: 5, Seed: cfg.Seed}
	if info.Ways > 0 {
		lc.Ways = info.Ways
	}
	bodies, err := loadBodies(lc, info)
	if err != nil {
		return rep, err
	}
	rep = HostileReport{Model: cfg.Model, Hostile: cfg.Hostile, Normal: cfg.Normal, NormalStatus: map[int]int{}, HostileStatus: map[string]map[int]int{}}

	// normal clients: one adapt+predict operation after another
	var mu sync.Mutex
	runNormal := func(ctx context.Context, record bool) []float64 {
		var lat []float64
		var wg sync.WaitGroup
		for w := 0; w < cfg.Normal; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; ctx.Err() == nil; i += cfg.Normal {
					b := bodies[i%len(bodies)]
					t0 := time.Now()
					code, err := normalOp(ctx, normal, b)
					if ctx.Err() != nil {
						return // stopped mid-operation by the phase's end
					}
					d := time.Since(t0)
					mu.Lock()
					if code == 200 {
						lat = append(lat, float64(d.Microseconds())/1000)
					}
					if record {
						rep.NormalStatus[code]++
						switch {
						case code == 503:
							rep.Normal503++
						case code >= 500 || code == 0:
							rep.Normal5xx++
							if len(rep.NormalFailures) < 5 {
								rep.NormalFailures = append(rep.NormalFailures, fmt.Sprint(err))
							}
						}
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		slices.Sort(lat)
		return lat
	}
	bctx, cancel := context.WithTimeout(ctx, cfg.Baseline)
	base := runNormal(bctx, false)
	cancel()
	if len(base) == 0 {
		return rep, errors.New("no normal operation succeeded on the idle server")
	}
	rep.BaselineOps, rep.BaselineP50, rep.BaselineP99 = len(base), percentile(base, 50), percentile(base, 99)

	lctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var bg sync.WaitGroup
	// the RSS sampler and the /healthz prober
	if cfg.RSS != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			for lctx.Err() == nil {
				v := cfg.RSS()
				mu.Lock()
				rep.PeakRSS = max(rep.PeakRSS, v)
				mu.Unlock()
				sleepCtx(lctx, 20*time.Millisecond)
			}
		}()
	}
	bg.Add(1)
	go func() {
		defer bg.Done()
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for lctx.Err() == nil {
			t0 := time.Now()
			resp, err := hc.Get(u.String() + "/healthz")
			d := float64(time.Since(t0).Microseconds()) / 1000
			ok := err == nil && resp.StatusCode == 200
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			mu.Lock()
			rep.HealthProbes++
			rep.HealthMaxMS = max(rep.HealthMaxMS, d)
			if !ok {
				rep.HealthFailures++
			}
			mu.Unlock()
			sleepCtx(lctx, 100*time.Millisecond)
		}
	}()
	// hostile clients
	h := &hostile{cfg: cfg, addr: u.Host, info: info, body: bodies[0].adapt}
	h.prepare()
	for c := 0; c < cfg.Hostile; c++ {
		bg.Add(1)
		go func() {
			defer bg.Done()
			for i := c; lctx.Err() == nil; i++ {
				kind := HostileKinds[i%len(HostileKinds)]
				code := h.send(lctx, kind)
				if lctx.Err() != nil {
					return
				}
				mu.Lock()
				if rep.HostileStatus[kind] == nil {
					rep.HostileStatus[kind] = map[int]int{}
				}
				rep.HostileStatus[kind][code]++
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	loaded := runNormal(lctx, true)
	bg.Wait()
	rep.Seconds = time.Since(start).Seconds()
	rep.LoadedOps = len(loaded)
	if len(loaded) > 0 {
		rep.LoadedP50, rep.LoadedP99 = percentile(loaded, 50), percentile(loaded, 99)
		rep.P99Ratio = rep.LoadedP99 / rep.BaselineP99
	}
	return rep, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// normalOp is one adapt + predict; it returns the first non-200 status
// (0 for a transport error) or 200.
func normalOp(ctx context.Context, c *Client, b loadBody) (int, error) {
	a, err := c.AdaptRaw(ctx, b.adapt)
	if err == nil {
		pb := append(append(append([]byte(nil), b.predictHead...), fmt.Sprintf("%q", a.ID)...), b.predictTail...)
		_, err = c.PredictRaw(ctx, pb)
	}
	var he *HTTPError
	switch {
	case err == nil:
		return 200, nil
	case errors.As(err, &he):
		return he.Code, err
	default:
		return 0, err
	}
}

// hostile sends the hostile requests, each on its own connection.
type hostile struct {
	cfg     HostileConfig
	addr    string
	info    ModelInfo
	body    []byte // a valid adapt body
	amplify []byte
	nulls   []byte
	dup     []byte
	steps   []byte
	abandon []byte
}

func (h *hostile) prepare() {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"model":%q,"support":{"inputs":[`, h.cfg.Model)
	for b.Len() < h.cfg.AmplifyBytes-64 {
		b.WriteString("[0],")
	}
	b.WriteString(`[0]],"labels":[0,1]}}`)
	h.amplify = b.Bytes()
	// the valid body with its first label null and every pixel of its
	// first input null
	size := 1
	for _, d := range h.info.InputShape {
		size *= d
	}
	nullImg := "[" + strings.TrimSuffix(strings.Repeat("null,", size), ",") + "]"
	h.nulls = []byte(fmt.Sprintf(`{"model":%q,"support":{"inputs":[%s,%s],"labels":[null,1]}}`, h.cfg.Model, nullImg, nullImg))
	h.dup = append([]byte(fmt.Sprintf(`{"model":%q,`, h.cfg.Model)), h.body[1:]...)
	h.steps = append([]byte(`{"steps":1000000000,`), h.body[1:]...)
	h.abandon = append([]byte(fmt.Sprintf(`{"steps":%d,`, h.cfg.MaxSteps)), h.body[1:]...)
}

// send sends one hostile request of kind and returns the status (0: no
// answer: the server closed the connection, or the client left).
func (h *hostile) send(ctx context.Context, kind string) int {
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", h.addr)
	if err != nil {
		return 0
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	head := func(n int) string {
		auth := ""
		if h.cfg.Token != "" {
			auth = "Authorization: Bearer " + h.cfg.Token + "\r\n"
		}
		return fmt.Sprintf("POST /v1/adapt HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n", h.addr, auth, n)
	}
	var body []byte
	switch kind {
	case "amplify":
		body = h.amplify
	case "huge-steps":
		body = h.steps
	case "nulls":
		body = h.nulls
	case "duplicate-keys":
		body = h.dup
	case "abandoned":
		io.WriteString(c, head(len(h.abandon)))
		c.Write(h.abandon)
		sleepCtx(ctx, h.cfg.AbandonAfter)
		return 0 // gone before the answer
	case "slow-body":
		io.WriteString(c, head(len(h.body)))
		go func() { // trickle until the server gives up
			for i := 0; i < len(h.body) && ctx.Err() == nil; i++ {
				if _, err := c.Write(h.body[i : i+1]); err != nil {
					return
				}
				sleepCtx(ctx, h.cfg.SlowGap)
			}
		}()
		return readStatus(c)
	}
	go func() {
		io.WriteString(c, head(len(body)))
		c.Write(body)
	}()
	return readStatus(c)
}

func readStatus(c net.Conn) int {
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode
}
