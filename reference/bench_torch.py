# PyTorch side of metalearn's benchmark workloads (torch 1.13 CPU).
# Run: OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 reference/bench_torch.py [--threads 2] [--only SUBSTRING]
# Prints one JSON object per workload: {"workload", "median_ms", "runs",
# "peak_rss_mb"}. peak_rss_mb is the peak resident memory added while the
# workload ran (warm-up and timed runs): VmHWM is reset through
# /proc/self/clear_refs just before it (Linux), as the Go side does.
import ctypes, gc, json, statistics, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

threads = 2
if "--threads" in sys.argv:
    threads = int(sys.argv[sys.argv.index("--threads") + 1])
torch.set_num_threads(threads)
only = ""  # run only the workloads whose name contains this
if "--only" in sys.argv:
    only = sys.argv[sys.argv.index("--only") + 1]
torch.manual_seed(0)

def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return None

def reset_peak_rss():
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed memory back first
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return status_kb("VmRSS:")
    except OSError:
        return None

def bench(name, fn, warmup=3, min_runs=10, min_seconds=1.0):
    if only not in name:
        return
    base = reset_peak_rss()
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    out = {"workload": name, "median_ms": statistics.median(times), "runs": len(times)}
    if base is not None:
        out["peak_rss_mb"] = (status_kb("VmHWM:") - base) / 1024
    print(json.dumps(out), flush=True)

# seed MTLNet Adam step, batch 800
seed = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 1), nn.Sigmoid())
sopt = torch.optim.Adam(seed.parameters(), lr=1e-3)
sx, sy = torch.rand(800, 2), (torch.rand(800, 1) > 0.5).float()
def seed_step():
    sopt.zero_grad()
    F.binary_cross_entropy(seed(sx), sy).backward()
    sopt.step()
bench("seed_step", seed_step)

# MLP 1-40-40-1 forward+backward, batch 10
mlp = nn.Sequential(nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 1))
mx, my = torch.rand(10, 1) * 10 - 5, torch.randn(10, 1)
def mlp_fb():
    mlp.zero_grad()
    F.mse_loss(mlp(mx), my).backward()
bench("mlp_fwd_bwd", mlp_fb)

# sinusoid MAML meta-step: 25 tasks, 10 support + 10 query, 1 inner step, Adam outer
mopt = torch.optim.Adam(mlp.parameters(), lr=1e-3)
tasks = [(torch.rand(10, 1) * 10 - 5, torch.randn(10, 1), torch.rand(10, 1) * 10 - 5, torch.randn(10, 1)) for _ in range(25)]
def functional(params, x):
    h = F.relu(F.linear(x, params[0], params[1]))
    h = F.relu(F.linear(h, params[2], params[3]))
    return F.linear(h, params[4], params[5])
def maml_step(first_order):
    mopt.zero_grad()
    params = list(mlp.parameters())
    total = 0
    for xs, ys, xq, yq in tasks:
        g = torch.autograd.grad(F.mse_loss(functional(params, xs), ys), params, create_graph=not first_order)
        fast = [p - 0.01 * gi for p, gi in zip(params, g)]
        total = total + F.mse_loss(functional(fast, xq), yq)
    (total / len(tasks)).backward()
    mopt.step()
bench("sinusoid_maml_2nd", lambda: maml_step(False))
bench("sinusoid_maml_1st", lambda: maml_step(True))

# conv4 forward+backward, batch 25, 28x28x1, 5-way linear head
def conv4(hidden=64):
    layers, c = [], 1
    for _ in range(4):
        layers += [nn.Conv2d(c, hidden, 3, padding=1), nn.BatchNorm2d(hidden), nn.ReLU(), nn.MaxPool2d(2)]
        c = hidden
    return nn.Sequential(*layers, nn.Flatten())
cnet = nn.Sequential(conv4(), nn.Linear(64, 5))
cx, cy = torch.randn(25, 1, 28, 28), torch.arange(25) % 5
def conv_fb():
    cnet.zero_grad()
    F.cross_entropy(cnet(cx), cy).backward()
bench("conv4_fwd_bwd_b25", conv_fb)

# ProtoNet episode: 5-way 5-shot 15 queries, conv4 encoder, Adam
enc = conv4()
popt = torch.optim.Adam(enc.parameters(), lr=1e-3)
px = torch.randn(5 * 20, 1, 28, 28)
ql = torch.arange(5).repeat_interleave(15)
def proto_step():
    popt.zero_grad()
    z = enc(px)
    zs, zq = z[:25].view(5, 5, -1), z[25:]
    protos = zs.mean(1)
    logits = -torch.cdist(zq, protos) ** 2
    F.cross_entropy(logits, ql).backward()
    popt.step()
bench("protonet_5w5s_episode", proto_step)

# Omniglot-shaped MAML meta-step: 5-way 1-shot, 15 queries, meta-batch 4,
# one inner step of 0.4, conv4 + linear head with batch statistics, Adam outer
def conv4_functional(params, x):
    # params: 4 x (conv w, conv b, bn w, bn b) + linear w, b
    for i in range(4):
        w, b, g, beta = params[4 * i: 4 * i + 4]
        x = F.conv2d(x, w, b, padding=1)
        x = F.batch_norm(x, None, None, g, beta, training=True)
        x = F.max_pool2d(F.relu(x), 2)
    x = x.flatten(1)
    return F.linear(x, params[16], params[17])
omni = nn.Sequential(conv4(), nn.Linear(64, 5))
oparams = [p for p in omni.parameters()]
oopt = torch.optim.Adam(oparams, lr=1e-3)
otasks = [(torch.randn(5, 1, 28, 28), torch.arange(5), torch.randn(75, 1, 28, 28), torch.arange(5).repeat_interleave(15)) for _ in range(4)]
def omni_maml(first_order):
    oopt.zero_grad()
    total = 0
    for xs, ys, xq, yq in otasks:
        g = torch.autograd.grad(F.cross_entropy(conv4_functional(oparams, xs), ys), oparams, create_graph=not first_order)
        fast = [p - 0.4 * gi for p, gi in zip(oparams, g)]
        total = total + F.cross_entropy(conv4_functional(fast, xq), yq)
    (total / len(otasks)).backward()
    oopt.step()
bench("omniglot_maml_2nd", lambda: omni_maml(False), min_runs=5)
bench("omniglot_maml_1st", lambda: omni_maml(True), min_runs=5)

# Translation models (metalearn's nn.Seq2Seq): pre-LN nn.Transformer with a
# shared, tied embedding scaled by sqrt(d_model) plus sinusoidal positions,
# batch 64 pairs of 24 source and 24 target tokens (the decoder reads 24
# and predicts 24), dropout 0.1, label smoothing 0.1, Adam.
import math
class Seq2Seq(nn.Module):
    def __init__(self, vocab, d, heads, layers, ffn):
        super().__init__()
        self.d = d
        self.embed = nn.Embedding(vocab, d)
        nn.init.normal_(self.embed.weight, std=d ** -0.5)
        self.transformer = nn.Transformer(d, heads, layers, layers, ffn, dropout=0.1, batch_first=True, norm_first=True)
        self.drop = nn.Dropout(0.1)
        pos = torch.arange(512)[:, None]
        div = torch.pow(10000.0, torch.arange(0, d, 2) / d)
        pe = torch.zeros(512, d)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos / div), torch.cos(pos / div)
        self.register_buffer("pe", pe)
    def emb(self, ids, pos0=0):
        return self.drop(self.embed(ids) * math.sqrt(self.d) + self.pe[pos0:pos0 + ids.shape[1]])
    def encode(self, src):
        return self.transformer.encoder(self.emb(src))
    def decode(self, tgt, memory):
        causal = self.transformer.generate_square_subsequent_mask(tgt.shape[1])
        h = self.transformer.decoder(self.emb(tgt), memory, tgt_mask=causal)
        return F.linear(h, self.embed.weight)  # tied output projection

def mt_train(vocab, d, heads, layers, ffn):
    model = Seq2Seq(vocab, d, heads, layers, ffn)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    src = torch.randint(3, vocab, (64, 24))
    tgt = torch.randint(3, vocab, (64, 25))
    def step():
        opt.zero_grad()
        logits = model.decode(tgt[:, :-1], model.encode(src))
        F.cross_entropy(logits.reshape(-1, vocab), tgt[:, 1:].reshape(-1), label_smoothing=0.1, ignore_index=0).backward()
        opt.step()
    return step
# (the `only in name` guards skip building models that will not run)
if only in "mt_small_train_step":
    bench("mt_small_train_step", mt_train(8000, 256, 4, 3, 1024), min_runs=5)
if only in "mt_tiny_train_step":
    bench("mt_tiny_train_step", mt_train(4000, 128, 4, 2, 512), min_runs=5)

# 24 greedy steps for 64 sources of 24 tokens, decoding step by step with
# nn.Transformer the usual way: every step runs the decoder over the whole
# prefix (no key/value cache).
def mt_greedy(vocab, d, heads, layers, ffn):
    model = Seq2Seq(vocab, d, heads, layers, ffn).eval()
    src = torch.randint(3, vocab, (64, 24))
    def run():
        with torch.no_grad():
            memory = model.encode(src)
            ys = torch.ones(64, 1, dtype=torch.long)
            for _ in range(24):
                nxt = model.decode(ys, memory)[:, -1].log_softmax(-1).argmax(-1)
                ys = torch.cat([ys, nxt[:, None]], 1)
    return run
if only in "mt_small_greedy_decode":
    bench("mt_small_greedy_decode", mt_greedy(8000, 256, 4, 3, 1024), min_runs=5)

# 1-layer GRU, input and hidden 512, batch 64, 24 steps, forward and
# backward (to the weights; the loss is the sum of the outputs)
if only in "gru_step":
    gru = nn.GRU(512, 512, batch_first=True)
    gx = torch.randn(64, 24, 512)
    def gru_step():
        gru.zero_grad()
        out, h = gru(gx)
        out.sum().backward()
    bench("gru_step", gru_step)

# sgemm
for (m, n, k, name) in [(512, 512, 512, "sgemm_512"), (10, 40, 40, "sgemm_10x40x40")]:
    a, b = torch.randn(m, k), torch.randn(k, n)
    bench(name, lambda: torch.mm(a, b), min_runs=50)
