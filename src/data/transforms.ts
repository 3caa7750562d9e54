/**
 * Batch assembly with the reference augmentations (docs/data.md#augmentation), on plain arrays:
 *
 *   train: RandomCrop(H, padding 4, zero fill) → RandomHorizontalFlip(0.5) → to [0,1]
 *          → Normalize(mean, std) → optional Cutout(length, prob)
 *   test:  to [0,1] → Normalize(mean, std)
 *
 * As in torchvision, padding is added to the raw image (value 0), so padded pixels come out
 * as (0 − mean)/std after normalisation; Cutout runs after normalisation and writes exact
 * zeros. Normalised values are computed with float32 rounding at every step (x/255, −mean,
 * /std), which is what PyTorch's ToTensor + Normalize produce.
 *
 * Random draws per image, in this order (from the caller's Rng): crop row offset, crop
 * column offset, flip (augment only); cutout apply?, centre row, centre column (cutout only).
 */
import { DataError } from '../errors.js';
import type { Rng } from '../util/rng.js';
import type { ImageDataset } from './dataset.js';

export interface CutoutOptions {
  /** Side of the square (reference: 16). The square is [y − ⌊L/2⌋, y + ⌊L/2⌋) × [x − ⌊L/2⌋, x + ⌊L/2⌋). */
  length: number;
  /** Probability of applying it to an image. */
  prob: number;
}

export interface BatchOptions {
  /** Random crop with padding and horizontal flip. */
  augment: boolean;
  /** Applied whenever given (the caller passes it for the training transform only). */
  cutout?: CutoutOptions;
  /** Crop padding in pixels (default 4). */
  padding?: number;
}

export interface ArrayBatch {
  /** Normalised pixels, NCHW float32. */
  x: Float32Array;
  y: Int32Array;
  shape: [number, number, number, number];
}

/** The augmentation drawn for one image. */
export interface AugmentParams {
  /** Output pixel (h, w) reads source row h + dy (before the flip)… */
  dy: number;
  /** …and source column w + dx, or W − 1 − w + dx when flipped. */
  dx: number;
  flip: boolean;
  /** Cutout centre, or null when not applied. */
  cutout: { y: number; x: number } | null;
}

/** Float32 lookup table: value (c, v) at c·256 + v is ((v/255) − mean_c) / std_c in float32 arithmetic. */
export function normalisationTable(mean: readonly number[], std: readonly number[]): Float32Array {
  if (mean.length !== std.length) throw new DataError(`normalisation: ${mean.length} means but ${std.length} stds`, 'give one mean and one std per channel');
  const lut = new Float32Array(mean.length * 256);
  for (let c = 0; c < mean.length; c++) {
    const m = Math.fround(mean[c]!);
    const s = Math.fround(std[c]!);
    if (!(s > 0)) throw new DataError(`normalisation: std of channel ${c} is ${std[c]}`, 'stds must be positive');
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = Math.fround(Math.fround(Math.fround(v / 255) - m) / s);
  }
  return lut;
}

function checkCutout(c: CutoutOptions | undefined): void {
  if (!c) return;
  if (!Number.isInteger(c.length) || c.length < 1) throw new DataError(`cutout length must be a positive integer, got ${c.length}`, 'set cutout_length (reference: 16)');
  if (!(c.prob >= 0 && c.prob <= 1)) throw new DataError(`cutout probability must lie in [0, 1], got ${c.prob}`, 'set cutout_prob between 0 and 1');
}

/** Draws one image's augmentation (see the module comment for the draw order). */
export function drawAugment(rng: Rng, height: number, width: number, opts: BatchOptions): AugmentParams {
  const pad = opts.padding ?? 4;
  let dy = 0;
  let dx = 0;
  let flip = false;
  if (opts.augment) {
    dy = rng.int(2 * pad + 1) - pad;
    dx = rng.int(2 * pad + 1) - pad;
    flip = rng.random() < 0.5;
  }
  let cutout: AugmentParams['cutout'] = null;
  if (opts.cutout && opts.cutout.prob > 0 && rng.random() < opts.cutout.prob) {
    const y = rng.int(height);
    const x = rng.int(width);
    cutout = { y, x };
  }
  return { dy, dx, flip, cutout };
}

/**
 * Writes image `i` of `ds`, transformed by `p`, normalised through `lut`, into `out` at `outOff`.
 */
export function renderImage(ds: ImageDataset, i: number, p: AugmentParams, lut: Float32Array, out: Float32Array, outOff: number, cutoutLength = 0): void {
  const { channels: C, height: H, width: W } = ds;
  const src = ds.images;
  for (let c = 0; c < C; c++) {
    const l = c * 256;
    const padVal = lut[l]!; // raw 0
    const sBase = (i * C + c) * H * W;
    const oBase = outOff + c * H * W;
    for (let h = 0; h < H; h++) {
      const sh = h + p.dy;
      const o = oBase + h * W;
      if (sh < 0 || sh >= H) {
        out.fill(padVal, o, o + W);
        continue;
      }
      const row = sBase + sh * W;
      if (!p.flip && p.dx === 0) {
        for (let w = 0; w < W; w++) out[o + w] = lut[l + src[row + w]!]!;
      } else {
        for (let w = 0; w < W; w++) {
          const sw = (p.flip ? W - 1 - w : w) + p.dx;
          out[o + w] = sw < 0 || sw >= W ? padVal : lut[l + src[row + sw]!]!;
        }
      }
    }
  }
  if (p.cutout && cutoutLength > 0) {
    const half = Math.floor(cutoutLength / 2);
    const y0 = Math.max(0, p.cutout.y - half);
    const y1 = Math.min(H, p.cutout.y + half);
    const x0 = Math.max(0, p.cutout.x - half);
    const x1 = Math.min(W, p.cutout.x + half);
    for (let c = 0; c < C; c++) {
      for (let h = y0; h < y1; h++) {
        const o = outOff + (c * H + h) * W;
        out.fill(0, o + x0, o + x1);
      }
    }
  }
}

/**
 * Assembles a normalised float32 NCHW batch of the given images, augmented when asked.
 * Grayscale (1 channel) and non-square images work the same way.
 */
export function makeBatch(ds: ImageDataset, indices: Int32Array | readonly number[], opts: BatchOptions, rng: Rng): ArrayBatch {
  checkCutout(opts.cutout);
  const pad = opts.padding ?? 4;
  if (!Number.isInteger(pad) || pad < 0) throw new DataError(`crop padding must be a non-negative integer, got ${pad}`, 'use padding 4 (reference)');
  const { channels: C, height: H, width: W } = ds;
  const size = C * H * W;
  const n = indices.length;
  const x = new Float32Array(n * size);
  const y = new Int32Array(n);
  const lut = normalisationTable(ds.mean, ds.std);
  if (ds.mean.length !== C) throw new DataError(`dataset ${ds.name}: ${ds.mean.length} normalisation means for ${C} channels`, 'give one mean and std per channel');
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) throw new RangeError(`makeBatch: index ${i} outside 0..${ds.n - 1} of ${ds.name} (${ds.split})`);
    const p = drawAugment(rng, H, W, opts);
    renderImage(ds, i, p, lut, x, k * size, opts.cutout?.length ?? 0);
    y[k] = ds.labels[i]!;
  }
  return { x, y, shape: [n, C, H, W] };
}
