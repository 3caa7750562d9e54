/**
 * The stereo dataset the disparity search consumes: float RGB pairs in [0, 1] and left-view
 * disparity in pixels, all in memory as plain typed arrays (planar NCHW like the image datasets).
 */
import { createHash } from 'node:crypto';

export interface StereoDataset {
  /** e.g. 'synthetic-stereo', 'flyingthings3d', 'sintel'. */
  readonly name: string;
  readonly n: number;
  readonly height: number;
  readonly width: number;
  /** [n, 3, H, W], values in [0, 1]. */
  readonly left: Float32Array;
  /** [n, 3, H, W], values in [0, 1]. */
  readonly right: Float32Array;
  /** [n, H, W]: left-view disparity in pixels, x_right = x_left − d; NaN where unknown. */
  readonly disparity: Float32Array;
  /** The largest finite disparity in the set (0 when there is none). */
  readonly maxDisparity: number;
  /** Where it came from: a folder, or 'generated: seed …'. */
  readonly source: string;
}

/** The largest finite value of a disparity array (0 when none is finite). */
export function finiteMax(d: Float32Array): number {
  let m = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v > m && Number.isFinite(v)) m = v;
  }
  return m;
}

/** A short stable hash of the contents (16 hex digits of SHA-256 over sizes, name and all samples). */
export function stereoFingerprint(ds: StereoDataset): string {
  const h = createHash('sha256');
  h.update(`stereo|${ds.name}|${ds.n}|${ds.height}|${ds.width}|`);
  for (const a of [ds.left, ds.right, ds.disparity]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex').slice(0, 16);
}

/** Checks the arrays' lengths against n, H, W; returns a message or undefined. */
export function stereoShapeProblem(ds: StereoDataset): string | undefined {
  const img = ds.n * 3 * ds.height * ds.width;
  if (ds.left.length !== img) return `left has ${ds.left.length} values, expected n·3·H·W = ${img}`;
  if (ds.right.length !== img) return `right has ${ds.right.length} values, expected n·3·H·W = ${img}`;
  if (ds.disparity.length !== ds.n * ds.height * ds.width) return `disparity has ${ds.disparity.length} values, expected n·H·W = ${ds.n * ds.height * ds.width}`;
  return undefined;
}
