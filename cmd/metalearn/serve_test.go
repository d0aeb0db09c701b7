package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/serve"
)

// serveModels writes tiny random-init checkpoints for the serve tests.
func serveModels(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, s := range map[string]meta.Spec{
		"proto":  {Algorithm: "protonet", Dataset: "omniglot", Hidden: 8, Seed: 1},
		"fomaml": {Algorithm: "fomaml", Dataset: "omniglot", Hidden: 8, EvalSteps: 2, Seed: 2},
	} {
		b, err := meta.Build(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Save(filepath.Join(dir, name+serve.ModelExt), nil); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestServeBadFlags(t *testing.T) {
	dir := serveModels(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "--models is required"},
		{[]string{"serve", "--models", filepath.Join(dir, "nope")}, "not a readable directory"},
		{[]string{"serve", "--models", dir, "--workers", "-1"}, "--workers = -1"},
		{[]string{"serve", "--models", dir, "--cache-mb", "0"}, "--cache-mb = 0"},
		{[]string{"serve", "--models", dir, "--queue-timeout", "0s"}, "--queue-timeout"},
		{[]string{"serve", "--models", dir, "--addr", "256.0.0.1:1"}, "--addr 256.0.0.1:1"},
		{[]string{"serve", "loadtest", "--model", "proto"}, "give --url"},
		{[]string{"serve", "loadtest", "--model", "proto", "--url", "http://example.com:80"}, "only http://127.0.0.1"},
		{[]string{"serve", "loadtest", "--model", "proto", "--url", "http://127.0.0.1:1", "--models", dir}, "not both"},
		{[]string{"serve", "loadtest", "--url", "http://127.0.0.1:1"}, "--model is required"},
		{[]string{"serve", "loadtest", "--model", "../x", "--url", "http://127.0.0.1:1"}, "plain model name"},
		{[]string{"serve", "loadtest", "--model", "proto", "--models", dir, "--requests", "0"}, "--requests = 0"},
		{[]string{"serve", "loadtest", "--model", "proto", "--models", dir, "--duration", "1h"}, "--duration = 1h0m0s"},
		{[]string{"serve", "demo", "--model", "proto", "--models", dir, "--shots", "1,x"}, "--shots"},
		{[]string{"serve", "demo", "--model", "proto", "--url", "http://10.1.2.3:80"}, "only http://127.0.0.1"},
	}
	for _, tc := range cases {
		code, out, errs := runCLI(tc.args...)
		if code != 1 || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q (stdout %q), want one line containing %q", tc.args, code, errs, out, tc.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var servingRE = regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`)

func waitURL(t *testing.T, out func() string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := servingRE.FindStringSubmatch(out()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server did not start: %q", out())
	return ""
}

func TestServeRunsAndStops(t *testing.T) {
	dir := serveModels(t)
	var out, errb syncBuffer
	root := newRoot(&out, &errb)
	root.SetArgs([]string{"serve", "--models", dir, "--addr", "127.0.0.1:0", "--token", "tok", "--workers", "2"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- root.ExecuteContext(ctx) }()
	url := waitURL(t, out.String)
	c := &serve.Client{BaseURL: url, Token: "tok"}
	ms, err := c.Models(context.Background())
	if err != nil || len(ms) != 2 {
		t.Fatalf("models: %v %+v", err, ms)
	}
	if _, err := (&serve.Client{BaseURL: url}).Models(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("no token: %v", err)
	}
	cancel() // as SIGINT does
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "draining") || !strings.Contains(s, "stopped") {
		t.Fatalf("output %q", s)
	}
}

func TestServeLoadtestAndDemoCLI(t *testing.T) {
	dir := serveModels(t)
	code, out, errs := runCLI("serve", "loadtest", "--models", dir, "--model", "fomaml", "--requests", "8", "--concurrency", "2", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Report serve.LoadReport `json:"report"`
		Target string           `json:"target"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Report.Operations != 8 || rep.Report.Errors != 0 || rep.Report.P99 <= 0 || !strings.HasPrefix(rep.Target, "http://127.0.0.1:") {
		t.Fatalf("%+v", rep)
	}
	// text output
	code, out, errs = runCLI("serve", "loadtest", "--models", dir, "--model", "proto", "--requests", "4", "--concurrency", "1", "--mode", "inline", "--png")
	if code != 0 || !strings.Contains(out, "p99") || !strings.Contains(out, "errors 0") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	data := filepath.Join("..", "..", "..", "shared", "data", "omniglot", "images_evaluation.npz")
	if _, err := os.Stat(data); err != nil {
		t.Skip("Omniglot not available for the demo")
	}
	if testing.Short() {
		t.Skip("demo loads Omniglot")
	}
	code, out, errs = runCLI("serve", "demo", "--models", dir, "--model", "fomaml", "--users", "1", "--shots", "1", "--data-dir", filepath.Join("..", "..", "..", "shared", "data"))
	if code != 0 || !strings.Contains(out, "before") || !strings.Contains(out, "mean") {
		t.Fatalf("demo: exit %d: %s %s", code, out, errs)
	}
}

// SIGTERM drains and stops the server process (this test binary re-run as
// the metalearn command through TestMain's METALEARN_AS_MAIN switch).
func TestServeSIGTERM(t *testing.T) {
	dir := serveModels(t)
	cmd := exec.Command(os.Args[0], "serve", "--models", dir, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "METALEARN_AS_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var out syncBuffer
	eof := make(chan struct{})
	go func() {
		defer close(eof)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !servingRE.MatchString(out.String()) {
		if time.Now().After(deadline) {
			t.Skipf("the test binary did not start a server (TestMain switch missing?): %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	url := servingRE.FindStringSubmatch(out.String())[1]
	if resp, err := http.Get(url + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-eof: // all output read (Wait must come after the reads)
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit after SIGTERM: %q", out.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v (%q)", err, out.String())
	}
	if !strings.Contains(out.String(), "stopped") {
		t.Fatalf("output %q", out.String())
	}
}
