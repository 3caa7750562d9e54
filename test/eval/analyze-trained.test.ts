/**
 * `rdarts analyze --trained`: each search run is matched with the retrained test error of its
 * cell (through the training's searchRun), the λ_max–test-error correlations come out with
 * p-values, and the scatter plots are written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testErrorAnalysis } from '../../src/analysis/test-error.js';
import type { Analysis } from '../../src/analysis/report/analyze.js';
import { cli, tempDir, writeTinyConfig } from './helpers.js';

const run = (dir: string, meanEigenvalue: number | null, drop: number | null) => ({ dir, name: dir, method: 'darts', l2: null, dropPath: null, meanEigenvalue, finalEigenvalue: meanEigenvalue, finalValidError: null, drop });

test('testErrorAnalysis: matches runs to retrained errors, Pearson/Spearman over the matched ones', () => {
  const a: Analysis = { runs: [run('/a', 1, 0.1), run('/b', 2, 0.2), run('/c', 3, 0.3), run('/d', 4, null)], correlations: [], warnings: [] };
  const m = new Map([
    ['/a', { testError: 0.1, n: 1, sources: ['t1'] }],
    ['/b', { testError: 0.3, n: 2, sources: ['t2', 't3'] }],
    ['/c', { testError: 0.2, n: 1, sources: ['t4'] }],
  ]);
  const t = testErrorAnalysis(a, m);
  const c = t.correlations.find((x) => x.x === 'meanEigenvalue' && x.y === 'testError')!;
  assert.equal(c.n, 3);
  assert.ok(Math.abs(c.pearson.r - 0.5) < 1e-12); // by hand: cov 0.1 / √(2 · 0.02)
  assert.ok(Math.abs(c.spearman.r - 0.5) < 1e-12);
  assert.ok(c.pearson.p > 0 && c.pearson.p < 1);
  assert.deepEqual(t.unmatched, ['/d']);
  assert.equal(t.runs[1]!.trainings, 2);
});

test('rdarts analyze SEARCH… --trained TRAIN…: test errors joined to their searches, correlations and scatter plots', { timeout: 240_000 }, async () => {
  const dir = tempDir('an-trained');
  try {
    const yaml = join(dir.path, 'search.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(yaml, ['synthetic: { n: 64, channels: 3, size: 8, numClasses: 4 }', 'hessian: { every: 1, lanczosIterations: 6, topK: 1 }', ''].join('\n'));
    const searches: string[] = [];
    for (const seed of [1, 2, 3]) {
      const out = join(dir.path, `search-${seed}`);
      const s = await cli(['search', '--config', yaml, '--dataset', 'synthetic', '--space', 's3', '--layers', '3', '--channels', '2', '--epochs', '2', '--batch-size', '8', '--steps-per-epoch', '3', '--eval-batches', '1', '--order', 'first', '--seed', String(seed), '--out', out, '--quiet']);
      assert.equal(s.code, 0, s.stderr);
      searches.push(out);
    }
    const tiny = writeTinyConfig(dir.path);
    const trained = join(dir.path, 'trained');
    for (const [i, s] of searches.entries()) {
      const t = await cli(['train', '--genotype', s, '--dataset', 'synthetic', '--config', tiny, '--layers', '3', '--channels', '4', '--epochs', '1', '--batch-size', '16', '--out', join(trained, `t${i}`), '--quiet']);
      assert.equal(t.code, 0, t.stderr);
      const cfg = JSON.parse(readFileSync(join(trained, `t${i}`, 'config.json'), 'utf8'));
      assert.equal(cfg.searchRun, s);
      assert.equal(cfg.space, 's3');
      assert.equal(cfg.searchMethod, 'darts');
    }
    const plots = join(dir.path, 'plots');
    const r = await cli(['analyze', ...searches, '--trained', trained, '--plots', plots]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mean λ_max vs test error \(n=3\): Pearson r=/);
    assert.ok(existsSync(join(plots, 'eigenvalue-vs-test-error.svg')));
    const j = await cli(['analyze', ...searches, '--trained', trained, '--json']);
    const a = JSON.parse(j.stdout);
    for (const [i, rr] of a.testError.runs.entries()) {
      const res = JSON.parse(readFileSync(join(trained, `t${i}`, 'result.json'), 'utf8'));
      assert.equal(rr.testError, res.testError);
    }
  } finally {
    dir.cleanup();
  }
});
