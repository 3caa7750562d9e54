/**
 * A training whose loss becomes NaN stops with a DivergenceError (exit code 8) naming the epoch
 * and step, logs a `diverged` line, keeps the last good checkpoint and writes no result or weights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from '../../src/experiments/checkpoint.js';
import { cli, readJsonl, tempDir, writeTinyConfig } from './helpers.js';

test('train: NaN loss stops the run, the last good checkpoint is kept, no result.json / model.safetensors', { timeout: 60_000 }, async () => {
  const dir = tempDir('train-nan');
  try {
    const out = join(dir.path, 'run');
    // lr 300 without clipping: epoch 0 survives, epoch 1 diverges (deterministic at seed 0)
    const r = await cli(['train', '--genotype', 'DARTS_V2', '--dataset', 'synthetic', '--config', writeTinyConfig(dir.path), '--layers', '3', '--channels', '4', '--epochs', '4', '--batch-size', '16', '--lr', '300', '--grad-clip', '1e9', '--out', out, '--quiet']);
    assert.equal(r.code, 8, r.stderr);
    assert.match(r.stderr, /the training loss became NaN at epoch 1, step \d/);
    assert.match(r.stderr, /last good checkpoint \(epoch 0\) is kept/);
    assert.deepEqual(listCheckpoints(join(out, 'checkpoints')), [0]);
    assert.equal(existsSync(join(out, 'result.json')), false);
    assert.equal(existsSync(join(out, 'model.safetensors')), false);
    const m = readJsonl(join(out, 'metrics.jsonl'));
    assert.deepEqual(m.map((l) => l.kind), ['epoch', 'diverged']);
  } finally {
    dir.cleanup();
  }
});
