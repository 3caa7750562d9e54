"""PyTorch reference for bench/engine.ts: per-op call overhead and a sep_conv_3x3 block fwd+bwd."""
import json, sys, time
import torch
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(0)
N = 200000
a = torch.ones(1)
for _ in range(2000): torch.add(a, a)
t = time.perf_counter()
for _ in range(N): torch.add(a, a)
add_us = (time.perf_counter() - t) / N * 1e6
ag = torch.ones(1, requires_grad=True)
t = time.perf_counter()
for _ in range(N // 4): torch.add(ag, ag)
addg_us = (time.perf_counter() - t) / (N // 4) * 1e6

B, C, H = 64, 16, 32
x = torch.randn(B, C, H, H)
w1 = torch.randn(C, 1, 3, 3, requires_grad=True); p1 = torch.randn(C, C, 1, 1, requires_grad=True)
w2 = torch.randn(C, 1, 3, 3, requires_grad=True); p2 = torch.randn(C, C, 1, 1, requires_grad=True)
def block():
    h = torch.relu(x)
    h = torch.conv2d(h, w1, None, 1, 1, 1, C); h = torch.conv2d(h, p1)
    h = torch.batch_norm(h, None, None, None, None, True, 0.1, 1e-5, True)
    h = torch.relu(h)
    h = torch.conv2d(h, w2, None, 1, 1, 1, C); h = torch.conv2d(h, p2)
    h = torch.batch_norm(h, None, None, None, None, True, 0.1, 1e-5, True)
    return h.mean()
for _ in range(3): block().backward()
times = []
for _ in range(15):
    t = time.perf_counter(); block().backward(); times.append((time.perf_counter() - t) * 1e3)
times.sort()
print(json.dumps({"add_us": add_us, "add_grad_us": addg_us, "block_ms_median": times[len(times)//2], "block_ms_min": times[0]}))
