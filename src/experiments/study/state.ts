/**
 * The state of a study's jobs, read from their run folders (the source of truth) and the
 * driver's jobs.json (attempts, failures with their log tail, scheduler ids):
 *   finished  the job's folder holds result.json
 *   running   its folder is locked by a live writer (experiments/lock.ts)
 *   failed    jobs.json says its retries are spent (and it has not finished since)
 *   blocked   a job it depends on failed
 *   partial   its folder holds an unfinished run (it will be resumed)
 *   pending   nothing yet
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/fs.js';
import { isLocked } from '../lock.js';
import { STATE_FILE } from './file.js';
import type { Job, JobGraph, Phase } from './graph.js';
import { PHASES } from './graph.js';

export type JobState = 'finished' | 'running' | 'failed' | 'blocked' | 'partial' | 'pending';

export interface JobRecord {
  attempts: number;
  failed: boolean;
  /** last lines of the failed attempt's log */
  logTail: string | null;
  exit: string | null;
  executor: 'local' | 'slurm' | null;
  /** Slurm job id (array job id and task) when submitted there */
  slurm: string | null;
  updated: string;
}

export interface StudyState {
  jobs: Record<string, JobRecord>;
}

export function readState(dir: string): StudyState {
  const p = join(dir, STATE_FILE);
  if (!existsSync(p)) return { jobs: {} };
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as StudyState;
  } catch {
    return { jobs: {} };
  }
}

export function writeState(dir: string, s: StudyState): void {
  writeFileAtomic(join(dir, STATE_FILE), JSON.stringify(s, null, 2) + '\n');
}

export function jobFinished(studyDir: string, j: Job): boolean {
  return existsSync(join(studyDir, j.dir, 'result.json'));
}

export function jobStarted(studyDir: string, j: Job): boolean {
  return existsSync(join(studyDir, j.dir, 'config.json'));
}

export interface JobStatus {
  id: string;
  phase: Phase;
  state: JobState;
  attempts: number;
  /** epochs written so far / epochs configured (search and train jobs) */
  progress: { done: number; total: number | null } | null;
  logTail: string | null;
}

function progressOf(studyDir: string, j: Job): JobStatus['progress'] {
  const metrics = join(studyDir, j.dir, 'metrics.jsonl');
  const cfgPath = join(studyDir, j.dir, 'config.json');
  if (!existsSync(metrics)) return null;
  let done = 0;
  for (const l of readFileSync(metrics, 'utf8').split('\n')) if (l.includes('"kind":"epoch"')) done++;
  let total: number | null = null;
  try {
    total = (JSON.parse(readFileSync(cfgPath, 'utf8')) as { epochs?: number }).epochs ?? null;
  } catch {
    /* not yet written */
  }
  return { done, total };
}

/** Every job's state, in graph order. */
export function studyStatus(studyDir: string, g: JobGraph): JobStatus[] {
  const st = readState(studyDir);
  const states = new Map<string, JobState>();
  const out: JobStatus[] = [];
  for (const j of g.jobs) {
    const rec = st.jobs[j.id];
    let state: JobState;
    if (jobFinished(studyDir, j)) state = 'finished';
    else if (existsSync(join(studyDir, j.dir)) && isLocked(join(studyDir, j.dir))) state = 'running';
    else if (rec?.failed) state = 'failed';
    else if (j.deps.some((d) => states.get(d) === 'failed' || states.get(d) === 'blocked')) state = 'blocked';
    else if (jobStarted(studyDir, j)) state = 'partial';
    else state = 'pending';
    states.set(j.id, state);
    out.push({ id: j.id, phase: j.phase, state, attempts: rec?.attempts ?? 0, progress: j.phase === 'select' ? null : progressOf(studyDir, j), logTail: state === 'failed' ? (rec?.logTail ?? null) : null });
  }
  return out;
}

/** Counts of each state per phase. */
export function summarize(statuses: JobStatus[]): Record<Phase, Record<JobState, number>> {
  const zero = (): Record<JobState, number> => ({ finished: 0, running: 0, partial: 0, pending: 0, failed: 0, blocked: 0 });
  const out = Object.fromEntries(PHASES.map((p) => [p, zero()])) as Record<Phase, Record<JobState, number>>;
  for (const s of statuses) out[s.phase][s.state]++;
  return out;
}
