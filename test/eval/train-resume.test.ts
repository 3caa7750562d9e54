/**
 * `rdarts train` killed with SIGKILL in the middle of epoch 1, then `--resume`, ends bitwise where
 * an uninterrupted run ends (model.safetensors, the last checkpoint, result.json, metrics.jsonl
 * line by line but the timings); and the same config trained twice gives the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from '../../src/experiments/checkpoint.js';
import { runTraining } from '../../src/experiments/train-run.js';
import { loadSafetensors } from '../../src/torch/index.js';
import { checkpointValues, cli, readJsonl, sameBits, tempDir, tinyEvalConfig, withoutTimings, writeTinyConfig } from './helpers.js';

test('train: SIGKILL mid-epoch, then --resume: bitwise the same weights, checkpoint, result and logs as an uninterrupted run', { timeout: 180_000 }, async () => {
  const dir = tempDir('train-kill');
  try {
    const config = writeTinyConfig(dir.path);
    const common = ['train', '--genotype', 'DARTS_V2', '--dataset', 'synthetic', '--config', config, '--layers', '3', '--channels', '4', '--epochs', '3', '--batch-size', '16', '--log-every', '1', '--seed', '3'];
    const full = join(dir.path, 'full');
    const killed = join(dir.path, 'killed');
    const [a, b] = await Promise.all([cli([...common, '--out', full]), cli([...common, '--out', killed], /^epoch 1 step 2\/4 /m)]);
    assert.equal(a.code, 0, `uninterrupted run failed: ${a.stderr}`);
    assert.equal(b.signal, 'SIGKILL', `the run was not killed (code ${b.code}): ${b.stderr.slice(-2000)}`);
    assert.deepEqual(listCheckpoints(join(killed, 'checkpoints')), [0]);
    const c = await cli(['train', '--resume', killed, '--log-every', '1']);
    assert.equal(c.code, 0, `resume failed: ${c.stderr}`);
    assert.match(c.stderr, /resumed after epoch 0/);

    const wa = readFileSync(join(full, 'model.safetensors'));
    const wb = readFileSync(join(killed, 'model.safetensors'));
    assert.ok(wa.equals(wb), 'model.safetensors differs between the resumed and the uninterrupted run');
    const fa = checkpointValues(join(full, 'checkpoints'));
    const fb = checkpointValues(join(killed, 'checkpoints'));
    assert.equal(fa.epoch, 2);
    assert.equal(fb.epoch, 2);
    assert.deepEqual([...fb.values.keys()].sort(), [...fa.values.keys()].sort());
    assert.ok(fa.values.has('sgd.momentum.0'));
    assert.ok([...fa.values.keys()].some((k) => k.startsWith('w.auxiliary_head.')), 'the auxiliary head is not checkpointed');
    for (const [name, v] of fa.values) assert.ok(sameBits(fb.values.get(name)!.data, v.data), `${name} differs`);
    const ra = JSON.parse(readFileSync(join(full, 'result.json'), 'utf8'));
    const rb = JSON.parse(readFileSync(join(killed, 'result.json'), 'utf8'));
    assert.deepEqual(withoutTimings(rb), withoutTimings(ra));
    assert.equal(typeof ra.testError, 'number');
    assert.equal(ra.testError, 1 - ra.final.acc);
    const ma = readJsonl(join(full, 'metrics.jsonl'));
    const mb = readJsonl(join(killed, 'metrics.jsonl'));
    assert.deepEqual(mb.map((l) => l.epoch), [0, 1, 2], 'epochs duplicated or missing in the resumed log');
    mb.forEach((l, i) => assert.deepEqual(withoutTimings(l), withoutTimings(ma[i]), `metrics line ${i + 1} differs`));
    // the schedule: cosine from 0.025, drop path 0.2·e/E
    assert.deepEqual(ma.map((l) => l.dropPath), [0, 0.2 / 3, 0.4 / 3]);
    assert.equal(ma[0]!.lr, 0.025);
    assert.ok(Math.abs((ma[1]!.lr as number) - 0.025 * 0.5 * (1 + Math.cos(Math.PI / 3))) < 1e-15);
    // the last epoch's test numbers are what result.json reports
    assert.deepEqual(ma[2]!.test, { loss: ra.final.loss, acc: ra.final.acc });
  } finally {
    dir.cleanup();
  }
});

test('train: the same config twice gives bitwise the same weights and result; another seed does not', { timeout: 120_000 }, async () => {
  const dir = tempDir('train-det');
  try {
    const cfg = tinyEvalConfig({ seed: 5 });
    const r1 = await runTraining(cfg, {}, { out: join(dir.path, 'a') });
    const r2 = await runTraining(cfg, {}, { out: join(dir.path, 'b') });
    const r3 = await runTraining(tinyEvalConfig({ seed: 6 }), {}, { out: join(dir.path, 'c') });
    assert.ok(readFileSync(join(dir.path, 'a', 'model.safetensors')).equals(readFileSync(join(dir.path, 'b', 'model.safetensors'))));
    assert.deepEqual(withoutTimings(r2), withoutTimings(r1));
    assert.ok(!readFileSync(join(dir.path, 'a', 'model.safetensors')).equals(readFileSync(join(dir.path, 'c', 'model.safetensors'))));
    assert.equal(r3.parameters, r1.parameters);
    // the exported file holds the DARTS NetworkCIFAR keys, batch-norm buffers included
    const { tensors } = loadSafetensors(join(dir.path, 'a', 'model.safetensors'));
    const keys = [...tensors.keys()];
    for (const t of tensors.values()) t.dispose();
    for (const k of ['stem.0.weight', 'stem.1.running_mean', 'stem.1.num_batches_tracked', 'cells.0.preprocess0.op.1.weight', 'cells.2.preprocess0.conv_1.weight', 'cells.0._ops.0.op.1.weight', 'cells.0._ops.7.op.2.weight', 'auxiliary_head.features.2.weight', 'auxiliary_head.classifier.weight', 'classifier.weight', 'classifier.bias']) {
      assert.ok(keys.includes(k), `model.safetensors lacks ${k}`);
    }
    assert.ok(keys.every((k) => /^(stem|cells|auxiliary_head|classifier)\./.test(k)), keys.join(', '));
  } finally {
    dir.cleanup();
  }
});
