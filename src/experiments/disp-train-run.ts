/**
 * Training an S6 cell from scratch into a resumable run folder (docs/disparity.md#evaluation):
 * where the genotype comes from (a repr, a JSON file, a search run folder), the data (train and
 * test split, Sintel when given), the run folder and its lock. Never prints.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadStereo, type StereoDataset } from '../data/index.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { dispGenotypeFromJSON, parseDispGenotypeRepr, type DispGenotype } from '../nas/disp/genotype.js';
import { DispEvalTrainer, validateDispEvalConfig, type DispEvalConfig, type DispEvalData, type DispEvalEvent, type DispEvalResult } from '../search/disp/eval.js';
import { loadDispData } from './disp-search-run.js';
import { withRunLock } from './lock.js';
import { RunDir } from './run-dir.js';
import { RUN_FILES } from './run-format.js';
import { RunFolderRecorder } from './run-recorder.js';

/** The cell to train: a DispGenotype(...) repr, a JSON file of one, or an S6 search run folder (its result.json). */
export function resolveDispGenotypeSource(src: string): { genotype: DispGenotype; source: string; searchRun: string | null; search: Record<string, unknown> | null } {
  if (existsSync(src) && statSync(src).isDirectory()) {
    const dir = resolve(src);
    const result = join(dir, RUN_FILES.result);
    if (!existsSync(result)) throw new ConfigError(`${dir} has no ${RUN_FILES.result}: the search has not finished`, `finish it with rdarts search --resume ${src}`);
    const r = JSON.parse(readFileSync(result, 'utf8')) as { genotype?: unknown };
    const cfgPath = join(dir, RUN_FILES.config);
    const search = existsSync(cfgPath) ? (JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>) : null;
    if (search && search.space !== 's6') throw new ConfigError(`${dir} is not an S6 search (space ${String(search.space)})`, 'rdarts train without --space s6 trains CNN cells');
    return { genotype: dispGenotypeFromJSON(r.genotype, result), source: `search run ${dir}`, searchRun: dir, search };
  }
  if (existsSync(src)) {
    const text = readFileSync(src, 'utf8');
    const g = text.trim().startsWith('{') ? dispGenotypeFromJSON(JSON.parse(text), src) : parseDispGenotypeRepr(text, src);
    return { genotype: g, source: resolve(src), searchRun: null, search: null };
  }
  return { genotype: parseDispGenotypeRepr(src, '--genotype'), source: 'repr', searchRun: null, search: null };
}

/** Train, test and (optionally) Sintel sets of a training configuration. */
export function loadDispEvalData(cfg: DispEvalConfig): DispEvalData {
  const base = { dataset: cfg.dataset, dataDir: cfg.dataDir, limit: cfg.limit, downscale: cfg.downscale };
  const s = cfg.synthetic;
  const train = loadDispData({ ...base, synthetic: { n: s.n, height: s.height, width: s.width, maxDisparity: s.maxDisparity, seed: s.seed } }, 'train');
  const test = loadDispData({ ...base, synthetic: { n: s.testN, height: s.height, width: s.width, maxDisparity: s.maxDisparity, seed: s.seed } }, 'test');
  const sintel: StereoDataset | null = cfg.sintelDir ? loadStereo({ kind: 'sintel', root: cfg.sintelDir, split: 'train', downscale: cfg.downscale }) : null;
  return { train, test, sintel };
}

export function isDispTrainRun(dir: string): boolean {
  const p = join(resolve(dir), RUN_FILES.config);
  if (!existsSync(p)) return false;
  try {
    const c = JSON.parse(readFileSync(p, 'utf8')) as { space?: unknown; genotypeSource?: unknown };
    return c.space === 's6' && typeof c.genotypeSource === 'string';
  } catch {
    return false;
  }
}

export interface DispTrainOptions {
  onEvent?: (e: DispEvalEvent) => void;
  data?: DispEvalData;
}

export async function runDispTraining(cfg: DispEvalConfig, out: string, o: DispTrainOptions = {}): Promise<DispEvalResult> {
  return withRunLock(out, { what: 'train' }, async () => {
    const runDir = new RunDir(out);
    if (runDir.exists()) throw new ConfigError(`${runDir.path} already holds a run (${RUN_FILES.config} exists)`, `continue it with --resume ${out}, or choose another --out`);
    const data = o.data ?? loadDispEvalData(cfg);
    runDir.ensure();
    const trainer = new DispEvalTrainer(cfg, data, { recorder: new RunFolderRecorder(runDir), ...(o.onEvent ? { onEvent: o.onEvent } : {}) });
    try {
      runDir.writeConfig(trainer.describe());
      return await trainer.run();
    } finally {
      trainer.dispose();
    }
  });
}

export async function resumeDispTraining(dir: string, o: DispTrainOptions = {}): Promise<DispEvalResult> {
  return withRunLock(dir, { what: 'train' }, async () => {
    const runDir = new RunDir(dir);
    const saved = runDir.readConfig<Record<string, unknown>>();
    // config.json's stepsPerEpoch is the effective count (describe() writes it over the configured cap): same data → same steps
    const { library: _l, dataFingerprint, testFingerprint: _t, parameters: _p, repr: _r, ...rest } = saved;
    const cfg = validateDispEvalConfig(rest, runDir.file(RUN_FILES.config));
    const recorder = new RunFolderRecorder(runDir);
    if (existsSync(runDir.file(RUN_FILES.result)) && recorder.listCheckpoints().length === 0) throw new CheckpointError(`${runDir.path} has finished and holds no checkpoint to continue from`);
    const data = o.data ?? loadDispEvalData(cfg);
    const trainer = new DispEvalTrainer(cfg, data, { recorder, ...(o.onEvent ? { onEvent: o.onEvent } : {}) });
    try {
      if (typeof dataFingerprint === 'string' && trainer.describe().dataFingerprint !== dataFingerprint) throw new CheckpointError('the training data differ from those this run started with', 'point --data-dir at the same files the run used');
      if (trainer.resume((e, err) => o.onEvent?.({ type: 'note', message: `skipping checkpoint of epoch ${e}: ${err.message}` })) === null) recorder.truncateLogs({ metrics: 0, genotypes: 0 });
      return await trainer.run();
    } finally {
      trainer.dispose();
    }
  });
}
