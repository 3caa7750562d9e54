/**
 * Readers for Hessian measurements: files and run folders (the parsing itself is pure).
 *
 * Formats (one JSON object per line, blank lines ignored; detected per line):
 *
 * 1. The reference's `derivatives_<seed>.json` (automl/RobustDARTS):
 *      {"epoch": e, "H": [[...n numbers], ...n rows], "g": [...n numbers]}
 *    The logged H includes the α weight-decay term, H = ∇²_α L_val + 1e-3·I, so these records
 *    carry `shift = 1e-3` (override with `derivativesShift`).
 * 2. Ours, a Hessian JSON-lines file:
 *      {"epoch": e, "hessian": {"n": n, "data": [n·n numbers, row-major]},
 *       "shift"?: s, "maxEigenvalue"?: v}
 *    `shift` is whatever the writer added to the diagonal (α weight decay); absent means 0.
 * 3. A run folder's `metrics.jsonl`: lines whose `"kind"` is `"hessian"`, with at least
 *      {"kind": "hessian", "epoch": e, "maxEigenvalue": v}
 *    and optionally the `hessian` payload and `shift` of format 2. Lines of other kinds are
 *    skipped (so a metrics.jsonl file can also be passed directly).
 *
 * Traces for the early-stop replay (`readTrace`) may also be a JSON array
 * `[{"epoch": e, "maxEigenvalue": v}, ...]` — what `rdarts eig --json` prints.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { RUN_FILES, parseJsonLines } from './run-format.js';
import { traceFromRecords, type HessianFormat, type HessianRecord, type TracePoint } from '../analysis/trace.js';

export type { HessianFormat, HessianRecord };


export interface ParseOptions {
  /** Diagonal shift recorded for derivatives-format lines (default 1e-3, the reference's arch_weight_decay). */
  derivativesShift?: number;
}

export const REFERENCE_ALPHA_WEIGHT_DECAY = 1e-3;

function bad(source: string, line: number, what: string): ConfigError {
  return new ConfigError(
    `${source}, line ${line}: ${what}`,
    'expected JSON lines of {"epoch", "H": n×n} (reference derivatives file), {"epoch", "hessian": {"n", "data"}} or {"kind": "hessian", "epoch", "maxEigenvalue"}',
  );
}

function epochOf(o: Record<string, unknown>, source: string, line: number): number {
  const e = o.epoch;
  if (typeof e !== 'number' || !Number.isInteger(e) || e < 0) throw bad(source, line, `"epoch" must be a non-negative integer, got ${JSON.stringify(e)}`);
  return e;
}

function finiteOr(o: Record<string, unknown>, key: string, source: string, line: number): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(source, line, `"${key}" must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function nestedMatrix(h: unknown, source: string, line: number): { n: number; H: Float64Array } {
  if (!Array.isArray(h) || h.length === 0) throw bad(source, line, '"H" must be a non-empty array of rows');
  const n = h.length;
  const H = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = h[i];
    if (!Array.isArray(row) || row.length !== n) throw bad(source, line, `"H" is not square: row ${i} has ${Array.isArray(row) ? row.length : 'no'} entries, expected ${n}`);
    for (let j = 0; j < n; j++) {
      const v = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(source, line, `"H"[${i}][${j}] is not a finite number (${JSON.stringify(v)})`);
      H[i * n + j] = v;
    }
  }
  return { n, H };
}

function flatMatrix(h: unknown, source: string, line: number): { n: number; H: Float64Array } {
  if (typeof h !== 'object' || h === null) throw bad(source, line, '"hessian" must be an object {"n", "data"}');
  const { n, data } = h as { n?: unknown; data?: unknown };
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw bad(source, line, `"hessian.n" must be a positive integer, got ${JSON.stringify(n)}`);
  if (!Array.isArray(data) || data.length !== n * n) {
    throw bad(source, line, `"hessian.data" must hold n·n = ${n * n} numbers, got ${Array.isArray(data) ? data.length : JSON.stringify(data)}`);
  }
  const H = new Float64Array(n * n);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(source, line, `"hessian.data"[${i}] is not a finite number (${JSON.stringify(v)})`);
    H[i] = v;
  }
  return { n, H };
}

/** Parse one line's object into a record, or null for a metrics line of another kind. */
function parseObject(o: Record<string, unknown>, source: string, line: number, opts: ParseOptions): HessianRecord | null {
  if ('kind' in o && o.kind !== 'hessian') return null;
  const epoch = epochOf(o, source, line);
  const logged = finiteOr(o, 'maxEigenvalue', source, line);
  const shift = finiteOr(o, 'shift', source, line);
  if ('H' in o) {
    const { n, H } = nestedMatrix(o.H, source, line);
    return { epoch, n, H, shift: shift ?? opts.derivativesShift ?? REFERENCE_ALPHA_WEIGHT_DECAY, format: 'derivatives', line, ...(logged !== undefined ? { maxEigenvalue: logged } : {}) };
  }
  const format: HessianFormat = o.kind === 'hessian' ? 'metrics' : 'hessian-jsonl';
  if ('hessian' in o) {
    const { n, H } = flatMatrix(o.hessian, source, line);
    return { epoch, n, H, shift: shift ?? 0, format, line, ...(logged !== undefined ? { maxEigenvalue: logged } : {}) };
  }
  if (logged !== undefined) return { epoch, maxEigenvalue: logged, shift: shift ?? 0, format, line };
  throw bad(source, line, 'no "H", "hessian" or "maxEigenvalue" field');
}

/**
 * Parse the text of a Hessian JSON-lines file (any of the three formats). Pure. With `only`,
 * lines whose object it rejects are skipped (a run's metrics.jsonl holds other kinds too).
 */
export function parseHessianLines(text: string, source: string, opts: ParseOptions = {}, only?: (o: Record<string, unknown>) => boolean): HessianRecord[] {
  const out: HessianRecord[] = [];
  for (const { line, value } of parseJsonLines(text, { error: (l, what) => bad(source, l, what) })) {
    if (only && !only(value)) continue;
    const r = parseObject(value, source, line, opts);
    if (r) out.push(r);
  }
  return out;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read ${path}: ${code ?? (e as Error).message}`, 'check the path; it must be a derivatives_*.json file, a Hessian JSON-lines file or a run folder');
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (e) {
    throw new ConfigError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the path; it must be a derivatives_*.json file, a Hessian JSON-lines file or a run folder');
  }
}

function nonEmpty(records: HessianRecord[], source: string): HessianRecord[] {
  if (records.length === 0) {
    throw new ConfigError(`${source} holds no Hessian measurements`, 'a run records them only when the Hessian monitor is on (every k epochs); check the file or folder');
  }
  return records;
}

/** Read a derivatives file or a Hessian JSON-lines file. */
export function readHessianFile(path: string, opts: ParseOptions = {}): HessianRecord[] {
  return nonEmpty(parseHessianLines(readText(path), path, opts), path);
}

/** Read `<dir>/metrics.jsonl`, keeping the lines whose kind is "hessian". */
export function readRunFolder(dir: string, opts: ParseOptions = {}): HessianRecord[] {
  const path = join(dir, RUN_FILES.metrics);
  const recs = parseHessianLines(readText(path), path, opts, (o) => o.kind === 'hessian');
  return nonEmpty(recs, path);
}

/** A file (derivatives / Hessian JSON lines / metrics.jsonl) or a run folder. */
export function readHessianSource(path: string, opts: ParseOptions = {}): HessianRecord[] {
  return isDirectory(path) ? readRunFolder(path, opts) : readHessianFile(path, opts);
}

/**
 * An eigenvalue trace for the early-stop replay: a JSON array of {epoch, maxEigenvalue}
 * (the output of `rdarts eig --json`), or any Hessian source, whose λ_max are computed from H
 * where present (including the logged shift unless `removeShift`).
 */
export function readTrace(path: string, opts: ParseOptions & { removeShift?: boolean } = {}): TracePoint[] {
  if (!isDirectory(path)) {
    const text = readText(path);
    if (text.trimStart().startsWith('[')) {
      let arr: unknown;
      try {
        arr = JSON.parse(text);
      } catch (e) {
        throw new ConfigError(`${path}: not valid JSON (${(e as Error).message})`, 'a trace is a JSON array [{"epoch": e, "maxEigenvalue": v}, ...] or a Hessian JSON-lines file');
      }
      if (!Array.isArray(arr)) throw new ConfigError(`${path}: expected a JSON array`);
      const out: TracePoint[] = arr.map((p, i) => {
        const o = p as Record<string, unknown>;
        if (typeof o !== 'object' || o === null || typeof o.epoch !== 'number' || !Number.isInteger(o.epoch) || o.epoch < 0 || typeof o.maxEigenvalue !== 'number' || !Number.isFinite(o.maxEigenvalue)) {
          throw new ConfigError(`${path}: element ${i} is not {"epoch": non-negative integer, "maxEigenvalue": number}`, 'fix the element or regenerate the trace with `rdarts eig --json`');
        }
        return { epoch: o.epoch, maxEigenvalue: o.maxEigenvalue };
      });
      if (out.length === 0) throw new ConfigError(`${path}: the trace is empty`, 'a trace needs at least one {"epoch", "maxEigenvalue"} point');
      return out;
    }
    return traceFromRecords(nonEmpty(parseHessianLines(text, path, opts), path), opts);
  }
  return traceFromRecords(readRunFolder(path, opts), opts);
}
