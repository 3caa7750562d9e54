/**
 * One search from a resolved configuration to a result: load the data, create (or reopen) the
 * run folder, compose the method's plug-ins, train, write result.json. The CLI and the
 * experiment executors call this; it never prints (events go to `onEvent`).
 */
import { existsSync } from 'node:fs';
import { loadDataset, type ImageDataset } from '../data/index.js';
import { RunDir } from './run-dir.js';
import { RUN_FILES } from './run-format.js';
import { RunFolderRecorder } from './run-recorder.js';
import { ConfigError, CheckpointError } from '../errors.js';
import { validateConfig, type SearchConfig } from '../search/config.js';
import { buildPlugins, type PluginInputs } from '../search/methods/index.js';
import { readTruthFile } from './s5-truth.js';

/** What the plug-ins need from files the configuration names: the S5 ground-truth table. */
function pluginInputs(cfg: SearchConfig): PluginInputs {
  return cfg.s5Truth ? { s5Truth: readTruthFile(cfg.s5Truth) } : {};
}
import { SearchTrainer, type SearchEvent, type SearchResult } from '../search/trainer.js';
import { isGridMethod } from './grid-plan.js';
import { withRunLock } from './lock.js';

export interface RunOptions {
  /** run folder; null = in memory, nothing written */
  out: string | null;
  onEvent?: (e: SearchEvent) => void;
  /** pre-loaded training data (tests, grids) */
  data?: ImageDataset;
}

export async function loadSearchData(cfg: SearchConfig): Promise<ImageDataset> {
  return loadDataset(cfg.dataset, {
    split: 'train',
    ...(cfg.dataDir ? { dataDir: cfg.dataDir } : {}),
    download: cfg.download,
    ...(cfg.subset ? { subset: cfg.subset, subsetSeed: cfg.seed } : {}),
    synthetic: { n: cfg.synthetic.n, channels: cfg.synthetic.channels, height: cfg.synthetic.size, width: cfg.synthetic.size, numClasses: cfg.synthetic.numClasses, seed: cfg.seed },
  });
}

/** Start a new search in `o.out` (which must not hold a run already), holding the folder's lock (experiments/lock.ts). */
export async function runSearch(cfg: SearchConfig, o: RunOptions): Promise<SearchResult> {
  return o.out && !isGridMethod(cfg.method) ? withRunLock(o.out, { what: 'search' }, () => startSearch(cfg, o)) : startSearch(cfg, o);
}

async function startSearch(cfg: SearchConfig, o: RunOptions): Promise<SearchResult> {
  if (isGridMethod(cfg.method)) {
    throw new ConfigError(`method ${cfg.method} is a grid of darts searches, not a single search`, 'run it with runGrid (src/experiments/grid.ts), as `rdarts search` does');
  }
  let runDir: RunDir | null = null;
  if (o.out) {
    runDir = new RunDir(o.out);
    if (runDir.exists()) {
      throw new ConfigError(`${runDir.path} already holds a run (${RUN_FILES.config} exists)`, `continue it with --resume ${o.out}, or choose another --out`);
    }
    runDir.ensure();
  }
  const data = o.data ?? (await loadSearchData(cfg));
  const recorder = runDir ? new RunFolderRecorder(runDir) : null;
  const trainer = new SearchTrainer(cfg, { train: data }, { plugins: buildPlugins(cfg, pluginInputs(cfg)), recorder, ...(o.onEvent ? { onEvent: o.onEvent } : {}) });
  try {
    runDir?.writeConfig(trainer.describe());
    return await trainer.run();
  } finally {
    trainer.dispose();
  }
}

/** Continue the run in `dir` from its newest intact checkpoint, with the configuration it was started with (holding its lock). */
export async function resumeSearch(dir: string, o: Omit<RunOptions, 'out'> = {}): Promise<SearchResult> {
  return withRunLock(dir, { what: 'search' }, () => continueSearch(dir, o));
}

async function continueSearch(dir: string, o: Omit<RunOptions, 'out'>): Promise<SearchResult> {
  const runDir = new RunDir(dir);
  const saved = runDir.readConfig<Record<string, unknown>>();
  const { resolvedSpace: _s, library: _l, dataFingerprint, trainImages: _t, parameters: _p, alphas: _a, stepsPerEpoch, ...rest } = saved;
  // config.json's stepsPerEpoch is the effective count (describe() overwrites the configured cap); same data → same steps
  const cfg = validateConfig({ ...rest, stepsPerEpoch: stepsPerEpoch ?? null }, runDir.file(RUN_FILES.config));
  if (isGridMethod(cfg.method)) throw new ConfigError(`${runDir.path} is a ${cfg.method} grid, not a single search`, 'continue it with resumeGrid (src/experiments/grid.ts), as `rdarts search --resume` does');
  const recorder = new RunFolderRecorder(runDir);
  if (existsSync(runDir.file(RUN_FILES.result)) && recorder.listCheckpoints().length === 0) {
    throw new CheckpointError(`${runDir.path} has finished (${RUN_FILES.result}) and holds no checkpoint to continue from`);
  }
  const data = o.data ?? (await loadSearchData(cfg));
  const trainer = new SearchTrainer(cfg, { train: data }, { plugins: buildPlugins(cfg, pluginInputs(cfg)), recorder, ...(o.onEvent ? { onEvent: o.onEvent } : {}) });
  try {
    const fp = trainer.describe().dataFingerprint;
    if (dataFingerprint && fp !== dataFingerprint) {
      throw new CheckpointError(`the training data differ from the data this run started with (fingerprint ${String(fp)} vs ${String(dataFingerprint)})`, 'point --data-dir at the same files the run used');
    }
    const from = trainer.resume((e, err) => o.onEvent?.({ type: 'note', message: `skipping checkpoint of epoch ${e}: ${err.message}` }));
    if (from === null) o.onEvent?.({ type: 'note', message: 'no checkpoint yet: starting from epoch 0' });
    if (from === null) recorder.truncateLogs({ metrics: 0, genotypes: 0 });
    return await trainer.run();
  } finally {
    trainer.dispose();
  }
}
