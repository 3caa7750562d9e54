/**
 * Training a found S6 cell from scratch (docs/disparity.md#evaluation): the evaluation network of
 * a genotype (nas/disp/model.ts DispEvalNet), trained on the multi-scale EPE loss with Adam as
 * DispNet trains (Mayer et al. 2016: Adam, β (0.9, 0.999), lr 1e-4, weight decay 4e-4) on
 * augmented crops, then measured by end-point error on the test split (FlyingThings3D's TEST set,
 * or the synthetic set's test scenes) and, when a Sintel root is given, on Sintel — the columns
 * of the paper's Table 2. The number reported is the EPE after the last epoch (no best-epoch
 * picking). Its configuration is one typed object (defaults ← file ← flags), validated with the
 * field named. Opens no files: data come in, a recorder takes what is written.
 */
import { z } from 'zod';
import { Adam, Tensor, clipGradNorm, cosineAnnealingLr, getRngState, grad, libtorchVersion, manualSeed, noGrad, setRngState, tensor, tidy, type Device } from '../../torch/index.js';
import { BatchLoader, stereoBatch, stereoFingerprint, type StereoDataset } from '../../data/index.js';
import { DispEvalNet } from '../../nas/disp/model.js';
import { dispGenotypeFromJSON, formatDispGenotypeRepr, type DispGenotype } from '../../nas/disp/genotype.js';
import { CheckpointError, ConfigError, DivergenceError } from '../../errors.js';
import { Rng, type RngState } from '../../util/rng.js';
import { VERSION } from '../../version.js';
import { int, issueLines, num } from '../schema.js';
import { mergeConfig, type DeepPartial } from '../config.js';
import type { LogLengths, RunRecorder } from '../recorder.js';
import { DISP_DATASETS } from './config.js';

export const DispEvalConfigSchema = z
  .object({
    space: z.literal('s6'),
    genotype: z.unknown(),
    genotypeSource: z.string(),
    /** the search run this cell came from (null: given by hand) */
    searchRun: z.string().nullable(),
    dataset: z.enum(DISP_DATASETS),
    dataDir: z.string().nullable(),
    synthetic: z.object({ n: int(2), testN: int(1), height: int(8), width: int(8), maxDisparity: num(0), seed: int(0) }).strict(),
    limit: int(1).nullable(),
    downscale: int(1),
    /** MPI Sintel root: its EPE is reported beside the test split's (null: not measured) */
    sintelDir: z.string().nullable(),
    network: z.object({ C: int(1), stemMultiplier: int(1), featureDepth: int(1), encoderDepth: int(1), decoderDepth: int(1), maxDisplacement: int(0) }).strict(),
    crop: z.tuple([int(8), int(8)]).nullable(),
    augment: num(0, 4),
    epochs: int(1),
    batchSize: int(1),
    lr: num(0),
    lrMin: num(0),
    weightDecay: num(0),
    /** gradient norm clip (0: none) */
    gradClip: num(0),
    seed: int(0),
    stepsPerEpoch: int(1).nullable(),
    /** test EPE every k epochs and after the last */
    evalEvery: int(1),
    evalBatches: int(1).nullable(),
    device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, "must be 'cpu', 'cuda' or 'cuda:N'"),
    keepCheckpoints: int(1),
  })
  .strict();

export type DispEvalConfig = Omit<z.infer<typeof DispEvalConfigSchema>, 'genotype'> & { genotype: DispGenotype };

export const DEFAULT_DISP_EVAL_CONFIG: Omit<DispEvalConfig, 'genotype' | 'genotypeSource'> = {
  space: 's6',
  searchRun: null,
  dataset: 'synthetic',
  dataDir: null,
  synthetic: { n: 400, testN: 100, height: 384, width: 768, maxDisparity: 96, seed: 0 },
  limit: null,
  downscale: 1,
  sintelDir: null,
  network: { C: 18, stemMultiplier: 2, featureDepth: 1, encoderDepth: 6, decoderDepth: 4, maxDisplacement: 40 },
  crop: [384, 768],
  augment: 1,
  epochs: 100,
  batchSize: 4,
  lr: 1e-4,
  lrMin: 0,
  weightDecay: 4e-4,
  gradClip: 0,
  seed: 0,
  stepsPerEpoch: null,
  evalEvery: 1,
  evalBatches: null,
  device: 'cpu',
  keepCheckpoints: 2,
};

/** The reduced training of `--mini` (the search's --mini network and data). */
export const MINI_DISP_EVAL_OVERRIDES: DeepPartial<DispEvalConfig> = {
  synthetic: { n: 32, testN: 16, height: 32, width: 64, maxDisparity: 8, seed: 0 },
  network: { C: 2, stemMultiplier: 1, featureDepth: 1, encoderDepth: 2, decoderDepth: 2, maxDisplacement: 2 },
  crop: null,
  epochs: 4,
  batchSize: 4,
  lr: 1e-3,
};

export function validateDispEvalConfig(raw: unknown, source = 'config'): DispEvalConfig {
  const r = DispEvalConfigSchema.safeParse(raw);
  if (!r.success) throw new ConfigError(`${source} is not a valid S6 training configuration:\n${issueLines(r.error)}`, 'fix the named field(s); docs/disparity.md#evaluation lists every field and its default');
  const c = r.data;
  const genotype = dispGenotypeFromJSON(c.genotype, `${source}: genotype`);
  if (c.dataset !== 'synthetic' && !c.dataDir) throw new ConfigError(`${source}: dataset ${c.dataset} needs dataDir`, 'point --data-dir at the dataset root (docs/disparity.md#data)');
  if (c.lrMin > c.lr) throw new ConfigError(`${source}: lrMin (${c.lrMin}) exceeds lr (${c.lr})`);
  return { ...c, genotype };
}

/** Defaults ← file ← overrides (genotype in JSON form), then validation. */
export function resolveDispEvalConfig(file: Record<string, unknown> | undefined, overrides: Record<string, unknown>, source = 'config'): DispEvalConfig {
  return validateDispEvalConfig(mergeConfig(DEFAULT_DISP_EVAL_CONFIG as Record<string, unknown>, file, overrides), source);
}

/** EPE of a set (input pixels, over its valid ground-truth pixels) and the pixels counted. */
export interface EpeMeasure {
  epe: number;
  pixels: number;
  pairs: number;
}

export type DispEvalEvent =
  | { type: 'start'; epochs: number; stepsPerEpoch: number; parameters: number; resumedFrom: number | null }
  | { type: 'step'; epoch: number; step: number; steps: number; loss: number; epe: number }
  | { type: 'epoch'; epoch: number; train: { loss: number; epe: number }; test: EpeMeasure | null; seconds: number }
  | { type: 'note'; message: string };

export interface DispEvalResult {
  genotype: DispGenotype;
  repr: string;
  epochs: number;
  parameters: number;
  /** EPE on the test split after the last epoch */
  test: EpeMeasure;
  /** EPE on Sintel (null: no Sintel root given) */
  sintel: EpeMeasure | null;
  location: string | null;
}

interface DispEvalState {
  kind: 's6-train';
  epoch: number;
  adam: { steps: number[] };
  torchRng: string;
  augRng: RngState;
  loader: ReturnType<BatchLoader['getState']>;
  logs: LogLengths;
  lastTest: EpeMeasure | null;
}

export interface DispEvalData {
  train: StereoDataset;
  test: StereoDataset;
  sintel: StereoDataset | null;
}

export class DispEvalTrainer {
  readonly model: DispEvalNet;
  readonly opt: Adam;
  readonly stepsPerEpoch: number;
  private readonly loader: BatchLoader;
  private readonly augRng: Rng;
  private readonly device: Device;
  private readonly recorder: RunRecorder | null;
  private readonly emit: (e: DispEvalEvent) => void;
  private epoch = 0;
  private lastTest: EpeMeasure | null = null;

  constructor(
    readonly cfg: DispEvalConfig,
    readonly data: DispEvalData,
    o: { recorder?: RunRecorder | null; onEvent?: (e: DispEvalEvent) => void } = {},
  ) {
    this.recorder = o.recorder ?? null;
    this.emit = o.onEvent ?? (() => {});
    this.device = cfg.device as Device;
    manualSeed(cfg.seed);
    this.model = new DispEvalNet(cfg.genotype, cfg.network);
    const f = 2 ** this.model.layout.deepestLevel;
    const [h, w] = cfg.crop ?? [data.train.height, data.train.width];
    if (h > data.train.height || w > data.train.width) throw new ConfigError(`crop ${h}×${w} is larger than the training images (${data.train.height}×${data.train.width})`, 'set crop to at most the image size, or null for whole images');
    if (h % f || w % f) throw new ConfigError(`the ${cfg.crop ? 'crop' : 'image size'} ${h}×${w} is not a multiple of ${f} (2^${this.model.layout.deepestLevel})`, 'set crop to multiples of it');
    if (this.device !== 'cpu') this.model.to(this.device);
    this.opt = new Adam(this.model.parameters(), { lr: cfg.lr, betas: [0.9, 0.999], weightDecay: cfg.weightDecay });
    this.loader = new BatchLoader(Int32Array.from({ length: data.train.n }, (_, i) => i), cfg.batchSize, new Rng(cfg.seed * 1000 + 11));
    this.augRng = new Rng(cfg.seed * 1000 + 13);
    this.stepsPerEpoch = Math.min(this.loader.stepsPerEpoch, cfg.stepsPerEpoch ?? Infinity);
  }

  describe(): Record<string, unknown> {
    return {
      ...this.cfg,
      genotype: { normal: this.cfg.genotype.normal, normal_concat: this.cfg.genotype.normalConcat, reduce: this.cfg.genotype.reduce, reduce_concat: this.cfg.genotype.reduceConcat, upsample: this.cfg.genotype.upsample, upsample_concat: this.cfg.genotype.upsampleConcat },
      repr: formatDispGenotypeRepr(this.cfg.genotype),
      library: { name: 'robust-darts', version: VERSION, libtorch: libtorchVersion() },
      dataFingerprint: stereoFingerprint(this.data.train),
      testFingerprint: stereoFingerprint(this.data.test),
      parameters: this.model.numParameters(),
      stepsPerEpoch: this.stepsPerEpoch,
    };
  }

  private tensors(ds: StereoDataset, idx: ArrayLike<number>, augment: number, crop: [number, number] | null, rng: Rng): { x: Tensor; y: Tensor } {
    const b = stereoBatch(ds, idx, { ...(crop ? { crop } : {}), augment }, rng);
    const to = this.device === 'cpu' ? {} : { device: this.device };
    return { x: tensor(b.x, b.shape, to), y: tensor(b.y, [b.shape[0], 1, b.shape[2], b.shape[3]], to) };
  }

  /** The EPE of the finest prediction at full resolution over a set (eval mode, no augmentation; centre-cropped to the network's multiple). */
  measure(ds: StereoDataset): EpeMeasure {
    const f = 2 ** this.model.layout.deepestLevel;
    const crop: [number, number] | null = ds.height % f || ds.width % f ? [ds.height - (ds.height % f), ds.width - (ds.width % f)] : null;
    const B = this.cfg.batchSize;
    const max = this.cfg.evalBatches ?? Infinity;
    const was = this.model.training;
    this.model.eval();
    let sum = 0;
    let pixels = 0;
    let pairs = 0;
    try {
      noGrad(() => {
        for (let b = 0; b * B < ds.n && b < max; b++) {
          tidy(() => {
            const idx = Array.from({ length: Math.min(B, ds.n - b * B) }, (_, i) => b * B + i);
            const t = this.tensors(ds, idx, 0, crop, new Rng(0));
            const e = this.model.epeOf(this.model.forward(t.x), t.y);
            sum += e.sum;
            pixels += e.count;
            pairs += idx.length;
          });
        }
      });
    } finally {
      this.model.train(was);
    }
    return { epe: sum / Math.max(1, pixels), pixels, pairs };
  }

  async run(): Promise<DispEvalResult> {
    this.emit({ type: 'start', epochs: this.cfg.epochs, stepsPerEpoch: this.stepsPerEpoch, parameters: this.model.numParameters(), resumedFrom: this.epoch > 0 ? this.epoch - 1 : null });
    while (this.epoch < this.cfg.epochs) {
      const epoch = this.epoch;
      const t0 = performance.now();
      this.opt.lr = cosineAnnealingLr(epoch, this.cfg.lr, this.cfg.epochs, this.cfg.lrMin);
      this.model.train();
      let lossSum = 0;
      let epeSum = 0;
      for (let s = 0; s < this.stepsPerEpoch; s++) {
        const r = tidy(() => {
          const t = this.tensors(this.data.train, this.loader.next().indices, this.cfg.augment, this.cfg.crop, this.augRng);
          const preds = this.model.forward(t.x);
          const lossT = this.model.lossOf(preds, t.y);
          const loss = lossT.item();
          if (!Number.isFinite(loss)) return { loss, epe: NaN };
          const ps = this.model.parameters();
          const gs = grad(lossT, ps) as Tensor[];
          ps.forEach((p, i) => (p.grad = gs[i]!));
          if (this.cfg.gradClip > 0) clipGradNorm(ps, this.cfg.gradClip);
          this.opt.step();
          this.opt.zeroGrad();
          const e = this.model.epeOf(preds, t.y);
          return { loss, epe: e.sum / Math.max(1, e.count) };
        });
        if (!Number.isFinite(r.loss)) throw new DivergenceError(`the training loss became ${r.loss} at epoch ${epoch}, step ${s}`, 'lower --lr, then resume with --resume or start anew');
        lossSum += r.loss;
        epeSum += r.epe;
        this.emit({ type: 'step', epoch, step: s, steps: this.stepsPerEpoch, loss: lossSum / (s + 1), epe: epeSum / (s + 1) });
      }
      const last = epoch === this.cfg.epochs - 1;
      const test = last || (epoch + 1) % this.cfg.evalEvery === 0 ? this.measure(this.data.test) : null;
      if (test) this.lastTest = test;
      const train = { loss: lossSum / this.stepsPerEpoch, epe: epeSum / this.stepsPerEpoch };
      const seconds = (performance.now() - t0) / 1000;
      this.recorder?.appendMetrics({ kind: 'epoch', epoch, lr: this.opt.lr, train, test, seconds });
      this.emit({ type: 'epoch', epoch, train, test, seconds });
      this.epoch = epoch + 1;
      this.checkpoint();
    }
    const sintel = this.data.sintel ? this.measure(this.data.sintel) : null;
    const result: DispEvalResult = {
      genotype: this.cfg.genotype,
      repr: formatDispGenotypeRepr(this.cfg.genotype),
      epochs: this.epoch,
      parameters: this.model.numParameters(),
      test: this.lastTest ?? this.measure(this.data.test),
      sintel,
      location: this.recorder?.location ?? null,
    };
    this.recorder?.writeResult({
      ...result,
      genotype: (this.describe() as { genotype: unknown }).genotype,
      testEpe: result.test.epe,
      sintelEpe: sintel ? sintel.epe : null,
      parametersM: result.parameters / 1e6,
      searchRun: this.cfg.searchRun,
    });
    return result;
  }

  private checkpoint(): void {
    if (!this.recorder) return;
    const t = new Map<string, Tensor>();
    for (const [n, p] of this.model.namedParameters()) t.set(`w.${n}`, p);
    for (const [n, b] of this.model.namedBuffers()) t.set(`buf.${n}`, b);
    this.opt.slots.forEach((s, i) => {
      if (s.expAvg) t.set(`adam.exp_avg.${i}`, s.expAvg);
      if (s.expAvgSq) t.set(`adam.exp_avg_sq.${i}`, s.expAvgSq);
    });
    const st: DispEvalState = {
      kind: 's6-train',
      epoch: this.epoch,
      adam: { steps: this.opt.slots.map((s) => s.step) },
      torchRng: Buffer.from(getRngState()).toString('base64'),
      augRng: this.augRng.getState(),
      loader: this.loader.getState(),
      logs: this.recorder.lengths(),
      lastTest: this.lastTest,
    };
    this.recorder.saveCheckpoint(this.epoch - 1, t, st);
    this.recorder.pruneCheckpoints(this.cfg.keepCheckpoints);
  }

  resume(onSkip?: (epoch: number, err: Error) => void): number | null {
    if (!this.recorder) throw new CheckpointError('resume needs a run folder');
    const ck = this.recorder.loadLatestCheckpoint<DispEvalState>(onSkip);
    if (!ck) return null;
    const st = ck.state;
    if (st.kind !== 's6-train') throw new CheckpointError(`the checkpoint is not one of an S6 training (kind ${String(st.kind)})`);
    const need = (name: string): Tensor => {
      const x = ck.tensors.get(name);
      if (!x) throw new CheckpointError(`checkpoint lacks tensor '${name}'`, 'the checkpoint was written for another network');
      return x;
    };
    noGrad(() => {
      for (const [n, p] of this.model.namedParameters()) p.copy_(need(`w.${n}`));
      for (const [n, b] of this.model.namedBuffers()) b.copy_(need(`buf.${n}`));
    });
    this.opt.loadStateDict({ hyper: this.opt.hyper, slots: st.adam.steps.map((step, i) => ({ step, expAvg: ck.tensors.get(`adam.exp_avg.${i}`) ?? null, expAvgSq: ck.tensors.get(`adam.exp_avg_sq.${i}`) ?? null })) });
    setRngState(Uint8Array.from(Buffer.from(st.torchRng, 'base64')));
    this.augRng.setState(st.augRng);
    this.loader.setState(st.loader);
    this.lastTest = st.lastTest;
    this.epoch = st.epoch;
    this.recorder.truncateLogs(st.logs);
    for (const x of ck.tensors.values()) x.dispose();
    return ck.epoch;
  }

  dispose(): void {
    this.opt.dispose();
    this.model.dispose();
  }
}
