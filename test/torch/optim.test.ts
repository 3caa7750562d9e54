import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, Tensor, tidy, SGD, Adam, cosineAnnealingLr, clipGradNorm, keep, sgdUpdate } from '../../src/torch/index.js';
import { runPython } from '../helpers/python.js';

// The same problem in both languages: loss(w) = sum((A w − b)²) + 0.1·sum(w⁴), w ∈ R⁴, float64.
const A = [
  [1.0, -0.5, 0.3, 0.0],
  [0.2, 0.8, -0.1, 0.4],
  [-0.3, 0.1, 0.9, -0.6],
];
const b0 = [0.5, -1.0, 0.25];
const w0 = [0.3, -0.7, 1.1, 0.05];
const STEPS = 25;

const PY = `
import json, sys, torch
cfg = json.loads(sys.stdin.read())
A = torch.tensor(cfg['A'], dtype=torch.float64); b = torch.tensor(cfg['b'], dtype=torch.float64)
out = {}
for name, mk in [
    ('sgd', lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.9, weight_decay=3e-4)),
    ('sgd_nesterov', lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.9, dampening=0, nesterov=True, weight_decay=1e-2)),
    ('sgd_dampening', lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.5, dampening=0.3)),
    ('adam', lambda p: torch.optim.Adam([p], lr=3e-2, betas=(0.5, 0.999), weight_decay=1e-3)),
]:
    w = torch.tensor(cfg['w0'], dtype=torch.float64, requires_grad=True)
    opt = mk(w)
    traj = []
    for _ in range(cfg['steps']):
        opt.zero_grad()
        loss = ((A @ w - b) ** 2).sum() + 0.1 * (w ** 4).sum()
        loss.backward()
        opt.step()
        traj.append(w.detach().tolist())
    out[name] = traj
print(json.dumps(out))
`;

function jsTrajectory(make: (p: Tensor) => { step(): void; zeroGrad(): void }): number[][] {
  const w = keep(tensor(Float64Array.from(w0)).requiresGrad_());
  const Am = keep(tensor(A, { dtype: 'float64' }));
  const bm = keep(tensor(b0, { dtype: 'float64' }));
  const opt = make(w);
  const traj: number[][] = [];
  for (let s = 0; s < STEPS; s++) {
    tidy(() => {
      opt.zeroGrad();
      const loss = Am.matmul(w).sub(bm).square().sum().add(w.pow(4).sum().mul(0.1));
      loss.backward();
      opt.step();
    });
    traj.push(Array.from(w.toArray() as Float64Array));
  }
  return traj;
}

test('SGD (momentum, dampening, Nesterov, weight decay) and Adam (betas (0.5, 0.999), weight decay) reproduce python3-torch trajectories', () => {
  const ref = runPython(PY, { A, b: b0, w0, steps: STEPS });
  const ours: Record<string, number[][]> = {
    sgd: jsTrajectory((p) => new SGD([p], { lr: 0.05, momentum: 0.9, weightDecay: 3e-4 })),
    sgd_nesterov: jsTrajectory((p) => new SGD([p], { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-2 })),
    sgd_dampening: jsTrajectory((p) => new SGD([p], { lr: 0.05, momentum: 0.5, dampening: 0.3 })),
    adam: jsTrajectory((p) => new Adam([p], { lr: 3e-2, betas: [0.5, 0.999], weightDecay: 1e-3 })),
  };
  for (const name of Object.keys(ours)) {
    const a = ours[name]!;
    const r = ref[name] as number[][];
    assert.equal(a.length, r.length);
    let maxDiff = 0;
    for (let s = 0; s < a.length; s++) for (let i = 0; i < 4; i++) maxDiff = Math.max(maxDiff, Math.abs(a[s]![i]! - r[s]![i]!));
    assert.ok(maxDiff < 1e-12, `${name}: trajectory differs from PyTorch by ${maxDiff}`);
    // and the optimiser really moved the parameters
    assert.ok(Math.abs(a[STEPS - 1]![0]! - w0[0]!) > 1e-3, `${name} did not move`);
  }
});

test('sgdUpdate without apply returns the step direction μ·m + g + λw and leaves w untouched', () => {
  tidy(() => {
    const w = tensor([1, 2], { dtype: 'float64' });
    const g = tensor([0.5, -1], { dtype: 'float64' });
    const buf = tensor([0.1, 0.2], { dtype: 'float64' });
    const { direction } = sgdUpdate(w, g, buf, { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0.01 }, false);
    assert.deepEqual(Array.from(w.toArray() as Float64Array), [1, 2]);
    const d = Array.from(direction!.toArray() as Float64Array);
    assert.ok(Math.abs(d[0]! - (0.9 * 0.1 + 0.5 + 0.01)) < 1e-15);
    assert.ok(Math.abs(d[1]! - (0.9 * 0.2 - 1 + 0.02)) < 1e-15);
  });
});

test('cosine annealing follows the closed form and reaches the minimum at T', () => {
  assert.equal(cosineAnnealingLr(0, 0.025, 50, 0.001), 0.025);
  assert.ok(Math.abs(cosineAnnealingLr(25, 0.025, 50, 0.001) - 0.013) < 1e-15);
  assert.ok(Math.abs(cosineAnnealingLr(50, 0.025, 50, 0.001) - 0.001) < 1e-15);
  assert.ok(cosineAnnealingLr(10, 0.025, 50, 0.001) > cosineAnnealingLr(11, 0.025, 50, 0.001));
});

test('global grad-norm clipping scales all gradients together', () => {
  tidy(() => {
    const a = tensor([3, 0], { dtype: 'float64', requiresGrad: true });
    const b = tensor([0, 4], { dtype: 'float64', requiresGrad: true });
    a.sum().mul(3).add(b.sum().mul(4)).backward(); // grads (3,3) and (4,4): norm √50
    const total = clipGradNorm([a, b], 5);
    assert.ok(Math.abs(total - Math.sqrt(50)) < 1e-12);
    const ga = a.grad!.toArray() as Float64Array;
    const gb = b.grad!.toArray() as Float64Array;
    const n = Math.sqrt(2 * ga[0]! ** 2 + 2 * gb[0]! ** 2);
    assert.ok(Math.abs(n - 5) < 1e-5, `clipped norm ${n}`);
    assert.ok(Math.abs(ga[0]! / gb[0]! - 0.75) < 1e-12, 'direction kept');
    // below the bound nothing changes
    const total2 = clipGradNorm([a, b], 100);
    assert.ok(Math.abs(total2 - 5) < 1e-5);
    assert.ok(Math.abs((a.grad!.toArray() as Float64Array)[0]! - ga[0]!) < 1e-15);
  });
});

test('optimiser constructors reject invalid hyper-parameters, naming the value', () => {
  const p = keep(tensor([1]));
  assert.throws(() => new SGD([p], { lr: -1 }), /invalid learning rate -1/);
  assert.throws(() => new SGD([p], { lr: 0.1, nesterov: true }), /Nesterov/);
  assert.throws(() => new Adam([p], { betas: [1.5, 0.9] }), /invalid betas/);
  p.dispose();
});
