"""
PyTorch twin of bench/eval-train.ts: training steps of the DARTS evaluation network
(NetworkCIFAR, the model of test/eval/py/darts_eval.py) for DARTS_V2 — forward with the
auxiliary head, loss + 0.4·aux loss, backward, clip 5, SGD(0.025, momentum 0.9, wd 3e-4),
drop path 0.2·e/E at a fixed probability — on random 3×32×32 inputs, 10 classes.
Prints one JSON line: {impl, threads, params, params_aux, step_s, losses, maxrss_kb}.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "eval", "py"))
from darts_eval import NetworkCIFAR  # noqa: E402

DARTS_V2 = {
    "normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]],
    "normalConcat": [2, 3, 4, 5],
    "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1], ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]],
    "reduceConcat": [2, 3, 4, 5],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=20)
    ap.add_argument("--C", type=int, default=36)
    ap.add_argument("--batch", type=int, default=96)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--drop-path", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = NetworkCIFAR(a.C, 10, a.layers, True, DARTS_V2)
    model.train()
    model.drop_path_prob = a.drop_path
    opt = torch.optim.SGD(model.parameters(), lr=0.025, momentum=0.9, weight_decay=3e-4)
    crit = nn.CrossEntropyLoss()
    params_aux = sum(p.numel() for p in model.parameters())
    params = sum(p.numel() for n, p in model.named_parameters() if "auxiliary" not in n)
    out = {"impl": "py", "threads": torch.get_num_threads(), "params": params, "params_aux": params_aux, "step_s": [], "losses": []}
    for i in range(a.warmup + a.steps):
        x = torch.randn(a.batch, 3, 32, 32)
        y = torch.randint(0, 10, (a.batch,))
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits, aux = model(x)
        loss = crit(logits, y) + 0.4 * crit(aux, y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        dt = time.perf_counter() - t0
        tag = "warm-up" if i < a.warmup else f"step {i - a.warmup + 1}/{a.steps}"
        print(f"  [py] {tag}: {dt:.2f} s, loss {loss.item():.4f}", file=sys.stderr)
        if i >= a.warmup:
            out["step_s"].append(dt)
            out["losses"].append(loss.item())
    out["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(out))


if __name__ == "__main__":
    main()
