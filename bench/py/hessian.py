"""PyTorch twin of bench/hessian.ts: the full α-Hessian computed reference-style, row by row
(one forward, ∇α L with create_graph, then one double-backward per row on the retained graph),
then its eigenvalues (numpy). With --state, weights, α and the batch come from a safetensors file
written by the TS bench, so both sides evaluate the same function and λ_max must agree.

/usr/bin/python3 bench/py/hessian.py --space s2 --layers 5 --C 8 --batch 32 [--state file] [--threads 2]
Progress goes to stderr; the last stdout line is one JSON object.
"""
import argparse, json, resource, sys, time
import numpy as np
import torch
from darts_supernet import Network, num_params, read_safetensors

ap = argparse.ArgumentParser()
ap.add_argument('--space', default='s2')
ap.add_argument('--layers', type=int, default=5)
ap.add_argument('--C', type=int, default=8)
ap.add_argument('--batch', type=int, default=32)
ap.add_argument('--state', default=None)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--seed', type=int, default=0)
a = ap.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
model = Network(a.space, a.C, a.layers, 10)
model.train()
if a.state:
    st = read_safetensors(a.state)
    params = dict(model.named_parameters())
    missing = [k for k in params if k not in st]
    if missing:
        print(f'state file lacks {len(missing)} parameters, e.g. {missing[:3]}', file=sys.stderr)
        sys.exit(2)
    with torch.no_grad():
        for k, p in params.items():
            if tuple(st[k].shape) != tuple(p.shape):
                print(f'shape mismatch for {k}: {st[k].shape} vs {tuple(p.shape)}', file=sys.stderr)
                sys.exit(2)
            p.copy_(torch.from_numpy(st[k]))
        model.alphas_normal.copy_(torch.from_numpy(st['alpha_normal']))
        model.alphas_reduce.copy_(torch.from_numpy(st['alpha_reduce']))
    x = torch.from_numpy(st['x'])
    y = torch.from_numpy(st['y']).long()
else:
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
H = np.zeros((n, n))
for i in range(n):
    row = torch.autograd.grad(g[i], alphas, retain_graph=True)
    H[i] = torch.cat([r.flatten() for r in row]).double().numpy()
    if (i + 1) % max(1, n // 8) == 0:
        print(f'  [py hessian {a.space}] row {i + 1}/{n}: {time.perf_counter() - t1:.1f} s', file=sys.stderr, flush=True)
t2 = time.perf_counter()
asym = float(np.abs(H - H.T).max() / max(1e-30, np.abs(H).max()))
Hs = 0.5 * (H + H.T)
ev = np.linalg.eigvalsh(Hs)
print(json.dumps({
    'impl': 'pytorch', 'threads': torch.get_num_threads(), 'params': num_params(model), 'alphas': n,
    'loss': loss.item(), 'build_s': t1 - t0, 'rows_s': t2 - t1, 'total_s': t2 - t0,
    'lambda_max': float(ev[-1]), 'lambda_min': float(ev[0]), 'asymmetry': asym,
    'maxrss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
