/**
 * The results store of a study (issue 9): one SQLite file (`<study>/store.sqlite`, better-sqlite3
 * 12.x, WAL mode so a driver writes while `status` reads) indexing what the run folders hold:
 *
 *   studies      name, folder, the study text
 *   jobs         every job of the graph: phase, benchmark, space, dataset, method, seed, grid
 *                value, folder, state, attempts
 *   configs      each job's config.json
 *   metrics      each metrics.jsonl line (kind, epoch, the line as JSON)
 *   hessian      the λ_max measurements (epoch, λ_max, the line)
 *   genotypes    each genotypes.jsonl line
 *   evaluations  each result.json: test error (train: testError; select: selectedTestError),
 *                validation error, the whole record
 *
 * Run folders stay the source of truth: `indexJob` (re)writes one job's rows from its folder,
 * the driver calls it whenever a job settles, and `reindexStudy` rebuilds the whole store from
 * the folders (`rdarts study reindex`) — the same function row by row, so the two agree.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from './study/graph.js';
import { STUDY_FILE, type LoadedStudy } from './study/file.js';
import { studyStatus, type JobStatus } from './study/state.js';
import { readJsonObjectOrNull } from './run-format.js';

export const STORE_FILE = 'store.sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS studies (name TEXT PRIMARY KEY, dir TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (study TEXT NOT NULL, id TEXT NOT NULL, phase TEXT NOT NULL, benchmark TEXT NOT NULL, space TEXT NOT NULL,
  dataset TEXT NOT NULL, method TEXT NOT NULL, search_method TEXT NOT NULL, seed INTEGER, grid_parameter TEXT, grid_value REAL,
  dir TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, PRIMARY KEY (study, id));
CREATE TABLE IF NOT EXISTS configs (study TEXT NOT NULL, job TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (study, job));
CREATE TABLE IF NOT EXISTS metrics (study TEXT NOT NULL, job TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT, epoch INTEGER, json TEXT NOT NULL, PRIMARY KEY (study, job, seq));
CREATE TABLE IF NOT EXISTS hessian (study TEXT NOT NULL, job TEXT NOT NULL, seq INTEGER NOT NULL, epoch INTEGER, max_eigenvalue REAL, json TEXT NOT NULL, PRIMARY KEY (study, job, seq));
CREATE TABLE IF NOT EXISTS genotypes (study TEXT NOT NULL, job TEXT NOT NULL, seq INTEGER NOT NULL, epoch INTEGER, json TEXT NOT NULL, PRIMARY KEY (study, job, seq));
CREATE TABLE IF NOT EXISTS evaluations (study TEXT NOT NULL, job TEXT NOT NULL, phase TEXT NOT NULL, test_error REAL, valid_error REAL, json TEXT NOT NULL, PRIMARY KEY (study, job));
`;
export const STORE_TABLES = ['studies', 'jobs', 'configs', 'metrics', 'hessian', 'genotypes', 'evaluations'] as const;

const readJson = readJsonObjectOrNull;

function readLines(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  const out: Array<Record<string, unknown>> = [];
  for (const l of readFileSync(path, 'utf8').split('\n')) {
    if (!l.trim()) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      /* a line being written */
    }
  }
  return out;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export class StudyStore {
  readonly db: Database.Database;
  constructor(readonly path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  /** The study's row: its name, folder and the study.yaml the folder holds. */
  putStudy(s: LoadedStudy, dir: string): void {
    const p = join(dir, STUDY_FILE);
    this.db.prepare('INSERT OR REPLACE INTO studies (name, dir, text) VALUES (?, ?, ?)').run(s.study.name, dir, existsSync(p) ? readFileSync(p, 'utf8') : s.text);
  }

  /** (Re)write one job's rows from its run folder. */
  indexJob(study: string, studyDir: string, j: Job, status: Pick<JobStatus, 'state' | 'attempts'>): void {
    const dir = join(studyDir, j.dir);
    const tx = this.db.transaction(() => {
      for (const t of ['configs', 'metrics', 'hessian', 'genotypes', 'evaluations']) this.db.prepare(`DELETE FROM ${t} WHERE study = ? AND job = ?`).run(study, j.id);
      this.db
        .prepare('INSERT OR REPLACE INTO jobs (study, id, phase, benchmark, space, dataset, method, search_method, seed, grid_parameter, grid_value, dir, state, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(study, j.id, j.phase, j.benchmark, j.space, j.dataset, j.method, j.searchMethod, j.seed, j.grid?.parameter ?? null, j.grid?.value ?? null, j.dir, status.state, status.attempts);
      const cfg = existsSync(join(dir, 'config.json')) ? readFileSync(join(dir, 'config.json'), 'utf8') : null;
      if (cfg !== null) this.db.prepare('INSERT INTO configs (study, job, json) VALUES (?, ?, ?)').run(study, j.id, cfg);
      const m = this.db.prepare('INSERT INTO metrics (study, job, seq, kind, epoch, json) VALUES (?, ?, ?, ?, ?, ?)');
      const h = this.db.prepare('INSERT INTO hessian (study, job, seq, epoch, max_eigenvalue, json) VALUES (?, ?, ?, ?, ?, ?)');
      readLines(join(dir, 'metrics.jsonl')).forEach((l, i) => {
        m.run(study, j.id, i, typeof l.kind === 'string' ? l.kind : null, num(l.epoch), JSON.stringify(l));
        if (l.kind === 'hessian') h.run(study, j.id, i, num(l.epoch), num(l.maxEigenvalue), JSON.stringify(l));
      });
      const g = this.db.prepare('INSERT INTO genotypes (study, job, seq, epoch, json) VALUES (?, ?, ?, ?, ?)');
      readLines(join(dir, 'genotypes.jsonl')).forEach((l, i) => g.run(study, j.id, i, num(l.epoch), JSON.stringify(l)));
      const r = readJson(join(dir, 'result.json'));
      if (r) {
        const test = j.phase === 'select' ? num(r.selectedTestError) : num(r.testError);
        const valid = num(r.validError) ?? (typeof r.finalValid === 'object' && r.finalValid ? (num((r.finalValid as { acc?: unknown }).acc) !== null ? 1 - (r.finalValid as { acc: number }).acc : null) : null);
        this.db.prepare('INSERT INTO evaluations (study, job, phase, test_error, valid_error, json) VALUES (?, ?, ?, ?, ?, ?)').run(study, j.id, j.phase, test, valid, JSON.stringify(r));
      }
    });
    tx();
  }

  /** Every row of every table, in key order (tests compare a live store with a rebuilt one). */
  dump(): Record<string, unknown[]> {
    const out: Record<string, unknown[]> = {};
    const order: Record<string, string> = { studies: 'name', jobs: 'study, id', configs: 'study, job', metrics: 'study, job, seq', hessian: 'study, job, seq', genotypes: 'study, job, seq', evaluations: 'study, job' };
    for (const t of STORE_TABLES) out[t] = this.db.prepare(`SELECT * FROM ${t} ORDER BY ${order[t]}`).all();
    return out;
  }
}

export function storePath(studyDir: string): string {
  return join(studyDir, STORE_FILE);
}

/** Index every job of the study from its folder into `store`. */
export function indexStudy(store: StudyStore, studyDir: string, s: LoadedStudy): void {
  store.putStudy(s, studyDir);
  const st = new Map(studyStatus(studyDir, s.graph).map((x) => [x.id, x]));
  for (const j of s.graph.jobs) store.indexJob(s.study.name, studyDir, j, st.get(j.id)!);
}

/** Rebuild the study's store from its run folders (`rdarts study reindex`); returns its path. */
export function reindexStudy(studyDir: string, s: LoadedStudy, path = storePath(studyDir)): string {
  for (const p of [path, `${path}-wal`, `${path}-shm`]) rmSync(p, { force: true });
  const store = new StudyStore(path);
  try {
    indexStudy(store, studyDir, s);
  } finally {
    store.close();
  }
  return path;
}
