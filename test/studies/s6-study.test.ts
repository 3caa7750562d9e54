/**
 * Studies on the disparity space S6 (issue 13, docs/disparity.md#study-table-2):
 *   - a tiny S6 study (two sweep entries, one seed, 2 search epochs of 2 steps, 1 training epoch)
 *     run end to end by the local executor: every job finishes, each search ran with its entry's
 *     sweep value, each training trained its search's cell in its search's network, and the
 *     table has one row per entry with finite one-shot EPE, λ_max, test EPE and parameters and
 *     Sintel '—'; the report page holds the S6 table and the λ_max figure;
 *   - the plan counts S6 steps and says their estimate is unavailable (CNN plans unchanged);
 *   - a malformed S6 search field (augment: -1) or training field is refused, the field named,
 *     before anything runs; a select phase with S6 is refused, the phase named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStudy, readStudy } from '../../src/experiments/study/file.js';
import { runStudyLocal } from '../../src/experiments/study/local.js';
import { studyStatus } from '../../src/experiments/study/state.js';
import { dispStudyTable, lastLambdaMax, studyTableText } from '../../src/experiments/study/table.js';
import { buildStudyReport } from '../../src/experiments/study/report.js';
import { estimateCost } from '../../src/experiments/study/cost.js';
import { formatPlan } from '../../src/cli/commands/study.js';
import { childEnv } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';
import { tinyStudy } from './helpers.js';

const SEARCH = '{ synthetic: { n: 16, height: 16, width: 32, maxDisparity: 4, seed: 0 }, crop: null, network: { C: 2, stemMultiplier: 1, featureDepth: 1, encoderDepth: 2, decoderDepth: 2, maxDisplacement: 2, steps: 2 }, epochs: 2, batchSize: 4, stepsPerEpoch: 2, evalBatches: 1, hessian: { every: 1, lanczosIterations: 4, topK: 1 } }';
const TRAIN = '{ synthetic: { testN: 4 }, crop: null, epochs: 1, batchSize: 4, lr: 1.0e-3, stepsPerEpoch: 2, evalBatches: 1 }';

function s6Study(o: { name?: string; methods?: string[]; search?: string; train?: string | null; extra?: string[] } = {}): string {
  return [
    `name: ${o.name ?? 'tiny-s6'}`,
    'benchmarks:',
    '  - { space: s6, dataset: synthetic }',
    'methods:',
    ...(o.methods ?? ['  - { method: darts, name: aug-2, config: { augment: 2 } }', '  - { method: darts, name: l2-8.1e-3, config: { weightDecay: 8.1e-3 } }']),
    'seeds: [1]',
    'resources: { cpus: 1, mem: 1G, time: "00:10:00" }',
    'phases:',
    `  search: { config: ${o.search ?? SEARCH} }`,
    ...(o.train === null ? [] : [`  train: { config: ${o.train ?? TRAIN} }`]),
    ...(o.extra ?? []),
    '',
  ].join('\n');
}

test('a tiny S6 study runs end to end on the local executor; the table has one row per sweep entry with finite EPE columns', { timeout: 240_000 }, async () => {
  const tmp = tempDir('s6-study');
  try {
    const file = join(tmp.path, 'tiny-s6.yaml');
    writeFileSync(file, s6Study());
    const dir = join(tmp.path, 'study');
    const s = readStudy(file);
    assert.deepEqual(s.graph.phases.search, ['search/s6-synthetic/aug-2/s1', 'search/s6-synthetic/l2-8.1e-3/s1']);
    assert.deepEqual(s.graph.phases.train, ['train/s6-synthetic/aug-2/s1', 'train/s6-synthetic/l2-8.1e-3/s1']);
    const search = s.graph.jobs.find((j) => j.id === 'search/s6-synthetic/aug-2/s1')!;
    assert.deepEqual(search.argv.slice(0, 3), ['search', '--space', 's6']);
    const train = s.graph.jobs.find((j) => j.id === 'train/s6-synthetic/aug-2/s1')!;
    assert.deepEqual(train.argv.slice(0, 5), ['train', '--space', 's6', '--genotype', 'search/s6-synthetic/aug-2/s1']);
    assert.deepEqual(train.deps, [search.id]);

    const r = await runStudyLocal(dir, s, { workers: 2, retries: 0, env: childEnv({ RDARTS_PLAIN_PROGRESS: '1', RDARTS_BUSY_WARNING: '0' }) });
    assert.deepEqual(r.failed, []);
    assert.deepEqual(r.blocked, []);
    assert.equal(r.finished.length, 4);
    const st = studyStatus(dir, readStudy(dir).graph);
    assert.deepEqual(st.map((x) => x.state), ['finished', 'finished', 'finished', 'finished']);

    // each search ran with its entry's value on top of the study's fields
    const cfg = (id: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, id, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(cfg('search/s6-synthetic/aug-2/s1').augment, 2);
    assert.equal(cfg('search/s6-synthetic/aug-2/s1').weightDecay, 3e-4);
    assert.equal(cfg('search/s6-synthetic/l2-8.1e-3/s1').augment, 0);
    assert.equal(cfg('search/s6-synthetic/l2-8.1e-3/s1').weightDecay, 8.1e-3);
    assert.equal(cfg('search/s6-synthetic/aug-2/s1').epochs, 2);
    // each training trained its search's cell, in the search's network and data, with the study's training fields
    const tc = cfg('train/s6-synthetic/aug-2/s1');
    const sr = JSON.parse(readFileSync(join(dir, 'search/s6-synthetic/aug-2/s1/result.json'), 'utf8')) as { genotype: unknown };
    assert.deepEqual(tc.genotype, sr.genotype);
    assert.equal((tc.network as { C: number }).C, 2);
    assert.deepEqual(tc.synthetic, { n: 16, testN: 4, height: 16, width: 32, maxDisparity: 4, seed: 0 });
    assert.equal(tc.epochs, 1);

    const t = dispStudyTable(dir, readStudy(dir).graph)!;
    assert.deepEqual(t.missing, []);
    assert.deepEqual(t.rows.map((x) => [x.method, x.sweep, x.seed]), [['aug-2', 'augment=2', 1], ['l2-8.1e-3', 'weightDecay=0.0081', 1]]);
    for (const row of t.rows) {
      for (const c of ['oneShotValidEpe', 'lambdaMax', 'testEpe', 'parametersM'] as const) assert.ok(Number.isFinite(row.values[c]?.mean), `${row.method} ${c}: ${JSON.stringify(row.values[c])}`);
      assert.ok(row.values.oneShotValidEpe!.mean > 0 && row.values.testEpe!.mean > 0);
      assert.equal(row.values.sintelEpe, null);
    }
    // the columns are the folders' numbers: one-shot EPE = the search's finalValid, λ_max = its last hessian line, test EPE = the training's
    const aug = t.rows[0]!;
    const search1 = JSON.parse(readFileSync(join(dir, 'search/s6-synthetic/aug-2/s1/result.json'), 'utf8')) as { finalValid: { epe: number } };
    const train1 = JSON.parse(readFileSync(join(dir, 'train/s6-synthetic/aug-2/s1/result.json'), 'utf8')) as { testEpe: number; parameters: number };
    const hess = readFileSync(join(dir, 'search/s6-synthetic/aug-2/s1/metrics.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"kind":"hessian"'));
    assert.equal(hess.length, 2);
    assert.equal(aug.values.oneShotValidEpe!.mean, search1.finalValid.epe);
    assert.equal(aug.values.lambdaMax!.mean, (JSON.parse(hess[1]!) as { maxEigenvalue: number }).maxEigenvalue);
    assert.equal(lastLambdaMax(join(dir, 'search/s6-synthetic/aug-2/s1')), aug.values.lambdaMax!.mean);
    assert.equal(aug.values.testEpe!.mean, train1.testEpe);
    assert.ok(Math.abs(aug.values.parametersM!.mean - train1.parameters / 1e6) < 1e-12);

    const md = studyTableText(dir, readStudy(dir).graph, 'markdown');
    assert.deepEqual(md.skipped, []);
    assert.match(md.text, /\| s6-synthetic \| aug-2 \| augment=2 \| 1 \| \d+\.\d{3} \| [\d.e-]+ \| \d+\.\d{3} \| — \| [\d.]+ \|/);
    assert.doesNotMatch(md.text, /R-DARTS|C10/); // not the CNN table
    const csv = studyTableText(dir, readStudy(dir).graph, 'csv').text.trim().split('\n');
    assert.equal(csv.length, 3);
    const rep = await buildStudyReport(dir, readStudy(dir).graph);
    assert.match(rep.html, /S6: Table 2/);
    assert.match(rep.html, /λ_max trajectories, s6-synthetic/);
    assert.match(rep.html, /<svg/);
    assert.deepEqual(rep.missing, []);
  } finally {
    tmp.cleanup();
  }
});

test('S6 plan: steps per phase, the estimate unavailable for S6 jobs (not guessed); CNN plans keep their estimate', () => {
  const s = parseStudy(s6Study(), 'tiny-s6.yaml');
  const c = estimateCost(s.graph);
  // 2 searches × 2 epochs × 2 steps, 2 trainings × 1 epoch × 2 steps
  assert.deepEqual(c.phases.map((p) => [p.phase, p.jobs, p.steps, p.deviceHours, p.unpricedSteps ?? 0]), [['search', 2, 8, 0, 8], ['select', 0, 0, 0, 0], ['train', 2, 4, 0, 4]]);
  assert.deepEqual(c.unpriced, [{ kind: 'search', space: 's6', steps: 8 }, { kind: 'train', space: 's6', steps: 4 }]);
  const text = formatPlan(s);
  assert.match(text, /estimate unavailable for S6 search jobs \(8 steps\)/);
  assert.match(text, /search\s+2\s+8\s+n\/a/);
  assert.doesNotMatch(text, /NaN/);
  const cnn = estimateCost(parseStudy(tinyStudy('cnn'), 'cnn.yaml').graph);
  assert.equal(cnn.unpriced, undefined);
  assert.ok(cnn.total.deviceHours > 0 && Number.isFinite(cnn.total.deviceHours));
  assert.equal(cnn.total.unpricedSteps, undefined);
  // a relative sintelDir of the training is made absolute (jobs run in the study folder)
  const withSintel = parseStudy(s6Study({ train: '{ crop: null, sintelDir: data/Sintel }' }), 'x.yaml', '/base');
  assert.equal(withSintel.graph.jobs.find((j) => j.phase === 'train')!.configFile!.content.sintelDir, '/base/data/Sintel');
});

test('S6 studies are validated before anything runs: a bad search or training field is named; select is refused', () => {
  assert.throws(
    () => parseStudy(s6Study({ methods: ['  - { method: darts, name: aug-bad, config: { augment: -1 } }'] }), 'bad.yaml'),
    (e: Error) => /bad\.yaml: phases\.search\.config with methods\[aug-bad\]\.config \(job search\/s6-synthetic\/aug-bad\/s1\) is not a valid disparity \(space s6\) search configuration/.test(e.message) && /augment: must be ≥ 0/.test(e.message),
  );
  assert.throws(() => parseStudy(s6Study({ search: '{ network: { C: 0 } }' }), 'bad.yaml'), /network\.C: must be ≥ 1/);
  assert.throws(() => parseStudy(s6Study({ search: '{ layers: 8 }' }), 'bad.yaml'), /search configuration[\s\S]*layers/);
  assert.throws(() => parseStudy(s6Study({ train: '{ epochs: 0 }' }), 'bad.yaml'), (e: Error) => /phases\.train\.config \(job train\/s6-synthetic\/aug-2\/s1\) is not a valid S6 training configuration/.test(e.message) && /epochs: must be ≥ 1/.test(e.message));
  assert.throws(() => parseStudy(s6Study({ methods: ['  - rdarts-l2'] }), 'bad.yaml'), /method:/);
  assert.throws(() => parseStudy(s6Study({ extra: ['  select: { shortEpochs: 1 }'] }), 'sel.yaml'), /sel\.yaml: phases\.select: the select phase is not supported for space s6/);
  assert.throws(() => parseStudy(s6Study({ train: null, extra: ['  select: {}'] }), 'sel.yaml'), /phases\.select: the select phase is not supported for space s6/);
  assert.throws(() => parseStudy(s6Study().replace('{ space: s6, dataset: synthetic }', '{ space: s6, dataset: synthetic, subset: 8 }'), 'sub.yaml'), /benchmarks\.0\.subset: does not apply to space s6/);
  // what the trainers would refuse only once running: a crop larger than the synthetic frames, a decoder deeper than the encoder
  // (without a crop of its own the training takes the search's, as `rdarts train --genotype <search>` does)
  assert.doesNotThrow(() => parseStudy(s6Study({ train: '{ epochs: 1 }' }), 'lent.yaml'));
  assert.throws(() => parseStudy(s6Study({ train: '{ epochs: 1, crop: [384, 768] }' }), 'crop.yaml'), /crop\.yaml: phases\.train\.config \(job train\/s6-synthetic\/aug-2\/s1\): crop 384×768 is larger than the synthetic frames \(16×32\)/);
  assert.throws(() => parseStudy(s6Study({ search: SEARCH.replace('decoderDepth: 2', 'decoderDepth: 5') }), 'deep.yaml'), /deep\.yaml: phases\.search\.config .*decoderDepth 5 exceeds/);
  assert.throws(() => parseStudy(s6Study({ search: SEARCH.replace('width: 32', 'width: 30') }), 'odd.yaml'), /frame size 16×30 is not a multiple of 16/);
  // a real dataset without dataDir is named too
  assert.throws(() => parseStudy(s6Study().replace('dataset: synthetic', 'dataset: flyingthings3d'), 'ft.yaml'), /dataset flyingthings3d needs dataDir/);
});
