/**
 * Candidate operations (docs/spaces.md#operations) as layers, and the op table keyed by primitive name.
 *
 * Every op maps C channels to C channels; `stride` 2 halves the spatial size (ceil(H/2)).
 * `affine` is the BN flag: false in the search supernet, true in the evaluation network.
 * Child names follow the PyTorch DARTS code (`op.1.weight`, `conv_1.weight`, `bn.running_mean`),
 * so state dicts read the same as the reference's.
 */
import { AvgPool2d, BatchNorm2d, Conv2d, F, Identity, Layer, MaxPool2d, Module, ReLU, Sequential, Tensor, cat, tidy } from '../torch/index.js';
import { ConfigError } from '../errors.js';
import type { PrimitiveName } from './primitives.js';
import type { CellLayout } from './macro.js';

export type OpFactory = (C: number, stride: number, affine: boolean) => Layer;

function checkStride(name: string, stride: number): void {
  if (stride !== 1 && stride !== 2) throw new ConfigError(`${name}: stride must be 1 or 2, got ${stride}`);
}

/** x[:, :, ::2, ::2] for stride 2, x itself for stride 1. */
function subsample(x: Tensor, stride: number): Tensor {
  return stride === 1 ? x : x.index(null, null, `::${stride}`, `::${stride}`);
}

/** `none`: zeros shaped like x (stride 1) or like x[:, :, ::2, ::2] (stride 2). */
export class Zero extends Layer {
  constructor(readonly stride: number) {
    super();
    checkStride('Zero', stride);
  }
  forward(x: Tensor): Tensor {
    if (this.stride === 1) return x.mul(0);
    return tidy(() => subsample(x, this.stride).mul(0));
  }
}

/**
 * `noise` (RobustDARTS S4): ignores the input values and returns fresh N(0, 1) samples from
 * libtorch's seeded generator, shaped like x (or its stride-2 subsample). Active in train and
 * eval mode, as in the reference. No gradient reaches x.
 */
export class Noise extends Layer {
  constructor(readonly stride: number) {
    super();
    checkStride('Noise', stride);
  }
  forward(x: Tensor): Tensor {
    if (this.stride === 1) return x.randnLike();
    return tidy(() => subsample(x, this.stride).randnLike());
  }
}

/**
 * An op whose first layer is a ReLU of its input (ReLUConvBN, DilConv, SepConv, Conv7x1_1x7,
 * FactorizedReduce): `forwardAfterRelu(relu(x))` equals `forward(x)`, so a MixedOp can compute
 * the ReLU of its edge input once for all of them (issue 10; same values, same parameters and
 * state-dict keys — the ReLU has none).
 */
export interface ReluFirst {
  forwardAfterRelu(r: Tensor): Tensor;
}

export function isReluFirst(l: Layer): l is Layer & ReluFirst {
  return typeof (l as Partial<ReluFirst>).forwardAfterRelu === 'function';
}

/** The layers of `seq` after its first (the ReLU), applied to the already rectified input. */
function afterRelu(seq: Sequential, r: Tensor): Tensor {
  let cur = r;
  for (let i = 1; i < seq.layers.length; i++) cur = seq.layers[i]!.forward(cur);
  return cur;
}

/** An op that is one Sequential starting with a ReLU, registered as `op` (children `op.0`, `op.1`, …, as in DARTS). */
abstract class ReluSequence extends Layer implements ReluFirst {
  readonly op: Sequential;
  constructor(...layers: Layer[]) {
    super();
    this.op = this.registerModule('op', new Sequential(...layers));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => this.op.forward(x));
  }
  forwardAfterRelu(r: Tensor): Tensor {
    return tidy(() => afterRelu(this.op, r));
  }
}

/** ReLU → conv k×k (no bias) → BN. Children `op.0`, `op.1`, `op.2`. */
export class ReLUConvBN extends ReluSequence {
  constructor(Cin: number, Cout: number, kernel: number, stride: number, padding: number, affine: boolean) {
    super(new ReLU(), new Conv2d(Cin, Cout, kernel, { stride, padding, bias: false }), new BatchNorm2d(Cout, { affine }));
  }
}

/** ReLU → depthwise k×k (dilated) conv → 1×1 conv → BN. Children `op.0` … `op.3`. */
export class DilConv extends ReluSequence {
  constructor(Cin: number, Cout: number, kernel: number, stride: number, padding: number, dilation: number, affine: boolean) {
    super(
      new ReLU(),
      new Conv2d(Cin, Cin, kernel, { stride, padding, dilation, groups: Cin, bias: false }),
      new Conv2d(Cin, Cout, 1, { bias: false }),
      new BatchNorm2d(Cout, { affine }),
    );
  }
}

/**
 * Separable conv applied twice: [ReLU → dw k×k stride s → 1×1 → BN] → [ReLU → dw k×k stride 1 →
 * 1×1 → BN]. Children `op.0` … `op.7` (as in DARTS' SepConv).
 */
export class SepConv extends ReluSequence {
  constructor(Cin: number, Cout: number, kernel: number, stride: number, padding: number, affine: boolean) {
    super(
      new ReLU(),
      new Conv2d(Cin, Cin, kernel, { stride, padding, groups: Cin, bias: false }),
      new Conv2d(Cin, Cin, 1, { bias: false }),
      new BatchNorm2d(Cin, { affine }),
      new ReLU(),
      new Conv2d(Cin, Cin, kernel, { stride: 1, padding, groups: Cin, bias: false }),
      new Conv2d(Cin, Cout, 1, { bias: false }),
      new BatchNorm2d(Cout, { affine }),
    );
  }
}

/**
 * ReLU → two parallel 1×1 stride-2 convs Cin → Cout/2, the second on x[:, :, 1:, 1:] → concat on
 * channels → BN(Cout). Children `conv_1`, `conv_2`, `bn` (as in DARTS).
 *
 * Odd spatial sizes (which the reference code cannot handle: the two halves come out one pixel
 * apart) are accepted here: the shifted input is zero-padded by one pixel at the bottom/right,
 * so both halves have ceil(H/2) × ceil(W/2) pixels like every other stride-2 op.
 */
export class FactorizedReduce extends Layer implements ReluFirst {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(Cin: number, Cout: number, affine: boolean) {
    super();
    if (Cout % 2 !== 0) {
      throw new ConfigError(`FactorizedReduce needs an even output channel count, got ${Cout}`, 'use an even number of initial channels');
    }
    this.registerModule('relu', new ReLU());
    this.conv1 = this.registerModule('conv_1', new Conv2d(Cin, Cout / 2, 1, { stride: 2, bias: false }));
    this.conv2 = this.registerModule('conv_2', new Conv2d(Cin, Cout / 2, 1, { stride: 2, bias: false }));
    this.bn = this.registerModule('bn', new BatchNorm2d(Cout, { affine }));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => this.forwardAfterRelu(x.relu()));
  }
  forwardAfterRelu(r: Tensor): Tensor {
    return tidy(() => this.bn.forward(factorizedPair(r, this.conv1.weight, this.conv2.weight)));
  }
}

/**
 * FactorizedReduce's two halves, cat([conv(r, w1, stride 2), conv(r[:, :, 1:, 1:], w2, stride 2)]),
 * as one grouped 1×1 conv (docs/speed.md#factorizedreduce). A stride-2 1×1 conv reads the pixels at
 * (2i, 2j); on the shifted input it reads (2i+1, 2j+1). Viewing r as [B, C, H/2, 2, W/2, 2], those
 * are the diagonal of the two size-2 axes, so one strided gather gives [B, 2, C, H/2, W/2]: the
 * even pixels then the odd ones, i.e. 2C channels that a groups=2 conv with weight cat(w1, w2) maps
 * to the two halves of the output in their order. Same values (the same products summed over the
 * same C inputs), but the backward is one zero-fill and one strided copy instead of a slice's
 * zero-fill and copy, a full-size add and two copies of the cat's gradient halves; about half the
 * time of the two-conv form (B64 C32 32×32, forward + backward). Odd sizes are zero-padded at the
 * bottom/right first, which is what padding the shifted input does.
 */
export function factorizedPair(r: Tensor, w1: Tensor, w2: Tensor): Tensor {
  return tidy(() => {
    const [B, C, H, W] = r.shape as [number, number, number, number];
    const even = H % 2 === 1 || W % 2 === 1 ? r.pad([0, W % 2, 0, H % 2]) : r;
    const Hh = Math.ceil(H / 2), Wh = Math.ceil(W / 2);
    const pixels = even
      .reshape(B, C, Hh, 2, Wh, 2)
      .diagonal(0, 3, 5)
      .permute(0, 4, 1, 2, 3)
      .reshape(B, 2 * C, Hh, Wh);
    return F.conv2d(pixels, cat([w1, w2], 0), null, { groups: 2 });
  });
}

/** ReLU → conv (1×7) stride (1,s) → conv (7×1) stride (s,1) → BN. Children `op.0` … `op.3`. */
export class Conv7x1_1x7 extends ReluSequence {
  constructor(C: number, stride: number, affine: boolean) {
    super(
      new ReLU(),
      new Conv2d(C, C, [1, 7], { stride: [1, stride], padding: [0, 3], bias: false }),
      new Conv2d(C, C, [7, 1], { stride: [stride, 1], padding: [3, 0], bias: false }),
      new BatchNorm2d(C, { affine }),
    );
  }
}

/** The op table (DARTS' `OPS`): primitive name → constructor (C, stride, affine). */
export const OPS: Record<PrimitiveName, OpFactory> = {
  none: (_C, stride) => new Zero(stride),
  noise: (_C, stride) => new Noise(stride),
  max_pool_3x3: (_C, stride) => (checkStride('max_pool_3x3', stride), new MaxPool2d(3, stride, 1)),
  avg_pool_3x3: (_C, stride) => (checkStride('avg_pool_3x3', stride), new AvgPool2d(3, stride, 1, false)),
  skip_connect: (C, stride, affine) => (checkStride('skip_connect', stride), stride === 1 ? new Identity() : new FactorizedReduce(C, C, affine)),
  sep_conv_3x3: (C, stride, affine) => new SepConv(C, C, 3, stride, 1, affine),
  sep_conv_5x5: (C, stride, affine) => new SepConv(C, C, 5, stride, 2, affine),
  sep_conv_7x7: (C, stride, affine) => new SepConv(C, C, 7, stride, 3, affine),
  dil_conv_3x3: (C, stride, affine) => new DilConv(C, C, 3, stride, 2, 2, affine),
  dil_conv_5x5: (C, stride, affine) => new DilConv(C, C, 5, stride, 4, 2, affine),
  conv_7x1_1x7: (C, stride, affine) => new Conv7x1_1x7(C, stride, affine),
};

export function isPoolOp(name: PrimitiveName): boolean {
  return name === 'max_pool_3x3' || name === 'avg_pool_3x3';
}

/**
 * An op as the search supernet builds it (docs/spaces.md#operations): BN affine=False everywhere, and pooling
 * ops followed by BatchNorm2d(C, affine=False) — `Sequential(pool, bn)`, keys `1.running_mean`.
 */
export function searchOp(name: PrimitiveName, C: number, stride: number): Layer {
  const op = OPS[name](C, stride, false);
  return isPoolOp(name) ? new Sequential(op, new BatchNorm2d(C, { affine: false })) : op;
}

/**
 * The two input preprocessors of a cell (docs/spaces.md#the-cell): input 0 (c_{k−2}) is halved by a
 * FactorizedReduce when the previous cell reduced, else a 1×1 ReLUConvBN; input 1 (c_{k−1}) is a
 * 1×1 ReLUConvBN. `affine`: false in the search network, true in the evaluation network.
 */
export function cellPreprocessors(Cpp: number, Cp: number, C: number, reductionPrev: boolean, affine: boolean): [Layer, Layer] {
  return [reductionPrev ? new FactorizedReduce(Cpp, C, affine) : new ReLUConvBN(Cpp, C, 1, 1, 0, affine), new ReLUConvBN(Cp, C, 1, 1, 0, affine)];
}

/**
 * What a search cell and an evaluation cell share: their place in the macro layout and the two
 * input preprocessors, registered first (module keys `preprocess0`, `preprocess1`).
 */
export abstract class CellBase extends Module {
  readonly preprocess0: Layer;
  readonly preprocess1: Layer;
  readonly C: number;
  readonly reduction: boolean;
  readonly reductionPrev: boolean;
  constructor(layout: Pick<CellLayout, 'Cpp' | 'Cp' | 'C' | 'reduction' | 'reductionPrev'>, affine: boolean) {
    super();
    this.C = layout.C;
    this.reduction = layout.reduction;
    this.reductionPrev = layout.reductionPrev;
    const [p0, p1] = cellPreprocessors(layout.Cpp, layout.Cp, layout.C, layout.reductionPrev, affine);
    this.preprocess0 = this.registerModule('preprocess0', p0);
    this.preprocess1 = this.registerModule('preprocess1', p1);
  }
}

/** The stem both networks start with: conv 3×3 (no bias) → BN (affine). */
export function stemLayer(inChannels: number, channels: number): Sequential {
  return new Sequential(new Conv2d(inChannels, channels, 3, { padding: 1, bias: false }), new BatchNorm2d(channels, { affine: true }));
}
