/**
 * Collapse indicators of a DARTS search besides λ_max (docs/collapse-monitor.md): the rule
 * behind the `CollapseMonitor` plug-in (./collapse-monitor.ts) and the skip-count early stop
 * (./collapse-stop.ts). Pure: plain numbers and genotypes in, numbers out.
 *
 * - parameter-free mass: per cell type, the mean over edges of the softmax(α) mass on the
 *   parameter-free ops (PARAMETER_FREE_OPS), so 1 means every edge puts all its weight there;
 * - skip count: skip_connect genes of a derived cell (DARTS+ and P-DARTS count the normal cell's);
 * - α entropy: per cell type, the mean over edges of −Σ_o p_o ln p_o (nats; ln |O_e| = uniform);
 * - churn: per cell type, the genes (node, source, op) of this genotype that the previous one
 *   does not have at the same node (0 … 2·steps);
 * - train–validation gap: train accuracy − validation accuracy (fractions, not %).
 */
import type { Genotype } from '../../nas/genotype.js';
import type { CellType } from '../../nas/spaces.js';

/**
 * The ops without weights, by name. In a reduction cell a stride-2 skip_connect is a
 * factorized reduce (two 1×1 convolutions): it is still counted here, as the collapse
 * literature counts skip connections by name.
 */
export const PARAMETER_FREE_OPS: readonly string[] = ['none', 'noise', 'skip_connect', 'max_pool_3x3', 'avg_pool_3x3'];

const PARAM_FREE = new Set(PARAMETER_FREE_OPS);

export interface PerCell<T> {
  normal: T;
  reduce: T;
}

function checkShape(weights: number[][], ops: string[][], what: string): void {
  if (weights.length !== ops.length || weights.some((r, e) => r.length !== ops[e]!.length)) {
    throw new RangeError(`${what}: weights and op names differ in shape (${weights.length} vs ${ops.length} edges)`);
  }
}

/** Mean over edges of the weight on parameter-free ops (weights = softmax(α), one row per edge). */
export function parameterFreeMass(weights: number[][], ops: string[][]): number {
  checkShape(weights, ops, 'parameterFreeMass');
  if (weights.length === 0) return 0;
  let sum = 0;
  weights.forEach((row, e) => row.forEach((p, k) => (sum += PARAM_FREE.has(ops[e]![k]!) ? p : 0)));
  return sum / weights.length;
}

/** Mean over edges of the Shannon entropy (nats) of each edge's weights; 0·ln 0 = 0. */
export function alphaEntropy(weights: number[][]): number {
  if (weights.length === 0) return 0;
  let sum = 0;
  for (const row of weights) for (const p of row) if (p > 0) sum -= p * Math.log(p);
  return sum / weights.length;
}

/** skip_connect genes of one cell type of a genotype. */
export function skipCount(g: Genotype, cell: CellType = 'normal'): number {
  return g[cell].filter(([op]) => op === 'skip_connect').length;
}

/**
 * Genes of `cur` (per node: the set of (source, op) pairs) missing from `prev` at the same node.
 * Genotypes of different node counts: every gene of `cur` counts as changed.
 */
export function genotypeChurn(prev: Genotype, cur: Genotype, cell: CellType): number {
  const a = prev[cell];
  const b = cur[cell];
  if (a.length !== b.length) return b.length;
  let changed = 0;
  for (let i = 0; i < b.length; i += 2) {
    const before = new Set([a[i]!, a[i + 1]!].map(([op, j]) => `${j}:${op}`));
    for (const [op, j] of [b[i]!, b[i + 1]!]) if (!before.has(`${j}:${op}`)) changed++;
  }
  return changed;
}

export interface CollapseInput {
  /** softmax(α), one row per edge */
  weights: PerCell<number[][]>;
  /** op names, the shape of `weights` */
  ops: PerCell<string[][]>;
  genotype: Genotype;
  /** the previous epoch's genotype (null at the first epoch) */
  previous: Genotype | null;
  trainAcc: number | null;
  validAcc: number | null;
}

export interface CollapseMeasurement {
  paramFreeMass: PerCell<number>;
  entropy: PerCell<number>;
  skips: PerCell<number>;
  /** null at the first epoch of an iteration (no previous genotype) */
  churn: PerCell<number> | null;
  /** train accuracy − validation accuracy (null when either is missing or not finite) */
  accGap: number | null;
}

/** All the indicators of one epoch. */
export function collapseMeasurement(x: CollapseInput): CollapseMeasurement {
  const per = <T>(f: (c: CellType) => T): PerCell<T> => ({ normal: f('normal'), reduce: f('reduce') });
  const fin = (v: number | null): v is number => v !== null && Number.isFinite(v);
  return {
    paramFreeMass: per((c) => parameterFreeMass(x.weights[c], x.ops[c])),
    entropy: per((c) => alphaEntropy(x.weights[c])),
    skips: per((c) => skipCount(x.genotype, c)),
    churn: x.previous ? per((c) => genotypeChurn(x.previous!, x.genotype, c)) : null,
    accGap: fin(x.trainAcc) && fin(x.validAcc) ? x.trainAcc - x.validAcc : null,
  };
}
