/**
 * Study files: validation errors name the field; a constructed study expands to the expected
 * job graph (counts per phase, dependencies, grid methods as one search per value, commands);
 * the shipped studies parse and plan (Table 3: 12 × 6 with 4 searches each).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseStudy, readStudy } from '../../src/experiments/study/file.js';
import { expandStudy, topoOrder } from '../../src/experiments/study/graph.js';
import { validateStudy } from '../../src/experiments/study/schema.js';
import { estimateCost, secondsPerStep, MEASURED_STEP_TIMES } from '../../src/experiments/study/cost.js';
import { ConfigError } from '../../src/errors.js';
import { eigenBandSpec, reportSpecs, type SearchRecord } from '../../src/experiments/study/report.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const base = {
  name: 't',
  benchmarks: [{ space: 's1', dataset: 'cifar10' }, { space: 's3', dataset: 'svhn', dataDir: '/data' }],
  methods: ['darts', { method: 'rdarts-l2', seeds: [7] }],
  seeds: [1, 2],
  phases: { search: { config: { epochs: 3 } }, select: { shortEpochs: 2, epochs: 5 }, train: {} },
};

test('validation errors name the field', () => {
  const bad = (raw: unknown, re: RegExp): void => assert.throws(() => validateStudy(raw, 'x.yaml'), (e: unknown) => e instanceof ConfigError && re.test(e.message), String(re));
  bad({ ...base, seeds: [] }, /seeds: list at least one seed/);
  bad({ ...base, benchmarks: [{ space: 's1', dataset: 'mnist' }] }, /benchmarks\.0\.dataset: /);
  bad({ ...base, methods: ['dart'] }, /methods\.0: /);
  bad({ ...base, phases: { search: { resources: { time: 'soon' } } } }, /phases\.search\.resources\.time: must be a time limit/);
  bad({ ...base, phases: { search: { resurces: {} } } }, /phases\.search: unknown field\(s\) 'resurces'/);
  bad({ ...base, phases: {} }, /phases: name at least one phase/);
  bad({ ...base, methods: ['darts', 'darts'] }, /methods\.1: a second entry named 'darts'/);
  // the per-job configurations are checked by the search / training schemas, naming the job
  assert.throws(() => expandStudy(validateStudy({ ...base, phases: { search: { config: { epochs: 0 } } } }), 'x.yaml'), /x\.yaml: phases\.search\.config \(job search\/s1-cifar10\/darts\/s1\)[\s\S]*epochs: must be ≥ 1/);
  assert.throws(() => expandStudy(validateStudy({ ...base, phases: { search: {}, select: { config: { batchSize: -1 } } } }), 'x.yaml'), /phases\.select\.config \(job select\/s1-cifar10\/darts\)[\s\S]*batchSize/);
  assert.throws(() => expandStudy(validateStudy({ ...base, phases: { select: {} } }), 'x.yaml'), /phases\.select needs a search phase/);
  assert.throws(() => expandStudy(validateStudy({ ...base, phases: { search: {}, select: {}, train: { config: { lr: 0.1 } } } }), 'x.yaml'), /phases\.train\.config\.lr: with a select phase/);
});

test('the job graph of a constructed study: counts per phase, dependencies, grid members, commands', () => {
  const g = expandStudy(validateStudy(base));
  // 2 benchmarks × (darts: 2 seeds + rdarts-l2: 4 values × 1 seed) searches; one select per benchmark × method
  assert.equal(g.phases.search.length, 2 * (2 + 4));
  assert.equal(g.phases.select.length, 2 * 2);
  assert.equal(g.phases.train.length, 0);
  const byId = new Map(g.jobs.map((j) => [j.id, j]));
  const sel = byId.get('select/s3-svhn/rdarts-l2')!;
  assert.deepEqual(sel.deps, ['search/s3-svhn/rdarts-l2/l2_3e-4-s7', 'search/s3-svhn/rdarts-l2/l2_9e-4-s7', 'search/s3-svhn/rdarts-l2/l2_2.7e-3-s7', 'search/s3-svhn/rdarts-l2/l2_8.1e-3-s7']);
  assert.deepEqual(sel.argv.slice(0, 5), ['select', ...sel.deps.map((d) => byId.get(d)!.dir)]);
  assert.ok(sel.argv.includes('--short-epochs') && sel.argv.includes('--epochs'));
  const member = byId.get('search/s3-svhn/rdarts-l2/l2_2.7e-3-s7')!;
  const c = member.configFile!.content as { method: string; weightDecay: number; seed: number; dataDir: string; epochs: number; space: string };
  assert.deepEqual([c.method, c.weightDecay, c.seed, c.dataDir, c.epochs, c.space], ['darts', 2.7e-3, 7, '/data', 3, 's3']);
  assert.equal(member.searchMethod, 'rdarts-l2');
  assert.deepEqual(member.resumeArgv, ['search', '--resume', member.dir, '--quiet']);
  // every dependency comes before its job
  const order = topoOrder(g).map((j) => j.id);
  for (const j of g.jobs) for (const d of j.deps) assert.ok(order.indexOf(d) < order.indexOf(j.id));
  // without select, train jobs: one per search, each after its search
  const g2 = expandStudy(validateStudy({ ...base, phases: { search: {}, train: { config: { epochs: 4 } } } }));
  assert.equal(g2.phases.train.length, g2.phases.search.length);
  const t = g2.jobs.find((j) => j.id === 'train/s1-cifar10/darts/s2')!;
  assert.deepEqual(t.deps, ['search/s1-cifar10/darts/s2']);
  assert.deepEqual(t.argv.slice(0, 3), ['train', '--genotype', 'search/s1-cifar10/darts/s2']);
  // resources: study defaults under phase resources
  const g3 = expandStudy(validateStudy({ ...base, resources: { cpus: 3, mem: '4G' }, phases: { search: { resources: { cpus: 5 } } } }));
  assert.deepEqual([g3.jobs[0]!.resources.cpus, g3.jobs[0]!.resources.mem], [5, '4G']);
});

test('the shipped studies parse, cite a source and plan; Table 3 is 12 benchmarks × 6 methods × 4 searches + 72 selections', () => {
  const dir = join(ROOT, 'studies');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  // S6 (mini-s6, table2): the step-time table has no S6 entry, so their steps are counted but not priced (test/studies/s6-study.test.ts)
  for (const f of ['darts-spaces.yaml', 'mini-fmnist.yaml', 'mini-s6.yaml', 'sweeps-l2-dp.yaml', 'table1.yaml', 'table2.yaml', 'table3.yaml']) assert.ok(files.includes(f), f);
  for (const f of files) {
    const s = readStudy(join(dir, f));
    assert.match(readFileSync(join(dir, f), 'utf8'), /^# .*\n(#.*\n)*#.*paper-spec §/m, `${f} cites no paper-spec section`);
    assert.ok(s.study.source?.includes('paper-spec §'), f);
    const cost = estimateCost(s.graph);
    // S6 and rnn (mini-rnn, table4-ptb; test/studies/rnn-study.test.ts) have no step time: counted, not priced
    const unpricedSpace = s.study.benchmarks.find((b) => b.space === 's6' || b.space === 'rnn')?.space;
    assert.ok(unpricedSpace ? cost.unpriced?.some((u) => u.space === unpricedSpace) && cost.total.steps > 0 : cost.total.deviceHours > 0 && Number.isFinite(cost.total.deviceHours), f);
  }
  const t3 = readStudy(join(dir, 'table3.yaml'));
  assert.equal(t3.study.benchmarks.length, 12);
  assert.equal(t3.study.methods.length, 6);
  assert.equal(t3.graph.phases.search.length, 12 * 6 * 4);
  assert.equal(t3.graph.phases.select.length, 12 * 6);
  assert.ok(t3.graph.jobs.filter((j) => j.phase === 'select').every((j) => j.deps.length === 4));
  const t1 = readStudy(join(dir, 'table1.yaml'));
  assert.deepEqual([t1.graph.phases.search.length, t1.graph.phases.train.length], [12 * 2 * 3, 12 * 2 * 3]);
});

test('the cost model reproduces the measured step times at their shapes and scales with the work', () => {
  for (const e of MEASURED_STEP_TIMES.entries) {
    assert.equal(secondsPerStep({ kind: e.kind, space: e.space, order: e.order, layers: e.layers, channels: e.channels, batchSize: e.batchSize, imageSize: e.imageSize, steps: 1 }), e.seconds);
  }
  const s1 = MEASURED_STEP_TIMES.entries.find((e) => e.kind === 'search' && e.space === 's1')!;
  const twice = secondsPerStep({ kind: 'search', space: 's1', order: 'second', layers: s1.layers, channels: s1.channels, batchSize: s1.batchSize * 2, imageSize: s1.imageSize, steps: 1 });
  assert.ok(Math.abs(twice - 2 * s1.seconds) < 1e-9);
  // data locations are made absolute against the given base
  const p = parseStudy('name: x\nbenchmarks: [{ space: s1, dataset: cifar10, dataDir: data }]\nmethods: [darts]\nseeds: [1]\nphases: { search: {} }\n', 'x.yaml', '/base');
  assert.equal(p.study.benchmarks[0]!.dataDir, '/base/data');
});

test('report figures from plain records: λ_max band per benchmark, error and λ_max vs the grid value, λ_max vs test error', () => {
  const rec = (job: string, method: string, seed: number, grid: SearchRecord['grid'], ev: number[], testError: number | null): SearchRecord => ({ job, benchmark: 'b', method, seed, grid, eigen: ev.map((maxEigenvalue, epoch) => ({ epoch, maxEigenvalue })), testError });
  const recs = [
    rec('a', 'darts', 1, null, [0.1, 0.2, 0.4], 0.1),
    rec('b', 'darts', 2, null, [0.1, 0.3, 0.6], 0.2),
    rec('c', 'rdarts-l2', 1, { parameter: 'weightDecay', value: 3e-4 }, [0.1, 0.2], 0.12),
    rec('d', 'rdarts-l2', 1, { parameter: 'weightDecay', value: 8.1e-3 }, [0.1, 0.1], 0.08),
  ];
  const specs = reportSpecs(recs);
  assert.deepEqual(specs.map((s) => s.title), ['λ_max trajectories, b (Figure 3 style)', 'test error vs L2 (Figures 6–8)', 'final λ_max vs L2 (Figures 6–8)', 'final λ_max vs test error of the trained cell (Figure 4 style)']);
  const band = eigenBandSpec('b', recs) as unknown as { data: { values: Array<{ method: string; epoch: number; mean: number; lo: number; hi: number; n: number }> } };
  const e2 = band.data.values.find((v) => v.epoch === 2)!;
  assert.deepEqual([e2.method, e2.n, e2.mean], ['darts', 2, 0.5]);
  assert.ok(Math.abs(e2.hi - e2.mean - Math.SQRT1_2 * 0.2) < 1e-12); // sample std of {0.4, 0.6}
});
