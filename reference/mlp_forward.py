# Load the MLP of a metalearn run's model.safetensors into torch.nn and
# print its predictions, one per line, for the inputs given on the command
# line:  python3 mlp_forward.py runs/NAME/model.safetensors -4 -2 0 2 4
# The checkpoint's "model.<i>.weight" / "model.<i>.bias" tensors use
# torch's Linear layout ([out, in]), so they load with load_state_dict.
import sys
import torch
from load_safetensors import load

def main():
    tensors, meta = load(sys.argv[1])
    idx = sorted({int(k.split(".")[1]) for k in tensors if k.startswith("model.")})
    layers = []
    for j, i in enumerate(idx):
        w = tensors["model.%d.weight" % i]
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        lin.load_state_dict({"weight": w, "bias": tensors["model.%d.bias" % i]})
        layers.append(lin)
        if j < len(idx) - 1:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    x = torch.tensor([[float(v)] for v in sys.argv[2:]])
    with torch.no_grad():
        for y in net(x):
            print("%.9g" % y.item())

if __name__ == "__main__":
    main()
