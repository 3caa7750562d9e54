/**
 * safetensors (https://github.com/huggingface/safetensors format): 8-byte little-endian header
 * length N, N bytes of JSON header {name: {dtype, shape, data_offsets}, __metadata__?}, then the
 * raw little-endian tensor bytes. Files written here load in Python's safetensors/torch and back.
 */
import { readFileSync } from 'node:fs';
import { Tensor, type DType } from './tensor.js';
import { fromBytes } from './factories.js';
import { writeFileAtomic } from '../util/fs.js';
import { CheckpointError } from '../errors.js';

const TO_ST: Record<string, string> = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', bool: 'BOOL', uint8: 'U8' };
const FROM_ST: Record<string, DType> = { F32: 'float32', F64: 'float64', I64: 'int64', I32: 'int32', BOOL: 'bool', U8: 'uint8' };
const SIZE: Record<string, number> = { F32: 4, F64: 8, I64: 8, I32: 4, BOOL: 1, U8: 1 };

export type TensorMap = Map<string, Tensor> | Record<string, Tensor>;

/** Serialise tensors (sorted by name, as the Python library does) into one buffer. */
export function serializeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}): Buffer {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    const dt = TO_ST[t.dtype];
    if (!dt) throw new CheckpointError(`safetensors: tensor '${name}' has unsupported dtype ${t.dtype}`);
    const bytes = t.toBytes();
    header[name] = { dtype: dt, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // pad the header with spaces so the data starts 8-byte aligned
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += ' '.repeat(pad);
  const jb = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(jb.length));
  return Buffer.concat([len, jb, ...chunks]);
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Parse and validate a safetensors buffer; every inconsistency is a CheckpointError naming it. */
export function parseSafetensors(buf: Uint8Array, source = 'buffer'): SafetensorsFile {
  const fail = (why: string): never => {
    throw new CheckpointError(`${source} is not a valid safetensors file: ${why}`, 'the file is corrupt or truncated; restore it or start from an earlier checkpoint');
  };
  if (buf.length < 8) fail(`only ${buf.length} bytes`);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(b.readBigUInt64LE(0));
  if (n > b.length - 8 || n > 100 * 1024 * 1024) fail(`header length ${n} exceeds the file (${b.length} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(b.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    return fail(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = b.length - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, Tensor>();
  const ranges: Array<[number, number, string]> = [];
  try {
    for (const [name, info] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const inf = info as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
      const dt = inf?.dtype && FROM_ST[inf.dtype];
      if (!dt) fail(`tensor '${name}' has unknown dtype ${JSON.stringify(inf?.dtype)}`);
      if (!Array.isArray(inf.shape) || inf.shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`tensor '${name}' has a bad shape`);
      const off = inf.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !(off[0] >= 0 && off[1] >= off[0] && off[1] <= dataLen)) {
        fail(`tensor '${name}' has data offsets ${JSON.stringify(off)} outside the data (${dataLen} bytes)`);
      }
      const numel = inf.shape!.reduce((a, c) => a * c, 1);
      if (numel * SIZE[inf.dtype!]! !== off![1] - off![0]) fail(`tensor '${name}': shape [${inf.shape}] and ${inf.dtype} need ${numel * SIZE[inf.dtype!]!} bytes, offsets give ${off![1] - off![0]}`);
      ranges.push([off![0], off![1], name]);
      // copy into an aligned buffer
      const bytes = new Uint8Array(off![1] - off![0]);
      bytes.set(b.subarray(dataStart + off![0], dataStart + off![1]));
      tensors.set(name, fromBytes(bytes, inf.shape!, dt as DType));
    }
    ranges.sort((x, y) => x[0] - y[0]);
    let end = 0;
    for (const [s, e, name] of ranges) {
      if (s !== end) fail(`tensor '${name}' starts at ${s}, expected ${end} (holes or overlaps in the data)`);
      end = e;
    }
    if (end !== dataLen) fail(`the data section has ${dataLen} bytes but the tensors cover ${end}`);
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata };
}

/** Write tensors to a safetensors file atomically. */
export function saveSafetensors(path: string, tensors: TensorMap, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

export function loadSafetensors(path: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return parseSafetensors(buf, path);
}
