/**
 * `rdarts select` on tiny candidates: the lowest validation error wins (documented tie-break),
 * a killed selection resumes without retraining finished candidates and ends where an
 * uninterrupted one ends, and both reported numbers come out (mean ± std, selected test error).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { genotypeToJSON, getPublishedGenotype, genotypeFromJSON, type Genotype } from '../../src/nas/index.js';
import { expandCandidates, meanStd, pickWinner } from '../../src/experiments/select.js';
import { cli, tempDir, withoutTimings, writeTinyConfig } from './helpers.js';

const ALL_SKIP: Genotype = genotypeFromJSON({
  normal: [['skip_connect', 0], ['skip_connect', 1], ['skip_connect', 0], ['skip_connect', 1], ['skip_connect', 0], ['skip_connect', 1], ['skip_connect', 0], ['skip_connect', 1]],
  normalConcat: [2, 3, 4, 5],
  reduce: [['max_pool_3x3', 0], ['max_pool_3x3', 1], ['max_pool_3x3', 0], ['skip_connect', 2], ['max_pool_3x3', 0], ['skip_connect', 2], ['skip_connect', 2], ['max_pool_3x3', 1]],
  reduceConcat: [2, 3, 4, 5],
});

/** A finished search run folder as `rdarts search` leaves it (the parts select reads). */
function fakeSearch(dir: string, g: Genotype): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ method: 'darts', space: 'darts', spaceFile: null }));
  writeFileSync(join(dir, 'result.json'), JSON.stringify({ genotype: genotypeToJSON(g), stopReason: 'completed' }));
  return dir;
}

function stripPaths(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripPaths);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([k]) => !['dir', 'root', 'finalDir', 'source'].includes(k)).map(([k, x]) => [k, stripPaths(x)]));
  return v;
}

test('pickWinner: lowest validation error, then lower loss, then the first given; meanStd is the sample std', () => {
  assert.equal(pickWinner([{ validError: 0.3, validLoss: 1 }, { validError: 0.2, validLoss: 2 }, { validError: 0.25, validLoss: 0.1 }]), 1);
  assert.equal(pickWinner([{ validError: 0.2, validLoss: 1 }, { validError: 0.2, validLoss: 0.5 }]), 1);
  assert.equal(pickWinner([{ validError: 0.2, validLoss: 0.5 }, { validError: 0.2, validLoss: 0.5 }]), 0);
  const m = meanStd([0.1, 0.2, 0.3]);
  assert.ok(Math.abs(m.mean - 0.2) < 1e-15);
  assert.ok(Math.abs(m.std - 0.1) < 1e-15);
  assert.deepEqual(meanStd([0.4]), { mean: 0.4, std: 0 });
});

test('expandCandidates: a grid folder gives its finished members; an unfinished member is an error', () => {
  const dir = tempDir('sel-grid');
  try {
    const grid = join(dir.path, 'grid');
    fakeSearch(join(grid, 'runs', 'l2_3e-4'), getPublishedGenotype('DARTS_V2'));
    fakeSearch(join(grid, 'runs', 'l2_9e-4'), ALL_SKIP);
    writeFileSync(join(grid, 'grid.json'), JSON.stringify({ method: 'rdarts-l2', runs: [{ name: 'l2_3e-4', dir: 'runs/l2_3e-4', status: 'finished' }, { name: 'l2_9e-4', dir: 'runs/l2_9e-4', status: 'finished' }] }));
    const c = expandCandidates([grid]);
    assert.deepEqual(c.map((x) => x.name), ['grid.l2_3e-4', 'grid.l2_9e-4']);
    assert.equal(c[1]!.genotype.normal[0]![0], 'skip_connect');
    assert.equal(c[0]!.space, 'darts');
    writeFileSync(join(grid, 'grid.json'), JSON.stringify({ method: 'rdarts-l2', runs: [{ name: 'l2_3e-4', dir: 'runs/l2_3e-4', status: 'unfinished' }] }));
    assert.throws(() => expandCandidates([grid]), /has not finished/);
  } finally {
    dir.cleanup();
  }
});

test('select: a candidate without result.json is an error naming it; no selection folder', { timeout: 60_000 }, async () => {
  const dir = tempDir('sel-bad');
  try {
    const a = fakeSearch(join(dir.path, 'a'), getPublishedGenotype('DARTS_V2'));
    const b = join(dir.path, 'b');
    mkdirSync(b);
    writeFileSync(join(b, 'config.json'), JSON.stringify({ method: 'darts', space: 'darts' }));
    const out = join(dir.path, 'sel');
    const r = await cli(['select', a, b, '--dataset', 'synthetic', '--out', out]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /b has no result\.json/);
    assert.equal(existsSync(out), false);
  } finally {
    dir.cleanup();
  }
});

test('select: picks the lowest validation error, reports mean ± std and the selected test error; a killed select resumes without retraining finished candidates', { timeout: 300_000 }, async () => {
  const dir = tempDir('sel');
  try {
    const a = fakeSearch(join(dir.path, 'a'), getPublishedGenotype('DARTS_V2'));
    const b = fakeSearch(join(dir.path, 'b'), ALL_SKIP);
    const c = fakeSearch(join(dir.path, 'c'), getPublishedGenotype('DARTS_V1'));
    const config = writeTinyConfig(dir.path);
    const common = ['select', a, b, c, '--config', config, '--dataset', 'synthetic', '--layers', '3', '--channels', '4', '--batch-size', '16', '--short-epochs', '2', '--epochs', '2', '--log-every', '1', '--seed', '1'];
    const full = join(dir.path, 'sel-full');
    const killed = join(dir.path, 'sel-killed');
    const [u, k] = await Promise.all([cli([...common, '--out', full, '--json']), cli([...common, '--out', killed], /^== b\n(.*\n)*epoch 0 step 2\//m)]);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(k.signal, 'SIGKILL', `not killed: ${k.stderr.slice(-1500)}`);
    const firstDone = statSync(join(killed, 'candidates', 'a', 'result.json')).mtimeMs;
    const r = await cli([...common, '--out', killed, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /a: finished earlier/);
    assert.match(r.stderr, /resumed after epoch 0|no checkpoint yet/);
    assert.equal(statSync(join(killed, 'candidates', 'a', 'result.json')).mtimeMs, firstDone, 'candidate a was trained again');

    const res = JSON.parse(u.stdout);
    assert.equal(res.n, 3);
    // the pick is the lowest validation error among the candidates' own result.json
    const errs = ['a', 'b', 'c'].map((n) => JSON.parse(readFileSync(join(full, 'candidates', n, 'result.json'), 'utf8')));
    errs.forEach((e, i) => {
      assert.equal(e.split, 'validation');
      assert.equal(res.candidates[i].validError, e.error);
    });
    const best = pickWinner(errs.map((e) => ({ validError: e.error, validLoss: e.final.loss })));
    assert.equal(res.selected, ['a', 'b', 'c'][best]);
    const fin = JSON.parse(readFileSync(join(full, 'final', 'result.json'), 'utf8'));
    assert.equal(fin.split, 'test');
    assert.equal(res.selectedTestError, fin.testError);
    const ms = meanStd(res.candidates.map((x: { shortTestError: number }) => x.shortTestError));
    assert.equal(res.meanTestError, ms.mean);
    assert.equal(res.stdTestError, ms.std);
    // killed + resumed = uninterrupted
    const res2 = JSON.parse(r.stdout);
    assert.deepEqual(stripPaths(withoutTimings(res2)), stripPaths(withoutTimings(res)));
    assert.ok(readFileSync(join(full, 'final', 'model.safetensors')).equals(readFileSync(join(killed, 'final', 'model.safetensors'))));
  } finally {
    dir.cleanup();
  }
});
