package runner

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := &Progress{W: &buf, Mode: Lines, Total: 100, Label: "meta", Interval: 10 * time.Second, Now: func() time.Time { return now }}
	p.Start(0)
	for step := 1; step <= 100; step++ {
		now = now.Add(time.Second) // 1 step per second
		p.Update(step, Field{"loss", 1.5})
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// first update, then one every 10 s, then the final one
	if len(lines) != 11 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	if want := "meta 1/100 (1%)  1.00 it/s  elapsed 1s  ETA 1m39s  loss 1.5"; lines[0] != want {
		t.Fatalf("first line %q, want %q", lines[0], want)
	}
	if !strings.HasPrefix(lines[10], "meta 100/100 (100%)") || strings.Contains(out, "\r") {
		t.Fatalf("last line %q", lines[10])
	}
}

func TestProgressBarAndQuiet(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := &Progress{W: &buf, Mode: Bar, Total: 4, Now: func() time.Time { return now }}
	p.Start(0)
	for step := 1; step <= 4; step++ {
		now = now.Add(time.Second)
		p.Update(step)
	}
	if !strings.Contains(buf.String(), "\r[") || !strings.HasSuffix(buf.String(), "\n") {
		t.Fatalf("bar output %q", buf.String())
	}
	buf.Reset()
	q := &Progress{W: &buf, Mode: Quiet, Total: 4}
	q.Start(0)
	q.Update(4)
	q.Println("x")
	if buf.Len() != 0 {
		t.Fatalf("quiet mode wrote %q", buf.String())
	}
}
