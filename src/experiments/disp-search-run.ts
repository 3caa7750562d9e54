/**
 * Disparity searches in S6 from a resolved configuration to a result (docs/disparity.md#search):
 * load the stereo data, create (or reopen) the run folder, compose the plug-ins, train, write
 * result.json; resume from the newest checkpoint. Never prints (events go to `onEvent`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SYNTHETIC_TEST_SEED_OFFSET, generateSyntheticStereo, loadStereo, type StereoDataset } from '../data/index.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { validateDispConfig, type DispSearchConfig } from '../search/disp/config.js';
import { DispSearchTrainer, buildDispPlugins, type DispSearchEvent, type DispSearchResult } from '../search/disp/trainer.js';
import { withRunLock } from './lock.js';
import { RunDir } from './run-dir.js';
import { RUN_FILES } from './run-format.js';
import { RunFolderRecorder } from './run-recorder.js';

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
  let runDir: RunDir | null = null;
  if (o.out) {
    runDir = new RunDir(o.out);
    if (runDir.exists()) throw new ConfigError(`${runDir.path} already holds a run (${RUN_FILES.config} exists)`, `continue it with --resume ${o.out}, or choose another --out`);
  }
  // the data first: a missing dataset leaves no run folder behind
  const data = o.data ?? loadDispData(cfg);
  runDir?.ensure();
  const recorder = runDir ? new RunFolderRecorder(runDir) : null;
  const trainer = new DispSearchTrainer(cfg, data, { plugins: buildDispPlugins(cfg), recorder, ...(o.onEvent ? { onEvent: o.onEvent } : {}) });
  try {
    runDir?.writeConfig(trainer.describe());
    return await trainer.run();
  } finally {
    trainer.dispose();
  }
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
  return withRunLock(dir, { what: 'search' }, async () => {
    const runDir = new RunDir(dir);
    const { cfg, fingerprint } = readDispRunConfig(dir);
    const recorder = new RunFolderRecorder(runDir);
    if (existsSync(runDir.file(RUN_FILES.result)) && recorder.listCheckpoints().length === 0) {
      throw new CheckpointError(`${runDir.path} has finished (${RUN_FILES.result}) and holds no checkpoint to continue from`);
    }
    const data = o.data ?? loadDispData(cfg);
    const trainer = new DispSearchTrainer(cfg, data, { plugins: buildDispPlugins(cfg), recorder, ...(o.onEvent ? { onEvent: o.onEvent } : {}) });
    try {
      const fp = trainer.describe().dataFingerprint;
      if (fingerprint && fp !== fingerprint) throw new CheckpointError(`the stereo data differ from those this run started with (fingerprint ${String(fp)} vs ${fingerprint})`, 'point --data-dir at the same files the run used');
      const from = trainer.resume((e, err) => o.onEvent?.({ type: 'note', message: `skipping checkpoint of epoch ${e}: ${err.message}` }));
      if (from === null) {
        o.onEvent?.({ type: 'note', message: 'no checkpoint yet: starting from epoch 0' });
        recorder.truncateLogs({ metrics: 0, genotypes: 0 });
      }
      return await trainer.run();
    } finally {
      trainer.dispose();
    }
  });
}
