/**
 * `rdarts report` on the searches of the other domains (analysis/report/domain.ts): an S6 and a
 * recurrent search folder, written here line by line in their formats, give a report.html whose
 * outcome, per-epoch table and λ_max come from those lines, and the loss, metric and eigenvalue
 * figures as SVG + PNG; --compare is refused for them by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDomainReport, readDomainRun, searchDomain } from '../../src/experiments/reports.js';
import { genotypeChanges } from '../../src/analysis/report/domain.js';
import { cli } from '../eval/helpers.js';
import { tempDir } from '../helpers/tmp.js';

function writeRun(dir: string, space: 'rnn' | 's6'): void {
  mkdirSync(dir, { recursive: true });
  const key = space === 'rnn' ? 'ppl' : 'epe';
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ space, method: 'darts-es', dataset: space === 'rnn' ? 'ptb' : 'synthetic', seed: 7, epochs: 3, augment: 0.5 }));
  const lines = [
    { kind: 'epoch', epoch: 0, iteration: 0, train: { loss: 2, [key]: 9.5 }, valid: { loss: 2.1, [key]: 8.25 }, seconds: 1.5 },
    { kind: 'hessian', epoch: 0, maxEigenvalue: 0.125 },
    { kind: 'epoch', epoch: 1, iteration: 0, train: { loss: 1.5, [key]: 7 }, valid: { loss: 1.9, [key]: 6.75 }, seconds: 1.25 },
    { kind: 'hessian', epoch: 1, maxEigenvalue: 0.5 },
    { kind: 'early-stop', epoch: 1, detectEpoch: 1, stopEpoch: 0, rule: 'code', repr: 'x' },
  ];
  writeFileSync(join(dir, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n{"kind":"epo'); // a torn last line is skipped
  writeFileSync(join(dir, 'genotypes.jsonl'), ['A', 'A', 'B'].map((r, e) => JSON.stringify({ epoch: e, repr: `G_${r}` })).join('\n') + '\n');
  writeFileSync(join(dir, 'result.json'), JSON.stringify({ repr: 'G_FINAL', stopReason: 'early-stop', genotypeEpoch: 0, finalValid: { loss: 1.9, [key]: 6.75 } }));
}

test('report of an S6 and a recurrent search: outcome, table and λ_max from their lines; figures as SVG and PNG', async () => {
  const t = tempDir('domain-report');
  try {
    for (const space of ['s6', 'rnn'] as const) {
      const dir = join(t.path, space);
      writeRun(dir, space);
      assert.equal(searchDomain(dir), space);
      const run = readDomainRun(dir);
      assert.equal(run.epochs.length, 2);
      assert.deepEqual(run.hessians.map((h) => h.maxEigenvalue), [0.125, 0.5]);
      assert.deepEqual(run.earlyStops, [{ detectEpoch: 1, stopEpoch: 0, rule: 'code' }]);
      assert.equal(run.result?.finalMetric, 6.75);
      const r = await buildDomainReport(dir);
      const html = readFileSync(r.htmlPath, 'utf8');
      assert.match(html, new RegExp(space === 's6' ? 'final validation EPE \\(px\\)</th><td>6\\.75' : 'final validation perplexity</th><td>6\\.75'));
      assert.match(html, /final λ_max<\/th><td>0\.5</);
      assert.match(html, /G_FINAL/);
      assert.match(html, /genotype changes \(epochs\)<\/th><td>2</);
      // the per-epoch table: one row per epoch line, λ_max beside its epoch
      assert.match(html, /<tr><td>1<\/td><td>1\.5<\/td><td>7<\/td><td>1\.9<\/td><td>6\.75<\/td><td>0\.5<\/td>/);
      for (const f of ['loss', 'metric', 'eigenvalues']) {
        assert.ok(existsSync(join(dir, 'plots', `${f}.svg`)) && existsSync(join(dir, 'plots', `${f}.png`)), `${f} figure missing`);
        assert.match(html, new RegExp(`plots/${f}\\.svg`));
      }
    }
    assert.deepEqual(genotypeChanges([{ epoch: 0, repr: 'a' }, { epoch: 1, repr: 'a' }, { epoch: 2, repr: 'b' }, { epoch: 3, repr: 'a' }]), [2, 3]);
    const c = await cli(['report', join(t.path, 's6'), '--compare', join(t.path, 'cmp')]);
    assert.notEqual(c.code, 0);
    assert.match(c.stderr, /--compare compares CNN searches/);
  } finally {
    t.cleanup();
  }
});
