/**
 * Published cells, kept as the DARTS repr strings they were published in and parsed at load
 * (a typo fails at import, not at use). Source: DARTS (Liu et al., ICLR 2019), `cnn/genotypes.py`.
 */
import { GenotypeError } from '../errors.js';
import type { Genotype } from './genotype.js';
import { parseGenotypeRepr } from './repr.js';

const PUBLISHED_REPR: Record<string, string> = {
  // DARTS, first-order search.
  DARTS_V1:
    "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), ('sep_conv_3x3', 1), " +
    "('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 2)], normal_concat=[2, 3, 4, 5], " +
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), " +
    "('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])",
  // DARTS, second-order search (the cell of the paper's figures and of `DARTS = DARTS_V2`).
  DARTS_V2:
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), " +
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], " +
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), " +
    "('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])",
};

const PUBLISHED: Record<string, Genotype> = Object.fromEntries(
  Object.entries(PUBLISHED_REPR).map(([k, v]) => [k, parseGenotypeRepr(v, `published genotype ${k}`)]),
);
/** `DARTS` is an alias of DARTS_V2, as in the DARTS code. */
const ALIASES: Record<string, string> = { DARTS: 'DARTS_V2' };

export const DARTS_V1: Genotype = PUBLISHED.DARTS_V1!;
export const DARTS_V2: Genotype = PUBLISHED.DARTS_V2!;

/** Names of the published genotypes (aliases excluded). */
export function listPublishedGenotypes(): string[] {
  return Object.keys(PUBLISHED);
}

/** The repr string a published genotype was defined from. */
export function publishedGenotypeRepr(name: string): string {
  const key = resolveName(name);
  return PUBLISHED_REPR[key]!;
}

function resolveName(name: string): string {
  const up = name.trim().toUpperCase();
  const key = ALIASES[up] ?? up;
  if (!(key in PUBLISHED)) {
    throw new GenotypeError(
      `unknown published genotype '${name}'; known: ${[...Object.keys(PUBLISHED), ...Object.keys(ALIASES)].join(', ')}`,
      'give one of the known names, or a genotype in JSON or DARTS repr form',
    );
  }
  return key;
}

/** A published genotype by name (case-insensitive; `DARTS` = DARTS_V2). Returns a fresh copy. */
export function getPublishedGenotype(name: string): Genotype {
  const g = PUBLISHED[resolveName(name)]!;
  return {
    normal: g.normal.map(([o, j]) => [o, j]),
    normalConcat: [...g.normalConcat],
    reduce: g.reduce.map(([o, j]) => [o, j]),
    reduceConcat: [...g.reduceConcat],
  };
}
