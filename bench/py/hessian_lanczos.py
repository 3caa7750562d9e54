"""PyTorch twin of the Hessian row of bench/speed.ts: λ_max of the α-Hessian by Lanczos with full
reorthogonalisation (numpy), a fixed number of exact HVPs on one retained create_graph graph, the
way the TS Hessian monitor does it (graph build + products). Random weights, α += 0.3·randn.

/usr/bin/python3 bench/py/hessian_lanczos.py --space darts --layers 5 --C 8 --batch 32 --hvps 20 [--threads 2]
Progress goes to stderr; the last stdout line is one JSON object.
"""
import argparse, json, resource, sys, time
import numpy as np
import torch
from darts_supernet import Network, num_params

ap = argparse.ArgumentParser()
ap.add_argument('--space', default='darts')
ap.add_argument('--layers', type=int, default=5)
ap.add_argument('--C', type=int, default=8)
ap.add_argument('--batch', type=int, default=32)
ap.add_argument('--hvps', type=int, default=20)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--seed', type=int, default=0)
a = ap.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
model = Network(a.space, a.C, a.layers, 10)
model.train()
with torch.no_grad():
    for al in model.arch_parameters():
        al.add_(0.3 * torch.randn_like(al))
x = torch.randn(a.batch, 3, 32, 32)
y = torch.randint(0, 10, (a.batch,))
alphas = model.arch_parameters()

t0 = time.perf_counter()
loss = model.loss(x, y)
g = torch.cat([t.flatten() for t in torch.autograd.grad(loss, alphas, create_graph=True)])
t1 = time.perf_counter()
n = g.numel()


def hvp(v):
    vt = torch.from_numpy(v).to(g.dtype)
    hv = torch.autograd.grad((g * vt).sum(), alphas, retain_graph=True)
    return torch.cat([h.flatten() for h in hv]).double().numpy()


k = min(a.hvps, n)
rng = np.random.default_rng(a.seed + 2)
Q = np.zeros((k, n))
q = rng.standard_normal(n)
q /= np.linalg.norm(q)
alpha_, beta_ = [], []
for j in range(k):
    Q[j] = q
    w = hvp(q)
    al = float(w @ q)
    w -= Q[: j + 1].T @ (Q[: j + 1] @ w)  # full reorthogonalisation (twice, as is customary)
    w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
    alpha_.append(al)
    b = float(np.linalg.norm(w))
    if j + 1 < k:
        if b < 1e-12:
            break
        beta_.append(b)
        q = w / b
m = len(alpha_)
T = np.diag(alpha_) + np.diag(beta_[: m - 1], 1) + np.diag(beta_[: m - 1], -1)
ev = np.linalg.eigvalsh(T)
t2 = time.perf_counter()
print(f'  [py lanczos {a.space}] {m} HVPs: λ_max {ev[-1]:.6g}, build {t1 - t0:.2f} s + Lanczos {t2 - t1:.2f} s',
      file=sys.stderr, flush=True)
print(json.dumps({
    'impl': 'pytorch', 'threads': torch.get_num_threads(), 'params': num_params(model), 'alphas': n,
    'hvps': m, 'build_s': t1 - t0, 'lanczos_s': t2 - t1, 'total_s': t2 - t0, 'lambda_max': float(ev[-1]),
    'maxrss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
