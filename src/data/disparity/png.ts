/**
 * A small PNG decoder (and an encoder for test fixtures) on node:zlib, per the PNG
 * specification (ISO/IEC 15948, W3C PNG 2nd edition): chunks with CRC-32, IHDR / PLTE / IDAT /
 * IEND, zlib-compressed scanlines each led by a filter byte (0 None, 1 Sub, 2 Up, 3 Average,
 * 4 Paeth, §9.2), samples big-endian at 16 bits.
 *
 * Decoded: colour types 0 (grey), 2 (RGB), 3 (palette, expanded to RGB), 4 (grey+alpha),
 * 6 (RGBA); bit depths 8 and 16, and 1/2/4 for grey and palette images (binary masks).
 * Interlaced (Adam7) files are refused with a DataError; ancillary chunks are skipped.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { DataError } from '../../errors.js';

export interface PngImage {
  width: number;
  height: number;
  /** Samples per pixel after palette expansion: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  /** Bit depth of the file's samples (a palette image reports 8, its palette's depth). */
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** Interleaved samples, row-major, top row first; Uint16Array for 16-bit files, else Uint8Array (1/2/4-bit grey keeps its raw levels 0..2^depth−1). */
  data: Uint8Array | Uint16Array;
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const CHANNELS_OF: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS_OF: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

let crcTable: Uint32Array | undefined;
/** CRC-32 (ISO 3309, polynomial 0xEDB88320) as PNG chunks use it. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function bad(file: string, problem: string): DataError {
  return new DataError(`${file}: ${problem}; not a PNG file this reader understands`, 'replace the file with an intact, non-interlaced PNG');
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decode a PNG held in memory; `file` only names it in errors. */
export function decodePng(buf: Uint8Array, file = '<buffer>'): PngImage {
  if (buf.length < 8 || SIGNATURE.some((b, i) => buf[i] !== b)) throw bad(file, 'no PNG signature');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let colour = -1;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (off + 12 <= buf.length) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(buf[off + 4]!, buf[off + 5]!, buf[off + 6]!, buf[off + 7]!);
    if (off + 12 + len > buf.length) throw bad(file, `chunk ${type} runs past the end of the file (truncated)`);
    const body = buf.subarray(off + 8, off + 8 + len);
    const crc = view.getUint32(off + 8 + len);
    if (crc32(buf.subarray(off + 4, off + 8 + len)) !== crc) throw bad(file, `chunk ${type} at byte ${off} fails its CRC (corrupt)`);
    off += 12 + len;
    if (type === 'IHDR') {
      if (len !== 13) throw bad(file, `IHDR has ${len} bytes, not 13`);
      const v = new DataView(body.buffer, body.byteOffset, 13);
      width = v.getUint32(0);
      height = v.getUint32(4);
      depth = body[8]!;
      colour = body[9]!;
      if (body[10] !== 0 || body[11] !== 0) throw bad(file, 'unknown compression or filter method');
      if (body[12] !== 0) throw bad(file, 'the image is interlaced (Adam7); re-save it non-interlaced');
      if (!(colour in CHANNELS_OF) || !DEPTHS_OF[colour]!.includes(depth)) throw bad(file, `colour type ${colour} with bit depth ${depth} is not valid PNG`);
      if (width === 0 || height === 0) throw bad(file, `image size ${width}×${height}`);
    } else if (type === 'PLTE') {
      palette = body.slice();
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      ended = true;
      break;
    }
  }
  if (colour < 0) throw bad(file, 'no IHDR chunk');
  if (!ended) throw bad(file, 'no IEND chunk (truncated)');
  if (colour === 3 && !palette) throw bad(file, 'palette image without PLTE chunk');
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw bad(file, `image data does not inflate (${(e as Error).message})`);
  }
  const samples = CHANNELS_OF[colour]!;
  const bitsPerPixel = samples * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  if (raw.length < height * (stride + 1)) throw bad(file, `image data has ${raw.length} bytes, expected ${height * (stride + 1)}`);
  // Unfilter in place into `rows` (height × stride bytes).
  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const up = dst - stride;
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i]!;
      const a = i >= bpp ? rows[dst + i - bpp]! : 0;
      const b = y > 0 ? rows[up + i]! : 0;
      const c = y > 0 && i >= bpp ? rows[up + i - bpp]! : 0;
      let v: number;
      switch (f) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: v = x + paeth(a, b, c); break;
        default: throw bad(file, `row ${y} has unknown filter type ${f}`);
      }
      rows[dst + i] = v & 0xff;
    }
  }
  const n = width * height;
  if (depth === 16) {
    const out = new Uint16Array(n * samples);
    for (let y = 0; y < height; y++) for (let i = 0; i < width * samples; i++) out[y * width * samples + i] = (rows[y * stride + 2 * i]! << 8) | rows[y * stride + 2 * i + 1]!;
    return { width, height, channels: samples as PngImage['channels'], bitDepth: 16, data: out };
  }
  let levels: Uint8Array;
  if (depth === 8) {
    levels = rows;
  } else {
    levels = new Uint8Array(n);
    const perByte = 8 / depth;
    const mask = (1 << depth) - 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const byte = rows[y * stride + Math.floor(x / perByte)]!;
        const shift = 8 - depth * ((x % perByte) + 1);
        levels[y * width + x] = (byte >> shift) & mask;
      }
    }
  }
  if (colour === 3) {
    const pal = palette!;
    const out = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      const k = levels[i]!;
      if (3 * k + 2 >= pal.length) throw bad(file, `pixel ${i} uses palette entry ${k}, beyond the ${pal.length / 3} entries`);
      out[3 * i] = pal[3 * k]!;
      out[3 * i + 1] = pal[3 * k + 1]!;
      out[3 * i + 2] = pal[3 * k + 2]!;
    }
    return { width, height, channels: 3, bitDepth: 8, data: out };
  }
  return { width, height, channels: samples as PngImage['channels'], bitDepth: depth as PngImage['bitDepth'], data: levels };
}

export interface EncodePngOptions {
  /** Filter type per row: one type for all rows, or a function of the row index (default 0, None). */
  filter?: 0 | 1 | 2 | 3 | 4 | ((row: number) => number);
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  v.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/**
 * Encode 8- or 16-bit grey / grey+alpha / RGB / RGBA samples (interleaved, row-major, top row
 * first) as a non-interlaced PNG with the chosen filter per row. Used to write test fixtures in
 * the exact format the readers expect.
 */
export function encodePng(img: { width: number; height: number; channels: 1 | 2 | 3 | 4; bitDepth: 8 | 16; data: ArrayLike<number> }, o: EncodePngOptions = {}): Buffer {
  const { width, height, channels, bitDepth } = img;
  if (img.data.length !== width * height * channels) throw new RangeError(`encodePng: ${img.data.length} samples for ${width}×${height}×${channels}`);
  const colour = { 1: 0, 2: 4, 3: 2, 4: 6 }[channels];
  const bpp = (channels * bitDepth) / 8;
  const stride = width * bpp;
  const rows = new Uint8Array(height * stride);
  for (let i = 0; i < width * height * channels; i++) {
    const s = img.data[i]!;
    if (bitDepth === 16) {
      rows[2 * i] = (s >> 8) & 0xff;
      rows[2 * i + 1] = s & 0xff;
    } else rows[i] = s & 0xff;
  }
  const filterOf = typeof o.filter === 'function' ? o.filter : () => (o.filter as number | undefined) ?? 0;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const f = filterOf(y);
    raw[y * (stride + 1)] = f;
    for (let i = 0; i < stride; i++) {
      const x = rows[y * stride + i]!;
      const a = i >= bpp ? rows[y * stride + i - bpp]! : 0;
      const b = y > 0 ? rows[(y - 1) * stride + i]! : 0;
      const c = y > 0 && i >= bpp ? rows[(y - 1) * stride + i - bpp]! : 0;
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : f === 4 ? paeth(a, b, c) : NaN;
      if (Number.isNaN(pred)) throw new RangeError(`encodePng: filter type ${f}`);
      raw[y * (stride + 1) + 1 + i] = (x - pred) & 0xff;
    }
  }
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = bitDepth;
  ihdr[9] = colour;
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}
