/**
 * The planner for `rdarts train` (docs/planner.md): a few timed training steps of the evaluation
 * network of the real configuration (data loaded as the training loads it, the EvalTrainer's
 * own network and optimiser) on random batches of the data's shape, evaluation batches through
 * the trainer's own pass, RSS before and after; the forecast is plan-model.ts (pure).
 */
import { F, clipGradNorm, getNumThreads, grad, noGrad, randn, tensor, tidy, type Device, type Tensor } from '../torch/index.js';
import { EvalTrainer } from '../search/eval-trainer.js';
import type { EvalConfig } from '../search/eval-config.js';
import { Rng } from '../util/rng.js';
import { loadTrainData } from './train-run.js';
import { predictTraining, trainShape, type TrainCalibration, type TrainPlan, type TrainShape } from './plan-model.js';

const median = (v: number[]): number => {
  const s = [...v].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : 0.5 * (s[n / 2 - 1]! + s[n / 2]!);
};

export interface TrainingPlan {
  config: { dataset: string; layers: number; channels: number; epochs: number; batchSize: number; auxiliary: boolean; device: string };
  calibration: TrainCalibration;
  shape: TrainShape;
  plan: TrainPlan;
  autoBatchSize: number | null;
}

export async function calibrateTraining(cfg: EvalConfig, o: { steps?: number; warmup?: number; onNote?: (m: string) => void } = {}): Promise<{ calibration: TrainCalibration; trainImages: number; evalImages: number }> {
  const steps = o.steps ?? 3;
  const warmup = o.warmup ?? 1;
  const note = o.onNote ?? (() => {});
  const data = await loadTrainData(cfg);
  const trainer = new EvalTrainer({ ...cfg, evalBatches: Math.max(1, Math.min(2, cfg.evalBatches ?? Infinity)) }, data);
  const rssFixedBytes = process.memoryUsage().rss;
  try {
    const { model, opt } = trainer;
    const device = cfg.device as Device;
    const B = cfg.batchSize;
    const t = data.train;
    const rng = new Rng(cfg.seed + 17);
    const onDevice = (x: Tensor): Tensor => (device === 'cpu' ? x : x.to(device));
    model.train();
    model.dropPathProb = cfg.dropPath;
    const times: number[] = [];
    for (let i = 0; i < warmup + steps; i++) {
      tidy(() => {
        const x = onDevice(randn([B, t.channels, t.height, t.width]));
        const y = onDevice(tensor(Array.from({ length: B }, () => rng.int(t.numClasses)), [B]).to('int64'));
        const t0 = performance.now();
        const out = model.forward(x);
        let lossT = F.crossEntropy(out.logits, y);
        if (out.auxLogits && cfg.auxiliaryWeight > 0) lossT = lossT.add(F.crossEntropy(out.auxLogits, y).mul(cfg.auxiliaryWeight));
        lossT.item();
        const ps = opt.params;
        const gs = grad(lossT, ps, { allowUnused: true });
        ps.forEach((p, k) => (p.grad = gs[k] ?? null));
        clipGradNorm(ps, cfg.gradClip);
        opt.step();
        opt.zeroGrad();
        noGrad(() => ps[0]!.sum().item());
        const dt = (performance.now() - t0) / 1e3;
        if (i >= warmup) times.push(dt);
        note(`calibration step ${i + 1}/${warmup + steps}${i < warmup ? ' (warm-up)' : ''}: ${dt.toFixed(3)} s`);
      });
    }
    const nEval = Math.min(2, Math.ceil(trainer.evalIndices.length / B));
    const t0 = performance.now();
    trainer.evaluate();
    const evalBatchS = (performance.now() - t0) / 1e3 / nEval;
    note(`calibration evaluation: ${evalBatchS.toFixed(3)} s per batch`);
    const rssPeakBytes = Math.max(process.resourceUsage().maxRSS * 1024, process.memoryUsage().rss);
    return {
      calibration: { device: cfg.device, threads: getNumThreads(), batchSize: B, steps, stepS: median(times), evalBatchS, rssFixedBytes, rssPeakBytes },
      trainImages: trainer.trainIndices.length,
      evalImages: trainer.evalIndices.length,
    };
  } finally {
    trainer.dispose();
  }
}

/** Calibrate and predict a training; with `auto`, calibrate at batch 16 and take the largest batch under the limit (≤ 1024, ≤ the training images). */
export async function planTraining(cfg: EvalConfig, o: { memoryLimitBytes?: number | null; auto?: boolean; steps?: number; onNote?: (m: string) => void } = {}): Promise<TrainingPlan> {
  const limit = o.memoryLimitBytes ?? null;
  const calCfg = o.auto ? { ...cfg, batchSize: 16 } : cfg;
  const { calibration, trainImages, evalImages } = await calibrateTraining(calCfg, { ...(o.steps !== undefined ? { steps: o.steps } : {}), ...(o.onNote ? { onNote: o.onNote } : {}) });
  const shapeAt = (batchSize: number): TrainShape => trainShape({ trainImages, evalImages, batchSize, epochs: cfg.epochs, stepsPerEpoch: cfg.stepsPerEpoch, evalEvery: cfg.evalEvery, evalBatches: cfg.evalBatches });
  let batchSize = cfg.batchSize;
  let auto: number | null = null;
  if (o.auto) {
    const probe = predictTraining(calibration, shapeAt(calCfg.batchSize), limit);
    auto = Math.max(1, Math.min(probe.maxBatchSize ?? 1024, 1024, trainImages));
    batchSize = auto;
  }
  const shape = shapeAt(batchSize);
  return {
    config: { dataset: cfg.dataset, layers: cfg.layers, channels: cfg.channels, epochs: cfg.epochs, batchSize, auxiliary: cfg.auxiliary, device: cfg.device },
    calibration,
    shape,
    plan: predictTraining(calibration, shape, limit),
    autoBatchSize: auto,
  };
}
