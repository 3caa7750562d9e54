/**
 * The bilevel search in S6 (docs/disparity.md#search): for each training batch an architecture
 * step on a random validation batch (search/architect.ts, first or second order, unchanged from
 * the CNN search), then a weight step on the multi-scale EPE loss; at each epoch's end the
 * validation EPE (full resolution, finest prediction), the genotype, the plug-ins (the Hessian
 * monitor of search/methods/hessian-monitor.ts, DARTS-ES of search/methods/es.ts) and a
 * checkpoint through the run's recorder. The augmentation strength (`augment`) and the weight
 * decay (`weightDecay`) are the two inner-loop regularisers of the paper's Table 2.
 * Opens no files.
 */
import { SGD, Tensor, clipGradNorm, cosineAnnealingLr, getRngState, grad, libtorchVersion, manualSeed, noGrad, setRngState, tensor, tidy, type Device } from '../../torch/index.js';
import { BatchLoader, RandomBatchSampler, stereoBatch, stereoFingerprint, trainValSplit, type StereoDataset } from '../../data/index.js';
import { DispSupernet } from '../../nas/disp/model.js';
import { dispGenotypeFromJSON, dispGenotypeToJSON, formatDispGenotypeRepr, type DispGenotype } from '../../nas/disp/genotype.js';
import { CheckpointError, ConfigError, DivergenceError } from '../../errors.js';
import { Rng, type RngState } from '../../util/rng.js';
import { VERSION } from '../../version.js';
import { Architect, type Batch } from '../architect.js';
import { EarlyStopPlugin, earlyStopOptions } from '../methods/es.js';
import { HessianMonitor, hessianMonitorOptions, type HessianContext } from '../methods/hessian-monitor.js';
import type { EarlyStopOptions, EarlyStopRuleName } from '../methods/es-rules.js';
import type { HessianMeasurement, PluginDecision } from '../plugin.js';
import type { LogLengths, RunRecorder } from '../recorder.js';
import type { EpochLogLine } from '../run-lines.js';
import { dispHessianEvery, type DispSearchConfig } from './config.js';

/** Loss and EPE of a pass (EPE in input pixels, over the valid ground-truth pixels). */
export interface LossEpe {
  loss: number;
  epe: number;
}

export type DispSearchEvent =
  | { type: 'start'; epochs: number; stepsPerEpoch: number; resumedFrom: number | null; parameters: number; alphas: number }
  | { type: 'step'; epoch: number; step: number; steps: number; loss: number; epe: number; lr: number }
  | { type: 'epoch'; epoch: number; train: LossEpe; valid: LossEpe; seconds: number; genotype: string }
  | { type: 'note'; message: string };

export interface DispSearchResult {
  genotype: DispGenotype;
  repr: string;
  stopReason: 'completed' | 'early-stop';
  genotypeEpoch: number;
  epochsRun: number;
  finalValid: LossEpe | null;
  runDir: string | null;
}

/** The epoch-end context of the disparity search's plug-ins. */
export interface DispEpochContext extends HessianContext {
  genotype: DispGenotype | null;
  earlyStop: { detectEpoch: number; stopEpoch: number; rule: string } | null;
  model: DispSupernet;
  genotypeAt(e: number): DispGenotype | null;
}

export interface DispSearchPlugin {
  readonly name: string;
  onEpochEnd?(ctx: DispEpochContext): Promise<PluginDecision | void> | PluginDecision | void;
  getState?(): unknown;
  setState?(state: unknown): void;
}

/** DARTS-ES on S6: the CNN's plug-in with the disparity genotype's repr. */
export class DispEarlyStopPlugin extends EarlyStopPlugin<DispGenotype> implements DispSearchPlugin {
  constructor(ruleName: EarlyStopRuleName, options: EarlyStopOptions) {
    super(ruleName, options, 'stop', formatDispGenotypeRepr);
  }
}

/** darts: the Hessian monitor when hessian.every > 0; darts-es: monitor + early stop. */
export function buildDispPlugins(cfg: DispSearchConfig): DispSearchPlugin[] {
  const plugins: DispSearchPlugin[] = [];
  const every = dispHessianEvery(cfg);
  if (every > 0) {
    plugins.push(
      new HessianMonitor(hessianMonitorOptions(cfg, every)),
    );
  }
  const es = cfg.earlyStop;
  if (cfg.method === 'darts-es') {
    plugins.push(new DispEarlyStopPlugin(es.rule, earlyStopOptions(es, every, cfg.epochs)));
  }
  return plugins;
}

/** The `state` beside a checkpoint's tensors (field names are the file format). */
interface DispTrainerState {
  kind: 's6-search';
  epoch: number;
  sgd: { lr: number; weightDecay: number; hasBuffers: boolean[] };
  adam: { steps: number[] };
  torchRng: string;
  augRng: RngState;
  trainLoader: ReturnType<BatchLoader['getState']>;
  valSampler: ReturnType<RandomBatchSampler['getState']>;
  plugins: Record<string, unknown>;
  logs: LogLengths;
  genotypes: Record<string, unknown>;
  lastValid: LossEpe | null;
  stop: { reason: string; genotypeEpoch: number } | null;
}

export class DispSearchTrainer {
  readonly model: DispSupernet;
  readonly architect: Architect;
  readonly wOpt: SGD;
  readonly plugins: DispSearchPlugin[];
  readonly stepsPerEpoch: number;
  readonly valIndices: Int32Array;
  private readonly trainLoader: BatchLoader;
  private readonly valSampler: RandomBatchSampler;
  private readonly augRng: Rng;
  private readonly device: Device;
  private readonly recorder: RunRecorder | null;
  private readonly emit: (e: DispSearchEvent) => void;
  private epoch = 0;
  private genotypes = new Map<number, DispGenotype>();
  private lastValid: LossEpe | null = null;
  private stopped: { reason: string; genotypeEpoch: number } | null = null;

  constructor(
    readonly cfg: DispSearchConfig,
    readonly data: StereoDataset,
    o: { plugins?: DispSearchPlugin[]; recorder?: RunRecorder | null; onEvent?: (e: DispSearchEvent) => void } = {},
  ) {
    this.recorder = o.recorder ?? null;
    this.emit = o.onEvent ?? (() => {});
    this.plugins = o.plugins ?? [];
    this.device = cfg.device as Device;
    manualSeed(cfg.seed);
    this.model = new DispSupernet(cfg.network);
    const f = 2 ** this.model.layout.deepestLevel;
    const [h, w] = cfg.crop ?? [data.height, data.width];
    if (h > data.height || w > data.width) throw new ConfigError(`crop ${h}×${w} is larger than the images (${data.height}×${data.width})`);
    if (h % f || w % f) throw new ConfigError(`the ${cfg.crop ? 'crop' : 'image size'} ${h}×${w} is not a multiple of ${f} (2^${this.model.layout.deepestLevel}, the network's deepest scale)`, 'set crop to multiples of it');
    if (this.device !== 'cpu') this.model.to(this.device);
    this.wOpt = new SGD(this.model.weightParameters(), { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
    this.architect = new Architect(this.model, { order: cfg.order, hvp: cfg.hvp, lr: cfg.archLr, betas: cfg.archBetas, weightDecay: cfg.archWeightDecay });
    const split = trainValSplit(data.n, cfg.trainPortion);
    this.valIndices = split.val;
    this.trainLoader = new BatchLoader(split.train, cfg.batchSize, new Rng(cfg.seed * 1000 + 1));
    this.valSampler = new RandomBatchSampler(split.val, cfg.batchSize, new Rng(cfg.seed * 1000 + 2));
    this.augRng = new Rng(cfg.seed * 1000 + 3);
    this.stepsPerEpoch = Math.min(this.trainLoader.stepsPerEpoch, cfg.stepsPerEpoch ?? Infinity);
  }

  /** The resolved description written to config.json. */
  describe(): Record<string, unknown> {
    return {
      ...this.cfg,
      library: { name: 'robust-darts', version: VERSION, libtorch: libtorchVersion() },
      dataFingerprint: stereoFingerprint(this.data),
      dataSource: this.data.source,
      pairs: this.data.n,
      parameters: this.model.numParameters(),
      alphas: this.model.numArchParameters(),
      stepsPerEpoch: this.stepsPerEpoch,
      predictionLevels: this.model.layout.predictionLevels,
    };
  }

  /** A batch as tensors: augmented and cropped for the search's steps, as stored for validation. */
  private batch(indices: ArrayLike<number>, augment: boolean): Batch {
    const b = stereoBatch(this.data, indices, { ...(this.cfg.crop ? { crop: this.cfg.crop } : {}), augment: augment ? this.cfg.augment : 0 }, augment ? this.augRng : new Rng(0));
    const to = this.device === 'cpu' ? {} : { device: this.device };
    const B = b.shape[0];
    return { x: tensor(b.x, b.shape, to), y: tensor(b.y, [B, 1, b.shape[2], b.shape[3]], to) };
  }

  lrAt(epoch: number): number {
    return cosineAnnealingLr(epoch, this.cfg.lr, this.cfg.epochs, this.cfg.lrMin);
  }

  private step(lr: number): { loss: number; epe: number } {
    return tidy(() => {
      const train = this.batch(this.trainLoader.next().indices, true);
      const val = this.batch(this.valSampler.next(), true);
      this.architect.step(train, val, { lr, momentum: this.cfg.momentum, weightDecay: this.wOpt.hyper.weightDecay, momentumBuffers: this.wOpt.momentumBuffers });
      const ws = this.model.weightParameters();
      const preds = this.model.forward(train.x);
      const lossT = this.model.lossOf(preds, train.y);
      const loss = lossT.item();
      if (!Number.isFinite(loss)) return { loss, epe: NaN };
      const gs = grad(lossT, ws) as Tensor[];
      ws.forEach((w, i) => (w.grad = gs[i]!));
      clipGradNorm(ws, this.cfg.gradClip);
      this.wOpt.step();
      this.wOpt.zeroGrad();
      const e = this.model.epeOf(preds, train.y);
      return { loss, epe: e.sum / Math.max(1, e.count) };
    });
  }

  /** Validation pass (train-mode batch statistics off: eval mode), no augmentation; softmax(α) or a genotype's one-hot weights. */
  evaluate(genotype?: DispGenotype): LossEpe {
    const B = this.cfg.batchSize;
    const max = this.cfg.evalBatches ?? Infinity;
    const wasTraining = this.model.training;
    this.model.eval();
    let lossSum = 0;
    let n = 0;
    let epeSum = 0;
    let count = 0;
    try {
      noGrad(() => {
        for (let b = 0; b * B < this.valIndices.length && b < max; b++) {
          tidy(() => {
            const idx = this.valIndices.subarray(b * B, Math.min(this.valIndices.length, (b + 1) * B));
            const batch = this.batch(idx, false);
            const preds = this.model.forward(batch.x, genotype ? { weights: this.model.discreteWeights(genotype) } : {});
            lossSum += this.model.lossOf(preds, batch.y).item() * idx.length;
            n += idx.length;
            const e = this.model.epeOf(preds, batch.y);
            epeSum += e.sum;
            count += e.count;
          });
        }
      });
    } finally {
      this.model.train(wasTraining);
    }
    return { loss: lossSum / Math.max(1, n), epe: epeSum / Math.max(1, count) };
  }

  private log(line: Record<string, unknown>): void {
    this.recorder?.appendMetrics(line);
  }

  async run(): Promise<DispSearchResult> {
    const resumedFrom = this.epoch > 0 ? this.epoch - 1 : null;
    this.emit({ type: 'start', epochs: this.cfg.epochs, stepsPerEpoch: this.stepsPerEpoch, resumedFrom, parameters: this.model.numParameters(), alphas: this.model.numArchParameters() });
    while (this.epoch < this.cfg.epochs && !this.stopped) {
      const epoch = this.epoch;
      const t0 = performance.now();
      const lr = this.lrAt(epoch);
      this.wOpt.lr = lr;
      this.model.train();
      let lossSum = 0;
      let epeSum = 0;
      for (let s = 0; s < this.stepsPerEpoch; s++) {
        const r = this.step(lr);
        if (!Number.isFinite(r.loss)) {
          this.log({ kind: 'diverged', epoch, step: s, iteration: 0, loss: String(r.loss), lr });
          throw new DivergenceError(`the training loss became ${r.loss} at epoch ${epoch}, step ${s} (lr ${lr.toPrecision(3)})`, `the last good checkpoint (epoch ${epoch - 1}) is kept; lower --lr or --arch-lr, then resume with --resume or start anew`);
        }
        lossSum += r.loss;
        epeSum += r.epe;
        this.emit({ type: 'step', epoch, step: s, steps: this.stepsPerEpoch, loss: lossSum / (s + 1), epe: epeSum / (s + 1), lr });
      }
      const train = { loss: lossSum / this.stepsPerEpoch, epe: epeSum / this.stepsPerEpoch };
      const valid = this.evaluate();
      this.lastValid = valid;
      const genotype = this.model.genotype();
      this.genotypes.set(epoch, genotype);
      const seconds = (performance.now() - t0) / 1000;
      this.log({ kind: 'epoch', epoch, iteration: 0, lr, l2: this.wOpt.hyper.weightDecay, augment: this.cfg.augment, train, valid, seconds });
      this.recorder?.appendGenotype({ epoch, iteration: 0, genotype: dispGenotypeToJSON(genotype), repr: formatDispGenotypeRepr(genotype), alphas: this.model.softmaxValues() });
      this.emit({ type: 'epoch', epoch, train, valid, seconds, genotype: formatDispGenotypeRepr(genotype) });
      const ctx = this.context(epoch, genotype);
      let decision: PluginDecision | void = undefined;
      for (const p of this.plugins) {
        const d = await p.onEpochEnd?.(ctx);
        if (d && d.action !== 'continue' && !decision) decision = d;
      }
      this.epoch = epoch + 1;
      if (decision && decision.action === 'stop') {
        this.stopped = { reason: decision.reason, genotypeEpoch: decision.genotypeEpoch };
        this.emit({ type: 'note', message: `stopping: ${decision.reason}; returning the genotype of epoch ${decision.genotypeEpoch}` });
      }
      this.checkpoint();
    }
    const genotypeEpoch = this.stopped ? this.stopped.genotypeEpoch : this.epoch - 1;
    const genotype = this.genotypes.get(genotypeEpoch) ?? this.model.genotype();
    const result: DispSearchResult = {
      genotype,
      repr: formatDispGenotypeRepr(genotype),
      stopReason: this.stopped ? 'early-stop' : 'completed',
      genotypeEpoch,
      epochsRun: this.epoch,
      finalValid: this.lastValid,
      runDir: this.recorder?.location ?? null,
    };
    this.recorder?.writeResult({ ...result, genotype: dispGenotypeToJSON(genotype), stopDetail: this.stopped?.reason ?? null, l2: this.wOpt.hyper.weightDecay, augment: this.cfg.augment });
    return result;
  }

  private context(epoch: number, genotype: DispGenotype): DispEpochContext {
    return {
      epoch,
      epochs: this.cfg.epochs,
      hessian: null as HessianMeasurement | null,
      genotype,
      earlyStop: null,
      model: this.model,
      valBatch: () => this.batch(this.valSampler.next(), false),
      genotypeAt: (e: number) => this.genotypes.get(e) ?? null,
      log: (l: EpochLogLine) => this.log({ ...l, epoch, iteration: 0 }),
      note: (message: string) => this.emit({ type: 'note', message }),
    };
  }

  // ------------------------------------------------------------------ checkpoints

  private tensors(): Map<string, Tensor> {
    const t = new Map<string, Tensor>();
    for (const [n, p] of this.model.namedParameters()) t.set(`w.${n}`, p);
    for (const [n, b] of this.model.namedBuffers()) t.set(`buf.${n}`, b);
    const [an, ar, au] = this.model.archParameters();
    t.set('alpha.normal', an!);
    t.set('alpha.reduce', ar!);
    t.set('alpha.upsample', au!);
    this.wOpt.momentumBuffers.forEach((b, i) => b && t.set(`sgd.momentum.${i}`, b));
    this.architect.opt.slots.forEach((s, i) => {
      if (s.expAvg) t.set(`adam.exp_avg.${i}`, s.expAvg);
      if (s.expAvgSq) t.set(`adam.exp_avg_sq.${i}`, s.expAvgSq);
    });
    return t;
  }

  state(): DispTrainerState {
    const plugins: Record<string, unknown> = {};
    for (const p of this.plugins) if (p.getState) plugins[p.name] = p.getState();
    const genotypes: Record<string, unknown> = {};
    for (const [e, g] of this.genotypes) genotypes[String(e)] = dispGenotypeToJSON(g);
    return {
      kind: 's6-search',
      epoch: this.epoch,
      sgd: { lr: this.wOpt.lr, weightDecay: this.wOpt.hyper.weightDecay, hasBuffers: this.wOpt.momentumBuffers.map((b) => b !== null) },
      adam: { steps: this.architect.opt.slots.map((s) => s.step) },
      torchRng: Buffer.from(getRngState()).toString('base64'),
      augRng: this.augRng.getState(),
      trainLoader: this.trainLoader.getState(),
      valSampler: this.valSampler.getState(),
      plugins,
      logs: this.recorder ? this.recorder.lengths() : { metrics: 0, genotypes: 0 },
      genotypes,
      lastValid: this.lastValid,
      stop: this.stopped,
    };
  }

  checkpoint(): void {
    if (!this.recorder) return;
    this.recorder.saveCheckpoint(this.epoch - 1, this.tensors(), this.state());
    this.recorder.pruneCheckpoints(this.cfg.keepCheckpoints);
  }

  /** Continue from the newest intact checkpoint (logs cut back to it); its epoch, or null when there is none. */
  resume(onSkip?: (epoch: number, err: Error) => void): number | null {
    if (!this.recorder) throw new CheckpointError('resume needs a run folder');
    const ck = this.recorder.loadLatestCheckpoint<DispTrainerState>(onSkip);
    if (!ck) return null;
    const st = ck.state;
    if (st.kind !== 's6-search') throw new CheckpointError(`the checkpoint is not one of an S6 disparity search (kind ${String(st.kind)})`, 'resume it with the command that started it');
    const need = (name: string): Tensor => {
      const t = ck.tensors.get(name);
      if (!t) throw new CheckpointError(`checkpoint lacks tensor '${name}'`, 'the checkpoint was written for another network configuration');
      return t;
    };
    const copy = (dst: Tensor, name: string): void => {
      const src = need(name);
      if (dst.shape.join(',') !== src.shape.join(',')) throw new CheckpointError(`checkpoint tensor '${name}' has shape [${src.shape.join(', ')}], the network needs [${dst.shape.join(', ')}]`);
      dst.copy_(src);
    };
    noGrad(() => {
      for (const [n, p] of this.model.namedParameters()) copy(p, `w.${n}`);
      for (const [n, b] of this.model.namedBuffers()) copy(b, `buf.${n}`);
      const [an, ar, au] = this.model.archParameters();
      copy(an!, 'alpha.normal');
      copy(ar!, 'alpha.reduce');
      copy(au!, 'alpha.upsample');
    });
    this.wOpt.loadStateDict({
      hyper: { ...this.wOpt.hyper, lr: st.sgd.lr, weightDecay: st.sgd.weightDecay },
      buffers: st.sgd.hasBuffers.map((has, i) => (has ? need(`sgd.momentum.${i}`) : null)),
    });
    this.architect.opt.loadStateDict({
      hyper: this.architect.opt.hyper,
      slots: st.adam.steps.map((step, i) => ({ step, expAvg: ck.tensors.get(`adam.exp_avg.${i}`) ?? null, expAvgSq: ck.tensors.get(`adam.exp_avg_sq.${i}`) ?? null })),
    });
    setRngState(Uint8Array.from(Buffer.from(st.torchRng, 'base64')));
    this.augRng.setState(st.augRng);
    this.trainLoader.setState(st.trainLoader);
    this.valSampler.setState(st.valSampler);
    for (const p of this.plugins) if (p.setState && p.name in st.plugins) p.setState(st.plugins[p.name]);
    this.genotypes = new Map(Object.entries(st.genotypes).map(([e, g]) => [Number(e), dispGenotypeFromJSON(g)]));
    this.lastValid = st.lastValid;
    this.stopped = st.stop;
    this.epoch = st.epoch;
    this.recorder.truncateLogs(st.logs);
    for (const t of ck.tensors.values()) t.dispose();
    return ck.epoch;
  }

  dispose(): void {
    this.wOpt.dispose();
    this.architect.opt.dispose();
    this.model.dispose();
  }
}
