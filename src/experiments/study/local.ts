/**
 * The local executor: a pool of N worker processes on this machine, each an `rdarts` command
 * (the job's own, in the study folder) with cores/N libtorch threads. A job whose process dies
 * before its result.json exists is resumed from its checkpoint (`rdarts search|train --resume`,
 * or the same `rdarts select`, which continues itself) up to `retries` more times; then it is
 * marked failed with the tail of its log, the jobs that need it are blocked, and the rest of the
 * study goes on. The driver holds the study folder's lock (a second driver is refused); run
 * again, it skips every finished job, resumes partial ones, and waits for a job that another
 * process (a driver killed earlier left its worker running) still holds. The same pool
 * (`runJobsLocal`) runs the members of an R-DARTS grid (experiments/grid.ts).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { cpuBudget, readCpuLimits, threadsPerWorker } from '../../util/cpus.js';
import { environment } from '../../util/env.js';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { ConfigError } from '../../errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { acquireRunLock, isLocked } from '../lock.js';
import { STUDY_FILE, type LoadedStudy } from './file.js';
import type { Job } from './graph.js';
import { jobFinished, jobStarted, readState, studyStatus, writeState, type JobRecord, type StudyState } from './state.js';
import { indexStudy, storePath, StudyStore } from '../store.js';

export const CLI_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../../cli/main.js');

export type StudyEvent =
  | { type: 'start'; job: string; attempt: number; resume: boolean; argv: string[] }
  | { type: 'finished'; job: string }
  | { type: 'retry'; job: string; attempt: number; exit: string }
  | { type: 'failed'; job: string; exit: string; logTail: string }
  | { type: 'blocked'; job: string; by: string }
  | { type: 'skipped'; job: string }
  | { type: 'waiting'; job: string };

export interface LocalOptions {
  workers?: number;
  /** further attempts after the first (default 2) */
  retries?: number;
  /** cores shared among the workers (default: this process's available parallelism) */
  cores?: number;
  onEvent?: (e: StudyEvent) => void;
  /** extra environment of the workers (tests) */
  env?: NodeJS.ProcessEnv;
  /** the folder the workers run in (default: the study folder, where study jobs' paths are relative to) */
  cwd?: string;
}

export interface StudyRunResult {
  finished: string[];
  failed: string[];
  blocked: string[];
}

export function logPath(studyDir: string, j: Job): string {
  return join(studyDir, 'logs', `${j.id.replace(/\//g, '__')}.log`);
}

/**
 * Make (or check) the study folder: study.yaml (the study with absolute data locations; the
 * original text beside it as study.source.yaml) and every job's config file. A folder that holds
 * another study is refused.
 */
export function prepareStudyDir(dir: string, s: LoadedStudy): void {
  mkdirSync(dir, { recursive: true });
  const normal = `# ${s.study.name}: written by rdarts study from ${s.path}; the original text is ${STUDY_FILE.replace('.yaml', '.source.yaml')}\n` + toYaml(s.study);
  const p = join(dir, STUDY_FILE);
  if (existsSync(p) && resolve(p) !== resolve(s.path)) {
    const old = readFileSync(p, 'utf8');
    if (old.replace(/^#.*\n/, '') !== normal.replace(/^#.*\n/, '')) {
      throw new ConfigError(`${dir} holds another study (its ${STUDY_FILE} differs from ${s.path})`, `continue it with \`rdarts study run ${dir}\`, or choose another --out`);
    }
  } else if (!existsSync(p)) {
    writeFileAtomic(p, normal);
    writeFileAtomic(join(dir, STUDY_FILE.replace('.yaml', '.source.yaml')), s.text);
  }
  writeJobConfigs(dir, s.graph.jobs);
}

/** Write each job's config file under `dir` (rewritten only when its text differs). */
export function writeJobConfigs(dir: string, jobs: readonly Job[]): void {
  for (const j of jobs) {
    if (!j.configFile) continue;
    const cp = join(dir, j.configFile.path);
    const text = JSON.stringify(j.configFile.content, null, 2) + '\n';
    if (!existsSync(cp) || readFileSync(cp, 'utf8') !== text) {
      mkdirSync(dirname(cp), { recursive: true });
      writeFileAtomic(cp, text);
    }
  }
}

function tail(path: string, lines = 20): string {
  if (!existsSync(path)) return '';
  const all = readFileSync(path, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Run the study's jobs on this machine until every job has finished, failed or is blocked. */
export async function runStudyLocal(studyDir: string, s: LoadedStudy, o: LocalOptions = {}): Promise<StudyRunResult> {
  const dir = resolve(studyDir);
  const lock = acquireRunLock(dir, { what: 'study driver' });
  try {
    prepareStudyDir(dir, s);
    const store = new StudyStore(storePath(dir));
    try {
      indexStudy(store, dir, s);
      const settle = (id: string): void => {
        const st = studyStatus(dir, s.graph).find((x) => x.id === id)!;
        store.indexJob(s.study.name, dir, s.graph.jobs.find((j) => j.id === id)!, st);
      };
      return await runJobsLocal(dir, s.graph.jobs, o, settle);
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
}

/**
 * The worker pool itself, for any list of jobs whose folders lie under `dir` (a study's, or an
 * R-DARTS grid's members: experiments/grid.ts): runs every job whose dependencies have finished,
 * at most `workers` at a time, each its own `rdarts` process in `dir` with cores/workers threads
 * and its output in `dir/logs/<job>.log`; resumes a job that died, up to `retries` more times;
 * records attempts and failures in `dir/jobs.json`; calls `settle` whenever a job's state
 * settles. The caller holds `dir`'s lock and has written the jobs' config files.
 */
export async function runJobsLocal(dir: string, jobs: readonly Job[], o: LocalOptions = {}, settle: (id: string) => void = () => {}): Promise<StudyRunResult> {
  const workers = Math.max(1, o.workers ?? 1);
  const retries = o.retries ?? 2;
  const cores = o.cores ?? cpuBudget(readCpuLimits()); // the CPUs this process may use (docs/threads.md)
  const threads = threadsPerWorker(cores, workers);
  const emit = o.onEvent ?? (() => {});
  const state: StudyState = readState(dir);
  const save = (): void => writeState(dir, state);
  const rec = (id: string): JobRecord => (state.jobs[id] ??= { attempts: 0, failed: false, logTail: null, exit: null, executor: 'local', slurm: null, updated: new Date().toISOString() });

  const done = new Set<string>();
  const failed = new Set<string>();
  const blocked = new Set<string>();
  const running = new Map<string, Promise<void>>();
  const waiting = new Set<string>();
  for (const j of jobs) {
    if (jobFinished(dir, j)) {
      done.add(j.id);
      emit({ type: 'skipped', job: j.id });
    } else if (state.jobs[j.id]?.failed) {
      // a new driver gives failed jobs a new set of attempts
      state.jobs[j.id]!.failed = false;
      state.jobs[j.id]!.attempts = 0;
    }
  }
  save();

  const launch = (j: Job): Promise<void> => {
    const r = rec(j.id);
    r.attempts++;
    r.updated = new Date().toISOString();
    const resume = j.resumeArgv !== null && jobStarted(dir, j);
    const argv = resume ? j.resumeArgv! : j.argv;
    emit({ type: 'start', job: j.id, attempt: r.attempts, resume, argv });
    const log = logPath(dir, j);
    mkdirSync(dirname(log), { recursive: true });
    appendFileSync(log, `== attempt ${r.attempts} ${new Date().toISOString()}: rdarts ${argv.join(' ')}\n`);
    save();
    return new Promise<void>((res) => {
      // the worker writes straight into its log, so it outlives a killed driver
      const fd = openSync(log, 'a');
      const child = spawn(process.execPath, [CLI_PATH, ...argv], {
        cwd: o.cwd ?? dir,
        env: { ...environment(), RDARTS_THREADS: String(threads), OMP_NUM_THREADS: String(threads), RDARTS_PLAIN_PROGRESS: '1', RDARTS_BUSY_WARNING: '0', ...(o.env ?? {}) },
        stdio: ['ignore', fd, fd],
      });
      closeSync(fd);
      child.on('error', (e) => appendFileSync(log, `spawn error: ${e.message}\n`));
      child.on('close', (code, signal) => {
        const exit = signal ? `killed by ${signal}` : `exit code ${code}`;
        appendFileSync(log, `== attempt ${r.attempts}: ${exit}\n`);
        r.exit = exit;
        r.updated = new Date().toISOString();
        if (jobFinished(dir, j)) {
          done.add(j.id);
          r.logTail = null;
          emit({ type: 'finished', job: j.id });
        } else if (r.attempts <= retries) {
          emit({ type: 'retry', job: j.id, attempt: r.attempts, exit });
        } else {
          failed.add(j.id);
          r.failed = true;
          r.logTail = tail(log);
          emit({ type: 'failed', job: j.id, exit, logTail: r.logTail });
        }
        save();
        settle(j.id);
        res();
      });
    });
  };

  for (;;) {
    // block the jobs whose dependencies failed
    for (const j of jobs) {
      if (done.has(j.id) || failed.has(j.id) || blocked.has(j.id)) continue;
      const bad = j.deps.find((d) => failed.has(d) || blocked.has(d));
      if (bad) {
        blocked.add(j.id);
        emit({ type: 'blocked', job: j.id, by: bad });
        settle(j.id);
      }
    }
    const open = jobs.filter((j) => !done.has(j.id) && !failed.has(j.id) && !blocked.has(j.id));
    if (open.length === 0 && running.size === 0) break;
    const ready = open.filter((j) => !running.has(j.id) && j.deps.every((d) => done.has(d)));
    let started = false;
    for (const j of ready) {
      if (running.size >= workers) break;
      // a job another process still writes (a worker of a killed driver): wait for it
      if (existsSync(join(dir, j.dir)) && isLocked(join(dir, j.dir))) {
        if (!waiting.has(j.id)) emit({ type: 'waiting', job: j.id });
        waiting.add(j.id);
        continue;
      }
      if (waiting.delete(j.id) && jobFinished(dir, j)) {
        done.add(j.id);
        emit({ type: 'finished', job: j.id });
        settle(j.id);
        continue;
      }
      const p = launch(j).finally(() => running.delete(j.id));
      running.set(j.id, p);
      started = true;
    }
    if (running.size > 0) await raceTimeout([...running.values()], waiting.size ? 500 : 60_000);
    else if (!started) {
      if (waiting.size === 0) break; // nothing can run (should not happen: deps are in the graph)
      await sleep(500);
    }
  }
  save();
  return { finished: [...done], failed: [...failed], blocked: [...blocked] };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The first of `ps` to settle, or `ms` milliseconds (the timer is cleared either way). */
async function raceTimeout(ps: Array<Promise<void>>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  try {
    await Promise.race([...ps, new Promise<void>((r) => (t = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(t);
  }
}
