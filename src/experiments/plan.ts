/**
 * The planner's calibration (docs/planner.md): a short in-memory run of the real search
 * configuration on this machine and device — the data loaded as the search loads it, the
 * supernet, optimisers and architect built by the SearchTrainer of that configuration — then a
 * few timed architecture and weight steps, validation batches and one Hessian measurement, and
 * the RSS before and after. Nothing is written. The forecast itself is plan-model.ts (pure).
 *
 * `calibrateSearch(cfg)` is exported for other planners (`rdarts study plan` can take per-step
 * seconds from `Calibration.archStepS + weightStepS`).
 */
import { F, clipGradNorm, getNumThreads, grad, noGrad, randn, tensor, tidy, type Device, type Tensor } from '../torch/index.js';
import { AlphaHessian, dominantEigenvalues } from '../analysis/hessian.js';
import { SearchTrainer } from '../search/trainer.js';
import type { SearchConfig } from '../search/config.js';
import type { ImageDataset } from '../data/index.js';
import { Rng } from '../util/rng.js';
import { loadSearchData } from './search-run.js';
import { predict, runShape, type Calibration, type Plan, type RunShape } from './plan-model.js';

export interface CalibrationOptions {
  /** timed repetitions of each measurement (default 3) */
  steps?: number;
  /** untimed steps first (default 1) */
  warmup?: number;
  /** validation batches timed (default 2, at most the split's) */
  evalBatches?: number;
  /** measure a Hessian (default: when the configuration measures one) */
  hessian?: boolean;
  /** pre-loaded data */
  data?: ImageDataset;
  /** progress lines (stderr in the CLI) */
  onNote?: (msg: string) => void;
}

const median = (v: number[]): number => {
  const s = [...v].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : 0.5 * (s[n / 2 - 1]! + s[n / 2]!);
};

/** Calibrate `cfg` at its batch size. Returns the measurements and the training-set size. */
export async function calibrateSearch(cfg: SearchConfig, o: CalibrationOptions = {}): Promise<{ calibration: Calibration; trainImages: number }> {
  const steps = o.steps ?? 3;
  const warmup = o.warmup ?? 1;
  const note = o.onNote ?? (() => {});
  const data = o.data ?? (await loadSearchData(cfg));
  const trainer = new SearchTrainer({ ...cfg, evalBatches: Math.max(1, Math.min(o.evalBatches ?? 2, cfg.evalBatches ?? Infinity)) }, { train: data });
  const device = cfg.device as Device;
  const rssFixedBytes = process.memoryUsage().rss;
  try {
    const { model, architect, wOpt } = trainer;
    const B = cfg.batchSize;
    const shape = [B, data.channels, data.height, data.width];
    const rng = new Rng(cfg.seed + 17);
    const onDevice = (t: Tensor): Tensor => (device === 'cpu' ? t : t.to(device));
    const batch = (): { x: Tensor; y: Tensor } => ({
      x: onDevice(randn(shape)),
      y: onDevice(tensor(Array.from({ length: B }, () => rng.int(data.numClasses)), [B]).to('int64')),
    });
    const archStep = cfg.method !== 'rs-ws';
    const arch: number[] = [];
    const weight: number[] = [];
    model.train();
    for (let i = 0; i < warmup + steps; i++) {
      tidy(() => {
        const train = batch();
        const val = batch();
        const t0 = performance.now();
        if (archStep) architect.step(train, val, { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay, momentumBuffers: wOpt.momentumBuffers });
        const t1 = performance.now();
        const ws = model.weightParameters();
        const lossT = F.crossEntropy(model.forward(train.x), train.y);
        lossT.item();
        const gs = grad(lossT, ws) as Tensor[];
        ws.forEach((w, k) => (w.grad = gs[k]!));
        clipGradNorm(ws, cfg.gradClip);
        wOpt.step();
        wOpt.zeroGrad();
        noGrad(() => ws[0]!.sum().item()); // wait for the device
        const t2 = performance.now();
        if (i >= warmup) {
          arch.push((t1 - t0) / 1e3);
          weight.push((t2 - t1) / 1e3);
        }
        note(`calibration step ${i + 1}/${warmup + steps}${i < warmup ? ' (warm-up)' : ''}: arch ${((t1 - t0) / 1e3).toFixed(3)} s, weight ${((t2 - t1) / 1e3).toFixed(3)} s`);
      });
    }
    // validation: the trainer's own pass over its first batches
    const ev: number[] = [];
    for (let r = 0; r < Math.max(1, Math.min(steps, 2)); r++) {
      const batches = [...trainer.validationBatches()];
      const t0 = performance.now();
      trainer.evaluate(undefined, batches);
      ev.push((performance.now() - t0) / 1e3 / batches.length);
    }
    note(`calibration validation: ${median(ev).toFixed(3)} s per batch`);
    let hessianS: number | null = null;
    let hessianHvps: number | null = null;
    const wantHessian = o.hessian ?? runShape(cfg, data.n).hessianEpochs > 0;
    if (wantHessian) {
      model.train();
      const b = batch();
      const t0 = performance.now();
      const h = new AlphaHessian(model, () => model.loss(b.x, b.y), cfg.hessian.includeWeightDecay ? cfg.archWeightDecay : 0);
      try {
        const r = await dominantEigenvalues(h, { method: cfg.hessian.method, topK: cfg.hessian.topK, maxIter: cfg.hessian.lanczosIterations, tol: cfg.hessian.lanczosTol, rng: new Rng(cfg.seed) });
        hessianHvps = r.operatorCalls;
      } finally {
        h.dispose();
        b.x.dispose();
        b.y.dispose();
      }
      hessianS = (performance.now() - t0) / 1e3;
      note(`calibration Hessian: ${hessianS.toFixed(3)} s (${hessianHvps} HVPs)`);
    }
    const rssPeakBytes = Math.max(process.resourceUsage().maxRSS * 1024, process.memoryUsage().rss);
    return {
      calibration: {
        device: cfg.device,
        threads: getNumThreads(),
        batchSize: B,
        steps,
        archStepS: archStep ? median(arch) : 0,
        weightStepS: median(weight),
        evalBatchS: median(ev),
        hessianS,
        hessianHvps,
        rssFixedBytes,
        rssPeakBytes,
      },
      trainImages: data.n,
    };
  } finally {
    trainer.dispose();
  }
}

export interface SearchPlan {
  config: { method: string; space: string; dataset: string; epochs: number; batchSize: number; layers: number; channels: number; order: string; device: string };
  calibration: Calibration;
  shape: RunShape;
  plan: Plan;
  /** set when the batch size was chosen by the planner (--batch-size auto) */
  autoBatchSize: number | null;
}

/** Largest batch that `--batch-size auto` may pick: the memory bound, at most 1024 and at most the training split. */
export function autoBatchSize(plan: Plan, trainSplit: number): number {
  const m = plan.maxBatchSize ?? 1024;
  return Math.max(1, Math.min(m, 1024, trainSplit));
}

/**
 * Calibrate and predict. With `auto`, calibrate at `calibrationBatch` (default 16) and choose the
 * batch size the memory limit allows (autoBatchSize), then predict at that size.
 */
export async function planSearch(
  cfg: SearchConfig,
  o: CalibrationOptions & { memoryLimitBytes?: number | null; auto?: boolean; calibrationBatch?: number } = {},
): Promise<SearchPlan> {
  const limit = o.memoryLimitBytes ?? null;
  const calCfg = o.auto ? { ...cfg, batchSize: o.calibrationBatch ?? 16 } : cfg;
  const { calibration, trainImages } = await calibrateSearch(calCfg, o);
  let batchSize = cfg.batchSize;
  let auto: number | null = null;
  if (o.auto) {
    const probe = predict(calibration, runShape(calCfg, trainImages), limit);
    auto = autoBatchSize(probe, Math.floor(cfg.trainPortion * trainImages));
    batchSize = auto;
  }
  const shape = runShape(cfg, trainImages, batchSize);
  const plan = predict(calibration, shape, limit);
  return {
    config: { method: cfg.method, space: cfg.spaceFile ?? cfg.space, dataset: cfg.dataset, epochs: cfg.epochs, batchSize, layers: cfg.layers, channels: cfg.channels, order: cfg.order, device: cfg.device },
    calibration,
    shape,
    plan,
    autoBatchSize: auto,
  };
}
