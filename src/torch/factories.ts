/** Factories: tensors from JS data, raw bytes, constants and libtorch's seeded random generator. */
import { native, type Handle } from './native.js';
import { ShapeError } from '../errors.js';
import { Tensor, type DType, type Device } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

function finish(t: Tensor, opts?: CreateOptions): Tensor {
  if (opts?.requiresGrad) t.requiresGrad = true;
  return t;
}

type Nested = number | boolean | Nested[];

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let cur: Nested = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as Nested;
    if (cur === undefined) break;
  }
  return shape;
}

/**
 * A tensor from a typed array (with `shape`) or nested JS arrays. The dtype defaults to the
 * typed array's kind (Float32Array → float32, Float64Array → float64, BigInt64Array → int64,
 * Int32Array → int32, Uint8Array → uint8) and to float32 for nested numbers.
 */
export function tensor(
  data: Nested | Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array,
  shapeOrOpts?: number[] | CreateOptions,
  maybeOpts?: CreateOptions,
): Tensor {
  const opts = Array.isArray(shapeOrOpts) ? maybeOpts : shapeOrOpts;
  let arr: ArrayBufferView;
  let shape: number[];
  if (ArrayBuffer.isView(data)) {
    arr = data;
    shape = Array.isArray(shapeOrOpts) ? shapeOrOpts : [(data as Float32Array).length];
  } else {
    shape = inferShape(data);
    const flat = (Array.isArray(data) ? (data as unknown[]).flat(Infinity) : [data]) as Array<number | boolean>;
    const expected = shape.reduce((a, b) => a * b, 1);
    if (flat.length !== expected) throw new ShapeError(`tensor: ragged nested array (${flat.length} values for shape [${shape.join(', ')}])`);
    const dt = opts?.dtype ?? 'float32';
    if (dt === 'int64') arr = BigInt64Array.from(flat, (v) => BigInt(Math.trunc(Number(v))));
    else if (dt === 'float64') arr = Float64Array.from(flat, Number);
    else if (dt === 'int32') arr = Int32Array.from(flat, Number);
    else if (dt === 'bool' || dt === 'uint8') arr = Uint8Array.from(flat, Number);
    else arr = Float32Array.from(flat, Number);
  }
  let t = new Tensor(native.fromArray(arr, shape, opts?.dtype ?? null));
  if (opts?.device && opts.device !== 'cpu') {
    const moved = t.to(opts.device);
    t.dispose();
    t = moved;
  }
  return finish(t, opts);
}

/** A tensor from raw little-endian bytes (safetensors). */
export function fromBytes(bytes: Uint8Array, shape: number[], dtype: DType): Tensor {
  return new Tensor(native.fromBytes(bytes, shape, dtype));
}

type Create = (shape: number[], dtype: string | null, device: string | null) => Handle;
function create(fn: Create, shape: number[], opts?: CreateOptions): Tensor {
  return finish(new Tensor(fn(shape, opts?.dtype ?? null, opts?.device ?? null)), opts);
}
export const zeros = (shape: number[], opts?: CreateOptions): Tensor => create(native.zeros, shape, opts);
export const ones = (shape: number[], opts?: CreateOptions): Tensor => create(native.ones, shape, opts);
export const empty = (shape: number[], opts?: CreateOptions): Tensor => create(native.empty, shape, opts);
export const full = (shape: number[], value: number, opts?: CreateOptions): Tensor =>
  finish(new Tensor(native.full(shape, opts?.dtype ?? null, opts?.device ?? null, value)), opts);
/** Standard normal samples from libtorch's seeded generator. */
export const randn = (shape: number[], opts?: CreateOptions): Tensor => create(native.randn, shape, opts);
/** Uniform [0, 1) samples from libtorch's seeded generator. */
export const rand = (shape: number[], opts?: CreateOptions): Tensor => create(native.rand, shape, opts);
export function arange(start: number, end?: number, step = 1, opts?: CreateOptions): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  const dtype = opts?.dtype ?? (Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step) ? 'int64' : 'float32');
  return finish(new Tensor(native.arange(start, end, step, dtype, opts?.device ?? null)), opts);
}
export function normal(mean: number, std: number, shape: number[], opts?: CreateOptions): Tensor {
  return finish(new Tensor(native.normal(mean, std, shape, opts?.dtype ?? null, opts?.device ?? null)), opts);
}
/** Bernoulli samples: with `p`, each element of a tensor shaped like `like` is 1 with probability p; without, `like` holds the probabilities. */
export function bernoulli(like: Tensor, p?: number): Tensor {
  return new Tensor(native.bernoulli(like.handle, p ?? null));
}
