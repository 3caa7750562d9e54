/**
 * Studies on the recurrent-cell space (issue 12, docs/lm.md#studies, docs/studies.md#recurrent-cell-studies):
 *   - a tiny rnn study on the embedded corpus (darts and an R-DARTS(L2) grid of two values, one
 *     seed, 2 search epochs of 3 steps, 1 training epoch) run end to end by the local executor:
 *     every job finishes; each search ran the study's fields; each training trained its search's
 *     cell (the grid's: the member the grid selected) on the search's corpus; the table has one
 *     row per method with finite search perplexity, λ_max, test perplexity and parameters, each
 *     equal to the folders' own numbers; the report page holds the rnn table;
 *   - an rnn search worker SIGKILLed after its first epoch is resumed by the driver (`rdarts search
 *     --resume`) and ends bitwise equal to the same job run by hand without interruption;
 *   - the plan counts rnn steps and says their estimate is unavailable (never NaN);
 *   - a malformed rnn search or training field is refused, the field named, before anything runs;
 *     select and truth phases are refused for rnn, the phase named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseStudy, readStudy } from '../../src/experiments/study/file.js';
import { runStudyLocal } from '../../src/experiments/study/local.js';
import { studyStatus } from '../../src/experiments/study/state.js';
import { studyTableText } from '../../src/experiments/study/table.js';
import { rnnStudyTable } from '../../src/experiments/study/rnn-table.js';
import { buildStudyReport } from '../../src/experiments/study/report.js';
import { estimateCost } from '../../src/experiments/study/cost.js';
import { formatPlan } from '../../src/cli/commands/study.js';
import { resolveRnnGenotypeSource } from '../../src/experiments/lm-train-run.js';
import { readLockHolder } from '../../src/experiments/lock.js';
import { checkpointValues, sameBits } from '../search/helpers.js';
import { childEnv } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';

const SEARCH = '{ epochs: 2, batchSize: 8, bptt: 8, emsize: 16, nhid: 16, stepsPerEpoch: 3, evalBatches: 2, hessian: { every: 1, topK: 1, lanczosIterations: 4 } }';
const TRAIN = '{ epochs: 1, batchSize: 8, bptt: 8, emsize: 16, nhid: 16, stepsPerEpoch: 3, evalBatches: 2 }';
const B = 'rnn-common-licenses';

function rnnStudy(o: { methods?: string[]; search?: string; train?: string | null; extra?: string[]; benchmark?: string } = {}): string {
  return [
    'name: tiny-rnn',
    'benchmarks:',
    `  - ${o.benchmark ?? '{ space: rnn, dataset: common-licenses }'}`,
    'methods:',
    ...(o.methods ?? ['  - darts', '  - { method: rdarts-l2, config: { grid: { l2: [5.0e-7, 4.5e-6] } } }']),
    'seeds: [1]',
    'resources: { cpus: 1, mem: 1G, time: "00:10:00" }',
    'phases:',
    `  search: { config: ${o.search ?? SEARCH} }`,
    ...(o.train === null ? [] : [`  train: { config: ${o.train ?? TRAIN} }`]),
    ...(o.extra ?? []),
    '',
  ].join('\n');
}

const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

test('a tiny rnn study runs end to end on the local executor; the table has one row per method with finite perplexities', { timeout: 180_000 }, async () => {
  const tmp = tempDir('rnn-study');
  try {
    const file = join(tmp.path, 'tiny-rnn.yaml');
    writeFileSync(file, rnnStudy());
    const dir = join(tmp.path, 'study');
    const s = readStudy(file);
    assert.deepEqual(s.graph.phases.search, [`search/${B}/darts/s1`, `search/${B}/rdarts-l2/s1`]);
    assert.deepEqual(s.graph.phases.train, [`train/${B}/darts/s1`, `train/${B}/rdarts-l2/s1`]);
    const search = s.graph.jobs.find((j) => j.id === `search/${B}/darts/s1`)!;
    assert.deepEqual(search.argv.slice(0, 3), ['search', '--space', 'rnn']);
    const train = s.graph.jobs.find((j) => j.id === `train/${B}/darts/s1`)!;
    assert.deepEqual(train.argv.slice(0, 5), ['train', '--space', 'rnn', '--genotype', `search/${B}/darts/s1`]);
    assert.deepEqual(train.argv.slice(train.argv.indexOf('--vocab-size'), train.argv.indexOf('--vocab-size') + 2), ['--vocab-size', '1000']);
    assert.deepEqual(train.deps, [search.id]);

    const r = await runStudyLocal(dir, s, { workers: 2, retries: 0, env: childEnv({ RDARTS_PLAIN_PROGRESS: '1', RDARTS_BUSY_WARNING: '0' }) });
    assert.deepEqual(r.failed, []);
    assert.deepEqual(r.blocked, []);
    assert.equal(r.finished.length, 4);
    const g = readStudy(dir).graph;
    assert.deepEqual(studyStatus(dir, g).map((x) => x.state), ['finished', 'finished', 'finished', 'finished']);

    // the searches ran the study's fields; the grid ran its two members
    const sc = json(join(dir, `search/${B}/darts/s1/config.json`));
    assert.deepEqual([sc.space, sc.method, sc.dataset, sc.epochs, sc.nhid, sc.seed], ['rnn', 'darts', 'common-licenses', 2, 16, 1]);
    const grid = json(join(dir, `search/${B}/rdarts-l2/s1/result.json`)) as { members: Array<{ name: string; weightDecay: number }>; selected: string };
    assert.deepEqual(grid.members.map((m) => m.weightDecay), [5e-7, 4.5e-6]);
    assert.ok(grid.members.some((m) => m.name === grid.selected));
    // each training trained its search's cell (the grid's selected member's) with the study's training fields, on the search's corpus
    const tc = json(join(dir, `train/${B}/darts/s1/config.json`));
    assert.deepEqual(tc.genotype, json(join(dir, `search/${B}/darts/s1/result.json`)).genotype);
    assert.deepEqual([tc.dataset, tc.epochs, tc.nhid, tc.vocabSize], ['common-licenses', 1, 16, 1000]);
    assert.equal(tc.dataFingerprint, sc.dataFingerprint);
    const member = join(dir, `search/${B}/rdarts-l2/s1/runs`, grid.selected);
    const gc = json(join(dir, `train/${B}/rdarts-l2/s1/config.json`));
    assert.deepEqual(gc.genotype, json(join(member, 'result.json')).genotype);

    const t = rnnStudyTable(dir, g)!;
    assert.deepEqual(t.missing, []);
    assert.deepEqual(t.rows.map((x) => [x.method, x.seed, x.selected]), [['darts', 1, null], ['rdarts-l2', 1, grid.selected]]);
    for (const row of t.rows) for (const c of ['validPpl', 'lambdaMax', 'testPpl', 'parametersM'] as const) assert.ok(Number.isFinite(row.values[c]?.mean), `${row.method} ${c}: ${JSON.stringify(row.values[c])}`);
    // the columns are the folders' numbers
    const d = t.rows[0]!;
    const sres = json(join(dir, `search/${B}/darts/s1/result.json`)) as { finalValid: { ppl: number } };
    const tres = json(join(dir, `train/${B}/darts/s1/result.json`)) as { test: { ppl: number }; parameters: number };
    const hess = readFileSync(join(dir, `search/${B}/darts/s1/metrics.jsonl`), 'utf8').split('\n').filter((l) => l.includes('"kind":"hessian"'));
    assert.equal(hess.length, 2);
    assert.equal(d.values.validPpl!.mean, sres.finalValid.ppl);
    assert.equal(d.values.lambdaMax!.mean, (JSON.parse(hess[1]!) as { maxEigenvalue: number }).maxEigenvalue);
    assert.equal(d.values.testPpl!.mean, tres.test.ppl);
    assert.ok(d.values.testPpl!.mean > 1);
    assert.ok(Math.abs(d.values.parametersM!.mean - tres.parameters / 1e6) < 1e-12);
    const sel = grid.members.find((m) => m.name === grid.selected) as unknown as { finalValidPpl: number };
    assert.equal(t.rows[1]!.values.validPpl!.mean, sel.finalValidPpl);

    const md = studyTableText(dir, g, 'markdown');
    assert.deepEqual(md.skipped, []);
    assert.match(md.text, new RegExp(`\\| ${B} \\| darts \\| — \\| 1 \\| \\d+\\.\\d{2} \\| [\\d.e-]+ \\| \\d+\\.\\d{2} \\| [\\d.e-]+ \\|`));
    assert.match(md.text, new RegExp(`\\| ${B} \\| rdarts-l2 \\| grid\\.l2=5e-7×0\\.0000045; selected l2_`));
    assert.doesNotMatch(md.text, /C10|S6/); // neither the CNN nor the S6 table
    assert.equal(studyTableText(dir, g, 'csv').text.trim().split('\n').length, 3);
    const rep = await buildStudyReport(dir, g);
    assert.match(rep.html, /Recurrent cell \(rnn\)/);
    assert.deepEqual(rep.missing, []);
  } finally {
    tmp.cleanup();
  }
});

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

test('an rnn search worker SIGKILLed mid-job is resumed by the driver and ends bitwise as an uninterrupted run', { timeout: 180_000 }, async () => {
  const tmp = tempDir('rnn-study-kill');
  try {
    const file = join(tmp.path, 'kill.yaml');
    writeFileSync(file, rnnStudy({ methods: ['  - darts'], search: SEARCH.replace('epochs: 2', 'epochs: 4'), train: null }));
    const dir = join(tmp.path, 'study');
    const s = readStudy(file);
    const job = s.graph.jobs[0]!;
    const run = join(dir, job.dir);
    const epochs = (): number => (existsSync(join(run, 'metrics.jsonl')) ? readFileSync(join(run, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"kind":"epoch"')).length : 0);
    let killed = false;
    const watcher = (async () => {
      const t0 = Date.now();
      while (Date.now() - t0 < 120_000) {
        const holder = existsSync(run) ? readLockHolder(run) : null;
        if (holder && epochs() >= 1) {
          process.kill(holder.pid, 'SIGKILL');
          killed = true;
          return;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const r = await runStudyLocal(dir, s, { workers: 1, retries: 1, env: childEnv({ RDARTS_PLAIN_PROGRESS: '1', RDARTS_BUSY_WARNING: '0' }) });
    await watcher;
    assert.ok(killed, 'the worker was not killed');
    assert.deepEqual(r.failed, []);
    assert.deepEqual(r.finished, [job.id]);
    const log = readFileSync(join(dir, 'logs', 'search__rnn-common-licenses__darts__s1.log'), 'utf8');
    assert.match(log, /attempt 1: killed by SIGKILL/);
    assert.match(log, /== attempt 2 .*rdarts search --resume search\/rnn-common-licenses\/darts\/s1/);
    assert.equal(epochs(), 4); // every epoch logged once

    const ref = join(tmp.path, 'ref');
    const byHand = spawnSync(process.execPath, [CLI, 'search', '--space', 'rnn', '--config', join(dir, job.configFile!.path), '--out', ref, '--quiet'], { env: childEnv({ RDARTS_PLAIN_PROGRESS: '1' }), encoding: 'utf8' });
    assert.equal(byHand.status, 0, byHand.stderr);
    const a = checkpointValues(join(ref, 'checkpoints'));
    const b = checkpointValues(join(run, 'checkpoints'));
    assert.equal(a.epoch, b.epoch);
    assert.ok(a.values.size > 0);
    for (const [k, v] of a.values) assert.ok(sameBits(v.data, b.values.get(k)!.data), `tensor ${k} differs after kill + resume`);
    const ra = json(join(ref, 'result.json'));
    const rb = json(join(run, 'result.json'));
    assert.deepEqual([rb.genotype, rb.finalValid], [ra.genotype, ra.finalValid]);
  } finally {
    tmp.cleanup();
  }
});

test('rnn plan: steps per phase, the estimate unavailable for rnn jobs (not guessed)', () => {
  const s = parseStudy(rnnStudy(), 'tiny-rnn.yaml');
  const c = estimateCost(s.graph);
  // darts 2 epochs × 3 steps, the grid 2 members × 2 × 3; 2 trainings × 1 epoch × 3 steps
  assert.deepEqual(c.phases.map((p) => [p.phase, p.jobs, p.steps, p.deviceHours, p.unpricedSteps ?? 0]), [['search', 2, 18, 0, 18], ['select', 0, 0, 0, 0], ['train', 2, 6, 0, 6]]);
  assert.deepEqual(c.unpriced, [{ kind: 'search', space: 'rnn', steps: 18 }, { kind: 'train', space: 'rnn', steps: 6 }]);
  const text = formatPlan(s);
  assert.match(text, /estimate unavailable for RNN search jobs \(18 steps\)/);
  assert.doesNotMatch(text, /NaN/);
  // without stepsPerEpoch: one pass over the corpus (31,163 tokens in 8 columns, windows of 8)
  const full = estimateCost(parseStudy(rnnStudy({ methods: ['  - darts'], search: '{ epochs: 1, batchSize: 8, bptt: 8 }', train: null }), 'x.yaml').graph);
  assert.equal(full.phases[0]!.steps, Math.ceil((Math.floor(31163 / 8) - 1) / 8));
});

test('rnn studies are validated before anything runs: a bad search or training field is named; select and truth are refused', () => {
  assert.throws(
    () => parseStudy(rnnStudy({ search: '{ epochs: 2, dropouth: 1.5 }' }), 'bad.yaml'),
    (e: Error) => /bad\.yaml: phases\.search\.config \(job search\/rnn-common-licenses\/darts\/s1\) is not a valid recurrent-cell \(space rnn\) search configuration/.test(e.message) && /dropouth/.test(e.message),
  );
  assert.throws(() => parseStudy(rnnStudy({ search: '{ bptt: one }' }), 'bad.yaml'), /bptt/);
  assert.throws(() => parseStudy(rnnStudy({ search: '{ layers: 8 }' }), 'bad.yaml'), /search configuration[\s\S]*layers/);
  assert.throws(() => parseStudy(rnnStudy({ methods: ['  - { method: darts, name: x, config: { grid: { l2: [] } } }'] }), 'bad.yaml'), /methods\[x\]\.config[\s\S]*grid\.l2/);
  assert.throws(() => parseStudy(rnnStudy({ methods: ['  - rs-ws'] }), 'bad.yaml'), /method/);
  assert.throws(() => parseStudy(rnnStudy({ train: '{ epochs: 0 }' }), 'bad.yaml'), (e: Error) => /phases\.train\.config \(job train\/rnn-common-licenses\/darts\/s1\) is not a valid recurrent training configuration/.test(e.message) && /epochs/.test(e.message));
  assert.throws(() => parseStudy(rnnStudy({ train: '{ genotype: DARTS_V2 }' }), 'bad.yaml'), /phases\.train\.config\.genotype: an rnn study's training takes the cell and the corpus from its search/);
  assert.throws(() => parseStudy(rnnStudy({ train: '{ emsize: 16, nhid: 32 }' }), 'bad.yaml'), /emsize \(16\) and nhid \(32\) differ/);
  assert.throws(() => parseStudy(rnnStudy({ extra: ['  select: { shortEpochs: 1 }'], train: null }), 'sel.yaml'), /sel\.yaml: phases\.select: the select phase is not supported for space rnn/);
  assert.throws(() => parseStudy(rnnStudy({ extra: ['  truth: {}'] }), 'tr.yaml'), /phases\.truth: the truth phase is not supported for space rnn/);
  assert.throws(() => parseStudy(rnnStudy({ benchmark: '{ space: rnn, dataset: cifar10 }' }), 'ds.yaml'), /benchmarks\.0\.dataset: 'cifar10' is not a text corpus/);
  assert.throws(() => parseStudy(rnnStudy({ benchmark: '{ space: rnn, dataset: common-licenses, subset: 8 }' }), 'sub.yaml'), /benchmarks\.0\.subset: does not apply to space rnn/);
  // PTB: the training gets the search's data folder
  const ptb = parseStudy(rnnStudy({ benchmark: '{ space: rnn, dataset: ptb, dataDir: data }' }), 'ptb.yaml', '/base');
  const tr = ptb.graph.jobs.find((j) => j.phase === 'train')!;
  assert.deepEqual(tr.argv.slice(tr.argv.indexOf('--data-dir'), tr.argv.indexOf('--data-dir') + 2), ['--data-dir', '/base/data']);
  assert.equal((ptb.graph.jobs[0]!.configFile!.content as { dataDir: string }).dataDir, '/base/data');
});

test('a grid folder as --genotype: its selected member, or an error when it selected none', () => {
  const tmp = tempDir('rnn-grid-genotype');
  try {
    const member = join(tmp.path, 'g', 'runs', 'l2_5e-7');
    mkdirSync(member, { recursive: true });
    const genotype = { recurrent: [['tanh', 0], ['relu', 1], ['relu', 1], ['identity', 1], ['tanh', 2], ['sigmoid', 5], ['tanh', 3], ['relu', 5]], concat: [1, 2, 3, 4, 5, 6, 7, 8] };
    writeFileSync(join(member, 'result.json'), JSON.stringify({ space: 'rnn', genotype }));
    writeFileSync(join(tmp.path, 'g', 'result.json'), JSON.stringify({ space: 'rnn', method: 'rdarts-l2', members: [{ name: 'l2_5e-7' }], selected: 'l2_5e-7' }));
    const g = resolveRnnGenotypeSource(join(tmp.path, 'g'));
    assert.equal(g.source, member);
    assert.deepEqual(g.genotype.recurrent[0], ['tanh', 0]);
    writeFileSync(join(tmp.path, 'g', 'result.json'), JSON.stringify({ space: 'rnn', method: 'rdarts-l2', members: [{ name: 'l2_5e-7' }], selected: null }));
    assert.throws(() => resolveRnnGenotypeSource(join(tmp.path, 'g')), /is an R-DARTS grid that selected no member/);
  } finally {
    tmp.cleanup();
  }
});

test('the shipped rnn studies expand', () => {
  for (const f of ['studies/mini-rnn.yaml', 'studies/table4-ptb.yaml']) {
    const s = readStudy(f);
    assert.ok(s.graph.jobs.length >= 4, f);
    assert.ok(s.graph.jobs.every((j) => j.space === 'rnn'));
  }
  const t4 = readStudy('studies/table4-ptb.yaml').graph;
  assert.deepEqual(t4.phases.search.map((id) => id.split('/')[2]), ['darts', 'rdarts-l2']);
  assert.equal((t4.jobs[0]!.configFile!.content as { nhid: number }).nhid, 300);
  assert.equal((t4.jobs.find((j) => j.phase === 'train')!.configFile!.content as { device: string }).device, 'cuda');
});
