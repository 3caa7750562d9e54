/**
 * The in-memory form every dataset reader produces. The data layer knows nothing of
 * tensors: images are raw uint8 pixels in NCHW order, labels plain integers.
 */
import { createHash } from 'node:crypto';
import { DataError } from '../errors.js';

export type Split = 'train' | 'test';

export type DatasetName = 'cifar10' | 'cifar100' | 'svhn' | 'fashion-mnist' | 'synthetic';

export const DATASET_NAMES: readonly DatasetName[] = ['cifar10', 'cifar100', 'svhn', 'fashion-mnist', 'synthetic'];

/** Image channels, class count and image side per dataset (what a network built for it needs). */
export const DATASET_SHAPES: Record<DatasetName, { numClasses: number; inChannels: number; size: number }> = {
  cifar10: { numClasses: 10, inChannels: 3, size: 32 },
  cifar100: { numClasses: 100, inChannels: 3, size: 32 },
  svhn: { numClasses: 10, inChannels: 3, size: 32 },
  'fashion-mnist': { numClasses: 10, inChannels: 1, size: 28 },
  synthetic: { numClasses: 10, inChannels: 3, size: 32 },
};

export interface ImageDataset {
  name: string;
  split: Split;
  /** n·C·H·W bytes, NCHW order: pixel (c, h, w) of image i is at ((i·C + c)·H + h)·W + w. */
  images: Uint8Array;
  /** n labels in 0..numClasses-1. */
  labels: Int32Array;
  n: number;
  channels: number;
  height: number;
  width: number;
  numClasses: number;
  /** Per-channel mean for normalisation, in [0,1] pixel units. */
  mean: number[];
  /** Per-channel standard deviation for normalisation, in [0,1] pixel units. */
  std: number[];
}

/**
 * Normalisation constants (docs/data.md#normalisation; CIFAR-10/100 and SVHN taken from the
 * reference `utils.py`). Fashion-MNIST: mean/std of its training set (0.2860, 0.3530).
 * Synthetic: fixed 0.5 / 0.25.
 */
export const NORMALISATION: Record<DatasetName, { mean: number[]; std: number[] }> = {
  cifar10: { mean: [0.49139968, 0.48215827, 0.44653124], std: [0.24703233, 0.24348505, 0.26158768] },
  cifar100: { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] },
  svhn: { mean: [0.4377, 0.4438, 0.4728], std: [0.198, 0.201, 0.197] },
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  synthetic: { mean: [0.5], std: [0.25] },
};

/** Bytes per image. */
export function imageSize(ds: Pick<ImageDataset, 'channels' | 'height' | 'width'>): number {
  return ds.channels * ds.height * ds.width;
}

/** Checks the internal consistency of a dataset object (sizes, label range, constants). */
export function validateDataset(ds: ImageDataset): void {
  const where = `dataset ${ds.name} (${ds.split})`;
  const fix = 'this is a bug in the reader that built it, or the files are corrupt; re-extract the dataset';
  if (ds.images.length !== ds.n * imageSize(ds)) {
    throw new DataError(`${where}: ${ds.images.length} pixel bytes for ${ds.n} images of ${ds.channels}x${ds.height}x${ds.width}`, fix);
  }
  if (ds.labels.length !== ds.n) throw new DataError(`${where}: ${ds.labels.length} labels for ${ds.n} images`, fix);
  if (ds.mean.length !== ds.channels || ds.std.length !== ds.channels) {
    throw new DataError(`${where}: normalisation constants have ${ds.mean.length}/${ds.std.length} entries for ${ds.channels} channels`, fix);
  }
  for (let i = 0; i < ds.n; i++) {
    const y = ds.labels[i]!;
    if (y < 0 || y >= ds.numClasses) throw new DataError(`${where}: label ${y} of image ${i} is outside 0..${ds.numClasses - 1}`, fix);
  }
}

/** A new dataset holding copies of the given images, in the given order. */
export function selectImages(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const size = imageSize(ds);
  const images = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) throw new RangeError(`selectImages: index ${i} outside 0..${ds.n - 1}`);
    images.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = ds.labels[i]!;
  }
  return { ...ds, images, labels, n: indices.length, mean: [...ds.mean], std: [...ds.std] };
}

/** Class counts, length numClasses. */
export function classCounts(ds: ImageDataset): number[] {
  const c = new Array<number>(ds.numClasses).fill(0);
  for (let i = 0; i < ds.n; i++) c[ds.labels[i]!]!++;
  return c;
}

/**
 * A short content fingerprint (SHA-256 of shape, pixels and labels, first 16 hex digits),
 * recorded in config.json so a run states exactly which data it saw.
 */
export function datasetFingerprint(ds: ImageDataset): string {
  const h = createHash('sha256');
  h.update(`${ds.name}|${ds.split}|${ds.n}|${ds.channels}|${ds.height}|${ds.width}|${ds.numClasses}|`);
  h.update(ds.images);
  h.update(new Uint8Array(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength));
  return h.digest('hex').slice(0, 16);
}
