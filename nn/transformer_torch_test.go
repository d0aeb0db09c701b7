package nn_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/checkpoint"
	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// PyTorch's nn.Transformer loads our Transformer's parameters by name
// (load_state_dict strict) and, on the same inputs with padding and a
// causal target mask, gives the same encoder and decoder outputs
// (reference/transformer_reference.py). Skipped without python3-torch.
func TestTransformerMatchesPyTorch(t *testing.T) {
	py := "/usr/bin/python3"
	cases := []struct {
		name       string
		normFirst  bool
		activation string
		enc, dec   int
		dt         tensor.DType
	}{
		{"post-LN relu", false, "relu", 2, 2, tensor.Float64},
		{"pre-LN gelu", true, "gelu", 2, 3, tensor.Float64},
		{"pre-LN relu 1+1", true, "relu", 1, 1, tensor.Float64},
		// our float32 forward against PyTorch's float64 one on the same values
		{"post-LN gelu float32", false, "gelu", 2, 2, tensor.Float32},
	}
	const b, s, tt = 3, 5, 4
	srcLens, tgtLens := []int{5, 2, 4}, []int{4, 3, 1}
	lens := func(l []int) *tensor.Tensor {
		v := make([]float64, len(l))
		for i, x := range l {
			v[i] = float64(x)
		}
		return tensor.FromFloat64(v, len(l))
	}
	// every case's model and inputs first, then one run of Python for all
	type run struct {
		m        *nn.Transformer
		src, tgt *tensor.Tensor
		out      string
	}
	runs := make([]run, len(cases))
	dir := t.TempDir()
	args := []string{"../reference/transformer_reference.py"}
	for i, c := range cases {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		cfg := nn.TransformerConfig{DModel: 16, Heads: 4, EncoderLayers: c.enc, DecoderLayers: c.dec, FFN: 24,
			Dropout: 0.1, NormFirst: c.normFirst, Activation: c.activation, Seed: 3}
		m, err := nn.NewTransformer(rng, cfg)
		if err != nil {
			t.Fatal(err)
		}
		nn.Cast(m, c.dt)
		// LayerNorms away from (1, 0) so a swapped or unused norm shows
		for _, p := range m.Params() {
			if len(p.V.Shape()) == 1 {
				p.V.Value = tensor.RandN(rng, c.dt, 0.5, p.V.Shape()...)
			}
		}
		m.SetTraining(false)
		r := run{m: m, src: tensor.RandN(rng, c.dt, 1, b, s, 16), tgt: tensor.RandN(rng, c.dt, 1, b, tt, 16),
			out: filepath.Join(dir, fmt.Sprintf("out%d.safetensors", i))}
		in := filepath.Join(dir, fmt.Sprintf("in%d.safetensors", i))
		ts := append(checkpoint.ModuleTensors("model", m),
			checkpoint.Named{Name: "src", Tensor: r.src}, checkpoint.Named{Name: "tgt", Tensor: r.tgt},
			checkpoint.Named{Name: "src_lens", Tensor: lens(srcLens)}, checkpoint.Named{Name: "tgt_lens", Tensor: lens(tgtLens)})
		meta := map[string]string{
			"d_model": "16", "nhead": "4", "num_encoder_layers": fmt.Sprint(c.enc), "num_decoder_layers": fmt.Sprint(c.dec),
			"dim_feedforward": "24", "norm_first": fmt.Sprint(c.normFirst), "activation": c.activation,
		}
		if err := checkpoint.WriteFile(in, ts, meta); err != nil {
			t.Fatal(err)
		}
		runs[i] = r
		args = append(args, in, r.out)
	}
	cmd := exec.Command(py, args...)
	cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX")
	if out, err := cmd.CombinedOutput(); err != nil {
		// (torch is looked for only now: starting it costs seconds)
		if exec.Command(py, "-c", "import torch").Run() != nil {
			t.Skip("python3 with torch not available (apt-get install python3-torch); skipping the PyTorch nn.Transformer equivalence check")
		}
		t.Fatalf("python: %v\n%s", err, out)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runs[i]
			ref, _, err := checkpoint.ReadFile(r.out)
			if err != nil {
				t.Fatal(err)
			}
			w := nn.Vars(r.m)
			mem := r.m.Encode(w, autodiff.Const(r.src), srcLens)
			got := r.m.Decode(w, autodiff.Const(r.tgt), tgtLens, mem, srcLens)
			for _, cmp := range []struct {
				name     string
				got, ref *tensor.Tensor
			}{{"memory", mem.Value.AsType(tensor.Float64), ref["memory"]}, {"out", got.Value.AsType(tensor.Float64), ref["out"]}} {
				if d := tensor.MaxAbsDiff(cmp.got, cmp.ref); d > 1e-5 || d != d {
					t.Errorf("%s differs from PyTorch by %.3g (> 1e-5)", cmp.name, d)
				} else {
					t.Logf("%s: max |ours - PyTorch| = %.3g", cmp.name, d)
				}
			}
		})
	}
}
