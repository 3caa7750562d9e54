/**
 * Training a found cell from scratch (docs/evaluation.md#the-protocol; DARTS `cnn/train.py`): the evaluation
 * network of the genotype, SGD with momentum and coupled weight decay on every parameter, the
 * learning rate on a cosine from `lr` to `lrMin` over all epochs (epoch e, from 0, trains at
 * lrMin + ½(lr − lrMin)(1 + cos(π·e/E))), gradient norm clipped to `gradClip`, loss =
 * CE(logits) + auxiliaryWeight·CE(auxiliary logits), cutout after normalisation, drop path
 * p(e) = dropPath·e/E on every non-Identity op, and after each epoch the loss and accuracy on the
 * evaluation split (test set, or a validation split held out of the training set). The number
 * reported is the error after the LAST epoch.
 *
 * Pure: it opens no files. A `RunRecorder` receives the metrics lines, the result record and
 * atomic per-epoch checkpoints holding everything needed to continue exactly (weights, buffers,
 * momentum buffers, the torch generator, the augmentation generator, the loader position, the
 * log lengths), so a run killed at any moment and resumed ends bitwise equal to an uninterrupted one.
 */
import {
  F, SGD, Tensor, clipGradNorm, cosineAnnealingLr, getRngState, grad, manualSeed, noGrad, setRngState, tensor, tidy, libtorchVersion,
  type Device,
} from '../torch/index.js';
import { Conv7x1_1x7, EvalNetwork, formatGenotypeRepr, genotypeFromJSON, genotypeToJSON, resolveSpace, type Genotype } from '../nas/index.js';
import { BatchLoader, makeBatch, trainValSplit, datasetFingerprint, type ImageDataset, type ArrayBatch, type BatchLoaderState } from '../data/index.js';
import { Rng, type RngState } from '../util/rng.js';
import { CheckpointError, ConfigError, DivergenceError } from '../errors.js';
import { VERSION } from '../version.js';
import type { EvalConfig } from './eval-config.js';
import type { LogLengths, RunRecorder } from './recorder.js';

export interface EvalSplitMetrics {
  loss: number;
  acc: number;
}

export type EvalEvent =
  | { type: 'start'; epochs: number; stepsPerEpoch: number; resumedFrom: number | null; parameters: number; parametersWithAux: number }
  | { type: 'step'; epoch: number; step: number; steps: number; loss: number; acc: number; lr: number }
  | { type: 'epoch'; epoch: number; epochs: number; lr: number; dropPath: number; train: EvalSplitMetrics; evaluation: (EvalSplitMetrics & { split: 'test' | 'validation' }) | null; seconds: number }
  | { type: 'note'; message: string };

/** What a finished training reports (also the content of result.json, with the genotype in JSON form). */
export interface EvalTrainResult {
  kind: 'train';
  genotype: Genotype;
  repr: string;
  dataset: string;
  /** the split the final error was measured on */
  split: 'test' | 'validation';
  /** error (1 − accuracy, in [0, 1]) on that split after the last epoch */
  error: number;
  /** same as `error` when split is 'test', else null */
  testError: number | null;
  /** same as `error` when split is 'validation', else null */
  validError: number | null;
  final: EvalSplitMetrics & { images: number };
  finalTrain: EvalSplitMetrics | null;
  epochs: number;
  /** parameters without the auxiliary head (what DARTS reports as "param size") */
  parameters: number;
  parametersWithAux: number;
  /** training wall time summed over all sessions of this run (seconds) */
  wallSeconds: number;
  location: string | null;
}

export interface EvalData {
  train: ImageDataset;
  /** the test split (needed when cfg.evaluation is 'test') */
  test: ImageDataset | null;
}

export interface EvalTrainerOptions {
  onEvent?: (e: EvalEvent) => void;
  /** where the run is recorded (null: in memory, no checkpoints) */
  recorder?: RunRecorder | null;
}

interface EvalTrainerState {
  kind: 'eval-train';
  /** next epoch to run */
  epoch: number;
  sgd: { lr: number; momentum: number; weightDecay: number; hasBuffers: boolean[] };
  torchRng: string;
  augRng: RngState;
  trainLoader: BatchLoaderState;
  logs: LogLengths;
  lastEval: EvalSplitMetrics | null;
  lastTrain: EvalSplitMetrics | null;
  wallSeconds: number;
}

interface Batch {
  x: Tensor;
  y: Tensor;
}

export class EvalTrainer {
  readonly model: EvalNetwork;
  readonly genotype: Genotype;
  readonly opt: SGD;
  readonly stepsPerEpoch: number;
  /** training image indices (into data.train) */
  readonly trainIndices: Int32Array;
  /** evaluation images: indices into `evalSet` */
  readonly evalIndices: Int32Array;
  readonly evalSet: ImageDataset;
  private readonly trainLoader: BatchLoader;
  private readonly augRng: Rng;
  private readonly recorder: RunRecorder | null;
  private readonly emit: (e: EvalEvent) => void;
  private readonly device: Device;
  /** next epoch to run */
  epoch = 0;
  private lastEval: EvalSplitMetrics | null = null;
  private lastTrain: EvalSplitMetrics | null = null;
  private wallSeconds = 0;

  constructor(
    readonly cfg: EvalConfig,
    readonly data: EvalData,
    o: EvalTrainerOptions = {},
  ) {
    this.recorder = o.recorder ?? null;
    this.emit = o.onEvent ?? (() => {});
    this.device = cfg.device as Device;
    this.genotype = genotypeFromJSON(cfg.genotype, `${cfg.genotypeSource} (genotype)`);
    const space = cfg.space ? resolveSpace(cfg.space) : undefined;
    const train = data.train;
    if (train.height < 8 || train.width < 8) throw new ConfigError(`images of ${train.height}×${train.width} are too small for two stride-2 reductions`);
    if (cfg.evaluation === 'test') {
      if (!data.test) throw new ConfigError('evaluation on the test split needs the test images', 'load the test split, or set evaluation: validation');
      checkSameShape(train, data.test);
      this.evalSet = data.test;
      this.trainIndices = Int32Array.from({ length: train.n }, (_, i) => i);
      this.evalIndices = Int32Array.from({ length: data.test.n }, (_, i) => i);
    } else {
      const split = trainValSplit(train.n, cfg.trainPortion);
      this.evalSet = train;
      this.trainIndices = split.train;
      this.evalIndices = split.val;
    }
    manualSeed(cfg.seed);
    this.model = new EvalNetwork({
      genotype: this.genotype,
      C: cfg.channels,
      layers: cfg.layers,
      numClasses: train.numClasses,
      inChannels: train.channels,
      auxiliary: cfg.auxiliary,
      ...(space ? { space } : {}),
    });
    if (this.device !== 'cpu') this.model.to(this.device);
    this.opt = new SGD(this.model.parameters(), { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
    this.trainLoader = new BatchLoader(this.trainIndices, cfg.batchSize, new Rng(cfg.seed * 1000 + 1));
    this.augRng = new Rng(cfg.seed * 1000 + 3);
    this.stepsPerEpoch = Math.min(this.trainLoader.stepsPerEpoch, cfg.stepsPerEpoch ?? Infinity);
  }

  /** The resolved description written to config.json (the config plus what was derived from it). */
  describe(): Record<string, unknown> {
    return {
      ...this.cfg,
      kind: 'train',
      repr: formatGenotypeRepr(this.genotype),
      library: { name: 'robust-darts', version: VERSION, libtorch: libtorchVersion() },
      dataFingerprint: datasetFingerprint(this.data.train),
      testFingerprint: this.cfg.evaluation === 'test' && this.data.test ? datasetFingerprint(this.data.test) : null,
      numClasses: this.data.train.numClasses,
      inChannels: this.data.train.channels,
      imageSize: [this.data.train.height, this.data.train.width],
      trainImages: this.trainIndices.length,
      evalImages: this.evalIndices.length,
      parameters: this.model.numParametersWithoutAuxiliary(),
      parametersWithAux: this.model.numParameters(),
      effectiveStepsPerEpoch: this.stepsPerEpoch,
    };
  }

  lrAt(epoch: number): number {
    return cosineAnnealingLr(epoch, this.cfg.lr, this.cfg.epochs, this.cfg.lrMin);
  }

  dropPathAt(epoch: number): number {
    return (this.cfg.dropPath * epoch) / this.cfg.epochs;
  }

  private toTensors(b: ArrayBatch): Batch {
    const x = tensor(b.x, b.shape, this.device === 'cpu' ? {} : { device: this.device });
    const y = tensor(b.y, [b.y.length]).to(this.device === 'cpu' ? 'int64' : { dtype: 'int64', device: this.device });
    return { x, y };
  }

  private trainBatch(indices: Int32Array): Batch {
    const cutout = this.cfg.cutout && this.cfg.cutoutProb > 0 ? { cutout: { length: this.cfg.cutoutLength, prob: this.cfg.cutoutProb } } : {};
    return this.toTensors(makeBatch(this.data.train, indices, { augment: true, ...cutout }, this.augRng));
  }

  /** One SGD step on the next training batch: loss (main + weighted auxiliary), accuracy (count), batch size. */
  private step(): { loss: number; correct: number; n: number } {
    return tidy(() => {
      const b = this.trainBatch(this.trainLoader.next().indices);
      const out = this.model.forward(b.x);
      let lossT = F.crossEntropy(out.logits, b.y);
      if (out.auxLogits && this.cfg.auxiliaryWeight > 0) lossT = lossT.add(F.crossEntropy(out.auxLogits, b.y).mul(this.cfg.auxiliaryWeight));
      const loss = lossT.item();
      const n = b.y.shape[0]!;
      if (!Number.isFinite(loss)) return { loss, correct: NaN, n };
      const ps = this.opt.params;
      const gs = grad(lossT, ps, { allowUnused: true });
      ps.forEach((p, i) => (p.grad = gs[i] ?? null));
      clipGradNorm(ps, this.cfg.gradClip);
      this.opt.step();
      this.opt.zeroGrad();
      const correct = noGrad(() => out.logits.argmax(1).eq(b.y).sum().item());
      return { loss, correct, n };
    });
  }

  /** Loss and accuracy on the evaluation split (eval mode, no augmentation), at most `evalBatches` batches. */
  evaluate(): EvalSplitMetrics & { images: number } {
    return evaluateEvalNetwork(this.model, this.evalSet, this.evalIndices, { batchSize: this.cfg.batchSize, maxBatches: this.cfg.evalBatches, device: this.device });
  }

  private log(line: Record<string, unknown>): void {
    this.recorder?.appendMetrics(line);
  }

  /** Run (or continue) the training to its last epoch. */
  run(): EvalTrainResult {
    const E = this.cfg.epochs;
    this.emit({
      type: 'start',
      epochs: E,
      stepsPerEpoch: this.stepsPerEpoch,
      resumedFrom: this.epoch > 0 ? this.epoch - 1 : null,
      parameters: this.model.numParametersWithoutAuxiliary(),
      parametersWithAux: this.model.numParameters(),
    });
    const split = this.cfg.evaluation;
    let final: (EvalSplitMetrics & { images: number }) | null = null;
    while (this.epoch < E) {
      const epoch = this.epoch;
      const t0 = performance.now();
      const lr = this.lrAt(epoch);
      const dropPath = this.dropPathAt(epoch);
      this.opt.lr = lr;
      this.model.dropPathProb = dropPath;
      this.model.train();
      let lossSum = 0;
      let correct = 0;
      let count = 0;
      for (let s = 0; s < this.stepsPerEpoch; s++) {
        const r = this.step();
        if (!Number.isFinite(r.loss)) {
          this.log({ kind: 'diverged', epoch, step: s, loss: String(r.loss), lr });
          throw new DivergenceError(
            `the training loss became ${r.loss} at epoch ${epoch}, step ${s} (lr ${lr.toPrecision(3)})`,
            `${epoch > 0 ? `the run stopped; the last good checkpoint (epoch ${epoch - 1}) is kept` : 'the run stopped in its first epoch, before any checkpoint'}. Lower --lr or raise --grad-clip, then start anew (a resume repeats the same steps)`,
          );
        }
        lossSum += r.loss * r.n;
        correct += r.correct;
        count += r.n;
        this.emit({ type: 'step', epoch, step: s, steps: this.stepsPerEpoch, loss: lossSum / count, acc: correct / count, lr });
      }
      const train = { loss: lossSum / count, acc: correct / count };
      const last = epoch === E - 1;
      const measured = last || (epoch + 1) % this.cfg.evalEvery === 0 ? this.evaluate() : null;
      if (measured) {
        this.lastEval = { loss: measured.loss, acc: measured.acc };
        if (last) final = measured;
      }
      this.lastTrain = train;
      const seconds = (performance.now() - t0) / 1000;
      this.wallSeconds += seconds;
      const evalKey = split === 'test' ? 'test' : 'valid';
      this.log({ kind: 'epoch', epoch, lr, dropPath, train, [evalKey]: measured ? { loss: measured.loss, acc: measured.acc } : null, seconds });
      this.emit({ type: 'epoch', epoch, epochs: E, lr, dropPath, train, evaluation: measured ? { split, loss: measured.loss, acc: measured.acc } : null, seconds });
      this.epoch = epoch + 1;
      this.checkpoint();
    }
    // a run resumed after its last checkpoint measures the final error again (same weights, same number)
    if (!final) final = this.evaluate();
    const error = 1 - final.acc;
    const result: EvalTrainResult = {
      kind: 'train',
      genotype: this.genotype,
      repr: formatGenotypeRepr(this.genotype),
      dataset: this.cfg.dataset,
      split,
      error,
      testError: split === 'test' ? error : null,
      validError: split === 'validation' ? error : null,
      final,
      finalTrain: this.lastTrain,
      epochs: this.epoch,
      parameters: this.model.numParametersWithoutAuxiliary(),
      parametersWithAux: this.model.numParameters(),
      wallSeconds: this.wallSeconds,
      location: this.recorder?.location ?? null,
    };
    this.recorder?.writeResult({ ...result, genotype: genotypeToJSON(this.genotype) });
    return result;
  }

  /**
   * The trained network's tensors under the DARTS NetworkCIFAR keys (`stem.*`, `cells.N.*`,
   * `auxiliary_head.*`, `classifier.*`), batch-norm buffers included: what `model.safetensors` holds.
   */
  exportState(): Map<string, Tensor> {
    return toDartsKeys(this.model, this.model.stateDict());
  }

  // ------------------------------------------------------------------ checkpoints

  private checkpointTensors(): Map<string, Tensor> {
    const t = new Map<string, Tensor>();
    for (const [n, p] of this.model.namedParameters()) t.set(`w.${n}`, p);
    for (const [n, b] of this.model.namedBuffers()) t.set(`buf.${n}`, b);
    this.opt.momentumBuffers.forEach((b, i) => b && t.set(`sgd.momentum.${i}`, b));
    return t;
  }

  private state(): EvalTrainerState {
    return {
      kind: 'eval-train',
      epoch: this.epoch,
      sgd: { lr: this.opt.lr, momentum: this.opt.hyper.momentum, weightDecay: this.opt.hyper.weightDecay, hasBuffers: this.opt.momentumBuffers.map((b) => b !== null) },
      torchRng: Buffer.from(getRngState()).toString('base64'),
      augRng: this.augRng.getState(),
      trainLoader: this.trainLoader.getState(),
      logs: this.recorder ? this.recorder.lengths() : { metrics: 0, genotypes: 0 },
      lastEval: this.lastEval,
      lastTrain: this.lastTrain,
      wallSeconds: this.wallSeconds,
    };
  }

  /** Checkpoint after the epoch just finished (this.epoch − 1). */
  private checkpoint(): void {
    if (!this.recorder) return;
    this.recorder.saveCheckpoint(this.epoch - 1, this.checkpointTensors(), this.state());
    this.recorder.pruneCheckpoints(this.cfg.keepCheckpoints);
  }

  /** Continue from the newest intact checkpoint (the logs are cut back to it); returns its epoch, or null if there is none. */
  resume(onSkip?: (epoch: number, err: Error) => void): number | null {
    if (!this.recorder) throw new CheckpointError('resume needs a run folder');
    const ck = this.recorder.loadLatestCheckpoint<EvalTrainerState>(onSkip);
    if (!ck) return null;
    const st = ck.state;
    const tensors = ck.tensors;
    try {
      if (st?.kind !== 'eval-train') throw new CheckpointError(`checkpoint of epoch ${ck.epoch} was not written by a training run (kind ${JSON.stringify(st?.kind)})`, 'resume a folder `rdarts train` wrote');
      const need = (name: string): Tensor => {
        const t = tensors.get(name);
        if (!t) throw new CheckpointError(`checkpoint lacks tensor '${name}'`, 'the checkpoint was written for another network (genotype, layers, channels, classes or auxiliary head)');
        return t;
      };
      noGrad(() => {
        for (const [n, p] of this.model.namedParameters()) copyChecked(p, need(`w.${n}`), `w.${n}`);
        for (const [n, b] of this.model.namedBuffers()) copyChecked(b, need(`buf.${n}`), `buf.${n}`);
      });
      this.opt.loadStateDict({
        hyper: { ...this.opt.hyper, lr: st.sgd.lr, momentum: st.sgd.momentum, weightDecay: st.sgd.weightDecay },
        buffers: st.sgd.hasBuffers.map((has, i) => (has ? need(`sgd.momentum.${i}`) : null)),
      });
      setRngState(Uint8Array.from(Buffer.from(st.torchRng, 'base64')));
      this.augRng.setState(st.augRng);
      this.trainLoader.setState(st.trainLoader);
      this.lastEval = st.lastEval;
      this.lastTrain = st.lastTrain;
      this.wallSeconds = st.wallSeconds;
      this.epoch = st.epoch;
      this.recorder.truncateLogs(st.logs);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
    return ck.epoch;
  }

  dispose(): void {
    this.opt.dispose();
    this.model.dispose();
  }
}

/**
 * Mean loss and accuracy of an evaluation network on `indices` of `ds`: eval mode (batch-norm
 * running statistics, no drop path, no auxiliary head), no gradient, no augmentation, in order,
 * `batchSize` at a time, at most `maxBatches` batches. The network's train/eval mode is restored.
 */
export function evaluateEvalNetwork(
  model: EvalNetwork,
  ds: ImageDataset,
  indices: Int32Array,
  o: { batchSize: number; maxBatches?: number | null; device?: Device },
): EvalSplitMetrics & { images: number } {
  const B = o.batchSize;
  const maxBatches = o.maxBatches ?? Infinity;
  const device = o.device ?? 'cpu';
  const wasTraining = model.training;
  const rng = new Rng(0); // not drawn from: no augmentation
  model.eval();
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  try {
    for (let k = 0; k * B < indices.length && k < maxBatches; k++) {
      const idx = indices.subarray(k * B, Math.min(indices.length, (k + 1) * B));
      const r = tidy(() =>
        noGrad(() => {
          const b = makeBatch(ds, idx, { augment: false }, rng);
          const x = tensor(b.x, b.shape, device === 'cpu' ? {} : { device });
          const y = tensor(b.y, [b.y.length]).to(device === 'cpu' ? 'int64' : { dtype: 'int64', device });
          const { logits } = model.forward(x);
          return { loss: F.crossEntropy(logits, y, { reduction: 'sum' }).item(), c: logits.argmax(1).eq(y).sum().item() };
        }),
      );
      lossSum += r.loss;
      correct += r.c;
      count += idx.length;
    }
  } finally {
    model.train(wasTraining);
  }
  if (count === 0) throw new ConfigError('the evaluation split is empty', 'use more images, or a train portion below 1');
  return { loss: lossSum / count, acc: correct / count, images: count };
}

/**
 * Module prefixes whose key differs from DARTS' NetworkCIFAR: DARTS builds conv_7x1_1x7 as a bare
 * nn.Sequential (`_ops.K.1.weight`), ours wraps it in a module with an `op` child (`_ops.K.op.1.weight`).
 * Every other key is already DARTS' own.
 */
function renamedPrefixes(model: EvalNetwork): Array<[ours: string, darts: string]> {
  const out: Array<[string, string]> = [];
  model.cells.items.forEach((cell, i) => {
    cell.ops.items.forEach((op, k) => {
      if (op instanceof Conv7x1_1x7) out.push([`cells.${i}._ops.${k}.op.`, `cells.${i}._ops.${k}.`]);
    });
  });
  return out;
}

/** The network's state dict under DARTS' keys (same tensors, not copies). */
export function toDartsKeys(model: EvalNetwork, sd: Map<string, Tensor>): Map<string, Tensor> {
  const ren = renamedPrefixes(model);
  if (!ren.length) return sd;
  return new Map([...sd].map(([k, t]) => [ren.reduce((key, [a, b]) => (key.startsWith(a) ? b + key.slice(a.length) : key), k), t]));
}

/** A state dict under DARTS' keys renamed to this network's keys (inverse of toDartsKeys). */
export function fromDartsKeys(model: EvalNetwork, sd: Map<string, Tensor>): Map<string, Tensor> {
  const ren = renamedPrefixes(model);
  if (!ren.length) return sd;
  return new Map([...sd].map(([k, t]) => [ren.reduce((key, [a, b]) => (key.startsWith(b) && !key.startsWith(a) ? a + key.slice(b.length) : key), k), t]));
}

function checkSameShape(train: ImageDataset, test: ImageDataset): void {
  const a = `${train.channels}×${train.height}×${train.width}, ${train.numClasses} classes`;
  const b = `${test.channels}×${test.height}×${test.width}, ${test.numClasses} classes`;
  if (a !== b) throw new ConfigError(`the training images (${a}) and the test images (${b}) differ in shape`, 'train and test on splits of the same dataset');
}

function copyChecked(dst: Tensor, src: Tensor, name: string): void {
  if (dst.shape.join(',') !== src.shape.join(',')) {
    throw new CheckpointError(`checkpoint tensor '${name}' has shape [${src.shape.join(', ')}], the network needs [${dst.shape.join(', ')}]`, 'the checkpoint was written for another configuration');
  }
  dst.copy_(src);
}
