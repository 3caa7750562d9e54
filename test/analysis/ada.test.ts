import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointError, ConfigError } from '../../src/errors.js';
import { AdaController, isFinalRegularization } from '../../src/search/methods/ada-controller.js';

test('script constants (R0 3e-4, η 10, R_max 0.03): 3e-4 → 3e-3 → 3e-2, then triggers are ignored', () => {
  const ada = new AdaController();
  assert.equal(ada.l2, 3e-4);
  assert.equal(ada.final, false);
  const d1 = ada.onTrigger(22, 10);
  assert.equal(d1.action, 'rollback');
  if (d1.action !== 'rollback') return;
  assert.equal(d1.toEpoch, 10);
  assert.ok(Math.abs(d1.newL2 - 3e-3) < 1e-18);
  assert.deepEqual([d1.firstRollback, d1.final, d1.rollbacks], [true, false, 1]);
  assert.equal(ada.esEpoch, 10, 'the first rollback target is the DARTS-ES architecture');
  const d2 = ada.onTrigger(30, 18);
  assert.equal(d2.action, 'rollback');
  if (d2.action !== 'rollback') return;
  assert.ok(Math.abs(d2.newL2 - 3e-2) < 1e-17);
  assert.deepEqual([d2.firstRollback, d2.final, d2.rollbacks], [false, true, 2]);
  const d3 = ada.onTrigger(40, 28);
  assert.deepEqual(d3, { action: 'ignore', reason: 'final', l2: ada.l2 });
  assert.equal(ada.rollbacks, 2);
  assert.equal(ada.esEpoch, 10);
  assert.deepEqual(ada.history.map((h) => h.action), ['rollback', 'rollback', 'ignore']);
});

test('the final test is round(log(R_max)/log(R), 1) == 1, not R ≥ R_max', () => {
  // hand values: log(.03)/log(3e-4) = 0.432, log(.03)/log(3e-3) = 0.604, log(.03)/log(.03) = 1
  assert.equal(isFinalRegularization(3e-4, 0.03), false);
  assert.equal(isFinalRegularization(3e-3, 0.03), false);
  assert.equal(isFinalRegularization(0.03, 0.03), true);
  // the window is R ∈ [0.03^(1/0.95), 0.03^(1/1.05)) = [0.02494, 0.03545)
  assert.equal(isFinalRegularization(0.025, 0.03), true);
  assert.equal(isFinalRegularization(0.0249, 0.03), false);
  assert.equal(isFinalRegularization(0.035, 0.03), true);
  assert.equal(isFinalRegularization(0.036, 0.03), false, 'overshooting R_max is not final');
  // η = 3, R_max = 0.03 is never final: the ratios go 0.43, 0.50, 0.59, 0.73, 0.94, 1.34
  const never = new AdaController({ eta: 3 });
  for (let i = 0; i < 6; i++) assert.equal(never.onTrigger(22 + i, 10).action, 'rollback');
  // args.py's η = 3, R_max = 0.0243 is final after 4 rollbacks (3e-4·3⁴ = 0.0243)
  const args = new AdaController({ eta: 3, l2Max: 0.0243 });
  const actions = Array.from({ length: 6 }, (_, i) => args.onTrigger(22 + 2 * i, 10 + 2 * i).action);
  assert.deepEqual(actions, ['rollback', 'rollback', 'rollback', 'rollback', 'ignore', 'ignore']);
  // the optional guard
  const capped = new AdaController({ eta: 3, maxRollbacks: 1 });
  assert.equal(capped.onTrigger(22, 10).action, 'rollback');
  assert.deepEqual(capped.onTrigger(24, 12), { action: 'ignore', reason: 'max-rollbacks', l2: capped.l2 });
});

test('state is serialisable and restores exactly; bad input refused', () => {
  const a = new AdaController();
  a.onTrigger(22, 10);
  const s = JSON.parse(JSON.stringify(a.getState()));
  assert.equal(s.version, 1);
  assert.equal(s.options.maxRollbacks, null, 'Infinity is stored as null');
  const b = AdaController.fromState(s);
  assert.deepEqual(b.getState(), a.getState());
  const db = b.onTrigger(30, 18);
  const da = a.onTrigger(30, 18);
  assert.deepEqual(db, da);
  assert.throws(() => AdaController.fromState({} as never), CheckpointError);
  assert.throws(() => a.onTrigger(10, 22), ConfigError);
  assert.throws(() => new AdaController({ eta: 0 }), ConfigError);
});
