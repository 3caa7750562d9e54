/**
 * Issue 10 "same numerics": the MixedOp that computes the ReLU of its edge input once for all its
 * conv ops and leaves the `none` term out (mixedOpOptions.shareRelu and skipZero, the defaults)
 * against the plain path where every op applies its own ReLU and `none` adds w·0 — the α gradient,
 * α after a second-order architecture step, the weights after the SGD step and a Hessian-vector
 * product (double backward) agree to 1e-5 relative in float32 and 1e-10 in float64; the
 * state-dict keys are the same. The same check for the addon's kernels (setDepthwiseKernel('native'):
 * depthwise and 1×1 convolutions, average and max pooling, batch norm, the weighted sum;
 * docs/speed.md) against libtorch's own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, SGD, batchNormKernelCalls, clipGradNorm, depthwiseKernelCalls, grad, maxPoolKernelCalls, pointwiseKernelCalls, keep, manualSeed, noGrad, randn, setDepthwiseKernel, tensor, tidy, type DepthwiseKernel, type Tensor } from '../../src/torch/index.js';
import { pinTestThreads } from '../helpers/threads.js';
import { maxRelDiff } from '../helpers/kernels.js';
import { Network, getSpace } from '../../src/nas/index.js';
import { mixedOpOptions } from '../../src/nas/supernet.js';
import { Architect } from '../../src/search/architect.js';
import { AlphaHessian } from '../../src/analysis/hessian.js';

pinTestThreads();

interface Outcome {
  keys: string[];
  alphaGrad: number[];
  alphaAfter: number[];
  weightsAfter: number[];
  hvp: number[];
}

function run(dtype: 'float32' | 'float64', share: boolean, depthwise: DepthwiseKernel = 'libtorch'): Outcome {
  const saved = { ...mixedOpOptions };
  mixedOpOptions.shareRelu = share;
  mixedOpOptions.skipZero = share;
  mixedOpOptions.fuseSum = share;
  const savedDw = setDepthwiseKernel(depthwise);
  try {
    manualSeed(11);
    const net = new Network({ space: getSpace('darts'), C: 4, layers: 3, numClasses: 4 }).to(dtype);
    net.train();
    const mk = (): { x: Tensor; y: Tensor } => ({ x: keep(randn([4, 3, 8, 8], { dtype })), y: keep(tensor([0, 1, 2, 3], { dtype: 'int64' })) });
    const train = mk();
    const val = mk();
    const flat = (ts: Tensor[]): number[] => noGrad(() => tidy(() => ts.flatMap((t) => Array.from(t.detach().double().toNumbers()))));
    const alphaGrad = tidy(() => flat(grad(net.loss(val.x, val.y), net.archParameters()) as Tensor[]));
    const h = new AlphaHessian(net, () => net.loss(val.x, val.y));
    const v = Float64Array.from({ length: h.n }, (_, i) => Math.sin(1.3 * i + 0.2));
    const hvp = Array.from(h.hvp(v));
    h.dispose();
    const sgd = new SGD(net.weightParameters(), { lr: 0.025, momentum: 0.9, weightDecay: 3e-4 });
    const architect = new Architect(net, { order: 'second', hvp: 'finite-difference', lr: 3e-4, betas: [0.5, 0.999], weightDecay: 1e-3 });
    tidy(() => {
      architect.step(train, val, { lr: 0.025, momentum: 0.9, weightDecay: 3e-4, momentumBuffers: sgd.momentumBuffers });
      const ws = net.weightParameters();
      const gs = grad(F.crossEntropy(net.forward(train.x), train.y), ws) as Tensor[];
      ws.forEach((w, k) => (w.grad = gs[k]!));
      clipGradNorm(ws, 5);
      sgd.step();
      sgd.zeroGrad();
    });
    const out: Outcome = {
      keys: [...net.stateDict().keys()],
      alphaGrad,
      alphaAfter: flat(net.archParameters()),
      weightsAfter: flat(net.weightParameters()),
      hvp,
    };
    for (const t of [train.x, train.y, val.x, val.y]) t.dispose();
    sgd.dispose();
    architect.opt.dispose();
    net.dispose();
    return out;
  } finally {
    Object.assign(mixedOpOptions, saved);
    setDepthwiseKernel(savedDw);
  }
}

for (const [dtype, tol] of [['float64', 1e-10], ['float32', 1e-5]] as const) {
  test(`shared ReLU and no none term per MixedOp edge: same numerics as the plain path (${dtype}, ≤ ${tol})`, () => {
    const shared = run(dtype, true);
    const plain = run(dtype, false);
    assert.deepEqual(shared.keys, plain.keys);
    for (const k of ['alphaGrad', 'hvp', 'alphaAfter', 'weightsAfter'] as const) {
      const r = maxRelDiff(shared[k], plain[k]);
      assert.ok(r <= tol, `${k}: relative difference ${r.toExponential(2)} > ${tol}`);
    }
    // the comparison is not vacuous: the step moved α and the weights
    assert.ok(shared.alphaGrad.some((g) => g !== 0));
  });
}

for (const [dtype, tol] of [['float64', 1e-10], ['float32', 1e-5]] as const) {
  test(`the addon's kernels (depthwise and 1×1 convs, pooling, batch norm): same numerics as libtorch's in a search step (${dtype}, ≤ ${tol})`, () => {
    const before = [depthwiseKernelCalls(), maxPoolKernelCalls(), batchNormKernelCalls(), pointwiseKernelCalls()];
    const native = run(dtype, true, 'native');
    assert.ok(depthwiseKernelCalls() > before[0]!, 'the native depthwise kernel was not used');
    assert.ok(maxPoolKernelCalls() > before[1]!, 'the native max pooling was not used');
    assert.ok(batchNormKernelCalls() > before[2]!, 'the native batch norm was not used');
    assert.ok(pointwiseKernelCalls() > before[3]!, 'the native 1×1 conv was not used');
    const plain = run(dtype, true, 'libtorch');
    assert.deepEqual(native.keys, plain.keys);
    for (const k of ['alphaGrad', 'hvp', 'alphaAfter', 'weightsAfter'] as const) {
      const r = maxRelDiff(native[k], plain[k]);
      assert.ok(r <= tol, `${k}: relative difference ${r.toExponential(2)} > ${tol}`);
    }
  });
}
