package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of the load generator.
const (
	MaxLoadRequests = 1_000_000
	MaxLoadDuration = 10 * time.Minute
	MaxConcurrency  = 256
)

// LoadConfig configures LoadTest. One operation is an adapt followed by a
// predict of the queries with the returned id (Mode "adapt+predict", the
// default), or one predict with an inline support set (Mode "inline").
type LoadConfig struct {
	URL         string // http://127.0.0.1:PORT only
	Token       string
	Model       string
	Concurrency int           // clients in parallel (default 8)
	Operations  int           // stop after this many operations (default 1000)
	Duration    time.Duration // and after this long at most (default 60s)
	Mode        string
	Ways        int  // classes per support set (default: the model's, else 5)
	Shots       int  // support examples per class (default 1)
	Queries     int  // query inputs per operation (default 5)
	Steps       *int // adaptation steps (default: the model's)
	PNG         bool // send images as base64 PNG instead of arrays
	Seed        uint64
	Warmup      int // operations before measuring (default 2*Concurrency)
	// Mode "translate" (translation models): each operation is one
	// translate request of Queries sentences From -> To with Beam.
	From, To string
	Beam     int
}

// LoadReport is what LoadTest measured. Latencies are per operation, in
// milliseconds.
type LoadReport struct {
	Model        string   `json:"model"`
	Mode         string   `json:"mode"`
	Concurrency  int      `json:"concurrency"`
	Ways         int      `json:"ways"`
	Shots        int      `json:"shots"`
	Queries      int      `json:"queries"`
	Steps        int      `json:"steps"`
	Operations   int      `json:"operations"`
	Requests     int      `json:"requests"`
	Errors       int      `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	Seconds      float64  `json:"seconds"`
	OpsPerSec    float64  `json:"ops_per_second"`
	ReqPerSec    float64  `json:"requests_per_second"`
	P50          float64  `json:"p50_ms"`
	P95          float64  `json:"p95_ms"`
	P99          float64  `json:"p99_ms"`
	Max          float64  `json:"max_ms"`
	Mean         float64  `json:"mean_ms"`
	// translate mode: sentences translated per second
	SentencesPerSec float64 `json:"sentences_per_second,omitempty"`
}

func (r LoadReport) String() string {
	if r.Mode == "translate" {
		return fmt.Sprintf("%s translate, concurrency %d, %d sentences per request: %d requests in %.1fs = %.1f sentences/s (%.1f req/s); latency per request p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms; errors %d",
			r.Model, r.Concurrency, r.Queries, r.Requests, r.Seconds, r.SentencesPerSec, r.ReqPerSec, r.P50, r.P95, r.P99, r.Max, r.Errors)
	}
	return fmt.Sprintf("%s %s, concurrency %d, %d-way %d-shot, %d queries, %d steps: %d ops (%d requests) in %.1fs = %.1f ops/s (%.1f req/s); latency per op p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms; errors %d",
		r.Model, r.Mode, r.Concurrency, r.Ways, r.Shots, r.Queries, r.Steps, r.Operations, r.Requests, r.Seconds, r.OpsPerSec, r.ReqPerSec, r.P50, r.P95, r.P99, r.Max, r.Errors)
}

// LoadTest drives a server on 127.0.0.1 with synthetic support and query
// sets (random inputs of the model's shape) and reports latency
// percentiles, throughput and errors. It stops by itself after Operations
// operations or Duration, whichever comes first.
func LoadTest(ctx context.Context, cfg LoadConfig) (LoadReport, error) {
	var rep LoadReport
	if _, err := CheckLocalURL(cfg.URL); err != nil {
		return rep, err
	}
	if cfg.Model == "" {
		return rep, errors.New("no model")
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 8
	}
	if cfg.Operations == 0 {
		cfg.Operations = 1000
	}
	if cfg.Duration == 0 {
		cfg.Duration = time.Minute
	}
	if cfg.Mode == "" {
		cfg.Mode = "adapt+predict"
	}
	switch {
	case cfg.Concurrency < 1 || cfg.Concurrency > MaxConcurrency:
		return rep, fmt.Errorf("concurrency = %d, want 1..%d", cfg.Concurrency, MaxConcurrency)
	case cfg.Operations < 1 || cfg.Operations > MaxLoadRequests:
		return rep, fmt.Errorf("operations = %d, want 1..%d", cfg.Operations, MaxLoadRequests)
	case cfg.Duration < 0 || cfg.Duration > MaxLoadDuration:
		return rep, fmt.Errorf("duration = %v, want at most %v", cfg.Duration, MaxLoadDuration)
	case cfg.Mode != "adapt+predict" && cfg.Mode != "inline" && cfg.Mode != "translate":
		return rep, fmt.Errorf("mode %q, want adapt+predict, inline or translate", cfg.Mode)
	case cfg.Shots < 0 || cfg.Queries < 0 || cfg.Ways < 0:
		return rep, errors.New("ways, shots and queries must not be negative")
	}
	if cfg.Shots == 0 {
		cfg.Shots = 1
	}
	if cfg.Queries == 0 {
		cfg.Queries = 5
	}
	if cfg.Warmup == 0 {
		cfg.Warmup = 2 * cfg.Concurrency
	}
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency, MaxConnsPerHost: cfg.Concurrency}
	defer tr.CloseIdleConnections()
	c := &Client{BaseURL: cfg.URL, Token: cfg.Token, HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	info, err := c.Model(ctx, cfg.Model)
	if err != nil {
		return rep, err
	}
	if cfg.Ways == 0 {
		cfg.Ways = info.Ways
		if cfg.Ways == 0 {
			cfg.Ways = 5
		}
	}
	if cfg.Mode == "translate" || info.Kind == KindTranslation {
		return translateLoad(ctx, c, cfg, info)
	}
	if info.Task != "classification" {
		return rep, fmt.Errorf("model %s is a %s model; the load generator drives classifiers", cfg.Model, info.Task)
	}
	steps := info.DefaultSteps
	if cfg.Steps != nil {
		steps = *cfg.Steps
	}
	bodies, err := loadBodies(cfg, info)
	if err != nil {
		return rep, err
	}
	rep = LoadReport{Model: cfg.Model, Mode: cfg.Mode, Concurrency: cfg.Concurrency, Ways: cfg.Ways, Shots: cfg.Shots, Queries: cfg.Queries, Steps: steps}
	if info.Kind == KindMetric {
		rep.Steps = 0
	}

	op := func(ctx context.Context, b loadBody) (int, error) {
		if cfg.Mode == "inline" {
			_, err := c.PredictRaw(ctx, b.inline)
			return 1, err
		}
		a, err := c.AdaptRaw(ctx, b.adapt)
		if err != nil {
			return 1, err
		}
		id, _ := json.Marshal(a.ID)
		pb := make([]byte, 0, len(b.predictHead)+len(id)+len(b.predictTail))
		pb = append(append(append(pb, b.predictHead...), id...), b.predictTail...)
		_, err = c.PredictRaw(ctx, pb)
		return 2, err
	}
	// warm-up: not measured
	for i := 0; i < cfg.Warmup; i++ {
		if _, err := op(ctx, bodies[i%len(bodies)]); err != nil {
			return rep, fmt.Errorf("warm-up: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	return drive(ctx, cfg, rep, func(ctx context.Context, i int) (int, error) { return op(ctx, bodies[i%len(bodies)]) })
}

// drive runs op from cfg.Concurrency clients until cfg.Operations or the
// context ends, and fills rep's counts, throughput and latencies.
func drive(ctx context.Context, cfg LoadConfig, rep LoadReport, op func(ctx context.Context, i int) (int, error)) (LoadReport, error) {
	var (
		next     atomic.Int64
		mu       sync.Mutex
		lat      []float64
		errs     int
		requests int
		samples  []string
	)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(cfg.Operations) {
					return
				}
				t0 := time.Now()
				n, err := op(ctx, int(i))
				d := time.Since(t0)
				if err != nil && ctx.Err() != nil {
					return // stopped by the duration bound
				}
				mu.Lock()
				requests += n
				if err != nil {
					errs++
					if len(samples) < 5 {
						samples = append(samples, err.Error())
					}
				} else {
					lat = append(lat, float64(d.Microseconds())/1000)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	rep.Operations, rep.Requests, rep.Errors, rep.ErrorSamples, rep.Seconds = len(lat)+errs, requests, errs, samples, secs
	rep.OpsPerSec = float64(len(lat)) / secs
	rep.ReqPerSec = float64(requests) / secs
	if len(lat) > 0 {
		slices.Sort(lat)
		rep.P50, rep.P95, rep.P99, rep.Max = percentile(lat, 50), percentile(lat, 95), percentile(lat, 99), lat[len(lat)-1]
		var sum float64
		for _, v := range lat {
			sum += v
		}
		rep.Mean = sum / float64(len(lat))
	}
	return rep, nil
}

// percentile of sorted xs by the nearest-rank method.
func percentile(xs []float64, p float64) float64 {
	k := int(math.Ceil(p/100*float64(len(xs)))) - 1
	return xs[max(0, min(k, len(xs)-1))]
}

// loadBody holds pre-encoded request bodies, so the generator spends its
// CPU time on requests, not on JSON (it shares the machine with the
// server): the predict body is predictHead + the quoted adapted-model id +
// predictTail.
type loadBody struct {
	adapt, inline            []byte
	predictHead, predictTail []byte
}

// loadBodies pre-encodes a few distinct synthetic episodes, so the
// generator spends its CPU on sending, not on encoding.
func loadBodies(cfg LoadConfig, info ModelInfo) ([]loadBody, error) {
	size := 1
	for _, d := range info.InputShape {
		size *= d
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6c6f6164))
	example := func() Input {
		v := make([]float32, size)
		for i := range v {
			if rng.Float64() < 0.15 { // sparse "ink"
				v[i] = float32(rng.Float64())
			}
		}
		if cfg.PNG && len(info.InputShape) == 3 {
			return PNGInput(EncodePNG(v, info.InputShape[1], info.InputShape[2]))
		}
		return ArrayInput(v)
	}
	var out []loadBody
	for e := 0; e < 16; e++ {
		var sup Support
		for c := 0; c < cfg.Ways; c++ {
			for k := 0; k < cfg.Shots; k++ {
				sup.Inputs = append(sup.Inputs, example())
				sup.Labels = append(sup.Labels, c)
			}
		}
		var q []Input
		for i := 0; i < cfg.Queries; i++ {
			q = append(q, example())
		}
		a, err := json.Marshal(AdaptRequest{Model: cfg.Model, Support: sup, Steps: cfg.Steps})
		if err != nil {
			return nil, err
		}
		in, err := json.Marshal(PredictRequest{Model: cfg.Model, Support: &sup, Steps: cfg.Steps, Inputs: q})
		if err != nil {
			return nil, err
		}
		qs, err := json.Marshal(q)
		if err != nil {
			return nil, err
		}
		out = append(out, loadBody{adapt: a, inline: in, predictHead: []byte(`{"id":`), predictTail: append(append([]byte(`,"inputs":`), qs...), '}')})
	}
	return out, nil
}

// loadSentences are the load generator's source sentences (English user
// interface strings, short and long).
var loadSentences = []string{
	"Open the file",
	"Save the document before closing the window",
	"Print the current page",
	"The file could not be saved because the disk is full.",
	"Insert a new table",
	"Close all windows",
	"Do you want to save the changes you made to this document?",
	"New document",
	"Check for updates automatically",
	"The connection to the server was lost. Trying again in five seconds.",
	"Select a folder",
	"Undo the last action",
	"Show hidden files",
	"Export the page as a PDF file",
	"Your password must have at least eight characters.",
	"Rename",
}

// translateLoad is LoadTest's translate mode: each operation is one
// translate request of cfg.Queries sentences.
func translateLoad(ctx context.Context, c *Client, cfg LoadConfig, info ModelInfo) (LoadReport, error) {
	var rep LoadReport
	if info.Kind != KindTranslation {
		return rep, fmt.Errorf("model %s is a %s model; --mode translate needs a translation model", cfg.Model, info.Kind)
	}
	if cfg.Mode != "translate" {
		return rep, fmt.Errorf("model %s is a translation model: use --mode translate", cfg.Model)
	}
	if cfg.From == "" {
		cfg.From = "en"
	}
	if cfg.To == "" {
		for _, p := range info.Pairs {
			if _, t, ok := strings.Cut(p, "-"); ok && t != cfg.From {
				cfg.To = t
				break
			}
		}
	}
	if cfg.Beam == 0 {
		cfg.Beam = 1
	}
	var bodies [][]byte
	for e := 0; e < len(loadSentences); e++ {
		texts := make([]string, cfg.Queries)
		for i := range texts {
			texts[i] = loadSentences[(e+i)%len(loadSentences)]
		}
		b, err := json.Marshal(TranslateRequest{Model: cfg.Model, Texts: texts, From: cfg.From, To: cfg.To, Beam: &cfg.Beam})
		if err != nil {
			return rep, err
		}
		bodies = append(bodies, b)
	}
	op := func(ctx context.Context, i int) (int, error) {
		_, err := c.TranslateRaw(ctx, bodies[i%len(bodies)])
		return 1, err
	}
	for i := 0; i < cfg.Warmup; i++ {
		if _, err := op(ctx, i); err != nil {
			return rep, fmt.Errorf("warm-up: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	rep = LoadReport{Model: cfg.Model, Mode: "translate", Concurrency: cfg.Concurrency, Queries: cfg.Queries}
	rep, err := drive(ctx, cfg, rep, op)
	if err != nil {
		return rep, err
	}
	rep.SentencesPerSec = rep.OpsPerSec * float64(cfg.Queries)
	return rep, nil
}
