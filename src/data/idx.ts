/**
 * IDX files (MNIST family): magic = two zero bytes, a type byte (0x08 = unsigned byte) and
 * the number of dimensions; then each dimension as a big-endian uint32; then the data.
 * Gzipped files are recognised by their magic bytes.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { NORMALISATION, type ImageDataset, type Split } from './dataset.js';
import { SOURCES, malformedFileError, resolveFiles } from './sources.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export class IdxFormatError extends Error {}

/** Parses an IDX buffer (gzipped or not) holding unsigned bytes. */
export function parseIdx(raw: Uint8Array): IdxArray {
  let buf = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      buf = gunzipSync(raw);
    } catch (e) {
      throw new IdxFormatError(`gzip data could not be decompressed (${(e as Error).message}); the file is truncated or corrupt`);
    }
  }
  if (buf.length < 4) throw new IdxFormatError(`only ${buf.length} bytes, too short for an IDX header`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new IdxFormatError(`wrong IDX magic 0x${[...buf.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join('')} (expected 0x000008NN)`);
  }
  if (buf[2] !== 0x08) throw new IdxFormatError(`IDX element type 0x${buf[2]!.toString(16)} is not supported (only 0x08, unsigned byte)`);
  const ndim = buf[3]!;
  const headerLen = 4 + 4 * ndim;
  if (buf.length < headerLen) throw new IdxFormatError(`${buf.length} bytes, too short for an IDX header with ${ndim} dimensions`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const have = buf.length - headerLen;
  if (have !== count) {
    throw new IdxFormatError(
      `header declares dimensions ${dims.join('x')} = ${count} bytes of data but the file holds ${have}${have < count ? ' (truncated)' : ' (trailing bytes)'}`,
    );
  }
  // a plain Uint8Array view (not a Buffer, whose slice() would not copy)
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + headerLen, count) };
}

function readIdxFile(file: string, ndim: number): IdxArray {
  let a: IdxArray;
  try {
    a = parseIdx(readFileSync(file));
  } catch (e) {
    if (e instanceof IdxFormatError) throw malformedFileError(SOURCES['fashion-mnist'], file, e.message);
    throw e;
  }
  if (a.dims.length !== ndim) {
    throw malformedFileError(SOURCES['fashion-mnist'], file, `IDX array has ${a.dims.length} dimensions, expected ${ndim} (${ndim === 3 ? 'images' : 'labels'} file)`);
  }
  return a;
}

/** Fashion-MNIST (gzipped or plain IDX); `dir` holds the files directly or in `fashion-mnist/`. */
export function readFashionMnist(dir: string, split: Split): ImageDataset {
  const source = SOURCES['fashion-mnist'];
  const [imgFile, lblFile] = resolveFiles(source, dir, split) as [string, string];
  const img = readIdxFile(imgFile, 3);
  const lbl = readIdxFile(lblFile, 1);
  const [n, height, width] = img.dims as [number, number, number];
  if (lbl.dims[0] !== n) {
    throw malformedFileError(source, lblFile, `holds ${lbl.dims[0]} labels but ${imgFile} holds ${n} images (count mismatch)`);
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = lbl.data[i]!;
    if (y > 9) throw malformedFileError(source, lblFile, `label ${y} of image ${i} is outside 0..9`);
    labels[i] = y;
  }
  const norm = NORMALISATION['fashion-mnist'];
  return {
    name: 'fashion-mnist',
    split,
    images: img.data,
    labels,
    n,
    channels: 1,
    height,
    width,
    numClasses: 10,
    mean: [...norm.mean],
    std: [...norm.std],
  };
}
