# PyTorch side of the Transformer equivalence test (nn/transformer_torch_test.go).
# Usage: OPENBLAS_CORETYPE=SkylakeX python3 reference/transformer_reference.py IN.safetensors OUT.safetensors [IN2 OUT2 ...]
# (several pairs share one start of Python and torch).
#
# IN holds a metalearn nn.Transformer's parameters under "model." (written by
# checkpoint.WriteFile, PyTorch's nn.Transformer state_dict names), the
# inputs "src" [B,S,E] and "tgt" [B,T,E], and "src_lens", "tgt_lens" [B]; its
# metadata gives d_model, nhead, num_encoder_layers, num_decoder_layers,
# dim_feedforward, norm_first and activation. The script builds
# torch.nn.Transformer(batch_first=True) with that configuration, loads the
# parameters with load_state_dict(strict=True), and runs it in evaluation
# mode with key padding masks from the lengths and a causal target mask.
# OUT gets "memory" (the encoder output) and "out" (the decoder output).
import json, struct, sys
import torch
import torch.nn as nn

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from load_safetensors import load

def save(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().to(torch.float64).numpy().tobytes()
        header[name] = {"dtype": "F64", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)

def padding_mask(lens, t):
    # True marks a padded key, as PyTorch's key_padding_mask expects.
    return torch.arange(t)[None, :] >= lens.long()[:, None]

def run(in_path, out_path):
    tensors, meta = load(in_path)
    model = nn.Transformer(
        d_model=int(meta["d_model"]), nhead=int(meta["nhead"]),
        num_encoder_layers=int(meta["num_encoder_layers"]), num_decoder_layers=int(meta["num_decoder_layers"]),
        dim_feedforward=int(meta["dim_feedforward"]), dropout=0.1, activation=meta["activation"],
        batch_first=True, norm_first=meta["norm_first"] == "true")
    state = {k[len("model."):]: v.to(torch.float64) for k, v in tensors.items() if k.startswith("model.")}
    model.load_state_dict(state, strict=True)
    model.eval()
    src, tgt = tensors["src"].to(torch.float64), tensors["tgt"].to(torch.float64)
    src_pad = padding_mask(tensors["src_lens"], src.shape[1])
    tgt_pad = padding_mask(tensors["tgt_lens"], tgt.shape[1])
    causal = model.generate_square_subsequent_mask(tgt.shape[1])
    # Gradients stay enabled so that PyTorch takes its reference (not the
    # nested-tensor fast) path, whose padded outputs are computed in full.
    memory = model.encoder(src, src_key_padding_mask=src_pad)
    out = model.decoder(tgt, memory, tgt_mask=causal, tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad)
    full = model(src, tgt, tgt_mask=causal, src_key_padding_mask=src_pad, tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad)
    assert torch.equal(full, out), "nn.Transformer.forward differs from encoder then decoder"
    save(out_path, {"memory": memory, "out": out})

torch.set_default_dtype(torch.float64)
args = sys.argv[1:]
if len(args) == 0 or len(args) % 2:
    sys.exit("usage: transformer_reference.py IN OUT [IN OUT ...]")
for i in range(0, len(args), 2):
    run(args[i], args[i + 1])
