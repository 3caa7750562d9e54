/**
 * A synthetic image dataset for tests and smoke runs. Each class has its own brightness
 * offset per (channel, top/bottom half) drawn from the seed; an image is mid-grey plus its
 * class's offsets plus Gaussian pixel noise. The pattern survives 4-pixel crops and
 * horizontal flips, so a tiny network learns it in a few steps (per-channel means alone
 * separate the classes when there are enough channels; the half pattern helps with one).
 */
import { Rng } from '../util/rng.js';
import { NORMALISATION, type ImageDataset, type Split } from './dataset.js';

export interface SyntheticOptions {
  n: number;
  channels?: number;
  height?: number;
  width?: number;
  numClasses?: number;
  seed?: number;
  split?: Split;
  /** Standard deviation of the pixel noise, in 0..255 units (default 24). */
  noise?: number;
  /** Largest class offset, in 0..255 units (default 60). */
  amplitude?: number;
}

export function syntheticDataset(opts: SyntheticOptions): ImageDataset {
  const { n, channels = 3, height = 32, width = 32, numClasses = 10, seed = 0, split = 'train', noise = 24, amplitude = 60 } = opts;
  for (const [k, v] of Object.entries({ n, channels, height, width, numClasses })) {
    if (!Number.isInteger(v) || v < (k === 'n' ? 0 : 1)) throw new RangeError(`syntheticDataset: ${k} must be a positive integer, got ${v}`);
  }
  // The class patterns depend only on the seed, not on the split, so train and test agree.
  const patternRng = new Rng(seed);
  const offsets = new Float64Array(numClasses * channels * 2);
  for (let i = 0; i < offsets.length; i++) offsets[i] = (2 * patternRng.random() - 1) * amplitude;
  const rng = new Rng((seed ^ (split === 'train' ? 0x5eed0001 : 0x5eed0002)) >>> 0);
  const images = new Uint8Array(n * channels * height * width);
  const labels = new Int32Array(n);
  const half = height >> 1;
  let p = 0;
  for (let i = 0; i < n; i++) {
    const y = rng.int(numClasses);
    labels[i] = y;
    for (let c = 0; c < channels; c++) {
      for (let h = 0; h < height; h++) {
        const base = 128 + offsets[(y * channels + c) * 2 + (h < half ? 0 : 1)]!;
        for (let w = 0; w < width; w++) {
          const v = Math.round(base + noise * rng.normal());
          images[p++] = v < 0 ? 0 : v > 255 ? 255 : v;
        }
      }
    }
  }
  const norm = NORMALISATION.synthetic;
  return {
    name: 'synthetic',
    split,
    images,
    labels,
    n,
    channels,
    height,
    width,
    numClasses,
    mean: new Array<number>(channels).fill(norm.mean[0]!),
    std: new Array<number>(channels).fill(norm.std[0]!),
  };
}
