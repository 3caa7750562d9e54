"""PyTorch twin of bench/depthwise.ts: a depthwise conv's forward + backward (input and weight
gradients) for the DARTS geometries and a 1×1 C → C conv, median ms over N repetitions, one JSON line on stdout.
--forward: the forward alone, under no_grad."""
import argparse, json, resource, time
import torch

p = argparse.ArgumentParser()
p.add_argument('--batch', type=int, default=64)
p.add_argument('--C', type=int, default=16)
p.add_argument('--size', type=int, default=32)
p.add_argument('--reps', type=int, default=15)
p.add_argument('--threads', type=int, default=1)
p.add_argument('--forward', action='store_true')
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
GEOMS = [('sep 3x3', 3, 1, 1, a.C), ('sep 5x5', 5, 2, 1, a.C), ('dil 3x3', 3, 2, 2, a.C), ('dil 5x5', 5, 4, 2, a.C), ('1x1 C→C', 1, 0, 1, 1)]
out = {}
x = torch.randn(a.batch, a.C, a.size, a.size, requires_grad=True)
for name, k, pad, dil, groups in GEOMS:
    w = torch.randn(a.C, a.C // groups, k, k, requires_grad=True)
    def once():
        if a.forward:
            with torch.no_grad():
                torch.nn.functional.conv2d(x, w, None, 1, pad, dil, groups)
            return
        y = torch.nn.functional.conv2d(x, w, None, 1, pad, dil, groups)
        gx, gw = torch.autograd.grad(y.square().mean(), [x, w])
    for _ in range(3):
        once()
    ts = []
    for _ in range(a.reps):
        t0 = time.perf_counter(); once(); ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort()
    out[name] = ts[len(ts) // 2]
print(json.dumps({'impl': 'py', 'ms': out, 'maxrss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
