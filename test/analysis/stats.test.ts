import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  correlationPValue, logGamma, mean, movingAverage, pearson, rankAverage, regularizedIncompleteBeta, spearman, standardError, std, studentTTwoSidedP,
} from '../../src/analysis/stats.js';

const close = (a: number, b: number, rel = 1e-12) => assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(b), 1e-300), `${a} vs ${b}`);

test('summaries by hand', () => {
  const xs = [2, 4, 4, 4, 5, 5, 7, 9];
  assert.equal(mean(xs), 5);
  assert.equal(std(xs, 0), 2);
  close(std(xs), Math.sqrt(32 / 7));
  close(standardError(xs), Math.sqrt(32 / 7) / Math.sqrt(8));
  assert.ok(Number.isNaN(std([1])));
  assert.ok(Number.isNaN(mean([])));
});

test('special functions against closed forms', () => {
  close(logGamma(5), Math.log(24), 1e-14);
  close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14);
  close(logGamma(11), Math.log(3628800), 1e-14);
  for (const x of [0.01, 0.3, 0.5, 0.77, 0.999]) {
    close(regularizedIncompleteBeta(x, 1, 1), x, 1e-13);
    close(regularizedIncompleteBeta(x, 3, 1), x ** 3, 1e-13);
    close(regularizedIncompleteBeta(x, 1, 4), 1 - (1 - x) ** 4, 1e-13);
  }
  close(regularizedIncompleteBeta(0.5, 7.5, 7.5), 0.5, 1e-13);
  // Student t closed forms: ν = 1 (Cauchy) p = 1 − 2/π·atan|t|; ν = 2 p = 1 − |t|/√(2+t²);
  // ν = 3 p = 1 − 2/π·(atan(u) + u/(1+u²)), u = t/√3
  for (const t of [0.1, 1, 2.5, 10]) {
    close(studentTTwoSidedP(t, 1), 1 - (2 / Math.PI) * Math.atan(t), 1e-12);
    close(studentTTwoSidedP(-t, 2), 1 - t / Math.sqrt(2 + t * t), 1e-12);
    const u = t / Math.sqrt(3);
    close(studentTTwoSidedP(t, 3), 1 - (2 / Math.PI) * (Math.atan(u) + u / (1 + u * u)), 1e-12);
  }
  assert.equal(studentTTwoSidedP(0, 5), 1);
});

test('Pearson r = 0.867 over n = 24: p ≈ 4.3e-8, checked by numerical integration of the t(22) density', () => {
  const { p, t } = correlationPValue(0.867, 24);
  // independent: density of t with ν = 22, c = Γ(11.5) / (√(22π) Γ(11)), Γ(11.5) = (21!!/2¹¹)√π, Γ(11) = 10!
  let dfact = 1;
  for (let k = 21; k > 0; k -= 2) dfact *= k;
  const c = ((dfact / 2 ** 11) * Math.sqrt(Math.PI)) / (Math.sqrt(22 * Math.PI) * 3628800);
  const f = (s: number) => c * (1 + (s * s) / 22) ** -11.5;
  // Simpson on [t, 300] (the tail beyond is < 1e-30)
  const a = t;
  const b = 300;
  const m = 60000;
  const h = (b - a) / m;
  let sum = f(a) + f(b);
  for (let i = 1; i < m; i++) sum += (i % 2 ? 4 : 2) * f(a + i * h);
  const pInt = 2 * (sum * h) / 3;
  close(p, pInt, 1e-6);
  assert.ok(p > 4.2e-8 && p < 4.4e-8, `p = ${p}`);
});

test('Pearson and Spearman on small hand examples', () => {
  // x = 1..5, y = 2,4,5,4,5: sxy = 6, sxx = 10, syy = 6 → r = 6/√60; t = r√(3/(1−r²)) = √4.5
  const pr = pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]);
  close(pr.r, 6 / Math.sqrt(60));
  close(pr.t, Math.sqrt(4.5));
  const u = Math.sqrt(4.5) / Math.sqrt(3);
  close(pr.p, 1 - (2 / Math.PI) * (Math.atan(u) + u / (1 + u * u)), 1e-12);
  const perfect = pearson([1, 2, 3], [10, 20, 30]);
  assert.deepEqual([perfect.r, perfect.p], [1, 0]);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3]).r));
  assert.ok(Number.isNaN(pearson([1, 2], [1, 2]).p));
  assert.throws(() => pearson([1, 2], [1]), RangeError);
  // ranks with ties get the average rank
  assert.deepEqual(Array.from(rankAverage([10, 20, 20, 5])), [2, 3.5, 3.5, 1]);
  // y = 5,6,7,8,7 → ranks 1,2,3.5,5,3.5; ρ = 8/√95
  close(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).r, 8 / Math.sqrt(95));
  // monotone but non-linear: ρ = 1 while r < 1
  assert.equal(spearman([1, 2, 3, 4], [1, 8, 27, 64]).r, 1);
  assert.ok(pearson([1, 2, 3, 4], [1, 8, 27, 64]).r < 0.99);
});

test('moving averages', () => {
  assert.deepEqual(movingAverage([1, 2, 3, 4, 5], 3), [1, 1.5, 2, 3, 4]);
  assert.deepEqual(movingAverage([1, 2, 3, 4, 5], 3, 'centered'), [1.5, 2, 3, 4, 4.5]);
  assert.deepEqual(movingAverage([2, 4, 6, 8, 10, 12], 5, 'centered'), [4, 5, 6, 8, 9, 10]);
  assert.throws(() => movingAverage([1], 0), RangeError);
});
