/**
 * Shared test helpers for the analysis tests: random matrices. (Fixtures, Python and temp
 * folders: test/helpers/.)
 */
import { Rng } from '../../src/util/rng.js';

/** Random symmetric n×n matrix with N(0,1) entries (GOE-like), row-major. */
export function randomSymmetric(n: number, rng: Rng): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = rng.normal();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

/** Random orthogonal n×n matrix (Gram–Schmidt of a Gaussian matrix), columns orthonormal. */
export function randomOrthogonal(n: number, rng: Rng): Float64Array {
  const cols: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) {
      for (const c of cols) {
        let d = 0;
        for (let i = 0; i < n; i++) d += c[i]! * v[i]!;
        for (let i = 0; i < n; i++) v[i] = v[i]! - d * c[i]!;
      }
    }
    let nn = 0;
    for (let i = 0; i < n; i++) nn += v[i]! * v[i]!;
    nn = Math.sqrt(nn);
    for (let i = 0; i < n; i++) v[i] = v[i]! / nn;
    cols.push(v);
  }
  const q = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) q[i * n + j] = cols[j]![i]!;
  return q;
}

/** Q diag(values) Qᵀ for a random orthogonal Q: a symmetric matrix with a known spectrum. */
export function withSpectrum(values: number[], rng: Rng): Float64Array {
  const n = values.length;
  const q = randomOrthogonal(n, rng);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k]! * values[k]! * q[j * n + k]!;
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  }
  return a;
}

export function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}
