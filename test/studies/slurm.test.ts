/**
 * The Slurm executor against a real single-node Slurm 22.05 (munged, slurmdbd on MariaDB,
 * slurmctld, slurmd), which this file starts with scripts/slurm-cluster.sh and stops again
 * (installing the packages first when sbatch is missing; root is needed, as in CI):
 *   - the tiny study on slurm: every job finishes (sacct: COMPLETED), and its table equals the
 *     table of the same study on the local executor, number for number;
 *   - `rdarts study cancel` leaves no task of the study in squeue (running and pending ones).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStudy } from '../../src/experiments/study/file.js';
import { runStudyLocal } from '../../src/experiments/study/local.js';
import { cancelStudySlurm, expandArrayIds, queuedTasks, readSlurmRecord, slurmJobStates, submitStudySlurm, waitSlurm } from '../../src/experiments/study/slurm.js';
import { studyStatus } from '../../src/experiments/study/state.js';
import { studyTable } from '../../src/experiments/study/table.js';
import { tableToJson } from '../../src/analysis/table.js';
import { reindexStudy, StudyStore } from '../../src/experiments/store.js';
import { tinyStudy } from './helpers.js';
import { tempDir, type TempDir } from '../helpers/tmp.js';

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
