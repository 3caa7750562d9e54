/**
 * The planner's arithmetic (docs/planner.md), pure: from a calibration (a few measured steps of the
 * real configuration on this machine and device, experiments/plan.ts) and the run's shape (how
 * many steps, validation batches and Hessian measurements the configuration implies), the
 * predicted step, epoch and total time, the worst case of the early-stopping methods, the peak
 * memory, and the largest batch size under a memory limit.
 *
 * Models (first approximations, stated so they can be checked against measured runs):
 *  - time of a step, a validation batch and a Hessian measurement are the calibration's medians;
 *    at another batch size B they scale by B / B_cal (convolution work is linear in the batch);
 *  - peak memory(B) = fixed + perSample·B, where fixed = RSS with the data, model and optimisers
 *    built (before the first step) and perSample = (peak RSS during calibration − fixed) / B_cal;
 *  - DARTS-ES: its worst case is the full run (it only ever stops earlier); DARTS-ADA: each
 *    rollback re-runs at most `rewindEpochs` epochs, and at most `adaRollbacks` happen (the L2
 *    raises before the final value); a grid (rdarts-l2/dp) is `members` full searches.
 */
import type { SearchConfig } from '../search/config.js';
import { isFinalRegularization } from '../search/methods/ada-controller.js';

/** What a calibration measured (seconds are medians over the timed repetitions). */
export interface Calibration {
  device: string;
  threads: number;
  /** batch size the calibration ran at */
  batchSize: number;
  /** timed steps (after warm-up) */
  steps: number;
  /** architecture step (first or second order), s; 0 when the method makes none (rs-ws) */
  archStepS: number;
  /** weight step (forward, backward, clip, SGD), s */
  weightStepS: number;
  /** one validation batch in eval mode, s */
  evalBatchS: number;
  /** one Hessian measurement on one batch (graph build + Lanczos), s; null = not measured */
  hessianS: number | null;
  /** Hessian-vector products that measurement used */
  hessianHvps: number | null;
  /** RSS once data, model and optimisers are built, before the first step (bytes) */
  rssFixedBytes: number;
  /** peak RSS of the process during the calibration (bytes) */
  rssPeakBytes: number;
}

/** The counts a configuration implies (plus its data size). */
export interface RunShape {
  method: SearchConfig['method'];
  batchSize: number;
  trainImages: number;
  epochs: number;
  stepsPerEpoch: number;
  archStep: boolean;
  /** validation batches per end-of-epoch pass */
  valBatches: number;
  /** epochs at which λ_max is measured */
  hessianEpochs: number;
  /** batches per measurement */
  hessianBatches: number;
  /** extra validation passes of the discretisation analysis over the run */
  discretizationPasses: number;
  /** DARTS-ADA: most rollbacks before the final L2; 0 otherwise */
  adaRollbacks: number;
  /** DARTS-ADA: most epochs one rollback re-runs */
  rewindEpochs: number;
  /** searches the run is made of (grid methods: one per grid value) */
  members: number;
  /** rs-ws: validation batches of the final selection */
  rswsScoreBatches: number;
}

/** The memory part of a forecast (a search's or a training's), in bytes. */
export interface MemoryForecast {
  peakBytes: number;
  fixedBytes: number;
  perSampleBytes: number;
  /** largest batch size whose predicted peak fits `memoryLimitBytes` (null without a limit) */
  maxBatchSize: number | null;
  memoryLimitBytes: number | null;
  fits: boolean | null;
}

/** The forecast. Times in seconds, memory in bytes. */
export interface Plan extends MemoryForecast {
  batchSize: number;
  stepS: number;
  epochS: number;
  validationPassS: number;
  hessianMeasurementS: number;
  /** a run that goes the whole way (every epoch, no early stop, no rollback) */
  totalS: number;
  /** the longest the method can take (ADA: every possible rollback, each re-running rewindEpochs) */
  worstCaseS: number;
  parts: { stepsS: number; validationS: number; hessianS: number; discretizationS: number; selectionS: number };
}

/** Rollbacks DARTS-ADA can make: L2 multiplied by η until the reference's final test passes (at most 50). */
export function adaMaxRollbacks(l2Init: number, eta: number, l2Max: number): number {
  let l2 = l2Init;
  let r = 0;
  if (isFinalRegularization(l2, l2Max)) return 0;
  while (r < 50) {
    l2 *= eta;
    r++;
    if (isFinalRegularization(l2, l2Max) || l2 > l2Max * 1.0001) break;
  }
  return r;
}

/** The run's counts from its configuration and the number of training images (after subset). */
export function runShape(cfg: SearchConfig, trainImages: number, batchSize = cfg.batchSize): RunShape {
  const nTrain = Math.floor(cfg.trainPortion * trainImages);
  const nVal = trainImages - nTrain;
  const perPass = Math.ceil(nTrain / batchSize);
  const stepsPerEpoch = Math.min(perPass, cfg.stepsPerEpoch ?? Infinity);
  const rswsBudget = cfg.method === 'rs-ws' ? cfg.rsws.steps : null;
  const epochs = rswsBudget === null ? cfg.epochs : Math.ceil(rswsBudget / stepsPerEpoch);
  const valBatches = Math.min(Math.ceil(nVal / batchSize), cfg.evalBatches ?? Infinity);
  const forced = cfg.method === 'darts-es' || cfg.method === 'darts-ada';
  const every = cfg.method === 'rs-ws' ? 0 : cfg.hessian.every > 0 ? cfg.hessian.every : forced ? 1 : 0;
  let hessianEpochs = 0;
  if (every > 0) for (let e = 0; e < epochs; e++) if (e % every === 0 || e === epochs - 1) hessianEpochs++;
  const disc = cfg.analysis.discretization;
  const discretizationPasses = disc === 'off' ? 0 : disc === 'end' ? 1 : disc === 'every' ? epochs : hessianEpochs + 1;
  const ada = cfg.method === 'darts-ada';
  const rewind = cfg.earlyStop.rule === 'paper' ? cfg.earlyStop.k : cfg.earlyStop.window - 1 + Math.max(every, 1) * cfg.earlyStop.delta;
  const members = cfg.method === 'rdarts-l2' ? cfg.grid.l2.length : cfg.method === 'rdarts-dp' ? cfg.grid.dropPath.length : 1;
  return {
    method: cfg.method,
    batchSize,
    trainImages,
    epochs,
    stepsPerEpoch,
    archStep: cfg.method !== 'rs-ws',
    valBatches,
    hessianEpochs,
    hessianBatches: cfg.hessian.batches,
    discretizationPasses,
    adaRollbacks: ada ? adaMaxRollbacks(cfg.weightDecay, cfg.ada.eta, cfg.ada.l2Max) : 0,
    rewindEpochs: ada ? Math.min(rewind, epochs) : 0,
    members,
    rswsScoreBatches: cfg.method === 'rs-ws' ? cfg.rsws.samples * cfg.rsws.scoreBatches + cfg.rsws.topK * valBatches : 0,
  };
}

/** Largest batch size whose predicted peak memory fits `limitBytes` (0 if not even batch 1 fits). */
export function maxBatchSize(fixedBytes: number, perSampleBytes: number, limitBytes: number): number {
  if (!(perSampleBytes > 0)) return Number.POSITIVE_INFINITY;
  return Math.max(0, Math.floor((limitBytes - fixedBytes) / perSampleBytes));
}

/** Peak memory at `batchSize` from a calibration's resident-set sizes (fixed part + a part per sample), and the largest batch that fits the limit. */
function memoryForecast(cal: { batchSize: number; rssFixedBytes: number; rssPeakBytes: number }, batchSize: number, memoryLimitBytes: number | null): MemoryForecast {
  const fixedBytes = cal.rssFixedBytes;
  const perSampleBytes = Math.max(0, cal.rssPeakBytes - cal.rssFixedBytes) / cal.batchSize;
  const peakBytes = fixedBytes + perSampleBytes * batchSize;
  return {
    peakBytes,
    fixedBytes,
    perSampleBytes,
    maxBatchSize: memoryLimitBytes === null ? null : maxBatchSize(fixedBytes, perSampleBytes, memoryLimitBytes),
    memoryLimitBytes,
    fits: memoryLimitBytes === null ? null : peakBytes <= memoryLimitBytes,
  };
}

/** Predict the run of `shape` from `cal`. */
export function predict(cal: Calibration, shape: RunShape, memoryLimitBytes: number | null = null): Plan {
  const scale = shape.batchSize / cal.batchSize;
  const stepS = ((shape.archStep ? cal.archStepS : 0) + cal.weightStepS) * scale;
  const evalBatchS = cal.evalBatchS * scale;
  const validationPassS = evalBatchS * shape.valBatches;
  const hessianMeasurementS = (cal.hessianS ?? 0) * scale * shape.hessianBatches;
  const trainEpochS = stepS * shape.stepsPerEpoch;
  const epochS = trainEpochS + validationPassS;
  const stepsS = trainEpochS * shape.epochs;
  const validationS = validationPassS * shape.epochs;
  const hessianS = hessianMeasurementS * shape.hessianEpochs;
  const discretizationS = validationPassS * shape.discretizationPasses;
  const selectionS = evalBatchS * shape.rswsScoreBatches;
  const one = stepsS + validationS + hessianS + discretizationS + selectionS;
  const totalS = one * shape.members;
  const perHessianEpoch = shape.hessianEpochs > 0 ? hessianS / shape.hessianEpochs : 0;
  // a re-run epoch costs a normal epoch plus (at most) a Hessian measurement
  const extra = shape.adaRollbacks * shape.rewindEpochs * (epochS + perHessianEpoch);
  const worstCaseS = (one + extra) * shape.members;
  return {
    batchSize: shape.batchSize,
    stepS,
    epochS,
    validationPassS,
    hessianMeasurementS,
    totalS,
    worstCaseS,
    parts: { stepsS, validationS, hessianS, discretizationS, selectionS },
    ...memoryForecast(cal, shape.batchSize, memoryLimitBytes),
  };
}

/** Parse a memory size: '8G', '512M', '8GiB', '1.5g', or plain bytes. */
export function parseMemory(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(s);
  if (!m) throw new RangeError(`'${s}' is not a memory size (e.g. 8G, 512M, 1.5GiB)`);
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * unit);
}

/** 3723 → '1 h 2 min'; 42.3 → '42.3 s'. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return String(s);
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

export const formatBytes = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`);

// ------------------------------------------------------------------ training a found cell (rdarts train --plan)

/** What a training calibration measured (seconds: medians). */
export interface TrainCalibration {
  device: string;
  threads: number;
  batchSize: number;
  steps: number;
  /** forward (+ auxiliary head) + backward + clip + SGD, s */
  stepS: number;
  /** one evaluation batch (eval mode, no grad), s */
  evalBatchS: number;
  rssFixedBytes: number;
  rssPeakBytes: number;
}

export interface TrainShape {
  batchSize: number;
  epochs: number;
  stepsPerEpoch: number;
  /** batches per evaluation pass */
  evalBatches: number;
  /** epochs with an evaluation pass (every evalEvery-th and the last) */
  evalPasses: number;
}

export interface TrainPlan extends MemoryForecast {
  batchSize: number;
  stepS: number;
  epochS: number;
  evalPassS: number;
  totalS: number;
  imagesPerSecond: number;
}

/** Counts of a training: images that train and evaluate, batch size, epochs, stepsPerEpoch cap, evalEvery, evalBatches cap. */
export function trainShape(o: { trainImages: number; evalImages: number; batchSize: number; epochs: number; stepsPerEpoch: number | null; evalEvery: number; evalBatches: number | null }): TrainShape {
  const stepsPerEpoch = Math.min(Math.ceil(o.trainImages / o.batchSize), o.stepsPerEpoch ?? Infinity);
  const evalBatches = Math.min(Math.ceil(o.evalImages / o.batchSize), o.evalBatches ?? Infinity);
  let evalPasses = 0;
  for (let e = 0; e < o.epochs; e++) if (e === o.epochs - 1 || (e + 1) % o.evalEvery === 0) evalPasses++;
  return { batchSize: o.batchSize, epochs: o.epochs, stepsPerEpoch, evalBatches, evalPasses };
}

export function predictTraining(cal: TrainCalibration, shape: TrainShape, memoryLimitBytes: number | null = null): TrainPlan {
  const scale = shape.batchSize / cal.batchSize;
  const stepS = cal.stepS * scale;
  const evalPassS = cal.evalBatchS * scale * shape.evalBatches;
  const epochS = stepS * shape.stepsPerEpoch;
  const totalS = epochS * shape.epochs + evalPassS * shape.evalPasses;
  return {
    batchSize: shape.batchSize,
    stepS,
    epochS,
    evalPassS,
    totalS,
    imagesPerSecond: shape.batchSize / stepS,
    ...memoryForecast(cal, shape.batchSize, memoryLimitBytes),
  };
}
