/**
 * The Slurm executor: one job array per phase (its tasks = that phase's unfinished jobs), each
 * phase `afterok` the previous one, `--requeue`, and `--signal=B:USR1@<s>` before the time limit:
 * the task (`rdarts study job`, exec'd so it is the batch shell) then asks Slurm to requeue it,
 * and when it runs again the job resumes from its last epoch checkpoint. GPUs are requested
 * (`--gres=gpu:N`) when the phase asks for them and the job's device is CUDA. What was
 * submitted is recorded in `<study>/slurm.json`; state is read from `squeue` (array tasks one
 * per line) and `sacct -j` (Slurm 22.05: compacted `A_[x-y%z]` rows are expanded; a task that
 * is in neither after a cancel counts as cancelled). `cancelStudySlurm` scancels exactly the
 * recorded arrays.
 *
 * Differences from the local executor: a failed task is not retried by us (Slurm requeues on
 * node failure; `rdarts study run` again resubmits what has not finished), and `afterok` on an
 * array waits for every task, so one failed search holds back the whole next phase.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { environment, readEnv } from '../../util/env.js';
import { acquireRunLock } from '../lock.js';
import { prepareStudyDir, CLI_PATH } from './local.js';
import type { LoadedStudy } from './file.js';
import { PHASES, type Job, type Phase } from './graph.js';
import { jobFinished, jobStarted } from './state.js';

export const SLURM_FILE = 'slurm.json';

export interface SlurmArray {
  phase: Phase;
  /** the array's job id */
  id: string;
  /** job ids of the study, by task index */
  tasks: string[];
  submitted: string;
}

export interface SlurmRecord {
  arrays: SlurmArray[];
}

export interface SlurmSubmitOptions {
  /** seconds before the time limit at which the task is told to requeue itself (default 120) */
  signalSeconds?: number;
  partition?: string;
  /** extra sbatch arguments */
  extra?: string[];
}

export function readSlurmRecord(dir: string): SlurmRecord {
  const p = join(dir, SLURM_FILE);
  if (!existsSync(p)) return { arrays: [] };
  return JSON.parse(readFileSync(p, 'utf8')) as SlurmRecord;
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new ConfigError(`${cmd} ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim()}`, 'is Slurm running and reachable from here (sinfo)?');
  }
}

/** The arguments that run (or continue) a job: its start command, or its resume command when its folder holds an unfinished run. */
export function jobArgv(studyDir: string, j: Job): string[] {
  return j.resumeArgv !== null && jobStarted(studyDir, j) ? j.resumeArgv : j.argv;
}

function usesCuda(j: Job): boolean {
  const d = j.configFile?.content.device;
  return typeof d === 'string' && d.startsWith('cuda');
}

/** Submit the study's unfinished jobs: one array per phase, chained by afterok. */
export function submitStudySlurm(studyDir: string, s: LoadedStudy, o: SlurmSubmitOptions = {}): SlurmRecord {
  const dir = resolve(studyDir);
  const lock = acquireRunLock(dir, { what: 'study driver (slurm submit)' });
  try {
    prepareStudyDir(dir, s);
    const rec = readSlurmRecord(dir);
    const live = slurmTaskStates(dir, rec);
    if ([...live.values()].some((st) => st === 'PENDING' || st === 'RUNNING' || st === 'REQUEUED' || st === 'CONFIGURING')) {
      throw new ConfigError(`${dir} has Slurm jobs queued or running already`, '`rdarts study status` shows them; `rdarts study cancel` removes them');
    }
    mkdirSync(join(dir, 'slurm'), { recursive: true });
    mkdirSync(join(dir, 'logs'), { recursive: true });
    let prev: string | null = null;
    for (const phase of PHASES) {
      const jobs = s.graph.jobs.filter((j) => j.phase === phase && !jobFinished(dir, j));
      if (!jobs.length) continue;
      const r = jobs[0]!.resources;
      const n = rec.arrays.length;
      const taskFile = `slurm/${phase}-${n}.tasks`;
      writeFileAtomic(join(dir, taskFile), jobs.map((j) => j.id).join('\n') + '\n');
      const gpus = (r.gpus ?? 0) > 0 && jobs.some(usesCuda) ? r.gpus! : 0;
      const args: string[] = [
        '--parsable',
        `--job-name=rdarts-${s.study.name}-${phase}`,
        `--array=0-${jobs.length - 1}`,
        '--requeue',
        `--signal=B:USR1@${o.signalSeconds ?? 120}`,
        `--chdir=${dir}`,
        `--output=${join(dir, 'logs', `slurm-${phase}-%A_%a.out`)}`,
        // a requeued task writes the same file again: keep what the run before the requeue wrote
        '--open-mode=append',
        ...(r.cpus ? [`--cpus-per-task=${r.cpus}`] : []),
        ...(r.mem ? [`--mem=${r.mem}`] : []),
        ...(r.time ? [`--time=${r.time}`] : []),
        ...(gpus ? [`--gres=gpu:${gpus}`] : []),
        ...(o.partition ? [`--partition=${o.partition}`] : []),
        ...(prev ? [`--dependency=afterok:${prev}`] : []),
        ...(o.extra ?? []),
        `--wrap=exec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_PATH)} study job ${JSON.stringify(dir)} --tasks ${taskFile} --index $SLURM_ARRAY_TASK_ID`,
      ];
      const id: string = sh('sbatch', args).trim().split(';')[0]!;
      rec.arrays.push({ phase, id, tasks: jobs.map((j) => j.id), submitted: new Date().toISOString() });
      writeFileAtomic(join(dir, SLURM_FILE), JSON.stringify(rec, null, 2) + '\n');
      prev = id;
    }
    return rec;
  } finally {
    lock.release();
  }
}

/** Expand `A_[x-y%z]`, `A_[1,3-5]` and `A_7` into task ids `A_x` … */
export function expandArrayIds(spec: string): string[] {
  const m = /^(\d+)_\[([^\]]+)\]$/.exec(spec);
  if (!m) return [spec];
  const out: string[] = [];
  for (const part of m[2]!.split('%')[0]!.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let k = a!; k <= (b ?? a!); k++) out.push(`${m[1]}_${k}`);
  }
  return out;
}

/** State of every recorded task (`<array>_<index>` → Slurm state) from squeue, then sacct. */
export function slurmTaskStates(studyDir: string, rec: SlurmRecord = readSlurmRecord(studyDir)): Map<string, string> {
  const out = new Map<string, string>();
  if (!rec.arrays.length) return out;
  const ids = rec.arrays.map((a) => a.id).join(',');
  const sacct = sh('sacct', ['-j', ids, '-X', '-n', '-P', '-o', 'JobID,State']);
  for (const line of sacct.split('\n')) {
    const [id, state] = line.trim().split('|');
    if (!id || !state) continue;
    for (const t of expandArrayIds(id)) out.set(t, state.split(' ')[0]!);
  }
  // squeue is current (sacct lags 1–3 s)
  let sq = '';
  try {
    sq = execFileSync('squeue', ['-h', '-r', '-j', ids, '-o', '%i|%T'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    /* all ids finished long ago: squeue refuses unknown ids */
  }
  for (const line of sq.split('\n')) {
    const [id, state] = line.trim().split('|');
    if (!id || !state) continue;
    for (const t of expandArrayIds(id)) out.set(t, state);
  }
  return out;
}

/** Study job id → Slurm state of its newest task. */
export function slurmJobStates(studyDir: string): Map<string, string> {
  const rec = readSlurmRecord(studyDir);
  const tasks = slurmTaskStates(studyDir, rec);
  const out = new Map<string, string>();
  for (const a of rec.arrays) a.tasks.forEach((job, i) => out.set(job, tasks.get(`${a.id}_${i}`) ?? 'UNKNOWN'));
  return out;
}

/** The study's tasks still in squeue. */
export function queuedTasks(studyDir: string): string[] {
  return queuedTasksOrNull(studyDir) ?? [];
}

/** The study's queued or running tasks, or null when squeue itself failed (slurmctld busy or down). */
function queuedTasksOrNull(studyDir: string): string[] | null {
  const rec = readSlurmRecord(studyDir);
  if (!rec.arrays.length) return [];
  let sq = '';
  try {
    sq = execFileSync('squeue', ['-h', '-r', '-j', rec.arrays.map((a) => a.id).join(','), '-o', '%i|%T|%r'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
  // a task whose dependency failed (DependencyNeverSatisfied) pends forever: it is not waited for
  return sq
    .split('\n')
    .map((l) => l.trim().split('|'))
    .filter(([id, st, why]) => id && st && why !== 'DependencyNeverSatisfied' && !['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE'].includes(st))
    .map(([id]) => id!);
}

/**
 * Wait until none of the study's tasks is queued or running: two answers of squeue in a row that
 * list none (a task being requeued can drop out of squeue for a moment), a failed squeue call
 * counting as no answer (a busy slurmctld times out; after 30 failures in a row it is an error).
 */
export async function waitSlurm(studyDir: string, pollMs = 2000, onTick?: (queued: string[]) => void): Promise<void> {
  let empty = 0;
  let failures = 0;
  for (;;) {
    const q = queuedTasksOrNull(studyDir);
    if (q === null) {
      if (++failures >= 30) throw new Error('squeue failed 30 times in a row: is slurmctld running? (scontrol ping)');
    } else {
      failures = 0;
      onTick?.(q);
      empty = q.length ? 0 : empty + 1;
      if (empty >= 2) return;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** scancel exactly the study's arrays; returns the ids cancelled. */
export function cancelStudySlurm(studyDir: string): string[] {
  const rec = readSlurmRecord(studyDir);
  const ids = rec.arrays.map((a) => a.id);
  if (ids.length) sh('scancel', ids);
  return ids;
}

/**
 * The body of one array task (`rdarts study job DIR --tasks FILE --index I`): run the job's
 * command as a child; on SIGUSR1 (the time limit is near) ask Slurm to requeue this task, so it
 * continues from its checkpoint; exit 0 only when the job's result.json exists.
 */
export async function runSlurmTask(studyDir: string, s: LoadedStudy, taskFile: string, index: number): Promise<number> {
  const dir = resolve(studyDir);
  const ids = readFileSync(join(dir, taskFile), 'utf8').trim().split('\n');
  const id = ids[index];
  const j = s.graph.jobs.find((x) => x.id === id);
  if (!j) throw new ConfigError(`${taskFile} has no task ${index} (or names a job the study does not have)`);
  if (jobFinished(dir, j)) return 0;
  const argv = jobArgv(dir, j);
  process.stderr.write(`== ${j.id}: rdarts ${argv.join(' ')}\n`);
  const child = spawn(process.execPath, [CLI_PATH, ...argv], { cwd: dir, stdio: 'inherit', env: { ...environment(), RDARTS_PLAIN_PROGRESS: '1' } });
  const task = readEnv().slurmTask;
  let requeue = false;
  // the job is stopped first, then requeued: a job left running would still hold its folder's
  // lock when the task runs again (seen here: Slurm's requeue did not kill the batch shell's
  // child). SIGKILL, because a training loop does not yield to a SIGTERM handler until its epoch
  // ends; checkpoints are written atomically and a resume after SIGKILL is exact (tested).
  process.on('SIGUSR1', () => {
    process.stderr.write(`== time limit near: stopping the job, then requeueing ${task} (it resumes from its last checkpoint)\n`);
    requeue = true;
    child.kill('SIGKILL');
  });
  process.on('SIGTERM', () => child.kill('SIGKILL'));
  const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
  if (requeue && task && !jobFinished(dir, j)) {
    execFileSync('scontrol', ['requeue', task], { stdio: 'inherit' });
    return 0;
  }
  return jobFinished(dir, j) ? 0 : code || 1;
}
