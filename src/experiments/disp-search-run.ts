/**
 * Disparity searches in S6 from a resolved configuration to a result (docs/disparity.md#search):
 * load the stereo data, create (or reopen) the run folder, compose the plug-ins, train, write
 * result.json; resume from the newest checkpoint. Never prints (events go to `onEvent`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SYNTHETIC_TEST_SEED_OFFSET, generateSyntheticStereo, loadStereo, type StereoDataset } from '../data/index.js';
import { validateDispConfig, type DispSearchConfig } from '../search/disp/config.js';
import { DispSearchTrainer, buildDispPlugins, type DispSearchEvent, type DispSearchResult } from '../search/disp/trainer.js';
import { withRunLock } from './lock.js';
import { RunDir } from './run-dir.js';
import { RUN_FILES } from './run-format.js';
import { resumeInFolder, startInFolder } from './search-folder.js';

export interface DispRunOptions {
  /** run folder; null = in memory */
  out: string | null;
  onEvent?: (e: DispSearchEvent) => void;
  /** stereo data already loaded (tests) */
  data?: StereoDataset;
}

/** The search's stereo set: the embedded generator, or FlyingThings3D / Sintel under dataDir. */
export function loadDispData(cfg: Pick<DispSearchConfig, 'dataset' | 'dataDir' | 'limit' | 'downscale' | 'synthetic'>, split: 'train' | 'test' = 'train'): StereoDataset {
  if (cfg.dataset === 'synthetic') {
    const s = cfg.synthetic;
    // the test split is the same generator with another seed: new scenes, same statistics
    return generateSyntheticStereo({ n: s.n, height: s.height, width: s.width, maxDisparity: s.maxDisparity, seed: split === 'train' ? s.seed : s.seed + SYNTHETIC_TEST_SEED_OFFSET });
  }
  return loadStereo({ kind: cfg.dataset, root: cfg.dataDir!, split, ...(cfg.limit ? { limit: cfg.limit } : {}), downscale: cfg.downscale });
}

/** Is `dir` a run folder of an S6 search? */
export function isDispRun(dir: string): boolean {
  const p = join(resolve(dir), RUN_FILES.config);
  if (!existsSync(p)) return false;
  try {
    return (JSON.parse(readFileSync(p, 'utf8')) as { space?: unknown }).space === 's6';
  } catch {
    return false;
  }
}

/** Start a search in `o.out` (which must not hold a run), holding the folder's lock. */
export async function runDispSearch(cfg: DispSearchConfig, o: DispRunOptions): Promise<DispSearchResult> {
  return o.out ? withRunLock(o.out, { what: 'search' }, () => start(cfg, o)) : start(cfg, o);
}

async function start(cfg: DispSearchConfig, o: DispRunOptions): Promise<DispSearchResult> {
  const onEvent = o.onEvent ? { onEvent: o.onEvent } : {};
  return startInFolder(o.out, () => o.data ?? loadDispData(cfg), (data, recorder) => new DispSearchTrainer(cfg, data, { plugins: buildDispPlugins(cfg), recorder, ...onEvent }));
}

/** The configuration a run folder's config.json holds (the fields describe() adds removed). */
export function readDispRunConfig(dir: string): { cfg: DispSearchConfig; fingerprint: string | null } {
  const runDir = new RunDir(dir);
  const saved = runDir.readConfig<Record<string, unknown>>();
  const { library: _l, dataFingerprint, dataSource: _s, pairs: _n, parameters: _p, alphas: _a, stepsPerEpoch, predictionLevels: _v, ...rest } = saved;
  // config.json's stepsPerEpoch is the effective count (describe() overwrites the configured cap); same data → same steps (as search-run.ts)
  return { cfg: validateDispConfig({ ...rest, stepsPerEpoch: stepsPerEpoch ?? null }, runDir.file(RUN_FILES.config)), fingerprint: typeof dataFingerprint === 'string' ? dataFingerprint : null };
}

/** Continue the run in `dir` from its newest intact checkpoint with the configuration it started with. */
export async function resumeDispSearch(dir: string, o: Omit<DispRunOptions, 'out'> = {}): Promise<DispSearchResult> {
  return withRunLock(dir, { what: 'search' }, () => {
    const { cfg, fingerprint } = readDispRunConfig(dir);
    const onEvent = o.onEvent ? { onEvent: o.onEvent } : {};
    return resumeInFolder(dir, fingerprint, 'stereo data', () => o.data ?? loadDispData(cfg), (data, recorder) => new DispSearchTrainer(cfg, data, { plugins: buildDispPlugins(cfg), recorder, ...onEvent }), o.onEvent);
  });
}
