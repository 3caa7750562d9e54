/**
 * Architecture weights α: storage, layout and conversions (docs/spaces.md#supernet, docs/hessian.md#flat-order).
 *
 * Layout: two leaf tensors `normal` and `reduce`, each [edges, maxOps], one row per edge in the
 * edge order of docs/spaces.md#edge-order, columns in the edge's op-list order. For the shipped spaces every edge
 * has the same op count, so there is no padding. For a ragged user space, rows are padded to
 * maxOps; padded entries are held at 0 and masked to −∞ inside the softmax, so they get weight 0
 * and gradient 0. α is no module parameter: the supernet holds an `Alphas` beside its modules.
 *
 * Flat order (Hessian, docs/hessian.md#flat-order): normal first, then reduce; edge-major; op within edge; valid
 * (non-padded) entries only. `flatIndex()` lists it, `vector` / `fromVector` convert.
 */
import { F, Tensor, cat, keep, noGrad, randn, tensor, tidy, zeros, type DType, type Device } from '../torch/index.js';
import { ShapeError } from '../errors.js';
import { softmaxRows } from './derive.js';
import type { PrimitiveName } from './primitives.js';
import { alphaShape, numEdges, type CellType, type SearchSpace } from './spaces.js';

/** Architecture weights, one [edges, maxOps] tensor per cell type. */
export interface ArchWeights {
  normal: Tensor;
  reduce: Tensor;
}

/** Per-edge values in the ragged layout of `alphaShape(space)` (one row per edge, that edge's op count). */
export interface AlphaValues {
  normal: number[][];
  reduce: number[][];
}

/** One entry of the flat α order. */
export interface FlatAlphaEntry {
  cell: CellType;
  edge: number;
  /** Column within the edge (= position in the edge's op list). */
  op: number;
  name: PrimitiveName;
  /** Row-major position in that cell type's [edges, maxOps] tensor. */
  position: number;
  /** Position in concat(flatten(alphaNormal), flatten(alphaReduce)) (padding included). */
  paddedPosition: number;
}

/** α of one space: the two kept leaf tensors (requiresGrad) and their padding masks. */
export class Alphas {
  readonly space: SearchSpace;
  /** Edges per cell type. */
  readonly numEdges: number;
  /** Ops on each edge, per cell type (α row lengths). */
  readonly opsPerEdge: { normal: number[]; reduce: number[] };
  /** α columns (padded row length), per cell type. */
  readonly maxOps: { normal: number; reduce: number };
  private _normal: Tensor;
  private _reduce: Tensor;
  /** −∞ at padded α entries, 0 elsewhere; null when the cell type's rows are uniform. */
  private _maskNormal: Tensor | null;
  private _maskReduce: Tensor | null;

  /** Fresh α: 1e-3·N(0,1) on valid entries (normal first, then reduce, from libtorch's seeded generator), 0 on padding. */
  constructor(space: SearchSpace) {
    this.space = space;
    this.numEdges = numEdges(space.steps);
    const shape = alphaShape(space);
    this.opsPerEdge = { normal: shape.normal.opsPerEdge, reduce: shape.reduce.opsPerEdge };
    this.maxOps = { normal: shape.normal.maxOps, reduce: shape.reduce.maxOps };
    this._normal = this.init('normal');
    this._reduce = this.init('reduce');
    this._maskNormal = this.makeMask('normal', 'float32');
    this._maskReduce = this.makeMask('reduce', 'float32');
  }

  /** 1e-3·N(0,1) on valid entries, 0 on padding; a kept leaf with requiresGrad. */
  private init(cell: CellType): Tensor {
    const rows = this.opsPerEdge[cell];
    const m = this.maxOps[cell];
    const a = noGrad(() =>
      tidy(() => {
        const t = randn([rows.length, m]).mul(1e-3);
        const valid = this.validMask(cell);
        if (!valid) return t.detach();
        const vals = Float32Array.from(t.toNumbers(), (v, i) => (valid[i] ? v : 0)); // exact +0 at padding
        return tensor(vals, [rows.length, m]);
      }),
    );
    keep(a);
    a.requiresGrad = true;
    return a;
  }

  /** 1 at valid entries, 0 at padding (row-major), or null for uniform rows. */
  private validMask(cell: CellType): Float32Array | null {
    const rows = this.opsPerEdge[cell];
    const m = this.maxOps[cell];
    if (rows.every((n) => n === m)) return null;
    const out = new Float32Array(rows.length * m);
    rows.forEach((n, e) => out.fill(1, e * m, e * m + n));
    return out;
  }

  private makeMask(cell: CellType, dtype: DType): Tensor | null {
    const valid = this.validMask(cell);
    if (!valid) return null;
    const t = noGrad(() => tensor(valid.map((v) => (v ? 0 : -Infinity)), [valid.length / this.maxOps[cell], this.maxOps[cell]], { dtype }));
    return keep(t);
  }

  get normal(): Tensor {
    return this._normal;
  }
  get reduce(): Tensor {
    return this._reduce;
  }

  /** [normal, reduce]: the upper-level variables. */
  parameters(): Tensor[] {
    return [this._normal, this._reduce];
  }

  /** Number of valid α entries (both cell types): the Hessian is this square. */
  count(): number {
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    return sum(this.opsPerEdge.normal) + sum(this.opsPerEdge.reduce);
  }

  /** Row softmax of α, padded entries masked out (weight 0, gradient 0). Differentiable in α. */
  weights(): ArchWeights {
    const sm = (a: Tensor, mask: Tensor | null) => tidy(() => F.softmax(mask ? a.add(mask) : a, -1));
    return { normal: sm(this._normal, this._maskNormal), reduce: sm(this._reduce, this._maskReduce) };
  }

  private rows(t: Tensor, cell: CellType): number[][] {
    const flat = t.toNumbers();
    const m = this.maxOps[cell];
    return this.opsPerEdge[cell].map((n, e) => flat.slice(e * m, e * m + n));
  }

  /** Raw α, one row per edge with that edge's op count (the layout of `alphaShape(space)`). */
  values(): AlphaValues {
    return { normal: this.rows(this._normal, 'normal'), reduce: this.rows(this._reduce, 'reduce') };
  }

  /** softmax(α) per edge, same ragged layout as `values()`. */
  softmaxValues(): AlphaValues {
    const a = this.values();
    return { normal: softmaxRows(a.normal), reduce: softmaxRows(a.reduce) };
  }

  /** Padded [edges, maxOps] values of a ragged per-edge layout; throws ShapeError on a mismatch. */
  private padded(values: number[][], cell: CellType, what: string): Float64Array {
    const rows = this.opsPerEdge[cell];
    const m = this.maxOps[cell];
    if (!Array.isArray(values) || values.length !== rows.length) {
      throw new ShapeError(`${what}: ${cell} has ${Array.isArray(values) ? values.length : 'no'} rows, space '${this.space.name}' has ${rows.length} edges`, 'give one row per edge, in edge order');
    }
    const out = new Float64Array(rows.length * m);
    values.forEach((row, e) => {
      if (!Array.isArray(row) || row.length !== rows[e]) {
        throw new ShapeError(`${what}: ${cell} row ${e} has ${Array.isArray(row) ? row.length : 'no'} entries, edge ${e} has ${rows[e]} ops`, 'use the layout of alphaShape(space)');
      }
      row.forEach((v, k) => {
        if (typeof v !== 'number' || Number.isNaN(v)) throw new ShapeError(`${what}: ${cell}[${e}][${k}] is ${String(v)}`);
        out[e * m + k] = v;
      });
    });
    return out;
  }

  /** Overwrite α in place (per cell type, one row per edge with that edge's op count). `what` names the caller in errors. */
  set(values: AlphaValues, what = 'setAlphas'): void {
    const n = this.padded(values.normal, 'normal', what);
    const r = this.padded(values.reduce, 'reduce', what);
    noGrad(() =>
      tidy(() => {
        this._normal.copy_(tensor(n, [this.numEdges, this.maxOps.normal]).to(this._normal.dtype));
        this._reduce.copy_(tensor(r, [this.numEdges, this.maxOps.reduce]).to(this._reduce.dtype));
      }),
    );
  }

  /**
   * Edge-weight tensors from per-edge values (ragged layout, e.g. `genotypeToOneHot`), padded with
   * zeros, in α's dtype/device. Created in the caller's scope.
   */
  weightsFromValues(values: AlphaValues, what = 'weightsFromValues'): ArchWeights {
    const dtype = this._normal.dtype;
    const device = this._normal.device as Device;
    const n = this.padded(values.normal, 'normal', what);
    const r = this.padded(values.reduce, 'reduce', what);
    return {
      normal: tensor(n, [this.numEdges, this.maxOps.normal], { dtype, device }),
      reduce: tensor(r, [this.numEdges, this.maxOps.reduce], { dtype, device }),
    };
  }

  /** Throws ShapeError unless `w` holds one [edges, maxOps] tensor per cell type. `what` names the caller. */
  checkWeights(w: ArchWeights, what = 'forward'): void {
    for (const cell of ['normal', 'reduce'] as const) {
      const t = w[cell];
      const want = [this.numEdges, this.maxOps[cell]];
      if (!(t instanceof Tensor) || t.shape.join(',') !== want.join(',')) {
        throw new ShapeError(
          `${what}: ${cell} weights have shape [${t instanceof Tensor ? t.shape.join(', ') : '?'}], expected [${want.join(', ')}]`,
          'pass one row per edge, padded to the longest op list (see weightsFromValues)',
        );
      }
    }
  }

  /** The flat α order (docs/hessian.md#flat-order): normal then reduce, edge-major, op within edge, valid entries only. */
  flatIndex(): FlatAlphaEntry[] {
    const out: FlatAlphaEntry[] = [];
    let base = 0;
    for (const cell of ['normal', 'reduce'] as const) {
      const m = this.maxOps[cell];
      this.space[cell].forEach((names, e) => {
        names.forEach((name, op) => out.push({ cell, edge: e, op, name, position: e * m + op, paddedPosition: base + e * m + op }));
      });
      base += this.numEdges * m;
    }
    return out;
  }

  private flatIndexTensor(): Tensor {
    return tensor(
      this.flatIndex().map((x) => x.paddedPosition),
      { dtype: 'int64', device: this._normal.device as Device },
    );
  }

  private isUniform(): boolean {
    return this._maskNormal === null && this._maskReduce === null;
  }

  /**
   * Flatten a pair of [edges, maxOps] tensors (α, its gradient, a direction…) into the 1-D flat
   * order of `flatIndex()` (valid entries only). Differentiable.
   */
  vector(pair: ArchWeights | Tensor[]): Tensor {
    const [a, b] = Array.isArray(pair) ? pair : [pair.normal, pair.reduce];
    if (!a || !b) throw new ShapeError('archVector: expected two tensors (normal, reduce)');
    return tidy(() => {
      const flat = cat([a.reshape(-1), b.reshape(-1)], 0);
      return this.isUniform() ? flat : flat.indexSelect(0, this.flatIndexTensor());
    });
  }

  /** Inverse of `vector`: [normal, reduce] tensors shaped like α (0 at padding). Differentiable. */
  fromVector(v: Tensor): [Tensor, Tensor] {
    const n = this.count();
    if (v.ndim !== 1 || v.shape[0] !== n) throw new ShapeError(`archFromVector: expected a vector of ${n} entries, got shape [${v.shape.join(', ')}]`);
    return tidy(() => {
      const sizeN = this.numEdges * this.maxOps.normal;
      const sizeR = this.numEdges * this.maxOps.reduce;
      let full: Tensor;
      if (this.isUniform()) {
        full = v;
      } else {
        // gather from [v, 0]: padded positions read the appended zero
        const src = new Array<number>(sizeN + sizeR).fill(n);
        this.flatIndex().forEach((x, i) => (src[x.paddedPosition] = i));
        const ext = cat([v, zeros([1], { dtype: v.dtype, device: v.device as Device })], 0);
        full = ext.indexSelect(0, tensor(src, { dtype: 'int64', device: v.device as Device }));
      }
      return [full.narrow(0, 0, sizeN).reshape(this.numEdges, this.maxOps.normal), full.narrow(0, sizeN, sizeR).reshape(this.numEdges, this.maxOps.reduce)];
    });
  }

  /** Move α and the masks (α stays a kept leaf with requiresGrad). */
  to(target: DType | Device): void {
    const move = (t: Tensor): Tensor => {
      const m = keep(noGrad(() => t.to(target).detach()));
      t.dispose();
      return m;
    };
    this._normal = move(this._normal);
    this._reduce = move(this._reduce);
    this._normal.requiresGrad = true;
    this._reduce.requiresGrad = true;
    if (this._maskNormal) this._maskNormal = move(this._maskNormal);
    if (this._maskReduce) this._maskReduce = move(this._maskReduce);
  }

  /** Free α and the masks. */
  dispose(): void {
    for (const t of [this._normal, this._reduce, this._maskNormal, this._maskReduce]) t?.dispose();
  }
}
