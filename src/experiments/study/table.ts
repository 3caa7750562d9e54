/**
 * The paper's table from a study's run folders: with a select phase, each benchmark × method
 * cell is the selected cell's test error after the full training (Table 3); with a train phase
 * alone, the mean ± std over the seeds' trainings (Table 1). Cells without a finished
 * evaluation stay missing (listed in `skipped`), never filled. The table itself is built by
 * analysis/table.ts.
 *
 * S6 (disparity) jobs have a table of their own, Table 2's columns (paper-spec §11.4) plus
 * λ_max: `dispStudyTable` (below), rendered by `dispTableText` / `dispTableHtml`.
 */
import { join } from 'node:path';
import { buildTable, isTableMethod, TABLE_METHODS, tableToCsv, tableToJson, tableToMarkdown, type PaperTable, type TableEntry, type TableMethod } from '../../analysis/table.js';
import type { Job, JobGraph } from './graph.js';
import { readJsonObjectOrNull } from '../run-format.js';
import { domainTableHtml, domainTableText, finite, lastLambdaMax, single, sweepText, withSeedMeans, type TableSpec, type TableValue } from './domain-table.js';
import { rnnStudyTable, rnnTableText } from './rnn-table.js';

export { lastLambdaMax, sweepText };

const readJson = readJsonObjectOrNull;

export function studyEntries(studyDir: string, g: JobGraph): { entries: TableEntry[]; skipped: string[]; columns: TableMethod[] } {
  const evals = g.jobs.filter((j) => j.phase === 'select').length ? g.jobs.filter((j) => j.phase === 'select') : g.jobs.filter((j) => j.phase === 'train');
  const entries: TableEntry[] = [];
  const skipped: string[] = [];
  const cols = new Set<TableMethod>();
  for (const j of evals) {
    if (j.space === 's6' || j.space === 'rnn') continue; // the disparity table (dispStudyTable), the recurrent one (rnn-table.ts)
    if (!isTableMethod(j.searchMethod)) {
      skipped.push(`${j.id}: method ${j.searchMethod} is not a column of the table`);
      continue;
    }
    cols.add(j.searchMethod);
    const r = readJson(join(studyDir, j.dir, 'result.json'));
    const err = j.phase === 'select' ? r?.selectedTestError : r?.split === 'test' || r?.split === undefined ? r?.testError : undefined;
    if (typeof err !== 'number') {
      skipped.push(`${j.id}: not finished`);
      continue;
    }
    entries.push({ dataset: j.dataset, space: j.space, method: j.searchMethod, testError: err, source: join(studyDir, j.dir) });
  }
  return { entries, skipped, columns: TABLE_METHODS.filter((m) => cols.has(m)) };
}

export function studyTable(studyDir: string, g: JobGraph): { table: PaperTable; skipped: string[] } {
  const { entries, skipped, columns } = studyEntries(studyDir, g);
  return { table: buildTable(entries, columns.length ? columns : [...TABLE_METHODS]), skipped };
}

// ---------------------------------------------------------------------------------------------
// S6: Table 2 (paper-spec §11.4): per method entry (sweep value) and seed, the one-shot
// validation EPE of the search, its final λ_max, the trained cell's test and Sintel EPE and its
// parameters; a mean ± std row over the seeds of each entry with two or more.

export type DispColumn = 'oneShotValidEpe' | 'lambdaMax' | 'testEpe' | 'sintelEpe' | 'parametersM';
export const DISP_COLUMNS: DispColumn[] = ['oneShotValidEpe', 'lambdaMax', 'testEpe', 'sintelEpe', 'parametersM'];
export const DISP_COLUMN_LABELS: Record<DispColumn, string> = {
  oneShotValidEpe: 'one-shot valid EPE (px)',
  lambdaMax: 'final λ_max',
  testEpe: 'test EPE (px)',
  sintelEpe: 'Sintel EPE (px)',
  parametersM: 'params (M)',
};

export type DispValue = TableValue;

export interface DispTableRow {
  benchmark: string;
  /** the method entry's name (aug-1, l2-9e-4, …) */
  method: string;
  /** the search method (darts, darts-es) */
  searchMethod: string;
  /** the entry's `config:` as text (augment=1), '' without one */
  sweep: string;
  /** the seed, or null for the mean ± std row of the entry */
  seed: number | null;
  values: Record<DispColumn, DispValue | null>;
  /** run folders the row was read from */
  sources: string[];
}

export interface DispStudyTable {
  rows: DispTableRow[];
  /** jobs whose numbers are missing, with why */
  missing: string[];
}

/** `{ augment: 1, hessian: { every: 2 } }` → `augment=1, hessian.every=2`. */
/** The S6 table of a study's folders (null when the study has no S6 search jobs). */
export function dispStudyTable(studyDir: string, g: JobGraph): DispStudyTable | null {
  const searches = g.jobs.filter((j) => j.space === 's6' && j.phase === 'search');
  if (!searches.length) return null;
  const trainOf = new Map<string, Job>(g.jobs.filter((j) => j.space === 's6' && j.phase === 'train').map((j) => [j.deps[0]!, j]));
  const missing: string[] = [];
  const perSeed: DispTableRow[] = [];
  for (const s of searches) {
    const dir = join(studyDir, s.dir);
    const r = readJsonObjectOrNull(join(dir, 'result.json'));
    if (!r) missing.push(`${s.id}: not finished`);
    const fv = r?.finalValid as { epe?: unknown } | null | undefined;
    const t = trainOf.get(s.id);
    const tr = t ? readJsonObjectOrNull(join(studyDir, t.dir, 'result.json')) : null;
    if (t && !tr) missing.push(`${t.id}: not finished`);
    const params = finite(tr?.parametersM) ?? (finite(tr?.parameters) !== null ? (tr!.parameters as number) / 1e6 : null);
    perSeed.push({
      benchmark: s.benchmark,
      method: s.method,
      searchMethod: s.searchMethod,
      sweep: sweepText(s.sweep),
      seed: s.seed,
      values: {
        oneShotValidEpe: single(r ? finite(fv?.epe) : null),
        lambdaMax: single(r ? lastLambdaMax(dir) : null),
        testEpe: single(finite(tr?.testEpe)),
        sintelEpe: single(finite(tr?.sintelEpe)),
        parametersM: single(params),
      },
      sources: [dir, ...(t && tr ? [join(studyDir, t.dir)] : [])],
    });
  }
  const rows = withSeedMeans(perSeed, DISP_COLUMNS);
  return { rows, missing };
}

const digits: Record<DispColumn, number> = { oneShotValidEpe: 3, lambdaMax: 4, testEpe: 3, sintelEpe: 3, parametersM: 3 };

const DISP_SPEC: TableSpec<DispColumn, DispTableRow> = {
  columns: DISP_COLUMNS,
  labels: DISP_COLUMN_LABELS,
  title: 'S6 (paper Table 2 columns + final λ_max)',
  noteHeader: 'sweep',
  note: (r) => r.sweep,
  value: (x, c) => (c === 'lambdaMax' || (c === 'parametersM' && Math.abs(x) < 0.1) ? x.toPrecision(digits[c]) : x.toFixed(digits[c])),
  caption: "One-shot valid EPE: the search's supernet on its validation split after the last epoch; final λ_max: the last Hessian measurement of the search; test / Sintel EPE: the cell trained from scratch, after its last epoch; — = not measured (Sintel without sintelDir) or not finished.",
  htmlTitle: 'S6: Table 2 (one-shot validation EPE, final λ_max, test and Sintel EPE, parameters)',
  htmlFooter: 'EPE in pixels; — = not measured or not finished.',
};

/** The S6 table as Markdown, CSV (one line per row; std and n columns) or JSON. */
export function dispTableText(t: DispStudyTable, format: 'markdown' | 'csv' | 'json'): string {
  return domainTableText(DISP_SPEC, t, format);
}

/** The S6 table as an HTML fragment (a heading, the table and its caption). */
export function dispTableHtml(t: DispStudyTable): string {
  return domainTableHtml(DISP_SPEC, t);
}

/** The study's table as text: the CNN table (analysis/table.ts) and/or the S6 table and/or the recurrent (rnn) table; `skipped` lists what is missing. */
export function studyTableText(studyDir: string, g: JobGraph, format: 'markdown' | 'csv' | 'json'): { text: string; skipped: string[] } {
  const disp = dispStudyTable(studyDir, g);
  const rnn = rnnStudyTable(studyDir, g);
  const cnnJobs = g.jobs.some((j) => j.space !== 's6' && j.space !== 'rnn');
  const parts: string[] = [];
  const skipped: string[] = [];
  if (cnnJobs || (!disp && !rnn)) {
    const { table, skipped: sk } = studyTable(studyDir, g);
    parts.push(format === 'csv' ? tableToCsv(table) : format === 'json' ? tableToJson(table) : tableToMarkdown(table));
    skipped.push(...sk);
  }
  if (disp) {
    parts.push(dispTableText(disp, format));
    skipped.push(...disp.missing);
  }
  if (rnn) {
    parts.push(rnnTableText(rnn, format));
    skipped.push(...rnn.missing);
  }
  return { text: parts.join('\n'), skipped };
}
