import { Tensor } from '../tensor.js';
import { empty, ones, zeros, tensor } from '../factories.js';
import * as F from '../functional.js';
import { noGrad } from '../autograd.js';
import { Layer } from './module.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** PyTorch's default init: kaiming_uniform(a=√5) for weights = U(±1/√fan_in), bias U(±1/√fan_in). */
function uniformInit(shape: number[], fanIn: number): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return noGrad(() => empty(shape).uniform_(-bound, bound));
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Layer {
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  constructor(readonly inChannels: number, readonly outChannels: number, kernel: Pair, o: Conv2dOptions = {}) {
    super();
    const [kh, kw] = pair(kernel);
    this.stride = pair(o.stride ?? 1);
    this.padding = pair(o.padding ?? 0);
    this.dilation = pair(o.dilation ?? 1);
    this.groups = o.groups ?? 1;
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new RangeError(`Conv2d: in (${inChannels}) and out (${outChannels}) channels must be divisible by groups (${this.groups})`);
    }
    const fanIn = (inChannels / this.groups) * kh * kw;
    this.registerParameter('weight', uniformInit([outChannels, inChannels / this.groups, kh, kw], fanIn));
    if (o.bias ?? true) this.registerParameter('bias', uniformInit([outChannels], fanIn));
  }
  get weight(): Tensor {
    return this.param('weight')!;
  }
  get bias(): Tensor | null {
    return this.param('bias');
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  groups?: number;
  dilation?: Pair;
  bias?: boolean;
}

/**
 * A transposed convolution with PyTorch's parameter names and layout: `weight`
 * [inChannels, outChannels/groups, kh, kw] and `bias` [outChannels]. Initialised as PyTorch's
 * nn.ConvTranspose2d (torch/nn/modules/conv.py, _ConvNd.reset_parameters: kaiming_uniform(a=√5)
 * and the bias bound both use fan_in from _calculate_fan_in_and_fan_out(weight), which reads
 * weight.size(1)·kh·kw, i.e. (outChannels/groups)·kh·kw for the transposed layout).
 */
export class ConvTranspose2d extends Layer {
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  constructor(readonly inChannels: number, readonly outChannels: number, kernel: Pair, o: ConvTranspose2dOptions = {}) {
    super();
    const [kh, kw] = pair(kernel);
    this.stride = pair(o.stride ?? 1);
    this.padding = pair(o.padding ?? 0);
    this.outputPadding = pair(o.outputPadding ?? 0);
    this.dilation = pair(o.dilation ?? 1);
    this.groups = o.groups ?? 1;
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new RangeError(`ConvTranspose2d: in (${inChannels}) and out (${outChannels}) channels must be divisible by groups (${this.groups})`);
    }
    const fanIn = (outChannels / this.groups) * kh * kw;
    this.registerParameter('weight', uniformInit([inChannels, outChannels / this.groups, kh, kw], fanIn));
    if (o.bias ?? true) this.registerParameter('bias', uniformInit([outChannels], fanIn));
  }
  get weight(): Tensor {
    return this.param('weight')!;
  }
  get bias(): Tensor | null {
    return this.param('bias');
  }
  forward(x: Tensor): Tensor {
    return F.convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      groups: this.groups,
      dilation: this.dilation,
    });
  }
}

export interface BatchNormOptions {
  affine?: boolean;
  eps?: number;
  momentum?: number;
  trackRunningStats?: boolean;
}

/** BatchNorm2d with PyTorch's defaults (eps 1e-5, momentum 0.1) and buffer names. */
export class BatchNorm2d extends Layer {
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  constructor(readonly numFeatures: number, o: BatchNormOptions = {}) {
    super();
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum ?? 0.1;
    this.affine = o.affine ?? true;
    this.trackRunningStats = o.trackRunningStats ?? true;
    if (this.affine) {
      this.registerParameter('weight', ones([numFeatures]));
      this.registerParameter('bias', zeros([numFeatures]));
    }
    if (this.trackRunningStats) {
      this.registerBuffer('running_mean', zeros([numFeatures]));
      this.registerBuffer('running_var', ones([numFeatures]));
      this.registerBuffer('num_batches_tracked', tensor([0], { dtype: 'int64' }).view([]));
    }
  }
  forward(x: Tensor): Tensor {
    const useBatchStats = this.training || !this.trackRunningStats;
    if (this.training && this.trackRunningStats) noGrad(() => this.buffer('num_batches_tracked')!.add_(1));
    return F.batchNorm(x, this.buffer('running_mean'), this.buffer('running_var'), {
      weight: this.param('weight'),
      bias: this.param('bias'),
      training: useBatchStats,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}

export class Linear extends Layer {
  constructor(readonly inFeatures: number, readonly outFeatures: number, bias = true) {
    super();
    this.registerParameter('weight', uniformInit([outFeatures, inFeatures], inFeatures));
    if (bias) this.registerParameter('bias', uniformInit([outFeatures], inFeatures));
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.param('weight')!, this.param('bias'));
  }
}

export class ReLU extends Layer {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

export class Identity extends Layer {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class Flatten extends Layer {
  constructor(readonly startDim = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim);
  }
}

export class MaxPool2d extends Layer {
  constructor(readonly kernel: Pair, readonly stride: Pair = kernel, readonly padding: Pair = 0) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernel, { stride: this.stride, padding: this.padding });
  }
}

export class AvgPool2d extends Layer {
  constructor(readonly kernel: Pair, readonly stride: Pair = kernel, readonly padding: Pair = 0, readonly countIncludePad = true) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernel, { stride: this.stride, padding: this.padding, countIncludePad: this.countIncludePad });
  }
}

export class AdaptiveAvgPool2d extends Layer {
  constructor(readonly outputSize: Pair) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
}

export class Dropout extends Layer {
  constructor(readonly p = 0.5) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.training && this.p > 0 ? F.dropout(x, this.p, true) : x;
  }
}

/** Layers applied in order; children are named '0', '1', … as in PyTorch. */
export class Sequential extends Layer {
  readonly layers: Layer[];
  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.registerModule(String(i), l));
  }
  forward(x: Tensor): Tensor {
    let cur = x;
    for (const l of this.layers) cur = l.forward(cur);
    return cur;
  }
}
