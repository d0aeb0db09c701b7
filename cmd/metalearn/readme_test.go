package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/metalearn/metalearn/data"
)

// readmeBlock is one ```sh block of README.md and the test directive in
// the HTML comment just before it, if any.
type readmeBlock struct {
	line    int    // of the opening fence
	heading string // the section it is in
	text    string // the block's commands
	variant string // the shortened commands the test runs instead ("" = the block itself)
	note    string // the directive's first line
}

var (
	fenceOpen  = regexp.MustCompile("^```sh\\s*$")
	directive  = regexp.MustCompile(`^<!-- test(?: \((.*)\))?:\s*$`)
	metalearnC = regexp.MustCompile(`(?:go run \./cmd/metalearn|\./metalearn)\s+(.*)`)
)

// parseReadme returns the README's sh blocks in order.
func parseReadme(src string) ([]readmeBlock, error) {
	lines := strings.Split(src, "\n")
	var blocks []readmeBlock
	heading := ""
	var pendingVariant, pendingNote string
	pendingAt := -1
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(l, "#"))
		case directive.MatchString(l):
			m := directive.FindStringSubmatch(l)
			var body []string
			j := i + 1
			for ; j < len(lines) && strings.TrimSpace(lines[j]) != "-->"; j++ {
				body = append(body, lines[j])
			}
			if j == len(lines) {
				return nil, fmt.Errorf("README.md:%d: test directive without a closing -->", i+1)
			}
			pendingVariant, pendingNote, pendingAt = strings.Join(body, "\n"), m[1], j
			i = j
		case fenceOpen.MatchString(l):
			var body []string
			j := i + 1
			for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
				body = append(body, lines[j])
			}
			b := readmeBlock{line: i + 1, heading: heading, text: strings.Join(body, "\n")}
			if pendingAt >= 0 && pendingAt == i-1 {
				b.variant, b.note = pendingVariant, pendingNote
			} else if pendingAt >= 0 {
				return nil, fmt.Errorf("README.md:%d: a test directive must come right before its ```sh block", pendingAt+1)
			}
			pendingAt = -1
			blocks = append(blocks, b)
			i = j
		}
	}
	return blocks, nil
}

// metalearnCommands lists the metalearn invocations of a script: the
// subcommand words and the set of flag names of each.
func metalearnCommands(script string) []struct {
	sub   string
	flags map[string]bool
} {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var out []struct {
		sub   string
		flags map[string]bool
	}
	for _, l := range strings.Split(script, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "#") {
			continue
		}
		m := metalearnC.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		args := m[1]
		if i := strings.Index(args, " #"); i >= 0 {
			args = args[:i]
		}
		var sub []string
		flags := map[string]bool{}
		for _, f := range strings.Fields(args) {
			switch {
			case f == "&" || f == "|" || f == ";" || f == "&&":
				goto done
			case strings.HasPrefix(f, "-"):
				flags[strings.SplitN(strings.TrimLeft(f, "-"), "=", 2)[0]] = true
			case len(flags) == 0:
				sub = append(sub, f)
			}
		}
	done:
		out = append(out, struct {
			sub   string
			flags map[string]bool
		}{strings.Join(sub, " "), flags})
	}
	return out
}

// A shortened variant runs the same metalearn commands, in the same order,
// with at least the flags the README shows (values may be smaller), so the
// README's own command lines are checked too: a renamed or misspelt flag
// in the README fails here.
func checkVariant(b readmeBlock) error {
	orig, short := metalearnCommands(b.text), metalearnCommands(b.variant)
	if len(orig) != len(short) {
		return fmt.Errorf("README.md:%d: the block has %d metalearn commands, its test variant %d", b.line, len(orig), len(short))
	}
	for i := range orig {
		if orig[i].sub != short[i].sub {
			return fmt.Errorf("README.md:%d: command %d is %q in the block but %q in the test variant", b.line, i+1, orig[i].sub, short[i].sub)
		}
		for f := range orig[i].flags {
			if !short[i].flags[f] {
				return fmt.Errorf("README.md:%d: %q: the test variant drops --%s", b.line, orig[i].sub, f)
			}
		}
	}
	return nil
}

func TestReadmeParsing(t *testing.T) {
	src, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parseReadme(string(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) < 5 {
		t.Fatalf("found %d sh blocks in README.md", len(blocks))
	}
	for _, b := range blocks {
		if b.variant != "" {
			if err := checkVariant(b); err != nil {
				t.Error(err)
			}
		}
	}
	// the check catches a variant that drops a flag or changes a command
	bad := readmeBlock{line: 1, text: "go run ./cmd/metalearn meta train --iterations 9 --model-out x", variant: "go run ./cmd/metalearn meta train --iterations 1"}
	if err := checkVariant(bad); err == nil || !strings.Contains(err.Error(), "--model-out") {
		t.Errorf("dropped flag: %v", err)
	}
	bad.variant = "go run ./cmd/metalearn meta eval --iterations 1 --model-out x"
	if err := checkVariant(bad); err == nil {
		t.Error("changed command accepted")
	}
}

// TestREADME runs every ```sh block of README.md, in order, in a temporary
// copy of the repository's examples/, reference/ and scripts/, with the
// data folder of data.ResolveDir. Where the README gives a shortened
// variant in an HTML comment just before a block (long runs: the real
// time is written next to the command), the variant runs instead. The
// commands are the README's own text: `go run ./cmd/metalearn` and
// `go build -o X ./cmd/metalearn` stand for this test binary acting as the
// CLI; `go test ./...` (the suite itself) is not run from inside it. The
// whole test uses well under a minute of CPU (it logs the CPU time of each
// block); -short skips it.
func TestREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the README runner takes about a minute")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not found (the serve section uses it)")
	}
	dd := data.ResolveDir("")
	for _, need := range []string{"omniglot/images_background.npz", "mtr-mulan/atp1d.arff", "office-caltech10-surf", "school/school.csv", "mnist", "parkinsons-telemonitoring", "lo-mt/test/en-de.tsv"} {
		if _, err := os.Stat(filepath.Join(dd.Path, need)); err != nil {
			t.Skipf("the README needs the data folder; %s is missing in %s (%s)", need, dd.Path, dd.Source)
		}
	}
	src, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parseReadme(string(src))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	for _, d := range []string{"examples", "reference", "scripts"} {
		if err := copyTree(filepath.Join("..", "..", d), filepath.Join(work, d)); err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(t.TempDir(), "metalearn-cli")
	wrapper := fmt.Sprintf("#!/bin/sh\nMETALEARN_AS_MAIN=1 exec %s \"$@\"\n", strconv.Quote(exe))
	if err := os.WriteFile(cli, []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	prologue := `set -eu
go() {
	case "$1 ${2:-}" in
	"run ./cmd/metalearn") shift 2; "$ML" "$@" ;;
	"build -o") [ "${4:-}" = ./cmd/metalearn ] && cp "$ML" "$3" ;;
	"test ./...") echo "(README test: the test suite is not run from inside itself)" ;;
	*) echo "README test: no stand-in for: go $*" >&2; return 1 ;;
	esac
}
`
	torch := exec.Command("/usr/bin/python3", "-c", "import torch").Run() == nil
	port, dashPort := freePort(t), freePort(t)
	start := time.Now()
	var totalCPU time.Duration
	for _, b := range blocks {
		script := b.text
		if b.variant != "" {
			if err := checkVariant(b); err != nil {
				t.Fatal(err)
			}
			script = b.variant
		}
		if !torch {
			var kept []string
			for _, l := range strings.Split(script, "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), "/usr/bin/python3") {
					t.Logf("README.md:%d: skipping %q: /usr/bin/python3 cannot import torch", b.line, l)
					continue
				}
				kept = append(kept, l)
			}
			script = strings.Join(kept, "\n")
		}
		script = strings.ReplaceAll(script, "127.0.0.1:8080", "127.0.0.1:"+strconv.Itoa(port))
		script = strings.ReplaceAll(script, "127.0.0.1:8090", "127.0.0.1:"+strconv.Itoa(dashPort))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-c", prologue+script)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "ML="+cli, data.EnvDataDir+"="+dd.Path, "METALEARN_AS_MAIN=")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		t0 := time.Now()
		err := cmd.Run()
		cancel()
		what := "block"
		if b.variant != "" {
			what = "shortened variant"
		}
		if err != nil {
			t.Fatalf("README.md:%d (%s, %s) failed: %v\n%s", b.line, b.heading, what, err, tail(out.String(), 4000))
		}
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		totalCPU += cpu
		t.Logf("README.md:%d (%s, %s): ok in %.1fs (%.1fs CPU)", b.line, b.heading, what, time.Since(t0).Seconds(), cpu.Seconds())
	}
	t.Logf("all %d blocks in %.1fs (%.1fs CPU)", len(blocks), time.Since(start).Seconds(), totalCPU.Seconds())
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
}
