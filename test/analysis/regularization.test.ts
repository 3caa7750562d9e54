import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { cutoutEnabledForDropPath, cutoutProb, dropPathProb } from '../../src/search/methods/schedules.js';

test('drop-path ramps linearly from 0 at epoch 0 to p_max at epoch E−1', () => {
  assert.equal(dropPathProb(0, 50, 0.6), 0);
  assert.equal(dropPathProb(49, 50, 0.6), 0.6);
  assert.ok(Math.abs(dropPathProb(10, 50, 0.6) - (0.6 * 10) / 49) < 1e-15);
  assert.ok(Math.abs(dropPathProb(1, 3, 0.2) - 0.1) < 1e-15);
  const ramp = Array.from({ length: 50 }, (_, e) => dropPathProb(e, 50, 0.4));
  for (let e = 1; e < 50; e++) assert.ok(Math.abs(ramp[e]! - ramp[e - 1]! - 0.4 / 49) < 1e-15);
  assert.equal(dropPathProb(0, 1, 0.4), 0);
  assert.equal(dropPathProb(7, 50, 0), 0);
  assert.throws(() => dropPathProb(50, 50, 0.2), ConfigError);
  assert.throws(() => dropPathProb(0, 50, 1), ConfigError);
});

test('cutout: e/(E−1) only when enabled (the reference enables it iff dp > 0)', () => {
  assert.equal(cutoutProb(0, 50, true), 0);
  assert.equal(cutoutProb(49, 50, true), 1);
  assert.ok(Math.abs(cutoutProb(25, 50, true) - 25 / 49) < 1e-15);
  assert.equal(cutoutProb(25, 50, false), 0);
  assert.equal(cutoutEnabledForDropPath(0), false);
  assert.equal(cutoutEnabledForDropPath(0.2), true);
});
