/**
 * SVHN cropped digits (format 2): `train_32x32.mat` / `test_32x32.mat`, level-5 MAT-files
 * holding X (uint8, 32×32×3×N, column-major) and y (N×1, labels 1..10 where 10 is digit 0).
 */
import { readFileSync } from 'node:fs';
import { NORMALISATION, type ImageDataset, type Split } from './dataset.js';
import { MatFormatError, readMat, type MatVariable } from './mat.js';
import { SOURCES, malformedFileError, resolveFiles } from './sources.js';

/** Reads SVHN; `dir` holds the .mat files directly or in an `svhn/` subfolder. */
export function readSvhn(dir: string, split: Split): ImageDataset {
  const source = SOURCES.svhn;
  const [file] = resolveFiles(source, dir, split) as [string];
  let vars: Map<string, MatVariable>;
  try {
    vars = readMat(readFileSync(file), { only: ['X', 'y'] });
  } catch (e) {
    if (e instanceof MatFormatError) throw malformedFileError(source, file, e.message);
    throw e;
  }
  const X = vars.get('X');
  const y = vars.get('y');
  if (!X?.data || !y?.data) {
    throw malformedFileError(source, file, `expected numeric variables X and y, found ${[...vars.keys()].join(', ') || 'none'}`);
  }
  const [H, W, C, N] = [X.dims[0]!, X.dims[1]!, X.dims[2] ?? 1, X.dims[3] ?? 1];
  if (X.dims.length > 4 || C !== 3) {
    throw malformedFileError(source, file, `X has dimensions ${X.dims.join('x')}, expected HxWx3xN`);
  }
  if (y.data.length !== N) throw malformedFileError(source, file, `X holds ${N} images but y holds ${y.data.length} labels`);
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const v = Number(y.data[i]!);
    if (!Number.isInteger(v) || v < 1 || v > 10) throw malformedFileError(source, file, `label ${v} of image ${i} is outside 1..10`);
    labels[i] = v === 10 ? 0 : v;
  }
  // Column-major (h fastest, then w, c, n) → NCHW (w fastest).
  const src = X.data;
  const images = new Uint8Array(N * C * H * W);
  const plane = H * W;
  for (let p = 0; p < N * C; p++) {
    const base = p * plane;
    for (let w = 0; w < W; w++) {
      const s = base + w * H;
      for (let h = 0; h < H; h++) {
        const v = Number(src[s + h]!);
        images[base + h * W + w] = v;
      }
    }
  }
  const norm = NORMALISATION.svhn;
  return { name: 'svhn', split, images, labels, n: N, channels: C, height: H, width: W, numClasses: 10, mean: [...norm.mean], std: [...norm.std] };
}
