/**
 * CUDA check (run on a machine with a GPU and a CUDA build of libtorch, addon built against it):
 *   node dist/bench/cuda-check.js
 * 1. ops on CUDA agree with the CPU in float64; 2. a supernet's α-Hessian (exact HVPs) on CUDA
 * agrees with the CPU; 3. a tiny search runs on CUDA; 4. timing of one first-order and one
 * second-order step at the paper's size (8 cells, 16 channels, darts space, batch 64).
 */
import { cudaAvailable, cudaDeviceCount, manualSeed, randn, tidy, F, Tensor, keep, tensor, libtorchVersion } from '../src/torch/index.js';
import { Network } from '../src/nas/supernet.js';
import { getSpace } from '../src/nas/spaces.js';
import { AlphaHessian } from '../src/analysis/hessian.js';
import { symmetricEigen } from '../src/analysis/eigen.js';
import { Architect } from '../src/search/architect.js';
import { SearchTrainer } from '../src/search/trainer.js';
import { resolveConfig } from '../src/search/config.js';
import { syntheticDataset } from '../src/data/index.js';

let failures = 0;
const check = (name: string, ok: boolean, detail: string): void => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
  if (!ok) failures++;
};

console.log(`libtorch ${libtorchVersion()}, CUDA available: ${cudaAvailable()}, devices: ${cudaDeviceCount()}`);
if (!cudaAvailable()) {
  console.log('FAIL no CUDA');
  process.exit(1);
}

// 1. ops
tidy(() => {
  manualSeed(0);
  const x = randn([4, 6, 12, 12], { dtype: 'float64' });
  const w = randn([6, 1, 3, 3], { dtype: 'float64' });
  const p = randn([8, 6, 1, 1], { dtype: 'float64' });
  const f = (xx: Tensor, ww: Tensor, pp: Tensor): Tensor => {
    let h = F.conv2d(xx.relu(), ww, null, { padding: 2, dilation: 2, groups: 6 });
    h = F.conv2d(h, pp);
    h = F.batchNorm(h, null, null, { training: true });
    h = F.maxPool2d(h, 3, { stride: 2, padding: 1 }).add(F.avgPool2d(h, 3, { stride: 2, padding: 1, countIncludePad: false }));
    return F.logSoftmax(F.adaptiveAvgPool2d(h, 1).flatten(1), 1).sum();
  };
  const cpu = f(x, w, p).item();
  const gpu = f(x.to('cuda'), w.to('cuda'), p.to('cuda')).item();
  check('ops float64 cpu vs cuda', Math.abs(cpu - gpu) <= 1e-9 * Math.max(1, Math.abs(cpu)), `cpu ${cpu} cuda ${gpu}`);
  let threw = '';
  try {
    x.to('cuda').add(x);
  } catch (e) {
    threw = (e as Error).message;
  }
  check('device mismatch is a JS error', /device|cuda|cpu/i.test(threw), threw.slice(0, 120));
});

// 2. Hessian on CUDA vs CPU (float64, tiny supernet)
{
  manualSeed(1);
  const cpuNet = new Network({ space: getSpace('s2'), C: 4, layers: 3, numClasses: 10 }).to('float64');
  const gpuNet = new Network({ space: getSpace('s2'), C: 4, layers: 3, numClasses: 10 }).to('float64').to('cuda');
  gpuNet.loadStateDict(cpuNet.stateDict());
  gpuNet.setAlphas(cpuNet.alphaValues());
  const x = keep(randn([8, 3, 16, 16], { dtype: 'float64' }));
  const y = keep(tensor(new Int32Array([0, 1, 2, 3, 4, 5, 6, 7]), [8]).to('int64'));
  const eig = (net: Network, dev: 'cpu' | 'cuda'): number => {
    const xd = dev === 'cpu' ? x : x.to('cuda');
    const yd = dev === 'cpu' ? y : y.to('cuda');
    const h = new AlphaHessian(net, () => net.loss(xd, yd), 0);
    const H = h.full();
    h.dispose();
    const v = symmetricEigen(H).values;
    return v[v.length - 1]!;
  };
  const a = eig(cpuNet, 'cpu');
  const b = eig(gpuNet, 'cuda');
  check('α-Hessian λ_max cpu vs cuda (float64)', Math.abs(a - b) <= 1e-7 * Math.max(1e-3, Math.abs(a)), `cpu ${a} cuda ${b}`);
}

// 3. tiny search on CUDA
{
  const cfg = resolveConfig(undefined, { dataset: 'synthetic', space: 's3', layers: 3, channels: 4, epochs: 2, batchSize: 16, stepsPerEpoch: 4, evalBatches: 2, device: 'cuda', hessian: { every: 0 } } as never);
  const ds = syntheticDataset({ n: 256, channels: 3, height: 16, width: 16, numClasses: 10, seed: 0 });
  const t = new SearchTrainer(cfg, { train: ds }, {});
  const t0 = performance.now();
  const r = await t.run();
  check('tiny search on cuda', r.epochsRun === 2 && !!r.repr, `${((performance.now() - t0) / 1000).toFixed(1)} s, valid acc ${r.finalValid?.acc}`);
  t.dispose();
}

// 4. paper-size step timings on the GPU
for (const order of ['first', 'second'] as const) {
  manualSeed(0);
  const net = new Network({ space: getSpace('darts'), C: 16, layers: 8, numClasses: 10 }).to('cuda');
  const arch = new Architect(net, { order, hvp: 'finite-difference', lr: 3e-4, betas: [0.5, 0.999], weightDecay: 1e-3 });
  const mk = (): { x: Tensor; y: Tensor } => ({ x: keep(randn([64, 3, 32, 32], { device: 'cuda' })), y: keep(tensor(new Int32Array(64).map((_, i) => i % 10), [64]).to({ dtype: 'int64', device: 'cuda' })) });
  const tr = mk();
  const va = mk();
  const times: number[] = [];
  for (let i = 0; i < 4; i++) {
    const s = performance.now();
    tidy(() => {
      arch.step(tr, va, { lr: 0.025, momentum: 0.9, weightDecay: 3e-4, momentumBuffers: net.weightParameters().map(() => null) });
      net.loss(tr.x, tr.y).backward();
      net.zeroGrad();
      tensor([0]).to('cuda').item(); // synchronise
    });
    times.push(performance.now() - s);
  }
  console.log(`info ${order}-order step, darts space, 8 cells, C16, B64 on ${cudaDeviceCount()} GPU: ${times.map((t) => (t / 1000).toFixed(3)).join(', ')} s (first is warm-up)`);
  net.dispose();
}
console.log(failures ? `${failures} check(s) failed` : 'all CUDA checks passed');
process.exit(failures ? 1 : 0);
