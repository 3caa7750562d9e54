import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad, keep, manualSeed, randn, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { pinTestThreads } from '../helpers/threads.js';
import { Network, getSpace } from '../../src/nas/index.js';
import { AlphaHessian, dominantEigenvalues } from '../../src/analysis/hessian.js';
import { symmetricEigen } from '../../src/analysis/eigen.js';
import { Rng } from '../../src/util/rng.js';

pinTestThreads();

/** A tiny float64 supernet with α moved away from 0, and a fixed batch. */
function setup(space: string): { net: Network; x: Tensor; y: Tensor } {
  manualSeed(11);
  const net = new Network({ space: getSpace(space), C: 2, layers: 3, numClasses: 4 }).to('float64');
  const r = new Rng(3);
  const a = net.alphaValues();
  net.setAlphas({ normal: a.normal.map((row) => row.map(() => 0.5 * r.normal())), reduce: a.reduce.map((row) => row.map(() => 0.5 * r.normal())) });
  const x = keep(randn([6, 3, 8, 8], { dtype: 'float64' }));
  const y = keep(tensor([0, 1, 2, 3, 0, 1], { dtype: 'int64' }));
  return { net, x, y };
}

test('α-Hessian: exact HVPs equal finite differences of ∇α L, and the matrix is symmetric', () => {
  const { net, x, y } = setup('s2');
  const h = new AlphaHessian(net, () => net.loss(x, y));
  const n = h.n;
  assert.equal(n, 56);
  const r = new Rng(5);
  const v = Float64Array.from({ length: n }, () => r.normal());
  const hv = h.hvp(v);
  // central difference of the flat gradient along v, with α moved and restored
  const gradAt = (s: number): Float64Array =>
    tidy(() => {
      const base = net.alphaValues();
      const [dn, dr] = net.archFromVector(tensor(v, [n]));
      const vn = dn.toNumbers();
      const vr = dr.toNumbers();
      const m = net.maxOps;
      net.setAlphas({
        normal: base.normal.map((row, e) => row.map((a, k) => a + s * vn[e * m.normal + k]!)),
        reduce: base.reduce.map((row, e) => row.map((a, k) => a + s * vr[e * m.reduce + k]!)),
      });
      const g = grad(net.loss(x, y), net.archParameters()) as Tensor[];
      const flat = Float64Array.from(net.archVector(g).toNumbers());
      net.setAlphas(base);
      return flat;
    });
  const eps = 1e-6;
  const gp = gradAt(eps);
  const gm = gradAt(-eps);
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const fd = (gp[i]! - gm[i]!) / (2 * eps);
    num += (fd - hv[i]!) ** 2;
    den += hv[i]! ** 2;
  }
  assert.ok(den > 1e-8, 'the product must not vanish');
  assert.ok(Math.sqrt(num / den) < 1e-6, `HVP vs finite differences: relative error ${Math.sqrt(num / den)}`);
  // symmetry of the raw rows (before full() averages them)
  let asym = 0;
  let scale = 0;
  const rows: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const e = new Float64Array(n);
    e[i] = 1;
    rows.push(h.hvp(e));
  }
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      asym = Math.max(asym, Math.abs(rows[i]![j]! - rows[j]![i]!));
      scale = Math.max(scale, Math.abs(rows[i]![j]!));
    }
  assert.ok(asym <= 1e-10 * scale, `Hessian asymmetry ${asym} (scale ${scale})`);
  h.dispose();
  net.dispose();
});

test('Lanczos on a tiny supernet Hessian finds the algebraic max of the full eigendecomposition; the shift adds to every eigenvalue', async () => {
  for (const space of ['s2', 's3']) {
    const { net, x, y } = setup(space);
    const h = new AlphaHessian(net, () => net.loss(x, y));
    const full = await dominantEigenvalues(h, { method: 'full', topK: 3, keepMatrix: true });
    const values = symmetricEigen(full.H!).values;
    assert.equal(full.maxEigenvalue, values[values.length - 1]);
    assert.ok(full.minEigenvalue! < 0 && -full.minEigenvalue! > 1e-4, `${space}: this Hessian is indefinite (λ_min ${full.minEigenvalue}), so power iteration would be the wrong tool`);
    const lz = await dominantEigenvalues(h, { method: 'lanczos', topK: 3, tol: 1e-8, maxIter: h.n, rng: new Rng(1) });
    const rel = Math.abs(lz.maxEigenvalue - full.maxEigenvalue) / Math.abs(full.maxEigenvalue);
    assert.ok(rel < 1e-6, `${space}: Lanczos ${lz.maxEigenvalue} vs full ${full.maxEigenvalue} (rel ${rel})`);
    for (let k = 1; k < 3; k++) assert.ok(Math.abs(lz.eigenvalues[k]! - full.eigenvalues[k]!) < 1e-5 * Math.abs(full.maxEigenvalue), `${space}: eigenvalue ${k}`);
    // default tolerance (1e-3 on the residual) still gives λ_max to about 1e-4, with fewer products
    const quick = await dominantEigenvalues(h, { method: 'lanczos', topK: 1, tol: 1e-3, maxIter: 30, rng: new Rng(1) });
    assert.ok(Math.abs(quick.maxEigenvalue - full.maxEigenvalue) < 1e-4 * Math.abs(full.maxEigenvalue), `${space}: quick Lanczos ${quick.maxEigenvalue}`);
    h.dispose();
    const shifted = new AlphaHessian(net, () => net.loss(x, y), 1e-3);
    const s = await dominantEigenvalues(shifted, { method: 'full', topK: 1 });
    assert.ok(Math.abs(s.maxEigenvalue - (full.maxEigenvalue + 1e-3)) < 1e-12, 'shift adds 1e-3 to λ_max');
    shifted.dispose();
    net.dispose();
    x.dispose();
    y.dispose();
  }
});

test('warm start: from the previous λ_max vector of a nearby Hessian, Lanczos (lambda-max rule) needs fewer products for the same λ_max', async () => {
  const { net, x, y } = setup('s2');
  const h0 = new AlphaHessian(net, () => net.loss(x, y));
  const full0 = await dominantEigenvalues(h0, { method: 'full', topK: 1 });
  const first = await dominantEigenvalues(h0, { method: 'lanczos', topK: 1, tol: 1e-6, converge: 'lambda-max', maxIter: h0.n, rng: new Rng(2), returnVector: true });
  h0.dispose();
  const v = first.topVector!;
  assert.equal(v.length, 56);
  assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-9, 'the returned Ritz vector has unit norm');
  assert.ok(Math.abs(first.maxEigenvalue - full0.maxEigenvalue) < 1e-6 * Math.abs(full0.maxEigenvalue));
  // the next measurement: α moved a little, as between two epochs
  const r = new Rng(9);
  const a = net.alphaValues();
  net.setAlphas({ normal: a.normal.map((row) => row.map((u) => u + 0.02 * r.normal())), reduce: a.reduce.map((row) => row.map((u) => u + 0.02 * r.normal())) });
  const h1 = new AlphaHessian(net, () => net.loss(x, y));
  const full1 = await dominantEigenvalues(h1, { method: 'full', topK: 1 });
  const cold = await dominantEigenvalues(h1, { method: 'lanczos', topK: 1, tol: 1e-6, converge: 'lambda-max', maxIter: h1.n, rng: new Rng(3) });
  const warm = await dominantEigenvalues(h1, { method: 'lanczos', topK: 1, tol: 1e-6, converge: 'lambda-max', maxIter: h1.n, start: v });
  for (const [name, res] of [['cold', cold], ['warm', warm]] as const) assert.ok(Math.abs(res.maxEigenvalue - full1.maxEigenvalue) < 1e-6 * Math.abs(full1.maxEigenvalue), `${name}: ${res.maxEigenvalue} vs ${full1.maxEigenvalue}`);
  assert.ok(warm.operatorCalls < cold.operatorCalls, `warm ${warm.operatorCalls} vs cold ${cold.operatorCalls} products`);
  h1.dispose();
  net.dispose();
});
