/**
 * The training config: the paper defaults (spec §9), the dataset-dependent network size, presets,
 * the origin of every field, and errors that name the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolveEvalConfig, listEvalPresets } from '../../src/search/eval-config.js';
import { resolveGenotypeSource } from '../../src/experiments/genotype-source.js';
import { genotypeToJSON, getPublishedGenotype, formatGenotypeRepr, genotypesEqual } from '../../src/nas/index.js';
import { robustDartsLogsDir } from "../helpers/fixtures.js";
import { tempDir } from './helpers.js';

const G = { genotype: genotypeToJSON(getPublishedGenotype('DARTS_V2')) as never, source: 'test' };

test('paper defaults: 600 epochs, batch 96, SGD 0.025 cosine to 0, momentum 0.9, wd 3e-4, clip 5, aux 0.4, cutout 16, drop path 0.2, test split', () => {
  const { config: c, origins } = resolveEvalConfig(G);
  assert.equal(c.epochs, 600);
  assert.equal(c.batchSize, 96);
  assert.equal(c.lr, 0.025);
  assert.equal(c.lrMin, 0);
  assert.equal(c.momentum, 0.9);
  assert.equal(c.weightDecay, 3e-4);
  assert.equal(c.gradClip, 5);
  assert.equal(c.auxiliary, true);
  assert.equal(c.auxiliaryWeight, 0.4);
  assert.equal(c.cutout, true);
  assert.equal(c.cutoutLength, 16);
  assert.equal(c.cutoutProb, 1);
  assert.equal(c.dropPath, 0.2);
  assert.equal(c.evaluation, 'test');
  assert.equal(c.subset, null);
  assert.equal([c.layers, c.channels].join('/'), '20/36');
  assert.match(origins.layers!, /dataset default/);
  assert.equal(origins.epochs, 'default');
  for (const ds of ['cifar100', 'svhn'] as const) {
    const r = resolveEvalConfig(G, { overrides: { dataset: ds } });
    assert.equal(`${r.config.layers}/${r.config.channels}`, '8/16', ds);
  }
});

test('presets, file and flags stack in that order, and origins say which set each field', () => {
  assert.deepEqual(listEvalPresets(), ['paper', 'short']);
  const dir = tempDir('evalcfg');
  try {
    const r = resolveEvalConfig(G, { preset: 'short', file: { fields: { epochs: 50, seed: 3 }, path: 'x.yaml' }, overrides: { seed: 4, layers: 5 } });
    assert.equal(r.config.evaluation, 'validation');
    assert.equal(r.origins.evaluation, 'preset short');
    assert.equal(r.config.epochs, 50);
    assert.equal(r.origins.epochs, 'x.yaml');
    assert.equal(r.config.seed, 4);
    assert.equal(r.origins.seed, 'flag');
    assert.equal(r.config.layers, 5);
    assert.equal(r.config.channels, 36);
  } finally {
    dir.cleanup();
  }
  assert.throws(() => resolveEvalConfig(G, { preset: 'long' }), /unknown preset 'long'.*|known presets/s);
});

test('invalid fields are named with what they must be', () => {
  assert.throws(() => resolveEvalConfig(G, { overrides: { epochs: 0 } }), /epochs: must be ≥ 1/);
  assert.throws(() => resolveEvalConfig(G, { overrides: { dropPath: 1.5 } }), /dropPath: must be ≤ 0.95/);
  assert.throws(() => resolveEvalConfig(G, { file: { fields: { epoch: 3 }, path: 'f.yaml' } }), /unknown field\(s\) 'epoch'/);
  assert.throws(() => resolveEvalConfig(G, { overrides: { evaluation: 'train' as never } }), /evaluation/);
  assert.throws(() => resolveEvalConfig(G, { file: { fields: { genotype: {} }, path: 'f.yaml' } }), /'genotype' cannot be set in a config file/);
});

test('genotype sources: published names, repr, JSON, a search run folder, a result/genotype file, an arch file, results_arch.yaml entries', () => {
  const v2 = getPublishedGenotype('DARTS_V2');
  assert.ok(genotypesEqual(resolveGenotypeSource('darts').genotype, v2));
  assert.equal(resolveGenotypeSource('DARTS_V1').source, 'published DARTS_V1');
  assert.ok(genotypesEqual(resolveGenotypeSource(formatGenotypeRepr(v2)).genotype, v2));
  assert.ok(genotypesEqual(resolveGenotypeSource(JSON.stringify(genotypeToJSON(v2))).genotype, v2));
  const dir = tempDir('gsrc');
  try {
    const run = join(dir.path, 'search');
    mkdirSync(run);
    writeFileSync(join(run, 'config.json'), JSON.stringify({ method: 'darts', space: 'darts', spaceFile: null }));
    writeFileSync(join(run, 'result.json'), JSON.stringify({ genotype: genotypeToJSON(v2), stopReason: 'completed' }));
    const fromRun = resolveGenotypeSource(run);
    assert.ok(genotypesEqual(fromRun.genotype, v2));
    assert.equal(fromRun.space, 'darts');
    assert.ok(genotypesEqual(resolveGenotypeSource(join(run, 'result.json')).genotype, v2));
    const arch = join(dir.path, 'arch_1');
    writeFileSync(arch, formatGenotypeRepr(v2) + '\n');
    assert.ok(genotypesEqual(resolveGenotypeSource(arch).genotype, v2));
    mkdirSync(join(dir.path, 'grid'));
    writeFileSync(join(dir.path, 'grid', 'grid.json'), '{}');
    assert.throws(() => resolveGenotypeSource(join(dir.path, 'grid')), /grid of several searches/);
    assert.throws(() => resolveGenotypeSource(join(dir.path, 'nope')), /neither a published genotype name/);
  } finally {
    dir.cleanup();
  }
  const logs = robustDartsLogsDir();
  const yaml = join(logs, 'results_arch.yaml');
  const e = resolveGenotypeSource(`${yaml}#s1_cifar10/0.0_0.0003/1`);
  assert.equal(e.space, 's1');
  assert.equal(e.genotype.normal[1]![0], 'dil_conv_3x3');
  const s3 = resolveGenotypeSource(`${yaml}#s3_svhn/0.0_0.0003/2`);
  assert.equal(s3.space, 's3');
  assert.throws(() => resolveGenotypeSource(`${yaml}#s1_cifar10/0.0_0.0003`), /is not one genotype/);
  assert.throws(() => resolveGenotypeSource(`${yaml}#s9_cifar10/x/1`), /no entry 's9_cifar10'/);
});
