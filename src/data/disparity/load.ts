/**
 * loadStereo: one entry point for the stereo sets — the synthetic stand-in (no files), the
 * FlyingThings3D scene-flow release and MPI Sintel stereo — into a StereoDataset, with integer
 * downscaling and a centre crop so that real 960×540 / 1024×436 frames fit in memory.
 */
import { resolve } from 'node:path';
import { ConfigError, DataError } from '../../errors.js';
import { readEnv } from '../../util/env.js';
import { centreCropFrame, decodeSintelDisparity, downscaleFrame, pngToRgb, readPngFile, type StereoFrame } from './frames.js';
import { flyingThingsFrames, sintelFrames, type StereoFiles } from './layouts.js';
import { readPfm } from './pfm.js';
import { finiteMax, type StereoDataset } from './stereo.js';
import { generateSyntheticStereo, type SyntheticStereoOptions } from './synthetic.js';

export type StereoKind = 'synthetic' | 'flyingthings3d' | 'sintel';

export interface LoadStereoOptions {
  kind: StereoKind;
  /** Dataset folder (default RDARTS_DATA_DIR, else ./data); the readers also look one level down (FlyingThings3D/, MPI-Sintel-stereo-training-20150305/, …). */
  root?: string;
  /** Default 'train'. Sintel: ignored (its stereo ground truth is the training set). Synthetic: 'test' uses another seed. */
  split?: 'train' | 'test';
  /** At most this many frames, evenly spaced over the sorted frame list (synthetic: the number of pairs). */
  limit?: number;
  /** Centre crop [h, w] after downscaling. */
  crop?: [number, number];
  /** Integer factor: f×f block means; disparity divided by f. Default 1. */
  downscale?: number;
  /** FlyingThings3D 'cleanpass' | 'finalpass', Sintel 'clean' | 'final' (default the clean pass). */
  pass?: 'cleanpass' | 'finalpass' | 'clean' | 'final';
  /** FlyingThings3D: a list file of relative paths instead of the whole split (see layouts.ts). */
  list?: string;
  /** Sintel: NaN disparity where training/outofframe marks the pixel (default true; the Sintel evaluation ignores them). */
  maskOutOfFrame?: boolean;
  /** Synthetic generator settings (defaults: n = limit ?? 64, 64×128, seed 0); split 'test' adds 1,000,003 to the seed. */
  synthetic?: Partial<SyntheticStereoOptions>;
}

/** Seed offset of the synthetic test split. */
export const SYNTHETIC_TEST_SEED_OFFSET = 1_000_003;

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 1) throw new ConfigError(`loadStereo: ${name} must be a positive integer, got ${x}`, `pass ${name} ≥ 1`);
  return x;
}

function evenlySpaced<T>(items: T[], limit: number | undefined): T[] {
  if (limit === undefined || limit >= items.length) return items;
  const out: T[] = [];
  for (let j = 0; j < limit; j++) out.push(items[Math.floor((j * items.length) / limit)]!);
  return out;
}

function readFrame(kind: 'flyingthings3d' | 'sintel', f: StereoFiles, maskOutOfFrame: boolean): StereoFrame {
  const L = readPngFile(f.left);
  const R = readPngFile(f.right);
  let disparity: Float32Array;
  let dw: number;
  let dh: number;
  if (kind === 'flyingthings3d') {
    const p = readPfm(f.disparity);
    if (p.channels !== 1) throw new DataError(`${f.disparity}: a FlyingThings3D disparity is a one-channel PFM ('Pf'), this one has ${p.channels}`, 'use the files of disparity/ from the scene-flow release');
    disparity = p.data;
    dw = p.width;
    dh = p.height;
    for (let i = 0; i < disparity.length; i++) if (!Number.isFinite(disparity[i]!)) disparity[i] = NaN;
  } else {
    const d = readPngFile(f.disparity);
    disparity = decodeSintelDisparity(d, f.disparity);
    dw = d.width;
    dh = d.height;
    if (maskOutOfFrame && f.mask) {
      const m = readPngFile(f.mask);
      if (m.width !== dw || m.height !== dh) throw new DataError(`${f.mask}: mask is ${m.width}×${m.height}, disparity ${dw}×${dh}`, 'the files belong to different frames');
      for (let p = 0; p < dw * dh; p++) if (m.data[p * m.channels]! !== 0) disparity[p] = NaN;
    }
  }
  for (const [img, path] of [[R, f.right], [{ width: dw, height: dh }, f.disparity]] as const) {
    if (img.width !== L.width || img.height !== L.height) {
      throw new DataError(`${path}: ${img.width}×${img.height}, but the left image ${f.left} is ${L.width}×${L.height}`, 'the three files of a frame must have one size');
    }
  }
  return { height: L.height, width: L.width, left: pngToRgb(L), right: pngToRgb(R), disparity };
}

/** Assemble frames (already downscaled and cropped to one size) into a dataset. */
function assemble(name: string, source: string, frames: Iterable<StereoFrame>, n: number): StereoDataset {
  let left: Float32Array | undefined;
  let right: Float32Array | undefined;
  let disparity: Float32Array | undefined;
  let H = 0;
  let W = 0;
  let i = 0;
  for (const fr of frames) {
    if (!left) {
      H = fr.height;
      W = fr.width;
      left = new Float32Array(n * 3 * H * W);
      right = new Float32Array(n * 3 * H * W);
      disparity = new Float32Array(n * H * W);
    } else if (fr.height !== H || fr.width !== W) {
      throw new DataError(`${name}: frame ${i} is ${fr.width}×${fr.height}, the first is ${W}×${H}`, 'pass crop [h, w] to bring the frames to one size');
    }
    left.set(fr.left, i * 3 * H * W);
    right!.set(fr.right, i * 3 * H * W);
    disparity!.set(fr.disparity, i * H * W);
    i++;
  }
  if (!left || i !== n) throw new DataError(`${name}: ${i} frames read, expected ${n}`, 'check the dataset folder');
  return { name, n, height: H, width: W, left, right: right!, disparity: disparity!, maxDisparity: finiteMax(disparity!), source };
}

function transform(fr: StereoFrame, f: number, crop: [number, number] | undefined, where: string): StereoFrame {
  const d = downscaleFrame(fr, f);
  if (!crop) return d;
  const [h, w] = crop;
  if (h > d.height || w > d.width) {
    throw new ConfigError(`loadStereo: crop ${h}×${w} is larger than the ${f > 1 ? `downscaled (÷${f}) ` : ''}frame ${d.height}×${d.width} of ${where}`, 'use a smaller crop or a smaller downscale factor');
  }
  return centreCropFrame(d, h, w);
}

/** Loads a stereo set; a missing folder or file throws a DataError naming what was expected and where it comes from. */
export function loadStereo(o: LoadStereoOptions): StereoDataset {
  const split = o.split ?? 'train';
  const f = positiveInt('downscale', o.downscale, 1);
  if (o.limit !== undefined) positiveInt('limit', o.limit, 1);
  if (o.crop) {
    if (o.crop.length !== 2) throw new ConfigError(`loadStereo: crop must be [h, w], got ${JSON.stringify(o.crop)}`, 'pass crop [h, w]');
    positiveInt('crop height', o.crop[0], 1);
    positiveInt('crop width', o.crop[1], 1);
  }
  if (o.kind === 'synthetic') {
    const s = o.synthetic ?? {};
    const seed = (s.seed ?? 0) + (split === 'test' ? SYNTHETIC_TEST_SEED_OFFSET : 0);
    const g = generateSyntheticStereo({ ...s, n: o.limit ?? s.n ?? 64, height: s.height ?? 64, width: s.width ?? 128, seed });
    if (f === 1 && !o.crop) return g;
    const frames = function* (): Generator<StereoFrame> {
      const P = g.height * g.width;
      for (let i = 0; i < g.n; i++) {
        const fr = { height: g.height, width: g.width, left: g.left.subarray(i * 3 * P, (i + 1) * 3 * P), right: g.right.subarray(i * 3 * P, (i + 1) * 3 * P), disparity: g.disparity.subarray(i * P, (i + 1) * P) };
        yield transform(fr, f, o.crop, `pair ${i}`);
      }
    };
    return assemble(g.name, `${g.source}; downscale ${f}${o.crop ? `, crop ${o.crop[0]}×${o.crop[1]}` : ''}`, frames(), g.n);
  }
  if (o.kind !== 'flyingthings3d' && o.kind !== 'sintel') {
    throw new ConfigError(`loadStereo: unknown kind "${String(o.kind)}"`, "use 'synthetic', 'flyingthings3d' or 'sintel'");
  }
  const root = resolve(o.root ?? readEnv().dataDir ?? 'data');
  let files: StereoFiles[];
  if (o.kind === 'flyingthings3d') {
    const pass = o.pass ?? 'cleanpass';
    if (pass !== 'cleanpass' && pass !== 'finalpass') throw new ConfigError(`loadStereo: FlyingThings3D pass "${pass}"`, "use 'cleanpass' or 'finalpass'");
    files = flyingThingsFrames(root, { split, pass, ...(o.list !== undefined ? { list: o.list } : {}) });
  } else {
    const pass = o.pass ?? 'clean';
    if (pass !== 'clean' && pass !== 'final') throw new ConfigError(`loadStereo: Sintel pass "${pass}"`, "use 'clean' or 'final'");
    files = sintelFrames(root, { pass });
  }
  const chosen = evenlySpaced(files, o.limit);
  const mask = o.maskOutOfFrame ?? true;
  const frames = function* (): Generator<StereoFrame> {
    for (const fl of chosen) yield transform(readFrame(o.kind as 'flyingthings3d' | 'sintel', fl, mask), f, o.crop, fl.left);
  };
  const name = o.kind;
  const source = `${root} (${o.kind}${o.kind === 'flyingthings3d' ? ` ${split}` : ''}, ${chosen.length} of ${files.length} frames; downscale ${f}${o.crop ? `, crop ${o.crop[0]}×${o.crop[1]}` : ''})`;
  return assemble(name, source, frames(), chosen.length);
}
