/**
 * Dense symmetric eigen-decomposition in float64, written out by hand (no numeric library):
 * Householder reduction to tridiagonal form, then the implicit symmetric QR algorithm with
 * Wilkinson shifts (Givens bulge chasing). O(n³); n = 224 takes a few milliseconds.
 *
 * Matrices are row-major `Float64Array`s of length n·n, or `number[][]` (as in the
 * reference's `derivatives_*.json`).
 *
 * Symmetry: a Hessian is symmetric in exact arithmetic, and the reference logs are exactly
 * symmetric (the code computes the upper triangle and mirrors it; checked on all 78 fixture
 * matrices: max |H − Hᵀ| = 0). We therefore always decompose the symmetric part
 * S = (H + Hᵀ)/2 and report the asymmetry max|H − Hᵀ| / max|H|. For an exactly symmetric H,
 * S = H and `maxEigenvalue(H)` equals numpy's `max(eigvals(H))` to rounding. For a slightly
 * asymmetric H (e.g. finite-difference Hessian-vector products) S is the nearest symmetric
 * matrix (Frobenius norm) and its eigenvalues are real; numpy's `eigvals` of the raw matrix
 * would differ by O(asymmetry). Pass `onAsymmetric: 'throw'` to refuse instead.
 */
import { ShapeError } from '../errors.js';

export type MatrixInput = Float64Array | number[] | number[][];

export interface SymmetricEigenOptions {
  /** Also compute eigenvectors (default false). */
  vectors?: boolean;
  /** Relative asymmetry max|H−Hᵀ|/max|H| above which `onAsymmetric` applies (default 1e-8). */
  symmetryTol?: number;
  /** What to do when the asymmetry exceeds `symmetryTol`: 'symmetrize' (default) or 'throw'. */
  onAsymmetric?: 'symmetrize' | 'throw';
}

export interface SymmetricEigenResult {
  n: number;
  /** All eigenvalues, ascending. */
  values: Float64Array;
  /** Row-major n×n; column j is the unit eigenvector of `values[j]` (only with `vectors: true`). */
  vectors?: Float64Array;
  /** max|H − Hᵀ| / max|H| of the input (0 for an exactly symmetric matrix). */
  asymmetry: number;
}

const EPS = 2.220446049250313e-16;

/** Flatten a square matrix into a row-major Float64Array and return its order n. */
export function toSquareMatrix(h: MatrixInput): { n: number; data: Float64Array } {
  if (h.length === 0) return { n: 0, data: new Float64Array(0) };
  if (Array.isArray(h) && Array.isArray(h[0])) {
    const rows = h as number[][];
    const n = rows.length;
    const data = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      if (!Array.isArray(row) || row.length !== n) {
        throw new ShapeError(
          `matrix is not square: row ${i} has ${Array.isArray(row) ? row.length : 'no'} entries, expected ${n}`,
          'pass an n×n matrix (array of n rows of n numbers)',
        );
      }
      for (let j = 0; j < n; j++) data[i * n + j] = row[j] as number;
    }
    return { n, data };
  }
  const flat = h as Float64Array | number[];
  const n = Math.round(Math.sqrt(flat.length));
  if (n * n !== flat.length) {
    throw new ShapeError(`matrix has ${flat.length} entries, which is not a square number`, 'pass n·n entries in row-major order');
  }
  return { n, data: flat instanceof Float64Array ? flat : Float64Array.from(flat) };
}

/** max|H − Hᵀ| / max|H| (0 for the zero matrix). */
export function asymmetry(data: Float64Array, n: number): number {
  let maxAbs = 0;
  let maxDiff = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const a = data[i * n + j]!;
      if (!Number.isFinite(a)) throw new ShapeError(`matrix entry (${i}, ${j}) is ${a}`, 'the matrix must hold finite numbers');
      maxAbs = Math.max(maxAbs, Math.abs(a));
      if (j > i) maxDiff = Math.max(maxDiff, Math.abs(a - data[j * n + i]!));
    }
  }
  return maxAbs === 0 ? 0 : maxDiff / maxAbs;
}

/**
 * Eigenvalues (ascending) and optionally eigenvectors of a symmetric tridiagonal matrix
 * with diagonal `d` (length m) and off-diagonal `e` (length m−1). Inputs are not modified.
 * With `z` (row-major r×m, r any), the rotations are accumulated into its columns, i.e. the
 * result's vectors are z·V; pass the identity to get the tridiagonal's own eigenvectors.
 */
export function tridiagonalEigen(
  dIn: ArrayLike<number>,
  eIn: ArrayLike<number>,
  z?: { rows: number; data: Float64Array },
): { values: Float64Array; vectors?: Float64Array } {
  const m = dIn.length;
  const d = Float64Array.from(dIn);
  const e = new Float64Array(Math.max(m - 1, 0));
  for (let i = 0; i < m - 1; i++) e[i] = eIn[i]!;
  const zr = z?.rows ?? 0;
  const Z = z?.data;
  let h = m - 1;
  let iter = 0;
  const maxIter = 60 * Math.max(m, 1);
  while (h > 0) {
    for (let i = 0; i < h; i++) {
      if (Math.abs(e[i]!) <= EPS * (Math.abs(d[i]!) + Math.abs(d[i + 1]!)) || Math.abs(e[i]!) < 1e-300) e[i] = 0;
    }
    if (e[h - 1] === 0) {
      h--;
      continue;
    }
    let l = h - 1;
    while (l > 0 && e[l - 1] !== 0) l--;
    if (++iter > maxIter) throw new Error(`tridiagonalEigen: QR iteration did not converge in ${maxIter} steps (m = ${m})`);
    // Wilkinson shift from the trailing 2×2 block of the active part [l, h].
    const delta = (d[h - 1]! - d[h]!) / 2;
    const eh = e[h - 1]!;
    const sgn = delta >= 0 ? 1 : -1;
    const mu = d[h]! - (eh * eh) / (delta + sgn * Math.hypot(delta, eh));
    let x = d[l]! - mu;
    let y = e[l]!;
    for (let k = l; k < h; k++) {
      // Rotation R = [[c, s], [-s, c]] on coordinates (k, k+1) with R·[x; y] = [r; 0];
      // similarity T ← R T Rᵀ.
      const r = Math.hypot(x, y);
      const c = r === 0 ? 1 : x / r;
      const s = r === 0 ? 0 : y / r;
      if (k > l) e[k - 1] = r;
      const a = d[k]!;
      const b = e[k]!;
      const dd = d[k + 1]!;
      d[k] = c * c * a + 2 * c * s * b + s * s * dd;
      d[k + 1] = s * s * a - 2 * c * s * b + c * c * dd;
      e[k] = c * s * (dd - a) + (c * c - s * s) * b;
      if (k < h - 1) {
        const f = e[k + 1]!;
        y = s * f; // bulge at (k, k+2)
        e[k + 1] = c * f;
        x = e[k]!;
      }
      if (Z) {
        for (let i = 0; i < zr; i++) {
          const zk = Z[i * m + k]!;
          const zk1 = Z[i * m + k + 1]!;
          Z[i * m + k] = c * zk + s * zk1;
          Z[i * m + k + 1] = -s * zk + c * zk1;
        }
      }
    }
  }
  // sort ascending (and permute columns of Z)
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => d[i]! - d[j]!);
  const values = Float64Array.from(order, (i) => d[i]!);
  if (!Z) return { values };
  const vectors = new Float64Array(zr * m);
  for (let i = 0; i < zr; i++) for (let j = 0; j < m; j++) vectors[i * m + j] = Z[i * m + order[j]!]!;
  return { values, vectors };
}

/** Full eigen-decomposition of a (symmetric) matrix; see the module comment on symmetry. */
export function symmetricEigen(h: MatrixInput, opts: SymmetricEigenOptions = {}): SymmetricEigenResult {
  const { n, data } = toSquareMatrix(h);
  const asym = asymmetry(data, n);
  const tol = opts.symmetryTol ?? 1e-8;
  if (asym > tol && (opts.onAsymmetric ?? 'symmetrize') === 'throw') {
    throw new ShapeError(
      `matrix is not symmetric: max|H−Hᵀ|/max|H| = ${asym.toExponential(3)} > ${tol}`,
      "a Hessian must be symmetric; check how it was assembled, or use onAsymmetric: 'symmetrize'",
    );
  }
  if (n === 0) return { n, values: new Float64Array(0), asymmetry: 0, ...(opts.vectors ? { vectors: new Float64Array(0) } : {}) };
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = 0.5 * (data[i * n + j]! + data[j * n + i]!);

  // Householder reduction: T = Hₙ₋₃…H₀ A H₀…Hₙ₋₃, each H_k = I − 2vvᵀ acting on rows k+1..n−1.
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 0));
  const reflectors: Array<Float64Array | null> = [];
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const m = n - k - 1;
    const b0 = k + 1;
    let norm = 0;
    for (let i = 0; i < m; i++) norm = Math.hypot(norm, a[(b0 + i) * n + k]!);
    if (norm === 0) {
      e[k] = 0;
      reflectors.push(null);
      continue;
    }
    const x0 = a[b0 * n + k]!;
    const alpha = x0 >= 0 ? -norm : norm;
    const v = new Float64Array(m);
    for (let i = 0; i < m; i++) v[i] = a[(b0 + i) * n + k]!;
    v[0] = v[0]! - alpha;
    let vn = 0;
    for (let i = 0; i < m; i++) vn = Math.hypot(vn, v[i]!);
    for (let i = 0; i < m; i++) v[i] = v[i]! / vn;
    // p = B v, K = vᵀp, w = p − K v, B ← B − 2(v wᵀ + w vᵀ)
    let K = 0;
    for (let i = 0; i < m; i++) {
      let s = 0;
      const row = (b0 + i) * n + b0;
      for (let j = 0; j < m; j++) s += a[row + j]! * v[j]!;
      p[i] = s;
      K += v[i]! * s;
    }
    for (let i = 0; i < m; i++) p[i] = p[i]! - K * v[i]!;
    for (let i = 0; i < m; i++) {
      const row = (b0 + i) * n + b0;
      const vi = v[i]!;
      const wi = p[i]!;
      for (let j = 0; j < m; j++) a[row + j] = a[row + j]! - 2 * (vi * p[j]! + wi * v[j]!);
    }
    e[k] = alpha;
    reflectors.push(v);
  }
  for (let i = 0; i < n; i++) d[i] = a[i * n + i]!;
  if (n >= 2) e[n - 2] = a[(n - 1) * n + (n - 2)]!;

  if (!opts.vectors) {
    return { n, values: tridiagonalEigen(d, e).values, asymmetry: asym };
  }
  const Z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Z[i * n + i] = 1;
  const t = tridiagonalEigen(d, e, { rows: n, data: Z });
  const V = t.vectors!;
  // eigenvectors of A: H₀H₁…Hₙ₋₃ · V (apply the last reflector first)
  const tmp = new Float64Array(n);
  for (let k = reflectors.length - 1; k >= 0; k--) {
    const v = reflectors[k];
    if (!v) continue;
    const b0 = k + 1;
    const m = n - b0;
    tmp.fill(0);
    for (let i = 0; i < m; i++) {
      const vi = v[i]!;
      const row = (b0 + i) * n;
      for (let j = 0; j < n; j++) tmp[j] = tmp[j]! + vi * V[row + j]!;
    }
    for (let i = 0; i < m; i++) {
      const vi2 = 2 * v[i]!;
      const row = (b0 + i) * n;
      for (let j = 0; j < n; j++) V[row + j] = V[row + j]! - vi2 * tmp[j]!;
    }
  }
  return { n, values: t.values, vectors: V, asymmetry: asym };
}

/** All eigenvalues, ascending. */
export function eigenvalues(h: MatrixInput, opts: Omit<SymmetricEigenOptions, 'vectors'> = {}): Float64Array {
  return symmetricEigen(h, opts).values;
}

/** The algebraically largest eigenvalue (not the largest in magnitude): RobustDARTS' λ_max. */
export function maxEigenvalue(h: MatrixInput, opts: Omit<SymmetricEigenOptions, 'vectors'> = {}): number {
  const v = symmetricEigen(h, opts).values;
  if (v.length === 0) throw new ShapeError('maxEigenvalue of an empty matrix', 'pass an n×n matrix with n ≥ 1');
  return v[v.length - 1]!;
}

/** The k algebraically largest eigenvalues, descending (k is clamped to n). */
export function topK(h: MatrixInput, k: number, opts: Omit<SymmetricEigenOptions, 'vectors'> = {}): number[] {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`topK: k must be a non-negative integer, got ${k}`);
  const v = symmetricEigen(h, opts).values;
  const out: number[] = [];
  for (let i = v.length - 1; i >= 0 && out.length < k; i--) out.push(v[i]!);
  return out;
}
