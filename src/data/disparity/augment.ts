/**
 * Stereo batches with augmentation of tunable strength s ≥ 0, for the search's inner-loop
 * regularisation study (RobustDARTS Table 2, "Aug." rows: increasing augmentation strength).
 *
 * The photometric family is FlowNet's (Dosovitskiy et al., ICCV 2015, §4 "data augmentation",
 * reused by DispNet, Mayer et al. 2016), at s = 1 with FlowNet's ranges and scaled by s:
 *   contrast   v ← (v − ½)·(1 + s·u) + ½,   u ~ U[−0.8, 0.4]        (factor floored at 0.05)
 *   colour     v_c ← v_c · exp(s·u_c),      u_c ~ U[ln 0.5, ln 2]     per channel
 *   brightness v ← v + b,                   b ~ N(0, (0.2 s)²)
 *   clamp to [0, 1]; gamma v ← v^exp(s·u),  u ~ U[ln 0.7, ln 1.5]
 *   noise      v ← v + σ·ε,                 σ ~ U[0, 0.04 s], ε ~ N(0, 1) independent per pixel and view
 *   clamp to [0, 1].
 * One draw of contrast, colour, brightness, gamma and σ per pair, applied to both views (so the
 * views still match); the noise ε is drawn independently for each view. With s > 0 the crop
 * window is placed at random (the same window for both views, and for the disparity); with s = 0
 * it is centred. No horizontal flip: mirroring turns left-view disparity into the other sign.
 * The FlowNet geometric augmentations (rotation, scaling, translation between views) are not
 * used: they would change the disparity; a crop keeps it exact.
 */
import { ConfigError } from '../../errors.js';
import type { Rng } from '../../util/rng.js';
import type { StereoDataset } from './stereo.js';

export interface StereoBatchOptions {
  /** Crop [h, w] (default the full frame). */
  crop?: [number, number];
  /** Augmentation strength s ≥ 0 (default 0: the stored pixels). */
  augment?: number;
}

export interface StereoBatch {
  /** [B, 6, h, w]: left RGB then right RGB. */
  x: Float32Array;
  /** [B, 1, h, w]: left-view disparity in pixels, NaN unknown. */
  y: Float32Array;
  shape: [number, number, number, number];
}

/** The per-pair photometric parameters (exported for tests and logs). */
export interface PhotometricParams {
  contrast: number;
  colour: [number, number, number];
  brightness: number;
  gamma: number;
  noiseSigma: number;
}

export function drawPhotometric(s: number, rng: Rng): PhotometricParams {
  const u = (lo: number, hi: number): number => lo + (hi - lo) * rng.random();
  const contrast = Math.max(0.05, 1 + s * u(-0.8, 0.4));
  const colour: [number, number, number] = [0, 1, 2].map(() => Math.exp(s * u(Math.log(0.5), Math.log(2)))) as [number, number, number];
  const brightness = 0.2 * s * rng.normal();
  const gamma = Math.exp(s * u(Math.log(0.7), Math.log(1.5)));
  const noiseSigma = u(0, 0.04 * s);
  return { contrast, colour, brightness, gamma, noiseSigma };
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/**
 * A batch of pairs `indices` (any order, repeats allowed). Deterministic given the rng's state;
 * s = 0 draws nothing from the rng and, without a crop, copies the stored values exactly.
 */
export function stereoBatch(ds: StereoDataset, indices: ArrayLike<number>, o: StereoBatchOptions, rng: Rng): StereoBatch {
  const s = o.augment ?? 0;
  if (!(s >= 0) || !Number.isFinite(s)) throw new ConfigError(`stereoBatch: augmentation strength must be a finite number ≥ 0, got ${s}`, 'pass augment s ≥ 0 (0 = none)');
  const H = ds.height;
  const W = ds.width;
  const [h, w] = o.crop ?? [H, W];
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1 || h > H || w > W) {
    throw new ConfigError(`stereoBatch: crop ${h}×${w} does not fit the ${H}×${W} frames`, `use a crop [h, w] with 1 ≤ h ≤ ${H}, 1 ≤ w ≤ ${W}`);
  }
  const B = indices.length;
  const P = H * W;
  const p = h * w;
  const x = new Float32Array(B * 6 * p);
  const y = new Float32Array(B * p);
  for (let b = 0; b < B; b++) {
    const i = indices[b]!;
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) throw new RangeError(`stereoBatch: index ${i} outside 0..${ds.n - 1}`);
    let y0 = Math.floor((H - h) / 2);
    let x0 = Math.floor((W - w) / 2);
    if (s > 0) {
      y0 = rng.int(H - h + 1);
      x0 = rng.int(W - w + 1);
    }
    const ph = s > 0 ? drawPhotometric(s, rng) : undefined;
    for (let r = 0; r < h; r++) y.set(ds.disparity.subarray(i * P + (y0 + r) * W + x0, i * P + (y0 + r) * W + x0 + w), b * p + r * w);
    for (let view = 0; view < 2; view++) {
      const src = view === 0 ? ds.left : ds.right;
      for (let c = 0; c < 3; c++) {
        const dst = (b * 6 + view * 3 + c) * p;
        const base = (i * 3 + c) * P;
        for (let r = 0; r < h; r++) {
          const row = base + (y0 + r) * W + x0;
          if (!ph) {
            x.set(src.subarray(row, row + w), dst + r * w);
            continue;
          }
          for (let q = 0; q < w; q++) {
            let v = src[row + q]!;
            v = ((v - 0.5) * ph.contrast + 0.5) * ph.colour[c]! + ph.brightness;
            v = Math.pow(clamp01(v), ph.gamma);
            if (ph.noiseSigma > 0) v += ph.noiseSigma * rng.normal();
            x[dst + r * w + q] = clamp01(v);
          }
        }
      }
    }
  }
  return { x, y, shape: [B, 6, h, w] };
}
