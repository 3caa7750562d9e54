/**
 * The DARTS search supernet (docs/spaces.md#supernet): MixedOp, SearchCell and Network.
 *
 * α (`alphaNormal`, `alphaReduce`) is held beside the modules by an `Alphas` (alpha.ts: layout,
 * padding masks for ragged spaces, the flat order of the Hessian); it is not a module parameter
 * (`weightParameters()` never contains it). The Network's α methods delegate to it.
 *
 * Module keys follow the PyTorch DARTS search model: `stem.0.weight`, `cells.3.preprocess0.op.1.weight`,
 * `cells.3._ops.5._ops.1.op.1.weight`, `classifier.weight`.
 */
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, F, Layer, Linear, Module, ModuleList, Sequential, Tensor, cat, tidy, type DType, type Device } from '../torch/index.js';
import { ConfigError, ShapeError } from '../errors.js';
import { Alphas, type AlphaValues, type ArchWeights, type FlatAlphaEntry } from './alpha.js';
import { deriveGenotype, genotypeToOneHot } from './derive.js';
import type { Genotype } from './genotype.js';
import type { PrimitiveName } from './primitives.js';
import { dropPath } from './drop-path.js';
import { macroLayout, resolveNetworkSize, type CellLayout, type NetworkSize } from './macro.js';
import { CellBase, Zero, isReluFirst, searchOp, stemLayer } from './ops.js';
import { edgeStride, numEdges, type SearchSpace } from './spaces.js';

/** A supernet: the space and the network size (macro settings). */
export interface SupernetConfig extends NetworkSize {
  space: SearchSpace;
}

export interface ForwardOptions {
  /**
   * Edge weights to use as given (no softmax): the "discrete" forward of RobustDARTS, e.g. one-hot
   * weights from a genotype (RS-ws, discretisation drop). Default: `archWeights()` (softmax of α).
   */
  weights?: ArchWeights;
}

/** Σ_o w_o · o(x) over one edge's candidate ops (docs/spaces.md#supernet). Children `_ops.0`, `_ops.1`, … */
/**
 * Switches of the MixedOp forward (issue 10: same numerics, less work and memory; off = the
 * reference's literal structure; test/nas/shared-relu.test.ts compares the two).
 * - `shareRelu` (default on): the ReLU that every conv op of an edge applies to the edge input
 *   first is computed once per edge and shared: one ReLU and one saved activation instead of one
 *   per op.
 * - `skipZero` (default on): the `none` op's term w·0 is left out of the sum (its α still gets its
 *   gradient, which is 0 either way): no zero tensor made, multiplied, added and kept per edge.
 *   An edge whose ops are all `none` still returns the zeros.
 * - `fuseSum` (default on): a node's sum over all its edges' terms, Σ_j Σ_o w_jo · o(x_j), is one
 *   `F.weightedSum` (one pass forward and one backward in the addon; docs/speed.md#weighted-sum)
 *   instead of a mul and an add per term and an add per edge. Off with drop path (the edges'
 *   outputs are needed apart).
 */
export const mixedOpOptions: { shareRelu: boolean; skipZero: boolean; fuseSum: boolean } = { shareRelu: true, skipZero: true, fuseSum: true };

/** One edge's terms of a weighted sum: op outputs and, for each, its op's index in the edge's weight row. */
export interface EdgeTerms {
  terms: Tensor[];
  index: number[];
}

export class MixedOp extends Module {
  readonly ops: ModuleList<Layer>;
  constructor(readonly names: PrimitiveName[], C: number, readonly stride: number) {
    super();
    this.ops = this.registerModule('_ops', new ModuleList(names.map((n) => searchOp(n, C, stride))));
  }
  /**
   * The op outputs of this edge that enter its sum (the `none` op's left out under `skipZero`, when
   * another op is there), each with its index in the edge's weight row. Not inside a tidy scope of
   * its own: the caller's keeps them.
   */
  terms(x: Tensor): EdgeTerms {
    const terms: Tensor[] = [];
    const index: number[] = [];
    // ops that start with ReLU(x) share one (mixedOpOptions.shareRelu; same values, issue 10)
    const share = mixedOpOptions.shareRelu && this.ops.items.filter(isReluFirst).length > 1;
    const r = share ? x.relu() : null;
    const skipZero = mixedOpOptions.skipZero && this.ops.items.some((op) => !(op instanceof Zero));
    this.ops.items.forEach((op, k) => {
      if (skipZero && op instanceof Zero) return;
      terms.push(r !== null && isReluFirst(op) ? op.forwardAfterRelu(r) : op.forward(x));
      index.push(k);
    });
    return { terms, index };
  }
  /** `weights`: this edge's row, [maxOps] (entries beyond names.length are ignored). */
  forward(x: Tensor, weights: Tensor): Tensor {
    return tidy(() => {
      const { terms, index } = this.terms(x);
      if (mixedOpOptions.fuseSum) return F.weightedSum(terms, weights, index);
      let sum: Tensor | null = null;
      terms.forEach((out, i) => {
        const term = out.mul(weights.select(0, index[i]!));
        sum = sum === null ? term : sum.add(term);
      });
      return sum!;
    });
  }
}

/** A search cell: preprocessing of the two inputs, `steps` nodes of mixed edges, concat output. */
export class SearchCell extends CellBase {
  readonly edges: ModuleList<MixedOp>;
  readonly steps: number;
  readonly multiplier: number;
  constructor(ops: PrimitiveName[][], steps: number, layout: CellLayout) {
    super(layout, false);
    this.steps = steps;
    this.multiplier = steps;
    const mixed = ops.map((names, e) => new MixedOp(names, layout.C, edgeStride(e, layout.reduction)));
    this.edges = this.registerModule('_ops', new ModuleList(mixed));
  }

  /** `weights`: [edges, maxOps] for this cell type; `dropProb` > 0 applies drop path to every edge output (train mode only). */
  forward(s0: Tensor, s1: Tensor, weights: Tensor, dropProb = 0): Tensor {
    return tidy(() => {
      const states: Tensor[] = [this.preprocess0.forward(s0), this.preprocess1.forward(s1)];
      let offset = 0;
      for (let i = 0; i < this.steps; i++) {
        let node: Tensor | null = null;
        if (mixedOpOptions.fuseSum && !(dropProb > 0 && this.training)) {
          // one weighted sum over every term of the node's edges: rows offset … offset+m−1 of weights, flattened
          const m = states.length;
          const row = weights.size(1);
          const terms: Tensor[] = [];
          const index: number[] = [];
          for (let j = 0; j < m; j++) {
            const e = this.edges.items[offset + j]!.terms(states[j]!);
            terms.push(...e.terms);
            for (const k of e.index) index.push(j * row + k);
          }
          offset += m;
          states.push(F.weightedSum(terms, weights.narrow(0, offset - m, m).reshape([m * row]), index));
          continue;
        }
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
 * The search supernet (docs/spaces.md#supernet): stem conv 3×3 → 3C + BN(affine), `layers` search cells with
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
  /** ScheduledDropPath probability for every mixed-edge output in train mode (docs/search.md#drop-path-and-cutout-ramps); the trainer sets it per epoch. */
  dropPathProb = 0;
  /** Edges per cell type. */
  readonly numEdges: number;
  /** Ops on each edge, per cell type (α row lengths). */
  readonly opsPerEdge: { normal: number[]; reduce: number[] };
  /** α columns (padded row length), per cell type. */
  readonly maxOps: { normal: number; reduce: number };
  /** α and its layout. */
  readonly alphas: Alphas;

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
    this.stem = this.registerModule('stem', stemLayer(inChannels, cStem));
    const cells = macro.cells.map((c) => new SearchCell(c.reduction ? space.reduce : space.normal, space.steps, c));
    this.cells = this.registerModule('cells', new ModuleList(cells));
    this.registerModule('global_pooling', new AdaptiveAvgPool2d(1));
    this.classifier = this.registerModule('classifier', new Linear(macro.outChannels, numClasses));

    // α after the weights, so a seed gives the same weights and α as before the split
    this.alphas = new Alphas(space);
    this.opsPerEdge = this.alphas.opsPerEdge;
    this.maxOps = this.alphas.maxOps;
  }

  // ------------------------------------------------------------------ α (delegated to `alphas`)

  get alphaNormal(): Tensor {
    return this.alphas.normal;
  }
  get alphaReduce(): Tensor {
    return this.alphas.reduce;
  }

  /** [alphaNormal, alphaReduce]: the upper-level variables (never among `weightParameters()`). */
  archParameters(): Tensor[] {
    return this.alphas.parameters();
  }

  /** The supernet weights w (all module parameters; α is not one). */
  weightParameters(): Tensor[] {
    return this.parameters();
  }

  /** Number of valid α entries (both cell types): the Hessian is this square. */
  numArchParameters(): number {
    return this.alphas.count();
  }

  /** Row softmax of α, padded entries masked out (weight 0, gradient 0). Differentiable in α. */
  archWeights(): ArchWeights {
    return this.alphas.weights();
  }

  /** Raw α, one row per edge with that edge's op count (the layout of `alphaShape(space)`). */
  alphaValues(): AlphaValues {
    return this.alphas.values();
  }

  /** softmax(α) per edge, same ragged layout as `alphaValues()`. */
  softmaxValues(): AlphaValues {
    return this.alphas.softmaxValues();
  }

  /** The discrete cell derived from α (docs/spaces.md#derivation). */
  genotype(): Genotype {
    const a = this.alphaValues();
    return deriveGenotype(a.normal, a.reduce, this.space);
  }

  /** Overwrite α in place (per cell type, one row per edge with that edge's op count). */
  setAlphas(values: AlphaValues): void {
    this.alphas.set(values, 'setAlphas');
  }

  /**
   * Edge-weight tensors from per-edge values (ragged layout, e.g. `genotypeToOneHot`), padded with
   * zeros, in α's dtype/device; for `forward(x, {weights})`. Created in the caller's scope.
   */
  weightsFromValues(values: AlphaValues): ArchWeights {
    return this.alphas.weightsFromValues(values, 'weightsFromValues');
  }

  /** One-hot edge weights of a genotype of this space (for the discrete forward). */
  discreteWeights(g: Genotype): ArchWeights {
    return this.weightsFromValues(genotypeToOneHot(g, this.space));
  }

  /** The flat α order (docs/hessian.md#flat-order): normal then reduce, edge-major, op within edge, valid entries only. */
  flatAlphaIndex(): FlatAlphaEntry[] {
    return this.alphas.flatIndex();
  }

  /**
   * Flatten a pair of [edges, maxOps] tensors (α, its gradient, a direction…) into the 1-D flat
   * order of `flatAlphaIndex()` (valid entries only). Differentiable.
   */
  archVector(pair: ArchWeights | Tensor[]): Tensor {
    return this.alphas.vector(pair);
  }

  /** Inverse of `archVector`: [normal, reduce] tensors shaped like α (0 at padding). Differentiable. */
  archFromVector(v: Tensor): [Tensor, Tensor] {
    return this.alphas.fromVector(v);
  }

  // ------------------------------------------------------------------ forward

  /** Logits [N, numClasses]. Default edge weights: softmax(α); `o.weights` are used as given. */
  forward(x: Tensor, o: ForwardOptions = {}): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new ShapeError(`supernet forward: expected input [N, ${this.inChannels}, H, W], got [${x.shape.join(', ')}]`, 'check the dataset and the inChannels setting');
    }
    if (o.weights) this.alphas.checkWeights(o.weights, 'forward');
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
    this.alphas.to(target);
    return this;
  }

  /** Free parameters, buffers, α and masks. */
  override dispose(): void {
    super.dispose();
    this.alphas.dispose();
  }
}
