# Load a metalearn safetensors checkpoint into PyTorch without the
# safetensors package: usage  python3 load_safetensors.py FILE
# Prints one line per tensor: name, dtype, shape, sum (as %.9g).
import json, struct, sys
import torch

def load(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": torch.float32, "F64": torch.float64}
    out = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[a:b]), dtype=dtypes[e["dtype"]]).reshape(e["shape"])
        out[name] = t
    return out, meta

if __name__ == "__main__":
    tensors, meta = load(sys.argv[1])
    for name in sorted(tensors):
        t = tensors[name]
        print(name, str(t.dtype).replace("torch.", ""), list(t.shape), "%.9g" % t.double().sum().item())
