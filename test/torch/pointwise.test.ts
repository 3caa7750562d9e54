/**
 * The addon's 1×1 convolution (native/src/pointwise.cc, docs/speed.md#pointwise) against libtorch's
 * own: values, both gradients and Hessian-vector products in float64 and float32, the same bits at
 * two threads as at one, and the cases it leaves to libtorch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Tensor, grad, manualSeed, pointwiseKernelCalls, randn, tidy, type DepthwiseKernel } from '../../src/torch/index.js';
import { maxRelDiff, withKernel } from '../helpers/kernels.js';
import { pinTestThreads, withThreads } from '../helpers/threads.js';

pinTestThreads();

type Dtype = 'float32' | 'float64';
const arr = (t: Tensor): number[] => Array.from(t.detach().contiguous().toArray() as ArrayLike<number>);

/**
 * loss = Σ y·r + y²/2 with y = conv2d(relu(x)·x, w, options): the loss, ∇x, ∇w and the HVP of
 * (∇x·vx + ∇w·vw). The square makes the output gradient depend on x and w, so the HVP also
 * differentiates the input-gradient and weight-gradient kernels with respect to it.
 */
function derivatives(kind: DepthwiseKernel, dtype: Dtype, shape: number[], cout: number, options: F.Conv2dOptions = {}, bias = false) {
  return withKernel(kind, () =>
    tidy(() => {
      manualSeed(17);
      const cin = shape[1]!;
      const x = randn(shape, { dtype }).requiresGrad_();
      const w = randn([cout, cin / (options.groups ?? 1), 1, 1], { dtype }).requiresGrad_();
      const b = bias ? randn([cout], { dtype }) : null;
      const y = F.conv2d(x.relu().mul(x), w, b, options);
      const r = randn(y.shape, { dtype });
      const vx = randn(x.shape, { dtype });
      const vw = randn(w.shape, { dtype });
      const loss = y.mul(r).add(y.square().mul(0.5)).sum();
      const [gx1, gw1] = grad(loss, [x, w], { retainGraph: true }) as [Tensor, Tensor];
      const [gx, gw] = grad(loss, [x, w], { createGraph: true }) as [Tensor, Tensor];
      const [hx, hw] = grad(gx.mul(vx).sum().add(gw.mul(vw).sum()), [x, w]) as [Tensor, Tensor];
      return [y, gx1, gw1, hx, hw].map(arr);
    }),
  );
}
const KEYS = ['y', '∇x', '∇w', 'HVP x', 'HVP w'];

// channel counts that are not multiples of the kernels' tiles (2 output rows, 4 input rows), planes
// whose size is not a multiple of the forward's 32-pixel blocks nor of the lanes, one image, many
const SHAPES: Array<{ shape: number[]; cout: number }> = [
  { shape: [3, 5, 7, 7], cout: 6 },
  { shape: [2, 4, 8, 8], cout: 3 },
  { shape: [1, 7, 5, 13], cout: 9 },
  { shape: [5, 16, 6, 6], cout: 16 },
  { shape: [2, 8, 16, 16], cout: 8 },
];

for (const [dtype, tol] of [['float64', 1e-10], ['float32', 1e-5]] as Array<[Dtype, number]>) {
  test(`pointwise: the addon's 1×1 conv equals libtorch's in ${dtype} to ${tol} (values, gradients, HVPs)`, () => {
    for (const { shape, cout } of SHAPES) {
      const before = pointwiseKernelCalls();
      const ours = derivatives('native', dtype, shape, cout);
      assert.ok(pointwiseKernelCalls() > before, `${shape.join('×')}: the addon's kernel did not run`);
      const mid = pointwiseKernelCalls();
      const ref = derivatives('libtorch', dtype, shape, cout);
      assert.equal(pointwiseKernelCalls(), mid, 'libtorch mode ran the addon kernel');
      KEYS.forEach((k, i) => {
        const d = maxRelDiff(ours[i]!, ref[i]!);
        assert.ok(d <= tol, `${shape.join('×')} → ${cout} ${dtype} ${k}: relative difference ${d}`);
      });
    }
  });
}

test('pointwise: strided, padded, grouped, biased and wide 1×1 convs stay on libtorch', () => {
  const cases: Array<{ shape: number[]; cout: number; options: F.Conv2dOptions; bias?: boolean; why: string }> = [
    { shape: [2, 4, 8, 8], cout: 4, options: { stride: 2 }, why: 'stride 2' },
    { shape: [2, 4, 8, 8], cout: 4, options: { padding: 1 }, why: 'padding' },
    { shape: [2, 4, 8, 8], cout: 4, options: { groups: 2 }, why: 'groups' },
    { shape: [2, 4, 8, 8], cout: 4, options: {}, bias: true, why: 'bias' },
    { shape: [1, 130, 4, 4], cout: 4, options: {}, why: '130 input channels' },
  ];
  for (const c of cases) {
    const before = pointwiseKernelCalls();
    const ours = derivatives('native', 'float64', c.shape, c.cout, c.options, c.bias);
    assert.equal(pointwiseKernelCalls(), before, `${c.why}: the addon's kernel ran`);
    const ref = derivatives('libtorch', 'float64', c.shape, c.cout, c.options, c.bias);
    KEYS.forEach((k, i) => assert.deepEqual(ours[i], ref[i], `${c.why} ${k}`));
  }
});

test('pointwise: two threads give the same bits as one (forward, input and weight gradients)', () => {
  const outcome = (): number[][] =>
    withKernel('native', () =>
      tidy(() => {
        manualSeed(23);
        // 8×8 planes: the weight gradient groups 16 images per task, so 40 images make three groups
        const x = randn([40, 12, 8, 8]).requiresGrad_();
        const w = randn([10, 12, 1, 1]).requiresGrad_();
        const y = F.conv2d(x, w);
        const gs = grad(y.mul(randn(y.shape)).sum(), [x, w]) as Tensor[];
        return [y, ...gs].map(arr);
      }),
    );
  const two = withThreads(2, outcome);
  const one = outcome();
  ['y', '∇x', '∇w'].forEach((k, i) => assert.deepEqual(two[i], one[i], `${k} differs between 2 threads and 1`));
});
