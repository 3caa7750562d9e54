import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, randn, rand, grad, tidy, manualSeed, F, cat, stack } from '../../src/torch/index.js';

const D = { dtype: 'float64' as const };

/**
 * Compare autograd's gradient of sum(f(x) · w) with central finite differences, in float64.
 * w is a fixed random weighting so every output element matters.
 */
function gradcheck(name: string, f: (x: Tensor) => Tensor, x0: Tensor, o: { eps?: number; tol?: number; seedEach?: number } = {}): void {
  tidy(() => {
    const eps = o.eps ?? 1e-6;
    const tol = o.tol ?? 1e-6;
    const run = (x: Tensor): Tensor => {
      if (o.seedEach !== undefined) manualSeed(o.seedEach);
      return f(x);
    };
    const x = x0.detach().clone().requiresGrad_();
    const out0 = run(x);
    const w = randn(out0.shape, D);
    const loss = out0.mul(w).sum();
    const [g] = grad(loss, [x]);
    const ga = g!.toArray() as Float64Array;
    const base = x0.detach().clone().contiguous();
    const flat = base.toArray() as Float64Array;
    const n = flat.length;
    // check a bounded number of coordinates for speed
    const idx = n <= 60 ? [...Array(n).keys()] : Array.from({ length: 60 }, (_, k) => Math.floor((k * n) / 60));
    let maxErr = 0;
    let maxRef = 0;
    for (const i of idx) {
      const plus = Float64Array.from(flat);
      plus[i]! += eps;
      const minus = Float64Array.from(flat);
      minus[i]! -= eps;
      const lp = tidy(() => run(tensor(plus, base.shape)).mul(w).sum().item());
      const lm = tidy(() => run(tensor(minus, base.shape)).mul(w).sum().item());
      const fd = (lp - lm) / (2 * eps);
      maxErr = Math.max(maxErr, Math.abs(fd - ga[i]!));
      maxRef = Math.max(maxRef, Math.abs(fd));
    }
    const rel = maxErr / Math.max(1, maxRef);
    assert.ok(rel < tol, `${name}: gradient differs from finite differences by ${rel} (tolerance ${tol})`);
  });
}

test('every op: autograd gradient equals central finite differences (float64)', () => {
  manualSeed(1);
  const x = randn([2, 3, 6, 6], D);
  const pos = rand([2, 3, 6, 6], D).add(0.5);
  const v = randn([2, 5], D);
  const cases: Array<[string, (t: Tensor) => Tensor, Tensor, object?]> = [
    ['add', (t) => t.add(t.mul(t), 0.5), v],
    ['sub', (t) => t.sub(3).sub(t.square(), 2), v],
    ['mul', (t) => t.mul(t).mul(1.5), v],
    ['div', (t) => t.div(t.square().add(1)), v],
    ['pow', (t) => t.pow(3), v],
    ['exp', (t) => t.exp(), v],
    ['log', (t) => t.log(), pos],
    ['sqrt', (t) => t.sqrt(), pos],
    ['tanh', (t) => t.tanh(), v],
    ['sigmoid', (t) => t.sigmoid(), v],
    ['relu', (t) => t.relu(), v.add(v.sign().mul(0.1))],
    ['matmul', (t) => t.matmul(t.t()), v],
    ['sum/mean dims', (t) => t.sum(1).add(t.mean(0).sum()), v],
    ['norm', (t) => t.norm(2, 1), v],
    ['max', (t) => t.max(1), v],
    ['view/permute/reshape', (t) => t.view(2, 3, 36).permute(2, 0, 1).reshape(-1, 6).mul(t.flatten().narrow(0, 0, 216).view(36, 6)), x],
    ['strided slice x[:, :, ::2, ::2]', (t) => t.index(null, null, '::2', '::2').mul(2), x],
    ['shifted slice x[:, :, 1:, 1:]', (t) => t.index(':', ':', '1:', '1:').square(), x],
    ['cat/stack', (t) => cat([t, t.mul(2)], 1).sum(1).add(stack([t, t.square()], 0).sum(0).sum(1)), x],
    ['conv2d stride/pad', (t) => F.conv2d(t, wConv, null, { stride: 2, padding: 1 }), x],
    ['conv2d dilation', (t) => F.conv2d(t, wConv, null, { padding: 2, dilation: 2 }), x],
    ['conv2d depthwise (groups)', (t) => F.conv2d(t, wDw, null, { padding: 2, groups: 3 }), x],
    ['conv2d weight grad', (w) => F.conv2d(x, w, null, { padding: 1 }), wConv],
    ['batch_norm train, affine', (t) => F.batchNorm(t, null, null, { weight: bnW, bias: bnB, training: true }), x],
    ['batch_norm train, no affine', (t) => F.batchNorm(t, null, null, { training: true }), x],
    ['batch_norm eval (running stats)', (t) => F.batchNorm(t, rm, rv, { weight: bnW, bias: bnB, training: false }), x],
    ['max_pool2d 3x3 s1 p1', (t) => F.maxPool2d(t, 3, { stride: 1, padding: 1 }), x],
    ['avg_pool2d count_include_pad=false', (t) => F.avgPool2d(t, 3, { stride: 2, padding: 1, countIncludePad: false }), x],
    ['adaptive_avg_pool2d', (t) => F.adaptiveAvgPool2d(t, 1), x],
    ['linear', (t) => F.linear(t, linW, linB), v],
    ['softmax', (t) => F.softmax(t, 1), v],
    ['log_softmax', (t) => F.logSoftmax(t, 1), v],
    ['cross_entropy', (t) => F.crossEntropy(t, target), v],
    ['embedding (weight)', (w) => F.embedding(w, emIdx), linW],
    ['dropout (fixed seed)', (t) => F.dropout(t, 0.3, true), v, { seedEach: 7 }],
  ];
  for (const [name, f, x0, o] of cases) gradcheck(name, f, x0, (o ?? {}) as object);
});

// shared constants for the cases above
manualSeed(2);
const wConv = randn([4, 3, 3, 3], D);
const wDw = randn([3, 1, 3, 3], D);
const bnW = rand([3], D).add(0.5);
const bnB = randn([3], D);
const rm = randn([3], D);
const rv = rand([3], D).add(0.5);
const linW = randn([4, 5], D);
const linB = randn([4], D);
const target = tensor(new BigInt64Array([1n, 3n]), [2]);
const emIdx = tensor(new BigInt64Array([0n, 2n, 2n, 3n]), [4]);

test('Hessian-vector product through conv → BN(train) → ReLU → dilated depthwise conv → pool → linear → CE matches finite differences of the gradient (float64, rel ≤ 1e-6)', () => {
  tidy(() => {
    manualSeed(3);
    const B = 8;
    const x = randn([B, 3, 8, 8], D);
    const y = tensor(new BigInt64Array(Array.from({ length: B }, (_, i) => BigInt(i % 5))), [B]);
    const w1 = randn([6, 3, 3, 3], D).mul(0.3);
    const wd = randn([6, 1, 3, 3], D).mul(0.3);
    const wl = randn([5, 6], D).mul(0.3);
    const params = [w1, wd, wl];
    const loss = (ps: Tensor[]): Tensor => {
      const h1 = F.conv2d(x, ps[0]!, null, { padding: 1 });
      const h2 = F.batchNorm(h1, null, null, { training: true }).relu();
      const h3 = F.conv2d(h2, ps[1]!, null, { padding: 2, dilation: 2, groups: 6 });
      const h4 = F.avgPool2d(F.maxPool2d(h3, 3, { stride: 1, padding: 1 }), 2);
      const h5 = F.adaptiveAvgPool2d(h4, 1).flatten(1);
      return F.crossEntropy(F.linear(h5, ps[2]!), y);
    };
    const vs = params.map((p) => randn(p.shape, D));
    const ps = params.map((p) => p.clone().requiresGrad_());
    const gs = grad(loss(ps), ps, { createGraph: true }) as Tensor[];
    let dot = gs[0]!.mul(vs[0]!).sum();
    for (let i = 1; i < gs.length; i++) dot = dot.add(gs[i]!.mul(vs[i]!).sum());
    const hv = grad(dot, ps) as Tensor[];
    const gradAt = (sign: number, eps: number): Tensor[] => {
      const q = params.map((p, i) => p.add(vs[i]!, sign * eps).requiresGrad_());
      return grad(loss(q), q) as Tensor[];
    };
    const eps = 1e-7;
    const gp = gradAt(1, eps);
    const gm = gradAt(-1, eps);
    let num = 0;
    let den = 0;
    for (let i = 0; i < params.length; i++) {
      const fd = gp[i]!.sub(gm[i]!).div(2 * eps);
      num += fd.sub(hv[i]!).square().sum().item();
      den += hv[i]!.square().sum().item();
    }
    const rel = Math.sqrt(num / den);
    assert.ok(den > 1e-6, 'the HVP must not vanish for this check to mean anything');
    assert.ok(rel <= 1e-6, `HVP relative error ${rel}`);
  });
});
