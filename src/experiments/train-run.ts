/**
 * One from-scratch training (`rdarts train`) as a run folder:
 *   config.json       the resolved training config, where each value came from, derived sizes
 *   metrics.jsonl     one `epoch` line per epoch (train loss/acc, test or valid loss/acc, lr, drop path)
 *   checkpoints/      atomic per-epoch checkpoints (experiments/checkpoint.ts), exact resume
 *   result.json       test (or validation) error after the last epoch, parameters with and
 *                     without the auxiliary head, wall time
 *   model.safetensors the final weights and batch-norm buffers under the DARTS NetworkCIFAR keys
 * Everything is checked (genotype, space, data) before the folder is created, so bad input
 * leaves nothing behind. The CLI and `select` call this; it never prints (events go to onEvent).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset, datasetFingerprint, type ImageDataset } from '../data/index.js';
import { EvalNetwork, formatGenotypeRepr, genotypeFromJSON } from '../nas/index.js';
import { loadSafetensors, saveSafetensors, type Tensor } from '../torch/index.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { validateEvalConfig, type EvalConfig, type EvalOrigins } from '../search/eval-config.js';
import { EvalTrainer, evaluateEvalNetwork, fromDartsKeys, type EvalEvent, type EvalTrainResult, type EvalSplitMetrics } from '../search/eval-trainer.js';
import { RunDir } from './run-dir.js';
import { loadLatestCheckpoint } from './checkpoint.js';
import { RunFolderRecorder } from './run-recorder.js';
import { withRunLock } from './lock.js';

export const MODEL_FILE = 'model.safetensors';

export interface TrainRunOptions {
  /** run folder; null = in memory, nothing written */
  out: string | null;
  onEvent?: (e: EvalEvent) => void;
  /** pre-loaded data (tests, select) */
  data?: { train: ImageDataset; test: ImageDataset | null };
}

/** The training and (when evaluation is 'test') test images the config names. */
export async function loadTrainData(cfg: EvalConfig): Promise<{ train: ImageDataset; test: ImageDataset | null }> {
  const s = cfg.synthetic;
  const common = { ...(cfg.dataDir ? { dataDir: cfg.dataDir } : {}), download: cfg.download };
  const train = await loadDataset(cfg.dataset, {
    split: 'train',
    ...common,
    ...(cfg.subset ? { subset: cfg.subset, subsetSeed: cfg.seed } : {}),
    synthetic: { n: s.n, channels: s.channels, height: s.size, width: s.size, numClasses: s.numClasses, seed: cfg.seed },
  });
  const test = cfg.evaluation === 'test' ? await loadTestData(cfg, cfg.testSubset) : null;
  return { train, test };
}

async function loadTestData(cfg: Pick<EvalConfig, 'dataset' | 'dataDir' | 'download' | 'synthetic' | 'seed'>, subset: number | null): Promise<ImageDataset> {
  const s = cfg.synthetic;
  return loadDataset(cfg.dataset, {
    split: 'test',
    ...(cfg.dataDir ? { dataDir: cfg.dataDir } : {}),
    download: cfg.download,
    ...(subset ? { subset, subsetSeed: cfg.seed } : {}),
    synthetic: { n: s.testN, channels: s.channels, height: s.size, width: s.size, numClasses: s.numClasses, seed: cfg.seed },
  });
}

function checkFitsDataset(cfg: EvalConfig, train: ImageDataset): void {
  if (train.numClasses < 2) throw new ConfigError(`dataset ${cfg.dataset} has ${train.numClasses} class`, 'a classifier needs at least two classes');
}

/** Train the config's cell from scratch in a new run folder `o.out` (which must not hold a run), holding the folder's lock (experiments/lock.ts). */
export async function runTraining(cfg: EvalConfig, origins: EvalOrigins, o: TrainRunOptions): Promise<EvalTrainResult> {
  return o.out ? withRunLock(o.out, { what: 'train' }, () => startTraining(cfg, origins, o)) : startTraining(cfg, origins, o);
}

async function startTraining(cfg: EvalConfig, origins: EvalOrigins, o: TrainRunOptions): Promise<EvalTrainResult> {
  const runDir = o.out ? new RunDir(o.out) : null;
  if (runDir?.exists()) throw new ConfigError(`${runDir.path} already holds a run (config.json exists)`, `continue it with \`rdarts train --resume ${o.out}\`, or choose another --out`);
  // everything that can fail on bad input happens before the folder is created
  genotypeFromJSON(cfg.genotype, cfg.genotypeSource);
  const data = o.data ?? (await loadTrainData(cfg));
  checkFitsDataset(cfg, data.train);
  const recorder = runDir ? new RunFolderRecorder(runDir) : null;
  const trainer = new EvalTrainer(cfg, data, { recorder, ...(o.onEvent ? { onEvent: o.onEvent } : {}) });
  try {
    if (runDir) {
      runDir.ensure();
      runDir.writeConfig({ ...trainer.describe(), origins });
    }
    const result = trainer.run();
    if (runDir) saveModel(runDir, trainer);
    return result;
  } finally {
    trainer.dispose();
  }
}

/** Fields describe() adds to the config; stripped again when a run is resumed. */
const DERIVED = ['kind', 'repr', 'library', 'dataFingerprint', 'testFingerprint', 'numClasses', 'inChannels', 'imageSize', 'trainImages', 'evalImages', 'parameters', 'parametersWithAux', 'effectiveStepsPerEpoch', 'origins'];

/** The training config stored in a run folder (validated). */
export function readTrainConfig(dir: string): { config: EvalConfig; saved: Record<string, unknown> } {
  const runDir = new RunDir(dir);
  const saved = runDir.readConfig<Record<string, unknown>>();
  if (saved.kind !== 'train') throw new CheckpointError(`${runDir.path} is not a training run (config.json has kind ${JSON.stringify(saved.kind ?? 'search')})`, 'pass a folder `rdarts train` wrote');
  const rest = Object.fromEntries(Object.entries(saved).filter(([k]) => !DERIVED.includes(k)));
  return { config: validateEvalConfig(rest, join(runDir.path, 'config.json')), saved };
}

/** Continue the training in `dir` from its newest intact checkpoint, with the config it was started with (holding its lock). */
export async function resumeTraining(dir: string, o: Omit<TrainRunOptions, 'out'> = {}): Promise<EvalTrainResult> {
  return withRunLock(dir, { what: 'train' }, () => continueTraining(dir, o));
}

async function continueTraining(dir: string, o: Omit<TrainRunOptions, 'out'>): Promise<EvalTrainResult> {
  const runDir = new RunDir(dir);
  const { config: cfg, saved } = readTrainConfig(dir);
  const data = o.data ?? (await loadTrainData(cfg));
  const fp = datasetFingerprint(data.train);
  if (saved.dataFingerprint && fp !== saved.dataFingerprint) {
    throw new CheckpointError(`the training data differ from the data this run started with (fingerprint ${fp} vs ${String(saved.dataFingerprint)})`, 'point --data-dir at the same files the run used');
  }
  const trainer = new EvalTrainer(cfg, data, { recorder: new RunFolderRecorder(runDir), ...(o.onEvent ? { onEvent: o.onEvent } : {}) });
  try {
    const from = trainer.resume((e, err) => o.onEvent?.({ type: 'note', message: `skipping checkpoint of epoch ${e}: ${err.message}` }));
    if (from === null) {
      o.onEvent?.({ type: 'note', message: 'no checkpoint yet: starting from epoch 0' });
      runDir.truncateLogs({ metrics: 0, genotypes: 0 });
    }
    const result = trainer.run();
    saveModel(runDir, trainer);
    return result;
  } finally {
    trainer.dispose();
  }
}

/** Is `dir` a training run folder (config.json of kind 'train')? */
export function isTrainRun(dir: string): boolean {
  try {
    return new RunDir(dir).readConfig<Record<string, unknown>>().kind === 'train';
  } catch {
    return false;
  }
}

/** A finished training's result.json, or null when it has not finished. */
export function readTrainResult(dir: string): Record<string, unknown> | null {
  const p = new RunDir(dir).file('result.json');
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`${p} is not valid JSON: ${(e as Error).message}`, 'the file is corrupt; resume the run to write it again');
  }
}

function saveModel(runDir: RunDir, trainer: EvalTrainer): void {
  saveSafetensors(runDir.file(MODEL_FILE), trainer.exportState(), {
    format: 'pt',
    producer: 'robust-darts',
    genotype: formatGenotypeRepr(trainer.genotype),
    layers: String(trainer.cfg.layers),
    channels: String(trainer.cfg.channels),
    auxiliary: String(trainer.cfg.auxiliary),
    numClasses: String(trainer.data.train.numClasses),
  });
}

/** The trained network of a run folder, in eval mode (from model.safetensors, else the newest checkpoint). */
export function loadTrainedNetwork(dir: string): { model: EvalNetwork; config: EvalConfig; saved: Record<string, unknown>; from: string } {
  const runDir = new RunDir(dir);
  const { config, saved } = readTrainConfig(dir);
  const numClasses = Number(saved.numClasses);
  const inChannels = Number(saved.inChannels);
  const model = new EvalNetwork({ genotype: genotypeFromJSON(config.genotype, config.genotypeSource), C: config.channels, layers: config.layers, numClasses, inChannels, auxiliary: config.auxiliary });
  try {
    const modelPath = runDir.file(MODEL_FILE);
    let tensors: Map<string, Tensor>;
    let from: string;
    if (existsSync(modelPath)) {
      tensors = fromDartsKeys(model, loadSafetensors(modelPath).tensors);
      from = MODEL_FILE;
    } else {
      const ck = loadLatestCheckpoint<unknown>(runDir.checkpointsDir);
      if (!ck) throw new CheckpointError(`${runDir.path} holds neither ${MODEL_FILE} nor a checkpoint`, 'train it first (`rdarts train`), or resume it');
      tensors = new Map([...ck.tensors].filter(([k]) => k.startsWith('w.') || k.startsWith('buf.')).map(([k, t]) => [k.slice(k.indexOf('.') + 1), t]));
      for (const [k, t] of ck.tensors) if (!(k.startsWith('w.') || k.startsWith('buf.'))) t.dispose();
      from = `checkpoint of epoch ${ck.epoch}`;
    }
    try {
      model.loadStateDict(tensors);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
    model.eval();
    return { model, config, saved, from };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

export interface TestOptions {
  dataset?: string;
  dataDir?: string;
  subset?: number;
  batchSize?: number;
  /** the test images, pre-loaded (then dataset/dataDir/subset are ignored) */
  test?: ImageDataset;
}

export interface TestResult extends EvalSplitMetrics {
  error: number;
  images: number;
  dataset: string;
  run: string;
  weights: string;
}

/** `rdarts test`: the trained network of `dir` on a test split (its own dataset unless another is named). */
export async function testTrainedRun(dir: string, o: TestOptions = {}): Promise<TestResult> {
  const { config, saved } = readTrainConfig(dir);
  const dataset = (o.dataset ?? config.dataset) as EvalConfig['dataset'];
  const sameData = !o.dataset || o.dataset === config.dataset;
  const test = o.test ?? (await loadTestData({ ...config, dataset, dataDir: o.dataDir ?? (sameData ? config.dataDir : null) }, o.subset ?? (sameData ? config.testSubset : null)));
  const numClasses = Number(saved.numClasses);
  const inChannels = Number(saved.inChannels);
  if (test.numClasses !== numClasses) {
    throw new ConfigError(`the network in ${dir} was trained for ${numClasses} classes, but ${dataset} has ${test.numClasses}`, 'test on the dataset it was trained on (or one with the same classes)');
  }
  if (test.channels !== inChannels) {
    throw new ConfigError(`the network in ${dir} takes ${inChannels}-channel images, but ${dataset} has ${test.channels} channels`, 'test on the dataset it was trained on');
  }
  const { model, from } = loadTrainedNetwork(dir);
  try {
    const idx = Int32Array.from({ length: test.n }, (_, i) => i);
    const r = evaluateEvalNetwork(model, test, idx, { batchSize: o.batchSize ?? config.batchSize });
    return { loss: r.loss, acc: r.acc, error: 1 - r.acc, images: r.images, dataset, run: dir, weights: from };
  } finally {
    model.dispose();
  }
}

/** Files of a folder, for tests asserting that nothing was written. */
export function listFolder(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}
