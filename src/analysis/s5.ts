/**
 * S5 ground truth (docs/s5.md): the 81 genotypes of the toy space, their canonical key, the
 * ground-truth table (genotype → mean/std test and validation error, parameters) as typed data,
 * and the test regret of a derived genotype. Pure: reading and writing the table's JSON/CSV
 * files is experiments/s5-truth.ts.
 */
import type { Gene, Genotype } from '../nas/genotype.js';
import { defaultConcat } from '../nas/genotype.js';
import type { PrimitiveName } from '../nas/primitives.js';
import type { SearchSpace } from '../nas/spaces.js';

/** The ops of a one-node cell by source: [op on the edge from c_{k-2}, op on the edge from c_{k-1}]. */
function opsBySource(genes: Gene[]): [string, string] {
  if (genes.length !== 2) throw new RangeError(`an S5 cell has 2 genes (one node), got ${genes.length}`);
  const bySrc = new Map(genes.map(([op, j]) => [j, op]));
  const a = bySrc.get(0);
  const b = bySrc.get(1);
  if (a === undefined || b === undefined) throw new RangeError('an S5 cell takes one gene from each input (sources 0 and 1)');
  return [a, b];
}

/** Canonical key of an S5 genotype, independent of the genes' order: "normal:a/b|reduce:c/d" (ops by source; no commas, so it is a CSV cell). */
export function s5Key(g: Genotype): string {
  return `normal:${opsBySource(g.normal).join('/')}|reduce:${opsBySource(g.reduce).join('/')}`;
}

/** All genotypes derivable in a one-node space: every op (other than none) on each of its two edges, per cell type. */
export function enumerateOneNodeGenotypes(space: SearchSpace): Genotype[] {
  if (space.steps !== 1 || space.normal.length !== 2 || space.reduce.length !== 2) throw new RangeError(`space '${space.name}' is not a one-node space`);
  const cell = (edges: PrimitiveName[][]): Gene[][] => {
    const out: Gene[][] = [];
    for (const a of edges[0]!.filter((o) => o !== 'none')) for (const b of edges[1]!.filter((o) => o !== 'none')) out.push([[a, 0], [b, 1]]);
    return out;
  };
  const out: Genotype[] = [];
  for (const normal of cell(space.normal)) for (const reduce of cell(space.reduce)) out.push({ normal, normalConcat: defaultConcat(1), reduce, reduceConcat: defaultConcat(1) });
  return out;
}

export interface MeanStd {
  mean: number;
  std: number;
}

export interface TruthEntry {
  key: string;
  genotype: Genotype;
  /** test error (fraction) over the seeds */
  testError: MeanStd;
  /** validation error (fraction) over the seeds */
  validError: MeanStd;
  parameters: number;
  seeds: number;
}

export interface TruthTable {
  space: string;
  dataset: string;
  /** free-form description of the training protocol (epochs, sizes, seeds) */
  protocol: Record<string, unknown>;
  entries: TruthEntry[];
}

export interface Regret {
  key: string;
  testError: number;
  bestTestError: number;
  /** testError − bestTestError (≥ 0) */
  regret: number;
  /** 1 = the best; ties share the better rank */
  rank: number;
  /** the table has every genotype of the space */
  complete: boolean;
}

/** The test regret of `g` against `table` (null when the table lacks it). */
export function testRegret(table: TruthTable, g: Genotype, expected = 81): Regret | null {
  const key = s5Key(g);
  const e = table.entries.find((x) => x.key === key);
  if (!e) return null;
  const best = Math.min(...table.entries.map((x) => x.testError.mean));
  const rank = 1 + table.entries.filter((x) => x.testError.mean < e.testError.mean).length;
  return { key, testError: e.testError.mean, bestTestError: best, regret: e.testError.mean - best, rank, complete: table.entries.length === expected };
}

/**
 * A folder-safe name of an S5 genotype, readable and unique like its key:
 * "skip_connect+sep_conv_3x3__max_pool_3x3+sep_conv_3x3" (normal ops by source, then reduce).
 */
export function s5DirName(g: Genotype): string {
  return `${opsBySource(g.normal).join('+')}__${opsBySource(g.reduce).join('+')}`;
}

/** The per-seed results of one genotype, summarised as a table entry (std over seeds with n − 1; 0 for one seed). */
export function truthEntry(g: Genotype, runs: Array<{ testError: number; validError: number; parameters: number }>): TruthEntry {
  if (!runs.length) throw new RangeError(`no finished training of ${s5Key(g)}`);
  const ms = (xs: number[]): MeanStd => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) : 0;
    return { mean: m, std: Math.sqrt(v) };
  };
  return { key: s5Key(g), genotype: g, testError: ms(runs.map((r) => r.testError)), validError: ms(runs.map((r) => r.validError)), parameters: runs[0]!.parameters, seeds: runs.length };
}
