package serve

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// serveRaw sends a request with a raw request-URI straight to h (no client
// path cleaning), with optional headers.
func serveRaw(h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.Host = "127.0.0.1:8090"
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPagesCSPAndNoInlineCode(t *testing.T) {
	dir := writeModels(t, "proto")
	s, err := New(Config{ModelDir: dir, RunsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.stopOnce.Do(func() { close(s.stop) })
	h := s.Handler()
	for _, tc := range []struct{ path, ctype string }{
		{"/", "text/html"}, {"/runs", "text/html"}, {"/static/style.css", "text/css"}, {"/static/playground.js", "text/javascript"},
		{"/static/common.js", "text/javascript"}, {"/static/chart.js", "text/javascript"}, {"/static/dashboard.js", "text/javascript"},
		{"/favicon.ico", "image/svg+xml"}, {"/v1/models", "application/json"}, {"/healthz", "application/json"},
	} {
		rec := serveRaw(h, "GET", tc.path, nil)
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.ctype) {
			t.Errorf("GET %s: %d %q, want 200 %s", tc.path, rec.Code, rec.Header().Get("Content-Type"), tc.ctype)
		}
		csp := rec.Header().Get("Content-Security-Policy")
		if csp != ContentSecurityPolicy || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "style-src 'self'") ||
			strings.Contains(csp, "unsafe") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("GET %s: CSP %q", tc.path, csp)
		}
		for _, k := range []string{"X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"} {
			if rec.Header().Get(k) == "" {
				t.Errorf("GET %s: no %s", tc.path, k)
			}
		}
		if v := rec.Header().Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("GET %s: Access-Control-Allow-Origin %q", tc.path, v)
		}
	}
	// The embedded HTML has no inline script, style or event handler, and
	// loads nothing from another origin.
	inline := []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]`),                 // a script with a body
		regexp.MustCompile(`(?i)<script(?:(?:\s+(?:defer|type="[^"]*"))*)\s*>`), // a script without src
		regexp.MustCompile(`(?i)<style`),
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
		regexp.MustCompile(`(?i)javascript:`),
		regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`),
	}
	err = fs.WalkDir(webFiles, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(webFiles, p)
		if _, ok := webAssets[filepath.Base(p)]; !ok {
			t.Errorf("embedded file %s is not in webAssets (unreachable)", p)
		}
		if strings.HasSuffix(p, ".html") {
			for _, re := range inline {
				if m := re.Find(b); m != nil {
					t.Errorf("%s: inline code or remote load %q (%s)", p, m, re)
				}
			}
		}
		if strings.HasSuffix(p, ".js") {
			for _, bad := range []string{"eval(", "new Function", "innerHTML", "setAttribute(\"style\"", "http://", "https://"} {
				if strings.Contains(strings.ReplaceAll(string(b), `"http://www.w3.org/2000/svg"`, ""), bad) {
					t.Errorf("%s uses %q", p, bad)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/static/", "/static/nope.js", "/static/../server.go", "/static/web/index.html", "/static/%2e%2e/web.go", "/index.htm"} {
		if rec := serveRaw(h, "GET", p, nil); rec.Code != 404 {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
	}
	if rec := serveRaw(h, "POST", "/", nil); rec.Code != 405 {
		t.Errorf("POST /: %d, want 405", rec.Code)
	}
}

func TestSameOriginOnly(t *testing.T) {
	dir := writeModels(t, "proto")
	_, ts := newTest(t, Config{ModelDir: dir, RunsDir: t.TempDir()})
	h := ts.Config.Handler
	host := strings.TrimPrefix(ts.URL, "http://")
	e := randomEpisode(1, 3, 1, 1)
	body, _ := json.Marshal(AdaptRequest{Model: "proto", Support: Support{Inputs: e.sIn, Labels: e.sl}})
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		want               int
	}{
		{"preflight", "OPTIONS", "/v1/adapt", map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}, 403},
		{"cross-origin post", "POST", "/v1/adapt", map[string]string{"Origin": "http://evil.example"}, 403},
		{"null origin", "POST", "/v1/predict", map[string]string{"Origin": "null"}, 403},
		{"other port", "GET", "/v1/models", map[string]string{"Origin": "http://127.0.0.1:1"}, 403},
		{"https origin", "GET", "/v1/models", map[string]string{"Origin": "https://" + host}, 403},
		{"sec-fetch cross-site", "GET", "/v1/runs", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"sec-fetch same-site", "GET", "/v1/models", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"script from elsewhere", "GET", "/static/playground.js", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same origin", "GET", "/v1/models", map[string]string{"Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}, 200},
		{"no origin (curl)", "GET", "/v1/models", nil, 200},
		{"navigation from elsewhere", "GET", "/", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, 200},
	} {
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(string(body)))
		req.Host = host
		for k, v := range tc.hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, rec.Code, rec.Body.Bytes(), tc.want)
		}
		for k := range rec.Header() {
			if strings.HasPrefix(strings.ToLower(k), "access-control-") {
				t.Errorf("%s: CORS header %s: %q", tc.name, k, rec.Header().Get(k))
			}
		}
	}
	// Through a real client: same origin (as the page's fetch) works.
	code, b := post(t, ts.URL+"/v1/adapt", "", body)
	if code != 200 {
		t.Fatalf("adapt: %d %s", code, b)
	}
}

// runsFixture builds a runs directory with real runs, decoys and links
// that point outside it; it returns the runs dir and the secret that must
// never be served.
func runsFixture(t *testing.T) (string, string) {
	t.Helper()
	base := t.TempDir()
	runs := filepath.Join(base, "runs")
	outside := filepath.Join(base, "outside")
	const secret = "SECRET-OUTSIDE-RUNS"
	for _, d := range []string{runs, outside, filepath.Join(runs, "a"), filepath.Join(runs, "b"), filepath.Join(runs, "c"), filepath.Join(runs, "empty")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(outside, "config.yaml"), secret)
	write(filepath.Join(outside, "metrics.jsonl"), `{"step":1,"split":"`+secret+`","metric":"loss","value":1,"wall":0}`+"\n")
	write(filepath.Join(outside, "summary.json"), `{"secret":"`+secret+`"}`)
	write(filepath.Join(runs, "a", "config.yaml"), "kind: meta\nseed: 1\n")
	write(filepath.Join(runs, "a", "metrics.jsonl"), `{"step":1,"split":"train","metric":"loss","value":2.5,"wall":0.1}`+"\n"+
		`{"step":2,"split":"train","metric":"loss","value":2,"wall":0.2}`+"\n")
	write(filepath.Join(runs, "a", "summary.json"), `{"test":{"accuracy":0.9}}`)
	write(filepath.Join(runs, "b", "metrics.jsonl"), `{"step":1,"split":"val","metric":"accuracy","value":0.5,"wall":1}`+"\n")
	write(filepath.Join(runs, "c", "config.yaml"), "kind: meta\n")
	write(filepath.Join(runs, "notes.txt"), "not a run")
	links := map[string]string{
		filepath.Join(runs, "evil"):                   outside,                                   // a run folder that is a link out
		filepath.Join(runs, "inside-link"):            filepath.Join(runs, "a"),                  // a link to a run inside: not listed either
		filepath.Join(runs, "c", "metrics.jsonl"):     filepath.Join(outside, "metrics.jsonl"),   // files that are links out
		filepath.Join(runs, "c", "summary.json"):      filepath.Join(outside, "summary.json"),    //
		filepath.Join(runs, "b", "config.yaml"):       "../../outside/config.yaml",               // relative link out
		filepath.Join(runs, "empty", "metrics.jsonl"): filepath.Join(runs, "a", "metrics.jsonl"), // link inside: still not read
	}
	for l, target := range links {
		if err := os.Symlink(target, l); err != nil {
			t.Skipf("symbolic links unsupported here: %v", err)
		}
	}
	return runs, secret
}

func TestRunsAPI(t *testing.T) {
	runs, secret := runsFixture(t)
	h, err := DashboardHandler(runs, "")
	if err != nil {
		t.Fatal(err)
	}
	get := func(target string) (int, []byte) {
		rec := serveRaw(h, "GET", target, nil)
		if strings.Contains(rec.Body.String(), secret) {
			t.Fatalf("GET %s leaked a file from outside the runs directory: %s", target, rec.Body.Bytes())
		}
		return rec.Code, rec.Body.Bytes()
	}
	code, b := get("/v1/runs")
	if code != 200 {
		t.Fatalf("list: %d %s", code, b)
	}
	var list struct{ Runs []RunInfo }
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range list.Runs {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, ","); got != "a,b,c" {
		t.Fatalf("listed %q, want a,b,c (no links, no plain files, no folder without a run)", got)
	}
	if r := list.Runs[0]; r.Status != "finished" || !r.HasConfig || !r.HasSummary || r.MetricsBytes == 0 {
		t.Errorf("run a: %+v", r)
	}
	if r := list.Runs[1]; r.HasConfig || r.HasSummary || r.Status == "finished" {
		t.Errorf("run b (config.yaml is a link out): %+v", r)
	}

	code, b = get("/v1/runs/a")
	d := decodeJSON[RunDetail](t, b)
	if code != 200 || d.Config != "kind: meta\nseed: 1\n" || string(d.Summary) != `{"test":{"accuracy":0.9}}` {
		t.Errorf("detail a: %d %s", code, b)
	}
	code, b = get("/v1/runs/c")
	if d := decodeJSON[RunDetail](t, b); code != 200 || d.Summary != nil || d.HasSummary {
		t.Errorf("detail c (summary.json is a link out): %d %s", code, b)
	}
	code, b = get("/v1/runs/c/metrics")
	if c := decodeJSON[MetricsChunk](t, b); code != 200 || len(c.Records) != 0 {
		t.Errorf("metrics c (a link out): %d %s", code, b)
	}
	code, b = get("/v1/runs/a/metrics")
	c := decodeJSON[MetricsChunk](t, b)
	if code != 200 || len(c.Records) != 2 || c.Records[1].Value != 2 || c.Next != c.Size || c.Reset {
		t.Fatalf("metrics a: %d %s", code, b)
	}

	// Path traversal, encoded or not, links and odd names: all 404, nothing read.
	for _, p := range []string{
		"/v1/runs/..", "/v1/runs/../outside", "/v1/runs/%2e%2e", "/v1/runs/%2e%2e/metrics", "/v1/runs/..%2foutside",
		"/v1/runs/..%2Foutside/metrics", "/v1/runs/a/../../outside", "/v1/runs/a%2f..%2f..%2foutside", "/v1/runs/evil",
		"/v1/runs/evil/metrics", "/v1/runs/inside-link", "/v1/runs/notes.txt", "/v1/runs/empty", "/v1/runs/empty/metrics",
		"/v1/runs/%2foutside", "/v1/runs//etc/passwd", "/v1/runs/a/config.yaml", "/v1/runs/a/metrics/x", "/v1/runs/.hidden",
		"/v1/runs/a%00", "/v1/runs/" + strings.Repeat("x", 300),
	} {
		if code, b := get(p); code != 404 {
			t.Errorf("GET %s: %d %s, want 404", p, code, b)
		}
	}
	if code, _ := get("/v1/runs/a/metrics?offset=-1"); code != 400 {
		t.Errorf("offset -1: %d, want 400", code)
	}
	if code, _ := get("/v1/runs/a/metrics?offset=x"); code != 400 {
		t.Errorf("offset x: %d, want 400", code)
	}
	if rec := serveRaw(h, "POST", "/v1/runs", nil); rec.Code != 405 {
		t.Errorf("POST /v1/runs: %d, want 405", rec.Code)
	}
	// A dashboard-only server has no model API.
	if code, _ := get("/v1/models"); code != 404 {
		t.Errorf("dashboard-only /v1/models: %d, want 404", code)
	}
	if code, b := get("/"); code != 200 || !strings.Contains(string(b), "dashboard.js") {
		t.Errorf("dashboard-only /: %d", code)
	}
}

func TestRunsMetricsIncremental(t *testing.T) {
	runs := t.TempDir()
	dir := filepath.Join(runs, "live")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "metrics.jsonl")
	line := func(step int, v string) string {
		return `{"step":` + string(rune('0'+step)) + `,"split":"train","metric":"loss","value":` + v + `,"wall":0}` + "\n"
	}
	appendStr := func(s string) {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	h, err := DashboardHandler(runs, "")
	if err != nil {
		t.Fatal(err)
	}
	chunk := func(off int64) MetricsChunk {
		t.Helper()
		rec := serveRaw(h, "GET", "/v1/runs/live/metrics?offset="+itoa(off), nil)
		if rec.Code != 200 {
			t.Fatalf("metrics: %d %s", rec.Code, rec.Body.Bytes())
		}
		return decodeJSON[MetricsChunk](t, rec.Body.Bytes())
	}
	appendStr(line(1, "3") + line(2, "2"))
	c := chunk(0)
	if len(c.Records) != 2 {
		t.Fatalf("first chunk: %+v", c)
	}
	// A line being written is not returned until it is complete.
	appendStr(line(3, "1")[:20])
	c2 := chunk(c.Next)
	if len(c2.Records) != 0 || c2.Next != c.Next || c2.Reset {
		t.Fatalf("partial line: %+v", c2)
	}
	appendStr(line(3, "1")[20:] + "not json\n")
	c3 := chunk(c2.Next)
	if len(c3.Records) != 1 || c3.Records[0].Step != 3 || c3.BadLines != 1 || c3.Reset {
		t.Fatalf("after completion: %+v", c3)
	}
	// A resumed run rewrites a shorter log: the reader starts again.
	if err := os.WriteFile(p, []byte(line(1, "3")), 0o644); err != nil {
		t.Fatal(err)
	}
	c4 := chunk(c3.Next)
	if !c4.Reset || len(c4.Records) != 1 || c4.Offset != 0 {
		t.Fatalf("after a rewrite: %+v", c4)
	}
	// An offset inside a line (not after a newline) also restarts.
	c5 := chunk(5)
	if !c5.Reset || len(c5.Records) != 1 {
		t.Fatalf("offset mid-line: %+v", c5)
	}
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestRunsAuthAndHost(t *testing.T) {
	runs, _ := runsFixture(t)
	dir := writeModels(t, "proto")
	_, ts := newTest(t, Config{ModelDir: dir, RunsDir: runs, Token: "s3cret"})
	if code, _ := get(t, ts.URL+"/v1/runs", ""); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _ := get(t, ts.URL+"/v1/runs/a/metrics", "wrong"); code != 401 {
		t.Errorf("wrong token: %d, want 401", code)
	}
	if code, b := get(t, ts.URL+"/v1/runs", "s3cret"); code != 200 {
		t.Errorf("token: %d %s", code, b)
	}
	// The pages themselves hold no data and need no token.
	if code, _ := get(t, ts.URL+"/runs", ""); code != 200 {
		t.Errorf("/runs page: %d", code)
	}
	// Without a token, a DNS name (rebinding) cannot reach the runs API.
	h, _ := DashboardHandler(runs, "")
	for host, want := range map[string]int{"evil.example:8090": 403, "127.0.0.1:8090": 200, "localhost:8090": 200, "[::1]:8090": 200} {
		if rec := serveRaw(h, "GET", "/v1/runs", map[string]string{"Host": host}); rec.Code != want {
			t.Errorf("Host %s: %d, want %d", host, rec.Code, want)
		}
	}
	// Without --runs there is no dashboard.
	_, ts2 := newTest(t, Config{ModelDir: dir})
	for _, p := range []string{"/runs", "/v1/runs"} {
		if code, _ := get(t, ts2.URL+p, ""); code != 404 {
			t.Errorf("no runs dir, %s: %d, want 404", p, code)
		}
	}
	if _, err := New(Config{ModelDir: dir, RunsDir: filepath.Join(runs, "missing")}); err == nil {
		t.Error("a missing runs directory was accepted")
	}
}
