/**
 * The α-Hessian of the recurrent search model (analysis/hessian.ts AlphaHessian on RnnSearchModel):
 * exact Hessian-vector products against central differences of ∇α L_val, symmetry, Lanczos
 * against the full eigendecomposition (tiny float64 model, a 3-node cell with DARTS' five ops: 30 α entries),
 * and the recurrent Hessian monitor, which measures without moving the batch-norm statistics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad, keep, manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { RnnSearchModel } from '../../src/nas/rnn/model.js';
import { AlphaHessian, dominantEigenvalues } from '../../src/analysis/hessian.js';
import { symmetricEigen } from '../../src/analysis/eigen.js';
import { RnnHessianMonitor } from '../../src/search/rnn/methods.js';
import type { RnnEpochContext } from '../../src/search/rnn/plugin.js';
import { Rng } from '../../src/util/rng.js';
import { pinTestThreads } from '../helpers/threads.js';

pinTestThreads();

function setup() {
  manualSeed(5);
  const m = new RnnSearchModel({ vocabSize: 6, hiddenSize: 3, space: { steps: 3, ops: ['none', 'tanh', 'relu', 'sigmoid', 'identity'] }, dropout: 0, dropouth: 0, dropoutx: 0, dropouti: 0 }).to('float64');
  m.train();
  const r = new Rng(2);
  m.setAlpha(m.alphaValues().map((row) => row.map(() => 0.7 * r.normal())));
  noGrad(() => m.weightParameters().forEach((w) => w.mul_(10)));
  const input = keep(tensor(Int32Array.from([0, 1, 2, 3, 4, 5, 1, 3, 5, 0, 2, 4, 1, 2, 3]), [3, 5]).to('int64'));
  const target = keep(tensor(Int32Array.from([1, 2, 3, 4, 5, 0, 2, 4, 0, 1, 3, 5, 2, 3, 4]), [3, 5]).to('int64'));
  const hidden = keep(randn([1, 5, 3], { dtype: 'float64' }).mul(0.3));
  return { m, input, target, hidden, loss: () => m.loss(input, target, hidden).loss };
}

test('exact HVPs equal finite differences of ∇α L_val; the matrix is symmetric; Lanczos finds the full matrix’s λ_max', async () => {
  const s = setup();
  const h = new AlphaHessian(s.m, s.loss);
  assert.equal(h.n, 30);
  const v = Float64Array.from({ length: 30 }, (_, i) => Math.sin(0.37 * i + 1));
  const hv = h.hvp(v);
  const gradAt = (eps: number): number[] =>
    tidy(() => {
      const base = s.m.alphaValues();
      s.m.setAlpha(base.map((row, e) => row.map((x, k) => x + eps * v[e * 5 + k]!)));
      const g = grad(s.loss(), s.m.archParameters()) as Tensor[];
      const flat = s.m.archVector(g).toNumbers();
      s.m.setAlpha(base);
      return flat;
    });
  const gp = gradAt(1e-6);
  const gm = gradAt(-1e-6);
  let num = 0;
  let den = 0;
  for (let i = 0; i < 30; i++) {
    num += ((gp[i]! - gm[i]!) / 2e-6 - hv[i]!) ** 2;
    den += hv[i]! ** 2;
  }
  assert.ok(den > 1e-10, 'the product must not vanish');
  assert.ok(Math.sqrt(num / den) < 1e-6, `relative error ${Math.sqrt(num / den)}`);
  const unit = (i: number) => Float64Array.from({ length: 30 }, (_, j) => (j === i ? 1 : 0));
  for (const [i, j] of [[0, 7], [3, 29], [12, 13]] as const) {
    const hij = h.hvp(unit(j))[i]!;
    const hji = h.hvp(unit(i))[j]!;
    assert.ok(Math.abs(hij - hji) <= 1e-10 * Math.max(1, Math.abs(hij)), `H[${i}][${j}] ${hij} vs H[${j}][${i}] ${hji}`);
  }
  const H = h.full();
  const { values } = symmetricEigen(H, { vectors: false });
  const top = Math.max(...values);
  const lz = await dominantEigenvalues(h, { method: 'lanczos', topK: 2, maxIter: 30, tol: 1e-10, rng: new Rng(1) });
  assert.ok(Math.abs(lz.maxEigenvalue - top) < 1e-8 * Math.max(1, Math.abs(top)), `Lanczos ${lz.maxEigenvalue} vs full ${top}`);
  assert.ok(top > 0);
  h.dispose();
});

test('the recurrent Hessian monitor logs λ_max, restores the batch-norm statistics and the model mode', async () => {
  const s = setup();
  s.m.eval();
  const before = s.m.buffers().map((b) => noGrad(() => tidy(() => b.double().toNumbers())));
  const logged: Array<Record<string, unknown>> = [];
  const ctx = {
    epoch: 0,
    epochs: 1,
    hessian: null,
    model: s.m,
    valWindow: () => ({ input: s.input.clone(), target: s.target.clone(), hidden: s.hidden.clone() }),
    log: (l: Record<string, unknown>) => logged.push(l),
    note: () => {},
  } as unknown as RnnEpochContext;
  const mon = new RnnHessianMonitor({ every: 1, method: 'lanczos', topK: 3, batches: 1, shift: 1e-3, lanczosIterations: 8, lanczosTol: 1e-3, seed: 1 });
  await mon.onEpochEnd(ctx);
  assert.equal(s.m.training, false, 'mode restored');
  assert.deepEqual(s.m.buffers().map((b) => noGrad(() => tidy(() => b.double().toNumbers()))), before);
  assert.equal(logged.length, 1);
  assert.equal(logged[0]!.kind, 'hessian');
  // the same measurement by hand: train mode, the 1e-3 shift, the monitor's start vector (seed·7919 + 31·epoch + batch)
  s.m.train();
  const h = new AlphaHessian(s.m, s.loss, 1e-3);
  const same = await dominantEigenvalues(h, { method: 'lanczos', topK: 3, maxIter: 8, tol: 1e-3, rng: new Rng(7919) });
  h.dispose();
  assert.equal(logged[0]!.maxEigenvalue, same.maxEigenvalue);
  assert.deepEqual(logged[0]!.eigenvalues, same.eigenvalues);
  assert.ok(ctx.hessian !== null);
});
