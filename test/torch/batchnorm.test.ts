/**
 * The addon's affine-free training-mode batch norm (native/src/norm.cc, docs/speed.md#batch-norm),
 * which keeps its output instead of its input, against libtorch's own: values, running
 * statistics, first and second derivatives, and the cases it must leave to libtorch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Tensor, batchNormKernelCalls, grad, manualSeed, noGrad, ones, randn, tidy, zeros, type DepthwiseKernel } from '../../src/torch/index.js';
import { maxRelDiff, withKernel } from '../helpers/kernels.js';

/**
 * A conv → BN → ReLU → BN chain (the shape of a DARTS op) weighted by r: the output, the running
 * statistics, ∇x, ∇w and a Hessian-vector product d/d(x, w) of (∇x, ∇w)·(vx, vw).
 */
function run(kind: DepthwiseKernel, dtype: 'float32' | 'float64', shape: number[]) {
  return withKernel(kind, () =>
    tidy(() => {
      manualSeed(11);
      const C = shape[1]!;
      const x = randn(shape, { dtype }).mul(2).add(0.5).requiresGrad_();
      const w = randn([C, C, 3, 3], { dtype }).mul(0.3).requiresGrad_();
      const rm1 = zeros([C], { dtype }), rv1 = ones([C], { dtype });
      const rm2 = zeros([C], { dtype }), rv2 = ones([C], { dtype });
      const h = F.batchNorm(F.conv2d(x, w, null, { padding: 1 }), rm1, rv1, { training: true, momentum: 0.1, eps: 1e-5 });
      const y = F.batchNorm(h.relu(), rm2, rv2, { training: true, momentum: 0.1, eps: 1e-5 });
      const r = randn(y.shape, { dtype });
      const vx = randn(shape, { dtype });
      const vw = randn(w.shape, { dtype });
      const [gx, gw] = grad(y.mul(r).sum(), [x, w], { createGraph: true }) as [Tensor, Tensor];
      const [hx, hw] = grad(gx.mul(vx).sum().add(gw.mul(vw).sum()), [x, w]) as [Tensor, Tensor];
      // a first-order gradient alone (the fused backward; no create_graph)
      const [gx1] = grad(
        F.batchNorm(x.square(), null, null, { training: true }).mul(r.narrow(1, 0, C)).sum(),
        [x],
      ) as [Tensor];
      return [y, rm1, rv1, rm2, rv2, gx, gw, hx, hw, gx1].map((t) => Array.from(t.detach().contiguous().toArray() as Float64Array));
    }),
  );
}

const KEYS = ['y', 'running mean 1', 'running var 1', 'running mean 2', 'running var 2', '∇x', '∇w', 'HVP x', 'HVP w', '∇x (first order)'];

test('batch norm: the native training-mode batch norm equals libtorch (values, running statistics, gradients, HVPs)', () => {
  for (const [dtype, tol] of [['float64', 1e-10], ['float32', 2e-5]] as const) {
    for (const shape of [[4, 3, 5, 6], [2, 5, 7, 3]]) {
      const before = batchNormKernelCalls();
      const a = run('native', dtype, shape);
      assert.ok(batchNormKernelCalls() >= before + 3, `${dtype}: the native batch norm was not used`);
      const mid = batchNormKernelCalls();
      const b = run('libtorch', dtype, shape);
      assert.equal(batchNormKernelCalls(), mid, 'libtorch mode still ran the native batch norm');
      KEYS.forEach((k, i) => {
        const rel = maxRelDiff(a[i]!, b[i]!);
        assert.ok(rel < tol, `${dtype} ${shape.join('×')} ${k}: native vs libtorch relative difference ${rel}`);
      });
    }
  }
});

test('batch norm: a second derivative through 1/σ (a single batch norm, large ε) equals libtorch', () => {
  // the backward's 1/σ depends on x; the HVP of a loss cubic in y is wrong unless that is differentiated
  const out = (kind: DepthwiseKernel) =>
    withKernel(kind, () =>
      tidy(() => {
        manualSeed(2);
        const x = randn([3, 2, 4, 4], { dtype: 'float64' }).requiresGrad_();
        const v = randn([3, 2, 4, 4], { dtype: 'float64' });
        const y = F.batchNorm(x, null, null, { training: true, eps: 0.5 });
        const [gx] = grad(y.pow(3).sum(), [x], { createGraph: true }) as [Tensor];
        const [hx] = grad(gx.mul(v).sum(), [x]) as [Tensor];
        return Array.from(hx.toArray() as Float64Array);
      }),
    );
  const rel = maxRelDiff(out('native'), out('libtorch'));
  assert.ok(rel < 1e-10, `relative difference ${rel}`);
});

test('batch norm: affine, evaluation-mode and no-grad batch norms stay on libtorch', () => {
  tidy(() => {
    const x = randn([4, 3, 5, 5]).requiresGrad_();
    const before = batchNormKernelCalls();
    withKernel('native', () => {
      F.batchNorm(x, null, null, { training: true, weight: ones([3]), bias: zeros([3]) });
      F.batchNorm(x, zeros([3]), ones([3]), { training: false });
      noGrad(() => F.batchNorm(x, null, null, { training: true }));
      F.batchNorm(randn([4, 3, 5, 5]), null, null, { training: true }); // no gradient wanted
    });
    assert.equal(batchNormKernelCalls(), before, 'these must not use the native batch norm');
  });
});
