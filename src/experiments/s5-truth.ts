/**
 * The S5 ground-truth table on disk (docs/s5.md): JSON (the full form) and CSV (one row per
 * genotype), both read back to the same `TruthTable` (analysis/s5.ts).
 *
 * JSON: { "format": "rdarts-s5-truth", "version": 1, "space", "dataset", "protocol": {…},
 *         "entries": [ { "key", "genotype": GenotypeJSON, "testError": {mean, std},
 *                        "validError": {mean, std}, "parameters", "seeds" } ] }
 * CSV:  key,normal_0,normal_1,reduce_0,reduce_1,test_error_mean,test_error_std,valid_error_mean,
 *       valid_error_std,parameters,seeds   (normal_j / reduce_j = the op on the edge from input j;
 *       errors as fractions; the header names the columns, in this order)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { defaultConcat, type Genotype } from '../nas/genotype.js';
import { genotypeFromJSON, genotypeToJSON } from '../nas/genotype-json.js';
import { s5Key, type TruthEntry, type TruthTable } from '../analysis/s5.js';
import { issueText } from './run-format.js';

export const TRUTH_FORMAT = 'rdarts-s5-truth';
export const CSV_COLUMNS = ['key', 'normal_0', 'normal_1', 'reduce_0', 'reduce_1', 'test_error_mean', 'test_error_std', 'valid_error_mean', 'valid_error_std', 'parameters', 'seeds'] as const;

const meanStd = z.object({ mean: z.number().finite(), std: z.number().finite().nonnegative() });
const fileSchema = z.object({
  format: z.literal(TRUTH_FORMAT),
  version: z.literal(1),
  space: z.string(),
  dataset: z.string(),
  protocol: z.record(z.string(), z.unknown()),
  entries: z.array(z.object({ key: z.string(), genotype: z.unknown(), testError: meanStd, validError: meanStd, parameters: z.number().int().nonnegative(), seeds: z.number().int().positive() })),
});

const HINT = 'a ground-truth table is written by `rdarts s5 truth` (docs/s5.md describes the JSON and CSV forms)';

function checkKeys(entries: TruthEntry[], source: string): TruthEntry[] {
  const seen = new Set<string>();
  for (const e of entries) {
    const k = s5Key(e.genotype);
    if (k !== e.key) throw new ConfigError(`${source}: entry ${e.key} holds the genotype ${k}`, HINT);
    if (seen.has(k)) throw new ConfigError(`${source}: genotype ${k} appears twice`, HINT);
    seen.add(k);
  }
  return entries;
}

export function truthToJSON(t: TruthTable): string {
  return JSON.stringify({ format: TRUTH_FORMAT, version: 1, space: t.space, dataset: t.dataset, protocol: t.protocol, entries: t.entries.map((e) => ({ ...e, genotype: genotypeToJSON(e.genotype) })) }, null, 2) + '\n';
}

export function truthFromJSON(text: string, source = 'ground-truth table'): TruthTable {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${source}: not valid JSON (${(e as Error).message})`, HINT);
  }
  const r = fileSchema.safeParse(raw);
  if (!r.success) throw new ConfigError(`${source}: ${issueText(r.error)}`, HINT);
  const entries = r.data.entries.map((e, i) => ({ ...e, genotype: genotypeFromJSON(e.genotype, `${source}: entries[${i}].genotype`) }));
  return { space: r.data.space, dataset: r.data.dataset, protocol: r.data.protocol, entries: checkKeys(entries, source) };
}

/** CSV: the entries only (space and dataset are given by the caller, the protocol is not kept). */
export function truthToCSV(t: TruthTable): string {
  const rows = t.entries.map((e) => {
    const ops = (genes: Genotype['normal']) => [0, 1].map((j) => genes.find(([, s]) => s === j)![0]);
    return [e.key, ...ops(e.genotype.normal), ...ops(e.genotype.reduce), e.testError.mean, e.testError.std, e.validError.mean, e.validError.std, e.parameters, e.seeds].join(',');
  });
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

export function truthFromCSV(text: string, meta: { space: string; dataset: string }, source = 'ground-truth CSV'): TruthTable {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines[0] !== CSV_COLUMNS.join(',')) throw new ConfigError(`${source}: line 1 must be the header ${CSV_COLUMNS.join(',')}`, HINT);
  const entries = lines.slice(1).map((l, i): TruthEntry => {
    const c = l.split(',');
    if (c.length !== CSV_COLUMNS.length) throw new ConfigError(`${source}, line ${i + 2}: ${c.length} columns, expected ${CSV_COLUMNS.length}`, HINT);
    const n = (k: number) => {
      const v = Number(c[k]);
      if (c[k] === '' || !Number.isFinite(v)) throw new ConfigError(`${source}, line ${i + 2}: ${CSV_COLUMNS[k]} is not a number ('${c[k]}')`, HINT);
      return v;
    };
    const genotype = genotypeFromJSON({ normal: [[c[1], 0], [c[2], 1]], normal_concat: defaultConcat(1), reduce: [[c[3], 0], [c[4], 1]], reduce_concat: defaultConcat(1) }, `${source}, line ${i + 2}`);
    return { key: c[0]!, genotype, testError: { mean: n(5), std: n(6) }, validError: { mean: n(7), std: n(8) }, parameters: n(9), seeds: n(10) };
  });
  return { space: meta.space, dataset: meta.dataset, protocol: {}, entries: checkKeys(entries, source) };
}

/** Read a table file: .csv by its extension (space s5, dataset unknown), otherwise JSON. */
export function readTruthFile(path: string): TruthTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`ground-truth table ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, HINT);
  }
  return /\.csv$/i.test(path) ? truthFromCSV(text, { space: 's5', dataset: 'unknown' }, path) : truthFromJSON(text, path);
}

export function writeTruthFile(path: string, t: TruthTable): void {
  writeFileSync(path, /\.csv$/i.test(path) ? truthToCSV(t) : truthToJSON(t));
}
