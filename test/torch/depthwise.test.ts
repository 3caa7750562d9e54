/**
 * The addon's depthwise backward (native/src/depthwise.cc, docs/speed.md#depthwise) against
 * libtorch's own: values, first and second derivatives, finite differences, and the cases it
 * must leave to libtorch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Tensor, depthwiseKernelCalls, grad, manualSeed, randn, tensor, tidy, type DepthwiseKernel } from '../../src/torch/index.js';
import { maxRelDiff, withKernel } from '../helpers/kernels.js';

type Dtype = 'float32' | 'float64';

/** The DARTS depthwise geometries: sep_conv 3×3 / 5×5, dil_conv 3×3 / 5×5 (kernel, padding, dilation). */
const GEOMETRIES: Array<{ name: string; k: number; p: number; d: number }> = [
  { name: 'sep 3x3', k: 3, p: 1, d: 1 },
  { name: 'sep 5x5', k: 5, p: 2, d: 1 },
  { name: 'dil 3x3', k: 3, p: 2, d: 2 },
  { name: 'dil 5x5', k: 5, p: 4, d: 2 },
];

/** loss = Σ conv(x, w) · r + conv(x, w)² / 2, its gradients w.r.t. x and w, and an HVP (d/d(x,w) of ∇·v). */
function derivatives(kind: DepthwiseKernel, x0: Tensor, w0: Tensor, r: Tensor, vx: Tensor, vw: Tensor, g: { p: number; d: number; stride?: number }) {
  return withKernel(kind, () =>
    tidy(() => {
      const x = x0.detach().clone().requiresGrad_();
      const w = w0.detach().clone().requiresGrad_();
      const y = F.conv2d(x.relu().mul(x), w, null, { padding: g.p, dilation: g.d, groups: x.shape[1]!, stride: g.stride ?? 1 });
      // the square makes the output gradient depend on x and w, so the HVP also differentiates
      // the input-gradient convolution with respect to that gradient
      const loss = y.mul(r).add(y.square().mul(0.5)).sum();
      const [gx, gw] = grad(loss, [x, w], { createGraph: true }) as [Tensor, Tensor];
      const dot = gx.mul(vx).sum().add(gw.mul(vw).sum());
      const [hx, hw] = grad(dot, [x, w]) as [Tensor, Tensor];
      const arr = (t: Tensor) => t.contiguous().toArray() as Float32Array | Float64Array;
      return { y: arr(y), gx: arr(gx), gw: arr(gw), hx: arr(hx), hw: arr(hw) };
    }),
  );
}

function setup(dtype: Dtype, k: number, shape: [number, number, number, number], stride = 1, p = 1, d = 1) {
  const [B, C, H, W] = shape;
  const Ho = Math.floor((H + 2 * p - d * (k - 1) - 1) / stride) + 1;
  const Wo = Math.floor((W + 2 * p - d * (k - 1) - 1) / stride) + 1;
  return {
    x: randn([B, C, H, W], { dtype }),
    w: randn([C, 1, k, k], { dtype }),
    r: randn([B, C, Ho, Wo], { dtype }),
    vx: randn([B, C, H, W], { dtype }),
    vw: randn([C, 1, k, k], { dtype }),
  };
}

test('depthwise: native backward equals libtorch in float64 (values, gradients, Hessian-vector products) for every DARTS geometry, stride 1 and 2', () => {
  manualSeed(3);
  for (const stride of [1, 2]) {
    // odd and even sizes: with stride 2 the last input row/column may get no output of its own;
    // a row of 37 spans three of the weight-gradient kernel's 16-wide blocks
    for (const shape of [[3, 4, 9, 11], [2, 3, 8, 10], [1, 2, 5, 37]] as Array<[number, number, number, number]>) {
      for (const g of GEOMETRIES) {
        tidy(() => {
          const s = setup('float64', g.k, shape, stride, g.p, g.d);
          const before = depthwiseKernelCalls();
          const a = derivatives('native', s.x, s.w, s.r, s.vx, s.vw, { ...g, stride });
          assert.ok(depthwiseKernelCalls() > before, `${g.name} stride ${stride}: the native kernel was not used`);
          const mid = depthwiseKernelCalls();
          const b = derivatives('libtorch', s.x, s.w, s.r, s.vx, s.vw, { ...g, stride });
          assert.equal(depthwiseKernelCalls(), mid, `${g.name}: libtorch mode still ran the native kernel`);
          for (const key of ['y', 'gx', 'gw', 'hx', 'hw'] as const) {
            const rel = maxRelDiff(a[key], b[key]);
            assert.ok(rel < 1e-10, `${g.name} stride ${stride} ${shape.join('×')} ${key}: native vs libtorch relative difference ${rel}`);
          }
        });
      }
    }
  }
});

test('depthwise: native equals libtorch in float32 to 1e-5 (the direct forward from 16 wide, on 8-wide planes for up to 9 taps, oneDNN below; stride 1 and 2)', () => {
  manualSeed(4);
  for (const stride of [1, 2]) {
    for (const g of GEOMETRIES) {
      for (const shape of [[8, 16, 16, 16], [2, 3, 8, 70], [4, 3, 6, 8]] as Array<[number, number, number, number]>) {
        tidy(() => {
          const s = setup('float32', g.k, shape, stride, g.p, g.d);
          const a = derivatives('native', s.x, s.w, s.r, s.vx, s.vw, { ...g, stride });
          const b = derivatives('libtorch', s.x, s.w, s.r, s.vx, s.vw, { ...g, stride });
          for (const key of ['y', 'gx', 'gw', 'hx', 'hw'] as const) {
            const rel = maxRelDiff(a[key], b[key]);
            assert.ok(rel < 1e-5, `${g.name} stride ${stride} ${shape.join('×')} ${key}: native vs libtorch relative difference ${rel}`);
          }
        });
      }
    }
  }
});

test('depthwise: the native weight gradient and its HVP match central finite differences (float64)', () => {
  manualSeed(5);
  const g = GEOMETRIES[3]!; // dilated 5×5: the widest reach, so padding edges are exercised
  tidy(() => {
    const s = setup('float64', g.k, [2, 3, 7, 8], 1, g.p, g.d);
    const loss = (w: Tensor) => F.conv2d(s.x, w, null, { padding: g.p, dilation: g.d, groups: 3 }).square().mul(s.r).sum();
    withKernel('native', () => {
      const w = s.w.detach().clone().requiresGrad_();
      const [gw] = grad(loss(w), [w], { createGraph: true }) as [Tensor];
      const [hv] = grad(gw.mul(s.vw).sum(), [w]) as [Tensor];
      const ga = gw.detach().toArray() as Float64Array;
      const ha = hv.toArray() as Float64Array;
      const base = s.w.toArray() as Float64Array;
      const vw = s.vw.toArray() as Float64Array;
      const eps = 1e-6;
      let gErr = 0;
      for (let i = 0; i < base.length; i += 7) {
        const plus = Float64Array.from(base);
        plus[i]! += eps;
        const minus = Float64Array.from(base);
        minus[i]! -= eps;
        const fd = (tidy(() => loss(tensor(plus, s.w.shape)).item()) - tidy(() => loss(tensor(minus, s.w.shape)).item())) / (2 * eps);
        gErr = Math.max(gErr, Math.abs(fd - ga[i]!) / Math.max(1, Math.abs(fd)));
      }
      assert.ok(gErr < 1e-6, `weight gradient vs finite differences: ${gErr}`);
      // H·v by central differences of the gradient along v
      const gradAt = (wArr: Float64Array) =>
        tidy(() => {
          const wt = tensor(wArr, s.w.shape).requiresGrad_();
          return (grad(loss(wt), [wt])[0] as Tensor).toArray() as Float64Array;
        });
      const wp = base.map((b, i) => b + eps * vw[i]!);
      const wm = base.map((b, i) => b - eps * vw[i]!);
      const gp = gradAt(wp);
      const gm = gradAt(wm);
      let hErr = 0;
      for (let i = 0; i < base.length; i++) {
        const fd = (gp[i]! - gm[i]!) / (2 * eps);
        hErr = Math.max(hErr, Math.abs(fd - ha[i]!) / Math.max(1, Math.abs(fd)));
      }
      assert.ok(hErr < 1e-6, `HVP vs finite differences: ${hErr}`);
    });
  });
});

test('depthwise: a bias or a grouped (non-depthwise) conv stays on libtorch', () => {
  manualSeed(6);
  tidy(() => {
    const before = depthwiseKernelCalls();
    withKernel('native', () => {
      const x = randn([2, 4, 6, 6], { dtype: 'float64' }).requiresGrad_();
      const w = randn([4, 1, 3, 3], { dtype: 'float64' }).requiresGrad_();
      const bias = randn([4], { dtype: 'float64' });
      const [gw] = grad(F.conv2d(x, w, bias, { padding: 1, groups: 4 }).sum(), [w]) as [Tensor];
      const w2 = randn([4, 2, 3, 3], { dtype: 'float64' }).requiresGrad_();
      grad(F.conv2d(x, w2, null, { padding: 1, groups: 2 }).sum(), [w2]);
      // the same gradient as libtorch's own path
      const ref = withKernel('libtorch', () => (grad(F.conv2d(x, w, bias, { padding: 1, groups: 4 }).sum(), [w])[0] as Tensor).toArray() as Float64Array);
      assert.ok(maxRelDiff(gw.toArray() as Float64Array, ref) < 1e-12);
    });
    assert.equal(depthwiseKernelCalls(), before, 'a conv with bias or two channels per group must not use the native kernel');
  });
});

test('average pooling through the depthwise path equals libtorch avg_pool2d (values, gradients, double backward), both divisors', () => {
  manualSeed(7);
  const cases: Array<{ k: number; s: number; p: number; include: boolean; shape: [number, number, number, number] }> = [
    { k: 3, s: 1, p: 1, include: false, shape: [2, 3, 9, 8] }, // DARTS avg_pool_3x3 in a normal cell
    { k: 3, s: 2, p: 1, include: false, shape: [2, 3, 9, 8] }, // … and in a reduction cell
    { k: 5, s: 3, p: 0, include: false, shape: [2, 3, 8, 8] }, // the auxiliary head
    { k: 3, s: 1, p: 1, include: true, shape: [2, 3, 7, 7] },
  ];
  for (const dtype of ['float64', 'float32'] as const) {
    for (const c of cases) {
      tidy(() => {
        const x0 = randn(c.shape, { dtype });
        const run = (kind: DepthwiseKernel) =>
          withKernel(kind, () => {
            const x = x0.detach().clone().requiresGrad_();
            const y = F.avgPool2d(x.square(), c.k, { stride: c.s, padding: c.p, countIncludePad: c.include });
            const r = randn(y.shape, { dtype });
            const [gx] = grad(y.mul(r).sum(), [x], { createGraph: true }) as [Tensor];
            const [hx] = grad(gx.square().sum(), [x]) as [Tensor];
            return [y, gx, hx].map((t) => t.detach().contiguous().toArray() as Float32Array | Float64Array);
          });
        manualSeed(8);
        const before = depthwiseKernelCalls();
        const a = run('native');
        manualSeed(8);
        const b = run('libtorch');
        const tol = dtype === 'float64' ? 1e-10 : 1e-5;
        ['y', 'gx', 'hx'].forEach((key, i) => {
          const rel = maxRelDiff(a[i]!, b[i]!);
          assert.ok(rel < tol, `avg pool ${c.k}/${c.s}/${c.p} include=${c.include} ${dtype} ${key}: relative difference ${rel}`);
        });
        assert.equal(depthwiseKernelCalls(), before, 'pooling needs no weight gradient');
      });
    }
  }
});
