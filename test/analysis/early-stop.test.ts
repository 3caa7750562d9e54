import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CheckpointError, ConfigError } from '../../src/errors.js';
import { CodeEarlyStop, PaperEarlyStop, createEarlyStop, earlyStopFromState, replayEarlyStop } from '../../src/search/methods/es-rules.js';
import { readHessianFile } from '../../src/experiments/hessian-file.js';
import { traceFromRecords, type TracePoint } from '../../src/analysis/trace.js';
import { robustDartsS1Dir } from '../helpers/fixtures.js';

/** Hessian epochs of a 50-epoch search measured every 2 epochs: 0, 2, …, 48, 49. */
const EPOCHS = [...Array.from({ length: 25 }, (_, i) => 2 * i), 49];
const traceOf = (f: (e: number) => number, epochs = EPOCHS): TracePoint[] => epochs.map((epoch) => ({ epoch, maxEigenvalue: f(epoch) }));

test('code rule on the reference logs: detect 22/22/30, return epochs 10/10/18 (golden vectors, spec §6.2)', () => {
  const dir = robustDartsS1Dir();
  const expected: Record<number, [number, number]> = { 1: [22, 10], 2: [22, 10], 3: [30, 18] };
  for (const seed of [1, 2, 3]) {
    const trace = traceFromRecords(readHessianFile(join(dir, `derivatives_${seed}.json`)));
    const r = replayEarlyStop(trace, 'code');
    assert.deepEqual([r.detectEpoch, r.stopEpoch], expected[seed], `seed ${seed}`);
    assert.deepEqual(r.warnings, []);
    // the reference ends with as many local averages as EVs: 23 regular + 3 tail
    assert.equal(r.localAverages.length, 26);
    assert.equal(r.localAverages.filter((a) => a.tail).length, 3);
    assert.equal(r.checks[0]!.epoch, 22, 'no check before epoch 22');
    assert.ok(r.checks.every((c) => c.epoch !== 49), 'no check at the last epoch');
    if (seed === 3) {
      // ratios at epochs 22…30, computed independently with numpy (4 decimals)
      assert.deepEqual(r.checks.slice(0, 5).map((c) => +c.ratio.toFixed(4)), [1.0848, 1.0785, 1.1271, 1.1999, 1.467]);
    }
    if (seed === 1) assert.equal(+r.checks[0]!.ratio.toFixed(4), 1.4528);
  }
});

test('code rule, hand trace: λ = 1 up to epoch 20, then 2 → fires at 24, returns 12', () => {
  // EV index i = e/2. LA appended from i = 2 (epoch 4); from i = 4 it is mean(ev[i−4..i]), label e − 4.
  // e = 22: LA = mean(1,1,1,1,2) = 1.2, LA 4 back (label 10, ev[3..7]) = 1 → r = 1.2 ≤ 1.3.
  // e = 24: LA = mean(1,1,1,2,2) = 1.4, LA 4 back = 1 → r = 1.4 > 1.3: detect 24, stop 24 − 12 = 12.
  const r = replayEarlyStop(traceOf((e) => (e <= 20 ? 1 : 2)), 'code');
  assert.equal(r.detectEpoch, 24);
  assert.equal(r.stopEpoch, 12);
  assert.deepEqual(r.checks.slice(0, 2).map((c) => [c.epoch, +c.ratio.toFixed(12), c.fired]), [[22, 1.2, false], [24, 1.4, true]]);
  // first averages: epoch 4 → mean of 3 EVs (label 0), epoch 6 → 4 EVs (label 2), then windows of 5
  assert.deepEqual(r.localAverages.slice(0, 3).map((a) => [a.epoch, a.samples]), [[0, 3], [2, 4], [4, 5]]);
  // tail at epoch 49: shrinking windows of 5, 4, 3 EVs (all 2 here)
  assert.deepEqual(r.localAverages.filter((a) => a.tail).map((a) => [a.samples, a.value]), [[5, 2], [4, 2], [3, 2]]);
});

test('code rule, hand traces: flat never fires; startEpoch gates the first check', () => {
  const flat = replayEarlyStop(traceOf(() => 0.3), 'code');
  assert.equal(flat.detectEpoch, null);
  assert.equal(flat.stopEpoch, null);
  assert.equal(flat.checks.length, 14); // epochs 22, 24, …, 48
  // λ = 1 up to epoch 8, then 3.
  // Default start 10: first check at e = 22: LA(ev[7..11]) = 3, LA(ev[3..7]) = (1+1+3+3+3)/5 = 2.2 → r = 1.364 → detect 22, stop 10.
  const step = traceOf((e) => (e <= 8 ? 1 : 3));
  const d = replayEarlyStop(step, 'code');
  assert.deepEqual([d.detectEpoch, d.stopEpoch], [22, 10]);
  assert.equal(+d.checks[0]!.ratio.toFixed(12), +(3 / 2.2).toFixed(12));
  // startEpoch 0: first check at e = 12 (label 8 − 8 = 0): LA(ev[2..6]) = (1+1+1+3+3)/5 = 1.8 over the
  // first average (epoch 4, mean of ev[0..2]) = 1 → r = 1.8: detect 12, stop 0.
  const early = replayEarlyStop(step, 'code', { startEpoch: 0 });
  assert.deepEqual([early.detectEpoch, early.stopEpoch], [12, 0]);
  // with start 0 the ratios are 1.8 (e=12), 2.2 (e=14: 11/5 over 1), 2.6 (e=16: 13/5 over 1),
  // 3/1.4 (e=18), … so factor 2.5 first fires at 16 (stop 4) and factor 2.7 never does
  const f25 = replayEarlyStop(step, 'code', { startEpoch: 0, factor: 2.5 });
  assert.deepEqual([f25.detectEpoch, f25.stopEpoch], [16, 4]);
  assert.equal(replayEarlyStop(step, 'code', { startEpoch: 0, factor: 2.7 }).detectEpoch, null);
});

test('paper rule, hand traces (every epoch and every 2 epochs)', () => {
  // every epoch 0…20, λ = 1 for e ≤ 9, 2 after. λ̄(j) = mean over (j−5, j]; first check at i = 9.
  // i = 10: λ̄(5) = 1, λ̄(10) = (1·4+2)/5 = 1.2 → r = 0.833 ≥ 0.75
  // i = 11: λ̄(6) = 1, λ̄(11) = (1·3+2·2)/5 = 1.4 → r = 0.714 < 0.75: detect 11, return 6.
  const everyEpoch = Array.from({ length: 21 }, (_, e) => e);
  const r = replayEarlyStop(traceOf((e) => (e <= 9 ? 1 : 2), everyEpoch), 'paper');
  assert.deepEqual([r.detectEpoch, r.stopEpoch], [11, 6]);
  assert.deepEqual(r.checks.slice(0, 3).map((c) => [c.epoch, +c.ratio.toFixed(6), c.fired]), [[9, 1, false], [10, 0.833333, false], [11, 0.714286, true]]);
  assert.equal(r.localAverages[0]!.epoch, 4, 'first λ̄ needs a full window: epochs 0…4');
  // every 2 epochs, λ = 1 for e ≤ 10, 1.6 after. First check at i = 10 (λ̄(5) over {2,4}).
  // i = 12: λ̄(7) over {4,6} = 1, λ̄(12) over {8,10,12} = 3.6/3 = 1.2 → r = 0.833
  // i = 14: λ̄(9) over {6,8} = 1, λ̄(14) over {10,12,14} = 4.2/3 = 1.4 → r = 0.714: detect 14, return 9.
  const r2 = replayEarlyStop(traceOf((e) => (e <= 10 ? 1 : 1.6)), 'paper');
  assert.deepEqual([r2.detectEpoch, r2.stopEpoch], [14, 9]);
  assert.deepEqual(r2.checks.slice(0, 3).map((c) => [c.epoch, c.fired]), [[10, false], [12, false], [14, true]]);
  assert.equal(replayEarlyStop(traceOf(() => 1), 'paper').detectEpoch, null);
  // threshold 0.7 does not fire on 0.714 at i = 14, but at i = 16: λ̄(11) over {8,10} = 1, λ̄(16) over {12,14,16} = 1.6 → r = 0.625
  const r3 = replayEarlyStop(traceOf((e) => (e <= 10 ? 1 : 1.6)), 'paper', { threshold: 0.7 });
  assert.deepEqual([r3.detectEpoch, r3.stopEpoch], [16, 11]);
});

test('incremental state survives a JSON round trip mid-run (both rules)', () => {
  const trace = traceFromRecords(readHessianFile(join(robustDartsS1Dir(), 'derivatives_3.json')));
  for (const rule of ['code', 'paper'] as const) {
    const whole = createEarlyStop(rule);
    for (const p of trace) whole.update(p.epoch, p.maxEigenvalue);
    const first = createEarlyStop(rule);
    for (const p of trace.slice(0, 13)) first.update(p.epoch, p.maxEigenvalue);
    const resumed = earlyStopFromState(JSON.parse(JSON.stringify(first.getState())));
    const decisions = trace.slice(13).map((p) => resumed.update(p.epoch, p.maxEigenvalue));
    assert.deepEqual(resumed.getState(), whole.getState(), rule);
    const after = decisions.flatMap((d) => (d.check ? [d.check] : []));
    const all = whole.getState().checks;
    assert.ok(after.length > 0);
    assert.deepEqual(after, all.slice(all.length - after.length));
  }
  assert.ok(createEarlyStop('code') instanceof CodeEarlyStop);
  assert.ok(createEarlyStop('paper') instanceof PaperEarlyStop);
});

test('bad input is refused with typed errors', () => {
  const es = new CodeEarlyStop();
  es.update(0, 0.1);
  assert.throws(() => es.update(0, 0.2), ConfigError);
  assert.throws(() => es.update(2, NaN), ConfigError);
  assert.throws(() => new CodeEarlyStop({ window: 0 }), ConfigError);
  assert.throws(() => new PaperEarlyStop({ threshold: -1 }), ConfigError);
  assert.throws(() => createEarlyStop('other' as 'code'), ConfigError);
  assert.throws(() => earlyStopFromState({ rule: 'code' } as never), CheckpointError);
  const w = replayEarlyStop(traceOf(() => 1, [0, 1, 2, 3]), 'code');
  assert.ok(w.warnings.some((m) => /evFreq/.test(m)));
});
