# Reference trajectories for optim tests: run with /usr/bin/python3 (torch 1.13 CPU).
# Problem: p0 = [1.0, -2.0, 0.5], loss = sum(c * p^2) + sum(p^3)/3 with c = [1, 0.5, 2],
# 5 steps of each optimizer; prints the parameters after every step.
import torch
torch.set_default_dtype(torch.float64)
def run(make):
    p = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    c = torch.tensor([1.0, 0.5, 2.0])
    opt = make([p])
    out = []
    for _ in range(5):
        opt.zero_grad()
        loss = (c * p * p).sum() + (p ** 3).sum() / 3
        loss.backward()
        opt.step()
        out.append(p.detach().tolist())
    return out
cases = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "sgd_momentum_wd": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "sgd_nesterov": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.1),
    "adam_l2": lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.8, 0.99), weight_decay=0.1),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.1),
}
for name, make in cases.items():
    print(name, repr(run(make)[-1]))
