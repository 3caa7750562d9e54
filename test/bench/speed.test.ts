import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, rowRatios, rowSelected } from '../../bench/speed.js';

test('speed bench: min ratio and median of paired ratios', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  const r = rowRatios([2, 1, 4], [4, 2, 2]);
  assert.equal(r.minRatio, 0.5); // min 1 / min 2
  assert.equal(r.medianRatio, 0.5); // pairs 0.5, 0.5, 2
});

test('speed bench: row filters', () => {
  assert.ok(rowSelected('a-first', ['a']));
  assert.ok(rowSelected('b-second', ['search']));
  assert.ok(!rowSelected('b-second', ['a', 'hessian']));
  assert.ok(rowSelected('eval-c10', ['eval']));
  assert.ok(rowSelected('eval-small', ['eval-small']));
  assert.ok(!rowSelected('eval-small', ['eval-c10']));
  assert.ok(rowSelected('hessian', ['hessian']));
});
