/**
 * Per-frame helpers shared by the stereo readers: a PNG image as planar RGB floats, the MPI
 * Sintel disparity PNG encoding, integer downscaling and centre cropping of frames.
 */
import { readFileSync } from 'node:fs';
import { DataError } from '../../errors.js';
import { decodePng, type PngImage } from './png.js';

/** One stereo frame in memory: planar RGB in [0, 1] and disparity (NaN = unknown). */
export interface StereoFrame {
  height: number;
  width: number;
  /** [3, H, W] */
  left: Float32Array;
  /** [3, H, W] */
  right: Float32Array;
  /** [H, W] */
  disparity: Float32Array;
}

export function readPngFile(path: string): PngImage {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new DataError(`${path}: cannot read the PNG file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the path');
  }
  return decodePng(buf, path);
}

/** A PNG as planar RGB in [0, 1] (grey is replicated, alpha dropped; 16-bit divided by 65535). */
export function pngToRgb(img: PngImage): Float32Array {
  const { width: W, height: H, channels: C } = img;
  const max = img.bitDepth === 16 ? 65535 : (1 << img.bitDepth) - 1;
  const plane = H * W;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const src = C >= 3 ? c : 0;
      out[c * plane + p] = img.data[p * C + src]! / max;
    }
  }
  return out;
}

/**
 * MPI Sintel stereo disparity PNG: 8-bit RGB, disparity = R·4 + G/2⁶ + B/2¹⁴ (the Sintel stereo
 * README gives R·4 + G/2⁶ with R = floor(D/4), G = floor(D·2⁶ mod 256); the SDK's
 * disparity_read adds the B term). Values are magnitudes: the left pixel x is seen at x − d.
 */
export function decodeSintelDisparity(img: PngImage, file = '<buffer>'): Float32Array {
  if (img.bitDepth !== 8 || img.channels < 3) {
    throw new DataError(`${file}: a Sintel disparity PNG is 8-bit RGB, this one is ${img.bitDepth}-bit with ${img.channels} channel(s)`, 'use the files of training/disparities/ from the Sintel stereo release');
  }
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const C = img.channels;
  for (let p = 0; p < n; p++) out[p] = img.data[p * C]! * 4 + img.data[p * C + 1]! / 64 + img.data[p * C + 2]! / 16384;
  return out;
}

/**
 * Integer downscaling by block means over f×f blocks (trailing rows/columns that do not fill a
 * block are dropped). Disparity: the mean of the finite values in the block divided by f (pixels
 * shrink by f), NaN when the block has none.
 */
export function downscaleFrame(fr: StereoFrame, f: number): StereoFrame {
  if (f === 1) return fr;
  const H = Math.floor(fr.height / f);
  const W = Math.floor(fr.width / f);
  const img = (src: Float32Array): Float32Array => {
    const out = new Float32Array(3 * H * W);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          let s = 0;
          for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += src[(c * fr.height + y * f + dy) * fr.width + x * f + dx]!;
          out[(c * H + y) * W + x] = s / (f * f);
        }
      }
    }
    return out;
  };
  const disp = new Float32Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      let k = 0;
      for (let dy = 0; dy < f; dy++) {
        for (let dx = 0; dx < f; dx++) {
          const v = fr.disparity[(y * f + dy) * fr.width + x * f + dx]!;
          if (Number.isFinite(v)) {
            s += v;
            k++;
          }
        }
      }
      disp[y * W + x] = k > 0 ? s / k / f : NaN;
    }
  }
  return { height: H, width: W, left: img(fr.left), right: img(fr.right), disparity: disp };
}

/** The centred h×w window of a frame (top-left corner at floor((H−h)/2), floor((W−w)/2)). */
export function centreCropFrame(fr: StereoFrame, h: number, w: number): StereoFrame {
  if (h === fr.height && w === fr.width) return fr;
  const y0 = Math.floor((fr.height - h) / 2);
  const x0 = Math.floor((fr.width - w) / 2);
  const take = (src: Float32Array, C: number): Float32Array => {
    const out = new Float32Array(C * h * w);
    for (let c = 0; c < C; c++) for (let y = 0; y < h; y++) out.set(src.subarray((c * fr.height + y0 + y) * fr.width + x0, (c * fr.height + y0 + y) * fr.width + x0 + w), (c * h + y) * w);
    return out;
  };
  return { height: h, width: w, left: take(fr.left, 3), right: take(fr.right, 3), disparity: take(fr.disparity, 1) };
}
