import { native, type Handle } from './native.js';
import { ShapeError } from '../errors.js';

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'uint8';
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;
export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : Uint8Array;

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

// op codes; must match the enums in native/src/addon.cc
const U = {
  neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, relu: 5, tanh: 6, sigmoid: 7, square: 8, rsqrt: 9, sign: 10,
  floor: 11, ceil: 12, round: 13, isnan: 14, isfinite: 15, logicalNot: 16, clone: 17, detach: 18, contiguous: 19,
  zerosLike: 20, onesLike: 21, randnLike: 22, randLike: 23, reciprocal: 24, cos: 25, sin: 26, log1p: 27, emptyLike: 28,
} as const;
const B = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, eq: 5, ne: 6, lt: 7, le: 8, gt: 9, ge: 10, maximum: 11, minimum: 12,
  matmul: 13, rsub: 14, logicalAnd: 15, logicalOr: 16, fmod: 17,
} as const;
const BIN_NAMES = Object.keys(B);
const I = { add: 0, sub: 1, mul: 2, div: 3, copy: 4, zero: 5, fill: 6, addcmul: 7, addcdiv: 8, clamp: 9 } as const;
const R = { sum: 0, mean: 1, amax: 2, amin: 3, prod: 4, any: 5, all: 6, std: 7, var: 8 } as const;

// ---------------------------------------------------------------- scopes

/**
 * A scope is the list of tensors created while it was the innermost one. Membership is the
 * tensor's `_scope` field: dispose() and keep() just clear it (no removal from the list), and
 * the scope's end skips entries that no longer point at it. A push per op is the whole cost.
 */
type Scope = Tensor[];
const scopes: Scope[] = [];

function release(scope: Scope): void {
  for (const t of scope) if (t._scope === scope) t.dispose();
}

/**
 * Run `fn` in a scope: every tensor created inside is disposed when it returns, except the
 * tensors it returns (directly, or inside arrays / plain objects) and those passed to `keep`.
 * Returned tensors move to the enclosing scope. Like tfjs's `tidy`.
 * `fn` must be synchronous; a returned Promise is an error (its tensors could not be tracked).
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    release(scope);
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    release(scope);
    throw new Error('tidy(fn): fn returned a Promise; scopes only track synchronous work (await outside tidy, or use keep())');
  }
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors, 0);
  const parent = scopes.length ? scopes[scopes.length - 1]! : null;
  for (const t of scope) {
    if (t._scope !== scope) continue;
    if (survivors.has(t)) {
      t._scope = parent;
      if (parent) parent.push(t);
      else if (!t.isDisposed) finalizer.register(t, t.handle);
    } else {
      t.dispose();
    }
  }
  return result;
}

function collectTensors(v: unknown, out: Set<Tensor>, depth: number): void {
  if (depth > 8 || v === null || typeof v !== 'object') return;
  if (v instanceof Tensor) {
    out.add(v);
    return;
  }
  if (Array.isArray(v)) {
    for (const e of v) collectTensors(e, out, depth + 1);
    return;
  }
  if (v instanceof Map) {
    for (const e of v.values()) collectTensors(e, out, depth + 1);
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    for (const e of Object.values(v as Record<string, unknown>)) collectTensors(e, out, depth + 1);
  }
}

/** Take a tensor out of every scope: it lives until `dispose()` (or, as a last resort, GC). */
export function keep<T extends Tensor>(t: T): T {
  if (t._scope) {
    t._scope = null;
    if (!t.isDisposed) finalizer.register(t, t.handle);
  }
  return t;
}

/** Number of live native tensor handles (for leak tests). */
export function liveTensors(): number {
  return native.liveCount();
}

/** Dispose every tensor found in `v` (a tensor, or arrays / objects of tensors). */
export function disposeAll(v: unknown): void {
  const s = new Set<Tensor>();
  collectTensors(v, s, 0);
  for (const t of s) t.dispose();
}

// ---------------------------------------------------------------- Tensor

type Operand = Tensor | number;
function h(x: Operand): Handle | number {
  return typeof x === 'number' ? x : x.handle;
}

/**
 * Safety net for tensors that live outside every scope: when such a Tensor object is garbage
 * collected without dispose(), its native reference is dropped. Tensors made inside a scope are
 * freed deterministically by the scope and skip this (registration costs about as much as an op).
 * Disposing a handle twice is harmless (the native side ignores stale handles).
 */
const finalizer = new FinalizationRegistry<Handle>((hd) => native.dispose(hd));

/** A slice spec for `index`: an integer selects, a string 'start:end:step' slices, ':' or null keeps. */
export type IndexPart = number | string | null;

export class Tensor {
  private _h: Handle | null;
  /** @internal the scope that owns this tensor */
  _scope: Scope | null = null;

  /** @internal wrap a native handle; use the factory functions instead. */
  constructor(handle: Handle) {
    this._h = handle;
    const top = scopes.length ? scopes[scopes.length - 1]! : null;
    if (top) {
      top.push(this);
      this._scope = top;
    } else {
      finalizer.register(this, handle);
    }
  }

  /** @internal the native handle; throws a clear error after dispose(). */
  get handle(): Handle {
    if (this._h === null) throw new Error('tensor used after dispose()');
    return this._h;
  }

  get isDisposed(): boolean {
    return this._h === null;
  }

  /** Drop this handle's reference to the tensor now. Safe to call twice. */
  dispose(): void {
    if (this._h !== null) {
      native.dispose(this._h);
      this._h = null;
    }
    this._scope = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- info
  get shape(): number[] {
    return native.shape(this.handle);
  }
  get dtype(): DType {
    return native.dtype(this.handle) as DType;
  }
  get device(): string {
    return native.device(this.handle);
  }
  get ndim(): number {
    return this.shape.length;
  }
  numel(): number {
    return native.numel(this.handle);
  }
  size(dim: number): number {
    const s = this.shape;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new ShapeError(`size(${dim}): tensor has ${s.length} dimensions`);
    return s[d]!;
  }
  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }

  // ---- data
  toArray(): Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array {
    return native.toArray(this.handle);
  }
  /** Values as a flat array of JS numbers (int64 converted with Number()). */
  toNumbers(): number[] {
    const a = this.toArray();
    if (a instanceof BigInt64Array) return Array.from(a, (v) => Number(v));
    return Array.from(a as ArrayLike<number>);
  }
  /** Raw little-endian bytes (safetensors layout). */
  toBytes(): Buffer {
    return native.toBytes(this.handle);
  }
  item(): number {
    const v = native.item(this.handle);
    return typeof v === 'boolean' ? (v ? 1 : 0) : v;
  }
  to(target: DType | Device | { dtype?: DType; device?: Device }): Tensor {
    if (typeof target === 'string') {
      const isDevice = target === 'cpu' || target.startsWith('cuda');
      return new Tensor(native.to(this.handle, isDevice ? null : target, isDevice ? target : null));
    }
    return new Tensor(native.to(this.handle, target.dtype ?? null, target.device ?? null));
  }
  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  long(): Tensor {
    return this.to('int64');
  }

  // ---- autograd
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  set requiresGrad(v: boolean) {
    native.setRequiresGrad(this.handle, v);
  }
  requiresGrad_(v = true): this {
    native.setRequiresGrad(this.handle, v);
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  /** The accumulated gradient (a new handle each call), or null. */
  get grad(): Tensor | null {
    const g = native.getGrad(this.handle);
    return g ? new Tensor(g) : null;
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g ? g.handle : null);
  }
  backward(gradient?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native.backward(this.handle, gradient ? gradient.handle : null, opts.retainGraph ?? null, opts.createGraph ?? false);
  }
  detach(): Tensor {
    return new Tensor(native.unary(this.handle, U.detach));
  }
  clone(): Tensor {
    return new Tensor(native.unary(this.handle, U.clone));
  }
  contiguous(): Tensor {
    return new Tensor(native.unary(this.handle, U.contiguous));
  }

  // ---- element-wise
  private un(op: number): Tensor {
    return new Tensor(native.unary(this.handle, op));
  }
  /** Re-label a native error with the public op name ("binary: …" → "add: …"). */
  private static renamed(e: unknown, op: string): never {
    if (e instanceof Error) e.message = e.message.replace(/^(binary|inplace|reduce|unary): /, `${op}: `);
    throw e;
  }
  neg(): Tensor { return this.un(U.neg); }
  exp(): Tensor { return this.un(U.exp); }
  log(): Tensor { return this.un(U.log); }
  log1p(): Tensor { return this.un(U.log1p); }
  sqrt(): Tensor { return this.un(U.sqrt); }
  rsqrt(): Tensor { return this.un(U.rsqrt); }
  abs(): Tensor { return this.un(U.abs); }
  relu(): Tensor { return this.un(U.relu); }
  tanh(): Tensor { return this.un(U.tanh); }
  sigmoid(): Tensor { return this.un(U.sigmoid); }
  square(): Tensor { return this.un(U.square); }
  sign(): Tensor { return this.un(U.sign); }
  floor(): Tensor { return this.un(U.floor); }
  ceil(): Tensor { return this.un(U.ceil); }
  round(): Tensor { return this.un(U.round); }
  cos(): Tensor { return this.un(U.cos); }
  sin(): Tensor { return this.un(U.sin); }
  reciprocal(): Tensor { return this.un(U.reciprocal); }
  isnan(): Tensor { return this.un(U.isnan); }
  isfinite(): Tensor { return this.un(U.isfinite); }
  logicalNot(): Tensor { return this.un(U.logicalNot); }
  zerosLike(): Tensor { return this.un(U.zerosLike); }
  onesLike(): Tensor { return this.un(U.onesLike); }
  randnLike(): Tensor { return this.un(U.randnLike); }
  randLike(): Tensor { return this.un(U.randLike); }

  private bin(other: Operand, op: number, alpha: number | null = null): Tensor {
    try {
      return new Tensor(native.binary(this.handle, h(other), op, alpha, typeof other === 'number'));
    } catch (e) {
      return Tensor.renamed(e, BIN_NAMES[op]!);
    }
  }
  /** this + alpha·other */
  add(other: Operand, alpha?: number): Tensor { return this.bin(other, B.add, alpha ?? null); }
  /** this − alpha·other */
  sub(other: Operand, alpha?: number): Tensor { return this.bin(other, B.sub, alpha ?? null); }
  /** other − this */
  rsub(other: Operand): Tensor { return this.bin(other, B.rsub); }
  mul(other: Operand): Tensor { return this.bin(other, B.mul); }
  div(other: Operand): Tensor { return this.bin(other, B.div); }
  pow(other: Operand): Tensor { return this.bin(other, B.pow); }
  fmod(other: Operand): Tensor { return this.bin(other, B.fmod); }
  eq(other: Operand): Tensor { return this.bin(other, B.eq); }
  ne(other: Operand): Tensor { return this.bin(other, B.ne); }
  lt(other: Operand): Tensor { return this.bin(other, B.lt); }
  le(other: Operand): Tensor { return this.bin(other, B.le); }
  gt(other: Operand): Tensor { return this.bin(other, B.gt); }
  ge(other: Operand): Tensor { return this.bin(other, B.ge); }
  maximum(other: Operand): Tensor { return this.bin(other, B.maximum); }
  minimum(other: Operand): Tensor { return this.bin(other, B.minimum); }
  logicalAnd(other: Tensor): Tensor { return this.bin(other, B.logicalAnd); }
  logicalOr(other: Tensor): Tensor { return this.bin(other, B.logicalOr); }
  matmul(other: Tensor): Tensor { return this.bin(other, B.matmul); }
  clamp(min: number | null, max: number | null = null): Tensor {
    return new Tensor(native.clamp(this.handle, min, max));
  }

  // ---- in place (return this)
  add_(other: Operand, alpha?: number): this {
    native.inplace(this.handle, h(other), I.add, alpha ?? null, null, typeof other === 'number');
    return this;
  }
  sub_(other: Operand, alpha?: number): this {
    native.inplace(this.handle, h(other), I.sub, alpha ?? null, null, typeof other === 'number');
    return this;
  }
  mul_(other: Operand): this {
    native.inplace(this.handle, h(other), I.mul, null, null, typeof other === 'number');
    return this;
  }
  div_(other: Operand): this {
    native.inplace(this.handle, h(other), I.div, null, null, typeof other === 'number');
    return this;
  }
  copy_(src: Tensor): this {
    native.inplace(this.handle, src.handle, I.copy, null, null, false);
    return this;
  }
  zero_(): this {
    native.inplace(this.handle, null, I.zero, null, null, false);
    return this;
  }
  fill_(v: number): this {
    native.inplace(this.handle, v, I.fill, null, null, true);
    return this;
  }
  clamp_(min: number | null, max: number | null = null): this {
    native.inplace(this.handle, min, I.clamp, max, null, true);
    return this;
  }
  /** this += value · t1 · t2 */
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this {
    native.inplace(this.handle, t1.handle, I.addcmul, value, t2.handle, false);
    return this;
  }
  /** this += value · t1 / t2 */
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this {
    native.inplace(this.handle, t1.handle, I.addcdiv, value, t2.handle, false);
    return this;
  }
  uniform_(from = 0, to = 1): this {
    native.fillRandom(this.handle, 'uniform', from, to);
    return this;
  }
  normal_(mean = 0, std = 1): this {
    native.fillRandom(this.handle, 'normal', mean, std);
    return this;
  }

  // ---- reductions
  private red(op: number, dims?: number | number[], keepdim = false): Tensor {
    const d = dims === undefined ? null : typeof dims === 'number' ? [dims] : dims;
    return new Tensor(native.reduce(this.handle, op, d, keepdim));
  }
  sum(dims?: number | number[], keepdim = false): Tensor { return this.red(R.sum, dims, keepdim); }
  mean(dims?: number | number[], keepdim = false): Tensor { return this.red(R.mean, dims, keepdim); }
  /** max over all elements (no dims) or amax over dims */
  max(dims?: number | number[], keepdim = false): Tensor { return this.red(R.amax, dims, keepdim); }
  min(dims?: number | number[], keepdim = false): Tensor { return this.red(R.amin, dims, keepdim); }
  prod(dim?: number, keepdim = false): Tensor { return this.red(R.prod, dim, keepdim); }
  any(dim?: number, keepdim = false): Tensor { return this.red(R.any, dim, keepdim); }
  all(dim?: number, keepdim = false): Tensor { return this.red(R.all, dim, keepdim); }
  std(dims?: number | number[], keepdim = false): Tensor { return this.red(R.std, dims, keepdim); }
  var(dims?: number | number[], keepdim = false): Tensor { return this.red(R.var, dims, keepdim); }
  /** values and indices of the maximum along `dim` */
  maxDim(dim: number, keepdim = false): [Tensor, Tensor] {
    const [v, i] = native.maxDim(this.handle, dim, keepdim, false);
    return [new Tensor(v), new Tensor(i)];
  }
  minDim(dim: number, keepdim = false): [Tensor, Tensor] {
    const [v, i] = native.maxDim(this.handle, dim, keepdim, true);
    return [new Tensor(v), new Tensor(i)];
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmax(this.handle, dim ?? null, keepdim, false));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmax(this.handle, dim ?? null, keepdim, true));
  }
  topk(k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] {
    const [v, i] = native.topk(this.handle, k, dim, largest, sorted);
    return [new Tensor(v), new Tensor(i)];
  }
  sort(dim = -1, descending = false): [Tensor, Tensor] {
    const [v, i] = native.sort(this.handle, dim, descending);
    return [new Tensor(v), new Tensor(i)];
  }
  norm(p = 2, dims?: number | number[], keepdim = false): Tensor {
    const d = dims === undefined ? null : typeof dims === 'number' ? [dims] : dims;
    return new Tensor(native.norm(this.handle, p, d, keepdim));
  }

  // ---- shapes
  view(...shape: number[] | [number[]]): Tensor {
    return new Tensor(native.view(this.handle, flatShape(shape)));
  }
  reshape(...shape: number[] | [number[]]): Tensor {
    return new Tensor(native.reshape(this.handle, flatShape(shape)));
  }
  permute(...dims: number[] | [number[]]): Tensor {
    return new Tensor(native.permute(this.handle, flatShape(dims)));
  }
  expand(...shape: number[] | [number[]]): Tensor {
    return new Tensor(native.expand(this.handle, flatShape(shape)));
  }
  transpose(d0: number, d1: number): Tensor {
    return new Tensor(native.transpose(this.handle, d0, d1));
  }
  t(): Tensor {
    return this.transpose(0, 1);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return new Tensor(native.narrow(this.handle, dim, start, length));
  }
  /** Python's x[..., start:end:step] along one dimension. */
  slice(dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    return new Tensor(native.slice(this.handle, dim, start, end, step));
  }
  select(dim: number, index: number): Tensor {
    return new Tensor(native.select(this.handle, dim, index));
  }
  /**
   * Python-style indexing, one part per leading dimension: `x.index(':', ':', '1:', '1:')` is
   * `x[:, :, 1:, 1:]`, `x.index(null, null, '::2', '::2')` is `x[:, :, ::2, ::2]`, an integer selects.
   */
  index(...parts: IndexPart[]): Tensor {
    let cur: Tensor = this;
    let dim = 0;
    const made: Tensor[] = [];
    for (const p of parts) {
      if (p === null || p === ':') {
        dim++;
        continue;
      }
      let next: Tensor;
      if (typeof p === 'number') {
        next = cur.select(dim, p);
      } else {
        const m = /^\s*(-?\d+)?\s*:\s*(-?\d+)?\s*(?::\s*(\d+)?)?\s*$/.exec(p);
        if (!m) throw new ShapeError(`index: cannot parse slice '${p}' (expected 'start:end:step')`);
        next = cur.slice(dim, m[1] !== undefined ? +m[1] : null, m[2] !== undefined ? +m[2] : null, m[3] !== undefined ? +m[3] : 1);
        dim++;
      }
      if (cur !== this) made.push(cur);
      cur = next;
    }
    for (const t of made) t.dispose();
    return cur === this ? this.view(this.shape) : cur;
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(native.indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(native.gather(this.handle, dim, index.handle));
  }
  squeeze(dim?: number): Tensor {
    return new Tensor(native.squeeze(this.handle, dim ?? null));
  }
  unsqueeze(dim: number): Tensor {
    return new Tensor(native.unsqueeze(this.handle, dim));
  }
  flatten(start = 0, end = -1): Tensor {
    return new Tensor(native.flatten(this.handle, start, end));
  }
  /** Constant padding, PyTorch's F.pad order: [left, right, top, bottom, ...]. */
  pad(pad: number[], value = 0): Tensor {
    return new Tensor(native.pad(this.handle, pad, value));
  }
  flip(dims: number[]): Tensor {
    return new Tensor(native.flip(this.handle, dims));
  }
}

function flatShape(s: number[] | [number[]]): number[] {
  return Array.isArray(s[0]) ? (s[0] as number[]) : (s as number[]);
}

/** @internal */
export function wrap(hd: Handle): Tensor {
  return new Tensor(hd);
}

// ---------------------------------------------------------------- factories

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

function create(kind: string, shape: number[], opts?: CreateOptions, value?: number): Tensor {
  return finish(new Tensor(native.create(kind, shape, opts?.dtype ?? null, opts?.device ?? null, value)), opts);
}
export const zeros = (shape: number[], opts?: CreateOptions): Tensor => create('zeros', shape, opts);
export const ones = (shape: number[], opts?: CreateOptions): Tensor => create('ones', shape, opts);
export const empty = (shape: number[], opts?: CreateOptions): Tensor => create('empty', shape, opts);
export const full = (shape: number[], value: number, opts?: CreateOptions): Tensor => create('full', shape, opts, value);
/** Standard normal samples from libtorch's seeded generator. */
export const randn = (shape: number[], opts?: CreateOptions): Tensor => create('randn', shape, opts);
/** Uniform [0, 1) samples from libtorch's seeded generator. */
export const rand = (shape: number[], opts?: CreateOptions): Tensor => create('rand', shape, opts);
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

// ---------------------------------------------------------------- free functions

export function cat(ts: Tensor[], dim = 0): Tensor {
  return new Tensor(native.cat(ts.map((t) => t.handle), dim));
}
export function stack(ts: Tensor[], dim = 0): Tensor {
  return new Tensor(native.stack(ts.map((t) => t.handle), dim));
}
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  return new Tensor(native.where(cond.handle, h(a), h(b), typeof a === 'number', typeof b === 'number'));
}
export function oneHot(indices: Tensor, numClasses: number): Tensor {
  return new Tensor(native.oneHot(indices.handle, numClasses));
}
