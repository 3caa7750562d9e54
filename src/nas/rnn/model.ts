/**
 * The DARTS language models (docs/lm.md#models; DARTS `rnn/model.py` RNNModel, `rnn/model_search.py`
 * RNNModelSearch): embedding (key `encoder.weight`) → embedding dropout (dropoute) → locked dropout
 * (dropouti) → one recurrent cell (`rnns.0.*`) → locked dropout (dropout) → decoder tied to the
 * embedding (its own bias `decoder.bias`) → log-softmax over the vocabulary.
 *
 * The tied decoder weight is the embedding matrix itself: it is one parameter (counted and
 * updated once), as `model.parameters()` in PyTorch lists it once. `dartsStateDict()` adds the
 * `decoder.weight` alias that a PyTorch state_dict of these models also shows.
 */
import { F, Module, ModuleList, Tensor, keep, noGrad, randn, tensor, tidy, zeros, type Device, type DType } from '../../torch/index.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { DartsRnnCell, DartsRnnSearchCell, rnnUniform, type RnnCellBase } from './cell.js';
import { embeddedDropout, lockedDropout } from './dropout.js';
import { deriveRnnGenotype, rnnGenotypeToOneHot, validateRnnGenotype, type RnnGenotype } from './genotype.js';
import { DARTS_RNN_SPACE, checkRnnSpace, rnnAlphaShape, type RnnSpace } from './space.js';

/** Dropout probabilities of the language models (DARTS argument names). */
export interface RnnDropouts {
  /** locked dropout on the cell output, before the decoder */
  dropout: number;
  /** variational dropout on the hidden state inside the cell (m_h) */
  dropouth: number;
  /** variational dropout on the cell input x_t (m_x) */
  dropoutx: number;
  /** locked dropout on the embedded input */
  dropouti: number;
  /** embedding dropout: whole words dropped from the embedding matrix */
  dropoute: number;
}

/** DARTS `rnn/train_search.py` defaults: dropout 0.75, dropouth 0.25, dropoutx 0.75, dropouti 0.2, dropoute 0. */
export const RNN_SEARCH_DROPOUTS: Readonly<RnnDropouts> = { dropout: 0.75, dropouth: 0.25, dropoutx: 0.75, dropouti: 0.2, dropoute: 0 };
/** DARTS `rnn/train.py` defaults: as the search, with dropoute 0.1. */
export const RNN_EVAL_DROPOUTS: Readonly<RnnDropouts> = { dropout: 0.75, dropouth: 0.25, dropoutx: 0.75, dropouti: 0.2, dropoute: 0.1 };
/** Embedding = hidden size: 300 for the search (`train_search.py` emsize/nhid), 850 for the evaluation (`train.py`). */
export const RNN_SEARCH_HIDDEN = 300;
export const RNN_EVAL_HIDDEN = 850;

export interface RnnModelOptions extends Partial<RnnDropouts> {
  vocabSize: number;
  /** embedding size = hidden size (the tied decoder needs them equal, as DARTS asserts ninp == nhid) */
  hiddenSize?: number;
}

/** What a forward pass returns. */
export interface RnnForward {
  /** log-probabilities [T, B, vocab] */
  logProbs: Tensor;
  /** the last hidden state [1, B, hidden]: pass it (detached) to the next segment */
  hidden: Tensor;
  /** the cell outputs before the output dropout [T, B, hidden] (TAR is computed on these) */
  rawOutput: Tensor;
  /** the cell outputs after the output dropout [T, B, hidden] (AR is computed on these) */
  output: Tensor;
}

export interface RnnLoss {
  /** mean negative log-likelihood per token (a scalar) */
  loss: Tensor;
  hidden: Tensor;
  rawOutput: Tensor;
  output: Tensor;
}

class Embedding extends Module {
  constructor(V: number, D: number) {
    super();
    this.registerParameter('weight', rnnUniform([V, D]));
  }
  get weight(): Tensor {
    return this.param('weight')!;
  }
}

class TiedDecoder extends Module {
  constructor(V: number) {
    super();
    this.registerParameter('bias', zeros([V]));
  }
  get bias(): Tensor {
    return this.param('bias')!;
  }
}

function checkDropout(name: string, p: number): number {
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new ConfigError(`language model: ${name} must be in [0, 1), got ${String(p)}`, 'a dropout probability of 1 would drop everything');
  return p;
}

/** Shared body: encoder, one cell, tied decoder, the dropouts. */
export abstract class RnnModelBase extends Module {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly dropouts: RnnDropouts;
  readonly encoder: Embedding;
  readonly rnns: ModuleList<RnnCellBase>;
  readonly decoder: TiedDecoder;

  protected constructor(o: RnnModelOptions, defaults: RnnDropouts, hiddenDefault: number, makeCell: (H: number, d: RnnDropouts) => RnnCellBase) {
    super();
    if (!Number.isInteger(o.vocabSize) || o.vocabSize < 1) throw new ConfigError(`language model: vocabSize must be a positive integer, got ${String(o.vocabSize)}`);
    const H = o.hiddenSize ?? hiddenDefault;
    if (!Number.isInteger(H) || H < 1) throw new ConfigError(`language model: hiddenSize must be a positive integer, got ${String(H)}`);
    const d: RnnDropouts = {
      dropout: checkDropout('dropout', o.dropout ?? defaults.dropout),
      dropouth: checkDropout('dropouth', o.dropouth ?? defaults.dropouth),
      dropoutx: checkDropout('dropoutx', o.dropoutx ?? defaults.dropoutx),
      dropouti: checkDropout('dropouti', o.dropouti ?? defaults.dropouti),
      dropoute: checkDropout('dropoute', o.dropoute ?? defaults.dropoute),
    };
    this.vocabSize = o.vocabSize;
    this.hiddenSize = H;
    this.dropouts = d;
    this.encoder = this.registerModule('encoder', new Embedding(o.vocabSize, H));
    this.rnns = this.registerModule('rnns', new ModuleList([makeCell(H, d)]));
    this.decoder = this.registerModule('decoder', new TiedDecoder(o.vocabSize));
  }

  get cell(): RnnCellBase {
    return this.rnns.items[0]!;
  }

  /** Zeros [1, batch, hidden] in the model's dtype and device (DARTS init_hidden). */
  initHidden(batch: number): Tensor {
    const w = this.encoder.weight;
    return zeros([1, batch, this.hiddenSize], { dtype: w.dtype, device: w.device as Device });
  }

  /** The weights w: every module parameter (the tied embedding/decoder matrix once). */
  weightParameters(): Tensor[] {
    return this.parameters();
  }

  /** Edge weights for the cell (the search model's softmax(α) or given weights; null for the evaluation cell). */
  protected abstract cellWeights(weights: Tensor | undefined): Tensor | null;

  private run(input: Tensor, hidden: Tensor, weights: Tensor | undefined): { logits: Tensor; hidden: Tensor; rawOutput: Tensor; output: Tensor } {
    if (input.ndim !== 2 || input.dtype !== 'int64') {
      throw new ShapeError(`language model: input must be int64 token ids [T, B], got ${input.dtype} [${input.shape.join(', ')}]`, 'pass a [seq_len, batch] slice of the batchified corpus');
    }
    const [T, B] = [input.shape[0]!, input.shape[1]!];
    return tidy(() => {
      const emb = lockedDropout(embeddedDropout(this.encoder.weight, input, this.dropouts.dropoute, this.training), this.dropouts.dropouti, this.training);
      const { hiddens, last } = this.cell.run(emb, hidden, this.cellWeights(weights));
      const output = lockedDropout(hiddens, this.dropouts.dropout, this.training);
      const logits = F.linear(output.reshape(T * B, this.hiddenSize), this.encoder.weight, this.decoder.bias);
      return { logits, hidden: last, rawOutput: hiddens, output };
    });
  }

  /** Log-probabilities of the next token for input [T, B] (int64) from `hidden` [1, B, H]. */
  forward(input: Tensor, hidden: Tensor, o: { weights?: Tensor } = {}): RnnForward {
    return tidy(() => {
      const r = this.run(input, hidden, o.weights);
      const logProbs = F.logSoftmax(r.logits, -1).reshape(input.shape[0]!, input.shape[1]!, this.vocabSize);
      return { logProbs, hidden: r.hidden, rawOutput: r.rawOutput, output: r.output };
    });
  }

  /** Mean NLL of `target` ([T, B] or [T·B], int64) under `forward(input, hidden)` (DARTS `_loss`). */
  loss(input: Tensor, target: Tensor, hidden: Tensor, o: { weights?: Tensor } = {}): RnnLoss {
    return tidy(() => {
      const r = this.run(input, hidden, o.weights);
      const y = target.reshape(-1);
      if (y.shape[0] !== r.logits.shape[0]) throw new ShapeError(`language model: ${y.shape[0]} targets for ${r.logits.shape[0]} positions`, 'the target is the input shifted by one token, same shape');
      return { loss: F.crossEntropy(r.logits, y), hidden: r.hidden, rawOutput: r.rawOutput, output: r.output };
    });
  }

  /** The module state under the keys a PyTorch state_dict of the DARTS model has, `decoder.weight` (the tied alias) included. */
  dartsStateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [k, t] of this.stateDict()) {
      if (k === 'decoder.bias') out.set('decoder.weight', this.encoder.weight);
      out.set(k, t);
    }
    return out;
  }

  /** Load a state dict with DARTS keys; `decoder.weight`, if present, must equal `encoder.weight` (they are tied). */
  loadDartsStateDict(sd: Map<string, Tensor>, strict = true): { missing: string[]; unexpected: string[] } {
    const rest = new Map(sd);
    const dec = rest.get('decoder.weight');
    const enc = rest.get('encoder.weight');
    if (dec) {
      if (enc && dec !== enc && noGrad(() => tidy(() => dec.sub(enc).abs().max().item())) !== 0) {
        throw new ConfigError('state dict: decoder.weight differs from encoder.weight, but the two are tied in this model', 'load a state dict of a model with a tied decoder');
      }
      rest.delete('decoder.weight');
    }
    return this.loadStateDict(rest, strict);
  }
}

export interface RnnSearchModelOptions extends RnnModelOptions {
  /** the recurrent space (default: DARTS', 8 nodes, 5 ops) */
  space?: RnnSpace;
}

/**
 * The search model (DARTS RNNModelSearch): hidden 300, the search cell, α a leaf tensor
 * [edges, ops] = [36, 5] starting as 1e-3·N(0, 1), outside the module tree (`archParameters()`).
 */
export class RnnSearchModel extends RnnModelBase {
  readonly space: RnnSpace;
  private _alpha: Tensor;

  constructor(o: RnnSearchModelOptions) {
    const space = checkRnnSpace(o.space ?? DARTS_RNN_SPACE);
    super(o, RNN_SEARCH_DROPOUTS, RNN_SEARCH_HIDDEN, (H, d) => new DartsRnnSearchCell(H, H, d.dropouth, d.dropoutx, space.steps, space.ops));
    this.space = space;
    const a = noGrad(() => tidy(() => randn(rnnAlphaShape(space)).mul(1e-3)));
    keep(a);
    a.requiresGrad = true;
    this._alpha = a;
  }

  /** α [edges, ops] (DARTS `model.weights`). */
  get alpha(): Tensor {
    return this._alpha;
  }

  /** [α]: the upper-level variables (never among `weightParameters()`). */
  archParameters(): Tensor[] {
    return [this._alpha];
  }

  numArchParameters(): number {
    return this._alpha.numel();
  }

  /** softmax(α) per edge, differentiable. */
  archWeights(): Tensor {
    return F.softmax(this._alpha, -1);
  }

  /** α as rows (one per edge). */
  alphaValues(): number[][] {
    const [E, K] = this._alpha.shape as [number, number];
    const flat = noGrad(() => tidy(() => this._alpha.double().toNumbers()));
    return Array.from({ length: E }, (_, e) => flat.slice(e * K, (e + 1) * K));
  }

  /** Overwrite α in place from rows [edges][ops]. */
  setAlpha(values: number[][]): void {
    const [E, K] = this._alpha.shape as [number, number];
    if (!Array.isArray(values) || values.length !== E || values.some((r) => !Array.isArray(r) || r.length !== K)) {
      throw new ShapeError(`setAlpha: expected ${E} rows of ${K} values`, 'use the layout of alphaValues()');
    }
    noGrad(() => tidy(() => this._alpha.copy_(tensor(Float64Array.from(values.flat()), [E, K]).to(this._alpha.dtype))));
  }

  /** Flatten α-shaped tensors ([α] or [∇α], …) to a vector (row-major); for the Hessian code's ArchModel. */
  archVector(pair: Tensor[]): Tensor {
    if (pair.length !== 1) throw new ShapeError(`archVector: the recurrent model has one α tensor, got ${pair.length}`);
    return pair[0]!.reshape(-1);
  }

  /** Inverse of `archVector`: [α-shaped tensor]. */
  archFromVector(v: Tensor): [Tensor] {
    const n = this.numArchParameters();
    if (v.ndim !== 1 || v.shape[0] !== n) throw new ShapeError(`archFromVector: expected a vector of ${n} entries, got shape [${v.shape.join(', ')}]`);
    return [v.reshape(this._alpha.shape)];
  }

  /** The genotype derived from α (DARTS rule, docs/lm.md#derivation). */
  genotype(): RnnGenotype {
    return deriveRnnGenotype(this.alphaValues(), this.space);
  }

  /** One-hot edge weights of a genotype, for `forward(…, { weights })` (the discrete forward). */
  discreteWeights(g: RnnGenotype): Tensor {
    const rows = rnnGenotypeToOneHot(g, this.space);
    return tensor(Float64Array.from(rows.flat()), this._alpha.shape).to({ dtype: this._alpha.dtype, device: this._alpha.device as Device });
  }

  protected cellWeights(weights: Tensor | undefined): Tensor {
    return weights ?? this.archWeights();
  }

  /** Every tensor a checkpoint needs from the model: the module state (DARTS keys) and α under DARTS' name `weights`. */
  checkpointTensors(): Map<string, Tensor> {
    const out = new Map(this.stateDict());
    out.set('weights', this._alpha);
    return out;
  }

  /** Inverse of `checkpointTensors` (copies values; shapes must match; lists what is missing or unexpected before refusing). */
  loadCheckpointTensors(sd: Map<string, Tensor>): void {
    const a = sd.get('weights');
    const rest = new Map(sd);
    rest.delete('weights');
    if (!a) throw new ConfigError("checkpoint lacks α ('weights')", 'the checkpoint was not written by a recurrent search model');
    if (a.shape.join(',') !== this._alpha.shape.join(',')) throw new ShapeError(`checkpoint α has shape [${a.shape.join(', ')}], the model needs [${this._alpha.shape.join(', ')}]`);
    this.loadStateDict(rest, true);
    noGrad(() => this._alpha.copy_(a));
  }

  /** Module.to plus α (a kept leaf with requiresGrad). */
  override to(target: DType | Device): this {
    super.to(target);
    const moved = keep(noGrad(() => this._alpha.to(target).detach()));
    this._alpha.dispose();
    moved.requiresGrad = true;
    this._alpha = moved;
    return this;
  }

  override dispose(): void {
    super.dispose();
    this._alpha.dispose();
  }
}

export interface RnnEvalModelOptions extends RnnModelOptions {
  genotype: RnnGenotype;
}

/** The evaluation model of a genotype (DARTS RNNModel with DARTSCell): hidden 850, no batch norm. */
export class RnnEvalModel extends RnnModelBase {
  readonly genotype: RnnGenotype;
  constructor(o: RnnEvalModelOptions) {
    const g = validateRnnGenotype(o.genotype, 'evaluation model genotype');
    super(o, RNN_EVAL_DROPOUTS, RNN_EVAL_HIDDEN, (H, d) => new DartsRnnCell(H, H, d.dropouth, d.dropoutx, g));
    this.genotype = g;
  }

  protected cellWeights(weights: Tensor | undefined): null {
    if (weights) throw new ShapeError('the evaluation model has no edge weights', 'edge weights are for the search model');
    return null;
  }
}

/**
 * AR and TAR (Merity et al.; DARTS `rnn/train*.py`, on the last layer): arAlpha·mean(output²) on
 * the dropped outputs and tarBeta·mean((h_{t+1} − h_t)²) on the raw outputs. DARTS uses alpha 0
 * (AR off) and beta 1e-3. Returns null when both are off (or the segment has one step and AR is off).
 */
export function activationPenalty(rawOutput: Tensor, output: Tensor, o: { alpha: number; beta: number }): Tensor | null {
  return tidy(() => {
    let pen: Tensor | null = null;
    if (o.alpha > 0) pen = output.pow(2).mean().mul(o.alpha);
    const T = rawOutput.shape[0]!;
    if (o.beta > 0 && T > 1) {
      const tar = rawOutput.narrow(0, 1, T - 1).sub(rawOutput.narrow(0, 0, T - 1)).pow(2).mean().mul(o.beta);
      pen = pen ? pen.add(tar) : tar;
    }
    return pen;
  });
}
