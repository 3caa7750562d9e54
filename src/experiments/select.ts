/**
 * The paper's selection protocol (docs/evaluation.md#selection): N candidate cells (search
 * run folders, or the members of an rdarts-l2 / rdarts-dp grid folder) are each trained from
 * scratch with the `short` preset on a train/validation split of the training set; the lowest
 * validation error wins; the winner is trained with the full protocol (`paper` preset) and its
 * test error after the last epoch is the Table 3 number. Every short training is also measured
 * on the test split once at its end, so the N cells give a mean ± std (Table 1 style); with
 * `trainAllFull` every candidate gets the full protocol instead and the mean ± std is over those.
 *
 * Tie-break (deterministic): lower validation error, then lower validation loss, then the
 * candidate given first.
 *
 * Layout of a selection folder:
 *   <out>/select.json               the plan (candidates, settings) and each one's status
 *   <out>/candidates/<name>/        one `rdarts train` run folder per candidate (short preset)
 *   <out>/candidates/<name>-full/   with trainAllFull: the candidate's full training
 *   <out>/final/                    the winner's full training (unless trainAllFull: then the winner's -full folder)
 *   <out>/result.json               per-candidate numbers, the pick, mean ± std, the selected test error
 * Each training is its own resumable run folder: running select again on the same folder skips
 * finished trainings, resumes unfinished ones from their last checkpoint and starts the rest.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConfigError, CheckpointError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { formatGenotypeRepr, genotypeToJSON } from '../nas/index.js';
import type { DeepPartial } from '../search/config.js';
import { resolveEvalConfig, type EvalConfig, type EvalOrigins, type EvalSettings } from '../search/eval-config.js';
import type { EvalEvent, EvalTrainResult } from '../search/eval-trainer.js';
import type { ImageDataset } from '../data/index.js';
import { resolveGenotypeSource, type ResolvedGenotype } from './genotype-source.js';
import { loadTrainData, readTrainResult, resumeTraining, runTraining, testTrainedRun } from './train-run.js';
import { RunDir } from './run-dir.js';
import { withRunLock } from './lock.js';

export interface SelectCandidate extends ResolvedGenotype {
  name: string;
  /** the search run folder it came from */
  dir: string;
}

export interface SelectOptions {
  /** search run folders and/or grid folders (expanded to their members) */
  candidates: string[];
  out: string;
  /** settings for both protocols (dataset, data, network size, …), from a file and flags */
  common?: { file?: { fields: Record<string, unknown>; path: string }; overrides?: DeepPartial<EvalSettings> };
  /** extra settings of the short trainings (over the `short` preset and `common`) */
  short?: DeepPartial<EvalSettings>;
  /** extra settings of the full trainings (over the `paper` preset and `common`) */
  full?: DeepPartial<EvalSettings>;
  /** train every candidate with the full protocol too (Table 1 exactly; N times the cost) */
  trainAllFull?: boolean;
  onEvent?: (e: EvalEvent & { candidate?: string }) => void;
  /** pre-loaded data (tests) */
  data?: { train: ImageDataset; test: ImageDataset | null };
}

export interface CandidateOutcome {
  name: string;
  source: string;
  repr: string;
  dir: string;
  validError: number;
  validLoss: number;
  /** the short training's network on the test split */
  shortTestError: number;
  /** with trainAllFull: the full training's test error */
  fullTestError: number | null;
}

export interface SelectResult {
  kind: 'select';
  candidates: CandidateOutcome[];
  selected: string;
  selectedRepr: string;
  tieBreak: string;
  /** Table 3 style: the winner's test error after the full protocol */
  selectedTestError: number;
  /** Table 1 style: mean ± sample std of the N cells' test errors, each trained once */
  meanTestError: number;
  stdTestError: number;
  meanOver: 'short trainings' | 'full trainings';
  n: number;
  finalDir: string;
  root: string;
  /** the dataset of the trainings, the winner's search space and the candidates' search method (null when unknown or mixed) */
  dataset: string;
  space: string | null;
  method: string | null;
}

const TIE_BREAK = 'lowest validation error; ties: lower validation loss, then the candidate given first';

/** Expand grid folders into their members; name each candidate after its folder (made unique). */
export function expandCandidates(sources: string[]): SelectCandidate[] {
  const out: SelectCandidate[] = [];
  const used = new Set<string>();
  const add = (dir: string, prefix = '', method: string | null = null): void => {
    const g = resolveGenotypeSource(dir);
    if (method) g.method = method;
    let name = (prefix + basename(resolve(dir))).replace(/[^A-Za-z0-9._-]/g, '_');
    for (let k = 2; used.has(name); k++) name = `${prefix}${basename(resolve(dir))}-${k}`;
    used.add(name);
    out.push({ ...g, name, dir: resolve(dir) });
  };
  for (const s of sources) {
    if (!existsSync(s)) throw new CheckpointError(`candidate ${s} does not exist`, 'pass search run folders or an rdarts-l2/rdarts-dp grid folder');
    const gridPath = join(s, 'grid.json');
    if (existsSync(gridPath)) {
      const grid = readJson(gridPath);
      const runs = Array.isArray(grid.runs) ? (grid.runs as Array<Record<string, unknown>>) : [];
      if (!runs.length) throw new CheckpointError(`${gridPath} lists no members`, 'run the grid first (`rdarts search --method rdarts-l2 …`)');
      for (const r of runs) {
        if (r.status !== 'finished') throw new CheckpointError(`grid member ${String(r.name)} of ${s} has not finished (status ${String(r.status)})`, 'finish the grid first: run the same `rdarts search` command again');
        add(join(s, String(r.dir)), `${basename(resolve(s))}.`, typeof grid.method === 'string' ? grid.method : null);
      }
    } else {
      add(s);
    }
  }
  if (out.length === 0) throw new ConfigError('no candidates given', 'pass at least one search run folder or grid folder');
  return out;
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Mean and sample standard deviation (n − 1; 0 for a single value). */
export function meanStd(xs: number[]): { mean: number; std: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}

/** The index of the winner under the documented tie-break. */
export function pickWinner(c: Array<{ validError: number; validLoss: number }>): number {
  let best = 0;
  for (let i = 1; i < c.length; i++) {
    const a = c[i]!;
    const b = c[best]!;
    if (a.validError < b.validError || (a.validError === b.validError && a.validLoss < b.validLoss)) best = i;
  }
  return best;
}

/** Run (or continue) a selection in `o.out`, holding the folder's lock (experiments/lock.ts). */
export async function runSelection(o: SelectOptions): Promise<SelectResult> {
  return withRunLock(o.out, { what: 'select' }, () => selectLocked(o));
}

async function selectLocked(o: SelectOptions): Promise<SelectResult> {
  const root = resolve(o.out);
  const candidates = expandCandidates(o.candidates);
  const origins = new Map<EvalConfig, EvalOrigins>();
  const configFor = (c: SelectCandidate, preset: 'short' | 'paper', extra: DeepPartial<EvalSettings> | undefined): EvalConfig => {
    const overrides = { ...(c.space ? { space: c.space } : {}), ...(c.method ? { searchMethod: c.method } : {}), searchRun: c.dir, ...(o.common?.overrides ?? {}), ...(extra ?? {}) } as DeepPartial<EvalSettings>;
    const r = resolveEvalConfig(
      { genotype: genotypeToJSON(c.genotype) as EvalConfig['genotype'], source: c.source },
      { preset, ...(o.common?.file ? { file: o.common.file } : {}), overrides, overridesLabel: 'select' },
    );
    origins.set(r.config, r.origins);
    return r.config;
  };
  // every config is resolved (and so validated) before anything is written
  const plans = candidates.map((c) => ({ c, short: configFor(c, 'short', o.short), full: configFor(c, 'paper', o.full) }));
  const selectPath = join(root, 'select.json');
  const plan = {
    kind: 'select',
    tieBreak: TIE_BREAK,
    trainAllFull: o.trainAllFull ?? false,
    candidates: plans.map(({ c, short, full }) => ({ name: c.name, dir: c.dir, source: c.source, repr: formatGenotypeRepr(c.genotype), shortEpochs: short.epochs, fullEpochs: full.epochs })),
  };
  if (existsSync(selectPath)) {
    const saved = readJson(selectPath);
    const a = JSON.stringify((saved.candidates as unknown[] | undefined)?.map((x) => (x as { repr: string }).repr));
    const b = JSON.stringify(plan.candidates.map((x) => x.repr));
    if (a !== b) throw new ConfigError(`${root} holds a selection over other candidates`, 'continue it with the same candidates, or choose another --out');
  }
  new RunDir(root).ensure();
  writeFileAtomic(selectPath, JSON.stringify({ ...plan, status: 'running' }, null, 2) + '\n');

  const dataCache = new Map<string, Promise<{ train: ImageDataset; test: ImageDataset | null }>>();
  const dataFor = (cfg: EvalConfig): Promise<{ train: ImageDataset; test: ImageDataset | null }> => {
    if (o.data) return Promise.resolve(o.data);
    const key = JSON.stringify([cfg.dataset, cfg.dataDir, cfg.subset, cfg.testSubset, cfg.seed, cfg.synthetic]);
    if (!dataCache.has(key)) dataCache.set(key, loadTrainData({ ...cfg, evaluation: 'test' }));
    return dataCache.get(key)!;
  };
  const train = async (name: string, dir: string, cfg: EvalConfig): Promise<EvalTrainResult | Record<string, unknown>> => {
    const onEvent = o.onEvent ? (e: EvalEvent) => o.onEvent!({ ...e, candidate: name }) : undefined;
    const done = readTrainResult(dir);
    if (done) {
      o.onEvent?.({ type: 'note', message: `${name}: finished earlier (${dir})`, candidate: name });
      return done;
    }
    const data = await dataFor(cfg);
    if (new RunDir(dir).exists()) return resumeTraining(dir, { data, ...(onEvent ? { onEvent } : {}) });
    return runTraining(cfg, origins.get(cfg) ?? {}, { out: dir, data, ...(onEvent ? { onEvent } : {}) });
  };

  const outcomes: CandidateOutcome[] = [];
  for (const { c, short, full } of plans) {
    const dir = join(root, 'candidates', c.name);
    const r = (await train(c.name, dir, short)) as { error: number; final: { loss: number } };
    const t = await testTrainedRun(dir, { test: (await dataFor(short)).test! });
    let fullTestError: number | null = null;
    if (o.trainAllFull) {
      const f = (await train(`${c.name}-full`, join(root, 'candidates', `${c.name}-full`), full)) as { error: number };
      fullTestError = f.error;
    }
    outcomes.push({ name: c.name, source: c.source, repr: formatGenotypeRepr(c.genotype), dir, validError: r.error, validLoss: r.final.loss, shortTestError: t.error, fullTestError });
  }
  const w = pickWinner(outcomes);
  const winner = plans[w]!;
  const finalDir = o.trainAllFull ? join(root, 'candidates', `${winner.c.name}-full`) : join(root, 'final');
  const fin = (o.trainAllFull ? { error: outcomes[w]!.fullTestError! } : await train(`final (${winner.c.name})`, finalDir, winner.full)) as { error: number };
  const errors = outcomes.map((x) => (o.trainAllFull ? x.fullTestError! : x.shortTestError));
  const { mean, std } = meanStd(errors);
  const result: SelectResult = {
    kind: 'select',
    candidates: outcomes,
    selected: winner.c.name,
    selectedRepr: formatGenotypeRepr(winner.c.genotype),
    tieBreak: TIE_BREAK,
    selectedTestError: fin.error,
    meanTestError: mean,
    stdTestError: std,
    meanOver: o.trainAllFull ? 'full trainings' : 'short trainings',
    n: outcomes.length,
    finalDir,
    root,
    dataset: winner.full.dataset,
    space: winner.c.space,
    method: new Set(candidates.map((c) => c.method)).size === 1 ? candidates[0]!.method : null,
  };
  writeFileAtomic(join(root, 'result.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileAtomic(selectPath, JSON.stringify({ ...plan, status: 'finished', selected: winner.c.name }, null, 2) + '\n');
  return result;
}
