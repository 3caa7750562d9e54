/**
 * A reader for MATLAB level-5 MAT-files (the format of SVHN's `*_32x32.mat`), enough for
 * numeric arrays: a 128-byte header, then data elements; top-level elements are miMATRIX or
 * miCOMPRESSED (zlib) wrapping one miMATRIX. A miMATRIX holds array flags, dimensions, a
 * name and the real (and optional imaginary) part, each a sub-element padded to 8 bytes, or
 * packed into the 8-byte "small data element" form when ≤ 4 bytes long. Both byte orders
 * are read. Cells, structs, objects, sparse and char arrays are listed with `data: null`.
 * Level 7.3 files (HDF5) are recognised and refused with a clear message.
 */
import { inflateSync } from 'node:zlib';

export type MatNumeric =
  | Float64Array
  | Float32Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export type MatClass =
  | 'cell' | 'struct' | 'object' | 'char' | 'sparse'
  | 'double' | 'single' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'function' | 'opaque' | 'unknown';

export interface MatVariable {
  name: string;
  className: MatClass;
  /** Dimensions as stored (column-major: the first index varies fastest in `data`). */
  dims: number[];
  /** Real part in the class's own element type, column-major; null for non-numeric classes. */
  data: MatNumeric | null;
  /** Imaginary part of a complex array. */
  imag?: MatNumeric;
  logical: boolean;
  global: boolean;
}

/** A malformed MAT-file; the caller wraps it into a DataError naming the file. */
export class MatFormatError extends Error {}

// Data types (mi*)
const miINT8 = 1, miUINT8 = 2, miINT16 = 3, miUINT16 = 4, miINT32 = 5, miUINT32 = 6, miSINGLE = 7,
  miDOUBLE = 9, miINT64 = 12, miUINT64 = 13, miMATRIX = 14, miCOMPRESSED = 15;

const CLASS_NAMES: Record<number, MatClass> = {
  1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse', 6: 'double', 7: 'single', 8: 'int8', 9: 'uint8',
  10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64', 16: 'function', 17: 'opaque',
};

type NumericCtor = { new (n: number): MatNumeric; BYTES_PER_ELEMENT: number };

const MI_TYPES: Record<number, { ctor: NumericCtor; get: (v: DataView, o: number, le: boolean) => number | bigint }> = {
  [miINT8]: { ctor: Int8Array, get: (v, o) => v.getInt8(o) },
  [miUINT8]: { ctor: Uint8Array, get: (v, o) => v.getUint8(o) },
  [miINT16]: { ctor: Int16Array, get: (v, o, le) => v.getInt16(o, le) },
  [miUINT16]: { ctor: Uint16Array, get: (v, o, le) => v.getUint16(o, le) },
  [miINT32]: { ctor: Int32Array, get: (v, o, le) => v.getInt32(o, le) },
  [miUINT32]: { ctor: Uint32Array, get: (v, o, le) => v.getUint32(o, le) },
  [miSINGLE]: { ctor: Float32Array, get: (v, o, le) => v.getFloat32(o, le) },
  [miDOUBLE]: { ctor: Float64Array, get: (v, o, le) => v.getFloat64(o, le) },
  [miINT64]: { ctor: BigInt64Array, get: (v, o, le) => v.getBigInt64(o, le) },
  [miUINT64]: { ctor: BigUint64Array, get: (v, o, le) => v.getBigUint64(o, le) },
};

const CLASS_CTORS: Partial<Record<MatClass, NumericCtor>> = {
  double: Float64Array, single: Float32Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array,
  uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
};

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface Tag {
  type: number;
  nbytes: number;
  dataOff: number;
  /** Offset of the next element (after padding). */
  next: number;
}

function readTag(view: DataView, off: number, end: number, le: boolean, what: string): Tag {
  if (off + 8 > end) throw new MatFormatError(`${what} at byte ${off}: tag needs 8 bytes, only ${end - off} left (truncated file)`);
  const w0 = view.getUint32(off, le);
  if (w0 >>> 16 !== 0) {
    const nbytes = w0 >>> 16;
    if (nbytes > 4) throw new MatFormatError(`${what} at byte ${off}: small data element claims ${nbytes} bytes (at most 4)`);
    return { type: w0 & 0xffff, nbytes, dataOff: off + 4, next: off + 8 };
  }
  const nbytes = view.getUint32(off + 4, le);
  const dataOff = off + 8;
  if (dataOff + nbytes > end) {
    throw new MatFormatError(`${what} at byte ${off}: claims ${nbytes} bytes, only ${end - dataOff} left (truncated file)`);
  }
  return { type: w0, nbytes, dataOff, next: Math.min(end, dataOff + pad8(nbytes)) };
}

function pad8(n: number): number {
  return (n + 7) & ~7;
}

/** Reads a numeric sub-element into an array of its stored (mi*) type. */
function readNumeric(bytes: Uint8Array, view: DataView, tag: Tag, le: boolean, what: string): MatNumeric {
  const t = MI_TYPES[tag.type];
  if (!t) throw new MatFormatError(`${what}: unsupported data type ${tag.type}`);
  const size = t.ctor.BYTES_PER_ELEMENT;
  if (tag.nbytes % size !== 0) throw new MatFormatError(`${what}: ${tag.nbytes} bytes is not a multiple of the element size ${size}`);
  const count = tag.nbytes / size;
  if (size === 1 || le === HOST_LE) {
    // copy into a fresh, aligned buffer and view it
    // (Buffer#slice would be a view, not a copy)
    const copy = new Uint8Array(tag.nbytes);
    copy.set(bytes.subarray(tag.dataOff, tag.dataOff + tag.nbytes));
    if (t.ctor === (Uint8Array as unknown as NumericCtor)) return copy;
    return new (t.ctor as unknown as new (b: ArrayBuffer) => MatNumeric)(copy.buffer);
  }
  const out = new t.ctor(count);
  for (let i = 0; i < count; i++) (out as unknown as (number | bigint)[])[i] = t.get(view, tag.dataOff + i * size, le);
  return out;
}

/** Converts stored values to the class's element type (MATLAB may store e.g. a double array as uint8). */
function toClass(src: MatNumeric, cls: MatClass): MatNumeric {
  const ctor = CLASS_CTORS[cls];
  if (!ctor || src instanceof ctor) return src;
  const out = new ctor(src.length);
  const outBig = out instanceof BigInt64Array || out instanceof BigUint64Array;
  const srcBig = src instanceof BigInt64Array || src instanceof BigUint64Array;
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    (out as unknown as (number | bigint)[])[i] = outBig ? (srcBig ? v : BigInt(Math.trunc(v as number))) : srcBig ? Number(v) : v;
  }
  return out;
}

function parseMatrix(bytes: Uint8Array, view: DataView, start: number, end: number, le: boolean): MatVariable {
  const flagsTag = readTag(view, start, end, le, 'array flags');
  if (flagsTag.type !== miUINT32 || flagsTag.nbytes !== 8) {
    if (flagsTag.nbytes === 0 && start === end) throw new MatFormatError('empty miMATRIX');
    throw new MatFormatError(`array flags at byte ${start}: expected 8 bytes of type miUINT32, got type ${flagsTag.type}, ${flagsTag.nbytes} bytes`);
  }
  const flags = view.getUint32(flagsTag.dataOff, le);
  const classId = flags & 0xff;
  const className = CLASS_NAMES[classId] ?? 'unknown';
  const complex = (flags & 0x0800) !== 0;
  const global = (flags & 0x0400) !== 0;
  const logical = (flags & 0x0200) !== 0;

  if (className === 'opaque' || className === 'function' || className === 'object' || className === 'unknown') {
    return { name: '', className, dims: [], data: null, logical, global };
  }
  const dimsTag = readTag(view, flagsTag.next, end, le, 'dimensions');
  if (dimsTag.type !== miINT32 || dimsTag.nbytes % 4 !== 0 || dimsTag.nbytes < 8) {
    throw new MatFormatError(`dimensions at byte ${flagsTag.next}: expected ≥2 miINT32 values, got type ${dimsTag.type}, ${dimsTag.nbytes} bytes`);
  }
  const dims: number[] = [];
  for (let i = 0; i < dimsTag.nbytes / 4; i++) {
    const d = view.getInt32(dimsTag.dataOff + 4 * i, le);
    if (d < 0) throw new MatFormatError(`negative dimension ${d}`);
    dims.push(d);
  }
  const nameTag = readTag(view, dimsTag.next, end, le, 'array name');
  if (nameTag.type !== miINT8 && nameTag.type !== miUINT8) throw new MatFormatError(`array name at byte ${dimsTag.next}: expected miINT8, got type ${nameTag.type}`);
  const name = Buffer.from(bytes.buffer, bytes.byteOffset + nameTag.dataOff, nameTag.nbytes).toString('latin1');

  const ctor = CLASS_CTORS[className];
  if (!ctor) return { name, className, dims, data: null, logical, global }; // cell, struct, char, sparse
  const count = dims.reduce((a, b) => a * b, 1);
  const realTag = readTag(view, nameTag.next, end, le, `real part of '${name}'`);
  const data = toClass(readNumeric(bytes, view, realTag, le, `real part of '${name}'`), className);
  if (data.length !== count) {
    throw new MatFormatError(`variable '${name}': dimensions ${dims.join('x')} need ${count} values, the real part holds ${data.length}`);
  }
  const v: MatVariable = { name, className, dims, data, logical, global };
  if (complex) {
    const imTag = readTag(view, realTag.next, end, le, `imaginary part of '${name}'`);
    v.imag = toClass(readNumeric(bytes, view, imTag, le, `imaginary part of '${name}'`), className);
    if (v.imag.length !== count) throw new MatFormatError(`variable '${name}': imaginary part holds ${v.imag.length} values, expected ${count}`);
  }
  return v;
}

/** Header facts: text, version, byte order. Throws MatFormatError when it is not a level-5 MAT-file. */
export function readMatHeader(bytes: Uint8Array): { text: string; littleEndian: boolean } {
  if (bytes.length < 128) throw new MatFormatError(`only ${bytes.length} bytes, shorter than the 128-byte MAT-file header (truncated or not a MAT-file)`);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, 116).toString('latin1').replace(/[\0 ]+$/, '');
  const isHdf5 = bytes.length >= 520 && bytes[512] === 0x89 && bytes[513] === 0x48 && bytes[514] === 0x44 && bytes[515] === 0x46;
  if (text.startsWith('MATLAB 7.3') || isHdf5) {
    throw new MatFormatError('is a MATLAB 7.3 (HDF5) MAT-file; only level-5 MAT-files (MATLAB ≤ 7.0, `save -v7`) are read');
  }
  const e0 = String.fromCharCode(bytes[126]!, bytes[127]!);
  if (e0 !== 'IM' && e0 !== 'MI') {
    throw new MatFormatError(`bad MAT-file header: endian indicator is ${JSON.stringify(e0)}, expected "IM" or "MI" (not a level-5 MAT-file)`);
  }
  const littleEndian = e0 === 'IM';
  const version = new DataView(bytes.buffer, bytes.byteOffset + 124, 2).getUint16(0, littleEndian);
  if (version !== 0x0100) throw new MatFormatError(`bad MAT-file header: version 0x${version.toString(16)}, expected 0x0100`);
  if (!text.startsWith('MATLAB')) throw new MatFormatError(`bad MAT-file header: text does not start with "MATLAB" (${JSON.stringify(text.slice(0, 30))})`);
  return { text, littleEndian };
}

/**
 * Parses a level-5 MAT-file. With `only`, variables with other names are not kept
 * (compressed ones are still inflated, since the name is inside the compressed data).
 */
export function readMat(bytes: Uint8Array, opts: { only?: string[] } = {}): Map<string, MatVariable> {
  const { littleEndian: le } = readMatHeader(bytes);
  const out = new Map<string, MatVariable>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 128;
  const end = bytes.length;
  while (off < end) {
    // trailing zero padding is harmless
    if (end - off < 8 && bytes.subarray(off).every((b) => b === 0)) break;
    const tag = readTag(view, off, end, le, 'data element');
    let v: MatVariable | undefined;
    if (tag.type === miCOMPRESSED) {
      let inner: Buffer;
      try {
        inner = inflateSync(bytes.subarray(tag.dataOff, tag.dataOff + tag.nbytes));
      } catch (e) {
        throw new MatFormatError(`compressed element at byte ${off} could not be inflated (${(e as Error).message}); the file is truncated or corrupt`);
      }
      const iv = new DataView(inner.buffer, inner.byteOffset, inner.byteLength);
      const itag = readTag(iv, 0, inner.length, le, `element inside the compressed element at byte ${off}`);
      if (itag.type === miMATRIX) v = parseMatrix(inner, iv, itag.dataOff, itag.dataOff + itag.nbytes, le);
      // compressed elements are not padded
      off = tag.dataOff + tag.nbytes;
    } else {
      if (tag.type === miMATRIX && tag.nbytes > 0) v = parseMatrix(bytes, view, tag.dataOff, tag.dataOff + tag.nbytes, le);
      off = tag.next;
    }
    if (v && (!opts.only || opts.only.includes(v.name))) out.set(v.name, v);
  }
  return out;
}
