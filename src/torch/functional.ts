/** Functional ops with PyTorch's names and defaults (torch.nn.functional). */
import { native } from './native.js';
import { Tensor } from './tensor.js';
import { stack } from './functions.js';
import { ShapeError } from '../errors.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, o: Conv2dOptions = {}): Tensor {
  return new Tensor(
    native.conv2d(x.handle, weight.handle, bias ? bias.handle : null, pair(o.stride ?? 1), pair(o.padding ?? 0), pair(o.dilation ?? 1), o.groups ?? 1),
  );
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  groups?: number;
  dilation?: Pair;
}
/**
 * Transposed convolution (PyTorch's F.conv_transpose2d): weight [Cin, Cout/groups, kh, kw].
 * Output size per axis: (in − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1, so
 * kernel 4, stride 2, padding 1 (DispNet's / AutoDispNet's upsampling) exactly doubles H and W.
 * libtorch's autograd differentiates it to every order.
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, o: ConvTranspose2dOptions = {}): Tensor {
  return new Tensor(
    native.convTranspose2d(
      x.handle,
      weight.handle,
      bias ? bias.handle : null,
      pair(o.stride ?? 1),
      pair(o.padding ?? 0),
      pair(o.outputPadding ?? 0),
      o.groups ?? 1,
      pair(o.dilation ?? 1),
    ),
  );
}

/**
 * Bilinear resize of [N, C, H, W] to [N, C, size[0], size[1]] (F.interpolate(x, size, mode='bilinear',
 * align_corners)); with alignCorners false, output pixel i samples the input at (i + ½)·in/out − ½,
 * clamped at 0. Linear in x, so its derivatives of every order come from libtorch.
 */
export function upsampleBilinear2d(x: Tensor, size: [number, number], alignCorners = false): Tensor {
  return new Tensor(native.upsampleBilinear2d(x.handle, size, alignCorners));
}

/**
 * Leaky ReLU, max(x, 0) + slope·min(x, 0). The default slope 0.1 is DispNet's (Mayer et al.
 * 2016) and AutoDispNet's, not PyTorch's 0.01. Its second derivative is zero away from 0.
 */
export function leakyRelu(x: Tensor, slope = 0.1): Tensor {
  return new Tensor(native.leakyRelu(x.handle, slope));
}

/**
 * DispNet-C's horizontal correlation (Mayer et al., CVPR 2016, §3: the 1-D correlation layer;
 * AutoDispNet's Correlation1D with kernel size 1, stride 1, padding = maxDisplacement):
 * for a, b of shape [N, C, H, W] the output is [N, 2D+1, H, W] with
 *   out[n, k, y, x] = (1/C) Σ_c a[n, c, y, x] · b[n, c, y, x + δ],  δ = k − D,  k = 0..2D,
 * b taken as zero outside its width. The range is symmetric (−D..D) as in DispNet-C.
 * Sign convention: with a the left view's features and b the right view's, a left pixel x at
 * disparity d matches right pixel x − d, i.e. channel k = D − d; positive disparities live in
 * channels 0..D−1 (δ < 0) and channel D is δ = 0.
 * Built from pad, narrow, mul, mean and stack (one padded copy of b, then 2D+1 shifted products),
 * so gradients of every order w.r.t. a and b are libtorch's own.
 */
export function correlation1d(a: Tensor, b: Tensor, maxDisplacement: number): Tensor {
  const sa = a.shape;
  const sb = b.shape;
  if (sa.length !== 4 || sb.length !== 4 || sa.some((v, i) => v !== sb[i])) {
    throw new ShapeError(`correlation1d: a and b must both be [N, C, H, W] of one shape (got [${sa.join(', ')}] and [${sb.join(', ')}])`);
  }
  if (!Number.isInteger(maxDisplacement) || maxDisplacement < 0) {
    throw new ShapeError(`correlation1d: maxDisplacement must be a non-negative integer (got ${maxDisplacement})`);
  }
  const D = maxDisplacement;
  const W = sa[3]!;
  const padded = b.pad([D, D]); // [N, C, H, W + 2D]: padded[.., x + D] = b[.., x]
  const planes: Tensor[] = [];
  for (let k = 0; k <= 2 * D; k++) {
    const shifted = padded.narrow(3, k, W); // b[.., x + (k − D)]
    const prod = a.mul(shifted);
    planes.push(prod.mean(1));
    shifted.dispose();
    prod.dispose();
  }
  const out = stack(planes, 1);
  for (const p of planes) p.dispose();
  padded.dispose();
  return out;
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}
/** Batch norm over N,H,W per channel. In training mode the running stats (if given) are updated in place. */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, o: BatchNormOptions = {}): Tensor {
  return new Tensor(
    native.batchNorm(
      x.handle,
      o.weight ? o.weight.handle : null,
      o.bias ? o.bias.handle : null,
      runningMean ? runningMean.handle : null,
      runningVar ? runningVar.handle : null,
      o.training ?? false,
      o.momentum ?? 0.1,
      o.eps ?? 1e-5,
    ),
  );
}

export const relu = (x: Tensor): Tensor => x.relu();
export const tanh = (x: Tensor): Tensor => x.tanh();
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();

export interface PoolOptions {
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}
/**
 * Σ_k w[index[k]] · terms[k] (a mixed node's sum; docs/speed.md#weighted-sum): `terms` of one shape,
 * `w` 1-d, `index` one entry per term. With the addon's kernels on (setDepthwiseKernel('native')) one
 * pass forward and one backward, differentiable to any order; libtorch's mul and add otherwise.
 */
export function weightedSum(terms: Tensor[], w: Tensor, index: number[]): Tensor {
  return new Tensor(native.weightedSum(terms.map((t) => t.handle), w.handle, index));
}
export function maxPool2d(x: Tensor, kernel: Pair, o: PoolOptions & { dilation?: Pair } = {}): Tensor {
  return new Tensor(
    native.maxPool2d(x.handle, pair(kernel), pair(o.stride ?? kernel), pair(o.padding ?? 0), pair(o.dilation ?? 1), o.ceilMode ?? false),
  );
}
export function avgPool2d(x: Tensor, kernel: Pair, o: PoolOptions & { countIncludePad?: boolean } = {}): Tensor {
  return new Tensor(
    native.avgPool2d(x.handle, pair(kernel), pair(o.stride ?? kernel), pair(o.padding ?? 0), o.ceilMode ?? false, o.countIncludePad ?? true),
  );
}
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  return new Tensor(native.adaptiveAvgPool2d(x.handle, pair(outputSize)));
}
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return new Tensor(native.linear(x.handle, weight.handle, bias ? bias.handle : null));
}
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  return new Tensor(native.dropout(x.handle, p, training));
}
export function softmax(x: Tensor, dim: number): Tensor {
  return new Tensor(native.softmax(x.handle, dim));
}
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return new Tensor(native.logSoftmax(x.handle, dim));
}
/** Cross entropy of logits [N, C] against int64 class indices [N]. */
export function crossEntropy(logits: Tensor, target: Tensor, o: { reduction?: 'mean' | 'sum' | 'none'; labelSmoothing?: number } = {}): Tensor {
  return new Tensor(native.crossEntropy(logits.handle, target.handle, o.reduction ?? 'mean', o.labelSmoothing ?? 0));
}
export function embedding(weight: Tensor, indices: Tensor): Tensor {
  return new Tensor(native.embedding(weight.handle, indices.handle));
}
export function matmul(a: Tensor, b: Tensor): Tensor {
  return a.matmul(b);
}
