import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG, resolveConfig } from '../../src/search/config.js';
import { adaMaxRollbacks, formatDuration, maxBatchSize, parseMemory, predict, predictTraining, runShape, trainShape, type Calibration } from '../../src/experiments/plan-model.js';
import { autoBatchSize } from '../../src/experiments/plan.js';
import { childEnv } from '../helpers/threads.js';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const MiB = 2 ** 20;

const cal: Calibration = {
  device: 'cpu',
  threads: 2,
  batchSize: 32,
  steps: 3,
  archStepS: 2,
  weightStepS: 1,
  evalBatchS: 0.5,
  hessianS: 10,
  hessianHvps: 20,
  rssFixedBytes: 400 * MiB,
  rssPeakBytes: 400 * MiB + 32 * 10 * MiB, // 10 MiB per image
};

test('plan: run shape from a configuration', () => {
  const cfg = resolveConfig(undefined, { method: 'darts', epochs: 10, batchSize: 32, hessian: { every: 2 } }, 'test');
  const s = runShape(cfg, 2000); // 1000 train / 1000 val
  assert.equal(s.stepsPerEpoch, 32); // ceil(1000 / 32)
  assert.equal(s.valBatches, 32);
  assert.equal(s.hessianEpochs, 6); // 0 2 4 6 8 + last (9)
  assert.equal(s.discretizationPasses, 1); // 'end'
  assert.equal(s.members, 1);
  assert.equal(s.adaRollbacks, 0);
  const capped = runShape({ ...cfg, stepsPerEpoch: 5, evalBatches: 3 }, 2000);
  assert.equal(capped.stepsPerEpoch, 5);
  assert.equal(capped.valBatches, 3);
  // ES/ADA force a measurement every epoch when every = 0
  assert.equal(runShape({ ...cfg, method: 'darts-es', hessian: { ...cfg.hessian, every: 0 } }, 2000).hessianEpochs, 10);
  assert.equal(runShape({ ...cfg, method: 'rdarts-l2' }, 2000).members, DEFAULT_CONFIG.grid.l2.length);
  assert.equal(runShape({ ...cfg, method: 'rs-ws' }, 2000).archStep, false);
});

test('plan: DARTS-ADA rollbacks with the paper defaults (3e-4 ×10 up to 0.03) are 2', () => {
  assert.equal(adaMaxRollbacks(3e-4, 10, 0.03), 2);
  assert.equal(adaMaxRollbacks(0.03, 10, 0.03), 0);
});

test('plan: prediction arithmetic on constructed calibration numbers', () => {
  const cfg = resolveConfig(undefined, { method: 'darts', epochs: 10, batchSize: 32, hessian: { every: 2 } }, 'test');
  const shape = runShape(cfg, 2000);
  const p = predict(cal, shape, 8 * 2 ** 30);
  assert.equal(p.stepS, 3);
  assert.equal(p.validationPassS, 16); // 32 batches × 0.5
  assert.equal(p.epochS, 3 * 32 + 16);
  assert.equal(p.hessianMeasurementS, 10);
  assert.equal(p.parts.stepsS, 960);
  assert.equal(p.parts.hessianS, 60);
  assert.equal(p.parts.discretizationS, 16);
  assert.equal(p.totalS, 960 + 160 + 60 + 16);
  assert.equal(p.worstCaseS, p.totalS);
  assert.equal(p.peakBytes, 720 * MiB);
  assert.equal(p.perSampleBytes, 10 * MiB);
  assert.equal(p.maxBatchSize, Math.floor((8192 - 400) / 10));
  assert.equal(p.fits, true);
  // another batch size: step time scales with the batch, memory by the per-image slope
  const p64 = predict(cal, runShape(cfg, 2000, 64), 1024 * MiB);
  assert.equal(p64.stepS, 6);
  assert.equal(p64.peakBytes, 1040 * MiB);
  assert.equal(p64.fits, false);
  assert.equal(p64.maxBatchSize, 62);
  // ADA worst case: 2 rollbacks × rewind epochs × (epoch + Hessian)
  const ada = runShape({ ...cfg, method: 'darts-ada' }, 2000);
  const pa = predict(cal, ada);
  assert.equal(ada.rewindEpochs, Math.min(10, cfg.earlyStop.window - 1 + 2 * cfg.earlyStop.delta));
  assert.ok(Math.abs(pa.worstCaseS - (pa.totalS + 2 * ada.rewindEpochs * (pa.epochS + 10))) < 1e-9);
  // grid: members × one search
  const g = predict(cal, runShape({ ...cfg, method: 'rdarts-dp' }, 2000));
  assert.ok(Math.abs(g.totalS - 4 * p.totalS) < 1e-9);
  // auto batch: memory bound, at most 1024 and the training split
  assert.equal(autoBatchSize(p, 1000), Math.floor((8192 - 400) / 10));
  assert.equal(autoBatchSize(p, 100), 100);
  assert.equal(maxBatchSize(100, 0, 50), Number.POSITIVE_INFINITY);
  assert.equal(maxBatchSize(100, 10, 50), 0);
});

test('plan: memory sizes and durations', () => {
  assert.equal(parseMemory('8G'), 8 * 2 ** 30);
  assert.equal(parseMemory('512M'), 512 * MiB);
  assert.equal(parseMemory('1.5GiB'), 1.5 * 2 ** 30);
  assert.equal(parseMemory('1000'), 1000);
  assert.throws(() => parseMemory('lots'), /not a memory size/);
  assert.equal(formatDuration(3723), '1 h 2 min');
  assert.equal(formatDuration(42.34), '42.3 s');
});

test('plan: rdarts plan --json on synthetic data returns sane positive numbers', () => {
  const r = spawnSync(
    process.execPath,
    [CLI, 'plan', '--dataset', 'synthetic', '--subset', '64', '--space', 's3', '--layers', '3', '--channels', '2', '--batch-size', '8', '--epochs', '3', '--order', 'first', '--hessian-every', '1', '--calibration-steps', '1', '--memory-limit', '4G', '--json', '--quiet'],
    { encoding: 'utf8', env: childEnv() },
  );
  assert.equal(r.status, 0, r.stderr);
  const p = JSON.parse(r.stdout) as { plan: Record<string, number>; shape: Record<string, number>; calibration: Record<string, number> };
  for (const k of ['stepS', 'epochS', 'totalS', 'worstCaseS', 'peakBytes', 'hessianMeasurementS', 'validationPassS']) assert.ok(p.plan[k]! > 0 && Number.isFinite(p.plan[k]), `${k} = ${p.plan[k]}`);
  assert.ok(p.plan['maxBatchSize']! >= 1);
  assert.equal(p.shape['stepsPerEpoch'], 4); // 32 train images / 8
  assert.equal(p.shape['hessianEpochs'], 3);
  assert.ok(p.calibration['archStepS']! > 0 && p.calibration['weightStepS']! > 0);
  assert.ok(p.plan['totalS']! >= p.plan['epochS']! * 3);
});

test('plan: training forecast arithmetic', () => {
  const shape = trainShape({ trainImages: 1000, evalImages: 200, batchSize: 100, epochs: 10, stepsPerEpoch: null, evalEvery: 3, evalBatches: null });
  assert.deepEqual(shape, { batchSize: 100, epochs: 10, stepsPerEpoch: 10, evalBatches: 2, evalPasses: 4 }); // epochs 2, 5, 8 and the last
  const p = predictTraining({ device: 'cpu', threads: 2, batchSize: 50, steps: 3, stepS: 1, evalBatchS: 0.25, rssFixedBytes: 100 * MiB, rssPeakBytes: 150 * MiB }, shape, 300 * MiB);
  assert.equal(p.stepS, 2);
  assert.equal(p.imagesPerSecond, 50);
  assert.equal(p.evalPassS, 1);
  assert.equal(p.totalS, 10 * 10 * 2 + 4 * 1);
  assert.equal(p.peakBytes, 200 * MiB);
  assert.equal(p.maxBatchSize, 200);
});

test('plan: rdarts train --plan --json on synthetic data returns sane positive numbers', () => {
  const r = spawnSync(
    process.execPath,
    [CLI, 'train', '--plan', '--genotype', 'DARTS_V2', '--dataset', 'synthetic', '--subset', '64', '--layers', '3', '--channels', '4', '--batch-size', '8', '--epochs', '2', '--calibration-steps', '1', '--memory-limit', '2G', '--json', '--quiet'],
    { encoding: 'utf8', env: childEnv() },
  );
  assert.equal(r.status, 0, r.stderr);
  const p = JSON.parse(r.stdout) as { plan: Record<string, number>; shape: Record<string, number> };
  for (const k of ['stepS', 'epochS', 'totalS', 'evalPassS', 'peakBytes', 'imagesPerSecond']) assert.ok(p.plan[k]! > 0 && Number.isFinite(p.plan[k]), `${k} = ${p.plan[k]}`);
  assert.equal(p.shape['stepsPerEpoch'], 8);
  assert.ok(p.plan['maxBatchSize']! >= 1);
});
