/** Functional ops with PyTorch's names and defaults (torch.nn.functional). */
import { native } from './native.js';
import { Tensor } from './tensor.js';

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
