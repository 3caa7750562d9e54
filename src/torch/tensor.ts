/** The Tensor class: a handle to one libtorch tensor, with its info, data, autograd, view and indexing methods (the op families are generated: ops.generated.ts). */
import { native, type Handle } from './native.js';
import { ShapeError, TorchError } from '../errors.js';
import { TensorOps } from './ops.generated.js';
import { adopt, SCOPED, type Scope, type ScopeMember } from './scopes.js';

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

/** A slice spec for `index`: an integer selects, a string 'start:end:step' slices, ':' or null keeps. */
export type IndexPart = number | string | null;

export class Tensor extends TensorOps<Tensor> implements ScopeMember {
  private _h: Handle | null;
  /** @internal the scope that owns this tensor */
  _scope: Scope | null = null;

  /** @internal wrap a native handle; use the factory functions instead. */
  constructor(handle: Handle) {
    super();
    this._h = handle;
    adopt(this, handle);
  }

  /** @internal the native handle; throws a clear error after dispose(). */
  override get handle(): Handle {
    if (this._h === null) throw new TorchError('tensor used after dispose()');
    return this._h;
  }

  /** @internal */
  protected override _wrap(h: Handle): Tensor {
    return new Tensor(h);
  }

  /** @internal scopes recognise tensors by this brand */
  get [SCOPED](): true {
    return true;
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
  override toString(): string {
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

  // ---- element-wise, in-place and reduction ops beyond the generated ones (ops.generated.ts)
  clamp(min: number | null, max: number | null = null): Tensor {
    return new Tensor(native.clamp(this.handle, min, max));
  }
  clamp_(min: number | null, max: number | null = null): this {
    native.clamp_(this.handle, min, max);
    return this;
  }
  uniform_(from = 0, to = 1): this {
    native.uniform_(this.handle, from, to);
    return this;
  }
  normal_(mean = 0, std = 1): this {
    native.normal_(this.handle, mean, std);
    return this;
  }

  /** values and indices of the maximum along `dim` */
  maxDim(dim: number, keepdim = false): [Tensor, Tensor] {
    const [v, i] = native.maxDim(this.handle, dim, keepdim, false);
    return [new Tensor(v), new Tensor(i)];
  }
  minDim(dim: number, keepdim = false): [Tensor, Tensor] {
    const [v, i] = native.minDim(this.handle, dim, keepdim, true);
    return [new Tensor(v), new Tensor(i)];
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmax(this.handle, dim ?? null, keepdim, false));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmin(this.handle, dim ?? null, keepdim, true));
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

  // ---- shapes (transpose, narrow, select, squeeze, flatten, pad, ... are generated: ops.generated.ts)
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
  t(): Tensor {
    return this.transpose(0, 1);
  }
  /** Python's x[..., start:end:step] along one dimension. */
  slice(dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    return new Tensor(native.slice(this.handle, dim, start, end, step));
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
}

function flatShape(s: number[] | [number[]]): number[] {
  return Array.isArray(s[0]) ? (s[0] as number[]) : (s as number[]);
}

/** @internal */
export function wrap(hd: Handle): Tensor {
  return new Tensor(hd);
}
