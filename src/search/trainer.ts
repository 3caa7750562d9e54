/**
 * The bilevel search loop (paper-spec §4.2–§4.3): for each training batch, an architecture
 * step on a random validation batch, then a weight step; at each epoch's end a validation
 * pass, the genotype, metrics lines, plug-ins (Hessian monitor, early stop, ADA) and an atomic
 * checkpoint that holds everything needed to continue exactly: weights, buffers, α, both
 * optimisers, the schedule position, every RNG, the data order, plug-in states, log lengths.
 */
import { rmSync } from 'node:fs';
import {
  F, SGD, Tensor, clipGradNorm, cosineAnnealingLr, getRngState, grad, manualSeed, noGrad, setRngState, tensor, tidy, libtorchVersion,
  type Device,
} from '../torch/index.js';
import { Network, type ArchWeights } from '../nas/supernet.js';
import { resolveSpace, spaceToObject, type SearchSpace } from '../nas/spaces.js';
import { formatGenotypeRepr, genotypeToJSON, genotypeFromJSON, type Genotype } from '../nas/genotype.js';
import { BatchLoader, RandomBatchSampler, makeBatch, trainValSplit, datasetFingerprint, type ImageDataset, type ArrayBatch, type BatchLoaderState, type RandomBatchSamplerState } from '../data/index.js';
import { Rng, type RngState } from '../util/rng.js';
import { RunDir, type LogLengths } from '../experiments/run-dir.js';
import { saveCheckpoint, loadCheckpoint, loadLatestCheckpoint, pruneCheckpoints, listCheckpoints, checkpointPath } from '../experiments/checkpoint.js';
import { CheckpointError, ConfigError, DivergenceError } from '../errors.js';
import { VERSION } from '../version.js';
import { Architect, type Batch } from './architect.js';
import { evaluateSupernet } from './evaluate.js';
import type { SearchConfig } from './config.js';
import type { EpochContext, EpochStartControls, EvalResult, EvalWeights, HessianMeasurement, PluginDecision, SearchEndContext, SearchPlugin } from './plugin.js';

export type SearchEvent =
  | { type: 'start'; epochs: number; stepsPerEpoch: number; resumedFrom: number | null; parameters: number; alphas: number }
  | { type: 'step'; epoch: number; step: number; steps: number; loss: number; acc: number; lr: number }
  | { type: 'epoch'; epoch: number; iteration: number; train: { loss: number; acc: number }; valid: { loss: number; acc: number }; seconds: number; genotype: string }
  | { type: 'note'; message: string };

export interface SearchResult {
  genotype: Genotype;
  repr: string;
  stopReason: 'completed' | 'early-stop';
  /** epoch whose genotype is returned */
  genotypeEpoch: number;
  epochsRun: number;
  finalValid: { loss: number; acc: number } | null;
  iterations: number;
  runDir: string | null;
  /** fields plug-ins added at the end of the search (RS-ws selection, discretisation drop), also in result.json */
  details?: Record<string, unknown>;
}

interface TrainerState {
  epoch: number;
  iteration: number;
  l2: number;
  sgd: { lr: number; momentum: number; weightDecay: number; hasBuffers: boolean[] };
  adam: { steps: number[] };
  torchRng: string;
  augRng: RngState;
  trainLoader: BatchLoaderState;
  valSampler: RandomBatchSamplerState;
  plugins: Record<string, unknown>;
  logs: LogLengths;
  genotypes: Record<string, unknown>;
  lastValid: { loss: number; acc: number } | null;
  /** set when an early stop ended the search at this checkpoint (absent in older checkpoints) */
  stop?: { reason: string; genotypeEpoch: number } | null;
}

export interface SearchData {
  train: ImageDataset;
}

export interface TrainerOptions {
  plugins?: SearchPlugin[];
  onEvent?: (e: SearchEvent) => void;
  /** run folder (null: in memory only, no checkpoints) */
  runDir?: RunDir | null;
}

export class SearchTrainer {
  readonly model: Network;
  readonly space: SearchSpace;
  readonly architect: Architect;
  readonly wOpt: SGD;
  readonly plugins: SearchPlugin[];
  private readonly trainLoader: BatchLoader;
  private readonly valSampler: RandomBatchSampler;
  readonly valIndices: Int32Array;
  private readonly augRng: Rng;
  private readonly runDir: RunDir | null;
  private readonly emit: (e: SearchEvent) => void;
  private readonly device: Device;
  readonly stepsPerEpoch: number;
  /**
   * Epochs to run: cfg.epochs, except for rs-ws with an explicit step budget (rsws.steps),
   * which runs ceil(steps / stepsPerEpoch) epochs, the last one possibly partial; the cosine
   * schedule spans these epochs.
   */
  readonly epochs: number;
  /** weight steps in all (epochs × stepsPerEpoch unless rsws.steps says otherwise) */
  readonly totalSteps: number;
  /** next epoch to run */
  epoch = 0;
  iteration = 0;
  l2: number;
  private genotypes = new Map<number, Genotype>();
  private lastValid: { loss: number; acc: number } | null = null;
  /** the early stop that ended this search (restored by resume, so a finished run stays finished) */
  private stopped: { reason: string; genotypeEpoch: number } | null = null;

  constructor(
    readonly cfg: SearchConfig,
    readonly data: SearchData,
    o: TrainerOptions = {},
  ) {
    this.runDir = o.runDir ?? null;
    this.emit = o.onEvent ?? (() => {});
    this.plugins = o.plugins ?? [];
    this.device = cfg.device as Device;
    manualSeed(cfg.seed);
    this.space = resolveSpace(cfg.spaceFile ?? cfg.space);
    const shape = { numClasses: data.train.numClasses, inChannels: data.train.channels };
    if (data.train.height < 8 || data.train.width < 8) throw new ConfigError(`images of ${data.train.height}×${data.train.width} are too small for two stride-2 reductions`);
    this.model = new Network({ space: this.space, C: cfg.channels, layers: cfg.layers, numClasses: shape.numClasses, inChannels: shape.inChannels });
    if (this.device !== 'cpu') this.model.to(this.device);
    this.l2 = cfg.weightDecay;
    this.wOpt = new SGD(this.model.weightParameters(), { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
    this.architect = new Architect(this.model, { order: cfg.order, hvp: cfg.hvp, lr: cfg.archLr, betas: cfg.archBetas, weightDecay: cfg.archWeightDecay });
    const split = trainValSplit(data.train.n, cfg.trainPortion);
    this.valIndices = split.val;
    this.trainLoader = new BatchLoader(split.train, cfg.batchSize, new Rng(cfg.seed * 1000 + 1));
    this.valSampler = new RandomBatchSampler(split.val, cfg.batchSize, new Rng(cfg.seed * 1000 + 2));
    this.augRng = new Rng(cfg.seed * 1000 + 3);
    this.stepsPerEpoch = Math.min(this.trainLoader.stepsPerEpoch, cfg.stepsPerEpoch ?? Infinity);
    const budget = cfg.method === 'rs-ws' ? cfg.rsws.steps : null;
    this.epochs = budget === null ? cfg.epochs : Math.ceil(budget / this.stepsPerEpoch);
    this.totalSteps = budget ?? this.epochs * this.stepsPerEpoch;
  }

  /** Weight steps in `epoch` (all but a budget-limited last epoch have stepsPerEpoch). */
  stepsIn(epoch: number): number {
    return Math.max(0, Math.min(this.stepsPerEpoch, this.totalSteps - epoch * this.stepsPerEpoch));
  }

  /** The resolved description written to config.json. */
  describe(): Record<string, unknown> {
    return {
      ...this.cfg,
      resolvedSpace: spaceToObject(this.space),
      library: { name: 'robust-darts', version: VERSION, libtorch: libtorchVersion() },
      dataFingerprint: datasetFingerprint(this.data.train),
      trainImages: this.data.train.n,
      parameters: this.model.numParameters(),
      alphas: this.model.numArchParameters(),
      stepsPerEpoch: this.stepsPerEpoch,
    };
  }

  private batch(indices: Int32Array, cutoutProb: number): Batch {
    const b = makeBatch(
      this.data.train,
      indices,
      { augment: true, ...(cutoutProb > 0 ? { cutout: { length: this.cfg.cutoutLength, prob: cutoutProb } } : {}) },
      this.augRng,
    );
    return this.toTensors(b);
  }

  /** Pixels and labels as tensors on the run's device (labels int64). */
  private toTensors(b: ArrayBatch): Batch {
    const x = tensor(b.x, b.shape, this.device === 'cpu' ? {} : { device: this.device });
    const y = tensor(b.y, [b.y.length]).to(this.device === 'cpu' ? 'int64' : { dtype: 'int64', device: this.device });
    return { x, y };
  }

  lrAt(epoch: number): number {
    return cosineAnnealingLr(epoch, this.cfg.lr, this.epochs, this.cfg.lrMin);
  }

  /** One weight step (loss, accuracy) after one architecture step. */
  private step(controls: EpochStartControls, lr: number, archStep: boolean): { loss: number; acc: number; n: number } {
    return tidy(() => {
      const train = this.batch(this.trainLoader.next().indices, controls.cutoutProb);
      if (archStep) {
        const val = this.batch(this.valSampler.next(), controls.cutoutProb);
        const virtualL2 = this.cfg.ada.virtualStepL2 === 'initial' ? this.cfg.weightDecay : this.l2;
        this.architect.step(train, val, { lr, momentum: this.cfg.momentum, weightDecay: virtualL2, momentumBuffers: this.wOpt.momentumBuffers });
      }
      const ws = this.model.weightParameters();
      const stepWeights = this.stepWeights();
      const logits = stepWeights ? this.model.forward(train.x, { weights: stepWeights }) : this.model.forward(train.x);
      const lossT = logitsLoss(logits, train.y);
      const loss = lossT.item();
      if (!Number.isFinite(loss)) return { loss, acc: NaN, n: train.y.shape[0]! };
      const gs = grad(lossT, ws) as Tensor[];
      ws.forEach((w, i) => (w.grad = gs[i]!));
      clipGradNorm(ws, this.cfg.gradClip);
      this.wOpt.step();
      this.wOpt.zeroGrad();
      const acc = noGrad(() => logits.argmax(1).eq(train.y).sum().item());
      return { loss, acc, n: train.y.shape[0]! };
    });
  }

  /** The edge weights a plug-in supplies for this training step (RS-ws), or null for softmax(α). */
  private stepWeights(): ArchWeights | null {
    for (const p of this.plugins) {
      const w = p.weightsForStep?.(this.model);
      if (w) return w;
    }
    return null;
  }

  /** The validation split in order, `batchSize` at a time, at most `evalBatches` batches. */
  *validationBatches(): Generator<Int32Array> {
    const B = this.cfg.batchSize;
    const maxBatches = this.cfg.evalBatches ?? Infinity;
    for (let b = 0; b * B < this.valIndices.length && b < maxBatches; b++) {
      yield this.valIndices.subarray(b * B, Math.min(this.valIndices.length, (b + 1) * B));
    }
  }

  /**
   * Validation pass in eval mode, no grad, without augmentation: softmax(α) by default, a
   * genotype's one-hot weights, or explicit per-edge values; over `batches` (dataset indices),
   * by default the α-validation split (at most `evalBatches` batches).
   */
  evaluate(weights?: EvalWeights, batches?: Iterable<ArrayLike<number>>): EvalResult {
    const self = this;
    function* tensors(): Generator<Batch> {
      for (const idx of batches ?? self.validationBatches()) yield self.toTensors(makeBatch(self.data.train, idx as Int32Array, { augment: false }, self.augRng));
    }
    return evaluateSupernet(this.model, tensors(), weights, true);
  }


  private context(epoch: number, log: (l: Record<string, unknown> & { kind: string }) => void): EpochContext {
    return {
      epoch,
      epochs: this.epochs,
      iteration: this.iteration,
      l2: this.l2,
      hessian: null as HessianMeasurement | null,
      genotype: this.genotypes.get(epoch) ?? null,
      earlyStop: null,
      model: this.model,
      valid: null,
      evaluate: (weights?: EvalWeights) => this.evaluate(weights),
      valBatch: () => this.batch(this.valSampler.next(), 0),
      genotypeAt: (e: number) => this.genotypes.get(e) ?? null,
      log,
      note: (message: string) => this.emit({ type: 'note', message }),
    };
  }

  private log(line: Record<string, unknown>): void {
    this.runDir?.appendMetrics(line);
  }

  /** Run (or continue) the search to its end. */
  async run(): Promise<SearchResult> {
    const resumedFrom = this.epoch > 0 ? this.epoch - 1 : null;
    this.emit({ type: 'start', epochs: this.epochs, stepsPerEpoch: this.stepsPerEpoch, resumedFrom, parameters: this.model.numParameters(), alphas: this.model.numArchParameters() });
    let stop = this.stopped;
    while (this.epoch < this.epochs && !stop) {
      const epoch = this.epoch;
      const t0 = performance.now();
      const lr = this.lrAt(epoch);
      this.wOpt.lr = lr;
      this.wOpt.hyper.weightDecay = this.l2;
      const controls: EpochStartControls = { dropPath: 0, cutoutProb: 0 };
      const ctx = this.context(epoch, (l) => this.log({ ...l, epoch, iteration: this.iteration }));
      for (const p of this.plugins) p.onEpochStart?.(ctx, controls);
      this.model.dropPathProb = controls.dropPath;
      this.model.train();
      let lossSum = 0;
      let correct = 0;
      let count = 0;
      const archStep = this.cfg.method !== 'rs-ws';
      const steps = this.stepsIn(epoch);
      for (let s = 0; s < steps; s++) {
        const r = this.step(controls, lr, archStep);
        if (!Number.isFinite(r.loss)) {
          this.log({ kind: 'diverged', epoch, step: s, iteration: this.iteration, loss: String(r.loss), lr });
          throw new DivergenceError(
            `the training loss became ${r.loss} at epoch ${epoch}, step ${s} (lr ${lr.toPrecision(3)}, weight decay ${this.l2})`,
            `the run stopped; the last good checkpoint (epoch ${epoch - 1}) is kept. Lower --lr or --arch-lr, or raise --grad-clip, then resume with --resume or start anew`,
          );
        }
        lossSum += r.loss * r.n;
        correct += r.acc;
        count += r.n;
        this.emit({ type: 'step', epoch, step: s, steps, loss: lossSum / count, acc: correct / count, lr });
      }
      const train = { loss: lossSum / count, acc: correct / count };
      const valid = this.evaluate();
      this.lastValid = valid;
      const genotype = this.model.genotype();
      this.genotypes.set(epoch, genotype);
      ctx.genotype = genotype;
      ctx.valid = valid;
      const seconds = (performance.now() - t0) / 1000;
      this.log({ kind: 'epoch', epoch, iteration: this.iteration, lr, l2: this.l2, dropPath: controls.dropPath, cutoutProb: controls.cutoutProb, train, valid, seconds });
      const soft = this.model.softmaxValues();
      this.runDir?.appendGenotype({
        epoch,
        iteration: this.iteration,
        genotype: genotypeToJSON(genotype),
        repr: formatGenotypeRepr(genotype),
        alphas: soft,
        ops: { normal: this.space.normal, reduce: this.space.reduce },
      });
      this.emit({ type: 'epoch', epoch, iteration: this.iteration, train, valid, seconds, genotype: formatGenotypeRepr(genotype) });
      let decision: PluginDecision | void = undefined;
      for (const p of this.plugins) {
        const d = await p.onEpochEnd?.(ctx);
        if (d && d.action !== 'continue' && !decision) decision = d;
      }
      this.epoch = epoch + 1;
      if (decision && decision.action === 'stop') this.stopped = { reason: decision.reason, genotypeEpoch: decision.genotypeEpoch };
      // A rollback deletes this epoch's checkpoint right away; not writing it means a crash in
      // between resumes before this epoch (which re-runs and rolls back again), never after it
      // with the rollback skipped.
      if (!decision || decision.action !== 'rollback') this.checkpoint();
      if (decision && decision.action === 'stop') {
        stop = this.stopped;
        this.emit({ type: 'note', message: `stopping: ${decision.reason}; returning the genotype of epoch ${decision.genotypeEpoch}` });
      } else if (decision && decision.action === 'rollback') {
        this.rollback(decision.toEpoch, decision.l2, decision.reason);
      }
    }
    const genotypeEpoch = stop ? stop.genotypeEpoch : this.epoch - 1;
    let genotype = this.genotypes.get(genotypeEpoch) ?? this.model.genotype();
    const details: Record<string, unknown> = {};
    const endCtx: SearchEndContext = {
      epochsRun: this.epoch,
      genotype,
      model: this.model,
      seed: this.cfg.seed,
      batchSize: this.cfg.batchSize,
      validationIndices: this.valIndices,
      evaluate: (weights, batches) => this.evaluate(weights, batches),
      log: (l) => this.log({ ...l, iteration: this.iteration }),
      note: (message) => this.emit({ type: 'note', message }),
    };
    for (const p of this.plugins) {
      const out = await p.onSearchEnd?.(endCtx);
      if (!out) continue;
      if (out.genotype) genotype = out.genotype;
      if (out.result) Object.assign(details, out.result);
    }
    const result: SearchResult = {
      genotype,
      repr: formatGenotypeRepr(genotype),
      stopReason: stop ? 'early-stop' : 'completed',
      genotypeEpoch,
      epochsRun: this.epoch,
      finalValid: this.lastValid,
      iterations: this.iteration,
      runDir: this.runDir?.path ?? null,
      ...(Object.keys(details).length ? { details } : {}),
    };
    const { details: _d, ...plain } = result;
    this.runDir?.writeResult({ ...plain, genotype: genotypeToJSON(genotype), stopDetail: stop?.reason ?? null, l2: this.l2, ...details });
    return result;
  }

  // ------------------------------------------------------------------ checkpoints

  private checkpointTensors(): Map<string, Tensor> {
    const t = new Map<string, Tensor>();
    for (const [n, p] of this.model.namedParameters()) t.set(`w.${n}`, p);
    for (const [n, b] of this.model.namedBuffers()) t.set(`buf.${n}`, b);
    const [an, ar] = this.model.archParameters();
    t.set('alpha.normal', an!);
    t.set('alpha.reduce', ar!);
    this.wOpt.momentumBuffers.forEach((b, i) => b && t.set(`sgd.momentum.${i}`, b));
    this.architect.opt.slots.forEach((s, i) => {
      if (s.expAvg) t.set(`adam.exp_avg.${i}`, s.expAvg);
      if (s.expAvgSq) t.set(`adam.exp_avg_sq.${i}`, s.expAvgSq);
    });
    return t;
  }

  private state(): TrainerState {
    const plugins: Record<string, unknown> = {};
    for (const p of this.plugins) if (p.getState) plugins[p.name] = p.getState();
    const genotypes: Record<string, unknown> = {};
    for (const [e, g] of this.genotypes) genotypes[String(e)] = genotypeToJSON(g);
    return {
      epoch: this.epoch,
      iteration: this.iteration,
      l2: this.l2,
      sgd: { lr: this.wOpt.lr, momentum: this.wOpt.hyper.momentum, weightDecay: this.wOpt.hyper.weightDecay, hasBuffers: this.wOpt.momentumBuffers.map((b) => b !== null) },
      adam: { steps: this.architect.opt.slots.map((s) => s.step) },
      torchRng: Buffer.from(getRngState()).toString('base64'),
      augRng: this.augRng.getState(),
      trainLoader: this.trainLoader.getState(),
      valSampler: this.valSampler.getState(),
      plugins,
      logs: this.runDir ? this.runDir.lengths() : { metrics: 0, genotypes: 0 },
      genotypes,
      lastValid: this.lastValid,
      stop: this.stopped,
    };
  }

  /** Checkpoint after the epoch just finished (this.epoch − 1 completed). */
  checkpoint(): void {
    if (!this.runDir) return;
    const completed = this.epoch - 1;
    saveCheckpoint(this.runDir.checkpointsDir, completed, this.checkpointTensors(), this.state());
    const keep = this.cfg.method === 'darts-ada' ? Math.max(this.cfg.keepCheckpoints, 32) : this.cfg.keepCheckpoints;
    pruneCheckpoints(this.runDir.checkpointsDir, keep);
  }

  /** Restore model, optimisers, RNGs, loaders and (optionally) plug-ins from a checkpoint. */
  private restore(tensors: Map<string, Tensor>, st: TrainerState, restorePlugins: 'all' | 'rollback'): void {
    const need = (name: string): Tensor => {
      const t = tensors.get(name);
      if (!t) throw new CheckpointError(`checkpoint lacks tensor '${name}'`, 'the checkpoint was written for another model configuration');
      return t;
    };
    noGrad(() => {
      for (const [n, p] of this.model.namedParameters()) copyChecked(p, need(`w.${n}`), `w.${n}`);
      for (const [n, b] of this.model.namedBuffers()) copyChecked(b, need(`buf.${n}`), `buf.${n}`);
      const [an, ar] = this.model.archParameters();
      copyChecked(an!, need('alpha.normal'), 'alpha.normal');
      copyChecked(ar!, need('alpha.reduce'), 'alpha.reduce');
    });
    this.wOpt.loadStateDict({
      hyper: { ...this.wOpt.hyper, lr: st.sgd.lr, momentum: st.sgd.momentum, weightDecay: st.sgd.weightDecay },
      buffers: st.sgd.hasBuffers.map((has, i) => (has ? need(`sgd.momentum.${i}`) : null)),
    });
    this.architect.opt.loadStateDict({
      hyper: this.architect.opt.hyper,
      slots: st.adam.steps.map((step, i) => ({ step, expAvg: tensors.get(`adam.exp_avg.${i}`) ?? null, expAvgSq: tensors.get(`adam.exp_avg_sq.${i}`) ?? null })),
    });
    setRngState(Uint8Array.from(Buffer.from(st.torchRng, 'base64')));
    this.augRng.setState(st.augRng);
    this.trainLoader.setState(st.trainLoader);
    this.valSampler.setState(st.valSampler);
    for (const p of this.plugins) {
      if (!p.setState || !(p.name in st.plugins)) continue;
      if (restorePlugins === 'all' || p.restoreOnRollback !== false) p.setState(st.plugins[p.name]);
    }
    this.genotypes = new Map(Object.entries(st.genotypes).map(([e, g]) => [Number(e), genotypeFromJSON(g as never)]));
    this.lastValid = st.lastValid;
    this.epoch = st.epoch;
    for (const t of tensors.values()) t.dispose();
  }

  /** Continue a run from its newest intact checkpoint; the logs are cut back to match it. */
  resume(onSkip?: (epoch: number, err: CheckpointError) => void): number | null {
    if (!this.runDir) throw new CheckpointError('resume needs a run folder');
    const ck = loadLatestCheckpoint<TrainerState>(this.runDir.checkpointsDir, onSkip);
    if (!ck) return null;
    this.restore(ck.tensors, ck.state, 'all');
    this.stopped = ck.state.stop ?? null;
    this.iteration = ck.state.iteration;
    this.l2 = ck.state.l2;
    this.runDir.truncateLogs(ck.state.logs);
    return ck.epoch;
  }

  /** DARTS-ADA: go back to the checkpoint of `toEpoch`, raise L2, continue from toEpoch + 1. */
  private rollback(toEpoch: number, l2: number, reason: string): void {
    if (!this.runDir) throw new CheckpointError('DARTS-ADA rollbacks need a run folder with checkpoints');
    const available = listCheckpoints(this.runDir.checkpointsDir);
    if (!available.includes(toEpoch)) throw new CheckpointError(`DARTS-ADA wants to roll back to epoch ${toEpoch}, but only checkpoints ${available.join(', ')} exist`, 'raise keepCheckpoints');
    const ck = loadCheckpoint<TrainerState>(this.runDir.checkpointsDir, toEpoch);
    const previous = this.l2;
    this.restore(ck.tensors, ck.state, 'rollback');
    this.iteration += 1;
    this.l2 = l2;
    this.wOpt.hyper.weightDecay = l2;
    // later checkpoints belong to the abandoned branch
    for (const e of listCheckpoints(this.runDir.checkpointsDir)) if (e > toEpoch) rmCheckpoint(this.runDir.checkpointsDir, e);
    this.log({ kind: 'ada', epoch: toEpoch, action: 'rollback', toEpoch, previousL2: previous, newL2: l2, iteration: this.iteration, reason });
    this.emit({ type: 'note', message: `DARTS-ADA: ${reason}; rolled back to epoch ${toEpoch}, L2 ${previous} → ${l2} (iteration ${this.iteration})` });
  }

  dispose(): void {
    this.wOpt.dispose();
    this.architect.opt.dispose();
    this.model.dispose();
  }
}

function rmCheckpoint(root: string, epoch: number): void {
  rmSync(checkpointPath(root, epoch), { recursive: true, force: true });
}

function copyChecked(dst: Tensor, src: Tensor, name: string): void {
  if (dst.shape.join(',') !== src.shape.join(',')) {
    throw new CheckpointError(`checkpoint tensor '${name}' has shape [${src.shape.join(', ')}], the model needs [${dst.shape.join(', ')}]`, 'the checkpoint was written for another configuration');
  }
  dst.copy_(src);
}

function logitsLoss(logits: Tensor, y: Tensor): Tensor {
  return F.crossEntropy(logits, y);
}
