/**
 * Published recurrent cells, kept as the DARTS repr strings they were published in and parsed at
 * load (a typo fails at import). Source: DARTS (Liu et al., ICLR 2019), `rnn/genotypes.py`.
 */
import { GenotypeError } from '../../errors.js';
import type { RnnGenotype } from './genotype.js';
import { parseRnnGenotypeRepr } from './repr.js';

const PUBLISHED_RNN_REPR: Record<string, string> = {
  // DARTS, first-order search on PTB.
  DARTS_V1: "Genotype(recurrent=[('relu', 0), ('relu', 1), ('tanh', 2), ('relu', 3), ('relu', 4), ('identity', 1), ('relu', 5), ('relu', 1)], concat=range(1, 9))",
  // DARTS, second-order search on PTB (the cell of the paper's figure and of `DARTS = DARTS_V2`).
  DARTS_V2: "Genotype(recurrent=[('sigmoid', 0), ('relu', 1), ('relu', 1), ('identity', 1), ('tanh', 2), ('sigmoid', 5), ('tanh', 3), ('relu', 5)], concat=range(1, 9))",
  // ENAS's PTB cell as DARTS transcribed it (11 nodes, 6 of them averaged).
  ENAS: "Genotype(recurrent=[('tanh', 0), ('tanh', 1), ('relu', 1), ('tanh', 3), ('tanh', 3), ('relu', 3), ('relu', 4), ('relu', 7), ('relu', 8), ('relu', 8), ('relu', 8)], concat=[2, 5, 6, 9, 10, 11])",
};

const PUBLISHED_RNN: Record<string, RnnGenotype> = Object.fromEntries(
  Object.entries(PUBLISHED_RNN_REPR).map(([k, v]) => [k, parseRnnGenotypeRepr(v, `published recurrent genotype ${k}`)]),
);
/** `DARTS` is DARTS_V2, as in the DARTS code. */
const ALIASES: Record<string, string> = { DARTS: 'DARTS_V2' };

export const RNN_DARTS_V1: RnnGenotype = PUBLISHED_RNN.DARTS_V1!;
export const RNN_DARTS_V2: RnnGenotype = PUBLISHED_RNN.DARTS_V2!;

/** Names of the published recurrent genotypes (aliases excluded). */
export function listPublishedRnnGenotypes(): string[] {
  return Object.keys(PUBLISHED_RNN);
}

function resolveName(name: string): string {
  const up = name.trim().toUpperCase();
  const key = ALIASES[up] ?? up;
  if (!(key in PUBLISHED_RNN)) {
    throw new GenotypeError(
      `unknown published recurrent genotype '${name}'; known: ${[...Object.keys(PUBLISHED_RNN), ...Object.keys(ALIASES)].join(', ')}`,
      'give one of the known names, or a recurrent genotype in JSON or DARTS repr form',
    );
  }
  return key;
}

/** The repr string a published recurrent genotype was defined from. */
export function publishedRnnGenotypeRepr(name: string): string {
  return PUBLISHED_RNN_REPR[resolveName(name)]!;
}

/** A published recurrent genotype by name (case-insensitive; `DARTS` = DARTS_V2); a fresh copy. */
export function getPublishedRnnGenotype(name: string): RnnGenotype {
  const g = PUBLISHED_RNN[resolveName(name)]!;
  return { recurrent: g.recurrent.map(([o, j]) => [o, j]), concat: [...g.concat] };
}
