/**
 * The S5 ground-truth study (docs/s5.md#rdarts-s5-truth) and Figure 2:
 *   - a truth study expands to genotypes × seeds train jobs (no dependencies, one shared config
 *     per seed, `rdarts train --genotype <JSON>`), a subset by key, and errors naming the field;
 *   - `rdarts s5 truth` on a tiny setting (3 genotypes, synthetic 8×8 images) end to end on the
 *     local executor: the driver and the running training are SIGKILLed mid-way, the rerun
 *     retrains nothing finished (result.json and logs untouched), resumes the killed one, writes
 *     the table (JSON + CSV, read back) and indexes it in the store (rows equal the table);
 *     `rdarts study reindex` keeps the table rows;
 *   - RS-ws's per-epoch choice under shared weights on hand-made errors; a tiny RS-ws search on
 *     s5 logs one 'shared-best' line per epoch and its final 'selected' line;
 *   - Figure 2 across runs from constructed run folders: the points, the per-epoch means by hand,
 *     'selected' lines left out, and the spec renders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { childEnv, pinTestThreads } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';
import { ConfigError } from '../../src/errors.js';
import { getSpace } from '../../src/nas/spaces.js';
import { genotypeFromJSON } from '../../src/nas/genotype-json.js';
import { enumerateOneNodeGenotypes, s5DirName, s5Key, truthEntry, type TruthTable } from '../../src/analysis/s5.js';
import { s5Figure2Spec, renderSvg } from '../../src/analysis/plots/index.js';
import { parseStudy, readStudy } from '../../src/experiments/study/file.js';
import { expandStudy } from '../../src/experiments/study/graph.js';
import { validateStudy } from '../../src/experiments/study/schema.js';
import { s5RegretPoints, truthJobs, truthStudyText } from '../../src/experiments/study/truth.js';
import { readTruthFile, truthToJSON } from '../../src/experiments/s5-truth.js';
import { readLockHolder } from '../../src/experiments/lock.js';
import { bestUnderSharedWeights } from '../../src/search/methods/s5-regret.js';
import { runSearch } from '../../src/experiments/search-run.js';
import { readJsonl, tinyConfig, tinyData } from '../search/helpers.js';

pinTestThreads();

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const ENV = childEnv({ RDARTS_PLAIN_PROGRESS: '1', RDARTS_BUSY_WARNING: '0' });
const s5 = getSpace('s5');
const ALL = enumerateOneNodeGenotypes(s5);

test('a truth study expands to genotypes × seeds train jobs; a subset by key; errors name the field', () => {
  const g = expandStudy(validateStudy({ name: 't', benchmarks: [{ space: 's5', dataset: 'fashion-mnist' }], seeds: [1, 2], phases: { truth: { config: { epochs: 2, layers: 5 } } } }), 'x.yaml');
  assert.equal(g.jobs.length, 81 * 2);
  assert.deepEqual(g.phases.train.length, 162);
  assert.deepEqual([g.phases.search.length, g.phases.select.length], [0, 0]);
  const j = g.jobs.find((x) => x.id === `truth/s5-fashion-mnist/${s5DirName(ALL[5]!)}/s2`)!;
  assert.ok(j, 'job of the 6th genotype, seed 2');
  assert.deepEqual(j.deps, []);
  assert.equal(j.method, 'truth');
  assert.equal(j.argv[0], 'train');
  // the command's genotype is that genotype
  assert.equal(s5Key(genotypeFromJSON(j.argv[j.argv.indexOf('--genotype') + 1]!)), s5Key(ALL[5]!));
  assert.deepEqual(j.argv.slice(j.argv.indexOf('--config'), j.argv.indexOf('--config') + 4), ['--config', 'configs/truth__s5-fashion-mnist__s2.json', '--out', j.dir]);
  assert.deepEqual(j.resumeArgv, ['train', '--resume', j.dir, '--quiet']);
  const c = j.configFile!.content as Record<string, unknown>;
  assert.deepEqual([c.epochs, c.layers, c.seed, c.evaluation, c.space, c.dataset], [2, 5, 2, 'validation', 's5', 'fashion-mnist']);
  // 162 distinct folders, one config file per seed
  assert.equal(new Set(g.jobs.map((x) => x.dir)).size, 162);
  assert.equal(new Set(g.jobs.map((x) => x.configFile!.path)).size, 2);

  const keys = [s5Key(ALL[0]!), s5Key(ALL[80]!)];
  const sub = expandStudy(validateStudy({ name: 't', benchmarks: [{ space: 's5', dataset: 'synthetic' }], seeds: [3], phases: { truth: { genotypes: keys } } }));
  assert.deepEqual(sub.jobs.map((x) => x.id), [`truth/s5-synthetic/${s5DirName(ALL[0]!)}/s3`, `truth/s5-synthetic/${s5DirName(ALL[80]!)}/s3`]);

  const bad = (raw: Record<string, unknown>, re: RegExp): void =>
    assert.throws(() => expandStudy(validateStudy({ name: 't', benchmarks: [{ space: 's5', dataset: 'synthetic' }], seeds: [1], ...raw }, 'x.yaml'), 'x.yaml'), (e: unknown) => e instanceof ConfigError && re.test(e.message), String(re));
  bad({ phases: { truth: { genotypes: ['normal:a/b|reduce:c/d'] } } }, /phases\.truth\.genotypes\.0: 'normal:a\/b\|reduce:c\/d' is not a genotype of s5/);
  bad({ benchmarks: [{ space: 's3', dataset: 'synthetic' }], phases: { truth: {} } }, /phases\.truth: benchmark s3-synthetic: space 's3' is not a one-node space/);
  bad({ phases: { truth: { config: { evaluation: 'test' } } } }, /phases\.truth\.config\.evaluation/);
  bad({ phases: { truth: { config: { epochs: 0 } } } }, /phases\.truth\.config \(jobs truth\/s5-synthetic\/\*\/s1\)[\s\S]*epochs/);
  // a search phase still needs methods
  bad({ phases: { search: {} } }, /methods: list at least one method/);
  // truthStudyText: --limit takes the first n of the enumeration
  const t = parseStudy(truthStudyText({ protocol: 'mini', limit: 4, seeds: [1] }), 'gen');
  assert.deepEqual(truthJobs(t.graph).map((x) => x.dir.split('/')[2]), ALL.slice(0, 4).map(s5DirName));
  assert.equal(t.study.name, 's5-truth-fashion-mnist-mini');
});

test('truthEntry: mean and sample std over seeds, by hand', () => {
  const e = truthEntry(ALL[0]!, [{ testError: 0.1, validError: 0.2, parameters: 7 }, { testError: 0.14, validError: 0.2, parameters: 7 }]);
  assert.ok(Math.abs(e.testError.mean - 0.12) < 1e-15);
  // std with n − 1: sqrt(((0.02)² · 2) / 1) = 0.028284…
  assert.ok(Math.abs(e.testError.std - Math.sqrt(0.0008)) < 1e-12);
  assert.deepEqual([e.validError.std, e.seeds, e.parameters], [0, 2, 7]);
  assert.equal(truthEntry(ALL[0]!, [{ testError: 0.3, validError: 0.1, parameters: 1 }]).testError.std, 0);
});

function cli(args: string[]): { child: ReturnType<typeof spawn>; out: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let s = '';
  child.stdout!.on('data', (d: Buffer) => (s += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (s += d.toString()));
  return { child, out: () => s, done: new Promise((r) => child.on('close', (code) => r(code))) };
}

async function until(cond: () => boolean, what: string, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const epochLines = (dir: string): number => (existsSync(join(dir, 'metrics.jsonl')) ? readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"kind":"epoch"')).length : 0);

test('rdarts s5 truth on a tiny setting: kill mid-way, rerun retrains nothing finished, writes and indexes the table', { timeout: 300_000 }, async (t0) => {
  const tmp = tempDir('s5truth');
  try {
    const tiny = join(tmp.path, 'tiny.json');
    writeFileSync(tiny, JSON.stringify({ synthetic: { n: 48, testN: 16, channels: 1, size: 8, numClasses: 3 }, layers: 3, channels: 2, epochs: 5, batchSize: 8, stepsPerEpoch: 3, evalBatches: 1, auxiliary: false, cutout: false, dropPath: 0, testSubset: null, subset: null }));
    const dir = join(tmp.path, 'study');
    const args = ['s5', 'truth', '--protocol', 'mini', '--dataset', 'synthetic', '--config', tiny, '--limit', '3', '--seeds', '1', '--out', dir, '--workers', '1'];
    const s = parseStudy(truthStudyText({ protocol: 'mini', dataset: 'synthetic', limit: 3, seeds: [1], config: JSON.parse(readFileSync(tiny, 'utf8')) }), 'x');
    const [j1, j2, j3] = truthJobs(s.graph).map((j) => join(dir, j.dir));
    const driver = cli(args);
    // once the first training has finished and the second is past its first epoch: kill the driver and that training
    await until(() => existsSync(join(j1!, 'result.json')) && epochLines(j2!) >= 1 && readLockHolder(j2!) !== null, 'job 1 finished, job 2 running');
    const worker = readLockHolder(j2!)!.pid;
    driver.child.kill('SIGKILL');
    process.kill(worker, 'SIGKILL');
    await driver.done;
    await until(() => !alive(worker), 'the killed training to exit');
    assert.ok(!existsSync(join(j3!, 'config.json')), 'job 3 had not started');
    const killedMidway = !existsSync(join(j2!, 'result.json'));
    t0.diagnostic(`second training killed mid-way: ${killedMidway} (then its rerun must resume it)`);
    const r1 = join(j1!, 'result.json');
    const m1 = statSync(r1).mtimeMs;
    const log1 = join(dir, 'logs', `${truthJobs(s.graph)[0]!.id.replace(/\//g, '__')}.log`);
    const logText1 = readFileSync(log1, 'utf8');
    assert.ok(!existsSync(join(dir, 'truth', 's5-synthetic.json')), 'no table before every training finished');

    // rerun the same command: job 1 is done earlier, job 2 resumes, job 3 starts, then the table
    const again = cli(args);
    assert.equal(await again.done, 0, again.out());
    assert.match(again.out(), /done earlier|finished/);
    assert.equal(statSync(r1).mtimeMs, m1, 'the finished training was not rewritten');
    assert.equal(readFileSync(log1, 'utf8'), logText1, 'the finished training was not started again');
    const log2 = readFileSync(join(dir, 'logs', `${truthJobs(s.graph)[1]!.id.replace(/\//g, '__')}.log`), 'utf8');
    if (killedMidway) assert.match(log2, /== attempt 2 .*rdarts train --resume truth\/s5-synthetic\//);
    for (const j of [j1!, j2!, j3!]) assert.equal(epochLines(j), 5, `${j}: each epoch logged once`);

    // the table: 3 genotypes × 1 seed, read back in both forms
    const t = readTruthFile(join(dir, 'truth', 's5-synthetic.json'));
    assert.deepEqual(t.entries.map((e) => e.key), ALL.slice(0, 3).map(s5Key));
    assert.equal(t.dataset, 'synthetic');
    assert.deepEqual((t.protocol as { seeds: number[] }).seeds, [1]);
    assert.match(String((t.protocol as { command?: string }).command), /^rdarts s5 truth --protocol mini --dataset synthetic /);
    const csv = readTruthFile(join(dir, 'truth', 's5-synthetic.csv'));
    assert.deepEqual(csv.entries, t.entries);
    for (const [i, jd] of [j1!, j2!, j3!].entries()) {
      const r = JSON.parse(readFileSync(join(jd, 'result.json'), 'utf8')) as { validError: number; parameters: number };
      const test = JSON.parse(readFileSync(join(dir, 'truth', 'tests', `${truthJobs(s.graph)[i]!.id.replace(/\//g, '__')}.json`), 'utf8')) as { testError: number; images: number };
      assert.equal(t.entries[i]!.validError.mean, r.validError);
      assert.equal(t.entries[i]!.testError.mean, test.testError);
      assert.equal(test.images, 16);
      assert.equal(t.entries[i]!.parameters, r.parameters);
    }
    // the test error is the run's own `rdarts test` number
    const viaCli = spawnSync(process.execPath, [CLI, 'test', j3!, '--json'], { env: ENV, encoding: 'utf8' });
    assert.equal(JSON.parse(viaCli.stdout).error, t.entries[2]!.testError.mean);

    // indexed in the store: one row per genotype, with the rank by test error
    const rows = (): Array<Record<string, unknown>> => {
      const db = new Database(join(dir, 'store.sqlite'), { readonly: true });
      try {
        return db.prepare('SELECT key, test_error_mean, valid_error_mean, parameters, seeds, test_rank FROM s5_truth ORDER BY key').all() as Array<Record<string, unknown>>;
      } finally {
        db.close();
      }
    };
    const want = [...t.entries].sort((a, b) => (a.key < b.key ? -1 : 1)).map((e) => ({ key: e.key, test_error_mean: e.testError.mean, valid_error_mean: e.validError.mean, parameters: e.parameters, seeds: 1, test_rank: 1 + t.entries.filter((x) => x.testError.mean < e.testError.mean).length }));
    assert.deepEqual(rows(), want);
    // the truth jobs are in the jobs/evaluations tables like any training
    const db = new Database(join(dir, 'store.sqlite'), { readonly: true });
    const ev = db.prepare("SELECT count(*) AS n FROM evaluations WHERE job LIKE 'truth/%' AND valid_error IS NOT NULL").get() as { n: number };
    db.close();
    assert.equal(ev.n, 3);
    // a rebuilt store keeps the table rows
    const re = spawnSync(process.execPath, [CLI, 'study', 'reindex', dir], { env: ENV, encoding: 'utf8' });
    assert.equal(re.status, 0, re.stderr);
    assert.deepEqual(rows(), want);
    // a third run trains nothing and writes the same table
    const third = spawnSync(process.execPath, [CLI, ...args], { env: ENV, encoding: 'utf8' });
    assert.equal(third.status, 0, third.stderr);
    assert.doesNotMatch(third.stderr, /^start /m);
    assert.equal(readFileSync(join(dir, 'truth', 's5-synthetic.json'), 'utf8'), truthToJSON(t));
    // the folder holds this study: other flags are refused
    const other = spawnSync(process.execPath, [CLI, ...args.map((a) => (a === '3' ? '4' : a))], { env: ENV, encoding: 'utf8' });
    assert.notEqual(other.status, 0);
    assert.match(other.stderr, /holds another study/);
    assert.ok(readStudy(dir).graph.jobs.length === 3);
  } finally {
    tmp.cleanup();
  }
});

test('RS-ws under shared weights: the lowest error wins, the first on ties (hand-made errors)', () => {
  const errs = [0.5, 0.25, 0.375, 0.25];
  const gs = ALL.slice(0, 4);
  const b = bestUnderSharedWeights(gs, (g) => ({ acc: 1 - errs[gs.indexOf(g)]! }));
  assert.equal(b.genotype, gs[1]);
  assert.equal(b.error, 0.25);
  assert.throws(() => bestUnderSharedWeights([], () => ({ acc: 1 })), RangeError);
});

function constructedTable(): TruthTable {
  return { space: 's5', dataset: 'synthetic', protocol: {}, entries: ALL.map((g, i) => ({ key: s5Key(g), genotype: g, testError: { mean: 0.1 + 0.001 * ((i * 37) % 81), std: 0 }, validError: { mean: 0.2, std: 0 }, parameters: 1, seeds: 1 })) };
}

test('a tiny RS-ws search on s5 logs one shared-best regret line per epoch, then its selection', async () => {
  const tmp = tempDir('s5rsws');
  try {
    const table = constructedTable();
    const file = join(tmp.path, 'truth.json');
    writeFileSync(file, truthToJSON(table));
    const cfg = tinyConfig({ space: 's5', method: 'rs-ws', epochs: 2, s5Truth: file, rsws: { samples: 4, scoreBatches: 1, topK: 2 } });
    const out = join(tmp.path, 'run');
    await runSearch(cfg, { out, data: tinyData(cfg) });
    const reg = readJsonl(join(out, 'metrics.jsonl')).filter((l) => l.kind === 's5-regret') as Array<Record<string, any>>;
    assert.deepEqual(reg.map((l) => [l.epoch, l.source]), [[0, 'shared-best'], [1, 'shared-best'], [1, 'selected']]);
    const best = Math.min(...table.entries.map((e) => e.testError.mean));
    for (const l of reg) {
      const e = table.entries.find((x) => x.key === l.key)!;
      assert.equal(l.regret, e.testError.mean - best);
    }
    for (const l of reg.slice(0, 2)) assert.ok(l.oneShotValidError >= 0 && l.oneShotValidError <= 1);
  } finally {
    tmp.cleanup();
  }
});

test('Figure 2 across runs: points from the study folders (selected lines left out), means by hand, and it renders', async () => {
  const tmp = tempDir('s5fig2');
  try {
    const s = parseStudy(['name: f2', 'benchmarks: [{ space: s5, dataset: synthetic }]', 'methods: [darts, rs-ws]', 'seeds: [1, 2]', 'phases: { search: {} }', ''].join('\n'), 'f2.yaml');
    const line = (epoch: number, source: string, regret: number, osv: number | null) => JSON.stringify({ kind: 's5-regret', epoch, iteration: 0, source, key: 'k', testError: 0, bestTestError: 0, regret, rank: 1, complete: true, oneShotValidError: osv });
    const write = (job: string, lines: string[]) => {
      mkdirSync(join(tmp.path, job), { recursive: true });
      writeFileSync(join(tmp.path, job, 'metrics.jsonl'), [JSON.stringify({ kind: 'epoch', epoch: 0 }), ...lines, ''].join('\n'));
    };
    write('search/s5-synthetic/darts/s1', [line(0, 'derived', 0.01, 0.3), line(1, 'derived', 0.03, 0.2)]);
    write('search/s5-synthetic/darts/s2', [line(0, 'derived', 0.02, 0.4), line(1, 'derived', 0.05, 0.25)]);
    write('search/s5-synthetic/rs-ws/s1', [line(0, 'shared-best', 0.04, 0.5), line(1, 'shared-best', 0.0, 0.45), line(1, 'selected', 0.09, null)]);
    const pts = s5RegretPoints(tmp.path, s.graph);
    assert.equal(pts.length, 6);
    assert.ok(!pts.some((p) => p.regret === 0.09));
    const spec = s5Figure2Spec(pts, 's5-synthetic') as unknown as { data: { values: Array<{ panel: string; series: string; epoch: number; value: number; runs: number }> } };
    const v = (panel: string, series: string, epoch: number) => spec.data.values.find((x) => x.panel === panel && x.series === series && x.epoch === epoch)!;
    // DARTS regret at epoch 1: mean(3, 5) points of % = 4; one-shot error at epoch 0: mean(30, 40) = 35
    assert.ok(Math.abs(v('regret', 'DARTS', 1).value - 4) < 1e-12);
    assert.equal(v('regret', 'DARTS', 1).runs, 2);
    assert.ok(Math.abs(v('valid', 'DARTS', 0).value - 35) < 1e-12);
    assert.ok(Math.abs(v('regret', 'RS-ws', 0).value - 4) < 1e-12);
    assert.equal(v('regret', 'RS-ws', 1).value, 0);
    assert.equal(spec.data.values.length, 8);
    const svg = await renderSvg(spec as never);
    assert.match(svg, /^<svg/);
    assert.match(svg, /RS-ws/);
  } finally {
    tmp.cleanup();
  }
});
