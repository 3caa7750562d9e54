/**
 * Lanczos with full reorthogonalisation for the extreme eigenvalues of a symmetric operator
 * given only as a (possibly asynchronous) matrix-vector product, e.g. an exact
 * Hessian-vector product through double back-propagation.
 *
 * After m steps, A Q_m = Q_m T_m + β_m q_{m+1} e_mᵀ with T_m tridiagonal. The Ritz values θ_i
 * are the eigenvalues of T_m; with s_i the unit eigenvector of T_m, the Ritz pair satisfies
 * ‖A y_i − θ_i y_i‖ = |β_m · s_i[m−1]| (the residual bound reported as `residuals`).
 * Each new Lanczos vector is orthogonalised twice against all previous ones (classical
 * Gram–Schmidt, "twice is enough"), so the basis stays orthonormal to rounding and no ghost
 * eigenvalues appear.
 *
 * Stopping: when every requested top Ritz value θ (k of them; k = 1 by default) has
 * residual ≤ tol·|θ| — or, with `eigTol`, when the largest one's error estimate
 * min(r, r²/gap) ≤ eigTol·|θ| (r its residual, gap = θ₁ − θ₂ the Ritz gap: for a well separated
 * eigenvalue the error of θ₁ is about r²/gap, Kato–Temple / Parlett §11, far below r; the other
 * top-k values are then returned as they stand) — or after `maxIter` operator calls, or when β ≈ 0 (the Krylov space is
 * invariant: the Ritz values are then exact eigenvalues of the operator). A random start
 * vector has, with probability 1, a component along every eigenvector, so the invariant
 * subspace it generates contains the top eigenvalue.
 */
import { ShapeError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { tridiagonalEigen } from './eigen.js';

export type Operator = (v: Float64Array) => Float64Array | Promise<Float64Array>;

export interface LanczosOptions {
  /** How many of the algebraically largest Ritz values to return (default 1). */
  k?: number;
  /** Relative residual tolerance for the top-k Ritz values (default 1e-6). */
  tol?: number;
  /** Stop on the largest Ritz value's estimated error min(r, r²/gap) ≤ eigTol·|θ₁| instead (see the header). */
  eigTol?: number;
  /** Maximum number of operator calls (default min(n, 40)); clamped to n. */
  maxIter?: number;
  /** Seeded generator for the start vector (default `new Rng(0)`); ignored with `start`. */
  rng?: Rng;
  /** Explicit start vector (need not be normalised; must be non-zero). */
  start?: Float64Array;
  /** Also return the Ritz vectors of the top-k values (default false). */
  vectors?: boolean;
}

export interface LanczosResult {
  /** The top-k Ritz values, descending (fewer if the Krylov space is smaller than k). */
  top: number[];
  /** Residual bounds |β_m·s_i[m−1]| for `top`, same order. */
  residuals: number[];
  /** The smallest Ritz value (an upper bound on λ_min; not checked for convergence). */
  bottom: number;
  /** Its residual bound. */
  bottomResidual: number;
  /** Number of operator calls made (= Lanczos steps). */
  operatorCalls: number;
  /** Whether every top-k value met the tolerance (always true after an invariant subspace). */
  converged: boolean;
  /** True when the iteration stopped because β ≈ 0. */
  invariantSubspace: boolean;
  /** All Ritz values of the final T_m, ascending. */
  ritzValues: number[];
  /** Unit Ritz vectors for `top` (with `vectors: true`). */
  ritzVectors?: Float64Array[];
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Run Lanczos on the symmetric operator `op` of dimension n. */
export async function lanczos(op: Operator, n: number, opts: LanczosOptions = {}): Promise<LanczosResult> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`lanczos: dimension n must be a positive integer, got ${n}`);
  const k = opts.k ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`lanczos: k must be a positive integer, got ${k}`);
  const tol = opts.tol ?? 1e-6;
  const maxIter = Math.min(n, Math.max(1, opts.maxIter ?? Math.min(n, 40)));

  let q = new Float64Array(n);
  if (opts.start) {
    if (opts.start.length !== n) throw new ShapeError(`lanczos: start vector has length ${opts.start.length}, expected ${n}`);
    q.set(opts.start);
  } else {
    const rng = opts.rng ?? new Rng(0);
    for (let i = 0; i < n; i++) q[i] = rng.normal();
  }
  const q0n = Math.sqrt(dot(q, q));
  if (!(q0n > 0) || !Number.isFinite(q0n)) throw new RangeError('lanczos: start vector must be non-zero and finite');
  for (let i = 0; i < n; i++) q[i] = q[i]! / q0n;

  const Q: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = []; // beta[j] couples q_j and q_{j+1}
  let invariant = false;
  let result: { values: Float64Array; vectors?: Float64Array } = { values: new Float64Array(0) };
  let betaLast = 0;
  let anorm = 0;

  // Only the last row of T_m's eigenvector matrix is needed for the residual bounds,
  // so accumulate the rotations into e_mᵀ (1×m) instead of the full identity.
  const ritz = (m: number) => {
    const last = new Float64Array(m);
    last[m - 1] = 1;
    return tridiagonalEigen(alpha, beta.slice(0, m - 1), { rows: 1, data: last });
  };
  const topResiduals = (m: number, res: { values: Float64Array; vectors?: Float64Array }, bl: number) => {
    const out: number[] = [];
    for (let t = 0; t < Math.min(k, m); t++) {
      const col = m - 1 - t;
      out.push(Math.abs(bl * res.vectors![col]!));
    }
    return out;
  };

  for (let j = 0; j < maxIter; j++) {
    Q.push(q);
    const w0 = await op(q);
    if (!w0 || w0.length !== n) {
      throw new ShapeError(`lanczos: operator returned a vector of length ${w0?.length}, expected ${n}`, 'the operator must map Rⁿ → Rⁿ');
    }
    const w = Float64Array.from(w0);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(w[i]!)) throw new ShapeError(`lanczos: operator returned a non-finite entry (${w[i]}) at step ${j}`);
    }
    const a = dot(q, w);
    alpha.push(a);
    // full reorthogonalisation, twice
    for (let pass = 0; pass < 2; pass++) {
      for (const qi of Q) {
        const c = dot(qi, w);
        for (let i = 0; i < n; i++) w[i] = w[i]! - c * qi[i]!;
      }
    }
    const b = Math.sqrt(dot(w, w));
    anorm = Math.max(anorm, Math.abs(a) + b + (j > 0 ? beta[j - 1]! : 0));
    const m = j + 1;
    betaLast = b;
    result = ritz(m);
    if (b <= 1e-12 * anorm || b === 0) {
      invariant = true;
      betaLast = 0;
      break;
    }
    const res = topResiduals(m, result, b);
    const vals = result.values;
    const done = opts.eigTol !== undefined ? m >= 2 && eigenvalueError(res[0]!, vals, m) <= opts.eigTol * Math.abs(vals[m - 1]!) : m >= Math.min(k, n) && res.every((r, t) => r <= tol * Math.abs(vals[m - 1 - t]!));
    if (done || j === maxIter - 1) break;
    beta.push(b);
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) next[i] = w[i]! / b;
    q = next;
  }

  const m = alpha.length;
  const vals = result.values;
  const residuals = topResiduals(m, result, betaLast);
  const top: number[] = [];
  for (let t = 0; t < Math.min(k, m); t++) top.push(vals[m - 1 - t]!);
  const converged =
    invariant || m === n || (opts.eigTol !== undefined ? m >= 2 && eigenvalueError(residuals[0]!, vals, m) <= opts.eigTol * Math.abs(top[0]!) : residuals.every((r, t) => r <= tol * Math.abs(top[t]!)));
  const out: LanczosResult = {
    top,
    residuals,
    bottom: vals[0]!,
    bottomResidual: Math.abs(betaLast * result.vectors![0]!),
    operatorCalls: m,
    converged,
    invariantSubspace: invariant,
    ritzValues: Array.from(vals),
  };
  if (opts.vectors) {
    const I = new Float64Array(m * m);
    for (let i = 0; i < m; i++) I[i * m + i] = 1;
    const full = tridiagonalEigen(alpha, beta.slice(0, m - 1), { rows: m, data: I });
    out.ritzVectors = top.map((_, t) => {
      const col = m - 1 - t;
      const y = new Float64Array(n);
      for (let j = 0; j < m; j++) {
        const s = full.vectors![j * m + col]!;
        const qj = Q[j]!;
        for (let i = 0; i < n; i++) y[i] = y[i]! + s * qj[i]!;
      }
      return y;
    });
  }
  return out;
}

/** The error estimate of the largest Ritz value: min(r, r²/gap), gap = θ₁ − θ₂ (r when the two coincide). */
export function eigenvalueError(r: number, ascending: ArrayLike<number>, m: number): number {
  const gap = ascending[m - 1]! - ascending[m - 2]!;
  return gap > 0 ? Math.min(r, (r * r) / gap) : r;
}

/** The operator v ↦ H v of a dense row-major n×n matrix. */
export function denseOperator(h: Float64Array, n: number): (v: Float64Array) => Float64Array {
  if (h.length !== n * n) throw new ShapeError(`denseOperator: matrix has ${h.length} entries, expected ${n}×${n}`);
  return (v) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let j = 0; j < n; j++) s += h[row + j]! * v[j]!;
      out[i] = s;
    }
    return out;
  };
}
