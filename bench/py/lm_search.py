"""PyTorch twin of bench/lm-search.ts: time steps of the DARTS recurrent-cell search on random tokens.

/usr/bin/python3 bench/py/lm_search.py --order first|second --vocab V --hidden H --batch B --bptt T
    [--warmup 1] [--steps 3] [--threads 2] [--seed 0]

Written from docs/lm.md (Space, Models, Search): embedding V x H (uniform +-0.04) tied with the
decoder (own bias), locked dropout 0.2 on the input and 0.75 on the output, the search cell
(W0 [2H, 2H], W_1..8 [H, 2H], variational masks 0.75 on x and 0.25 on h, batch norm without affine on
s0 and every node, output = mean of the 8 nodes); the architecture step with the reference's
unrolled virtual step (clip 0.25, plain SGD, product by central differences at w'); the weight step
with TAR 1e-3, clip 0.25, SGD lr 20 and weight decay 5e-7. Progress goes to stderr; the last stdout
line is one JSON object.
"""
import argparse, json, resource, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument('--order', choices=['first', 'second'], required=True)
ap.add_argument('--vocab', type=int, default=10000)
ap.add_argument('--hidden', type=int, default=64)
ap.add_argument('--batch', type=int, default=32)
ap.add_argument('--bptt', type=int, default=35)
ap.add_argument('--warmup', type=int, default=1)
ap.add_argument('--steps', type=int, default=3)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--seed', type=int, default=0)
a = ap.parse_args()

OPS = ['none', 'tanh', 'relu', 'sigmoid', 'identity']
STEPS = 8
ACT = {'tanh': torch.tanh, 'relu': torch.relu, 'sigmoid': torch.sigmoid, 'identity': lambda x: x}
R = 0.04


def uniform(*shape):
    return nn.Parameter(torch.empty(*shape).uniform_(-R, R))


class Model(nn.Module):
    def __init__(self, V, H, dropout=0.75, dropouth=0.25, dropoutx=0.75, dropouti=0.2):
        super().__init__()
        self.H, self.V = H, V
        self.d, self.dh, self.dx, self.di = dropout, dropouth, dropoutx, dropouti
        self.emb = uniform(V, H)
        self.bias = nn.Parameter(torch.zeros(V))
        self.W0 = uniform(2 * H, 2 * H)
        self.Ws = nn.ParameterList([uniform(H, 2 * H) for _ in range(STEPS)])
        self.bn = nn.BatchNorm1d(H, affine=False)
        self.alpha = (1e-3 * torch.randn(STEPS * (STEPS + 1) // 2, len(OPS))).requires_grad_()

    def locked(self, x, p):
        if not self.training or not p:
            return x
        m = x.new_empty(1, x.size(1), x.size(2)).bernoulli_(1 - p) / (1 - p)
        return x * m

    def cell(self, x, h, mx, mh, probs):
        H = self.H
        c0, h0 = torch.split(torch.cat([x * mx, h * mh], -1) @ self.W0, H, -1)
        s0 = self.bn(h + c0.sigmoid() * (h0.tanh() - h))
        states = s0.unsqueeze(0)
        off = 0
        for i in range(STEPS):
            ch = (states * mh.unsqueeze(0)).view(-1, H) @ self.Ws[i]
            c, hh = torch.split(ch.view(i + 1, -1, 2 * H), H, -1)
            c = c.sigmoid()
            s = None
            for k, op in enumerate(OPS):
                if op == 'none':
                    continue
                t = (probs[off:off + i + 1, k].view(-1, 1, 1) * (states + c * (ACT[op](hh) - states))).sum(0)
                s = t if s is None else s + t
            states = torch.cat([states, self.bn(s).unsqueeze(0)], 0)
            off += i + 1
        return states[1:].mean(0)

    def forward(self, inp, hidden):
        T, B = inp.shape
        emb = self.locked(F.embedding(inp, self.emb), self.di)
        keep = lambda p, D: torch.floor(torch.rand(B, D) + (1 - p)) / (1 - p)
        mx, mh = (keep(self.dx, self.H), keep(self.dh, self.H)) if self.training else (torch.ones(B, self.H), torch.ones(B, self.H))
        probs = F.softmax(self.alpha, -1)
        h = hidden[0]
        outs = []
        for t in range(T):
            h = self.cell(emb[t], h, mx, mh, probs)
            outs.append(h)
        raw = torch.stack(outs)
        out = self.locked(raw, self.d)
        logits = F.linear(out.view(T * B, self.H), self.emb, self.bias)
        return logits, raw, raw[-1:].clone()

    def loss(self, inp, tgt, hidden):
        logits, raw, h = self(inp, hidden)
        return F.cross_entropy(logits, tgt.reshape(-1)), raw, h


def clip_(gs, max_norm):
    total = torch.sqrt(sum((g * g).sum() for g in gs)).item()
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in gs:
            g.mul_(coef)


torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
V, H, B, T = a.vocab, a.hidden, a.batch, a.bptt
model = Model(V, H)
model.train()
ws = list(model.parameters())
opt = torch.optim.SGD(ws, lr=20, weight_decay=5e-7)
aopt = torch.optim.Adam([model.alpha], lr=3e-3, betas=(0.9, 0.999), weight_decay=1e-3)
LR, WD, CLIP = 20.0, 5e-7, 0.25


def arch_step(tr, htr, va, hva):
    aopt.zero_grad()
    if a.order == 'first':
        l, _, h = model.loss(va[0], va[1], hva)
        g = torch.autograd.grad(l, [model.alpha])[0]
    else:
        saved = [w.detach().clone() for w in ws]
        gt = list(torch.autograd.grad(model.loss(tr[0], tr[1], htr)[0], ws))
        clip_(gt, CLIP)
        with torch.no_grad():
            for w, g in zip(ws, gt):
                w.sub_(LR * (g + WD * w))
        saved_bufs = [b.clone() for b in model.buffers()]
        l, _, h = model.loss(va[0], va[1], hva)
        gv = torch.autograd.grad(l, ws + [model.alpha])
        v, g1 = list(gv[:-1]), gv[-1]
        clip_(v, CLIP)
        with torch.no_grad():
            v = [x + WD * w for x, w in zip(v, ws)]
            base = [w.detach().clone() for w in ws]
        r = 0.01 / torch.sqrt(sum((x * x).sum() for x in v)).item()
        gs = []
        for sign in (1, -1):
            with torch.no_grad():
                for w, b0, x in zip(ws, base, v):
                    w.copy_(b0 + sign * r * x)
            gs.append(torch.autograd.grad(model.loss(tr[0], tr[1], htr)[0], [model.alpha])[0])
        with torch.no_grad():
            for bb, s in zip(model.buffers(), saved_bufs):
                bb.copy_(s)
            for w, s in zip(ws, saved):
                w.copy_(s)
        g = g1 - LR * (gs[0] - gs[1]) / (2 * r + 1e-10)
    model.alpha.grad = g
    aopt.step()
    return h.detach()


def weight_step(tr, htr):
    opt.zero_grad()
    l, raw, h = model.loss(tr[0], tr[1], htr)
    total = l + 1e-3 * (raw[1:] - raw[:-1]).pow(2).mean()
    total.backward()
    torch.nn.utils.clip_grad_norm_(ws, CLIP)
    opt.step()
    return l.item(), h.detach()


def window():
    ids = torch.randint(0, V, (T + 1, B))
    return ids[:-1], ids[1:]


hT = torch.zeros(1, B, H)
hV = torch.zeros(1, B, H)
step_s, arch_s, weight_s, losses = [], [], [], []
for i in range(a.warmup + a.steps):
    tr, va = window(), window()
    t0 = time.perf_counter()
    hV2 = arch_step(tr, hT, va, hV)
    t1 = time.perf_counter()
    loss, hT2 = weight_step(tr, hT)
    t2 = time.perf_counter()
    hT, hV = hT2, hV2
    if not (loss == loss and abs(loss) < float('inf')):
        print(f'non-finite loss {loss} at step {i}', file=sys.stderr)
        sys.exit(2)
    tag = 'warm-up' if i < a.warmup else f'step {i - a.warmup + 1}/{a.steps}'
    print(f'  [py {a.order}] {tag}: {t2 - t0:.2f} s (arch {t1 - t0:.2f} / weight {t2 - t1:.2f}), loss {loss:.4f}', file=sys.stderr, flush=True)
    if i >= a.warmup:
        step_s.append(t2 - t0); arch_s.append(t1 - t0); weight_s.append(t2 - t1); losses.append(loss)

print(json.dumps({
    'impl': 'pytorch', 'torch': torch.__version__, 'threads': torch.get_num_threads(),
    'params': sum(p.numel() for p in ws), 'alphas': model.alpha.numel(),
    'step_s': step_s, 'arch_s': arch_s, 'weight_s': weight_s, 'losses': losses,
    'maxrss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
