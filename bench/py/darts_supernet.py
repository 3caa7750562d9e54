"""A PyTorch DARTS search supernet and search step, written from docs/spaces.md and docs/search.md, for the benches.

Module keys follow the DARTS naming (stem.0.weight, cells.3.preprocess0.op.1.weight,
cells.3._ops.5._ops.1.op.1.weight, classifier.weight), the same as the TS supernet's state dict,
so weights written by the TS bench load here by name. α is kept beside the modules (not a parameter).
"""
import json
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DARTS_OPS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect',
             'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5']
SPACES = {'darts': DARTS_OPS, 's2': ['skip_connect', 'sep_conv_3x3'], 's3': ['none', 'skip_connect', 'sep_conv_3x3']}


class Zero(nn.Module):
    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        return x.mul(0.) if self.stride == 1 else x[:, :, ::self.stride, ::self.stride].mul(0.)


class ReLUConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride, pad):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False), nn.Conv2d(cin, cout, k, stride, pad, bias=False),
                                nn.BatchNorm2d(cout, affine=False))

    def forward(self, x):
        return self.op(x)


class DilConv(nn.Module):
    def __init__(self, c, k, stride, pad, dil):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False),
                                nn.Conv2d(c, c, k, stride, pad, dilation=dil, groups=c, bias=False),
                                nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=False))

    def forward(self, x):
        return self.op(x)


class SepConv(nn.Module):
    def __init__(self, c, k, stride, pad):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False), nn.Conv2d(c, c, k, stride, pad, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=False),
            nn.ReLU(inplace=False), nn.Conv2d(c, c, k, 1, pad, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=False))

    def forward(self, x):
        return self.op(x)


class FactorizedReduce(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(cin, cout // 2, 1, 2, 0, bias=False)
        self.conv_2 = nn.Conv2d(cin, cout // 2, 1, 2, 0, bias=False)
        self.bn = nn.BatchNorm2d(cout, affine=False)

    def forward(self, x):
        r = self.relu(x)
        return self.bn(torch.cat([self.conv_1(r), self.conv_2(r[:, :, 1:, 1:])], dim=1))


def make_op(name, c, stride):
    if name == 'none':
        return Zero(stride)
    if name == 'max_pool_3x3':
        return nn.Sequential(nn.MaxPool2d(3, stride, 1), nn.BatchNorm2d(c, affine=False))
    if name == 'avg_pool_3x3':
        return nn.Sequential(nn.AvgPool2d(3, stride, 1, count_include_pad=False), nn.BatchNorm2d(c, affine=False))
    if name == 'skip_connect':
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c)
    if name == 'sep_conv_3x3':
        return SepConv(c, 3, stride, 1)
    if name == 'sep_conv_5x5':
        return SepConv(c, 5, stride, 2)
    if name == 'dil_conv_3x3':
        return DilConv(c, 3, stride, 2, 2)
    if name == 'dil_conv_5x5':
        return DilConv(c, 5, stride, 4, 2)
    raise ValueError(name)


class MixedOp(nn.Module):
    def __init__(self, names, c, stride):
        super().__init__()
        self._ops = nn.ModuleList([make_op(n, c, stride) for n in names])

    def forward(self, x, w):
        out = None
        for k, op in enumerate(self._ops):
            t = op(x) * w[k]
            out = t if out is None else out + t
        return out


class Cell(nn.Module):
    def __init__(self, names, steps, cpp, cp, c, reduction, reduction_prev):
        super().__init__()
        self.steps = steps
        self.preprocess0 = FactorizedReduce(cpp, c) if reduction_prev else ReLUConvBN(cpp, c, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(cp, c, 1, 1, 0)
        ops = []
        for i in range(steps):
            for j in range(i + 2):
                ops.append(MixedOp(names, c, 2 if reduction and j < 2 else 1))
        self._ops = nn.ModuleList(ops)

    def forward(self, s0, s1, weights):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        off = 0
        for i in range(self.steps):
            node = None
            for j, h in enumerate(states):
                t = self._ops[off + j](h, weights[off + j])
                node = t if node is None else node + t
            off += len(states)
            states.append(node)
        return torch.cat(states[-self.steps:], dim=1)


class Network(nn.Module):
    def __init__(self, space, C, layers, num_classes=10, steps=4, stem_mult=3):
        super().__init__()
        names = SPACES[space]
        cs = stem_mult * C
        self.stem = nn.Sequential(nn.Conv2d(3, cs, 3, padding=1, bias=False), nn.BatchNorm2d(cs))
        cpp, cp, cur = cs, cs, C
        red_prev = False
        cells = []
        for i in range(layers):
            red = i in (layers // 3, 2 * layers // 3)
            if red:
                cur *= 2
            cell = Cell(names, steps, cpp, cp, cur, red, red_prev)
            cell.reduction = red
            cells.append(cell)
            red_prev = red
            cpp, cp = cp, steps * cur
        self.cells = nn.ModuleList(cells)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(cp, num_classes)
        k = sum(i + 2 for i in range(steps))
        self.alphas_normal = (1e-3 * torch.randn(k, len(names))).requires_grad_(True)
        self.alphas_reduce = (1e-3 * torch.randn(k, len(names))).requires_grad_(True)

    def arch_parameters(self):
        return [self.alphas_normal, self.alphas_reduce]

    def forward(self, x):
        wn = F.softmax(self.alphas_normal, dim=-1)
        wr = F.softmax(self.alphas_reduce, dim=-1)
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, wr if cell.reduction else wn)
        return self.classifier(self.global_pooling(s1).flatten(1))

    def loss(self, x, y):
        return F.cross_entropy(self(x), y)


def num_params(model):
    return sum(p.numel() for p in model.parameters())


def _grad(out, inputs, **kw):
    """autograd.grad with zeros for unused inputs (tiny configs where every cell is a reduction cell)."""
    g = torch.autograd.grad(out, inputs, allow_unused=True, **kw)
    return [torch.zeros_like(x) if gi is None else gi for x, gi in zip(inputs, g)]


class Searcher:
    """One search step (docs/search.md#one-epoch): architecture step (Adam on α) then the SGD weight step (clip 5)."""

    def __init__(self, model, order, lr=0.025, momentum=0.9, wd=3e-4, arch_lr=3e-4, arch_wd=1e-3):
        self.m = model
        self.order = order
        self.lr, self.momentum, self.wd = lr, momentum, wd
        self.w_opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
        self.a_opt = torch.optim.Adam(model.arch_parameters(), lr=arch_lr, betas=(0.5, 0.999), weight_decay=arch_wd)

    def arch_grad(self, xt, yt, xv, yv):
        m = self.m
        alphas = m.arch_parameters()
        if self.order == 'first':
            return _grad(m.loss(xv, yv), alphas)
        ws = list(m.parameters())
        saved = [w.detach().clone() for w in ws]
        g = _grad(m.loss(xt, yt), ws)
        with torch.no_grad():  # virtual step w' = w − η(μ·m + g + λw), no clipping
            for w, gi in zip(ws, g):
                d = gi + self.wd * w
                buf = self.w_opt.state.get(w, {}).get('momentum_buffer')
                if buf is not None:
                    d = d + self.momentum * buf
                w.sub_(self.lr * d)
        bufs = [b.clone() for b in m.buffers()]
        gv = _grad(m.loss(xv, yv), ws + alphas)
        v, g1 = gv[:len(ws)], gv[len(ws):]
        with torch.no_grad():
            for b, s in zip(m.buffers(), bufs):
                b.copy_(s)
        eps = 0.01 / torch.cat([t.flatten() for t in v]).norm().item()

        def at(sign):
            with torch.no_grad():
                for w, s, vi in zip(ws, saved, v):
                    w.copy_(s).add_(vi, alpha=sign * eps)
            return _grad(m.loss(xt, yt), alphas)

        gp = at(1.0)
        gm = at(-1.0)
        with torch.no_grad():
            for w, s in zip(ws, saved):
                w.copy_(s)
        return [a - self.lr * (p - q) / (2 * eps) for a, p, q in zip(g1, gp, gm)]

    def arch_step(self, xt, yt, xv, yv):
        g = self.arch_grad(xt, yt, xv, yv)
        for a, gi in zip(self.m.arch_parameters(), g):
            a.grad = gi.detach()
        self.a_opt.step()
        self.a_opt.zero_grad()

    def weight_step(self, xt, yt):
        self.w_opt.zero_grad()
        loss = self.m.loss(xt, yt)
        loss.backward()
        nn.utils.clip_grad_norm_(self.m.parameters(), 5.0)
        self.w_opt.step()
        return loss.item()


def read_safetensors(path):
    """A minimal safetensors reader (numpy): {name: np.ndarray}."""
    dt = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32}
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for k, info in header.items():
        if k == '__metadata__':
            continue
        a, b = info['data_offsets']
        out[k] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=dt[info['dtype']]).reshape(info['shape']).copy()
    return out
