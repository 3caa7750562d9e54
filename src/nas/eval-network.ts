/**
 * The evaluation network trained from scratch on a genotype (docs/spaces.md#evaluation-network; DARTS `NetworkCIFAR`).
 *
 * Same macro as the search supernet (stem 3C + BN, reductions at ⌊layers/3⌋ and ⌊2·layers/3⌋,
 * channel doubling, FactorizedReduce / ReLUConvBN preprocessing), but every BN is affine, each
 * node is op1(h_a) + op2(h_b) from the genotype, pools carry no extra BN, drop path (train mode,
 * `dropPathProb` > 0) hits every op output except Identity, and an optional auxiliary head after
 * cell ⌊2·layers/3⌋ gives a second set of logits in train mode.
 *
 * Module keys follow DARTS: `stem.0.weight`, `cells.4.preprocess0.op.1.weight`, `cells.4._ops.0.op.1.weight`,
 * `auxiliary_head.features.2.weight`, `classifier.weight`.
 */
import { AvgPool2d, BatchNorm2d, Conv2d, F, Identity, Layer, Linear, Module, ModuleList, ReLU, Sequential, Tensor, cat, tidy } from '../torch/index.js';
import { ConfigError, ShapeError } from '../errors.js';
import { assertGenotypeFitsSpace, genotypeSteps, type Gene, type Genotype } from './genotype.js';
import { dropPath } from './drop-path.js';
import { macroLayout, resolveNetworkSize, type CellLayout, type NetworkSize } from './macro.js';
import { CellBase, OPS, stemLayer } from './ops.js';
import { sourceStride, type SearchSpace } from './spaces.js';

/** An evaluation network: the genotype and the network size (macro settings). */
export interface EvalNetworkConfig extends NetworkSize {
  genotype: Genotype;
  /** Build the auxiliary head (weight 0.4 in the loss). Default false. */
  auxiliary?: boolean;
  /** If given, the genotype is checked against this space first. */
  space?: SearchSpace;
}

/** One cell of the evaluation network: two ops per intermediate node, as the genotype says. */
export class EvalCell extends CellBase {
  readonly ops: ModuleList<Layer>;
  readonly indices: number[];
  readonly concat: number[];
  readonly multiplier: number;
  readonly steps: number;
  constructor(genes: Gene[], concat: number[], layout: CellLayout) {
    super(layout, true);
    const { C, reduction } = layout;
    this.steps = genes.length / 2;
    this.indices = genes.map(([, j]) => j);
    this.concat = [...concat];
    this.multiplier = concat.length;
    const ops = genes.map(([name, j]) => OPS[name](C, sourceStride(j, reduction), true));
    this.ops = this.registerModule('_ops', new ModuleList(ops));
  }

  forward(s0: Tensor, s1: Tensor, dropProb = 0): Tensor {
    return tidy(() => {
      const states: Tensor[] = [this.preprocess0.forward(s0), this.preprocess1.forward(s1)];
      for (let i = 0; i < this.steps; i++) {
        const branch = (k: number): Tensor => {
          const op = this.ops.items[k]!;
          const h = op.forward(states[this.indices[k]!]!);
          return this.training && dropProb > 0 && !(op instanceof Identity) ? dropPath(h, dropProb) : h;
        };
        states.push(branch(2 * i).add(branch(2 * i + 1)));
      }
      return cat(this.concat.map((j) => states[j]!), 1);
    });
  }
}

/**
 * Auxiliary classifier (DARTS `AuxiliaryHeadCIFAR`): ReLU → AvgPool 5×5 stride 3 (no pad counted)
 * → conv 1×1 → 128 → BN → ReLU → conv 2×2 → 768 → BN → ReLU → Linear(768 → classes).
 * It is made for 8×8 inputs (CIFAR/SVHN after two reductions); other sizes (Fashion-MNIST gives
 * 7×7) are average-pooled adaptively to 2×2 instead, so the rest of the head applies unchanged.
 */
export class AuxiliaryHead extends Module {
  readonly features: Sequential;
  readonly classifier: Linear;
  constructor(C: number, numClasses: number) {
    super();
    this.features = this.registerModule(
      'features',
      new Sequential(
        new ReLU(),
        new AvgPool2d(5, 3, 0, false),
        new Conv2d(C, 128, 1, { bias: false }),
        new BatchNorm2d(128),
        new ReLU(),
        new Conv2d(128, 768, 2, { bias: false }),
        new BatchNorm2d(768),
        new ReLU(),
      ),
    );
    this.classifier = this.registerModule('classifier', new Linear(768, numClasses));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const [, , H, W] = x.shape as [number, number, number, number];
      let h: Tensor;
      if (H === 8 && W === 8) {
        h = this.features.forward(x);
      } else {
        const [, , ...rest] = this.features.layers;
        h = F.adaptiveAvgPool2d(x.relu(), 2);
        for (const l of rest) h = l.forward(h);
      }
      return this.classifier.forward(h.reshape(h.shape[0]!, -1));
    });
  }
}

export interface EvalOutput {
  logits: Tensor;
  /** Auxiliary logits: only in train mode with `auxiliary` enabled, else null. */
  auxLogits: Tensor | null;
}

/** The network trained from scratch on a genotype (docs/spaces.md#evaluation-network). */
export class EvalNetwork extends Module {
  readonly genotype: Genotype;
  readonly C: number;
  readonly layers: number;
  readonly numClasses: number;
  readonly inChannels: number;
  readonly auxiliary: boolean;
  readonly stem: Sequential;
  readonly cells: ModuleList<EvalCell>;
  readonly auxiliaryHead: AuxiliaryHead | null;
  /** Cell after which the auxiliary head reads (⌊2·layers/3⌋). */
  readonly auxiliaryCell: number;
  readonly classifier: Linear;
  /** Drop path probability (the trainer sets it per epoch, e.g. 0.2·epoch/epochs). */
  dropPathProb = 0;

  constructor(cfg: EvalNetworkConfig) {
    super();
    const { genotype } = cfg;
    const { C, layers, numClasses, inChannels, stemMultiplier } = resolveNetworkSize(cfg, 'evaluation network');
    if (cfg.space) assertGenotypeFitsSpace(genotype, cfg.space);
    if (genotype.normal.length !== genotype.reduce.length || genotype.normal.length % 2 !== 0 || genotype.normal.length === 0) {
      throw new ConfigError(`evaluation network: the genotype needs two genes per node in both cells (got ${genotype.normal.length} and ${genotype.reduce.length})`);
    }
    this.genotype = genotype;
    this.C = C;
    this.layers = layers;
    this.numClasses = numClasses;
    this.inChannels = inChannels;
    this.auxiliary = cfg.auxiliary ?? false;
    const steps = genotypeSteps(genotype);

    const macro = macroLayout({
      C,
      layers,
      stemMultiplier,
      multiplier: { normal: genotype.normalConcat.length, reduce: genotype.reduceConcat.length },
    });
    const cStem = macro.stemChannels;
    this.stem = this.registerModule('stem', stemLayer(inChannels, cStem));
    this.auxiliaryCell = macro.auxiliaryCell;
    const cells: EvalCell[] = [];
    for (const c of macro.cells) {
      const genes = c.reduction ? genotype.reduce : genotype.normal;
      const concat = c.reduction ? genotype.reduceConcat : genotype.normalConcat;
      for (const j of concat) {
        if (!Number.isInteger(j) || j < 0 || j >= steps + 2) throw new ConfigError(`evaluation network: concat index ${j} is outside 0..${steps + 1}`);
      }
      cells.push(new EvalCell(genes, concat, c));
    }
    const cAux = macro.cells[this.auxiliaryCell]?.Cout ?? 0;
    this.cells = this.registerModule('cells', new ModuleList(cells));
    this.auxiliaryHead = this.auxiliary ? this.registerModule('auxiliary_head', new AuxiliaryHead(cAux, numClasses)) : null;
    this.classifier = this.registerModule('classifier', new Linear(macro.outChannels, numClasses));
  }

  /** Logits, plus auxiliary logits in train mode when the auxiliary head is enabled. */
  forward(x: Tensor): EvalOutput {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new ShapeError(`evaluation network forward: expected input [N, ${this.inChannels}, H, W], got [${x.shape.join(', ')}]`, 'check the dataset and the inChannels setting');
    }
    return tidy(() => {
      const p = this.training ? this.dropPathProb : 0;
      let s0 = this.stem.forward(x);
      let s1 = s0;
      let auxLogits: Tensor | null = null;
      this.cells.items.forEach((cell, i) => {
        const next = cell.forward(s0, s1, p);
        s0 = s1;
        s1 = next;
        if (i === this.auxiliaryCell && this.auxiliaryHead && this.training) auxLogits = this.auxiliaryHead.forward(s1);
      });
      const pooled = F.adaptiveAvgPool2d(s1, 1);
      const logits = this.classifier.forward(pooled.reshape(pooled.shape[0]!, -1));
      return { logits, auxLogits };
    });
  }

  /** Parameters without the auxiliary head (what DARTS reports as "param size"). */
  numParametersWithoutAuxiliary(): number {
    let n = 0;
    for (const [k, p] of this.namedParameters()) if (!k.startsWith('auxiliary_head.')) n += p.numel();
    return n;
  }
}
