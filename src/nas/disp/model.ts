/**
 * The S6 networks (docs/disparity.md#networks): an AutoDispNet-C style encoder–decoder over a
 * stereo pair, as a search supernet (mixed edges, three α tensors) and as the evaluation network
 * of a genotype. The macro structure follows AutoDispNet's `DispNetCGenotype` (operations/
 * corr_net.py) and `DecoderCell` (operations/genotype_cell.py):
 *
 *   left, right ──(shared) stem 7×7/2 → stem 5×5/2 → featureDepth reduction cells ──► fL, fR
 *   s0 = [fL, fR] (channels concatenated), s1 = correlation1d(fL, fR, maxDisplacement)
 *   encoderDepth cells on (s0, s1), every second one a reduction (channels ×2)
 *   prediction 0 = conv 3×3 on the last encoder output (the coarsest scale)
 *   decoderDepth upsampling cells, each ×2: inputs (s0, s1, the previous prediction upsampled,
 *   the left-view encoder feature of the target scale), each followed by a prediction conv 3×3
 *
 * Choices where AutoDispNet's code says otherwise or nothing (all documented in docs/disparity.md):
 * - the cell ops are the DARTS ops (ReLU → conv → BN, BN affine only in the evaluation network)
 *   and the encoder cells use the DARTS preprocessors; the stems, the decoder's preprocessors and
 *   upsampling layers are AutoDispNet's conv → leaky ReLU (slope 0.1), without batch norm
 *   (AutoDispNet runs with `no_bn` by default);
 * - disparities are positive pixels of the scale they are predicted at (AutoDispNet predicts
 *   negative values through a "neg ReLU"); the prediction conv is linear; a prediction carried
 *   to the next, finer scale is upsampled bilinearly and doubled;
 * - left and right views go through the shared layers as one batch of 2N.
 * Input heights and widths must be divisible by 2^(deepest scale).
 */
import { Conv2d, ConvTranspose2d, F, Layer, Module, ModuleList, Tensor, cat, keep, noGrad, randn, tensor, tidy, where, type DType, type Device } from '../../torch/index.js';
import { ConfigError, ShapeError } from '../../errors.js';
import { OPS } from '../ops.js';
import { MixedOp, SearchCell } from '../supernet.js';
import { EvalCell } from '../eval-network.js';
import type { CellLayout } from '../macro.js';
import {
  DISP_CELL_TYPES, S6_OPS, cellEdges, cellInputs, deriveDispGenotype, dispGenotypeToOneHot, nodeOffset, validateDispGenotype,
  type DispCellType, type DispGenotype,
} from './genotype.js';

/** Network size (AutoDispNet-C: C 18, stem multiplier 2, feature depth 1, encoder depth 6, decoder depth 4, max displacement 40). */
export interface DispNetSize {
  C: number;
  stemMultiplier: number;
  featureDepth: number;
  encoderDepth: number;
  decoderDepth: number;
  /** correlation range ±D, in pixels of the correlation's scale (1/2^(2 + featureDepth) of the input) */
  maxDisplacement: number;
  /** nodes per cell */
  steps: number;
}

export const AUTODISPNET_C_SIZE: DispNetSize = { C: 18, stemMultiplier: 2, featureDepth: 1, encoderDepth: 6, decoderDepth: 4, maxDisplacement: 40, steps: 3 };

const LEAK = 0.1;

/** conv (bias) → leaky ReLU 0.1: AutoDispNet's ConvReLU without its (disabled) batch norm. */
export class ConvLReLU extends Module {
  readonly conv: Conv2d;
  constructor(Cin: number, Cout: number, k: number, stride = 1) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(Cin, Cout, k, { stride, padding: Math.floor(k / 2) }));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => F.leakyRelu(this.conv.forward(x), LEAK));
  }
}

/** Transposed conv 4×4 stride 2 padding 1 (exactly ×2) → leaky ReLU: AutoDispNet's Upsample. */
export class UpConv extends Module {
  readonly deconv: ConvTranspose2d;
  constructor(Cin: number, Cout: number) {
    super();
    this.deconv = this.registerModule('deconv', new ConvTranspose2d(Cin, Cout, 4, { stride: 2, padding: 1 }));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => F.leakyRelu(this.deconv.forward(x), LEAK));
  }
}

/** The prediction layer: conv 3×3 → 1 channel (linear). */
function predictionConv(C: number): Conv2d {
  return new Conv2d(C, 1, 3, { padding: 1 });
}

/** A prediction carried to the next finer scale: bilinear ×2, values doubled (pixels of that scale). */
export function upsamplePrediction(p: Tensor, size: [number, number]): Tensor {
  return tidy(() => F.upsampleBilinear2d(p, size, false).mul(size[1] / p.shape[3]!));
}

/** What the upsampling cells share: the four input preprocessors and the two ×2 upsamplers. */
abstract class UpsampleCellBase extends Module {
  readonly preprocess0: Module & { forward(x: Tensor): Tensor };
  readonly preprocess1: ConvLReLU;
  readonly preprocessPred: ConvLReLU;
  readonly preprocessSupport: ConvLReLU;
  readonly upsample0: UpConv;
  readonly upsample1: UpConv;
  constructor(
    readonly Cpp: number,
    readonly Cp: number,
    readonly Csupport: number,
    readonly C: number,
    readonly upsamplePrev: boolean,
  ) {
    super();
    // input 0 is one scale coarser than input 1 after the first decoder cell: up ×2 first
    this.preprocess0 = this.registerModule('preprocess0', upsamplePrev ? new UpConv(Cpp, C) : new ConvLReLU(Cpp, C, 1));
    this.preprocess1 = this.registerModule('preprocess1', new ConvLReLU(Cp, C, 1));
    this.preprocessPred = this.registerModule('preprocess_pred', new ConvLReLU(1, C, 1));
    this.preprocessSupport = this.registerModule('preprocess_support', new ConvLReLU(Csupport, C, 1));
    this.upsample0 = this.registerModule('upsample0', new UpConv(C, C));
    this.upsample1 = this.registerModule('upsample1', new UpConv(C, C));
  }

  /** The four input states at the output scale. */
  protected inputs(s0: Tensor, s1: Tensor, pred: Tensor, support: Tensor): Tensor[] {
    return [
      this.upsample0.forward(this.preprocess0.forward(s0)),
      this.upsample1.forward(this.preprocess1.forward(s1)),
      this.preprocessPred.forward(pred),
      this.preprocessSupport.forward(support),
    ];
  }
}

/** The upsampling search cell: a mixed edge from every earlier state to every node. */
export class UpsampleSearchCell extends UpsampleCellBase {
  readonly edges: ModuleList<MixedOp>;
  constructor(Cpp: number, Cp: number, Csupport: number, C: number, upsamplePrev: boolean, readonly steps: number) {
    super(Cpp, Cp, Csupport, C, upsamplePrev);
    const n = cellEdges(4, steps);
    this.edges = this.registerModule('_ops', new ModuleList(Array.from({ length: n }, () => new MixedOp(S6_OPS, C, 1))));
  }
  /** `weights`: [edges, 8]. */
  forward(s0: Tensor, s1: Tensor, pred: Tensor, support: Tensor, weights: Tensor): Tensor {
    return tidy(() => {
      const states = this.inputs(s0, s1, pred, support);
      for (let i = 0; i < this.steps; i++) {
        const off = nodeOffset(4, i);
        let node: Tensor | null = null;
        for (let j = 0; j < states.length; j++) {
          const h = this.edges.items[off + j]!.forward(states[j]!, weights.select(0, off + j));
          node = node === null ? h : node.add(h);
        }
        states.push(node!);
      }
      return cat(states.slice(4), 1);
    });
  }
}

/** The upsampling cell of a genotype: node 0 sums one op per input, node i ≥ 1 two ops. */
export class UpsampleEvalCell extends UpsampleCellBase {
  readonly ops: ModuleList<Layer>;
  readonly indices: number[];
  constructor(genes: DispGenotype['upsample'], Cpp: number, Cp: number, Csupport: number, C: number, upsamplePrev: boolean, readonly steps: number) {
    super(Cpp, Cp, Csupport, C, upsamplePrev);
    this.indices = genes.map(([, j]) => j);
    this.ops = this.registerModule('_ops', new ModuleList(genes.map(([name]) => OPS[name](C, 1, true))));
  }
  forward(s0: Tensor, s1: Tensor, pred: Tensor, support: Tensor): Tensor {
    return tidy(() => {
      const states = this.inputs(s0, s1, pred, support);
      const branch = (k: number): Tensor => this.ops.items[k]!.forward(states[this.indices[k]!]!);
      states.push(branch(0).add(branch(1)).add(branch(2)).add(branch(3)));
      for (let i = 1; i < this.steps; i++) states.push(branch(4 + 2 * (i - 1)).add(branch(5 + 2 * (i - 1))));
      return cat(states.slice(4), 1);
    });
  }
}

/** Edge weights of the three cell types, [edges, 8] each. */
export interface DispWeights {
  normal: Tensor;
  reduce: Tensor;
  upsample: Tensor;
}

/** Where each piece of the macro sits: channels and scale (level l = 1/2^l of the input). */
export interface DispLayout {
  stem: [number, number];
  featureCells: CellLayout[];
  correlationChannels: number;
  correlationLevel: number;
  encoderCells: CellLayout[];
  decoderCells: Array<{ Cpp: number; Cp: number; Csupport: number; C: number; upsamplePrev: boolean; level: number }>;
  /** scales of the predictions, coarse → fine */
  predictionLevels: number[];
  /** channels of the left-view feature stored at each level (0 = the image) */
  supportChannels: number[];
  deepestLevel: number;
}

/** The channel and scale bookkeeping of AutoDispNet-C's macro for a network size. */
export function dispLayout(s: DispNetSize): DispLayout {
  for (const [k, v] of Object.entries(s)) {
    if (!Number.isInteger(v) || v < (k === 'maxDisplacement' ? 0 : 1)) throw new ConfigError(`disparity network: ${k} must be an integer ≥ ${k === 'maxDisplacement' ? 0 : 1} (got ${String(v)})`);
  }
  const stem: [number, number] = [s.stemMultiplier * s.C, 2 * s.stemMultiplier * s.C];
  const support: number[] = [3, stem[0], stem[1]];
  let level = 2;
  let C = s.C;
  let Cpp = stem[1];
  let Cp = stem[1];
  let reductionPrev = false;
  const featureCells: CellLayout[] = [];
  for (let i = 0; i < s.featureDepth; i++) {
    C *= 2;
    featureCells.push({ index: i, reduction: true, reductionPrev, Cpp, Cp, C, Cout: s.steps * C });
    [Cpp, Cp] = [Cp, s.steps * C];
    reductionPrev = true;
    level++;
    support[level] = s.steps * C;
  }
  const correlationLevel = level;
  const correlationChannels = 2 * s.maxDisplacement + 1;
  Cpp = 2 * s.steps * C;
  Cp = correlationChannels;
  reductionPrev = false;
  const encoderCells: CellLayout[] = [];
  for (let i = 0; i < s.encoderDepth; i++) {
    const reduction = (i + 1) % 2 === 0;
    if (reduction) C *= 2;
    encoderCells.push({ index: i, reduction, reductionPrev, Cpp, Cp, C, Cout: s.steps * C });
    [Cpp, Cp] = [Cp, s.steps * C];
    reductionPrev = reduction;
    if (reduction) {
      level++;
      support[level] = s.steps * C;
    }
  }
  const deepestLevel = level;
  if (s.decoderDepth > deepestLevel) throw new ConfigError(`disparity network: decoderDepth ${s.decoderDepth} exceeds the ${deepestLevel} downsamplings of the encoder`, 'lower decoderDepth or deepen the encoder');
  const decoderCells: DispLayout['decoderCells'] = [];
  const predictionLevels = [level];
  Cpp = Cp;
  for (let i = 0; i < s.decoderDepth; i++) {
    C = Math.max(1, Math.floor(C / 2));
    level--;
    decoderCells.push({ Cpp, Cp, Csupport: support[level]!, C, upsamplePrev: i > 0, level });
    [Cpp, Cp] = [Cp, s.steps * C];
    predictionLevels.push(level);
  }
  return { stem, featureCells, correlationChannels, correlationLevel, encoderCells, decoderCells, predictionLevels, supportChannels: support, deepestLevel };
}

/** The weights of the multi-scale loss, predictions coarse → fine: the finest 1, each coarser one half of the next. */
export function defaultScaleWeights(predictions: number): number[] {
  return Array.from({ length: predictions }, (_, k) => 2 ** -(predictions - 1 - k));
}

/**
 * The ground truth at scale `level`: average of the finite disparities in each 2^l × 2^l block,
 * divided by 2^l (pixels of that scale), and the mask of blocks with any finite value.
 * `y`: [N, 1, H, W], NaN where unknown. No gradient.
 */
export function groundTruthAt(y: Tensor, level: number): { gt: Tensor; mask: Tensor } {
  return noGrad(() =>
    tidy(() => {
      const valid = y.isfinite();
      const y0 = where(valid, y, 0);
      const v = valid.to(y.dtype as DType);
      if (level === 0) return { gt: y0, mask: v };
      const f = 2 ** level;
      const s = F.avgPool2d(y0, f);
      const c = F.avgPool2d(v, f);
      const mask = c.gt(0).to(y.dtype as DType);
      const gt = s.div(c.clamp(1e-12, Infinity)).mul(mask).div(f);
      return { gt, mask };
    }),
  );
}

/** Mean |p − gt| over the mask (the end-point error of a 1-D flow; 0 when the mask is empty). */
export function maskedEpe(p: Tensor, gt: Tensor, mask: Tensor): Tensor {
  return tidy(() => p.sub(gt).abs().mul(mask).sum().div(mask.sum().clamp(1, Infinity)));
}

/**
 * The multi-scale EPE loss (DispNet, Mayer et al. 2016; AutoDispNet): Σ_k w_k · EPE_k, EPE_k the
 * mean absolute disparity error of prediction k against the ground truth at its scale.
 */
export function multiScaleEpe(predictions: Tensor[], levels: number[], y: Tensor, weights: number[] = defaultScaleWeights(predictions.length)): Tensor {
  if (predictions.length !== levels.length || weights.length !== predictions.length) throw new ShapeError(`multiScaleEpe: ${predictions.length} predictions, ${levels.length} levels, ${weights.length} weights`);
  return tidy(() => {
    let loss: Tensor | null = null;
    predictions.forEach((p, k) => {
      if (weights[k] === 0) return;
      const { gt, mask } = groundTruthAt(y, levels[k]!);
      const term = maskedEpe(p, gt, mask).mul(weights[k]!);
      loss = loss === null ? term : loss.add(term);
    });
    return loss ?? predictions[0]!.sum().mul(0);
  });
}

/**
 * The full-resolution end-point error of the finest prediction (upsampled bilinearly to the
 * input size, values scaled to input pixels) against `y` where finite: the metric of the paper's
 * Table 2. Returns the error sum and the number of valid pixels (to average over a dataset).
 */
export function fullResolutionEpe(finest: Tensor, level: number, y: Tensor): { sum: number; count: number } {
  return noGrad(() =>
    tidy(() => {
      const H = y.shape[2]!;
      const W = y.shape[3]!;
      const p = level === 0 ? finest : F.upsampleBilinear2d(finest, [H, W], false).mul(2 ** level);
      const valid = y.isfinite();
      const m = valid.to(y.dtype as DType);
      const err = p.sub(where(valid, y, 0)).abs().mul(m);
      return { sum: err.sum().item(), count: m.sum().item() };
    }),
  );
}

/** What the search and evaluation networks share: stems, the correlation, the macro walk. */
abstract class DispNetBase extends Module {
  readonly size: DispNetSize;
  readonly layout: DispLayout;
  readonly stems: ModuleList<ConvLReLU>;
  readonly predictions: ModuleList<Conv2d>;
  scaleWeights: number[];

  constructor(size: DispNetSize) {
    super();
    this.size = { ...size };
    this.layout = dispLayout(size);
    const [c0, c1] = this.layout.stem;
    this.stems = this.registerModule('stems', new ModuleList([new ConvLReLU(3, c0, 7, 2), new ConvLReLU(c0, c1, 5, 2)]));
    this.predictions = new ModuleList<Conv2d>([]);
    this.scaleWeights = defaultScaleWeights(this.layout.predictionLevels.length);
  }

  /** Registered after the cells, so the module keys read stems → cells → predictions. */
  protected registerPredictions(): void {
    const L = this.layout;
    const channels = [L.encoderCells.at(-1)!.Cout, ...L.decoderCells.map((d) => this.size.steps * d.C)];
    (this as { predictions: ModuleList<Conv2d> }).predictions = this.registerModule('predictions', new ModuleList(channels.map(predictionConv)));
  }

  protected abstract featureCell(i: number, s0: Tensor, s1: Tensor, w: DispWeights | null): Tensor;
  protected abstract encoderCell(i: number, s0: Tensor, s1: Tensor, w: DispWeights | null): Tensor;
  protected abstract decoderCell(i: number, s0: Tensor, s1: Tensor, pred: Tensor, support: Tensor, w: DispWeights | null): Tensor;

  /** The input size must be divisible by 2^deepest level. */
  checkInput(x: Tensor): void {
    if (x.ndim !== 4 || x.shape[1] !== 6) throw new ShapeError(`disparity network: input must be [N, 6, H, W] (left RGB, right RGB), got [${x.shape.join(', ')}]`);
    const f = 2 ** this.layout.deepestLevel;
    const [H, W] = [x.shape[2]!, x.shape[3]!];
    if (H % f || W % f) throw new ShapeError(`disparity network: height and width must be multiples of ${f} (2^${this.layout.deepestLevel}), got ${H}×${W}`, 'crop the images (stereoBatch crop) to a multiple');
  }

  /** Predictions coarse → fine ([N, 1, h, w] each, at `layout.predictionLevels`). */
  protected run(x: Tensor, w: DispWeights | null): Tensor[] {
    this.checkInput(x);
    return tidy(() => {
      const N = x.shape[0]!;
      const both = cat([x.narrow(1, 0, 3), x.narrow(1, 3, 3)], 0);
      const support: Tensor[] = [x.narrow(1, 0, 3)];
      let h = both;
      for (const stem of this.stems.items) {
        h = stem.forward(h);
        support.push(h.narrow(0, 0, N));
      }
      let f0 = h;
      let f1 = h;
      for (let i = 0; i < this.layout.featureCells.length; i++) {
        [f0, f1] = [f1, this.featureCell(i, f0, f1, w)];
        support.push(f1.narrow(0, 0, N));
      }
      const fL = f1.narrow(0, 0, N);
      const fR = f1.narrow(0, N, N);
      let s0 = cat([fL, fR], 1);
      let s1 = F.correlation1d(fL, fR, this.size.maxDisplacement);
      this.layout.encoderCells.forEach((c, i) => {
        [s0, s1] = [s1, this.encoderCell(i, s0, s1, w)];
        if (c.reduction) support.push(s1);
      });
      const preds: Tensor[] = [this.predictions.items[0]!.forward(s1)];
      s0 = s1;
      this.layout.decoderCells.forEach((d, i) => {
        const sup = support[d.level]!;
        const prev = upsamplePrediction(preds.at(-1)!, [sup.shape[2]!, sup.shape[3]!]);
        [s0, s1] = [s1, this.decoderCell(i, s0, s1, prev, sup, w)];
        preds.push(this.predictions.items[i + 1]!.forward(s1));
      });
      return preds;
    });
  }

  /** The multi-scale EPE loss of a batch: x [N, 6, H, W], y [N, 1, H, W] (NaN unknown). */
  lossOf(preds: Tensor[], y: Tensor): Tensor {
    return multiScaleEpe(preds, this.layout.predictionLevels, y, this.scaleWeights);
  }

  /** The full-resolution EPE of the finest prediction (sum over valid pixels, their count). */
  epeOf(preds: Tensor[], y: Tensor): { sum: number; count: number } {
    return fullResolutionEpe(preds.at(-1)!, this.layout.predictionLevels.at(-1)!, y);
  }

  /** The module parameters (for the search network: w, never α). */
  weightParameters(): Tensor[] {
    return this.parameters();
  }
}

/** The S6 search supernet: mixed edges everywhere, α = (normal, reduce, upsample), each [edges, 8]. */
export class DispSupernet extends DispNetBase {
  readonly featureCells: ModuleList<SearchCell>;
  readonly encoderCells: ModuleList<SearchCell>;
  readonly decoderCells: ModuleList<UpsampleSearchCell>;
  private _alphas: Tensor[];

  constructor(size: DispNetSize) {
    super(size);
    const L = this.layout;
    const ops = (n: number) => Array.from({ length: n }, () => S6_OPS);
    const enc = (c: CellLayout) => new SearchCell(ops(cellEdges(2, size.steps)), size.steps, c);
    this.featureCells = this.registerModule('feature_cells', new ModuleList(L.featureCells.map(enc)));
    this.encoderCells = this.registerModule('cells', new ModuleList(L.encoderCells.map(enc)));
    this.decoderCells = this.registerModule('decoder_cells', new ModuleList(L.decoderCells.map((d) => new UpsampleSearchCell(d.Cpp, d.Cp, d.Csupport, d.C, d.upsamplePrev, size.steps))));
    this.registerPredictions();
    // α after the weights (a seed gives the same weights with or without α), 1e-3·N(0, 1) as DARTS
    this._alphas = DISP_CELL_TYPES.map((cell) => {
      const a = keep(noGrad(() => tidy(() => randn([cellEdges(cellInputs(cell), size.steps), S6_OPS.length]).mul(1e-3))));
      a.requiresGrad = true;
      return a;
    });
  }

  /** [α_normal, α_reduce, α_upsample]. */
  archParameters(): Tensor[] {
    return [...this._alphas];
  }

  numArchParameters(): number {
    return this._alphas.reduce((s, a) => s + a.numel(), 0);
  }

  /** softmax(α) per edge. */
  archWeights(): DispWeights {
    const [normal, reduce, upsample] = this._alphas.map((a) => F.softmax(a, -1)) as [Tensor, Tensor, Tensor];
    return { normal, reduce, upsample };
  }

  /** α as rows per cell type. */
  alphaValues(): Record<DispCellType, number[][]> {
    return noGrad(() =>
      tidy(() => {
        const out = {} as Record<DispCellType, number[][]>;
        DISP_CELL_TYPES.forEach((cell, i) => {
          const a = this._alphas[i]!;
          const [E, K] = a.shape as [number, number];
          const flat = a.double().toNumbers();
          out[cell] = Array.from({ length: E }, (_, e) => flat.slice(e * K, (e + 1) * K));
        });
        return out;
      }),
    );
  }

  /** softmax(α) rows per cell type (for the genotype log). */
  softmaxValues(): Record<DispCellType, number[][]> {
    const a = this.alphaValues();
    const sm = (rows: number[][]) =>
      rows.map((r) => {
        const m = Math.max(...r);
        const e = r.map((x) => Math.exp(x - m));
        const s = e.reduce((p, q) => p + q, 0);
        return e.map((x) => x / s);
      });
    return { normal: sm(a.normal), reduce: sm(a.reduce), upsample: sm(a.upsample) };
  }

  genotype(): DispGenotype {
    return deriveDispGenotype(this.alphaValues(), this.size.steps);
  }

  /** One-hot edge weights of a genotype (the discrete forward). */
  discreteWeights(g: DispGenotype): DispWeights {
    const rows = dispGenotypeToOneHot(g);
    const t = (cell: DispCellType, i: number) => tensor(Float64Array.from(rows[cell].flat()), this._alphas[i]!.shape).to({ dtype: this._alphas[i]!.dtype as DType, device: this._alphas[i]!.device as Device });
    return { normal: t('normal', 0), reduce: t('reduce', 1), upsample: t('upsample', 2) };
  }

  /** Flatten α-shaped tensors (normal, reduce, upsample; row-major) for the Hessian code. */
  archVector(ts: Tensor[]): Tensor {
    if (ts.length !== 3) throw new ShapeError(`archVector: the disparity supernet has 3 α tensors, got ${ts.length}`);
    return cat(ts.map((t) => t.reshape(-1)), 0);
  }

  archFromVector(v: Tensor): Tensor[] {
    const n = this.numArchParameters();
    if (v.ndim !== 1 || v.shape[0] !== n) throw new ShapeError(`archFromVector: expected a vector of ${n} entries, got shape [${v.shape.join(', ')}]`);
    let off = 0;
    return this._alphas.map((a) => {
      const t = v.narrow(0, off, a.numel()).reshape(a.shape);
      off += a.numel();
      return t;
    });
  }

  /** Predictions coarse → fine; `weights` as given (no softmax), default softmax(α). */
  forward(x: Tensor, o: { weights?: DispWeights } = {}): Tensor[] {
    return tidy(() => this.run(x, o.weights ?? this.archWeights()));
  }

  loss(x: Tensor, y: Tensor): Tensor {
    return tidy(() => this.lossOf(this.forward(x), y));
  }

  protected featureCell(i: number, s0: Tensor, s1: Tensor, w: DispWeights | null): Tensor {
    return this.featureCells.items[i]!.forward(s0, s1, w!.reduce);
  }
  protected encoderCell(i: number, s0: Tensor, s1: Tensor, w: DispWeights | null): Tensor {
    const c = this.encoderCells.items[i]!;
    return c.forward(s0, s1, c.reduction ? w!.reduce : w!.normal);
  }
  protected decoderCell(i: number, s0: Tensor, s1: Tensor, pred: Tensor, support: Tensor, w: DispWeights | null): Tensor {
    return this.decoderCells.items[i]!.forward(s0, s1, pred, support, w!.upsample);
  }

  /** Module.to plus α. */
  override to(target: DType | Device): this {
    super.to(target);
    this._alphas = this._alphas.map((a) => {
      const moved = keep(noGrad(() => a.to(target).detach()));
      a.dispose();
      moved.requiresGrad = true;
      return moved;
    });
    return this;
  }

  override dispose(): void {
    super.dispose();
    for (const a of this._alphas) a.dispose();
  }
}

/** The evaluation network of a genotype (trained from scratch): the same macro, one op per gene. */
export class DispEvalNet extends DispNetBase {
  readonly genotype: DispGenotype;
  readonly featureCells: ModuleList<EvalCell>;
  readonly encoderCells: ModuleList<EvalCell>;
  readonly decoderCells: ModuleList<UpsampleEvalCell>;

  constructor(genotype: DispGenotype, size: Omit<DispNetSize, 'steps'>) {
    const steps = validateDispGenotype(genotype, 'evaluation network genotype');
    super({ ...size, steps });
    this.genotype = genotype;
    const L = this.layout;
    const enc = (c: CellLayout) => new EvalCell(c.reduction ? genotype.reduce : genotype.normal, c.reduction ? genotype.reduceConcat : genotype.normalConcat, c);
    this.featureCells = this.registerModule('feature_cells', new ModuleList(L.featureCells.map(enc)));
    this.encoderCells = this.registerModule('cells', new ModuleList(L.encoderCells.map(enc)));
    this.decoderCells = this.registerModule('decoder_cells', new ModuleList(L.decoderCells.map((d) => new UpsampleEvalCell(genotype.upsample, d.Cpp, d.Cp, d.Csupport, d.C, d.upsamplePrev, steps))));
    this.registerPredictions();
  }

  forward(x: Tensor): Tensor[] {
    return tidy(() => this.run(x, null));
  }

  loss(x: Tensor, y: Tensor): Tensor {
    return tidy(() => this.lossOf(this.forward(x), y));
  }

  protected featureCell(i: number, s0: Tensor, s1: Tensor): Tensor {
    return this.featureCells.items[i]!.forward(s0, s1);
  }
  protected encoderCell(i: number, s0: Tensor, s1: Tensor): Tensor {
    return this.encoderCells.items[i]!.forward(s0, s1);
  }
  protected decoderCell(i: number, s0: Tensor, s1: Tensor, pred: Tensor, support: Tensor): Tensor {
    return this.decoderCells.items[i]!.forward(s0, s1, pred, support);
  }
}
