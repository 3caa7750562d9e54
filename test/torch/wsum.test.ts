/**
 * The addon's weighted sum (native/src/wsum.cc, docs/speed.md#weighted-sum), a mixed node's
 * Σ_k w[i_k] · t_k in one pass, against the same sum written with libtorch's mul and add: values,
 * the gradients of the terms and of w, a Hessian-vector product (double backward), the no-grad
 * path, the fallbacks and the errors. And the addon's kernels at two threads against one thread
 * (their parallel loops split the work; the result must not depend on how).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  F,
  Tensor,
  addonParallelThreads,
  depthwiseKernelCalls,
  grad,
  manualSeed,
  noGrad,
  randn,
  tidy,
  weightedSumKernelCalls,
  type DepthwiseKernel,
} from '../../src/torch/index.js';
import { maxRelDiff, withKernel } from '../helpers/kernels.js';
import { pinTestThreads, withThreads } from '../helpers/threads.js';

pinTestThreads();

const arr = (t: Tensor): number[] => Array.from(t.detach().contiguous().toArray() as Float64Array);

/**
 * K terms t_k = f_k(x) (so that their gradients flow back into x) summed with weights w[index];
 * returns y, ∇x, ∇w and an HVP d/d(x, w) of (∇x·vx + ∇w·vw).
 */
function run(kind: DepthwiseKernel, dtype: 'float32' | 'float64', shape: number[], index: number[], nw: number): number[][] {
  return withKernel(kind, () =>
    tidy(() => {
      manualSeed(5);
      const x = randn(shape, { dtype }).requiresGrad_();
      const w = randn([nw], { dtype }).requiresGrad_();
      const terms = index.map((_, k) => (k % 3 === 0 ? x.mul(x) : k % 3 === 1 ? x.sin().mul(k) : x.add(k * 0.1).relu()));
      const y = F.weightedSum(terms, w, index);
      const r = randn(shape, { dtype });
      const vx = randn(shape, { dtype });
      const vw = randn([nw], { dtype });
      // first order alone (the kernel's backward, not the composed one of create_graph)
      const [gx1, gw1] = grad(F.weightedSum(terms, w, index).mul(r).sum(), [x, w], { retainGraph: true }) as [Tensor, Tensor];
      const [gx, gw] = grad(y.mul(r).sum(), [x, w], { createGraph: true }) as [Tensor, Tensor];
      const [hx, hw] = grad(gx.mul(vx).sum().add(gw.mul(vw).sum()), [x, w]) as [Tensor, Tensor];
      return [y, gx, gw, hx, hw, gx1, gw1].map(arr);
    }),
  );
}
const KEYS = ['y', '∇x', '∇w', 'HVP x', 'HVP w', '∇x (first order)', '∇w (first order)'];

test('weighted sum: the addon kernel equals mul + add (values, gradients of terms and weights, HVPs), float64 and float32', () => {
  // a node of 3 edges × 7 ops (one of them `none`, left out), gaps in the index, and a shape that is not a
  // multiple of the kernel's block (4096) nor of its 16 lanes; then one repeated weight
  const node = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 13, 14, 16, 17, 18, 19, 20, 21, 22, 23];
  for (const [dtype, tol] of [['float64', 1e-10], ['float32', 1e-5]] as const) {
    for (const [shape, index, nw] of [
      [[3, 4, 17, 29], node, 24],
      [[2, 3, 5, 5], [1, 1, 0], 2],
    ] as const) {
      const before = weightedSumKernelCalls();
      const a = run('native', dtype, [...shape], [...index], nw);
      assert.ok(weightedSumKernelCalls() >= before + 2, `${dtype}: the native weighted sum was not used`);
      const mid = weightedSumKernelCalls();
      const b = run('libtorch', dtype, [...shape], [...index], nw);
      assert.equal(weightedSumKernelCalls(), mid, 'libtorch mode still ran the native weighted sum');
      KEYS.forEach((k, i) => {
        const rel = maxRelDiff(a[i]!, b[i]!);
        assert.ok(rel < tol, `${dtype} ${shape.join('×')} ${k}: native vs composed relative difference ${rel}`);
      });
      // the weights no term uses get a zero gradient
      const used = new Set<number>(index);
      for (let j = 0; j < nw; j++) if (!used.has(j)) assert.equal(a[2]![j], 0, `unused weight ${j} got a gradient`);
    }
  }
});

test('weighted sum: without gradients (noGrad, or nothing requiring one) the kernel alone; same values', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    tidy(() => {
      manualSeed(3);
      const terms = [randn([2, 3, 9, 9], { dtype }), randn([2, 3, 9, 9], { dtype }), randn([2, 3, 9, 9], { dtype })];
      const w = randn([5], { dtype });
      const want = terms[0]!.mul(w.select(0, 4)).add(terms[1]!.mul(w.select(0, 0))).add(terms[2]!.mul(w.select(0, 2)));
      const before = weightedSumKernelCalls();
      const y1 = withKernel('native', () => F.weightedSum(terms, w, [4, 0, 2]));
      const y2 = withKernel('native', () => noGrad(() => F.weightedSum(terms.map((t) => t.requiresGrad_()), w, [4, 0, 2])));
      assert.equal(weightedSumKernelCalls(), before + 2);
      assert.equal(y1.requiresGrad, false);
      assert.equal(y2.requiresGrad, false);
      assert.ok(maxRelDiff(arr(y1), arr(want)) < (dtype === 'float64' ? 1e-14 : 1e-6));
      assert.ok(maxRelDiff(arr(y2), arr(want)) < (dtype === 'float64' ? 1e-14 : 1e-6));
    });
  }
});

test('weighted sum: terms of different shapes (broadcast) or dtypes go to mul + add; bad arguments are named', () => {
  tidy(() => {
    const w = randn([3], { dtype: 'float64' });
    const a = randn([2, 3, 4, 4], { dtype: 'float64' });
    const b = randn([1, 3, 4, 4], { dtype: 'float64' });
    const before = weightedSumKernelCalls();
    const y = withKernel('native', () => F.weightedSum([a, b], w, [0, 2]));
    assert.equal(weightedSumKernelCalls(), before, 'broadcast terms ran the kernel');
    assert.deepEqual(y.shape, [2, 3, 4, 4]);
    assert.ok(maxRelDiff(arr(y), arr(a.mul(w.select(0, 0)).add(b.mul(w.select(0, 2))))) < 1e-14);
    assert.throws(() => F.weightedSum([a, a], w, [0]), /2 terms but 1 index/);
    assert.throws(() => F.weightedSum([a], w, [3]), /index 3 is outside the 3 weights/);
    assert.throws(() => F.weightedSum([], w, []), /no terms/);
    assert.throws(() => F.weightedSum([a], w.reshape([3, 1]), [0]), /weights must be 1-d/);
  });
});

test("the addon's kernels at two threads equal one thread bitwise (weighted sum, depthwise forward and weight gradient, max pooling)", () => {
  const outcome = (): number[][] =>
    withKernel('native', () =>
      tidy(() => {
        manualSeed(9);
        const x = randn([4, 8, 32, 32]).requiresGrad_();
        const k3 = randn([8, 1, 3, 3]).requiresGrad_();
        const k5 = randn([8, 1, 5, 5]).requiresGrad_();
        const w = randn([4]).requiresGrad_();
        const d3 = F.conv2d(x, k3, null, { padding: 1, groups: 8 });
        const d5 = F.conv2d(x, k5, null, { padding: 4, dilation: 2, groups: 8 });
        const p = F.maxPool2d(x, 3, { stride: 1, padding: 1 });
        const y = F.weightedSum([d3, d5, p, x], w, [0, 1, 2, 3]);
        const r = randn(y.shape);
        const gs = grad(y.mul(r).sum(), [x, k3, k5, w]) as Tensor[];
        return [y, ...gs].map(arr);
      }),
    );
  const calls = depthwiseKernelCalls();
  const two = withThreads(2, () => {
    // the addon's parallel loops really run on two threads (they ran on one while it was built without OpenMP)
    assert.equal(addonParallelThreads(), 2, "the addon's at::parallel_for ran on one thread: is native/binding.gyp's -fopenmp gone?");
    return outcome();
  });
  const one = outcome();
  assert.ok(depthwiseKernelCalls() > calls, 'the depthwise kernels did not run');
  ['y', '∇x', '∇k3', '∇k5 (dilated)', '∇w'].forEach((k, i) => assert.deepEqual(two[i], one[i], `${k} differs between 2 threads and 1`));
  assert.equal(addonParallelThreads(), 1, 'back at one thread');
});
