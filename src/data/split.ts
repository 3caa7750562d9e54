/**
 * Index sets: the search-phase train/val split and data subsets.
 */
import { DataError } from '../errors.js';
import type { Rng } from '../util/rng.js';

export interface TrainValSplit {
  /** Indices for the weight step (w-training split). */
  train: Int32Array;
  /** Indices for the architecture step (α-validation split). */
  val: Int32Array;
}

/**
 * Splits 0..n-1 in natural index order: the first floor(portion·n) indices train the
 * weights, the rest validate α (reference `train_portion`, default 0.5; CIFAR 25,000/25,000,
 * SVHN 36,628/36,629).
 */
export function trainValSplit(n: number, portion = 0.5): TrainValSplit {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`trainValSplit: n must be a non-negative integer, got ${n}`);
  if (!(portion > 0 && portion < 1)) {
    throw new DataError(`train portion must lie strictly between 0 and 1, got ${portion}`, 'set train_portion (e.g. 0.5) so both splits get images');
  }
  const k = Math.floor(portion * n);
  if (k === 0 || k === n) {
    throw new DataError(`train portion ${portion} of ${n} images leaves one split empty (${k}/${n - k})`, 'use more images or a portion closer to 0.5');
  }
  const train = new Int32Array(k);
  const val = new Int32Array(n - k);
  for (let i = 0; i < k; i++) train[i] = i;
  for (let i = k; i < n; i++) val[i - k] = i;
  return { train, val };
}

/** k distinct indices drawn uniformly from 0..n-1, returned in ascending order. */
export function subsetIndices(n: number, k: number, rng: Rng): Int32Array {
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`subsetIndices: k must be an integer in 0..${n}, got ${k}`);
  // partial Fisher–Yates over a scratch array: the first k positions are a uniform sample
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p.slice(0, k).sort();
}
