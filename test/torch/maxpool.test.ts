/**
 * The addon's max-pooling forward (native/src/pool.cc, docs/speed.md#max-pooling) against
 * libtorch's own max_pool2d: values, indices (seen through the gradient, on inputs full of ties),
 * NaN and −∞, double backward, no-grad mode, and the cases it must leave to libtorch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Tensor, grad, manualSeed, maxPoolKernelCalls, noGrad, randn, tensor, tidy, type DepthwiseKernel } from '../../src/torch/index.js';
import { withKernel } from '../helpers/kernels.js';

type Dtype = 'float32' | 'float64';

/** Inputs with many ties (values from a set of five), optionally a NaN and some −∞. */
function tiedInput(shape: number[], dtype: Dtype, seed: number, specials: boolean): Tensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  const v = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    v[i] = (s % 5) - 2;
  }
  if (specials) {
    v[7] = NaN;
    v[n - 3] = NaN;
    v[n - 4] = NaN; // two NaNs in one window: the later one's index wins in libtorch
    for (let i = 11; i < n; i += 17) v[i] = -Infinity;
  }
  return tensor(v, shape, { dtype });
}

function same(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++)
    if (!Object.is(a[i], b[i]) && !(a[i] === 0 && b[i] === 0)) assert.fail(`${what}: element ${i} is ${a[i]} here and ${b[i]} in libtorch`);
}

const CASES: Array<{ k: number; s: number; p: number }> = [
  { k: 3, s: 1, p: 1 }, // DARTS max_pool_3x3, normal cells
  { k: 3, s: 2, p: 1 }, // … on a reduction cell's input edges
  { k: 2, s: 2, p: 0 },
  { k: 5, s: 3, p: 2 },
  { k: 3, s: 1, p: 0 },
];

test('max pooling: native forward equals libtorch (values, gradients through the indices, double backward) on tied inputs, both dtypes', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    // odd and even sizes, a row of 37 (three 16-wide blocks), a 1-row plane
    for (const shape of [[2, 3, 9, 11], [1, 2, 8, 10], [1, 1, 6, 37], [2, 2, 3, 7]]) {
      for (const c of CASES) {
        if (shape[2]! + 2 * c.p < c.k) continue;
        tidy(() => {
          const x0 = tiedInput(shape, dtype, 17 + shape[3]!, false);
          const run = (kind: DepthwiseKernel) =>
            withKernel(kind, () => {
              const x = x0.detach().clone().requiresGrad_();
              const y = F.maxPool2d(x.mul(x.abs()), c.k, { stride: c.s, padding: c.p });
              manualSeed(5);
              const r = randn(y.shape, { dtype }).requiresGrad_();
              const [gx] = grad(y.mul(r).sum(), [x], { createGraph: true }) as [Tensor];
              // through x (|x|) and through the output gradient r (the backward's own derivative)
              const [hx, hr] = grad(gx.square().sum(), [x, r], { createGraph: true }) as [Tensor, Tensor];
              // and a third order: the derivative of that derivative
              const [tr] = grad(hr.mul(hr).sum(), [r]) as [Tensor];
              return [y, gx, hx, hr, tr].map((t) => t.detach().contiguous().toArray() as Float32Array | Float64Array);
            });
          const before = maxPoolKernelCalls();
          const a = run('native');
          assert.ok(maxPoolKernelCalls() > before, `${c.k}/${c.s}/${c.p}: the native kernel was not used`);
          const mid = maxPoolKernelCalls();
          const b = run('libtorch');
          assert.equal(maxPoolKernelCalls(), mid, 'libtorch mode still ran the native kernel');
          ['y', 'gx', 'hx', 'hr', 'third order'].forEach((key, i) => same(a[i]!, b[i]!, `max pool ${c.k}/${c.s}/${c.p} ${dtype} ${shape.join('×')} ${key}`));
        });
      }
    }
  }
});

test('max pooling: NaN and −∞ are handled as libtorch does (a NaN wins its window, −∞ never beats the first position)', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    for (const c of CASES.slice(0, 3)) {
      tidy(() => {
        const x0 = tiedInput([1, 2, 7, 9], dtype, 3, true);
        const run = (kind: DepthwiseKernel) =>
          withKernel(kind, () => {
            const x = x0.detach().clone().requiresGrad_();
            const y = F.maxPool2d(x, c.k, { stride: c.s, padding: c.p });
            const [gx] = grad(y.sum(), [x]) as [Tensor];
            return [y, gx].map((t) => t.contiguous().toArray() as Float32Array | Float64Array);
          });
        const a = run('native');
        const b = run('libtorch');
        same(a[0]!, b[0]!, `${c.k}/${c.s}/${c.p} ${dtype} values`);
        same(a[1]!, b[1]!, `${c.k}/${c.s}/${c.p} ${dtype} gradient`);
        assert.ok(Array.from(a[0]!).some(Number.isNaN), 'the input has NaNs: some output must be NaN');
      });
    }
    // every value −∞: the index is the window's first position inside the input, as in libtorch
    tidy(() => {
      const run = (kind: DepthwiseKernel) =>
        withKernel(kind, () => {
          const x = tensor(new Float64Array(20).fill(-Infinity), [1, 1, 4, 5], { dtype }).requiresGrad_();
          const [gx] = grad(F.maxPool2d(x, 3, { stride: 1, padding: 1 }).sum(), [x]) as [Tensor];
          return gx.toArray() as Float32Array | Float64Array;
        });
      same(run('native'), run('libtorch'), `all −∞ ${dtype} gradient`);
    });
  }
});

test('max pooling: without a gradient the native kernel computes the values alone, equal to libtorch', () => {
  tidy(() => {
    const x = randn([4, 8, 16, 16]);
    const a = withKernel('native', () => noGrad(() => F.maxPool2d(x, 3, { stride: 2, padding: 1 })));
    const b = withKernel('libtorch', () => noGrad(() => F.maxPool2d(x, 3, { stride: 2, padding: 1 })));
    same(a.toArray() as Float32Array, b.toArray() as Float32Array, 'no-grad values');
    // a strided (non-contiguous) input is made contiguous first
    const xt = x.transpose(2, 3);
    same(
      withKernel('native', () => F.maxPool2d(xt, 3, { stride: 1, padding: 1 })).toArray() as Float32Array,
      withKernel('libtorch', () => F.maxPool2d(xt, 3, { stride: 1, padding: 1 })).toArray() as Float32Array,
      'transposed input',
    );
  });
});

test('max pooling: dilation, ceil mode and integer inputs stay on libtorch', () => {
  tidy(() => {
    const x = randn([1, 2, 9, 9]);
    const before = maxPoolKernelCalls();
    withKernel('native', () => {
      F.maxPool2d(x, 3, { stride: 1, padding: 1, dilation: 2 });
      F.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true });
    });
    assert.equal(maxPoolKernelCalls(), before, 'a dilated or ceil-mode pooling must not use the native kernel');
    // libtorch's own error for an impossible padding still reaches the caller
    assert.throws(() => withKernel('native', () => F.maxPool2d(x, 3, { stride: 1, padding: 2 })), /pad/i);
  });
});
