package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/transfer"
)

// writeOfficeCSVs writes a tiny synthetic Office-Caltech layout (four
// domains, 10 classes, d histogram bins) to dir/office-caltech10-surf.
func writeOfficeCSVs(t *testing.T, dir string, d, perClass int) {
	t.Helper()
	sub := filepath.Join(dir, "office-caltech10-surf")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	files := []string{"amazon_SURF_L10.csv", "Caltech10_SURF_L10.csv", "dslr_SURF_L10.csv", "webcam_SURF_L10.csv"}
	for k, f := range files {
		rng := rand.New(rand.NewPCG(uint64(k), 5))
		var b strings.Builder
		b.WriteString("label")
		for j := 0; j < d; j++ {
			fmt.Fprintf(&b, ",f%d", j)
		}
		b.WriteString("\n")
		for c := 1; c <= 10; c++ {
			for i := 0; i < perClass; i++ {
				fmt.Fprint(&b, c)
				for j := 0; j < d; j++ {
					v := rng.IntN(3)
					if j%10 == c-1 { // class-specific bins, shifted per domain
						v += 6 + k
					}
					fmt.Fprintf(&b, ",%d", v)
				}
				b.WriteString("\n")
			}
		}
		if err := os.WriteFile(filepath.Join(sub, f), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTransferDomainCLI(t *testing.T) {
	dir := t.TempDir()
	writeOfficeCSVs(t, dir, 30, 8)
	out := filepath.Join(dir, "res")
	code, stdout, errs := runCLI("transfer", "domain", "--data-dir", dir, "--domains", "A,D", "--rounds", "2", "--per-class", "4", "--per-class-small", "3",
		"--methods", "1nn,source-only,coral,mmd,finetune", "--steps", "60", "--json", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Pairs []struct {
			Source, Target string
			Results        map[string]struct{ Mean float64 }
		}
		Average map[string]float64
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if len(rep.Pairs) != 2 || len(rep.Average) != 5 {
		t.Fatalf("report %+v", rep)
	}
	if rep.Average["source-only"] < 50 {
		t.Errorf("source-only %.1f%% on an easy synthetic shift", rep.Average["source-only"])
	}
	for _, f := range []string{"domain.json", "domain.png", "domain.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output %s", f)
		}
	}
}

func TestTransferPretrainFinetuneCLI(t *testing.T) {
	dir := t.TempDir()
	writeOfficeCSVs(t, dir, 30, 12)
	src := filepath.Join(dir, "src.safetensors")
	code, _, errs := runCLI("transfer", "pretrain", "--data-dir", dir, "--data", "office:A", "--arch", "mlp:16", "--steps", "60", "--model-out", src)
	if code != 0 {
		t.Fatalf("pretrain exit %d: %s", code, errs)
	}
	out := filepath.Join(dir, "gain")
	code, stdout, errs := runCLI("transfer", "finetune", "--data-dir", dir, "--source", src, "--target", "office:W", "--shots", "1,all",
		"--seeds", "2", "--steps", "20", "--strategies", "full,freeze:1,probe,discriminative,l2sp", "--out", out)
	if code != 0 {
		t.Fatalf("finetune exit %d: %s", code, errs)
	}
	for _, want := range []string{"scratch", "freeze-1", "probe", "discriminative-0.385", "l2sp(0.01,0.01)", "all", "wrote"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"gain.json", "gain.png", "gain.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output %s", f)
		}
	}
	// keep the head: same label space
	code, stdout, errs = runCLI("transfer", "finetune", "--data-dir", dir, "--source", src, "--target", "office:D", "--shots", "2",
		"--seeds", "1", "--steps", "10", "--strategies", "probe", "--head", "keep", "--json")
	if code != 0 || !strings.Contains(stdout, `"strategies":["scratch","probe"]`) {
		t.Fatalf("keep head: exit %d %s\n%s", code, errs, stdout)
	}
}

func TestTransferMatrixCLI(t *testing.T) {
	dir := t.TempDir()
	writeOfficeCSVs(t, dir, 30, 8)
	code, stdout, errs := runCLI("transfer", "matrix", "--data-dir", dir, "--dataset", "office", "--tasks", "A,C,W", "--arch", "mlp:8",
		"--shots", "2", "--seeds", "2", "--steps", "10", "--pretrain-steps", "20", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var mx struct {
		Tasks []string
		Gain  [][]float64
	}
	if err := json.Unmarshal([]byte(stdout), &mx); err != nil || len(mx.Tasks) != 3 || len(mx.Gain) != 3 {
		t.Fatalf("matrix %v %+v\n%s", err, mx, stdout)
	}
}

func TestTransferAffinityCLI(t *testing.T) {
	out := t.TempDir()
	code, stdout, errs := runCLI("transfer", "affinity", "--dataset", "circles", "--tasks", "4", "--steps", "30", "--hidden", "8",
		"--groups", "2", "--check", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"inter-task affinity", "recommended 2 groups", "recommended partition ranks", "affinity.png"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	var res struct {
		Affinity struct{ Affinity [][]float64 }
		Grouping struct {
			Recommended struct{ Groups [][]int }
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "affinity.json"))
	if err != nil || json.Unmarshal(b, &res) != nil || len(res.Affinity.Affinity) != 4 || len(res.Grouping.Recommended.Groups) != 2 {
		t.Fatalf("affinity.json: %v %+v", err, res)
	}
}

func TestTransferOmniglotCLI(t *testing.T) {
	dataDir := filepath.Join("..", "..", "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(dataDir, "omniglot", "images_background.npz")); err != nil {
		t.Skipf("Omniglot not found under %s (see ../shared/data/README.md): %v", dataDir, err)
	}
	if testing.Short() {
		t.Skip("real-data test skipped in -short mode")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src.safetensors")
	code, _, errs := runCLI("transfer", "pretrain", "--data-dir", dataDir, "--data", "omniglot:Latin", "--arch", "conv4:8", "--steps", "10", "--model-out", src)
	if code != 0 {
		t.Fatalf("pretrain exit %d: %s", code, errs)
	}
	code, stdout, errs := runCLI("transfer", "finetune", "--data-dir", dataDir, "--source", src, "--target", "omniglot:Greek", "--max-classes", "5",
		"--shots", "1", "--seeds", "1", "--steps", "5", "--strategies", "freeze:4,probe", "--json")
	if code != 0 || !strings.Contains(stdout, `"freeze-4"`) {
		t.Fatalf("finetune exit %d: %s\n%s", code, errs, stdout)
	}
}

func TestTransferBadInput(t *testing.T) {
	dir := t.TempDir()
	writeOfficeCSVs(t, dir, 30, 6)
	src := filepath.Join(dir, "src.safetensors")
	if code, _, errs := runCLI("transfer", "pretrain", "--data-dir", dir, "--data", "office:A", "--arch", "mlp:8", "--steps", "5", "--model-out", src); code != 0 {
		t.Fatal(errs)
	}
	// a second feature space: 20 bins
	other := filepath.Join(dir, "other")
	writeOfficeCSVs(t, other, 20, 6)
	plain := filepath.Join(dir, "plain.safetensors")
	if err := os.WriteFile(plain, []byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '}, 0o644); err != nil {
		t.Fatal(err)
	}
	mixed := filepath.Join(dir, "mixed")
	writeOfficeCSVs(t, mixed, 30, 6)
	if err := os.Rename(filepath.Join(other, "office-caltech10-surf", "webcam_SURF_L10.csv"), filepath.Join(mixed, "office-caltech10-surf", "webcam_SURF_L10.csv")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"transfer", "finetune", "--data-dir", dir, "--source", src, "--target", "office:W", "--strategies", "freeze:5"}, "freeze k = 5, but the model has 2 layers"},
		{[]string{"transfer", "finetune", "--data-dir", other, "--source", src, "--target", "office:A"}, "inputs of shape [20], but the source model"},
		{[]string{"transfer", "finetune", "--data-dir", dir, "--source", plain, "--target", "office:W"}, "not a source model written by"},
		{[]string{"transfer", "finetune", "--data-dir", dir, "--source", src, "--target", "office:W", "--shots", "0"}, "--shots \"0\""},
		{[]string{"transfer", "finetune", "--data-dir", dir, "--source", src, "--target", "office:W", "--strategies", "magic"}, "unknown"},
		{[]string{"transfer", "finetune", "--data-dir", dir, "--source", src, "--target", "office:Q"}, "unknown Office-Caltech domain \"Q\""},
		{[]string{"transfer", "finetune", "--data-dir", dir, "--source", filepath.Join(dir, "none.safetensors"), "--target", "office:W"}, "none.safetensors"},
		{[]string{"transfer", "finetune", "--source", src}, "--source and --target are required"},
		{[]string{"transfer", "domain", "--data-dir", mixed, "--domains", "A,W"}, "webcam has 20 features but amazon has 30"},
		{[]string{"transfer", "domain", "--data-dir", dir, "--methods", "coral,magic"}, "unknown method \"magic\""},
		{[]string{"transfer", "domain", "--data-dir", dir, "--rounds", "0"}, "--rounds 0"},
		{[]string{"transfer", "affinity", "--groups", "9", "--tasks", "3", "--steps", "2"}, "--groups 9: want 1..3"},
		{[]string{"transfer", "affinity", "--dataset", "mulan:nope"}, "unknown Mulan set"},
		{[]string{"transfer", "matrix", "--dataset", "office", "--tasks", "A"}, "at least two"},
		{[]string{"transfer", "pretrain", "--data", "office:A", "--data-dir", dir}, "--model-out is required"},
		{[]string{"transfer", "pretrain", "--data", "mnist:1", "--model-out", src}, "unknown kind \"mnist\""},
	}
	for _, c := range cases {
		code, _, errs := runCLI(c.args...)
		if code == 0 {
			t.Errorf("%v: exit 0, want failure", c.args)
			continue
		}
		if !strings.Contains(errs, c.want) || strings.Contains(errs, "goroutine") || strings.Contains(errs, "internal error") {
			t.Errorf("%v: stderr %q does not contain %q (or is a panic)", c.args, errs, c.want)
		}
	}
	// an incompatible checkpoint: the metadata says mlp:16, the tensors are mlp:8
	a8, _ := transfer.ParseArch("mlp:8", []int{30}, 10)
	a16, _ := transfer.ParseArch("mlp:16", []int{30}, 10)
	m8, _ := a8.Build(rand.New(rand.NewPCG(1, 1)))
	bad := filepath.Join(dir, "bad.safetensors")
	if err := transfer.SaveSource(bad, m8, a16, data.OfficeClassNames, "x"); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI("transfer", "finetune", "--data-dir", dir, "--source", bad, "--target", "office:W", "--seeds", "1", "--shots", "1", "--steps", "2")
	for _, want := range []string{"incompatible with the target model (2 mismatching tensors)", "0.weight: shape [8 30] in the source, [16 30] in the target model", "0.bias: shape [8] in the source, [16]"} {
		if code == 0 || !strings.Contains(errs, want) {
			t.Errorf("incompatible checkpoint: exit %d, stderr %q lacks %q", code, errs, want)
		}
	}
}
