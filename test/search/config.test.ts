/**
 * Search configuration: defaults = paper-spec §4.3, validation errors name the field path, an
 * existing run folder is refused with a hint to --resume.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinTestThreads } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_CONFIG, hessianEvery, resolveConfig, validateConfig } from '../../src/search/config.js';
import { readConfigFile } from '../../src/experiments/config-file.js';
import { runSearch } from '../../src/experiments/search-run.js';
import { SearchTrainer } from '../../src/search/trainer.js';
import { tinyConfig, tinyData } from './helpers.js';

pinTestThreads();

test('resolveConfig() defaults are the search hyper-parameters of paper-spec §4.3', () => {
  const c = resolveConfig(undefined, undefined);
  assert.equal(c.lr, 0.025);
  assert.equal(c.lrMin, 0.001);
  assert.equal(c.momentum, 0.9);
  assert.equal(c.weightDecay, 3e-4);
  assert.equal(c.gradClip, 5);
  assert.equal(c.archLr, 3e-4);
  assert.deepEqual(c.archBetas, [0.5, 0.999]);
  assert.equal(c.archWeightDecay, 1e-3);
  assert.equal(c.batchSize, 64);
  assert.equal(c.epochs, 50);
  assert.equal(c.layers, 8);
  assert.equal(c.channels, 16);
  assert.equal(c.trainPortion, 0.5);
  assert.equal(c.order, 'second');
  assert.equal(c.hvp, 'finite-difference');
  assert.equal(c.dropPath, 0);
  // §6.2 code rule and §7.4 script values
  assert.deepEqual(
    { rule: c.earlyStop.rule, window: c.earlyStop.window, delta: c.earlyStop.delta, factor: c.earlyStop.factor, startEpoch: c.earlyStop.startEpoch },
    { rule: 'code', window: 5, delta: 4, factor: 1.3, startEpoch: 10 },
  );
  assert.equal(c.hessian.every, 2);
  assert.deepEqual({ eta: c.ada.eta, l2Max: c.ada.l2Max }, { eta: 10, l2Max: 0.03 });
  // the defaults object is not shared with the result
  c.archBetas[0] = 0.9;
  assert.deepEqual(DEFAULT_CONFIG.archBetas, [0.5, 0.999]);
});

test('the weight lr follows the cosine schedule of §4.3: lr(e) = 0.001 + ½(0.025 − 0.001)(1 + cos(πe/50))', () => {
  const cfg = tinyConfig({ epochs: 50, lr: 0.025, lrMin: 0.001 });
  const t = new SearchTrainer(cfg, { train: tinyData(cfg) });
  try {
    for (const e of [0, 1, 10, 25, 49]) {
      const want = 0.001 + 0.5 * (0.025 - 0.001) * (1 + Math.cos((Math.PI * e) / 50));
      assert.ok(Math.abs(t.lrAt(e) - want) < 1e-15, `epoch ${e}: ${t.lrAt(e)} vs ${want}`);
    }
  } finally {
    t.dispose();
  }
});

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

test('a YAML file with a wrong type names the field path (hessian.every)', () => {
  const dir = tempDir('cfg');
  try {
    const p = join(dir.path, 'bad.yaml');
    writeFileSync(p, 'epochs: 3\nhessian:\n  every: two\n');
    const err = configErrorOf(() => resolveConfig(readConfigFile(p), undefined, p));
    assert.match(err.message, /hessian\.every/);
    assert.ok(err.message.includes(p), 'the message should name the file');
    // another field fine, only the bad one named
    assert.doesNotMatch(err.message, /\bepochs\b/);

    writeFileSync(p, 'archBetas: [0.5, 1.5]\nlr: -1\n');
    const err2 = configErrorOf(() => resolveConfig(readConfigFile(p), undefined, p));
    assert.match(err2.message, /archBetas\.1/);
    assert.match(err2.message, /\blr: /);
  } finally {
    dir.cleanup();
  }
});

test('an unknown field, top level or nested, is a ConfigError naming it', () => {
  const dir = tempDir('cfg');
  try {
    const p = join(dir.path, 'typo.yaml');
    writeFileSync(p, 'hessian:\n  evry: 2\n');
    const err = configErrorOf(() => resolveConfig(readConfigFile(p), undefined, p));
    assert.match(err.message, /hessian: unknown field\(s\) 'evry'/);
    writeFileSync(p, 'learningRate: 0.1\n');
    assert.match(configErrorOf(() => resolveConfig(readConfigFile(p), undefined, p)).message, /'learningRate'/);
    // not YAML / not a mapping
    writeFileSync(p, '- 1\n- 2\n');
    assert.match(configErrorOf(() => readConfigFile(p)).message, /mapping/);
    writeFileSync(p, 'a: [1, 2\n');
    assert.match(configErrorOf(() => readConfigFile(p)).message, /not valid YAML/);
    // a field that must be ≤ lr
    assert.match(configErrorOf(() => validateConfig({ ...DEFAULT_CONFIG, lrMin: 0.5 })).message, /lrMin/);
  } finally {
    dir.cleanup();
  }
});

test('methods darts-es / darts-ada measure the Hessian even with hessian.every 0', () => {
  assert.equal(hessianEvery(resolveConfig(undefined, { method: 'darts-es', hessian: { every: 0 } })), 2);
  assert.equal(hessianEvery(resolveConfig(undefined, { method: 'darts-ada', hessian: { every: 0 }, earlyStop: { rule: 'paper' } })), 1);
  assert.equal(hessianEvery(resolveConfig(undefined, { method: 'darts', hessian: { every: 0 } })), 0);
});

test('--out pointing at an existing run is a ConfigError suggesting --resume, and the run is untouched', async () => {
  const dir = tempDir('exists');
  try {
    const cfg = tinyConfig({ epochs: 1, stepsPerEpoch: 1 });
    await runSearch(cfg, { out: dir.path, data: tinyData(cfg) });
    const before = readFileSync(join(dir.path, 'config.json'), 'utf8');
    const metrics = readFileSync(join(dir.path, 'metrics.jsonl'), 'utf8');
    const err = await runSearch(cfg, { out: dir.path, data: tinyData(cfg) }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.match(err.message, /already holds a run/);
    assert.match(err.hint ?? '', /--resume/);
    assert.equal(readFileSync(join(dir.path, 'config.json'), 'utf8'), before);
    assert.equal(readFileSync(join(dir.path, 'metrics.jsonl'), 'utf8'), metrics);
  } finally {
    dir.cleanup();
  }
});
