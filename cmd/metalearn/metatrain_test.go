package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `meta train` behaves like `train -c` (issue 24): Ctrl-C writes the
// resumable checkpoint, exits 130 and prints the command that continues
// the run, and that command ends with the weights of an uninterrupted run.
func TestMetaTrainInterruptAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a training subprocess")
	}
	dir := t.TempDir()
	args := []string{"meta", "train", "--algo", "maml", "--hidden", "16", "--iterations", "300", "--val-every", "50", "--val-tasks", "5", "--checkpoint-every", "5", "--workers", "1"}
	ref := filepath.Join(dir, "ref.safetensors")
	if _, stderr, code := cli(t, append(args, "--out", ref, "--quiet")...); code != 0 {
		t.Fatalf("reference run: %s", stderr)
	}
	out := filepath.Join(dir, "run.safetensors")
	cmd := exec.Command(os.Args[0], append(args, "--out", out, "--progress", "lines")...)
	cmd.Env = append(os.Environ(), "METALEARN_AS_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, "run.train.safetensors")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(ckpt); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint after 60 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if _, statErr := os.Stat(out); statErr == nil {
		t.Skip("the run finished before the signal arrived; nothing to resume")
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 {
		t.Fatalf("after Ctrl-C: %v, stderr %q", err, stderr.String())
	}
	msg := stderr.String()
	i := strings.Index(msg, "continue with: ")
	if i < 0 {
		t.Fatalf("no resume command in %q", msg)
	}
	resume := strings.Fields(strings.TrimSpace(msg[i+len("continue with: "):]))
	if len(resume) < 3 || resume[0] != "metalearn" || resume[len(resume)-1] != "--resume" {
		t.Fatalf("resume command %q", resume)
	}
	if _, stderrR, code := cli(t, append(resume[1:], "--quiet")...); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderrR)
	}
	sameModel(t, ref, out)
}
