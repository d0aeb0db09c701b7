# PyTorch reference for issue 20's time-to-quality comparison: the same tiny
# translation model as `metalearn mt train` (shared embedding tied to the
# output layer, sinusoidal positions, torch.nn.Transformer, pre-LN by
# default) trained on exactly the same token ids, logging dev chrF against
# wall-clock minutes.
#
# Usage:
#   metalearn mt train --pairs en-de ... --export-tokens runs/tq/tokens --out runs/tq/go
#   python3 reference/mt_torch.py runs/tq/tokens runs/tq/torch --minutes 30 [--threads 2]
#
# The tokens folder (written by the Go trainer, mt.TrainConfig.ExportTokens)
# holds pieces.json (the surface of every id), spec.json (reserved ids and the
# model spec: d_model, heads, layers, ffn, dropout, norm_first), train.jsonl
# ({"pair","src","tgt"}: source with the <2xx> tag and </s>, target with <s>
# and </s>) and dev.jsonl ({"pair","src","ref"}).
#
# Training follows the Go trainer: one batch of one direction per step under a
# token budget (source + target, padding included, length-sorted batches
# shuffled per epoch), directions drawn with probability proportional to
# n^(1/T), Adam (0.9, 0.98, eps 1e-9) with linear warm-up and 1/sqrt(step)
# decay, label smoothing, gradient clipping, greedy dev decoding every
# --val-minutes. The output folder gets dev.jsonl ({"step","minutes","chrf",
# "per_pair"}), the same format as the Go run's dev.jsonl, and each
# validation's hypotheses (dev-<step>.<pair>.txt) so that they can be
# re-scored with `metalearn mt eval --hyp ... --ref ...`. chrF here is a
# re-implementation of sacreBLEU's default chrF (character 6-grams, beta 2,
# whitespace removed; corpus statistics summed) for the curve only.
import argparse, json, math, os, random, re, sys, time
from collections import Counter

import torch
import torch.nn as nn
import torch.nn.functional as F


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def decoder_of(pieces, byte_base, first_piece, n_tags, n_special=4):
    byte_re = re.compile(r"^<0x([0-9A-F]{2})>$")

    def decode(ids):
        out = bytearray()
        for i in ids:
            if i < n_special or i >= len(pieces) - n_tags:
                continue  # reserved ids and the language tags (the last ids)
            p = pieces[i]
            if byte_base <= i < first_piece:
                out.append(int(byte_re.match(p).group(1), 16))
            else:
                out += p.replace("\u2581", " ").encode("utf-8")
        s = out.decode("utf-8", errors="replace")
        return s[1:] if s.startswith(" ") else s

    return decode


def chrf_stats(hyp, ref, order=6):
    h, r = "".join(hyp.split()), "".join(ref.split())
    st = []
    for n in range(1, order + 1):
        hc = Counter(h[i:i + n] for i in range(len(h) - n + 1))
        rc = Counter(r[i:i + n] for i in range(len(r) - n + 1))
        match = sum(min(v, rc[k]) for k, v in hc.items() if k in rc)
        nh = sum(hc.values()) if rc else 0
        st += [nh, sum(rc.values()), match]
    return st


def chrf_score(st, beta=2.0):
    f = beta * beta
    ap = ar = 0.0
    eff = 0
    for i in range(len(st) // 3):
        nh, nr, nm = st[3 * i:3 * i + 3]
        if nh > 0 and nr > 0:
            ap += nm / nh
            ar += nm / nr
            eff += 1
    if eff == 0:
        return 0.0
    ap, ar = ap / eff, ar / eff
    return 0.0 if ap + ar == 0 else 100 * (1 + f) * ap * ar / (f * ap + ar)


def corpus_chrf(hyps, refs):
    tot = [0] * 18
    for h, r in zip(hyps, refs):
        tot = [a + b for a, b in zip(tot, chrf_stats(h, r))]
    return chrf_score(tot)


def sinusoid(t, d, pos0=0):
    pos = torch.arange(pos0, pos0 + t, dtype=torch.float32)[:, None]
    i = torch.arange(0, d, 2, dtype=torch.float32)[None, :]
    ang = pos / torch.pow(10000.0, i / d)
    pe = torch.zeros(t, d)
    pe[:, 0::2] = torch.sin(ang)
    pe[:, 1::2] = torch.cos(ang)
    return pe


class Seq2Seq(nn.Module):
    def __init__(self, vocab, m):
        super().__init__()
        d = m["d_model"]
        self.d = d
        self.embed = nn.Embedding(vocab, d)
        nn.init.normal_(self.embed.weight, 0, d ** -0.5)
        self.drop = nn.Dropout(m["dropout"])
        self.transformer = nn.Transformer(d_model=d, nhead=m["heads"], num_encoder_layers=m["encoder_layers"],
                                          num_decoder_layers=m["decoder_layers"], dim_feedforward=m["ffn"],
                                          dropout=m["dropout"], activation=m.get("activation") or "relu",
                                          batch_first=True, norm_first=m["norm_first"])

    def emb(self, ids):
        x = self.embed(ids) * math.sqrt(self.d) + sinusoid(ids.shape[1], self.d).to(ids.device)
        return self.drop(x)

    def encode(self, src, src_pad):
        return self.transformer.encoder(self.emb(src), src_key_padding_mask=src_pad)

    def decode(self, tgt, tgt_pad, mem, src_pad):
        t = tgt.shape[1]
        causal = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        h = self.transformer.decoder(self.emb(tgt), mem, tgt_mask=causal, tgt_key_padding_mask=tgt_pad,
                                     memory_key_padding_mask=src_pad)
        return h @ self.embed.weight.t()


def pad(rows, pad_id=0):
    t = max(len(r) for r in rows)
    ids = torch.full((len(rows), t), pad_id, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
    return ids, ids == pad_id


def token_batches(pairs, max_tokens, rng):
    order = list(range(len(pairs)))
    rng.shuffle(order)
    order.sort(key=lambda i: (max(len(pairs[i][0]), len(pairs[i][1])), len(pairs[i][0]), len(pairs[i][1])))
    batches, cur, ls, lt = [], [], 0, 0
    for i in order:
        s, t = len(pairs[i][0]), len(pairs[i][1])
        if cur and (len(cur) + 1) * (max(ls, s) + max(lt, t)) > max_tokens:
            batches.append(cur)
            cur, ls, lt = [], 0, 0
        cur.append(i)
        ls, lt = max(ls, s), max(lt, t)
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


@torch.no_grad()
def greedy(model, src_rows, eos, bos, batch=64):
    model.eval()
    out = [None] * len(src_rows)
    order = sorted(range(len(src_rows)), key=lambda i: len(src_rows[i]))
    for lo in range(0, len(order), batch):
        idx = order[lo:lo + batch]
        src, src_pad = pad([src_rows[i] for i in idx])
        mem = model.encode(src, src_pad)
        maxlen = [2 * len(src_rows[i]) + 10 for i in idx]
        ys = torch.full((len(idx), 1), bos, dtype=torch.long)
        done = [False] * len(idx)
        hyps = [[] for _ in idx]
        for step in range(max(maxlen)):
            # no KV cache: the whole prefix is recomputed each step
            logits = model.decode(ys, None, mem, src_pad)[:, -1]
            nxt = logits.argmax(-1)
            for j in range(len(idx)):
                if done[j]:
                    continue
                tok = int(nxt[j])
                if tok == eos or step + 1 >= maxlen[j]:
                    done[j] = True
                else:
                    hyps[j].append(tok)
            if all(done):
                break
            ys = torch.cat([ys, nxt[:, None]], 1)
        for j, i in enumerate(idx):
            out[i] = hyps[j]
    model.train()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tokens")
    ap.add_argument("out")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--val-minutes", type=float, default=2)
    ap.add_argument("--max-tokens", type=int, default=4096)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--temperature", type=float, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)

    spec = json.load(open(os.path.join(a.tokens, "spec.json")))
    pieces = json.load(open(os.path.join(a.tokens, "pieces.json"), encoding="utf-8"))
    decode = decoder_of(pieces, spec["byte_base"], spec["first_piece"], len(spec["languages"]))
    train = {}
    for r in load_jsonl(os.path.join(a.tokens, "train.jsonl")):
        train.setdefault(r["pair"], []).append((r["src"], r["tgt"]))
    dev = {}
    for r in load_jsonl(os.path.join(a.tokens, "dev.jsonl")):
        dev.setdefault(r["pair"], []).append((r["src"], r["ref"]))
    pairs = sorted(train)
    w = [len(train[p]) ** (1 / a.temperature) for p in pairs]

    model = Seq2Seq(spec["vocab_size"], spec["model"])
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.98), eps=1e-9)
    sched = lambda s: a.lr * min((s + 1) / a.warmup, math.sqrt(a.warmup / (s + 1)))
    batches = {p: [] for p in pairs}
    curve = open(os.path.join(a.out, "dev.jsonl"), "w")
    start = time.time()
    # minutes are wall time since the start, validation included, as in the
    # Go run's dev.jsonl
    step, next_val = 0, a.val_minutes

    def validate():
        per = {}
        for p in sorted(dev):
            hyp = [decode(h) for h in greedy(model, [s for s, _ in dev[p]], spec["eos"], spec["bos"])]
            per[p] = corpus_chrf(hyp, [r for _, r in dev[p]])
            with open(os.path.join(a.out, f"dev-{step}.{p}.txt"), "w", encoding="utf-8") as f:
                f.write("\n".join(hyp) + "\n")
        v = sum(per.values()) / len(per)
        rec = {"step": step, "minutes": (time.time() - start) / 60, "chrf": v, "per_pair": per}
        curve.write(json.dumps(rec) + "\n")
        curve.flush()
        print(json.dumps(rec), file=sys.stderr)

    model.train()
    while (time.time() - start) / 60 < a.minutes:
        p = rng.choices(pairs, weights=w)[0]
        if not batches[p]:
            batches[p] = token_batches(train[p], a.max_tokens, rng)
        idx = batches[p].pop()
        src, src_pad = pad([train[p][i][0] for i in idx])
        tgt, _ = pad([train[p][i][1] for i in idx])
        tin, tout = tgt[:, :-1], tgt[:, 1:]
        tin_pad = tin == spec["pad"]
        logits = model.decode(tin, tin_pad, model.encode(src, src_pad), src_pad)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tout.reshape(-1),
                               ignore_index=spec["pad"], label_smoothing=a.label_smoothing)
        for g in opt.param_groups:
            g["lr"] = sched(step)
        opt.zero_grad()
        loss.backward()
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        step += 1
        if (time.time() - start) / 60 >= next_val:
            validate()
            next_val += a.val_minutes
    validate()


if __name__ == "__main__":
    main()
