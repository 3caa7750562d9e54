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
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTable, isTableMethod, TABLE_METHODS, tableToCsv, tableToJson, tableToMarkdown, type PaperTable, type TableEntry, type TableMethod } from '../../analysis/table.js';
import { mean, std } from '../../analysis/stats.js';
import type { Job, JobGraph } from './graph.js';
import { readJsonObjectOrNull } from '../run-format.js';
import { rnnStudyTable, rnnTableText } from './rnn-table.js';

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

export interface DispValue {
  mean: number;
  /** sample std over the seeds (null: one value) */
  std: number | null;
  n: number;
}

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
export function sweepText(c: Record<string, unknown> | undefined, prefix = ''): string {
  if (!c) return '';
  return Object.entries(c)
    .map(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) ? sweepText(v as Record<string, unknown>, `${prefix}${k}.`) : `${prefix}${k}=${Array.isArray(v) ? v.join('×') : String(v)}`))
    .join(', ');
}

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The last λ_max of a search folder's metrics (null: none measured). */
export function lastLambdaMax(dir: string): number | null {
  const p = join(dir, 'metrics.jsonl');
  if (!existsSync(p)) return null;
  let last: number | null = null;
  for (const l of readFileSync(p, 'utf8').split('\n')) {
    if (!l.includes('"hessian"')) continue;
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      if (o.kind === 'hessian' && finite(o.maxEigenvalue) !== null) last = o.maxEigenvalue as number;
    } catch {
      // a line being written
    }
  }
  return last;
}

const single = (x: number | null): DispValue | null => (x === null ? null : { mean: x, std: null, n: 1 });

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
  const rows: DispTableRow[] = [];
  const keys = [...new Set(perSeed.map((r) => `${r.benchmark}\u0000${r.method}`))];
  for (const k of keys) {
    const mine = perSeed.filter((r) => `${r.benchmark}\u0000${r.method}` === k);
    rows.push(...mine);
    if (mine.length < 2) continue;
    const agg = Object.fromEntries(
      DISP_COLUMNS.map((c) => {
        const xs = mine.map((r) => r.values[c]?.mean).filter((x): x is number => x !== undefined);
        return [c, xs.length ? { mean: mean(xs), std: xs.length > 1 ? std(xs) : null, n: xs.length } : null];
      }),
    ) as Record<DispColumn, DispValue | null>;
    rows.push({ ...mine[0]!, seed: null, values: agg, sources: mine.flatMap((r) => r.sources) });
  }
  return { rows, missing };
}

const MISSING = '—';
const digits: Record<DispColumn, number> = { oneShotValidEpe: 3, lambdaMax: 4, testEpe: 3, sintelEpe: 3, parametersM: 3 };

function valueText(v: DispValue | null, c: DispColumn): string {
  if (!v) return MISSING;
  const f = (x: number): string => (c === 'lambdaMax' || (c === 'parametersM' && Math.abs(x) < 0.1) ? x.toPrecision(digits[c]) : x.toFixed(digits[c]));
  return v.std === null ? f(v.mean) : `${f(v.mean)} ± ${f(v.std)}`;
}

const seedText = (r: DispTableRow): string => (r.seed === null ? `mean ± std (${Math.max(...DISP_COLUMNS.map((c) => r.values[c]?.n ?? 0))})` : String(r.seed));

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The S6 table as Markdown, CSV (one line per row; std and n columns) or JSON. */
export function dispTableText(t: DispStudyTable, format: 'markdown' | 'csv' | 'json'): string {
  if (format === 'json') return JSON.stringify({ table: 'S6 (paper Table 2 columns + final λ_max)', columns: DISP_COLUMNS.map((c) => ({ column: c, label: DISP_COLUMN_LABELS[c] })), rows: t.rows, missing: t.missing }, null, 2) + '\n';
  if (format === 'csv') {
    const head = ['benchmark', 'method', 'search_method', 'sweep', 'seed', ...DISP_COLUMNS.flatMap((c) => [c, `${c}_std`, `${c}_n`])];
    const lines = [head.join(',')];
    for (const r of t.rows) {
      const vals = DISP_COLUMNS.flatMap((c) => {
        const v = r.values[c];
        return v ? [String(v.mean), v.std === null ? '' : String(v.std), String(v.n)] : ['', '', '0'];
      });
      lines.push([r.benchmark, r.method, r.searchMethod, r.sweep, r.seed === null ? 'mean' : String(r.seed), ...vals].map(csvField).join(','));
    }
    return lines.join('\n') + '\n';
  }
  const head = ['benchmark', 'method', 'sweep', 'seed', ...DISP_COLUMNS.map((c) => DISP_COLUMN_LABELS[c])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of t.rows) lines.push(`| ${[r.benchmark, r.method, r.sweep || MISSING, seedText(r), ...DISP_COLUMNS.map((c) => valueText(r.values[c], c))].join(' | ')} |`);
  lines.push('', 'One-shot valid EPE: the search\'s supernet on its validation split after the last epoch; final λ_max: the last Hessian measurement of the search; test / Sintel EPE: the cell trained from scratch, after its last epoch; — = not measured (Sintel without sintelDir) or not finished.');
  return lines.join('\n') + '\n';
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The S6 table as an HTML fragment (a heading, the table and its caption). */
export function dispTableHtml(t: DispStudyTable): string {
  const head = ['benchmark', 'method', 'sweep', 'seed', ...DISP_COLUMNS.map((c) => DISP_COLUMN_LABELS[c])].map((h) => `<th>${esc(h)}</th>`).join('');
  const body = t.rows
    .map((r) => `<tr${r.seed === null ? ' class="mean"' : ''}><th>${esc(r.benchmark)}</th><th>${esc(r.method)}</th><td>${esc(r.sweep || MISSING)}</td><td>${esc(seedText(r))}</td>${DISP_COLUMNS.map((c) => `<td${r.values[c] ? '' : ' class="missing"'}>${esc(valueText(r.values[c], c))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<h2>S6: Table 2 (one-shot validation EPE, final λ_max, test and Sintel EPE, parameters)</h2>
<table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table>
<p>EPE in pixels; — = not measured or not finished.${t.missing.length ? ' Missing: ' + esc(t.missing.join('; ')) : ''}</p>`;
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
