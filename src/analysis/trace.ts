/**
 * From Hessian records to an eigenvalue trace (epoch, λ_max). Pure.
 */
import { ConfigError } from '../errors.js';
import { symmetricEigen } from './eigen.js';

export type HessianFormat = 'derivatives' | 'hessian-jsonl' | 'metrics';

export interface HessianRecord {
  epoch: number;
  /** Order of H (present with H). */
  n?: number;
  /** Row-major n×n Hessian. */
  H?: Float64Array;
  /** A logged dominant eigenvalue (metrics lines); recomputed from H when H is present. */
  maxEigenvalue?: number;
  /** Constant already added to H's diagonal (α weight decay): 1e-3 in the reference's logs. */
  shift?: number;
  /** Where the record came from: format and 1-based line number. */
  format: HessianFormat;
  line: number;
}

export interface TracePoint {
  epoch: number;
  maxEigenvalue: number;
}

export interface TraceOptions {
  /**
   * Subtract each record's `shift` (the α weight decay the writer added to H's diagonal) so
   * that λ_max refers to ∇²_α L_val alone. Default false: report what was logged, which is
   * what the reference's numbers (and the ES golden vectors) use.
   */
  removeShift?: boolean;
}

export interface TracePointDetail extends TracePoint {
  /** Order of H (when H was present). */
  n?: number;
  /** max|H−Hᵀ|/max|H| (when H was present). */
  asymmetry?: number;
  /** True when λ_max was taken from a logged value rather than computed from H. */
  logged: boolean;
}

/** λ_max per record, with where it came from. Epochs must be strictly increasing. */
export function traceDetails(records: HessianRecord[], opts: TraceOptions = {}): TracePointDetail[] {
  const out: TracePointDetail[] = [];
  let prev = -Infinity;
  for (const r of records) {
    if (r.epoch <= prev) {
      throw new ConfigError(
        `line ${r.line}: epoch ${r.epoch} does not come after epoch ${prev}`,
        'measurements must be in increasing epoch order; a resumed run may have logged an epoch twice — keep the last copy',
      );
    }
    prev = r.epoch;
    const shift = opts.removeShift ? r.shift ?? 0 : 0;
    if (r.H && r.n) {
      const eig = symmetricEigen(r.H);
      out.push({ epoch: r.epoch, maxEigenvalue: eig.values[eig.values.length - 1]! - shift, n: r.n, asymmetry: eig.asymmetry, logged: false });
    } else if (r.maxEigenvalue !== undefined) {
      out.push({ epoch: r.epoch, maxEigenvalue: r.maxEigenvalue - shift, logged: true });
    } else {
      throw new ConfigError(`line ${r.line}: the record has neither a Hessian nor a maxEigenvalue`);
    }
  }
  return out;
}

/** λ_max per record, as plain (epoch, maxEigenvalue) points. */
export function traceFromRecords(records: HessianRecord[], opts: TraceOptions = {}): TracePoint[] {
  return traceDetails(records, opts).map(({ epoch, maxEigenvalue }) => ({ epoch, maxEigenvalue }));
}
