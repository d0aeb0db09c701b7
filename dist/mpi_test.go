//go:build mpi && cgo

package dist

// These tests need OpenMPI (mpirun on PATH) and run only with -tags mpi;
// scripts/mpi_test.sh runs them (and .ci/run calls that script).

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// mpirun runs args under mpirun with the flags a 2-core CI container needs.
func mpirun(t *testing.T, timeout time.Duration, dir string, args ...string) (string, error) {
	t.Helper()
	path, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("mpirun not found (apt-get install -y openmpi-bin)")
	}
	flags := []string{"--oversubscribe"}
	if os.Geteuid() == 0 {
		flags = append(flags, "--allow-run-as-root")
	}
	cmd := exec.Command(path, append(flags, args...)...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("mpirun %v did not finish in %v (a hang?):\n%s", args, timeout, out.String())
	}
	return out.String(), err
}

// TestMPICollectives runs this test binary on 3 ranks as mpiWorker.
func TestMPICollectives(t *testing.T) {
	if os.Getenv("DIST_MPI_WORKER") != "" {
		t.Skip("worker")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := mpirun(t, time.Minute, "", "-np", "3", "-x", "DIST_MPI_WORKER=1", exe, "-test.run=^TestMPIWorker$", "-test.v")
	if err != nil || strings.Count(out, "--- PASS: TestMPIWorker") != 3 {
		t.Fatalf("mpirun: %v\n%s", err, out)
	}
}

func TestMPIWorker(t *testing.T) {
	if os.Getenv("DIST_MPI_WORKER") == "" {
		t.Skip("run by TestMPICollectives under mpirun")
	}
	c, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, p := c.Rank(), c.Size()
	if p != 3 {
		t.Fatalf("size %d, want 3", p)
	}
	f64 := []float64{float64(r), 1, 0.1 * float64(r+1)}
	if err := c.AllreduceSum(f64); err != nil {
		t.Fatal(err)
	}
	if f64[0] != 3 || f64[1] != 3 || f64[2] != 0.1+0.2+0.30000000000000004 && f64[2] != 0.1+(0.2+0.30000000000000004) {
		t.Fatalf("rank %d: allreduce %v", r, f64)
	}
	f32 := []float32{float32(r), 2}
	if err := c.AllreduceSum32(f32); err != nil {
		t.Fatal(err)
	}
	if f32[0] != 3 || f32[1] != 6 {
		t.Fatalf("rank %d: allreduce32 %v", r, f32)
	}
	b := []byte{byte(r), byte(r)}
	if err := c.Broadcast(b, 1); err != nil {
		t.Fatal(err)
	}
	if b[0] != 1 || b[1] != 1 {
		t.Fatalf("rank %d: broadcast %v", r, b)
	}
	recv := make([]byte, 2*p)
	if err := c.Allgather([]byte{byte(r), 7}, recv); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(recv, []byte{0, 7, 1, 7, 2, 7}) {
		t.Fatalf("rank %d: allgather %v", r, recv)
	}
	if err := c.Barrier(); err != nil {
		t.Fatal(err)
	}
	if err := CheckSame(c, uint64(r), "value"); err == nil || !strings.Contains(err.Error(), "rank 1") {
		t.Fatalf("rank %d: CheckSame: %v", r, err)
	}
}

var cli struct {
	once sync.Once
	dir  string
	exe  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cli.dir != "" {
		os.RemoveAll(cli.dir)
	}
	os.Exit(code)
}

// buildCLI builds metalearn with -tags mpi (once per test binary).
func buildCLI(t *testing.T, _ string) string {
	t.Helper()
	cli.once.Do(func() {
		if cli.dir, cli.err = os.MkdirTemp("", "metalearn-mpi"); cli.err != nil {
			return
		}
		cli.exe = filepath.Join(cli.dir, "metalearn")
		out, err := exec.Command("go", "build", "-tags", "mpi", "-o", cli.exe, "github.com/metalearn/metalearn/cmd/metalearn").CombinedOutput()
		if err != nil {
			cli.err = fmt.Errorf("go build -tags mpi: %v\n%s", err, out)
		}
	})
	if cli.err != nil {
		t.Fatal(cli.err)
	}
	return cli.exe
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Fatalf("%s and %s differ (%d and %d bytes)", filepath.Base(a), filepath.Base(b), len(x), len(y))
	}
}

func dataDir() string {
	d, _ := filepath.Abs(filepath.Join("..", "..", "shared", "data"))
	return d
}

// TestMPIMetaTrainEqualsOneProcess: `meta train --distributed` under
// mpirun -np 1 and -np 2 writes exactly the checkpoint of a plain
// single-process run (the safetensors files are byte-identical), and only
// rank 0 prints.
func TestMPIMetaTrainEqualsOneProcess(t *testing.T) {
	dir := t.TempDir()
	exe := buildCLI(t, dir)
	runs := map[string][]string{
		"sinusoid-maml": {"--algo", "maml", "--dataset", "sinusoid", "--shots", "5", "--queries", "5", "--hidden", "16",
			"--iterations", "12", "--meta-batch", "5", "--val-every", "4", "--val-tasks", "7", "--log-every", "4", "--seed", "3"},
	}
	if _, err := os.Stat(filepath.Join(dataDir(), "omniglot")); err == nil {
		runs["omniglot-protonet"] = []string{"--algo", "protonet", "--dataset", "omniglot", "--data-dir", dataDir(), "--ways", "5", "--shots", "1",
			"--queries", "3", "--hidden", "8", "--iterations", "4", "--meta-batch", "3", "--val-every", "2", "--val-tasks", "5", "--seed", "3"}
	}
	for name, args := range runs {
		t.Run(name, func(t *testing.T) {
			one := filepath.Join(dir, name+"-plain.safetensors")
			cmd := exec.Command(exe, append([]string{"meta", "train", "--model-out", one}, args...)...)
			cmd.Dir = dir // where mpirun runs the ranks: the data folder resolves alike (data.ResolveDir), so the recorded spec matches
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("single process: %v\n%s", err, out)
			}
			for _, np := range []string{"1", "2"} {
				got := filepath.Join(dir, name+"-np"+np+".safetensors")
				out, err := mpirun(t, 5*time.Minute, dir, append([]string{"-np", np, exe, "meta", "train", "--distributed", "--model-out", got}, args...)...)
				if err != nil {
					t.Fatalf("mpirun -np %s: %v\n%s", np, err, out)
				}
				if n := strings.Count(out, "saved "); n != 1 {
					t.Fatalf("mpirun -np %s: %d \"saved\" lines, want 1 (rank 0 only):\n%s", np, n, out)
				}
				sameFile(t, one, got)
			}
		})
	}
}

// TestMPIResumeOtherRankCount: a checkpoint written by 2 ranks resumes on
// 3 ranks and ends exactly where an uninterrupted single-process run ends.
func TestMPIResumeOtherRankCount(t *testing.T) {
	dir := t.TempDir()
	exe := buildCLI(t, dir)
	args := []string{"meta", "train", "--algo", "maml", "--dataset", "sinusoid", "--shots", "5", "--queries", "5", "--hidden", "16",
		"--meta-batch", "5", "--val-every", "3", "--val-tasks", "7", "--seed", "5", "--checkpoint-every", "3",
		"--checkpoint", filepath.Join(dir, "state.safetensors")}
	want := filepath.Join(dir, "want.safetensors")
	cmd := exec.Command(exe, append(args[:len(args)-4:len(args)-4], "--iterations", "12", "--model-out", want)...)
	cmd.Dir = dir // as under mpirun, so the data folder (recorded in the spec) resolves alike
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("single process: %v\n%s", err, out)
	}
	if out, err := mpirun(t, 5*time.Minute, dir, append([]string{"-np", "2", exe}, append(args, "--distributed", "--iterations", "6", "--model-out", filepath.Join(dir, "half.safetensors"))...)...); err != nil {
		t.Fatalf("first half on 2 ranks: %v\n%s", err, out)
	}
	got := filepath.Join(dir, "got.safetensors")
	if out, err := mpirun(t, 5*time.Minute, dir, append([]string{"-np", "3", exe}, append(args, "--distributed", "--resume", "--iterations", "12", "--model-out", got)...)...); err != nil {
		t.Fatalf("resume on 3 ranks: %v\n%s", err, out)
	}
	sameFile(t, want, got)
}

// TestMPIFailures: a rank that fails, or is killed, stops the whole job
// with a non-zero status and a message naming the rank; nobody hangs.
func TestMPIFailures(t *testing.T) {
	dir := t.TempDir()
	exe := buildCLI(t, dir)
	base := []string{"meta", "train", "--distributed", "--algo", "maml", "--dataset", "sinusoid", "--shots", "5", "--hidden", "8", "--meta-batch", "4"}

	// rank 0 cannot write the checkpoint
	out, err := mpirun(t, 2*time.Minute, dir, append([]string{"-np", "2", exe}, append(base, "--iterations", "3", "--model-out", "/nonexistent/dir/w.safetensors")...)...)
	if err == nil || !strings.Contains(out, "metalearn: rank 0 of 2:") || !strings.Contains(out, "/nonexistent/dir") {
		t.Fatalf("unwritable --out: err %v, output:\n%s", err, out)
	}

	// ranks started with different arguments
	w := filepath.Join(dir, "w.safetensors")
	out, err = mpirun(t, 2*time.Minute, dir, append(append(append([]string{"-np", "1", exe}, base...), "--iterations", "3", "--model-out", w, "--seed", "1", ":", "-np", "1", exe),
		append(base, "--iterations", "3", "--model-out", w, "--seed", "2")...)...)
	if err == nil || !strings.Contains(out, "differs from rank 0's") {
		t.Fatalf("mismatched ranks: err %v, output:\n%s", err, out)
	}

	// rank 1 killed (SIGKILL) in the middle of a long run: mpirun ends
	// the job instead of leaving rank 0 waiting in the gradient exchange
	long := append(base, "--iterations", "1000000", "--log-every", "1000000", "--model-out", w)
	killer := fmt.Sprintf("%s %s & p=$!; sleep 3; kill -9 $p; wait $p", exe, strings.Join(long, " "))
	start := time.Now()
	out, err = mpirun(t, 2*time.Minute, dir, append(append([]string{"-np", "1", exe}, long...), ":", "-np", "1", "sh", "-c", killer)...)
	if err == nil {
		t.Fatalf("killed rank: mpirun succeeded:\n%s", out)
	}
	t.Logf("killed rank: mpirun exited (%v) after %.1fs", err, time.Since(start).Seconds())
}
