/**
 * Training a recurrent cell from scratch on a word-level corpus (docs/lm.md#models; DARTS `rnn/train.py`):
 * the evaluation model of the genotype (850 units), SGD without momentum (lr 20, coupled weight
 * decay 8e-7, gradient norm clipped to 0.25), lr × seq_len/bptt for each batch of DARTS' variable
 * length, loss = NLL + AR + TAR (0 and 1e-3), and after each epoch the validation perplexity.
 * While on SGD, the non-monotone trigger (nonmono 5) switches to ASGD (eval-asgd.ts); from then on
 * each validation uses the averaged weights. The best validation loss so far is kept (its weights
 * and optimizer state, averaged weights under ASGD, as DARTS saves model.pt); a NaN loss rolls
 * back to it (DARTS' `except` branch) and continues at the epoch after it; the test perplexity is
 * measured on the best model at the end.
 *
 * Pure: it opens no files. A `RunRecorder` receives metrics lines, the result record and per-epoch
 * checkpoints holding everything needed to continue exactly (weights, ASGD averages, the best
 * snapshot, both generators, the trigger's history, log lengths).
 */
import { Tensor, SGD, clipGradNorm, getRngState, grad, keep, manualSeed, noGrad, setRngState, tidy, libtorchVersion, type Device } from '../../torch/index.js';
import { RnnEvalModel, activationPenalty, formatRnnGenotypeRepr, rnnGenotypeFromJSON, rnnGenotypeToJSON, rnnParameterCount, type RnnGenotype } from '../../nas/rnn/index.js';
import { batchify, drawSeqLen, getBatch, type TokenGrid } from '../../data/index.js';
import { Rng, type RngState } from '../../util/rng.js';
import { CheckpointError, ConfigError, DivergenceError } from '../../errors.js';
import { VERSION } from '../../version.js';
import type { LogLengths, RunRecorder } from '../recorder.js';
import { Asgd, nonMonotoneSwitch, type AsgdHyper, type AsgdScalars } from './eval-asgd.js';
import type { RnnEvalConfig } from './eval-config.js';
import { evaluateLm, lmBatchTensors, type LmMetrics } from './eval-lm.js';

/** The token streams (a TextCorpus fits). */
export interface RnnEvalData {
  vocab: readonly string[] | { length: number };
  train: Int32Array;
  valid: Int32Array;
  test?: Int32Array | null;
  /** recorded in describe() (corpusFingerprint) */
  fingerprint?: string;
}

export type RnnEvalEvent =
  | { type: 'start'; epochs: number; resumedFrom: number | null; parameters: number }
  | { type: 'step'; epoch: number; step: number; loss: number; lr: number; seqLen: number }
  | { type: 'epoch'; epoch: number; optimizer: 'sgd' | 'asgd'; train: { loss: number; ppl: number }; valid: LmMetrics; best: boolean; seconds: number }
  | { type: 'switch'; epoch: number }
  | { type: 'rollback'; epoch: number; toEpoch: number; loss: number }
  | { type: 'note'; message: string };

export interface RnnEvalResult {
  kind: 'lm-train';
  genotype: RnnGenotype;
  repr: string;
  dataset: string;
  /** epochs run (the next epoch index) */
  epochs: number;
  /** epoch of the best validation loss (0-based; DARTS prints it + 1) */
  bestEpoch: number | null;
  valid: LmMetrics | null;
  test: LmMetrics | null;
  /** epoch after which the trainer switched to ASGD, or null */
  asgdFrom: number | null;
  rollbacks: number;
  parameters: number;
  wallSeconds: number;
  location: string | null;
}

export interface RnnEvalTrainerOptions {
  onEvent?: (e: RnnEvalEvent) => void;
  recorder?: RunRecorder | null;
}

interface OptimizerState {
  kind: 'sgd' | 'asgd';
  lr: number;
  asgd: { hyper: AsgdHyper; scalars: AsgdScalars } | null;
}

interface BestMeta {
  epoch: number;
  loss: number;
  opt: OptimizerState;
}

interface RnnEvalState {
  kind: 'lm-eval-train';
  epoch: number;
  opt: OptimizerState;
  best: BestMeta | null;
  history: number[];
  storedLoss: number;
  asgdFrom: number | null;
  rollbacks: number;
  torchRng: string;
  seqRng: RngState;
  logs: LogLengths;
  lastValid: LmMetrics | null;
  wallSeconds: number;
}

export class RnnEvalTrainer {
  readonly model: RnnEvalModel;
  readonly genotype: RnnGenotype;
  readonly trainGrid: TokenGrid;
  readonly validGrid: TokenGrid;
  readonly testGrid: TokenGrid | null;
  private sgd: SGD;
  private asgd: Asgd | null = null;
  private readonly seqRng: Rng;
  private readonly recorder: RunRecorder | null;
  private readonly emit: (e: RnnEvalEvent) => void;
  private readonly device: Device;
  /** next epoch to run */
  epoch = 0;
  /** validation losses of the SGD epochs (DARTS `best_val_loss`) */
  private history: number[] = [];
  private storedLoss = 1e8;
  private best: { meta: BestMeta; params: Tensor[]; ax: Tensor[] | null } | null = null;
  private asgdFrom: number | null = null;
  private rollbacks = 0;
  private lastValid: LmMetrics | null = null;
  private wallSeconds = 0;

  constructor(
    readonly cfg: RnnEvalConfig,
    readonly data: RnnEvalData,
    o: RnnEvalTrainerOptions = {},
  ) {
    this.recorder = o.recorder ?? null;
    this.emit = o.onEvent ?? (() => {});
    this.device = cfg.device as Device;
    this.genotype = rnnGenotypeFromJSON(cfg.genotype, `${cfg.genotypeSource} (genotype)`);
    if (cfg.test && !data.test) throw new ConfigError('the training measures the test perplexity at the end, but no test stream was given', 'load the test split, or set test: false');
    this.trainGrid = batchify(data.train, cfg.batchSize);
    this.validGrid = batchify(data.valid, cfg.evalBatchSize);
    this.testGrid = cfg.test && data.test ? batchify(data.test, cfg.testBatchSize) : null;
    manualSeed(cfg.seed);
    this.model = new RnnEvalModel({
      vocabSize: data.vocab.length,
      genotype: this.genotype,
      hiddenSize: cfg.nhid,
      dropout: cfg.dropout,
      dropouth: cfg.dropouth,
      dropoutx: cfg.dropoutx,
      dropouti: cfg.dropouti,
      dropoute: cfg.dropoute,
    });
    if (this.device !== 'cpu') this.model.to(this.device);
    this.sgd = new SGD(this.model.parameters(), { lr: cfg.lr, weightDecay: cfg.weightDecay });
    this.seqRng = new Rng(cfg.seed * 1000 + 7);
  }

  get parameters(): number {
    return this.model.numParameters();
  }

  get optimizerKind(): 'sgd' | 'asgd' {
    return this.asgd ? 'asgd' : 'sgd';
  }

  /** The resolved description for config.json. */
  describe(): Record<string, unknown> {
    return {
      ...this.cfg,
      kind: 'lm-train',
      repr: formatRnnGenotypeRepr(this.genotype),
      library: { name: 'robust-darts', version: VERSION, libtorch: libtorchVersion() },
      dataFingerprint: this.data.fingerprint ?? null,
      vocabSize: this.data.vocab.length,
      trainTokens: this.data.train.length,
      validTokens: this.data.valid.length,
      testTokens: this.data.test?.length ?? null,
      parameters: this.parameters,
      parametersByFormula: rnnParameterCount(this.data.vocab.length, this.cfg.nhid, this.genotype.recurrent.length).total,
    };
  }

  private get opt(): SGD | Asgd {
    return this.asgd ?? this.sgd;
  }

  /** One training step on rows i … i+seqLen of the training grid; returns the raw NLL and the next hidden (detached, kept). */
  private step(i: number, seqLen: number, hidden: Tensor): { loss: number; hidden: Tensor } {
    return tidy(() => {
      const b = getBatch(this.trainGrid, i, seqLen);
      const { input, target } = lmBatchTensors(b, this.device);
      const out = this.model.loss(input, target, hidden);
      const pen = activationPenalty(out.rawOutput, out.output, { alpha: this.cfg.activationReg, beta: this.cfg.temporalActivationReg });
      const total = pen ? out.loss.add(pen) : out.loss;
      const loss = out.loss.item();
      const next = keep(out.hidden.detach());
      if (!Number.isFinite(loss) || !Number.isFinite(total.item())) return { loss: Number.isFinite(loss) ? NaN : loss, hidden: next };
      const ps = this.opt.params;
      const gs = grad(total, ps, { allowUnused: true });
      ps.forEach((p, k) => (p.grad = gs[k] ?? null));
      clipGradNorm(ps, this.cfg.gradClip);
      this.opt.step();
      this.opt.zeroGrad();
      return { loss, hidden: next };
    });
  }

  /** One pass over the training stream (DARTS train()); returns the mean raw loss per step, or a non-finite loss. */
  private trainEpoch(epoch: number): { loss: number; steps: number } {
    const bptt = this.cfg.bptt;
    const maxSteps = this.cfg.stepsPerEpoch ?? Infinity;
    let hidden = keep(this.model.initHidden(this.cfg.batchSize));
    let sum = 0;
    let n = 0;
    try {
      for (let i = 0; i < this.trainGrid.rows - 2 && n < maxSteps; ) {
        const seqLen = drawSeqLen(this.seqRng, { bptt, mode: this.cfg.seqLen.mode, maxSeqLenDelta: this.cfg.seqLen.maxSeqLenDelta });
        const lr2 = this.opt.lr;
        this.opt.lr = (lr2 * seqLen) / bptt;
        this.model.train();
        const r = this.step(i, seqLen, hidden);
        this.opt.lr = lr2;
        hidden.dispose();
        hidden = r.hidden;
        if (!Number.isFinite(r.loss)) return { loss: r.loss, steps: n };
        sum += r.loss;
        n++;
        this.emit({ type: 'step', epoch, step: n - 1, loss: sum / n, lr: lr2, seqLen });
        i += seqLen;
      }
    } finally {
      hidden.dispose();
    }
    return { loss: n > 0 ? sum / n : NaN, steps: n };
  }

  /** Validation (or another grid) with the current weights, eval mode. */
  evaluate(grid: TokenGrid = this.validGrid, maxBatches: number | null = this.cfg.evalBatches): LmMetrics {
    return evaluateLm(this.model, grid, { bptt: this.cfg.bptt, maxBatches, device: this.device });
  }

  /** Run `fn` with the ASGD averages in place of the weights (DARTS swaps `ax` in for validation), then put the weights back. */
  private withAveraged<T>(fn: () => T): T {
    const a = this.asgd;
    if (!a || a.steps === 0) return fn();
    const ps = this.model.parameters();
    const saved = noGrad(() => ps.map((p) => keep(p.clone())));
    try {
      noGrad(() => ps.forEach((p, i) => p.copy_(a.ax[i]!)));
      return fn();
    } finally {
      noGrad(() => ps.forEach((p, i) => p.copy_(saved[i]!)));
      saved.forEach((t) => t.dispose());
    }
  }

  private optimizerState(): OptimizerState {
    const a = this.asgd;
    return { kind: a ? 'asgd' : 'sgd', lr: this.opt.lr, asgd: a ? { hyper: a.stateDict().hyper, scalars: a.stateDict().scalars } : null };
  }

  /** Keep the current weights (averaged under ASGD) and optimizer state as the best model. */
  private saveBest(epoch: number, loss: number): void {
    this.disposeBest();
    const ps = this.model.parameters();
    const a = this.asgd;
    const params = noGrad(() => ps.map((p, i) => keep((a && a.steps > 0 ? a.ax[i]! : p).clone())));
    const ax = a ? noGrad(() => a.ax.map((t) => keep(t.clone()))) : null;
    this.best = { meta: { epoch, loss, opt: this.optimizerState() }, params, ax };
  }

  private disposeBest(): void {
    if (!this.best) return;
    this.best.params.forEach((t) => t.dispose());
    this.best.ax?.forEach((t) => t.dispose());
    this.best = null;
  }

  /** Restore the optimizer (SGD or ASGD, with its averages) from a saved state. */
  private restoreOptimizer(st: OptimizerState, ax: Tensor[] | null): void {
    this.asgd?.dispose();
    this.asgd = null;
    this.sgd.lr = st.lr;
    if (st.kind === 'asgd') {
      if (!st.asgd || !ax) throw new CheckpointError('ASGD state without its averages', 'the checkpoint is incomplete; start the training anew');
      const a = new Asgd(this.model.parameters(), { ...st.asgd.hyper, lr: st.lr });
      a.loadStateDict({ hyper: st.asgd.hyper, scalars: st.asgd.scalars, ax });
      this.asgd = a;
    }
  }

  private switchToAsgd(): void {
    const { t0, lambd, alpha } = this.cfg.asgd;
    this.asgd = new Asgd(this.model.parameters(), { lr: this.cfg.lr, t0, lambd, alpha, weightDecay: this.cfg.weightDecay });
  }

  private log(line: Record<string, unknown>): void {
    this.recorder?.appendMetrics(line);
  }

  /** Roll back to the best model after a non-finite loss (DARTS' except branch); throws when there is none or the limit is reached. */
  private rollback(epoch: number, loss: number): void {
    const b = this.best;
    if (!b || this.rollbacks >= this.cfg.maxRollbacks) {
      this.log({ kind: 'diverged', epoch, loss: String(loss) });
      throw new DivergenceError(
        `the training loss became ${loss} at epoch ${epoch}${b ? ` after ${this.rollbacks} rollback(s) to the best model` : ', before any best model was kept'}`,
        'lower --lr or --grad-clip, then start anew',
      );
    }
    noGrad(() => this.model.parameters().forEach((p, i) => p.copy_(b.params[i]!)));
    this.restoreOptimizer(b.meta.opt, b.ax);
    this.rollbacks++;
    this.log({ kind: 'rollback', epoch, toEpoch: b.meta.epoch + 1, loss: String(loss) });
    this.emit({ type: 'rollback', epoch, toEpoch: b.meta.epoch + 1, loss });
    this.epoch = b.meta.epoch + 1;
  }

  /** Run (or continue) to the last epoch, then measure the best model on the test stream. */
  run(): RnnEvalResult {
    const E = this.cfg.epochs;
    this.emit({ type: 'start', epochs: E, resumedFrom: this.epoch > 0 ? this.epoch - 1 : null, parameters: this.parameters });
    while (this.epoch < E) {
      const epoch = this.epoch;
      const t0 = performance.now();
      const tr = this.trainEpoch(epoch);
      if (!Number.isFinite(tr.loss)) {
        this.rollback(epoch, tr.loss);
        continue;
      }
      const wasAsgd = this.asgd !== null;
      const valid = wasAsgd ? this.withAveraged(() => this.evaluate()) : this.evaluate();
      const isBest = valid.loss < this.storedLoss;
      if (isBest) {
        this.saveBest(epoch, valid.loss);
        this.storedLoss = valid.loss;
      }
      let switched = false;
      if (!wasAsgd) {
        if (nonMonotoneSwitch(this.history, valid.loss, this.cfg.nonmono)) {
          this.switchToAsgd();
          this.asgdFrom = epoch;
          switched = true;
        }
        this.history.push(valid.loss);
      }
      this.lastValid = valid;
      const seconds = (performance.now() - t0) / 1000;
      this.wallSeconds += seconds;
      const train = { loss: tr.loss, ppl: Math.exp(tr.loss) };
      this.log({ kind: 'epoch', epoch, optimizer: wasAsgd ? 'asgd' : 'sgd', averaged: wasAsgd, lr: this.opt.lr, steps: tr.steps, train, valid, best: isBest, ...(switched ? { switchToAsgd: true } : {}), seconds });
      this.emit({ type: 'epoch', epoch, optimizer: wasAsgd ? 'asgd' : 'sgd', train, valid, best: isBest, seconds });
      if (switched) this.emit({ type: 'switch', epoch });
      this.epoch = epoch + 1;
      this.checkpoint();
    }
    return this.finish();
  }

  private finish(): RnnEvalResult {
    let test: LmMetrics | null = null;
    if (this.testGrid) {
      const grid = this.testGrid;
      test = this.best ? this.withBest(() => this.evaluate(grid, null)) : this.evaluate(grid, null);
    }
    const result: RnnEvalResult = {
      kind: 'lm-train',
      genotype: this.genotype,
      repr: formatRnnGenotypeRepr(this.genotype),
      dataset: this.cfg.dataset,
      epochs: this.epoch,
      bestEpoch: this.best?.meta.epoch ?? null,
      valid: this.best ? { loss: this.best.meta.loss, ppl: Math.exp(this.best.meta.loss), tokens: this.lastValid?.tokens ?? 0 } : this.lastValid,
      test,
      asgdFrom: this.asgdFrom,
      rollbacks: this.rollbacks,
      parameters: this.parameters,
      wallSeconds: this.wallSeconds,
      location: this.recorder?.location ?? null,
    };
    this.recorder?.writeResult({ ...result, genotype: rnnGenotypeToJSON(this.genotype) });
    return result;
  }

  /** Run `fn` with the best model's weights in place, then restore the current ones. */
  private withBest<T>(fn: () => T): T {
    const b = this.best!;
    const ps = this.model.parameters();
    const saved = noGrad(() => ps.map((p) => keep(p.clone())));
    try {
      noGrad(() => ps.forEach((p, i) => p.copy_(b.params[i]!)));
      return fn();
    } finally {
      noGrad(() => ps.forEach((p, i) => p.copy_(saved[i]!)));
      saved.forEach((t) => t.dispose());
    }
  }

  /** The model's tensors under DARTS' keys (`encoder.weight`, `rnns.0._W0`, `rnns.0._Ws.i`, `decoder.weight`, `decoder.bias`), best weights if kept. */
  exportState(best = true): Map<string, Tensor> {
    if (!best || !this.best) return this.model.dartsStateDict();
    const names = [...this.model.namedParameters()].map(([n]) => n);
    const sd = new Map<string, Tensor>();
    names.forEach((n, i) => {
      if (n === 'decoder.bias') sd.set('decoder.weight', this.best!.params[names.indexOf('encoder.weight')]!);
      sd.set(n, this.best!.params[i]!);
    });
    return sd;
  }

  // ------------------------------------------------------------------ checkpoints

  private checkpointTensors(): Map<string, Tensor> {
    const t = new Map<string, Tensor>();
    const names = [...this.model.namedParameters()].map(([n]) => n);
    this.model.parameters().forEach((p, i) => t.set(`w.${names[i]}`, p));
    this.asgd?.ax.forEach((a, i) => t.set(`asgd.ax.${i}`, a));
    this.best?.params.forEach((p, i) => t.set(`best.w.${names[i]}`, p));
    this.best?.ax?.forEach((a, i) => t.set(`best.asgd.ax.${i}`, a));
    return t;
  }

  private state(): RnnEvalState {
    return {
      kind: 'lm-eval-train',
      epoch: this.epoch,
      opt: this.optimizerState(),
      best: this.best ? this.best.meta : null,
      history: [...this.history],
      storedLoss: this.storedLoss,
      asgdFrom: this.asgdFrom,
      rollbacks: this.rollbacks,
      torchRng: Buffer.from(getRngState()).toString('base64'),
      seqRng: this.seqRng.getState(),
      logs: this.recorder ? this.recorder.lengths() : { metrics: 0, genotypes: 0 },
      lastValid: this.lastValid,
      wallSeconds: this.wallSeconds,
    };
  }

  private checkpoint(): void {
    if (!this.recorder) return;
    this.recorder.saveCheckpoint(this.epoch - 1, this.checkpointTensors(), this.state());
    this.recorder.pruneCheckpoints(this.cfg.keepCheckpoints);
  }

  /** Continue from the newest intact checkpoint (logs cut back to it); returns its epoch, or null if there is none. */
  resume(onSkip?: (epoch: number, err: Error) => void): number | null {
    if (!this.recorder) throw new CheckpointError('resume needs a run folder');
    const ck = this.recorder.loadLatestCheckpoint<RnnEvalState>(onSkip);
    if (!ck) return null;
    const st = ck.state;
    const tensors = ck.tensors;
    try {
      if (st?.kind !== 'lm-eval-train') throw new CheckpointError(`checkpoint of epoch ${ck.epoch} was not written by a recurrent training run (kind ${JSON.stringify(st?.kind)})`, 'resume a folder the recurrent training wrote');
      const need = (name: string): Tensor => {
        const t = tensors.get(name);
        if (!t) throw new CheckpointError(`checkpoint lacks tensor '${name}'`, 'the checkpoint was written for another model (genotype, size or vocabulary)');
        return t;
      };
      const named = [...this.model.namedParameters()];
      noGrad(() => named.forEach(([n, p]) => copyChecked(p, need(`w.${n}`), `w.${n}`)));
      const ax = st.opt.kind === 'asgd' ? named.map((_, i) => need(`asgd.ax.${i}`)) : null;
      this.restoreOptimizer(st.opt, ax);
      this.disposeBest();
      if (st.best) {
        const params = named.map(([n]) => keep(noGrad(() => need(`best.w.${n}`).clone())));
        const bax = st.best.opt.kind === 'asgd' ? named.map((_, i) => keep(noGrad(() => need(`best.asgd.ax.${i}`).clone()))) : null;
        this.best = { meta: st.best, params, ax: bax };
      }
      this.history = [...st.history];
      this.storedLoss = st.storedLoss;
      this.asgdFrom = st.asgdFrom;
      this.rollbacks = st.rollbacks;
      setRngState(Uint8Array.from(Buffer.from(st.torchRng, 'base64')));
      this.seqRng.setState(st.seqRng);
      this.lastValid = st.lastValid;
      this.wallSeconds = st.wallSeconds;
      this.epoch = st.epoch;
      this.recorder.truncateLogs(st.logs);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
    return ck.epoch;
  }

  dispose(): void {
    this.disposeBest();
    this.asgd?.dispose();
    this.sgd.dispose();
    this.model.dispose();
  }
}

function copyChecked(dst: Tensor, src: Tensor, name: string): void {
  if (dst.shape.join(',') !== src.shape.join(',')) {
    throw new CheckpointError(`checkpoint tensor '${name}' has shape [${src.shape.join(', ')}], the model needs [${dst.shape.join(', ')}]`, 'the checkpoint was written for another configuration');
  }
  dst.copy_(src);
}
