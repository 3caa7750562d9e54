/**
 * Bad input to `rdarts train` / `rdarts test`: each a clear error naming the cause (and the
 * error class's exit code), nothing written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTraining } from '../../src/experiments/train-run.js';
import { cli, listTree, tempDir, tinyEvalConfig, writeTinyConfig } from './helpers.js';

const TINY = ['--dataset', 'synthetic', '--layers', '3', '--channels', '4', '--epochs', '1', '--batch-size', '16'];

test('train: an unknown op in the genotype is a GenotypeError naming the op; no run folder', { timeout: 60_000 }, async () => {
  const dir = tempDir('bad-op');
  try {
    const out = join(dir.path, 'run');
    const repr =
      "Genotype(normal=[('sep_conv_9x9', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=range(2, 6), " +
      "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=range(2, 6))";
    const r = await cli(['train', '--genotype', repr, ...TINY, '--config', writeTinyConfig(dir.path), '--out', out]);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /sep_conv_9x9/);
    assert.match(r.stderr, /help: /);
    assert.equal(existsSync(out), false);
    // the same from a genotype JSON file
    const file = join(dir.path, 'g.json');
    writeFileSync(file, JSON.stringify({ normal: [['conv_9x9', 0], ['skip_connect', 1], ['skip_connect', 0], ['skip_connect', 1], ['skip_connect', 0], ['skip_connect', 1], ['skip_connect', 0], ['skip_connect', 1]], normalConcat: [2, 3, 4, 5], reduce: [['max_pool_3x3', 0], ['max_pool_3x3', 1], ['max_pool_3x3', 0], ['max_pool_3x3', 1], ['max_pool_3x3', 0], ['max_pool_3x3', 1], ['max_pool_3x3', 0], ['max_pool_3x3', 1]], reduceConcat: [2, 3, 4, 5] }));
    const r2 = await cli(['train', '--genotype', file, ...TINY, '--out', out]);
    assert.equal(r2.code, 7, r2.stderr);
    assert.match(r2.stderr, /conv_9x9/);
    assert.equal(existsSync(out), false);
  } finally {
    dir.cleanup();
  }
});

test('train: a genotype that does not fit the space is an error naming the space and the edge; no run folder', { timeout: 60_000 }, async () => {
  const dir = tempDir('bad-space');
  try {
    const out = join(dir.path, 'run');
    const r = await cli(['train', '--genotype', 'DARTS_V2', '--space', 's1', ...TINY, '--out', out]);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /does not fit search space 's1'/);
    assert.match(r.stderr, /edge \d+/);
    assert.equal(existsSync(out), false);
    // the in-process API refuses the same, before the folder exists
    await assert.rejects(runTraining(tinyEvalConfig({ space: 's1' }), {}, { out }), /does not fit search space 's1'/);
    assert.equal(existsSync(out), false);
  } finally {
    dir.cleanup();
  }
});

test('train: a search run folder without result.json is an error saying so; no run folder', { timeout: 60_000 }, async () => {
  const dir = tempDir('bad-run');
  try {
    const search = join(dir.path, 'search');
    mkdirSync(search);
    writeFileSync(join(search, 'config.json'), JSON.stringify({ method: 'darts', space: 's3' }));
    const out = join(dir.path, 'run');
    const r = await cli(['train', '--genotype', search, ...TINY, '--out', out]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /has no result\.json/);
    assert.match(r.stderr, /has not finished/);
    assert.equal(existsSync(out), false);
    assert.deepEqual(listTree(search), ['config.json']);
  } finally {
    dir.cleanup();
  }
});

test('test: a dataset whose class count differs from the trained network is an error naming both counts; nothing written', { timeout: 90_000 }, async () => {
  const dir = tempDir('bad-classes');
  try {
    const run = join(dir.path, 'run');
    await runTraining(tinyEvalConfig({ epochs: 1 }), {}, { out: run });
    const before = listTree(run);
    const r = await cli(['test', run, '--dataset', 'fashion-mnist', '--subset', '50']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /trained for 4 classes, but fashion-mnist has 10/);
    assert.deepEqual(listTree(run), before);
    // on its own data it works and prints the error
    const ok = await cli(['test', run, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const j = JSON.parse(ok.stdout);
    assert.equal(j.images, 32);
    assert.equal(j.weights, 'model.safetensors');
    assert.ok(j.error >= 0 && j.error <= 1);
    assert.deepEqual(listTree(run), before);
    // resuming a finished run re-reports its result (same weights, same number)
    const again = await cli(['train', '--resume', run, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).error, j.error);
  } finally {
    dir.cleanup();
  }
});
