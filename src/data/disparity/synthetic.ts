/**
 * Procedurally generated stereo pairs with exact disparity — a SYNTHETIC STAND-IN for
 * FlyingThings3D (Mayer et al., CVPR 2016), not FlyingThings3D: no 3-D models, no lighting, no
 * perspective; it only shares the idea of textured objects "flying" at random depths in front
 * of a textured background, so that a search can run without any download.
 *
 * Each pair is a stack of fronto-parallel layers, painted back to front:
 *  - a background plane covering everything, at a small integer disparity d₀;
 *  - `shapes` textured shapes (rotated rectangles, rotated ellipses, convex polygons), each at
 *    its own constant integer disparity d ∈ [d₀ + 1, maxDisparity], positions allowed to leave the
 *    frame. Layers are sorted by disparity, so nearer (larger d) shapes occlude farther ones.
 * A layer's geometry and texture are continuous functions of the LEFT-view coordinates (x, y)
 * (pixel centres at integer coordinates). The left view shows, at (x, y), the topmost layer that
 * contains (x, y), coloured T(x, y); the right view shows, at (x_r, y), the topmost layer k that
 * contains (x_r + d_k, y), coloured T_k(x_r + d_k, y) — each layer shifted left by its disparity.
 * Disparities are integers, so for every left pixel whose point is visible in the right view,
 * right(x − d, y) = left(x, y) holds exactly (same function, same arguments).
 *
 * Textures: a base colour, three oriented sinusoids with per-channel amplitudes, and two octaves
 * of smooth value noise from a per-layer integer hash (seeded from the Rng), clamped to [0, 1];
 * rich enough for matching at every pixel.
 *
 * Occlusions: by default the disparity keeps its true value everywhere (as FlyingThings3D's
 * dense ground truth does); `occluded` marks left pixels whose point is hidden by a nearer layer
 * in the right view or falls outside it (x − d < 0). With `occludedNaN` those pixels get NaN.
 */
import { Rng } from '../../util/rng.js';
import { finiteMax, type StereoDataset } from './stereo.js';

export interface SyntheticStereoOptions {
  n: number;
  height: number;
  width: number;
  seed: number;
  /** Largest shape disparity in pixels (integer ≥ 2; default max(2, round(width / 8))). */
  maxDisparity?: number;
  /** Shapes per pair (default 8). */
  shapes?: number;
  /** Set the disparity of occluded / out-of-frame left pixels to NaN (default false: keep the true value). */
  occludedNaN?: boolean;
}

export interface SyntheticStereo extends StereoDataset {
  /** [n, H, W]: 1 where the left pixel's point is not visible in the right view (occluded or out of frame). */
  readonly occluded: Uint8Array;
}

interface Wave {
  fx: number;
  fy: number;
  phase: number;
  amp: [number, number, number];
}

interface Texture {
  base: [number, number, number];
  waves: Wave[];
  noiseSeed: number;
  cell: number;
  noiseAmp: [number, number, number];
}

interface Layer {
  d: number;
  inside: (x: number, y: number) => boolean;
  tex: Texture;
}

/** Integer hash of a lattice point → [0, 1). */
function hash01(ix: number, iy: number, seed: number): number {
  let h = (Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1) ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0;
  return ((h ^ (h >>> 15)) >>> 0) / 4294967296;
}

/** Smooth value noise in [0, 1): lattice values blended with smoothstep weights. */
function valueNoise(x: number, y: number, seed: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = x - ix;
  const fy = y - iy;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = hash01(ix, iy, seed);
  const b = hash01(ix + 1, iy, seed);
  const c = hash01(ix, iy + 1, seed);
  const d = hash01(ix + 1, iy + 1, seed);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

/** The texture's three channels at (x, y), written to out[0..2]. */
function texture(t: Texture, x: number, y: number, out: Float64Array): void {
  let r = t.base[0];
  let g = t.base[1];
  let b = t.base[2];
  for (const w of t.waves) {
    const s = Math.sin(2 * Math.PI * (w.fx * x + w.fy * y) + w.phase);
    r += w.amp[0] * s;
    g += w.amp[1] * s;
    b += w.amp[2] * s;
  }
  const u = x / t.cell;
  const v = y / t.cell;
  for (let c = 0; c < 3; c++) {
    const n = 0.65 * valueNoise(u, v, (t.noiseSeed + c * 0x9e3779b9) >>> 0) + 0.35 * valueNoise(x / 1.5, y / 1.5, (t.noiseSeed ^ 0x5bd1e995 ^ (c * 7919)) >>> 0);
    const val = (c === 0 ? r : c === 1 ? g : b) + t.noiseAmp[c]! * (n - 0.5);
    out[c] = val < 0 ? 0 : val > 1 ? 1 : val;
  }
}

function randomTexture(rng: Rng): Texture {
  const rgb = (lo: number, hi: number): [number, number, number] => [lo + (hi - lo) * rng.random(), lo + (hi - lo) * rng.random(), lo + (hi - lo) * rng.random()];
  const waves: Wave[] = [];
  for (let k = 0; k < 3; k++) {
    const f = 0.04 + 0.26 * rng.random(); // cycles per pixel
    const th = Math.PI * rng.random();
    waves.push({ fx: f * Math.cos(th), fy: f * Math.sin(th), phase: 2 * Math.PI * rng.random(), amp: rgb(0.04, 0.16) });
  }
  return { base: rgb(0.25, 0.75), waves, noiseSeed: rng.nextU32(), cell: 2 + 4 * rng.random(), noiseAmp: rgb(0.3, 0.6) };
}

function randomShape(rng: Rng, H: number, W: number): (x: number, y: number) => boolean {
  const m = Math.min(H, W);
  const cx = -0.1 * W + 1.2 * W * rng.random();
  const cy = -0.1 * H + 1.2 * H * rng.random();
  const r = (0.1 + 0.3 * rng.random()) * m;
  const th = Math.PI * rng.random();
  const cos = Math.cos(th);
  const sin = Math.sin(th);
  const kind = rng.int(3);
  if (kind === 0 || kind === 1) {
    const a = r;
    const b = r * (0.4 + 0.6 * rng.random());
    if (kind === 0) {
      return (x, y) => {
        const u = (x - cx) * cos + (y - cy) * sin;
        const v = -(x - cx) * sin + (y - cy) * cos;
        return Math.abs(u) <= a && Math.abs(v) <= b;
      };
    }
    return (x, y) => {
      const u = ((x - cx) * cos + (y - cy) * sin) / a;
      const v = (-(x - cx) * sin + (y - cy) * cos) / b;
      return u * u + v * v <= 1;
    };
  }
  // convex polygon: k vertices on a circle, angular gaps < π, counter-clockwise in (x, y)
  const k = 3 + rng.int(4);
  const vx: number[] = [];
  const vy: number[] = [];
  for (let i = 0; i < k; i++) {
    const t = th + ((i + 0.8 * (rng.random() - 0.5)) * 2 * Math.PI) / k;
    vx.push(cx + r * Math.cos(t));
    vy.push(cy + r * Math.sin(t));
  }
  return (x, y) => {
    for (let i = 0; i < k; i++) {
      const j = (i + 1) % k;
      if ((vx[j]! - vx[i]!) * (y - vy[i]!) - (vy[j]! - vy[i]!) * (x - vx[i]!) < 0) return false;
    }
    return true;
  };
}

/** The layers of one pair, sorted back to front (by disparity, ties in drawing order). */
function randomScene(rng: Rng, H: number, W: number, maxD: number, shapes: number): Layer[] {
  const d0 = rng.int(Math.max(1, Math.floor(0.15 * maxD)) + 1);
  const layers: Layer[] = [{ d: d0, inside: () => true, tex: randomTexture(rng) }];
  for (let s = 0; s < shapes; s++) {
    const d = d0 + 1 + rng.int(maxD - d0);
    const inside = randomShape(rng, H, W);
    layers.push({ d, inside, tex: randomTexture(rng) });
  }
  return layers.map((l, i) => ({ l, i })).sort((a, b) => a.l.d - b.l.d || a.i - b.i).map((e) => e.l);
}

/** Procedural stereo pairs with exact integer disparity (see the file header); deterministic in `seed`. */
export function generateSyntheticStereo(o: SyntheticStereoOptions): SyntheticStereo {
  const { n, height: H, width: W, seed } = o;
  for (const [k, v] of [['n', n], ['height', H], ['width', W]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`generateSyntheticStereo: ${k} must be a positive integer, got ${v}`);
  }
  const maxD = o.maxDisparity ?? Math.max(2, Math.round(W / 8));
  if (!Number.isInteger(maxD) || maxD < 2) throw new RangeError(`generateSyntheticStereo: maxDisparity must be an integer ≥ 2, got ${maxD}`);
  const shapes = o.shapes ?? 8;
  if (!Number.isInteger(shapes) || shapes < 0) throw new RangeError(`generateSyntheticStereo: shapes must be a non-negative integer, got ${shapes}`);
  const master = new Rng(seed);
  const plane = H * W;
  const left = new Float32Array(n * 3 * plane);
  const right = new Float32Array(n * 3 * plane);
  const disparity = new Float32Array(n * plane);
  const occluded = new Uint8Array(n * plane);
  const layerL = new Int32Array(plane);
  const layerR = new Int32Array(plane);
  const rgbL = new Float64Array(3);
  const rgbR = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    // one seed per pair: pair i does not depend on n
    const rng = new Rng(master.nextU32());
    const layers = randomScene(rng, H, W, maxD, shapes);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let kl = 0;
        let kr = 0;
        for (let k = 1; k < layers.length; k++) {
          const L = layers[k]!;
          if (L.inside(x, y)) kl = k;
          if (L.inside(x + L.d, y)) kr = k;
        }
        layerL[y * W + x] = kl;
        layerR[y * W + x] = kr;
      }
    }
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = y * W + x;
        const Ll = layers[layerL[p]!]!;
        const Lr = layers[layerR[p]!]!;
        texture(Ll.tex, x, y, rgbL);
        texture(Lr.tex, x + Lr.d, y, rgbR);
        for (let c = 0; c < 3; c++) {
          left[(i * 3 + c) * plane + p] = rgbL[c]!;
          right[(i * 3 + c) * plane + p] = rgbR[c]!;
        }
        const xs = x - Ll.d;
        const occ = xs < 0 || layerR[y * W + xs] !== layerL[p];
        occluded[i * plane + p] = occ ? 1 : 0;
        disparity[i * plane + p] = occ && o.occludedNaN ? NaN : Ll.d;
      }
    }
  }
  return {
    name: 'synthetic-stereo',
    n,
    height: H,
    width: W,
    left,
    right,
    disparity,
    occluded,
    maxDisparity: finiteMax(disparity),
    source: `generated: seed ${seed}, ${n}×${H}×${W}, maxDisparity ${maxD}, shapes ${shapes}${o.occludedNaN ? ', occluded = NaN' : ''} (synthetic stand-in, not FlyingThings3D)`,
  };
}
