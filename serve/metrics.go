package serve

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// latencyBuckets are the upper bounds (seconds) of the latency histograms.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// metrics collects counters and histograms and writes them in the
// Prometheus text exposition format (version 0.0.4).
type metrics struct {
	mu           sync.Mutex
	requests     map[[2]string]uint64 // route, code
	latency      map[string]*histogram
	adaptations  map[string]uint64 // model
	predictions  map[string]uint64 // model
	translations map[string]uint64 // model: translate requests
	panics       uint64
}

type histogram struct {
	counts []uint64 // per bucket (not cumulative), plus +Inf
	sum    float64
	n      uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[[2]string]uint64{}, latency: map[string]*histogram{},
		adaptations: map[string]uint64{}, predictions: map[string]uint64{}, translations: map[string]uint64{}}
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{route, strconv.Itoa(code)}]++
	h := m.latency[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		m.latency[route] = h
	}
	s := d.Seconds()
	i := sort.SearchFloat64s(latencyBuckets, s) // first bound >= s
	h.counts[i]++
	h.sum += s
	h.n++
}

func (m *metrics) count(which map[string]uint64, model string) {
	m.mu.Lock()
	which[model]++
	m.mu.Unlock()
}

func (m *metrics) panicked() {
	m.mu.Lock()
	m.panics++
	m.mu.Unlock()
}

// gauges are the point-in-time values written with the counters.
type gauges struct {
	cacheEntries int
	cacheBytes   int64
	evictions    map[string]uint64
	running      int64
	waiting      int64
	rejected     [4]uint64
	models       int
	workers      int
	queue        int64
	// translate batches decoded (batch.go)
	translateBatches uint64
}

func (m *metrics) write(w io.Writer, g gauges) {
	m.mu.Lock()
	defer m.mu.Unlock()
	head := func(name, typ, help string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	head("metalearn_http_requests_total", "counter", "HTTP requests by route and status code.")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		fmt.Fprintf(w, "metalearn_http_requests_total{route=%s,code=%s} %d\n", quote(k[0]), quote(k[1]), m.requests[k])
	}
	head("metalearn_http_request_duration_seconds", "histogram", "HTTP request latency by route.")
	for _, route := range sortedKeys(m.latency) {
		h := m.latency[route]
		var cum uint64
		for i, b := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "metalearn_http_request_duration_seconds_bucket{route=%s,le=%s} %d\n", quote(route), quote(strconv.FormatFloat(b, 'g', -1, 64)), cum)
		}
		fmt.Fprintf(w, "metalearn_http_request_duration_seconds_bucket{route=%s,le=\"+Inf\"} %d\n", quote(route), h.n)
		fmt.Fprintf(w, "metalearn_http_request_duration_seconds_sum{route=%s} %s\n", quote(route), strconv.FormatFloat(h.sum, 'g', -1, 64))
		fmt.Fprintf(w, "metalearn_http_request_duration_seconds_count{route=%s} %d\n", quote(route), h.n)
	}
	head("metalearn_adaptations_total", "counter", "Adaptations (adapt requests and inline-support predictions) by model.")
	for _, k := range sortedKeys(m.adaptations) {
		fmt.Fprintf(w, "metalearn_adaptations_total{model=%s} %d\n", quote(k), m.adaptations[k])
	}
	head("metalearn_predictions_total", "counter", "Prediction requests served by model.")
	for _, k := range sortedKeys(m.predictions) {
		fmt.Fprintf(w, "metalearn_predictions_total{model=%s} %d\n", quote(k), m.predictions[k])
	}
	head("metalearn_translations_total", "counter", "Translate requests served by model.")
	for _, k := range sortedKeys(m.translations) {
		fmt.Fprintf(w, "metalearn_translations_total{model=%s} %d\n", quote(k), m.translations[k])
	}
	head("metalearn_translate_batches_total", "counter", "Batches of concurrent translate requests decoded (requests / batches is the mean batch).")
	fmt.Fprintf(w, "metalearn_translate_batches_total %d\n", g.translateBatches)
	head("metalearn_cache_entries", "gauge", "Adapted models in the cache.")
	fmt.Fprintf(w, "metalearn_cache_entries %d\n", g.cacheEntries)
	head("metalearn_cache_bytes", "gauge", "Bytes of adapted-model state in the cache.")
	fmt.Fprintf(w, "metalearn_cache_bytes %d\n", g.cacheBytes)
	head("metalearn_cache_evictions_total", "counter", "Adapted models evicted, by reason.")
	for _, r := range []string{"capacity", "bytes", "ttl"} {
		fmt.Fprintf(w, "metalearn_cache_evictions_total{reason=%s} %d\n", quote(r), g.evictions[r])
	}
	head("metalearn_workers", "gauge", "Size of the worker pool.")
	fmt.Fprintf(w, "metalearn_workers %d\n", g.workers)
	head("metalearn_requests_running", "gauge", "Requests holding a worker.")
	fmt.Fprintf(w, "metalearn_requests_running %d\n", g.running)
	head("metalearn_requests_queued", "gauge", "Requests waiting for a worker.")
	fmt.Fprintf(w, "metalearn_requests_queued %d\n", g.waiting)
	head("metalearn_requests_rejected_total", "counter", "Requests refused by the worker pool, by reason.")
	fmt.Fprintf(w, "metalearn_requests_rejected_total{reason=\"queue_full\"} %d\n", g.rejected[0])
	fmt.Fprintf(w, "metalearn_requests_rejected_total{reason=\"queue_timeout\"} %d\n", g.rejected[1])
	fmt.Fprintf(w, "metalearn_requests_rejected_total{reason=\"memory_budget\"} %d\n", g.rejected[2])
	fmt.Fprintf(w, "metalearn_requests_rejected_total{reason=\"connections\"} %d\n", g.rejected[3])
	head("metalearn_models_loaded", "gauge", "Base models loaded.")
	fmt.Fprintf(w, "metalearn_models_loaded %d\n", g.models)
	head("metalearn_handler_panics_total", "counter", "Handler panics recovered (answered 500).")
	fmt.Fprintf(w, "metalearn_handler_panics_total %d\n", m.panics)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// quote writes a label value with the escapes of the text format.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
