/**
 * The Slurm executor against a real single-node Slurm 22.05 (munged, slurmdbd on MariaDB,
 * slurmctld, slurmd), which this file starts with scripts/slurm-cluster.sh and stops again
 * (installing the packages first when sbatch is missing; root is needed, as in CI):
 *   - the tiny study on slurm: every job finishes (sacct: COMPLETED), and its table equals the
 *     table of the same study on the local executor, number for number;
 *   - the pre-time-limit signal (Slurm's `--signal=B:USR1@…`, delivered here at once with
 *     `scancel --signal=USR1 --batch`): the task stops its search, requeues itself, runs again
 *     and resumes from the last checkpoint to the end, bitwise equal to an uninterrupted run;
 *   - `rdarts study cancel` leaves no task of the study in squeue (running and pending ones).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStudy } from '../../src/experiments/study/file.js';
import { runStudyLocal } from '../../src/experiments/study/local.js';
import { cancelStudySlurm, expandArrayIds, queuedTasks, readSlurmRecord, slurmJobStates, submitStudySlurm, waitSlurm } from '../../src/experiments/study/slurm.js';
import { studyStatus } from '../../src/experiments/study/state.js';
import { studyTable } from '../../src/experiments/study/table.js';
import { tableToJson } from '../../src/analysis/table.js';
import { reindexStudy, StudyStore } from '../../src/experiments/store.js';
import { tinySearchStudy, tinyStudy } from './helpers.js';
import { tempDir, type TempDir } from '../helpers/tmp.js';
import { checkpointValues, readJsonl, sameBits } from '../search/helpers.js';
import { childEnv } from '../helpers/threads.js';

const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scripts/slurm-cluster.sh');
let startedHere = false;
let tmp: TempDir;

before(() => {
  if (spawnSync('which', ['sbatch']).status !== 0) execFileSync('bash', [SCRIPT, 'install'], { stdio: 'inherit' });
  // leave a cluster that was already up (someone else's) running afterwards
  const up = spawnSync('bash', [SCRIPT, 'status'], { encoding: 'utf8' });
  startedHere = !/slurmd running/.test(up.stdout + up.stderr);
  execFileSync('bash', [SCRIPT, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  tmp = tempDir('slurm');
});

after(() => {
  tmp?.cleanup();
  if (startedHere) execFileSync('bash', [SCRIPT, 'stop'], { stdio: ['ignore', 'ignore', 'inherit'] });
});

test('compacted array rows of Slurm 22.05 expand to tasks', () => {
  assert.deepEqual(expandArrayIds('8_[2-4%2]'), ['8_2', '8_3', '8_4']);
  assert.deepEqual(expandArrayIds('8_[0,3-4]'), ['8_0', '8_3', '8_4']);
  assert.deepEqual(expandArrayIds('8_5'), ['8_5']);
});

test('the tiny study on real Slurm finishes every job and gives the same table as on local', { timeout: 400_000 }, async () => {
  const file = join(tmp.path, 'tiny.yaml');
  writeFileSync(file, tinyStudy('tiny-slurm').replace('seeds: [1, 2]', 'seeds: [1]'));
  const local = join(tmp.path, 'local');
  const slurm = join(tmp.path, 'slurm');
  const l = await runStudyLocal(local, readStudy(file), { workers: 1, cores: 1 });
  assert.deepEqual(l.failed, []);
  const rec = submitStudySlurm(slurm, readStudy(file));
  assert.deepEqual(rec.arrays.map((a) => [a.phase, a.tasks.length]), [['search', 1], ['select', 1]]);
  await waitSlurm(slurm, 1000);
  const s = readStudy(slurm);
  assert.deepEqual(studyStatus(slurm, s.graph).map((x) => x.state), ['finished', 'finished']);
  // sacct lags the controller by a few seconds
  let states = new Map<string, string>();
  for (let k = 0; k < 20; k++) {
    states = slurmJobStates(slurm);
    if ([...states.values()].every((v) => v === 'COMPLETED')) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.deepEqual([...states.values()], ['COMPLETED', 'COMPLETED']);
  const a = tableToJson(studyTable(local, readStudy(local).graph).table);
  const b = tableToJson(studyTable(slurm, s.graph).table);
  assert.equal(JSON.parse(a).rows.length, 1);
  assert.equal(a.replaceAll(local, '<dir>'), b.replaceAll(slurm, '<dir>'));
  const sel = (d: string): unknown => JSON.parse(readFileSync(join(d, 'select/s3-synthetic/darts/result.json'), 'utf8')).selectedTestError;
  assert.equal(sel(slurm), sel(local));
  // the store (rebuilt from the folders: no driver runs during a Slurm study) agrees with them
  const store = new StudyStore(reindexStudy(slurm, s));
  const ev = store.dump().evaluations as Array<{ job: string; test_error: number }>;
  store.close();
  assert.deepEqual(ev.map((e) => [e.job, e.test_error]), [['search/s3-synthetic/darts/s1', null], ['select/s3-synthetic/darts', sel(slurm)]]);
});

async function until(cond: () => boolean, what: string, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const epochs = (run: string): number[] => (existsSync(join(run, 'metrics.jsonl')) ? readJsonl(join(run, 'metrics.jsonl')).filter((l) => l.kind === 'epoch').map((l) => l.epoch as number) : []);
const squeueState = (task: string): string => spawnSync('squeue', ['-h', '-r', '-j', task, '-o', '%T'], { encoding: 'utf8' }).stdout.trim();

test('the pre-time-limit signal: the task stops its search, requeues itself and resumes to the end, bitwise equal to an uninterrupted run', { timeout: 240_000 }, async () => {
  const E = 8;
  const file = join(tmp.path, 'requeue.yaml');
  writeFileSync(file, tinySearchStudy('requeue', E));
  const dir = join(tmp.path, 'requeue');
  const rec = submitStudySlurm(dir, readStudy(file));
  const s = readStudy(dir);
  const run = join(dir, s.graph.jobs[0]!.dir);
  const task = `${rec.arrays[0]!.id}_0`;
  // a few epochs in (checkpoints written), the signal Slurm sends before the time limit, to the batch shell only
  await until(() => epochs(run).length >= 2, 'two epochs on Slurm');
  execFileSync('scancel', ['--signal=USR1', '--batch', task]);
  // the task stops its job and asks for the requeue: the task pends again, the run unfinished
  await until(() => /PENDING|REQUEUED/.test(squeueState(task)), 'the task to be requeued', 30_000);
  const atRequeue = epochs(run).length;
  assert.ok(atRequeue < E && !existsSync(join(run, 'result.json')), `the run finished before the signal (${atRequeue} epochs): make it longer`);
  // Slurm holds a requeued job back for the credential lifetime (AuthInfo=cred_expire, 10 s on the
  // test cluster, 120 s by default), then starts it again by itself
  await waitSlurm(dir, 500);
  const out = readFileSync(join(dir, 'logs', `slurm-search-${task}.out`), 'utf8');
  const dbg = spawnSync('bash', ['-c', `sacct -j ${rec.arrays[0]!.id} -D -X -n -P -o JobID,State,Start,End`], { encoding: 'utf8' });
  assert.deepEqual(studyStatus(dir, s.graph).map((x) => x.state), ['finished'], `the task's output:\n${out}\n${dbg.stdout}${dbg.stderr}`);
  // every epoch logged once, in order: the second run continued, it did not start over
  assert.deepEqual(epochs(run), Array.from({ length: E }, (_, k) => k));
  assert.match(out, /time limit near: stopping the job, then requeueing/);
  assert.match(out, /== search\/s3-synthetic\/darts\/s1: rdarts search --resume search\/s3-synthetic\/darts\/s1/);
  // sacct keeps both runs of the task: the requeued one and the completed one
  let rows: string[] = [];
  for (let k = 0; k < 20; k++) {
    rows = execFileSync('sacct', ['-j', rec.arrays[0]!.id, '-D', '-X', '-n', '-P', '-o', 'JobID,State'], { encoding: 'utf8' }).trim().split('\n');
    if (rows.some((r) => r.endsWith('|COMPLETED'))) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(rows.some((r) => r === `${task}|REQUEUED`) && rows.some((r) => r === `${task}|COMPLETED`), rows.join('\n'));
  // the same job run by hand without interruption
  const ref = join(tmp.path, 'requeue-ref');
  const byHand = spawnSync(process.execPath, [resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js'), 'search', '--config', join(dir, s.graph.jobs[0]!.configFile!.path), '--out', ref, '--quiet'], { env: childEnv(), encoding: 'utf8' });
  assert.equal(byHand.status, 0, byHand.stderr);
  const a = checkpointValues(join(ref, 'checkpoints'));
  const b = checkpointValues(join(run, 'checkpoints'));
  assert.equal(a.epoch, E - 1);
  assert.equal(b.epoch, E - 1);
  for (const [k, v] of a.values) assert.ok(sameBits(v.data, b.values.get(k)!.data), `tensor ${k} differs after the requeue`);
  assert.deepEqual(JSON.parse(readFileSync(join(ref, 'result.json'), 'utf8')).genotype, JSON.parse(readFileSync(join(run, 'result.json'), 'utf8')).genotype);
  const ev = (d: string): unknown[] => readJsonl(join(d, 'metrics.jsonl')).filter((l) => l.kind === 'hessian').map((l) => l.maxEigenvalue);
  assert.deepEqual(ev(run), ev(ref));
});

test('rdarts study cancel leaves no task of the study in squeue', { timeout: 120_000 }, async () => {
  const file = join(tmp.path, 'long.yaml');
  // long enough searches (two tasks on one CPU each: one may run, one pend) and a dependent phase
  writeFileSync(file, tinyStudy('cancel-me').replace('epochs: 3,', 'epochs: 200,'));
  const dir = join(tmp.path, 'cancel');
  const rec = submitStudySlurm(dir, readStudy(file));
  assert.equal(rec.arrays.length, 2);
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(queuedTasks(dir).length > 0, 'nothing queued to cancel');
  assert.deepEqual(cancelStudySlurm(dir), rec.arrays.map((a) => a.id));
  for (let k = 0; k < 40 && queuedTasks(dir).length; k++) await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(queuedTasks(dir), []);
  const sq = execFileSync('squeue', ['-h', '-r', '-o', '%i'], { encoding: 'utf8' });
  for (const a of readSlurmRecord(dir).arrays) assert.ok(!sq.split('\n').some((l) => l.startsWith(`${a.id}_`) || l === a.id), `array ${a.id} still in squeue:\n${sq}`);
});
