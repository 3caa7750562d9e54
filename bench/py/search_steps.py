"""PyTorch twin of bench/search-steps.ts: time DARTS search steps (1st or 2nd order) on random data.

/usr/bin/python3 bench/py/search_steps.py --order first|second --layers L --C C --space darts --batch B
    [--warmup 1] [--steps N] [--threads 2] [--seed 0]
Progress goes to stderr; the last stdout line is one JSON object.
"""
import argparse, json, resource, sys, time
import torch
from darts_supernet import Network, Searcher, num_params

ap = argparse.ArgumentParser()
ap.add_argument('--order', choices=['first', 'second'], required=True)
ap.add_argument('--layers', type=int, default=5)
ap.add_argument('--C', type=int, default=8)
ap.add_argument('--space', default='darts')
ap.add_argument('--batch', type=int, default=32)
ap.add_argument('--warmup', type=int, default=1)
ap.add_argument('--steps', type=int, default=3)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--seed', type=int, default=0)
ap.add_argument('--profile', default=None, help='write torch.profiler rows of the timed steps to this JSON file')
a = ap.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
model = Network(a.space, a.C, a.layers, 10)
model.train()
s = Searcher(model, a.order)
B = a.batch


def batch():
    return torch.randn(B, 3, 32, 32), torch.randint(0, 10, (B,))


step_s, arch_s, weight_s, losses = [], [], [], []
prof = None
for i in range(a.warmup + a.steps):
    if a.profile and i == a.warmup:
        prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
        prof.__enter__()
    (xt, yt), (xv, yv) = batch(), batch()
    t0 = time.perf_counter()
    s.arch_step(xt, yt, xv, yv)
    t1 = time.perf_counter()
    loss = s.weight_step(xt, yt)
    t2 = time.perf_counter()
    if not (loss == loss and abs(loss) < float('inf')):
        print(f'non-finite loss {loss} at step {i}', file=sys.stderr)
        sys.exit(2)
    tag = 'warm-up' if i < a.warmup else f'step {i - a.warmup + 1}/{a.steps}'
    print(f'  [py {a.order}] {tag}: {t2 - t0:.2f} s (arch {t1 - t0:.2f} / weight {t2 - t1:.2f}), loss {loss:.4f}',
          file=sys.stderr, flush=True)
    if i >= a.warmup:
        step_s.append(t2 - t0); arch_s.append(t1 - t0); weight_s.append(t2 - t1); losses.append(loss)

if prof is not None:
    prof.__exit__(None, None, None)
    rows = [{'name': e.key, 'calls': e.count, 'totalUs': e.cpu_time_total, 'selfUs': e.self_cpu_time_total}
            for e in prof.key_averages()]
    rows.sort(key=lambda r: -r['selfUs'])
    with open(a.profile, 'w') as f:
        json.dump(rows, f)

print(json.dumps({
    'impl': 'pytorch', 'torch': torch.__version__, 'threads': torch.get_num_threads(),
    'params': num_params(model), 'alphas': sum(x.numel() for x in model.arch_parameters()),
    'step_s': step_s, 'arch_s': arch_s, 'weight_s': weight_s, 'losses': losses,
    'maxrss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
