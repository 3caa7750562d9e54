/**
 * The bilevel loop of the recurrent-cell search (docs/lm.md#search), after DARTS
 * `rnn/train_search.py`, on the same clock as the CNN trainer (search/trainer.ts): per training
 * window an architecture step on a validation window, then the weight step; at each epoch's end
 * the validation perplexity, the genotype, the metrics and genotype lines, the plug-ins (Hessian
 * monitor, early stop, ADA) and a checkpoint through the run's recorder.
 *
 * One epoch walks the batchified training stream (batch `batchSize` columns) from row 0: at row i
 * it draws seq_len (data/ptb.ts drawSeqLen), takes the training window at i (seq_len rows) and the
 * validation window at i mod (rows_val − 1) (bptt rows) of the validation stream batchified the
 * same way, and advances i by seq_len while i < rows − 2. The batch's learning rate is
 * lr · seq_len / bptt (the architecture step's η included). Both hidden states start at zero at
 * each epoch and are carried (detached) from window to window.
 */
import { SGD, Tensor, clipGradNorm, grad, keep, libtorchVersion, manualSeed, noGrad, tensor, tidy, type Device } from '../../torch/index.js';
import { RnnSearchModel, activationPenalty } from '../../nas/rnn/model.js';
import { rnnGenotypeToJSON, type RnnGenotype } from '../../nas/rnn/genotype.js';
import { formatRnnGenotypeRepr } from '../../nas/rnn/repr.js';
import { batchify, corpusFingerprint, drawSeqLen, getBatch, type TextCorpus, type TokenBatch, type TokenGrid } from '../../data/index.js';
import { Rng } from '../../util/rng.js';
import { ConfigError, DivergenceError } from '../../errors.js';
import { VERSION } from '../../version.js';
import type { RunRecorder } from '../recorder.js';
import { RnnArchitect, type TokenTensors } from './architect.js';
import { evaluateLm } from './eval-lm.js';
import type { RnnSearchConfig } from './config.js';
import type { PluginDecision, RnnEpochContext, RnnSearchPlugin, RnnWindow } from './plugin.js';
import type { LossPpl, RnnEpochLogLine, RnnGenotypeLine, RnnMetricsLine, RnnSearchResultRecord } from './run-lines.js';
import { RnnSearchPosition, RnnTrainerCheckpoints, type RnnTrainerState } from './state.js';

export type RnnSearchEvent =
  | { type: 'start'; epochs: number; resumedFrom: number | null; parameters: number; alphas: number; vocab: number }
  | { type: 'step'; epoch: number; step: number; row: number; rows: number; loss: number; lr: number }
  | { type: 'epoch'; epoch: number; iteration: number; train: LossPpl; valid: LossPpl; seconds: number; genotype: string }
  | { type: 'note'; message: string };

export interface RnnSearchResult extends Omit<RnnSearchResultRecord, 'genotype'> {
  genotype: RnnGenotype;
}

export interface RnnTrainerOptions {
  plugins?: RnnSearchPlugin[];
  onEvent?: (e: RnnSearchEvent) => void;
  recorder?: RunRecorder | null;
}

const perplexity = (loss: number): number => Math.exp(loss);

export class RnnSearchTrainer {
  readonly model: RnnSearchModel;
  readonly architect: RnnArchitect;
  readonly wOpt: SGD;
  readonly plugins: RnnSearchPlugin[];
  readonly trainGrid: TokenGrid;
  /** the validation stream batchified like the training one: the architecture step's windows (DARTS search_data) */
  readonly searchGrid: TokenGrid;
  /** the validation stream in evalBatchSize columns: the end-of-epoch perplexity (DARTS val_data) */
  readonly evalGrid: TokenGrid;
  private readonly seqRng: Rng;
  private readonly hessianRng: Rng;
  private readonly recorder: RunRecorder | null;
  private readonly emit: (e: RnnSearchEvent) => void;
  private readonly device: Device;
  private readonly pos = new RnnSearchPosition();
  private readonly checkpoints: RnnTrainerCheckpoints;

  constructor(
    readonly cfg: RnnSearchConfig,
    readonly corpus: TextCorpus,
    o: RnnTrainerOptions = {},
  ) {
    this.recorder = o.recorder ?? null;
    this.emit = o.onEvent ?? (() => {});
    this.plugins = o.plugins ?? [];
    this.device = cfg.device as Device;
    if (cfg.emsize !== cfg.nhid) throw new ConfigError(`emsize ${cfg.emsize} ≠ nhid ${cfg.nhid}`, 'the DARTS recurrent model ties them');
    manualSeed(cfg.seed);
    this.model = new RnnSearchModel({
      vocabSize: corpus.vocab.length,
      hiddenSize: cfg.nhid,
      dropout: cfg.dropout,
      dropouth: cfg.dropouth,
      dropoutx: cfg.dropoutx,
      dropouti: cfg.dropouti,
      dropoute: cfg.dropoute,
    });
    if (this.device !== 'cpu') this.model.to(this.device);
    this.wOpt = new SGD(this.model.weightParameters(), { lr: cfg.lr, weightDecay: cfg.weightDecay });
    this.architect = new RnnArchitect(this.model, { order: cfg.order, hvp: cfg.hvp, hvpAt: cfg.hvpAt, lr: cfg.archLr, betas: cfg.archBetas, weightDecay: cfg.archWeightDecay });
    this.trainGrid = batchify(corpus.train, cfg.batchSize);
    this.searchGrid = batchify(corpus.valid, cfg.batchSize);
    this.evalGrid = batchify(corpus.valid, cfg.evalBatchSize);
    if (this.trainGrid.rows < 3) throw new ConfigError(`the training stream has ${this.trainGrid.rows} rows at batch size ${cfg.batchSize}; an epoch needs at least 3`, 'use a smaller batch size');
    this.seqRng = new Rng(cfg.seed * 1000 + 1);
    this.hessianRng = new Rng(cfg.seed * 1000 + 2);
    const keepN = cfg.method === 'darts-ada' ? Math.max(cfg.keepCheckpoints, 32) : cfg.keepCheckpoints;
    this.checkpoints = new RnnTrainerCheckpoints(
      { model: this.model, wOpt: this.wOpt, architect: this.architect, seqRng: this.seqRng, hessianRng: this.hessianRng, plugins: this.plugins },
      this.pos,
      this.recorder,
      keepN,
    );
  }

  get epoch(): number {
    return this.pos.epoch;
  }

  get iteration(): number {
    return this.pos.iteration;
  }

  get l2(): number {
    return this.wOpt.hyper.weightDecay;
  }

  /** The resolved description written to config.json. */
  describe(): Record<string, unknown> {
    return {
      ...this.cfg,
      library: { name: 'robust-darts', version: VERSION, libtorch: libtorchVersion() },
      dataFingerprint: corpusFingerprint(this.corpus),
      vocabulary: this.corpus.vocab.length,
      tokens: { train: this.corpus.train.length, valid: this.corpus.valid.length, test: this.corpus.test.length },
      parameters: this.model.weightParameters().reduce((s, p) => s + p.numel(), 0),
      alphas: this.model.numArchParameters(),
    };
  }

  private toTensors(b: TokenBatch): TokenTensors {
    const shape = [b.seqLen, b.batch];
    const opts = this.device === 'cpu' ? 'int64' : { dtype: 'int64' as const, device: this.device };
    return { input: tensor(b.input, shape).to(opts), target: tensor(b.target, shape).to(opts) };
  }

  /**
   * The validation stream in eval mode, no grad (DARTS evaluate(), shared with the evaluation
   * training: eval-lm.ts): the summed window losses over the stream's rows, and its perplexity.
   */
  evaluate(): LossPpl {
    const r = evaluateLm(this.model, this.evalGrid, { bptt: this.cfg.bptt, maxBatches: this.cfg.evalBatches, device: this.device });
    return { loss: r.loss, ppl: r.ppl };
  }

  private context(epoch: number, log: (l: RnnEpochLogLine) => void): RnnEpochContext {
    return {
      epoch,
      epochs: this.cfg.epochs,
      iteration: this.iteration,
      l2: this.l2,
      hessian: null,
      genotype: this.pos.genotypes.get(epoch) ?? null,
      earlyStop: null,
      model: this.model,
      train: null,
      valid: null,
      valWindow: () => this.valWindow(),
      genotypeAt: (e: number) => this.pos.genotypes.get(e) ?? null,
      log,
      note: (message: string) => this.emit({ type: 'note', message }),
    };
  }

  /** A validation window for a Hessian measurement: a row drawn from the Hessian generator, zero hidden state. */
  private valWindow(): RnnWindow {
    const row = this.hessianRng.int(this.searchGrid.rows - 1);
    const t = this.toTensors(getBatch(this.searchGrid, row, this.cfg.bptt));
    return { ...t, hidden: this.model.initHidden(this.cfg.batchSize) };
  }

  private log(line: RnnMetricsLine): void {
    this.recorder?.appendMetrics(line);
  }

  /** One training epoch (windows over the training stream); token-weighted mean loss, steps and tokens. */
  private trainEpoch(epoch: number): { train: LossPpl; steps: number; tokens: number } {
    const cfg = this.cfg;
    const m = this.model;
    m.train();
    let hTrain = keep(m.initHidden(cfg.batchSize));
    let hVal = keep(m.initHidden(cfg.batchSize));
    let lossSum = 0;
    let tokens = 0;
    let steps = 0;
    const maxSteps = cfg.stepsPerEpoch ?? Infinity;
    try {
      for (let i = 0; i < this.trainGrid.rows - 2 && steps < maxSteps; steps++) {
        const seqLen = drawSeqLen(this.seqRng, { bptt: cfg.bptt, mode: cfg.seqLen.mode, maxSeqLenDelta: cfg.seqLen.maxSeqLenDelta });
        const lr = (cfg.lr * seqLen) / cfg.bptt;
        const valB = getBatch(this.searchGrid, i % (this.searchGrid.rows - 1), cfg.bptt);
        const trainB = getBatch(this.trainGrid, i, seqLen);
        const out = tidy(() => {
          const val = this.toTensors(valB);
          const train = this.toTensors(trainB);
          const nextVal = this.architect.step(train, hTrain, val, hVal, { lr, weightDecay: this.l2, gradClip: cfg.gradClip });
          const w = rnnWeightStep(m, this.wOpt, train, hTrain, { lr, gradClip: cfg.gradClip, activationReg: cfg.activationReg, temporalActivationReg: cfg.temporalActivationReg });
          return { loss: w.loss, nextVal, nextTrain: w.hidden };
        });
        hVal.dispose();
        hVal = out.nextVal;
        if (!out.nextTrain) {
          this.log({ kind: 'diverged', epoch, step: steps, iteration: this.iteration, loss: String(out.loss), lr });
          throw new DivergenceError(
            `the training loss became ${out.loss} at epoch ${epoch}, step ${steps} (lr ${lr.toPrecision(3)}, weight decay ${this.l2})`,
            `the run stopped; the last good checkpoint (epoch ${epoch - 1}) is kept. Lower --lr or --arch-lr, or --grad-clip, then resume with --resume or start anew`,
          );
        }
        hTrain.dispose();
        hTrain = out.nextTrain;
        const n = trainB.seqLen * trainB.batch;
        lossSum += out.loss * n;
        tokens += n;
        i += seqLen;
        this.emit({ type: 'step', epoch, step: steps, row: Math.min(i, this.trainGrid.rows), rows: this.trainGrid.rows, loss: lossSum / tokens, lr });
      }
    } finally {
      hTrain.dispose();
      hVal.dispose();
      this.wOpt.lr = cfg.lr;
    }
    const loss = lossSum / tokens;
    return { train: { loss, ppl: perplexity(loss) }, steps, tokens };
  }

  /** Run (or continue) the search to its end. */
  async run(): Promise<RnnSearchResult> {
    const pos = this.pos;
    this.emit({ type: 'start', epochs: this.cfg.epochs, resumedFrom: pos.epoch > 0 ? pos.epoch - 1 : null, parameters: this.describe().parameters as number, alphas: this.model.numArchParameters(), vocab: this.corpus.vocab.length });
    let stop = pos.stopped;
    while (pos.epoch < this.cfg.epochs && !stop) {
      const epoch = pos.epoch;
      const t0 = performance.now();
      const ctx = this.context(epoch, (l) => this.log({ ...l, epoch, iteration: pos.iteration } as RnnMetricsLine));
      const { train, steps, tokens } = this.trainEpoch(epoch);
      const valid = this.evaluate();
      pos.lastValid = valid;
      const genotype = this.model.genotype();
      pos.genotypes.set(epoch, genotype);
      ctx.genotype = genotype;
      ctx.train = train;
      ctx.valid = valid;
      const seconds = (performance.now() - t0) / 1000;
      this.log({ kind: 'epoch', epoch, iteration: pos.iteration, lr: this.cfg.lr, l2: this.l2, steps, tokens, train, valid, seconds });
      const line: RnnGenotypeLine = {
        epoch,
        iteration: pos.iteration,
        space: 'rnn',
        genotype: rnnGenotypeToJSON(genotype),
        repr: formatRnnGenotypeRepr(genotype),
        alphas: noGrad(() => tidy(() => rows(this.model.archWeights().double().toNumbers(), this.model.space.ops.length))),
        ops: [...this.model.space.ops],
      };
      this.recorder?.appendGenotype(line);
      this.emit({ type: 'epoch', epoch, iteration: pos.iteration, train, valid, seconds, genotype: line.repr });
      let decision: PluginDecision | void = undefined;
      for (const p of this.plugins) {
        const d = await p.onEpochEnd?.(ctx);
        if (d && d.action !== 'continue' && !decision) decision = d;
      }
      pos.epoch = epoch + 1;
      if (decision && decision.action === 'stop') pos.stopped = { reason: decision.reason, genotypeEpoch: decision.genotypeEpoch };
      if (!decision || decision.action !== 'rollback') this.checkpoints.save();
      if (decision && decision.action === 'stop') {
        stop = pos.stopped;
        this.emit({ type: 'note', message: `stopping: ${decision.reason}; returning the genotype of epoch ${decision.genotypeEpoch}` });
      } else if (decision && decision.action === 'rollback') {
        const previous = this.checkpoints.rollback(decision.toEpoch, decision.l2);
        this.log({ kind: 'ada', epoch: decision.toEpoch, action: 'rollback', toEpoch: decision.toEpoch, previousL2: previous, newL2: decision.l2, iteration: pos.iteration, reason: decision.reason });
        this.emit({ type: 'note', message: `DARTS-ADA: ${decision.reason}; rolled back to epoch ${decision.toEpoch}, L2 ${previous} → ${decision.l2} (iteration ${pos.iteration})` });
      }
    }
    const genotypeEpoch = stop ? stop.genotypeEpoch : pos.epoch - 1;
    const genotype = pos.genotypes.get(genotypeEpoch) ?? this.model.genotype();
    const record: RnnSearchResultRecord = {
      space: 'rnn',
      genotype: rnnGenotypeToJSON(genotype),
      repr: formatRnnGenotypeRepr(genotype),
      stopReason: stop ? 'early-stop' : 'completed',
      stopDetail: stop?.reason ?? null,
      genotypeEpoch,
      epochsRun: pos.epoch,
      iterations: pos.iteration,
      finalValid: pos.lastValid,
      l2: this.l2,
      runDir: this.recorder?.location ?? null,
    };
    this.recorder?.writeResult(record);
    return { ...record, genotype };
  }

  state(): RnnTrainerState {
    return this.checkpoints.state();
  }

  /** Continue from the newest intact checkpoint; the logs are cut back to match it. */
  resume(onSkip?: (epoch: number, err: Error) => void): number | null {
    return this.checkpoints.resume(onSkip);
  }

  dispose(): void {
    this.wOpt.dispose();
    this.architect.opt.dispose();
    this.model.dispose();
  }
}

/**
 * The weight step on one training window (docs/lm.md#one-epoch): cross-entropy + AR + TAR from
 * `hidden`, the global gradient norm clipped, one step of `opt` at learning rate `lr`. Returns the
 * cross-entropy and the hidden state the window ends in (detached, kept; null when the loss is not finite).
 */
export function rnnWeightStep(
  m: RnnSearchModel,
  opt: SGD,
  train: TokenTensors,
  hidden: Tensor,
  o: { lr: number; gradClip: number; activationReg: number; temporalActivationReg: number },
): { loss: number; hidden: Tensor | null } {
  return tidy(() => {
    const ws = m.weightParameters();
    const r = m.loss(train.input, train.target, hidden);
    const loss = r.loss.item();
    if (!Number.isFinite(loss)) return { loss, hidden: null };
    const pen = activationPenalty(r.rawOutput, r.output, { alpha: o.activationReg, beta: o.temporalActivationReg });
    const total = pen ? r.loss.add(pen) : r.loss;
    const gs = grad(total, ws) as Tensor[];
    ws.forEach((w, k) => (w.grad = gs[k]!));
    clipGradNorm(ws, o.gradClip);
    opt.lr = o.lr;
    opt.step();
    opt.zeroGrad();
    return { loss, hidden: keep(r.hidden.detach()) };
  });
}

function rows(flat: number[], k: number): number[][] {
  return Array.from({ length: flat.length / k }, (_, e) => flat.slice(e * k, (e + 1) * k));
}
