package serve

import (
	"embed"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// The web pages: a playground at / (draw symbols, adapt, classify live) and
// a run dashboard at /runs. Both are static files embedded in the binary;
// everything they show comes from the JSON API (POST /v1/adapt,
// POST /v1/predict, GET /v1/models and the read-only runs API of runs.go),
// with the same token and limits as any other client.

//go:embed web
var webFiles embed.FS

// webAssets are the files served under /static/, with their types. Nothing
// else from the embedded tree is reachable.
var webAssets = map[string]string{
	"style.css":      "text/css; charset=utf-8",
	"common.js":      "text/javascript; charset=utf-8",
	"chart.js":       "text/javascript; charset=utf-8",
	"playground.js":  "text/javascript; charset=utf-8",
	"dashboard.js":   "text/javascript; charset=utf-8",
	"favicon.svg":    "image/svg+xml",
	"index.html":     "",
	"dashboard.html": "",
}

// ContentSecurityPolicy is sent with every response: scripts, styles,
// images and connections from this origin only; no inline script or style,
// no eval, no plugins, no framing, no form posts.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// site wraps the API handler with the pages and the runs API.
type site struct {
	api     http.Handler // the JSON API; nil for a dashboard-only server
	runs    *runStore    // nil without a runs directory
	token   string
	observe func(route string, code int, d time.Duration) // request metrics, may be nil
}

// site is the server's handler: the JSON API, the web pages and, with
// Config.RunsDir, the runs API.
func (s *Server) site() http.Handler {
	return &site{api: http.HandlerFunc(s.serveHTTP), runs: s.runs, token: s.cfg.Token, observe: s.met.observe}
}

// DashboardHandler serves the run dashboard alone (`metalearn dash DIR`):
// the page at / and the read-only runs API over the run folders directly
// under runsDir. A non-empty token is required on the API as
// "Authorization: Bearer TOKEN".
func DashboardHandler(runsDir, token string) (http.Handler, error) {
	rs, err := newRunStore(runsDir)
	if err != nil {
		return nil, err
	}
	return &site{runs: rs, token: token}, nil
}

// webRoute names a request for the metrics and tells whether it belongs to
// the pages (""), else the API.
func webRoute(p string) string {
	switch {
	case p == "/", p == "/index.html":
		return "/"
	case p == "/runs":
		return "/runs"
	case strings.HasPrefix(p, "/static/"), p == "/favicon.ico":
		return "/static"
	case p == "/v1/runs", strings.HasPrefix(p, "/v1/runs/"):
		return "/v1/runs"
	}
	return ""
}

func (h *site) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	hd := rw.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("X-Content-Type-Options", "nosniff")
	route := webRoute(r.URL.Path)
	page := route == "/" || route == "/runs"
	// Same origin only: the server never sends CORS headers, and refuses
	// requests that a browser marks as coming from another site (the
	// pages themselves may be opened from anywhere, as a navigation).
	if !page && crossOrigin(r) {
		writeError(rw, &apiError{http.StatusForbidden, "cross-origin requests are refused (same origin only)"})
		return
	}
	if route == "" {
		if h.api == nil {
			writeError(rw, &apiError{http.StatusNotFound, fmt.Sprintf("no route %s (this server shows the run dashboard only: GET /, GET /v1/runs)", r.URL.Path)})
			return
		}
		h.api.ServeHTTP(rw, r)
		return
	}
	start := time.Now()
	w := &statusWriter{ResponseWriter: rw}
	defer func() {
		if p := recover(); p != nil {
			if w.code == 0 {
				writeError(w, &apiError{http.StatusInternalServerError, fmt.Sprintf("internal error: %v", p)})
			}
		}
		if h.observe != nil {
			h.observe(route, w.code, time.Since(start))
		}
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		writeError(w, &apiError{http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: use GET", r.Method, r.URL.Path)})
		return
	}
	switch route {
	case "/":
		if h.api == nil {
			h.static(w, r, "dashboard.html")
			return
		}
		h.static(w, r, "index.html")
	case "/runs":
		if h.runs == nil {
			writeError(w, &apiError{http.StatusNotFound, "no run dashboard: start the server with --runs DIR"})
			return
		}
		h.static(w, r, "dashboard.html")
	case "/static":
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if r.URL.Path == "/favicon.ico" {
			name = "favicon.svg"
		}
		h.static(w, r, name)
	case "/v1/runs":
		if h.runs == nil {
			writeError(w, &apiError{http.StatusNotFound, "no run dashboard: start the server with --runs DIR"})
			return
		}
		if !h.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metalearn"`)
			writeError(w, &apiError{http.StatusUnauthorized, "missing or wrong bearer token (Authorization: Bearer TOKEN)"})
			return
		}
		if h.token == "" && !plainHost(r.Host) {
			// Without a token, only an IP literal or localhost may name
			// the server: a DNS name could be rebound to 127.0.0.1 by
			// another site to read the run folders.
			writeError(w, &apiError{http.StatusForbidden, fmt.Sprintf("host %q refused: without --token the runs API answers only to an IP address or localhost", r.Host)})
			return
		}
		if err := h.runs.serve(w, r); err != nil {
			writeError(w, err)
		}
	}
}

// static writes one embedded file; unknown names are 404.
func (h *site) static(w http.ResponseWriter, r *http.Request, name string) {
	ctype, ok := webAssets[name]
	if !ok || name != path.Clean(name) {
		writeError(w, &apiError{http.StatusNotFound, fmt.Sprintf("no file %s", r.URL.Path)})
		return
	}
	b, err := fs.ReadFile(webFiles, "web/"+name)
	if err != nil {
		writeError(w, &apiError{http.StatusNotFound, fmt.Sprintf("no file %s", r.URL.Path)})
		return
	}
	if ctype == "" {
		ctype = "text/html; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// authorized checks the bearer token, as the API does.
func (h *site) authorized(r *http.Request) bool { return bearerOK(r, h.token) }

// crossOrigin reports whether a browser marked r as sent by another
// origin: an Origin header naming another scheme/host/port (or "null"), or
// Sec-Fetch-Site other than same-origin / none.
func crossOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return true
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return !strings.EqualFold(u.Scheme, scheme) || !strings.EqualFold(u.Host, r.Host)
}

// plainHost reports whether the Host header is an IP literal or localhost.
func plainHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil
}
