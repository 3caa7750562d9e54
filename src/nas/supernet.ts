/**
 * The DARTS search supernet (paper-spec §2.1, §2.2, §2.4): MixedOp, SearchCell and Network.
 *
 * α layout: two leaf tensors `alphaNormal` and `alphaReduce`, each [edges, maxOps], one row per
 * edge in the edge order of spec §2.1, columns in the edge's op-list order. For the shipped spaces
 * every edge has the same op count, so there is no padding. For a ragged user space, rows are
 * padded to maxOps; padded entries are held at 0 and masked to −∞ inside the softmax, so they get
 * weight 0 and gradient 0. α is not a module parameter (`weightParameters()` never contains it).
 *
 * Flat order (Hessian, spec §5.1): normal first, then reduce; edge-major; op within edge; valid
 * (non-padded) entries only. `flatAlphaIndex()` lists it, `archVector` / `archFromVector` convert.
 *
 * Module keys follow the PyTorch DARTS search model: `stem.0.weight`, `cells.3.preprocess0.op.1.weight`,
 * `cells.3._ops.5._ops.1.op.1.weight`, `classifier.weight`.
 */
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  F,
  Layer,
  Linear,
  Module,
  ModuleList,
  Sequential,
  Tensor,
  cat,
  keep,
  noGrad,
  randn,
  tensor,
  tidy,
  zeros,
  type DType,
  type Device,
} from '../torch/index.js';
import { ConfigError, ShapeError } from '../errors.js';
import { deriveGenotype, genotypeToOneHot, softmaxRows } from './derive.js';
import type { Genotype } from './genotype.js';
import type { PrimitiveName } from './primitives.js';
import { dropPath } from './drop-path.js';
import { macroLayout, resolveNetworkSize, type NetworkSize } from './macro.js';
import { cellPreprocessors, searchOp } from './ops.js';
import { alphaShape, edgeSource, numEdges, type CellType, type SearchSpace } from './spaces.js';

/** A supernet: the space and the network size (macro settings). */
export interface SupernetConfig extends NetworkSize {
  space: SearchSpace;
}

/** Architecture weights, one [edges, maxOps] tensor per cell type. */
export interface ArchWeights {
  normal: Tensor;
  reduce: Tensor;
}

export interface ForwardOptions {
  /**
   * Edge weights to use as given (no softmax): the "discrete" forward of RobustDARTS, e.g. one-hot
   * weights from a genotype (RS-ws, discretisation drop). Default: `archWeights()` (softmax of α).
   */
  weights?: ArchWeights;
}

/** One entry of the flat α order. */
export interface FlatAlphaEntry {
  cell: CellType;
  edge: number;
  /** Column within the edge (= position in the edge's op list). */
  op: number;
  name: PrimitiveName;
  /** Row-major position in that cell type's [edges, maxOps] tensor. */
  position: number;
  /** Position in concat(flatten(alphaNormal), flatten(alphaReduce)) (padding included). */
  paddedPosition: number;
}

/** Σ_o w_o · o(x) over one edge's candidate ops (spec §2.2). Children `_ops.0`, `_ops.1`, … */
export class MixedOp extends Module {
  readonly ops: ModuleList<Layer>;
  constructor(readonly names: PrimitiveName[], C: number, readonly stride: number) {
    super();
    this.ops = this.registerModule('_ops', new ModuleList(names.map((n) => searchOp(n, C, stride))));
  }
  /** `weights`: this edge's row, [maxOps] (entries beyond names.length are ignored). */
  forward(x: Tensor, weights: Tensor): Tensor {
    return tidy(() => {
      let sum: Tensor | null = null;
      this.ops.items.forEach((op, k) => {
        const term = op.forward(x).mul(weights.select(0, k));
        sum = sum === null ? term : sum.add(term);
      });
      return sum!;
    });
  }
}

/** A search cell: preprocessing of the two inputs, `steps` nodes of mixed edges, concat output. */
export class SearchCell extends Module {
  readonly preprocess0: Layer;
  readonly preprocess1: Layer;
  readonly edges: ModuleList<MixedOp>;
  readonly steps: number;
  readonly multiplier: number;
  constructor(
    ops: PrimitiveName[][],
    steps: number,
    Cpp: number,
    Cp: number,
    readonly C: number,
    readonly reduction: boolean,
    readonly reductionPrev: boolean,
  ) {
    super();
    this.steps = steps;
    this.multiplier = steps;
    const [p0, p1] = cellPreprocessors(Cpp, Cp, C, reductionPrev, false);
    this.preprocess0 = this.registerModule('preprocess0', p0);
    this.preprocess1 = this.registerModule('preprocess1', p1);
    const mixed = ops.map((names, e) => new MixedOp(names, C, reduction && edgeSource(e).source < 2 ? 2 : 1));
    this.edges = this.registerModule('_ops', new ModuleList(mixed));
  }

  /** `weights`: [edges, maxOps] for this cell type; `dropProb` > 0 applies drop path to every edge output (train mode only). */
  forward(s0: Tensor, s1: Tensor, weights: Tensor, dropProb = 0): Tensor {
    return tidy(() => {
      const states: Tensor[] = [this.preprocess0.forward(s0), this.preprocess1.forward(s1)];
      let offset = 0;
      for (let i = 0; i < this.steps; i++) {
        let node: Tensor | null = null;
        for (let j = 0; j < states.length; j++) {
          let h = this.edges.items[offset + j]!.forward(states[j]!, weights.select(0, offset + j));
          if (dropProb > 0 && this.training) h = dropPath(h, dropProb);
          node = node === null ? h : node.add(h);
        }
        offset += states.length;
        states.push(node!);
      }
      return cat(states.slice(-this.multiplier), 1);
    });
  }
}

/**
 * The search supernet (spec §2.4): stem conv 3×3 → 3C + BN(affine), `layers` search cells with
 * reductions at ⌊layers/3⌋ and ⌊2·layers/3⌋ (channels doubling there), global average pool and
 * a linear classifier. α lives beside the modules (see the file comment).
 */
export class Network extends Module {
  readonly space: SearchSpace;
  readonly C: number;
  readonly layers: number;
  readonly numClasses: number;
  readonly inChannels: number;
  readonly stemMultiplier: number;
  readonly steps: number;
  readonly stem: Sequential;
  readonly cells: ModuleList<SearchCell>;
  readonly classifier: Linear;
  /** ScheduledDropPath probability for every mixed-edge output in train mode (spec §7.1); the trainer sets it per epoch. */
  dropPathProb = 0;
  /** Edges per cell type. */
  readonly numEdges: number;
  /** Ops on each edge, per cell type (α row lengths). */
  readonly opsPerEdge: { normal: number[]; reduce: number[] };
  /** α columns (padded row length), per cell type. */
  readonly maxOps: { normal: number; reduce: number };
  private _alphaNormal: Tensor;
  private _alphaReduce: Tensor;
  /** −∞ at padded α entries, 0 elsewhere; null when the cell type's rows are uniform. */
  private _maskNormal: Tensor | null;
  private _maskReduce: Tensor | null;

  constructor(cfg: SupernetConfig) {
    super();
    const { space } = cfg;
    const { C, layers, numClasses, inChannels, stemMultiplier } = resolveNetworkSize(cfg, 'supernet');
    const k = numEdges(space.steps);
    for (const cell of ['normal', 'reduce'] as const) {
      if (space[cell].length !== k) {
        throw new ConfigError(
          `supernet: space '${space.name}' has ${space[cell].length} ${cell} edges, a cell with ${space.steps} nodes has ${k}`,
          'validate the space with spaceFromObject / loadSpaceFile',
        );
      }
    }
    this.space = space;
    this.C = C;
    this.layers = layers;
    this.numClasses = numClasses;
    this.inChannels = inChannels;
    this.stemMultiplier = stemMultiplier;
    this.steps = space.steps;
    this.numEdges = k;

    const macro = macroLayout({ C, layers, stemMultiplier, multiplier: space.steps });
    const cStem = macro.stemChannels;
    this.stem = this.registerModule(
      'stem',
      new Sequential(new Conv2d(inChannels, cStem, 3, { padding: 1, bias: false }), new BatchNorm2d(cStem, { affine: true })),
    );
    const cells = macro.cells.map(
      (c) => new SearchCell(c.reduction ? space.reduce : space.normal, space.steps, c.Cpp, c.Cp, c.C, c.reduction, c.reductionPrev),
    );
    this.cells = this.registerModule('cells', new ModuleList(cells));
    this.registerModule('global_pooling', new AdaptiveAvgPool2d(1));
    this.classifier = this.registerModule('classifier', new Linear(macro.outChannels, numClasses));

    const shape = alphaShape(space);
    this.opsPerEdge = { normal: shape.normal.opsPerEdge, reduce: shape.reduce.opsPerEdge };
    this.maxOps = { normal: shape.normal.maxOps, reduce: shape.reduce.maxOps };
    this._alphaNormal = this.initAlpha('normal');
    this._alphaReduce = this.initAlpha('reduce');
    this._maskNormal = this.makeMask('normal', 'float32');
    this._maskReduce = this.makeMask('reduce', 'float32');
  }

  // ------------------------------------------------------------------ α

  /** 1e-3·N(0,1) on valid entries, 0 on padding; a kept leaf with requiresGrad. */
  private initAlpha(cell: CellType): Tensor {
    const rows = this.opsPerEdge[cell];
    const m = this.maxOps[cell];
    const a = noGrad(() =>
      tidy(() => {
        const t = randn([rows.length, m]).mul(1e-3);
        const valid = this.validMask(cell);
        if (!valid) return t.detach();
        const vals = Float32Array.from(t.toNumbers(), (v, i) => (valid[i] ? v : 0)); // exact +0 at padding
        return tensor(vals, [rows.length, m]);
      }),
    );
    keep(a);
    a.requiresGrad = true;
    return a;
  }

  /** 1 at valid entries, 0 at padding (row-major), or null for uniform rows. */
  private validMask(cell: CellType): Float32Array | null {
    const rows = this.opsPerEdge[cell];
    const m = this.maxOps[cell];
    if (rows.every((n) => n === m)) return null;
    const out = new Float32Array(rows.length * m);
    rows.forEach((n, e) => out.fill(1, e * m, e * m + n));
    return out;
  }

  private makeMask(cell: CellType, dtype: DType): Tensor | null {
    const valid = this.validMask(cell);
    if (!valid) return null;
    const t = noGrad(() => tensor(valid.map((v) => (v ? 0 : -Infinity)), [valid.length / this.maxOps[cell], this.maxOps[cell]], { dtype }));
    return keep(t);
  }

  get alphaNormal(): Tensor {
    return this._alphaNormal;
  }
  get alphaReduce(): Tensor {
    return this._alphaReduce;
  }

  /** [alphaNormal, alphaReduce]: the upper-level variables (never among `weightParameters()`). */
  archParameters(): Tensor[] {
    return [this._alphaNormal, this._alphaReduce];
  }

  /** The supernet weights w (all module parameters; α is not one). */
  weightParameters(): Tensor[] {
    return this.parameters();
  }

  /** Number of valid α entries (both cell types): the Hessian is this square. */
  numArchParameters(): number {
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    return sum(this.opsPerEdge.normal) + sum(this.opsPerEdge.reduce);
  }

  /** Row softmax of α, padded entries masked out (weight 0, gradient 0). Differentiable in α. */
  archWeights(): ArchWeights {
    const sm = (a: Tensor, mask: Tensor | null) => tidy(() => F.softmax(mask ? a.add(mask) : a, -1));
    return { normal: sm(this._alphaNormal, this._maskNormal), reduce: sm(this._alphaReduce, this._maskReduce) };
  }

  private rows(t: Tensor, cell: CellType): number[][] {
    const flat = t.toNumbers();
    const m = this.maxOps[cell];
    return this.opsPerEdge[cell].map((n, e) => flat.slice(e * m, e * m + n));
  }

  /** Raw α, one row per edge with that edge's op count (the layout of `alphaShape(space)`). */
  alphaValues(): { normal: number[][]; reduce: number[][] } {
    return { normal: this.rows(this._alphaNormal, 'normal'), reduce: this.rows(this._alphaReduce, 'reduce') };
  }

  /** softmax(α) per edge, same ragged layout as `alphaValues()`. */
  softmaxValues(): { normal: number[][]; reduce: number[][] } {
    const a = this.alphaValues();
    return { normal: softmaxRows(a.normal), reduce: softmaxRows(a.reduce) };
  }

  /** The discrete cell derived from α (spec §2.5). */
  genotype(): Genotype {
    const a = this.alphaValues();
    return deriveGenotype(a.normal, a.reduce, this.space);
  }

  /** Padded [edges, maxOps] values of a ragged per-edge layout; throws ShapeError on a mismatch. */
  private padded(values: number[][], cell: CellType, what: string): Float64Array {
    const rows = this.opsPerEdge[cell];
    const m = this.maxOps[cell];
    if (!Array.isArray(values) || values.length !== rows.length) {
      throw new ShapeError(`${what}: ${cell} has ${Array.isArray(values) ? values.length : 'no'} rows, space '${this.space.name}' has ${rows.length} edges`, 'give one row per edge, in edge order');
    }
    const out = new Float64Array(rows.length * m);
    values.forEach((row, e) => {
      if (!Array.isArray(row) || row.length !== rows[e]) {
        throw new ShapeError(`${what}: ${cell} row ${e} has ${Array.isArray(row) ? row.length : 'no'} entries, edge ${e} has ${rows[e]} ops`, 'use the layout of alphaShape(space)');
      }
      row.forEach((v, k) => {
        if (typeof v !== 'number' || Number.isNaN(v)) throw new ShapeError(`${what}: ${cell}[${e}][${k}] is ${String(v)}`);
        out[e * m + k] = v;
      });
    });
    return out;
  }

  /** Overwrite α in place (per cell type, one row per edge with that edge's op count). */
  setAlphas(values: { normal: number[][]; reduce: number[][] }): void {
    const n = this.padded(values.normal, 'normal', 'setAlphas');
    const r = this.padded(values.reduce, 'reduce', 'setAlphas');
    noGrad(() =>
      tidy(() => {
        this._alphaNormal.copy_(tensor(n, [this.numEdges, this.maxOps.normal]).to(this._alphaNormal.dtype));
        this._alphaReduce.copy_(tensor(r, [this.numEdges, this.maxOps.reduce]).to(this._alphaReduce.dtype));
      }),
    );
  }

  /**
   * Edge-weight tensors from per-edge values (ragged layout, e.g. `genotypeToOneHot`), padded with
   * zeros, in α's dtype/device; for `forward(x, {weights})`. Created in the caller's scope.
   */
  weightsFromValues(values: { normal: number[][]; reduce: number[][] }): ArchWeights {
    const dtype = this._alphaNormal.dtype;
    const device = this._alphaNormal.device as Device;
    const n = this.padded(values.normal, 'normal', 'weightsFromValues');
    const r = this.padded(values.reduce, 'reduce', 'weightsFromValues');
    return {
      normal: tensor(n, [this.numEdges, this.maxOps.normal], { dtype, device }),
      reduce: tensor(r, [this.numEdges, this.maxOps.reduce], { dtype, device }),
    };
  }

  /** One-hot edge weights of a genotype of this space (for the discrete forward). */
  discreteWeights(g: Genotype): ArchWeights {
    return this.weightsFromValues(genotypeToOneHot(g, this.space));
  }

  /** The flat α order of spec §5.1: normal then reduce, edge-major, op within edge, valid entries only. */
  flatAlphaIndex(): FlatAlphaEntry[] {
    const out: FlatAlphaEntry[] = [];
    let base = 0;
    for (const cell of ['normal', 'reduce'] as const) {
      const m = this.maxOps[cell];
      this.space[cell].forEach((names, e) => {
        names.forEach((name, op) => out.push({ cell, edge: e, op, name, position: e * m + op, paddedPosition: base + e * m + op }));
      });
      base += this.numEdges * m;
    }
    return out;
  }

  private flatIndexTensor(): Tensor {
    return tensor(
      this.flatAlphaIndex().map((x) => x.paddedPosition),
      { dtype: 'int64', device: this._alphaNormal.device as Device },
    );
  }

  private isUniform(): boolean {
    return this._maskNormal === null && this._maskReduce === null;
  }

  /**
   * Flatten a pair of [edges, maxOps] tensors (α, its gradient, a direction…) into the 1-D flat
   * order of `flatAlphaIndex()` (valid entries only). Differentiable.
   */
  archVector(pair: ArchWeights | Tensor[]): Tensor {
    const [a, b] = Array.isArray(pair) ? pair : [pair.normal, pair.reduce];
    if (!a || !b) throw new ShapeError('archVector: expected two tensors (normal, reduce)');
    return tidy(() => {
      const flat = cat([a.reshape(-1), b.reshape(-1)], 0);
      return this.isUniform() ? flat : flat.indexSelect(0, this.flatIndexTensor());
    });
  }

  /** Inverse of `archVector`: [normal, reduce] tensors shaped like α (0 at padding). Differentiable. */
  archFromVector(v: Tensor): [Tensor, Tensor] {
    const n = this.numArchParameters();
    if (v.ndim !== 1 || v.shape[0] !== n) throw new ShapeError(`archFromVector: expected a vector of ${n} entries, got shape [${v.shape.join(', ')}]`);
    return tidy(() => {
      const sizeN = this.numEdges * this.maxOps.normal;
      const sizeR = this.numEdges * this.maxOps.reduce;
      let full: Tensor;
      if (this.isUniform()) {
        full = v;
      } else {
        // gather from [v, 0]: padded positions read the appended zero
        const src = new Array<number>(sizeN + sizeR).fill(n);
        this.flatAlphaIndex().forEach((x, i) => (src[x.paddedPosition] = i));
        const ext = cat([v, zeros([1], { dtype: v.dtype, device: v.device as Device })], 0);
        full = ext.indexSelect(0, tensor(src, { dtype: 'int64', device: v.device as Device }));
      }
      return [full.narrow(0, 0, sizeN).reshape(this.numEdges, this.maxOps.normal), full.narrow(0, sizeN, sizeR).reshape(this.numEdges, this.maxOps.reduce)];
    });
  }

  // ------------------------------------------------------------------ forward

  private checkWeights(w: ArchWeights): void {
    for (const cell of ['normal', 'reduce'] as const) {
      const t = w[cell];
      const want = [this.numEdges, this.maxOps[cell]];
      if (!(t instanceof Tensor) || t.shape.join(',') !== want.join(',')) {
        throw new ShapeError(
          `forward: ${cell} weights have shape [${t instanceof Tensor ? t.shape.join(', ') : '?'}], expected [${want.join(', ')}]`,
          'pass one row per edge, padded to the longest op list (see weightsFromValues)',
        );
      }
    }
  }

  /** Logits [N, numClasses]. Default edge weights: softmax(α); `o.weights` are used as given. */
  forward(x: Tensor, o: ForwardOptions = {}): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new ShapeError(`supernet forward: expected input [N, ${this.inChannels}, H, W], got [${x.shape.join(', ')}]`, 'check the dataset and the inChannels setting');
    }
    if (o.weights) this.checkWeights(o.weights);
    return tidy(() => {
      const w = o.weights ?? this.archWeights();
      const p = this.training ? this.dropPathProb : 0;
      let s0 = this.stem.forward(x);
      let s1 = s0;
      for (const cell of this.cells.items) {
        const next = cell.forward(s0, s1, cell.reduction ? w.reduce : w.normal, p);
        s0 = s1;
        s1 = next;
      }
      const pooled = F.adaptiveAvgPool2d(s1, 1);
      return this.classifier.forward(pooled.reshape(pooled.shape[0]!, -1));
    });
  }

  /** Mean cross entropy of `forward(x, o)` against int64 labels y. */
  loss(x: Tensor, y: Tensor, o: ForwardOptions = {}): Tensor {
    return tidy(() => F.crossEntropy(this.forward(x, o), y));
  }

  // ------------------------------------------------------------------ lifecycle

  /** Module.to plus α and the padding masks (α stays a kept leaf with requiresGrad). */
  override to(target: DType | Device): this {
    super.to(target);
    const move = (t: Tensor): Tensor => {
      const m = keep(noGrad(() => t.to(target).detach()));
      t.dispose();
      return m;
    };
    this._alphaNormal = move(this._alphaNormal);
    this._alphaReduce = move(this._alphaReduce);
    this._alphaNormal.requiresGrad = true;
    this._alphaReduce.requiresGrad = true;
    if (this._maskNormal) this._maskNormal = move(this._maskNormal);
    if (this._maskReduce) this._maskReduce = move(this._maskReduce);
    return this;
  }

  /** Free parameters, buffers, α and masks. */
  override dispose(): void {
    super.dispose();
    for (const t of [this._alphaNormal, this._alphaReduce, this._maskNormal, this._maskReduce]) t?.dispose();
  }
}
