import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchNorm2d, F, Sequential, Tensor, cat, grad, manualSeed, randn, tidy, ones, liveTensors } from '../../src/torch/index.js';
import { maxRelDiff } from '../helpers/kernels.js';
import { pinTestThreads } from '../helpers/threads.js';
import { OPS, PRIMITIVES, FactorizedReduce, Noise, Zero, factorizedPair, opParameters, searchOp, factorizedReduceParameters } from '../../src/nas/index.js';

pinTestThreads();

const C = 4;

test('every op keeps C channels, halves H/W at stride 2, and has opParameters parameters (affine false and true)', () => {
  manualSeed(0);
  tidy(() => {
    const x = randn([2, C, 8, 8]);
    for (const name of PRIMITIVES) {
      for (const stride of [1, 2]) {
        for (const affine of [false, true]) {
          const op = OPS[name](C, stride, affine);
          const y = op.forward(x);
          const s = 8 / stride;
          assert.deepEqual(y.shape, [2, C, s, s], `${name} stride ${stride}`);
          assert.equal(op.numParameters(), opParameters(name, C, stride, affine), `${name} stride ${stride} affine ${affine}`);
          op.dispose();
        }
      }
    }
  });
});

test('odd spatial sizes: every stride-2 op gives ceil(H/2), FactorizedReduce included', () => {
  tidy(() => {
    const x = randn([2, C, 7, 9]);
    for (const name of PRIMITIVES) {
      const op = OPS[name](C, 2, false);
      assert.deepEqual(op.forward(x).shape, [2, C, 4, 5], name);
      op.dispose();
    }
  });
});

test('zero op returns zeros; noise op ignores its input and is fresh each call (train and eval)', () => {
  manualSeed(3);
  tidy(() => {
    const x = randn([2, C, 6, 6]);
    const z = new Zero(2).forward(x);
    assert.deepEqual(z.shape, [2, C, 3, 3]);
    assert.equal(z.abs().sum().item(), 0);
    const n = new Noise(1);
    n.eval();
    const a = n.forward(x);
    const b = n.forward(x.mul(100));
    assert.deepEqual(a.shape, x.shape);
    assert.ok(a.sub(b).abs().max().item() > 0.1, 'two noise draws differ');
    const big = new Noise(1).forward(randn([64, 4, 8, 8]));
    assert.ok(Math.abs(big.mean().item()) < 0.05 && Math.abs(big.std().item() - 1) < 0.05, 'N(0,1) samples');
    // the seeded generator makes it reproducible
    manualSeed(11);
    const c = new Noise(2).forward(x);
    manualSeed(11);
    const d = new Noise(2).forward(x);
    assert.deepEqual(c.toNumbers(), d.toNumbers());
    assert.deepEqual(c.shape, [2, C, 3, 3]);
  });
});

test('FactorizedReduce: second conv sees the one-pixel shift; keys match DARTS', () => {
  const fr = new FactorizedReduce(2, 4, true);
  assert.deepEqual(
    [...fr.stateDict().keys()].filter((k) => !k.includes('running') && !k.includes('num_batches')),
    ['conv_1.weight', 'conv_2.weight', 'bn.weight', 'bn.bias'],
  );
  assert.equal(fr.numParameters(), factorizedReduceParameters(2, 4, true));
  fr.eval();
  tidy(() => {
    // input that is 1 only at odd (row, col): conv_1 (even positions) sees zeros, conv_2 (shifted) sees ones
    const x = ones([1, 2, 4, 4]).mul(0);
    for (const r of [1, 3]) for (const c of [1, 3]) x.index(null, null, r, c).fill_(1);
    fr.conv1.weight.requiresGrad = false;
    fr.conv1.weight.fill_(1);
    fr.conv2.weight.requiresGrad = false;
    fr.conv2.weight.fill_(1);
    const y = fr.forward(x); // eval BN: running mean 0 var 1 → y ≈ conv output
    const first = y.narrow(1, 0, 2).abs().max().item();
    const second = y.narrow(1, 2, 2).min().item();
    assert.ok(first < 1e-6, `conv_1 half is zero (${first})`);
    assert.ok(Math.abs(second - 2) < 1e-3, `conv_2 half sums two input channels (${second})`);
  });
  fr.dispose();
});

/**
 * The two halves as DARTS writes them: conv_1 on r, conv_2 on r[:, :, 1:, 1:] (zero-padded at the
 * bottom/right when H or W is odd), both 1×1 stride 2, concatenated on channels.
 */
function twoConvPair(r: Tensor, w1: Tensor, w2: Tensor): Tensor {
  const [, , H, W] = r.shape as [number, number, number, number];
  let shifted = r.index(null, null, '1:', '1:');
  if (H % 2 === 1 || W % 2 === 1) shifted = shifted.pad([0, W % 2, 0, H % 2]);
  return cat([F.conv2d(r, w1, null, { stride: 2 }), F.conv2d(shifted, w2, null, { stride: 2 })], 1);
}

test('FactorizedReduce as one grouped conv equals the two-conv form: values, gradients, HVPs (float64 1e-10, float32 1e-5)', () => {
  const cases: Array<{ shape: [number, number, number, number]; cout: number; dtype: 'float64' | 'float32'; tol: number }> = [
    { shape: [2, 3, 6, 8], cout: 4, dtype: 'float64', tol: 1e-10 },
    { shape: [2, 3, 7, 9], cout: 6, dtype: 'float64', tol: 1e-10 },
    { shape: [2, 5, 8, 7], cout: 4, dtype: 'float64', tol: 1e-10 },
    { shape: [4, 8, 16, 16], cout: 16, dtype: 'float32', tol: 1e-5 },
  ];
  for (const { shape, cout, dtype, tol } of cases) {
    tidy(() => {
      manualSeed(7);
      const x = randn(shape, { dtype }).requiresGrad_();
      const w1 = randn([cout / 2, shape[1], 1, 1], { dtype }).requiresGrad_();
      const w2 = randn([cout / 2, shape[1], 1, 1], { dtype }).requiresGrad_();
      const outShape = [shape[0], cout, Math.ceil(shape[2] / 2), Math.ceil(shape[3] / 2)];
      const g = randn(outShape, { dtype });
      const v = [x, w1, w2].map((t) => randn(t.shape, { dtype }));
      const results = [factorizedPair, twoConvPair].map((pair) => {
        // the loss squares the output so that the HVP also sees ∂/∂(output gradient)
        const y = pair(x.relu(), w1, w2);
        const loss = y.mul(g).sum().add(y.square().sum().mul(0.5));
        const gs = grad(loss, [x, w1, w2], { createGraph: true }) as Tensor[];
        const dot = gs.map((t, i) => t.mul(v[i]!).sum()).reduce((a, b) => a.add(b));
        const hs = grad(dot, [x, w1, w2]) as Tensor[];
        return [y, ...gs, ...hs].map((t) => Array.from(t.detach().contiguous().toArray() as ArrayLike<number>));
      });
      const [fast, slow] = results as [number[][], number[][]];
      assert.deepEqual(fast[0]!.length, outShape.reduce((a, b) => a * b));
      const keys = ['y', '∇x', '∇w1', '∇w2', 'HVP x', 'HVP w1', 'HVP w2'];
      keys.forEach((k, i) => {
        const d = maxRelDiff(fast[i]!, slow[i]!);
        assert.ok(d <= tol, `${k} ${shape.join('×')} ${dtype}: rel diff ${d}`);
      });
    });
  }
});

test('searchOp wraps pools with BN(affine=False) and leaves other ops alone; state dict keys are DARTS-like', () => {
  const pool = searchOp('max_pool_3x3', C, 1);
  assert.ok(pool instanceof Sequential);
  assert.ok(pool.layers[1] instanceof BatchNorm2d && !(pool.layers[1] as BatchNorm2d).affine);
  assert.deepEqual([...pool.stateDict().keys()], ['1.running_mean', '1.running_var', '1.num_batches_tracked']);
  assert.equal(pool.numParameters(), 0);
  const sep = searchOp('sep_conv_3x3', C, 2);
  assert.deepEqual([...sep.namedParameters()].map(([k]) => k), ['op.1.weight', 'op.2.weight', 'op.5.weight', 'op.6.weight']);
  assert.deepEqual(
    [...sep.namedParameters()].map(([, p]) => p.shape),
    [[C, 1, 3, 3], [C, C, 1, 1], [C, 1, 3, 3], [C, C, 1, 1]],
  );
  const dil = searchOp('dil_conv_5x5', C, 1);
  assert.deepEqual([...dil.namedParameters()].map(([k]) => k), ['op.1.weight', 'op.2.weight']);
  const before = liveTensors();
  for (const m of [pool, sep, dil]) m.dispose();
  assert.ok(liveTensors() < before);
});
