import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { ShapeError } from '../../src/errors.js';
import { eigenvalues } from '../../src/analysis/eigen.js';
import { denseOperator, lanczos } from '../../src/analysis/lanczos.js';
import { randomSymmetric, relErr, withSpectrum } from './helpers.js';

/** A Hessian-like spectrum: a few positive outliers, a bulk, and a large negative eigenvalue. */
function hessianLikeSpectrum(n: number, rng: Rng): number[] {
  const v = [1.3, 0.9, 0.75, -5];
  while (v.length < n) v.push(-0.2 + 0.6 * rng.random());
  return v;
}

test('Hessian-like spectra (n = 56, 224) with a dominant negative eigenvalue: default settings find the algebraic max', async () => {
  for (const n of [56, 224]) {
    const rng = new Rng(n);
    const spec = hessianLikeSpectrum(n, rng);
    const a = withSpectrum(spec, rng);
    // power iteration would converge to −5 (largest magnitude), not to λ_max = 1.3
    assert.ok(Math.abs(Math.min(...spec)) > Math.max(...spec));
    const full = eigenvalues(a);
    const res = await lanczos(denseOperator(a, n), n, { rng: new Rng(1), k: 3 });
    assert.ok(res.converged, `n=${n} not converged: ${JSON.stringify(res.residuals)}`);
    assert.ok(res.operatorCalls <= 40);
    for (let t = 0; t < 3; t++) assert.ok(relErr(res.top[t]!, full[n - 1 - t]!) < 1e-6, `n=${n} t=${t}: ${res.top[t]} vs ${full[n - 1 - t]}`);
    assert.ok(res.residuals[0]! <= 1e-6 * Math.abs(res.top[0]!));
    // the bottom Ritz value is an upper bound on λ_min and, with −5 so isolated, already close
    assert.ok(res.bottom >= full[0]! - 1e-9 && res.bottom < -4.9);
  }
});

test('random GOE matrices (n = 20, 56, 224): top Ritz value matches the full eigendecomposition to 1e-6', async () => {
  for (const n of [20, 56, 224]) {
    const rng = new Rng(1000 + n);
    const a = randomSymmetric(n, rng);
    const full = eigenvalues(a);
    // GOE spectra are dense near the edge, so give Lanczos up to n steps; it stops on the residual test
    const res = await lanczos(denseOperator(a, n), n, { rng: new Rng(5), maxIter: n, tol: 1e-8 });
    assert.ok(res.converged);
    assert.ok(relErr(res.top[0]!, full[n - 1]!) < 1e-6, `n=${n}: ${res.top[0]} vs ${full[n - 1]}`);
    if (n === 20) {
      // a full run (n steps) reproduces the whole spectrum
      const all = await lanczos(denseOperator(a, n), n, { rng: new Rng(5), maxIter: n, tol: 0 });
      assert.equal(all.operatorCalls, n);
      all.ritzValues.forEach((v, i) => assert.ok(Math.abs(v - full[i]!) < 1e-10, `ritz ${i}: ${v} vs ${full[i]}`));
      assert.ok(Math.abs(all.bottom - full[0]!) < 1e-10);
    }
  }
});

test('residual bound is honest, async operators work, same seed → same result', async () => {
  const n = 60;
  const rng = new Rng(3);
  const a = withSpectrum(hessianLikeSpectrum(n, rng), rng);
  const dense = denseOperator(a, n);
  let calls = 0;
  const asyncOp = async (v: Float64Array) => {
    calls++;
    await new Promise((r) => setImmediate(r));
    return dense(v);
  };
  const r1 = await lanczos(asyncOp, n, { rng: new Rng(9), maxIter: 8, vectors: true });
  assert.equal(calls, r1.operatorCalls);
  assert.equal(r1.operatorCalls, 8);
  const y = r1.ritzVectors![0]!;
  const ay = dense(y);
  let res = 0;
  let ny = 0;
  for (let i = 0; i < n; i++) {
    res += (ay[i]! - r1.top[0]! * y[i]!) ** 2;
    ny += y[i]! ** 2;
  }
  assert.ok(Math.abs(Math.sqrt(ny) - 1) < 1e-12);
  assert.ok(Math.abs(Math.sqrt(res) - r1.residuals[0]!) < 1e-10 + 1e-8 * r1.residuals[0]!, `true residual ${Math.sqrt(res)} vs bound ${r1.residuals[0]}`);
  const r2 = await lanczos(dense, n, { rng: new Rng(9), maxIter: 8 });
  assert.deepEqual(r2.top, r1.top);
  const r3 = await lanczos(dense, n, { rng: new Rng(10), maxIter: 8 });
  assert.notDeepEqual(r3.top, r1.top);
});

test('invariant subspace (3 distinct eigenvalues) and tiny dimensions', async () => {
  const n = 30;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) d[i * n + i] = [4, -9, 1][i % 3]!;
  const r = await lanczos(denseOperator(d, n), n, { rng: new Rng(2), k: 2 });
  assert.equal(r.invariantSubspace, true);
  assert.equal(r.operatorCalls, 3);
  assert.ok(Math.abs(r.top[0]! - 4) < 1e-12 && Math.abs(r.top[1]! - 1) < 1e-12 && Math.abs(r.bottom + 9) < 1e-12);

  const one = await lanczos((v) => Float64Array.of(-3 * v[0]!), 1);
  assert.deepEqual([one.top[0], one.operatorCalls, one.converged], [-3, 1, true]);
  const two = await lanczos(denseOperator(Float64Array.of(2, 1, 1, 2), 2), 2, { k: 5 });
  assert.equal(two.top.length, 2);
  assert.ok(Math.abs(two.top[0]! - 3) < 1e-12 && Math.abs(two.top[1]! - 1) < 1e-12);
  const zero = await lanczos(() => new Float64Array(4), 4);
  assert.equal(zero.top[0], 0);
});

test('bad operators and arguments are refused', async () => {
  await assert.rejects(lanczos(() => new Float64Array(3), 4), ShapeError);
  await assert.rejects(lanczos(() => Float64Array.of(NaN, 0), 2), ShapeError);
  await assert.rejects(lanczos((v) => v, 0), RangeError);
  await assert.rejects(lanczos((v) => v, 3, { start: new Float64Array(3) }), RangeError);
});

test('eigTol: stopping on λ_max\'s error estimate min(r, r²/gap) needs fewer products, and λ_max is still within the tolerance', async () => {
  for (const n of [56, 224]) {
    const rng = new Rng(77 + n);
    const spec = hessianLikeSpectrum(n, rng);
    const a = withSpectrum(spec, rng);
    const lmax = Math.max(...spec);
    const byResidual = await lanczos(denseOperator(a, n), n, { rng: new Rng(3), tol: 1e-6, maxIter: n });
    const byEigenvalue = await lanczos(denseOperator(a, n), n, { rng: new Rng(3), eigTol: 1e-6, maxIter: n });
    assert.ok(byEigenvalue.converged);
    assert.ok(byEigenvalue.operatorCalls < byResidual.operatorCalls, `n=${n}: ${byEigenvalue.operatorCalls} vs ${byResidual.operatorCalls} products`);
    assert.ok(relErr(byEigenvalue.top[0]!, lmax) < 1e-6, `n=${n}: ${byEigenvalue.top[0]} vs ${lmax}`);
    // the estimate is an estimate: the residual itself is still above the residual rule's bound
    assert.ok(byEigenvalue.residuals[0]! > 1e-6 * Math.abs(byEigenvalue.top[0]!));
  }
});
