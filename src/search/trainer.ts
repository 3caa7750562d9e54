/**
 * The bilevel search loop (docs/search.md#one-epoch): for each training batch, an architecture
 * step on a random validation batch, then a weight step; at each epoch's end a validation
 * pass, the genotype, metrics lines, plug-ins (Hessian monitor, early stop, ADA) and a
 * checkpoint through the run's recorder (trainer-state.ts: what it holds, resume, rollback).
 * The trainer opens no files: a recorder (experiments/run-recorder.ts) writes the run folder.
 */
import {
  F, SGD, Tensor, clipGradNorm, cosineAnnealingLr, grad, manualSeed, noGrad, tensor, tidy, libtorchVersion,
  type Device,
} from '../torch/index.js';
import type { ArchWeights } from '../nas/alpha.js';
import { Network } from '../nas/supernet.js';
import { resolveSpace, spaceToObject, type SearchSpace } from '../nas/spaces.js';
import type { Genotype } from '../nas/genotype.js';
import { genotypeToJSON } from '../nas/genotype-json.js';
import { formatGenotypeRepr } from '../nas/repr.js';
import { BatchLoader, RandomBatchSampler, makeBatch, trainValSplit, datasetFingerprint, type ImageDataset, type ArrayBatch } from '../data/index.js';
import { Rng } from '../util/rng.js';
import { ConfigError, DivergenceError } from '../errors.js';
import { VERSION } from '../version.js';
import { Architect, type Batch } from './architect.js';
import { evaluateSupernet } from './evaluate.js';
import type { SearchConfig } from './config.js';
import type { EpochContext, EpochStartControls, EvalResult, EvalWeights, PluginDecision, SearchEndContext, SearchPlugin } from './plugin.js';
import type { RunRecorder } from './recorder.js';
import type { EpochLogLine, GenotypeLine, LossAcc, MetricsLine, SearchOutcome, SearchResultRecord } from './run-lines.js';
import { SearchPosition, TrainerCheckpoints, type TrainerState } from './trainer-state.js';

export type SearchEvent =
  | { type: 'start'; epochs: number; stepsPerEpoch: number; resumedFrom: number | null; parameters: number; alphas: number }
  | { type: 'step'; epoch: number; step: number; steps: number; loss: number; acc: number; lr: number }
  | { type: 'epoch'; epoch: number; iteration: number; train: { loss: number; acc: number }; valid: { loss: number; acc: number }; seconds: number; genotype: string }
  | { type: 'note'; message: string };

export interface SearchResult extends SearchOutcome {
  genotype: Genotype;
  /** fields plug-ins added at the end of the search (RS-ws selection, discretisation drop), also in result.json */
  details?: Record<string, unknown>;
}

export interface SearchData {
  train: ImageDataset;
}

export interface TrainerOptions {
  plugins?: SearchPlugin[];
  onEvent?: (e: SearchEvent) => void;
  /** where the run is recorded (null: in memory only, no checkpoints) */
  recorder?: RunRecorder | null;
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
  private readonly recorder: RunRecorder | null;
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
  /** epoch, iteration, genotype history, last validation, early stop */
  private readonly pos = new SearchPosition();
  private readonly checkpoints: TrainerCheckpoints;

  constructor(
    readonly cfg: SearchConfig,
    readonly data: SearchData,
    o: TrainerOptions = {},
  ) {
    this.recorder = o.recorder ?? null;
    this.emit = o.onEvent ?? (() => {});
    this.plugins = o.plugins ?? [];
    this.device = cfg.device as Device;
    manualSeed(cfg.seed);
    this.space = resolveSpace(cfg.spaceFile ?? cfg.space);
    const shape = { numClasses: data.train.numClasses, inChannels: data.train.channels };
    if (data.train.height < 8 || data.train.width < 8) throw new ConfigError(`images of ${data.train.height}×${data.train.width} are too small for two stride-2 reductions`);
    this.model = new Network({ space: this.space, C: cfg.channels, layers: cfg.layers, numClasses: shape.numClasses, inChannels: shape.inChannels });
    if (this.device !== 'cpu') this.model.to(this.device);
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
    const keep = cfg.method === 'darts-ada' ? Math.max(cfg.keepCheckpoints, 32) : cfg.keepCheckpoints;
    this.checkpoints = new TrainerCheckpoints(
      { model: this.model, wOpt: this.wOpt, architect: this.architect, augRng: this.augRng, trainLoader: this.trainLoader, valSampler: this.valSampler, plugins: this.plugins },
      this.pos,
      this.recorder,
      keep,
    );
  }

  /** next epoch to run */
  get epoch(): number {
    return this.pos.epoch;
  }

  /** DARTS-ADA restarts so far */
  get iteration(): number {
    return this.pos.iteration;
  }

  /** the weight decay in force: the weight optimiser's (DARTS-ADA raises it) */
  get l2(): number {
    return this.wOpt.hyper.weightDecay;
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
      const stepWeights = this.stepWeights(train);
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
  private stepWeights(train: Batch): ArchWeights | null {
    for (const p of this.plugins) {
      const w = p.weightsForStep?.(this.model, train);
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


  private context(epoch: number, log: (l: EpochLogLine) => void): EpochContext {
    return {
      epoch,
      epochs: this.epochs,
      iteration: this.iteration,
      l2: this.l2,
      hessian: null,
      genotype: this.pos.genotypes.get(epoch) ?? null,
      earlyStop: null,
      model: this.model,
      train: null,
      valid: null,
      evaluate: (weights?: EvalWeights) => this.evaluate(weights),
      valBatch: () => this.batch(this.valSampler.next(), 0),
      genotypeAt: (e: number) => this.pos.genotypes.get(e) ?? null,
      log,
      note: (message: string) => this.emit({ type: 'note', message }),
    };
  }

  private log(line: MetricsLine): void {
    this.recorder?.appendMetrics(line);
  }

  /** Run (or continue) the search to its end. */
  async run(): Promise<SearchResult> {
    const resumedFrom = this.epoch > 0 ? this.epoch - 1 : null;
    this.emit({ type: 'start', epochs: this.epochs, stepsPerEpoch: this.stepsPerEpoch, resumedFrom, parameters: this.model.numParameters(), alphas: this.model.numArchParameters() });
    const pos = this.pos;
    let stop = pos.stopped;
    while (pos.epoch < this.epochs && !stop) {
      const epoch = pos.epoch;
      const t0 = performance.now();
      const lr = this.lrAt(epoch);
      this.wOpt.lr = lr;
      const controls: EpochStartControls = { dropPath: 0, cutoutProb: 0 };
      const ctx = this.context(epoch, (l) => this.log({ ...l, epoch, iteration: pos.iteration }));
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
          this.log({ kind: 'diverged', epoch, step: s, iteration: pos.iteration, loss: String(r.loss), lr });
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
      pos.lastValid = valid;
      const genotype = this.model.genotype();
      pos.genotypes.set(epoch, genotype);
      ctx.genotype = genotype;
      ctx.train = train;
      ctx.valid = valid;
      const seconds = (performance.now() - t0) / 1000;
      this.log({ kind: 'epoch', epoch, iteration: pos.iteration, lr, l2: this.l2, dropPath: controls.dropPath, cutoutProb: controls.cutoutProb, train, valid, seconds });
      const soft = this.model.softmaxValues();
      const genotypeLine: GenotypeLine = {
        epoch,
        iteration: pos.iteration,
        genotype: genotypeToJSON(genotype),
        repr: formatGenotypeRepr(genotype),
        alphas: soft,
        ops: { normal: this.space.normal, reduce: this.space.reduce },
      };
      this.recorder?.appendGenotype(genotypeLine);
      this.emit({ type: 'epoch', epoch, iteration: pos.iteration, train, valid, seconds, genotype: formatGenotypeRepr(genotype) });
      let decision: PluginDecision | void = undefined;
      for (const p of this.plugins) {
        const d = await p.onEpochEnd?.(ctx);
        if (d && d.action !== 'continue' && !decision) decision = d;
      }
      pos.epoch = epoch + 1;
      if (decision && decision.action === 'stop') pos.stopped = { reason: decision.reason, genotypeEpoch: decision.genotypeEpoch };
      // A rollback deletes this epoch's checkpoint right away; not writing it means a crash in
      // between resumes before this epoch (which re-runs and rolls back again), never after it
      // with the rollback skipped.
      if (!decision || decision.action !== 'rollback') this.checkpoint();
      if (decision && decision.action === 'stop') {
        stop = pos.stopped;
        this.emit({ type: 'note', message: `stopping: ${decision.reason}; returning the genotype of epoch ${decision.genotypeEpoch}` });
      } else if (decision && decision.action === 'rollback') {
        this.rollback(decision.toEpoch, decision.l2, decision.reason);
      }
    }
    const genotypeEpoch = stop ? stop.genotypeEpoch : pos.epoch - 1;
    let genotype = pos.genotypes.get(genotypeEpoch) ?? this.model.genotype();
    const details: Record<string, unknown> = {};
    const endCtx: SearchEndContext = {
      epochsRun: pos.epoch,
      genotype,
      model: this.model,
      seed: this.cfg.seed,
      batchSize: this.cfg.batchSize,
      validationIndices: this.valIndices,
      evaluate: (weights, batches) => this.evaluate(weights, batches),
      log: (l) => this.log({ ...l, iteration: pos.iteration }),
      note: (message) => this.emit({ type: 'note', message }),
    };
    for (const p of this.plugins) {
      const out = await p.onSearchEnd?.(endCtx);
      if (!out) continue;
      if (out.genotype) genotype = endCtx.genotype = out.genotype;
      if (out.result) Object.assign(details, out.result);
    }
    const result: SearchResult = {
      genotype,
      repr: formatGenotypeRepr(genotype),
      stopReason: stop ? 'early-stop' : 'completed',
      genotypeEpoch,
      epochsRun: pos.epoch,
      finalValid: pos.lastValid,
      iterations: pos.iteration,
      runDir: this.recorder?.location ?? null,
      ...(Object.keys(details).length ? { details } : {}),
    };
    const { details: _d, ...plain } = result;
    const record: SearchResultRecord = { ...plain, genotype: genotypeToJSON(genotype), stopDetail: stop?.reason ?? null, l2: this.l2, ...details };
    this.recorder?.writeResult(record);
    return result;
  }

  // ------------------------------------------------------------------ checkpoints (trainer-state.ts)

  /** What a checkpoint of this moment would store beside the tensors. */
  state(): TrainerState {
    return this.checkpoints.state();
  }

  /** Checkpoint after the epoch just finished (epoch − 1 completed). */
  checkpoint(): void {
    this.checkpoints.save();
  }

  /** Continue a run from its newest intact checkpoint; the logs are cut back to match it. */
  resume(onSkip?: (epoch: number, err: Error) => void): number | null {
    return this.checkpoints.resume(onSkip);
  }

  /** DARTS-ADA: go back to the checkpoint of `toEpoch`, raise L2, continue from toEpoch + 1. */
  private rollback(toEpoch: number, l2: number, reason: string): void {
    const previous = this.checkpoints.rollback(toEpoch, l2);
    const iteration = this.pos.iteration;
    this.log({ kind: 'ada', epoch: toEpoch, action: 'rollback', toEpoch, previousL2: previous, newL2: l2, iteration, reason });
    this.emit({ type: 'note', message: `DARTS-ADA: ${reason}; rolled back to epoch ${toEpoch}, L2 ${previous} → ${l2} (iteration ${iteration})` });
  }

  dispose(): void {
    this.wOpt.dispose();
    this.architect.opt.dispose();
    this.model.dispose();
  }
}

function logitsLoss(logits: Tensor, y: Tensor): Tensor {
  return F.crossEntropy(logits, y);
}
