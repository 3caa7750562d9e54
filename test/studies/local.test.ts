/**
 * The tiny study end to end on the local executor (synthetic data, 3 cells × 2 channels):
 *   - two workers; a search worker SIGKILLed mid-job is resumed from its checkpoint and ends
 *     bitwise equal to the same job run by hand without interruption;
 *   - the driver SIGKILLed while the select job runs, then restarted: it redoes nothing finished
 *     (search folders and logs untouched) and the study completes; status and the table agree
 *     with the run folders;
 *   - a second driver on the same study is refused (the lock names the first);
 *   - the results store written live equals the store rebuilt from the folders (reindex);
 *   - a job that keeps failing is marked failed with its log tail, its select is blocked, and
 *     the rest of the study goes on; its table cell stays missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStudy } from '../../src/experiments/study/file.js';
import { runStudyLocal, type StudyEvent } from '../../src/experiments/study/local.js';
import { studyStatus } from '../../src/experiments/study/state.js';
import { studyTable } from '../../src/experiments/study/table.js';
import { buildStudyReport } from '../../src/experiments/study/report.js';
import { acquireRunLock, readLockHolder, RunLockedError } from '../../src/experiments/lock.js';
import { reindexStudy, storePath, StudyStore } from '../../src/experiments/store.js';
import { checkpointValues, sameBits } from '../search/helpers.js';
import { childEnv } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';
import { tinyStudy } from './helpers.js';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const ENV = childEnv({ RDARTS_PLAIN_PROGRESS: '1', RDARTS_BUSY_WARNING: '0' });

function cli(args: string[], cwd?: string): { child: ReturnType<typeof spawn>; out: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  let s = '';
  child.stdout!.on('data', (d: Buffer) => (s += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (s += d.toString()));
  return { child, out: () => s, done: new Promise((r) => child.on('close', (code) => r(code))) };
}

async function until(cond: () => boolean, what: string, ms = 150_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const epochLines = (dir: string): number => (existsSync(join(dir, 'metrics.jsonl')) ? readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"kind":"epoch"')).length : 0);

test('tiny study on local: worker SIGKILLed → resumed bitwise; driver SIGKILLed → restart redoes nothing; status and table agree with the folders', { timeout: 400_000 }, async () => {
  const tmp = tempDir('study');
  try {
    const file = join(tmp.path, 'tiny.yaml');
    writeFileSync(file, tinyStudy('tiny'));
    const dir = join(tmp.path, 'study');
    const s = readStudy(file);
    const search1 = join(dir, 'search/s3-synthetic/darts/s1');
    const driver = cli(['study', 'run', file, '--out', dir, '--workers', '2']);
    // kill the worker of search s1 once its first epoch is written (it holds the folder's lock)
    await until(() => epochLines(search1) >= 1 && readLockHolder(search1) !== null, 'search s1 epoch 0');
    const victim = readLockHolder(search1)!.pid;
    process.kill(victim, 'SIGKILL');
    // then kill the driver itself once the select job runs
    const sel = join(dir, 'select/s3-synthetic/darts');
    await until(() => existsSync(join(sel, 'select.json')), 'the select job to start');
    driver.child.kill('SIGKILL');
    await driver.done;
    const searchResults = ['s1', 's2'].map((x) => join(dir, 'search/s3-synthetic/darts', x, 'result.json'));
    for (const r of searchResults) assert.ok(existsSync(r), `${r} missing before the driver was killed`);
    const mtimes = searchResults.map((r) => statSync(r).mtimeMs);
    const logs = ['s1', 's2'].map((x) => readFileSync(join(dir, 'logs', `search__s3-synthetic__darts__${x}.log`), 'utf8'));
    assert.match(logs[0]!, /attempt 1: killed by SIGKILL/);
    assert.match(logs[0]!, /== attempt 2 .*rdarts search --resume search\/s3-synthetic\/darts\/s1/);

    // a second driver is refused while the first one's lock is held (here: by this test process)
    const lock = acquireRunLock(dir, { what: 'study driver' });
    await assert.rejects(runStudyLocal(dir, readStudy(dir)), (e: unknown) => e instanceof RunLockedError && e.message.includes(`study driver process ${process.pid}`));
    lock.release();

    // restart: finished searches are skipped, the orphaned select worker is waited for (or resumed)
    const events: StudyEvent[] = [];
    const r = await runStudyLocal(dir, readStudy(dir), { workers: 2, onEvent: (e) => events.push(e) });
    assert.deepEqual(r.failed, []);
    assert.equal(r.finished.length, 3);
    assert.deepEqual(events.filter((e) => e.type === 'skipped').map((e) => (e as { job: string }).job).sort(), ['search/s3-synthetic/darts/s1', 'search/s3-synthetic/darts/s2']);
    assert.ok(!events.some((e) => e.type === 'start' && e.job.startsWith('search/')), 'a finished search was started again');
    assert.deepEqual(searchResults.map((x) => statSync(x).mtimeMs), mtimes);
    assert.deepEqual(['s1', 's2'].map((x) => readFileSync(join(dir, 'logs', `search__s3-synthetic__darts__${x}.log`), 'utf8')), logs);

    // the killed-and-resumed search equals the same job run by hand, uninterrupted
    const ref = join(tmp.path, 'ref');
    const byHand = cli(['search', '--config', join(dir, s.graph.jobs[0]!.configFile!.path), '--out', ref, '--quiet']);
    assert.equal(await byHand.done, 0, byHand.out());
    const a = checkpointValues(join(ref, 'checkpoints'));
    const b = checkpointValues(join(search1, 'checkpoints'));
    assert.equal(a.epoch, b.epoch);
    for (const [k, v] of a.values) assert.ok(sameBits(v.data, b.values.get(k)!.data), `tensor ${k} differs after kill + resume`);
    assert.deepEqual(JSON.parse(readFileSync(join(ref, 'result.json'), 'utf8')).genotype, JSON.parse(readFileSync(join(search1, 'result.json'), 'utf8')).genotype);

    // status and table agree with the folders
    const st = studyStatus(dir, s.graph);
    assert.deepEqual(st.map((x) => x.state), ['finished', 'finished', 'finished']);
    const status = cli(['study', 'status', dir, '--json']);
    assert.equal(await status.done, 0);
    assert.deepEqual(JSON.parse(status.out()).phases.search.finished, 2);
    const selected = JSON.parse(readFileSync(join(sel, 'result.json'), 'utf8')) as { selectedTestError: number };
    const { table } = studyTable(dir, s.graph);
    assert.equal(table.rows.length, 1);
    assert.ok(Math.abs(table.rows[0]!.cells.darts!.value - 100 * selected.selectedTestError) < 1e-9);
    const md = cli(['study', 'table', dir]);
    assert.equal(await md.done, 0);
    assert.match(md.out(), /DARTS/);
    // a further run does nothing at all
    const again: StudyEvent[] = [];
    await runStudyLocal(dir, readStudy(dir), { onEvent: (e) => again.push(e) });
    assert.ok(again.every((e) => e.type === 'skipped'), JSON.stringify(again));

    // the store written live (by both drivers, job by job) equals the one rebuilt from the folders
    const live = new StudyStore(storePath(dir));
    const liveRows = live.dump();
    live.close();
    assert.equal((liveRows.jobs as unknown[]).length, 3);
    assert.ok((liveRows.hessian as unknown[]).length >= 6, 'λ_max measurements missing from the store');
    assert.equal((liveRows.evaluations as Array<{ job: string; test_error: number }>).find((e) => e.job === 'select/s3-synthetic/darts')!.test_error, selected.selectedTestError);
    const rebuilt = reindexStudy(dir, readStudy(dir), join(tmp.path, 'rebuilt.sqlite'));
    const re = new StudyStore(rebuilt);
    assert.deepEqual(re.dump(), liveRows);
    re.close();
  } finally {
    tmp.cleanup();
  }
});

test('a job that keeps failing is marked failed with its log tail; its select is blocked; the rest goes on', { timeout: 300_000 }, async () => {
  const tmp = tempDir('study-fail');
  try {
    const file = join(tmp.path, 'f.yaml');
    // the second benchmark's data do not exist: its searches fail at once, every attempt
    writeFileSync(file, tinyStudy('fail', '  - { space: s3, dataset: cifar10, dataDir: /nonexistent-data, name: broken }').replace('seeds: [1, 2]', 'seeds: [1]'));
    const dir = join(tmp.path, 'study');
    const r = await runStudyLocal(dir, readStudy(file), { workers: 2, retries: 1 });
    assert.deepEqual(r.failed, ['search/broken/darts/s1']);
    assert.deepEqual(r.blocked, ['select/broken/darts']);
    assert.deepEqual(r.finished.sort(), ['search/s3-synthetic/darts/s1', 'select/s3-synthetic/darts']);
    const st = studyStatus(dir, readStudy(dir).graph);
    const bad = st.find((x) => x.id === 'search/broken/darts/s1')!;
    assert.equal(bad.state, 'failed');
    assert.equal(bad.attempts, 2);
    assert.match(bad.logTail ?? '', /nonexistent-data/);
    assert.equal(st.find((x) => x.id === 'select/broken/darts')!.state, 'blocked');
    const status = cli(['study', 'status', dir]);
    await status.done;
    assert.match(status.out(), /failed search\/broken\/darts\/s1 after 2 attempts/);
    const { table, skipped } = studyTable(dir, readStudy(dir).graph);
    assert.equal(table.rows.length, 1);
    assert.deepEqual(skipped, ['select/broken/darts: not finished']);
    // the report page: the table, the λ_max band of the finished benchmark, the missing cell named
    const rep = await buildStudyReport(dir, readStudy(dir).graph);
    assert.equal(rep.figures, 1);
    assert.match(rep.html, /λ_max trajectories, s3-synthetic/);
    assert.match(rep.html, /<svg/);
    assert.match(rep.html, /Missing: select\/broken\/darts: not finished/);
  } finally {
    tmp.cleanup();
  }
});
