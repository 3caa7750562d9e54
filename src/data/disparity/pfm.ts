/**
 * Portable Float Map (PFM), the format of FlyingThings3D's disparity maps: an ASCII header
 * "PF" (3 channels) or "Pf" (1 channel), then "width height", then a scale whose sign gives the
 * byte order (negative = little-endian, positive = big-endian), each followed by one whitespace
 * character; then width·height·channels float32 samples, pixels interleaved, rows stored from
 * the BOTTOM row to the top (as described by Paul Debevec's HDRShop PFM notes and read that way by
 * the scene-flow datasets' own IO scripts). The reader returns rows top to bottom.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { DataError } from '../../errors.js';

export interface PfmImage {
  width: number;
  height: number;
  channels: 1 | 3;
  /** Interleaved samples, row-major, TOP row first. */
  data: Float32Array;
  /** |scale| from the header (1 in the scene-flow files). */
  scale: number;
  littleEndian: boolean;
}

function bad(file: string, problem: string): DataError {
  return new DataError(`${file}: ${problem}; not a PFM file`, 'replace the file with an intact copy (FlyingThings3D disparities are .pfm)');
}

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** Decode a PFM held in memory; `file` only names it in errors. */
export function decodePfm(buf: Uint8Array, file = '<buffer>'): PfmImage {
  let off = 0;
  const tokens: string[] = [];
  // Four header tokens; after the last one, exactly one whitespace byte precedes the data.
  while (tokens.length < 4) {
    while (off < buf.length && isSpace(buf[off]!)) off++;
    if (tokens.length > 0 && off < buf.length && buf[off] === 0x23) {
      // comment line (not in the spec, tolerated)
      while (off < buf.length && buf[off] !== 0x0a) off++;
      continue;
    }
    const start = off;
    while (off < buf.length && !isSpace(buf[off]!)) off++;
    if (off === start || off - start > 32) throw bad(file, 'header is truncated or malformed');
    tokens.push(Buffer.from(buf.subarray(start, off)).toString('latin1'));
  }
  if (off >= buf.length) throw bad(file, 'no data after the header');
  if (buf[off] === 0x0d && buf[off + 1] === 0x0a) off++; // tolerate CRLF
  off++; // the single whitespace byte after the scale
  const [magic, ws, hs, ss] = tokens as [string, string, string, string];
  if (magic !== 'PF' && magic !== 'Pf') throw bad(file, `magic "${magic.slice(0, 8)}" is neither PF nor Pf`);
  const channels = magic === 'PF' ? 3 : 1;
  const width = Number(ws);
  const height = Number(hs);
  const scale = Number(ss);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) throw bad(file, `image size "${ws} ${hs}"`);
  if (!Number.isFinite(scale) || scale === 0) throw bad(file, `scale "${ss}" (must be a non-zero number)`);
  const littleEndian = scale < 0;
  const count = width * height * channels;
  if (buf.length - off < count * 4) throw bad(file, `${buf.length - off} data bytes, expected ${count * 4} for ${width}×${height}×${channels} float32 (truncated)`);
  const view = new DataView(buf.buffer, buf.byteOffset + off, count * 4);
  const data = new Float32Array(count);
  const row = width * channels;
  for (let y = 0; y < height; y++) {
    const srcRow = height - 1 - y; // stored bottom to top
    for (let i = 0; i < row; i++) data[y * row + i] = view.getFloat32((srcRow * row + i) * 4, littleEndian);
  }
  return { width, height, channels, data, scale: Math.abs(scale), littleEndian };
}

export function readPfm(path: string): PfmImage {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new DataError(`${path}: cannot read the PFM file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the path');
  }
  return decodePfm(buf, path);
}

/** Encode as PFM (rows written bottom to top); little-endian unless told otherwise. */
export function encodePfm(img: { width: number; height: number; channels: 1 | 3; data: ArrayLike<number> }, o: { littleEndian?: boolean; scale?: number } = {}): Buffer {
  const { width, height, channels } = img;
  const le = o.littleEndian ?? true;
  const scale = Math.abs(o.scale ?? 1);
  if (img.data.length !== width * height * channels) throw new RangeError(`encodePfm: ${img.data.length} samples for ${width}×${height}×${channels}`);
  const header = Buffer.from(`${channels === 3 ? 'PF' : 'Pf'}\n${width} ${height}\n${le ? -scale : scale}\n`, 'latin1');
  const body = Buffer.alloc(width * height * channels * 4);
  const row = width * channels;
  for (let y = 0; y < height; y++) {
    const dstRow = height - 1 - y;
    for (let i = 0; i < row; i++) {
      const v = img.data[y * row + i]!;
      if (le) body.writeFloatLE(v, (dstRow * row + i) * 4);
      else body.writeFloatBE(v, (dstRow * row + i) * 4);
    }
  }
  return Buffer.concat([header, body]);
}

export function writePfm(path: string, img: { width: number; height: number; channels: 1 | 3; data: ArrayLike<number> }, o: { littleEndian?: boolean; scale?: number } = {}): void {
  writeFileSync(path, encodePfm(img, o));
}
