"""PyTorch twin of bench/lm-train.ts: time training steps of the DARTS_V2 evaluation model on random tokens.

/usr/bin/python3 bench/py/lm_train.py --vocab V --hidden H --batch B --bptt T [--warmup 1] [--steps 5] [--threads 2] [--seed 0]

Written from docs/lm.md (Space, Models, Training the evaluation model): embedding V x H (uniform
+-0.04) tied with the decoder (own bias), embedding dropout 0.1 (whole rows), locked dropout 0.2 on
the input and 0.75 on the output, the genotype's cell (W0 [2H, 2H], one W_i [H, 2H] per node fed by
its gene's source state, variational masks 0.75 on x and 0.25 on h, output = mean of nodes 1..8, no
batch norm); loss = NLL + TAR 1e-3 on the raw outputs; clip 0.25; SGD lr 20 (x seq_len/bptt = 1 at a
fixed length), weight decay 8e-7. Progress goes to stderr; the last stdout line is one JSON object.
"""
import argparse, json, resource, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument('--vocab', type=int, default=10000)
ap.add_argument('--hidden', type=int, default=256)
ap.add_argument('--batch', type=int, default=64)
ap.add_argument('--bptt', type=int, default=35)
ap.add_argument('--warmup', type=int, default=1)
ap.add_argument('--steps', type=int, default=5)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--seed', type=int, default=0)
a = ap.parse_args()

# DARTS_V2 (the DARTS paper's recurrent cell): (op, source state) per node 1..8
GENES = [('sigmoid', 0), ('relu', 1), ('relu', 1), ('identity', 1), ('tanh', 2), ('sigmoid', 5), ('tanh', 3), ('relu', 5)]
ACT = {'tanh': torch.tanh, 'relu': torch.relu, 'sigmoid': torch.sigmoid, 'identity': lambda x: x}
R = 0.04


def uniform(*shape):
    return nn.Parameter(torch.empty(*shape).uniform_(-R, R))


class Model(nn.Module):
    def __init__(self, V, H, dropout=0.75, dropouth=0.25, dropoutx=0.75, dropouti=0.2, dropoute=0.1):
        super().__init__()
        self.H = H
        self.d, self.dh, self.dx, self.di, self.de = dropout, dropouth, dropoutx, dropouti, dropoute
        self.emb = uniform(V, H)
        self.bias = nn.Parameter(torch.zeros(V))
        self.W0 = uniform(2 * H, 2 * H)
        self.Ws = nn.ParameterList([uniform(H, 2 * H) for _ in GENES])

    def locked(self, x, p):
        if not self.training or not p:
            return x
        return x * (x.new_empty(1, x.size(1), x.size(2)).bernoulli_(1 - p) / (1 - p))

    def cell(self, x, h, mx, mh):
        H = self.H
        c0, h0 = torch.split(torch.cat([x * mx, h * mh], -1) @ self.W0, H, -1)
        states = [h + c0.sigmoid() * (h0.tanh() - h)]
        for i, (op, src) in enumerate(GENES):
            s = states[src]
            c, hh = torch.split((s * mh) @ self.Ws[i], H, -1)
            states.append(s + c.sigmoid() * (ACT[op](hh) - s))
        return torch.stack(states[1:]).mean(0)

    def forward(self, inp, hidden):
        T, B = inp.shape
        w = self.emb
        if self.training and self.de:
            w = w * (w.new_empty(w.size(0), 1).bernoulli_(1 - self.de) / (1 - self.de))
        emb = self.locked(F.embedding(inp, w), self.di)
        keep = lambda p, D: torch.floor(torch.rand(B, D) + (1 - p)) / (1 - p)
        mx, mh = keep(self.dx, self.H), keep(self.dh, self.H)
        h = hidden[0]
        outs = []
        for t in range(T):
            h = self.cell(emb[t], h, mx, mh)
            outs.append(h)
        raw = torch.stack(outs)
        out = self.locked(raw, self.d)
        return F.linear(out.view(T * B, self.H), self.emb, self.bias), raw, raw[-1:]


torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
V, H, B, T = a.vocab, a.hidden, a.batch, a.bptt
model = Model(V, H)
model.train()
ws = list(model.parameters())
opt = torch.optim.SGD(ws, lr=20, weight_decay=8e-7)
h = torch.zeros(1, B, H)
step_s, losses = [], []
for i in range(a.warmup + a.steps):
    ids = torch.randint(0, V, (T + 1, B))
    t0 = time.perf_counter()
    opt.zero_grad()
    logits, raw, hn = model(ids[:-1], h)
    loss = F.cross_entropy(logits, ids[1:].reshape(-1))
    (loss + 1e-3 * (raw[1:] - raw[:-1]).pow(2).mean()).backward()
    torch.nn.utils.clip_grad_norm_(ws, 0.25)
    opt.step()
    lv = loss.item()
    t1 = time.perf_counter()
    h = hn.detach()
    if not (lv == lv and abs(lv) < float('inf')):
        print(f'non-finite loss {lv} at step {i}', file=sys.stderr)
        sys.exit(2)
    tag = 'warm-up' if i < a.warmup else f'step {i - a.warmup + 1}/{a.steps}'
    print(f'  [py] {tag}: {t1 - t0:.3f} s, loss {lv:.4f}', file=sys.stderr, flush=True)
    if i >= a.warmup:
        step_s.append(t1 - t0); losses.append(lv)

print(json.dumps({
    'impl': 'pytorch', 'torch': torch.__version__, 'threads': torch.get_num_threads(),
    'params': sum(p.numel() for p in ws), 'step_s': step_s, 'losses': losses,
    'maxrss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
