/**
 * Writers for the official dataset formats, used by the data tests to build small fixtures:
 * CIFAR binary records, level-5 MAT-files (plain and miCOMPRESSED, both byte orders),
 * IDX files and ustar archives. (Temp folders: test/helpers/tmp.ts.)
 */
import { deflateSync } from 'node:zlib';

/** A pixel value that differs along every axis, so layout mistakes show. */
export function pixel(i: number, c: number, h: number, w: number): number {
  return (i * 37 + c * 71 + h * 5 + w * 3) & 255;
}

/** CIFAR records: label bytes then 3 planes of 32×32, row-major. */
export function cifarRecords(labels: number[][], first = 0): Uint8Array {
  const lb = labels[0]?.length ?? 1;
  const rec = lb + 3072;
  const out = new Uint8Array(labels.length * rec);
  labels.forEach((l, r) => {
    out.set(l, r * rec);
    for (let c = 0; c < 3; c++) for (let h = 0; h < 32; h++) for (let w = 0; w < 32; w++) out[r * rec + lb + c * 1024 + h * 32 + w] = pixel(first + r, c, h, w);
  });
  return out;
}

// --- MAT v5 writer ---------------------------------------------------------------------
export const mi = { INT8: 1, UINT8: 2, INT32: 5, UINT32: 6, DOUBLE: 9, MATRIX: 14, COMPRESSED: 15, UTF8: 16 } as const;
export const mx = { CHAR: 4, DOUBLE: 6, UINT8: 9 } as const;

function concat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One data element; ≤ 4 bytes use the small-element form; otherwise padded to 8. */
export function matElement(type: number, payload: Uint8Array, le: boolean, allowSmall = true): Uint8Array {
  if (allowSmall && payload.length <= 4 && payload.length > 0) {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setUint32(0, (payload.length << 16) | type, le);
    out.set(payload, 4);
    return out;
  }
  const padded = (payload.length + 7) & ~7;
  const out = new Uint8Array(8 + padded);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, le);
  v.setUint32(4, payload.length, le);
  out.set(payload, 8);
  return out;
}

export function int32s(values: number[], le: boolean): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setInt32(i * 4, x, le));
  return out;
}

export function doubles(values: number[], le: boolean): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setFloat64(i * 8, x, le));
  return out;
}

/** A miMATRIX element for a numeric (or char) array; `real` holds the stored bytes of type `realType`. */
export function matMatrix(name: string, classId: number, dims: number[], realType: number, real: Uint8Array, le: boolean): Uint8Array {
  const flags = new Uint8Array(8);
  new DataView(flags.buffer).setUint32(0, classId, le);
  const body = concat([
    matElement(mi.UINT32, flags, le, false),
    matElement(mi.INT32, int32s(dims, le), le),
    matElement(mi.INT8, new TextEncoder().encode(name), le),
    matElement(realType, real, le),
  ]);
  return matElement(mi.MATRIX, body, le, false);
}

export function matFile(elements: Uint8Array[], opts: { compress: boolean; le: boolean }): Uint8Array {
  const header = new Uint8Array(128).fill(0x20);
  header.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, Platform: rdarts-test, Created on: never'));
  header.fill(0, 116, 124);
  const v = new DataView(header.buffer);
  v.setUint16(124, 0x0100, opts.le);
  header.set(new TextEncoder().encode(opts.le ? 'IM' : 'MI'), 126);
  const body = elements.map((e) => {
    if (!opts.compress) return e;
    const z = deflateSync(e);
    const tag = new Uint8Array(8);
    const tv = new DataView(tag.buffer);
    tv.setUint32(0, mi.COMPRESSED, opts.le);
    tv.setUint32(4, z.length, opts.le);
    return concat([tag, z]); // compressed elements are not padded
  });
  return concat([header, ...body]);
}

/** An SVHN-like file: X uint8 32×32×3×N column-major with `pixel()` values, y double N×1. */
export function svhnMat(yValues: number[], opts: { compress: boolean; le: boolean; yAsUint8?: boolean }): Uint8Array {
  const N = yValues.length;
  const X = new Uint8Array(32 * 32 * 3 * N);
  for (let n = 0; n < N; n++) for (let c = 0; c < 3; c++) for (let w = 0; w < 32; w++) for (let h = 0; h < 32; h++) X[h + 32 * (w + 32 * (c + 3 * n))] = pixel(n, c, h, w);
  const yStored = opts.yAsUint8 ? matMatrix('y', mx.DOUBLE, [N, 1], mi.UINT8, Uint8Array.from(yValues), opts.le) : matMatrix('y', mx.DOUBLE, [N, 1], mi.DOUBLE, doubles(yValues, opts.le), opts.le);
  const note = matMatrix('note', mx.CHAR, [1, 5], mi.UTF8, new TextEncoder().encode('hello'), opts.le);
  return matFile([note, matMatrix('X', mx.UINT8, [32, 32, 3, N], mi.UINT8, X, opts.le), yStored], opts);
}

// --- IDX -------------------------------------------------------------------------------
export function idx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const v = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

// --- tar -------------------------------------------------------------------------------
export function tar(entries: { path: string; data?: Uint8Array; dir?: boolean }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  const field = (h: Uint8Array, off: number, len: number, s: string) => h.set(enc.encode(s).subarray(0, len), off);
  for (const e of entries) {
    const data = e.data ?? new Uint8Array(0);
    const h = new Uint8Array(512);
    field(h, 0, 100, e.path);
    field(h, 100, 8, e.dir ? '0000755\0' : '0000644\0');
    field(h, 108, 8, '0000000\0');
    field(h, 116, 8, '0000000\0');
    field(h, 124, 12, data.length.toString(8).padStart(11, '0') + '\0');
    field(h, 136, 12, '00000000000\0');
    h[156] = (e.dir ? '5' : '0').charCodeAt(0);
    field(h, 257, 6, 'ustar\0');
    field(h, 263, 2, '00');
    h.fill(0x20, 148, 156);
    const sum = h.reduce((s, b) => s + b, 0);
    field(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
    parts.push(h, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  return concat(parts);
}
