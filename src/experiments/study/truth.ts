/**
 * The S5 ground truth as a study (docs/s5.md#rdarts-s5-truth, `rdarts s5 truth`): every genotype
 * of the one-node space × k seeds trained from scratch, each job one run folder and one
 * `rdarts train --genotype …` command (the `phases.truth` jobs of study/graph.ts), run by the
 * local pool or Slurm like any study; when every job has finished, the table (analysis/s5.ts,
 * written in the JSON and CSV forms of experiments/s5-truth.ts) is assembled from the folders
 * and indexed in the study's store (tables `s5_truth`, `s5_truth_tables`).
 *
 * Per genotype and seed: the validation error is the training's own (evaluation 'validation':
 * the last 1 − trainPortion of the training images, after the last epoch); the test error is
 * measured here once the training has finished, with its final weights on the test split
 * (`rdarts test`, its `testSubset`), and cached in `truth/tests/<job>.json`, so running the
 * collection again evaluates nothing twice. Rerunning the study retrains nothing finished
 * (the executors skip every folder that holds result.json and resume partial ones).
 *
 * Also here: the S5 regret lines of a study's searches, for the study report's Figure 2.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { ConfigError } from '../../errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { genotypeFromJSON, genotypeToJSON, getSpace, type Genotype } from '../../nas/index.js';
import { enumerateOneNodeGenotypes, s5Key, truthEntry, type TruthEntry, type TruthTable } from '../../analysis/s5.js';
import { s5Figure2Spec, type Figure2Point, type TopLevelSpec } from '../../analysis/plots/index.js';
import { readJsonObjectOrNull } from '../run-format.js';
import { testTrainedRun } from '../train-run.js';
import { truthFromJSON, truthToCSV, truthToJSON } from '../s5-truth.js';
import { StudyStore, storePath } from '../store.js';
import type { LoadedStudy } from './file.js';
import type { Job, JobGraph } from './graph.js';
import { jobFinished } from './state.js';
import { benchmarkName } from './schema.js';

/**
 * Named training protocols of the ground truth. The paper does not give S5's (paper-spec §3.6:
 * "not recoverable"), so both are ours:
 *   mini   Fashion-MNIST, sized so that 81 × 2 trainings finish in about an hour on the 2-core
 *          development VM (`--workers 2`; per-job time measured, docs/s5.md#the-shipped-table);
 *   small  the RobustDARTS small evaluation network (8 cells, 16 channels, App. C) for 100
 *          epochs (the `short` preset's length), 3 seeds as the paper's S5 — for CIFAR-10 on GPUs.
 */
export interface TruthProtocol {
  description: string;
  dataset: string;
  seeds: number[];
  /** training fields (`rdarts train --config`); evaluation is always 'validation' */
  config: Record<string, unknown>;
}

export const TRUTH_PROTOCOLS: Record<string, TruthProtocol> = {
  mini: {
    description: 'Fashion-MNIST, 5 cells × 8 channels, 3 epochs on a 4,000-image subset (3,200 train / 800 validation), test on 2,000 test images; 2 seeds',
    dataset: 'fashion-mnist',
    seeds: [1, 2],
    config: { layers: 5, channels: 8, epochs: 3, batchSize: 64, lr: 0.05, subset: 4000, testSubset: 2000, trainPortion: 0.8, auxiliary: false, cutout: false, dropPath: 0 },
  },
  small: {
    description: 'the RobustDARTS small evaluation network (8 cells, 16 channels) for 100 epochs, 80/20 train/validation split, full test set; 3 seeds',
    dataset: 'cifar10',
    seeds: [1, 2, 3],
    config: { layers: 8, channels: 16, epochs: 100, batchSize: 96, trainPortion: 0.8, auxiliary: false },
  },
};

export interface TruthStudyOptions {
  protocol: string;
  dataset?: string;
  dataDir?: string;
  seeds?: number[];
  /** training fields over the protocol's */
  config?: Record<string, unknown>;
  /** only these genotypes (S5 keys) */
  genotypes?: string[];
  /** only the first n genotypes of the enumeration (tests, partial tables) */
  limit?: number;
  resources?: Record<string, unknown>;
  /** the command that reproduces the study (without its folder), kept as the study's description */
  command?: string;
  name?: string;
}

/** The study file (YAML text) of a ground-truth study. */
export function truthStudyText(o: TruthStudyOptions): string {
  const p = TRUTH_PROTOCOLS[o.protocol];
  if (!p) throw new ConfigError(`unknown ground-truth protocol '${o.protocol}'`, `known protocols: ${Object.keys(TRUTH_PROTOCOLS).join(', ')} (docs/s5.md)`);
  if (o.genotypes && o.limit) throw new ConfigError('--only and --limit together', 'pass one of them');
  const dataset = o.dataset ?? p.dataset;
  let genotypes = o.genotypes;
  if (o.limit) genotypes = enumerateOneNodeGenotypes(getSpace('s5')).slice(0, o.limit).map(s5Key);
  const study = {
    name: o.name ?? `s5-truth-${dataset}-${o.protocol}`,
    ...(o.command ? { description: o.command } : {}),
    source: `docs/s5.md, ground-truth protocol '${o.protocol}': ${p.description}`,
    benchmarks: [{ space: 's5', dataset, ...(o.dataDir ? { dataDir: o.dataDir } : {}) }],
    seeds: o.seeds ?? p.seeds,
    ...(o.resources ? { resources: o.resources } : {}),
    phases: { truth: { config: { ...p.config, ...(o.config ?? {}) }, ...(genotypes ? { genotypes } : {}) } },
  };
  return toYaml(study);
}

/** The truth jobs of a graph (phases.truth). */
export function truthJobs(g: JobGraph): Job[] {
  return g.jobs.filter((j) => j.method === 'truth' && j.phase === 'train');
}

const safeId = (id: string): string => id.replace(/\//g, '__');

export function truthTablePaths(studyDir: string, benchmark: string): { json: string; csv: string } {
  return { json: join(studyDir, 'truth', `${benchmark}.json`), csv: join(studyDir, 'truth', `${benchmark}.csv`) };
}

function testCachePath(studyDir: string, j: Job): string {
  return join(studyDir, 'truth', 'tests', `${safeId(j.id)}.json`);
}

export interface TruthTest {
  job: string;
  testError: number;
  images: number;
  weights: string;
}

/** The test error of a finished truth job: from the cache, else measured now (and cached). */
export async function truthTestError(studyDir: string, j: Job): Promise<TruthTest> {
  const cache = testCachePath(studyDir, j);
  const c = readJsonObjectOrNull(cache);
  if (c && typeof c.testError === 'number') return c as unknown as TruthTest;
  const r = await testTrainedRun(join(studyDir, j.dir));
  const t: TruthTest = { job: j.id, testError: r.error, images: r.images, weights: r.weights };
  writeFileAtomic(cache, JSON.stringify(t, null, 2) + '\n');
  return t;
}

export interface CollectedTruth {
  benchmark: string;
  table: TruthTable;
  files: { json: string; csv: string };
}

export interface CollectOptions {
  onNote?: (message: string) => void;
}

/**
 * Assemble the table of each benchmark from its finished truth jobs and write it (JSON and CSV
 * under `truth/`). Refused while a truth job has not finished (its id is named).
 */
export async function collectTruth(studyDir: string, s: LoadedStudy, o: CollectOptions = {}): Promise<CollectedTruth[]> {
  const jobs = truthJobs(s.graph);
  if (!jobs.length) throw new ConfigError(`study ${s.study.name} has no truth phase`, 'a ground-truth study is made by `rdarts s5 truth`');
  const open = jobs.filter((j) => !jobFinished(studyDir, j));
  if (open.length) throw new ConfigError(`${open.length} of ${jobs.length} ground-truth trainings have not finished (first: ${open[0]!.id})`, `run \`rdarts s5 truth ${studyDir}\` (or \`rdarts study run ${studyDir}\`) until they have; \`rdarts study status ${studyDir}\` lists them`);
  const out: CollectedTruth[] = [];
  for (const b of s.study.benchmarks) {
    const bname = benchmarkName(b);
    const mine = jobs.filter((j) => j.benchmark === bname);
    if (!mine.length) continue;
    const byGenotype = new Map<string, { genotype: Genotype; runs: Array<{ testError: number; validError: number; parameters: number }> }>();
    let tested = 0;
    for (const j of mine) {
      const dir = join(studyDir, j.dir);
      const r = readJsonObjectOrNull(join(dir, 'result.json'));
      if (!r || typeof r.validError !== 'number' || typeof r.parameters !== 'number') throw new ConfigError(`${dir}/result.json holds no validation error`, 'the folder was not written by this study\'s truth job; remove it and run the study again');
      const g = genotypeFromJSON(r.genotype, `${dir}/result.json`);
      const t = await truthTestError(studyDir, j);
      tested++;
      if (tested % 20 === 0) o.onNote?.(`tested ${tested}/${mine.length} trained networks of ${bname}`);
      const key = s5Key(g);
      const e = byGenotype.get(key) ?? { genotype: g, runs: [] };
      e.runs.push({ testError: t.testError, validError: r.validError, parameters: r.parameters });
      byGenotype.set(key, e);
    }
    const entries: TruthEntry[] = [...byGenotype.values()].map((e) => truthEntry(e.genotype, e.runs));
    const table: TruthTable = { space: b.space, dataset: b.dataset, protocol: protocolRecord(s, studyDir, mine), entries };
    const files = truthTablePaths(studyDir, bname);
    writeTruthTable(files.json, table);
    out.push({ benchmark: bname, table, files });
  }
  return out;
}

/** Write a table as JSON at `jsonPath` and as CSV beside it (same name, .csv). */
export function writeTruthTable(jsonPath: string, t: TruthTable): { json: string; csv: string } {
  const csv = jsonPath.replace(/\.json$/i, '') + '.csv';
  writeFileAtomic(jsonPath, truthToJSON(t));
  writeFileAtomic(csv, truthToCSV(t));
  return { json: jsonPath, csv };
}

/** What the table's `protocol` says: the training fields, seeds, the splits, the study and its command. */
function protocolRecord(s: LoadedStudy, studyDir: string, jobs: Job[]): Record<string, unknown> {
  const content = { ...(jobs[0]!.configFile?.content ?? {}) };
  for (const k of ['dataDir', 'seed', 'evaluation', 'space', 'dataset']) delete content[k];
  const seeds = [...new Set(jobs.map((j) => j.seed))];
  const wall = jobs.map((j) => readJsonObjectOrNull(join(studyDir, j.dir, 'result.json'))?.wallSeconds).filter((x): x is number => typeof x === 'number');
  return {
    study: s.study.name,
    ...(s.study.description ? { command: s.study.description } : {}),
    ...(s.study.source ? { source: s.study.source } : {}),
    seeds,
    training: content,
    validation: 'the validation error of each training: its last (1 − trainPortion) of the training images (after the subset), after the last epoch',
    test: 'the final weights on the test split (its testSubset when set), measured after the training',
    trainings: jobs.length,
    meanTrainingSeconds: wall.length ? Math.round((10 * wall.reduce((a, b) => a + b, 0)) / wall.length) / 10 : null,
  };
}

const TRUTH_SCHEMA = `
CREATE TABLE IF NOT EXISTS s5_truth_tables (study TEXT NOT NULL, benchmark TEXT NOT NULL, space TEXT NOT NULL, dataset TEXT NOT NULL, file TEXT NOT NULL,
  entries INTEGER NOT NULL, best_key TEXT, best_test_error REAL, protocol TEXT NOT NULL, PRIMARY KEY (study, benchmark));
CREATE TABLE IF NOT EXISTS s5_truth (study TEXT NOT NULL, benchmark TEXT NOT NULL, key TEXT NOT NULL, normal_0 TEXT NOT NULL, normal_1 TEXT NOT NULL,
  reduce_0 TEXT NOT NULL, reduce_1 TEXT NOT NULL, test_error_mean REAL NOT NULL, test_error_std REAL NOT NULL, valid_error_mean REAL NOT NULL,
  valid_error_std REAL NOT NULL, parameters INTEGER NOT NULL, seeds INTEGER NOT NULL, test_rank INTEGER NOT NULL, genotype TEXT NOT NULL,
  PRIMARY KEY (study, benchmark, key));
`;

const opBySource = (genes: Genotype['normal'], j: number): string => genes.find(([, s]) => s === j)![0];

/** (Re)write a benchmark's table in the store: one row per genotype (with its test-error rank, 1 = best) and one for the table. */
export function indexTruthTable(store: StudyStore, study: string, c: CollectedTruth): void {
  store.db.exec(TRUTH_SCHEMA);
  const tx = store.db.transaction(() => {
    store.db.prepare('DELETE FROM s5_truth WHERE study = ? AND benchmark = ?').run(study, c.benchmark);
    const es = c.table.entries;
    const best = es.reduce<TruthEntry | null>((a, e) => (a === null || e.testError.mean < a.testError.mean ? e : a), null);
    store.db
      .prepare('INSERT OR REPLACE INTO s5_truth_tables (study, benchmark, space, dataset, file, entries, best_key, best_test_error, protocol) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(study, c.benchmark, c.table.space, c.table.dataset, c.files.json, es.length, best?.key ?? null, best?.testError.mean ?? null, JSON.stringify(c.table.protocol));
    const ins = store.db.prepare(
      'INSERT INTO s5_truth (study, benchmark, key, normal_0, normal_1, reduce_0, reduce_1, test_error_mean, test_error_std, valid_error_mean, valid_error_std, parameters, seeds, test_rank, genotype) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const e of es) {
      const rank = 1 + es.filter((x) => x.testError.mean < e.testError.mean).length;
      const g = e.genotype;
      ins.run(study, c.benchmark, e.key, opBySource(g.normal, 0), opBySource(g.normal, 1), opBySource(g.reduce, 0), opBySource(g.reduce, 1), e.testError.mean, e.testError.std, e.validError.mean, e.validError.std, e.parameters, e.seeds, rank, JSON.stringify(genotypeToJSON(g)));
    }
  });
  tx();
}

/** Index every table the study folder holds (truth/<benchmark>.json) in its store; `rdarts study reindex` calls this after rebuilding the job rows. */
export function reindexTruth(studyDir: string, s: LoadedStudy, path = storePath(studyDir)): number {
  const folder = join(studyDir, 'truth');
  if (!truthJobs(s.graph).length || !existsSync(folder)) return 0;
  const store = new StudyStore(path);
  let n = 0;
  try {
    for (const f of readdirSync(folder).filter((x) => x.endsWith('.json')).sort()) {
      const json = join(folder, f);
      const table = truthFromJSON(readFileSync(json, 'utf8'), json);
      indexTruthTable(store, s.study.name, { benchmark: f.replace(/\.json$/, ''), table, files: { json, csv: json.replace(/\.json$/, '.csv') } });
      n++;
    }
  } finally {
    store.close();
  }
  return n;
}

/** Collect the tables and index them in the study's store. */
export async function finishTruthStudy(studyDir: string, s: LoadedStudy, o: CollectOptions = {}): Promise<CollectedTruth[]> {
  const tables = await collectTruth(studyDir, s, o);
  const store = new StudyStore(storePath(studyDir));
  try {
    for (const c of tables) indexTruthTable(store, s.study.name, c);
  } finally {
    store.close();
  }
  return tables;
}

// ---------------------------------------------------------------------------------------------
// Figure 2 across a study's searches

function metricsLines(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"s5-regret"'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The s5-regret lines of a study's search jobs as Figure 2 points (per-epoch lines only: DARTS' derived genotype, RS-ws's best of the space). */
export function s5RegretPoints(studyDir: string, g: JobGraph): Figure2Point[] {
  const out: Figure2Point[] = [];
  for (const j of g.jobs.filter((x) => x.phase === 'search')) {
    for (const l of metricsLines(join(studyDir, j.dir, 'metrics.jsonl'))) {
      if (l.source === 'selected' || typeof l.epoch !== 'number') continue;
      out.push({ benchmark: j.benchmark, method: j.method, run: j.id, epoch: l.epoch, regret: numOrNull(l.regret), oneShotValidError: numOrNull(l.oneShotValidError) });
    }
  }
  return out;
}

/** Figure 2 per benchmark whose searches logged regret (for the study report). */
export function s5StudySpecs(studyDir: string, g: JobGraph): Array<{ title: string; spec: TopLevelSpec }> {
  const pts = s5RegretPoints(studyDir, g);
  return [...new Set(pts.map((p) => p.benchmark))].map((b) => ({ title: `S5: test regret and one-shot validation error over epochs, ${b} (Figure 2)`, spec: s5Figure2Spec(pts.filter((p) => p.benchmark === b), b) }));
}
