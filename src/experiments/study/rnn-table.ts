/**
 * The table of a recurrent-cell study (docs/lm.md#studies; Table 4's PTB row, paper-spec §11.3):
 * per method entry and seed, the search model's final validation perplexity, the search's last
 * λ_max, the trained cell's test perplexity and its parameters; a mean ± std row over the seeds of
 * each entry with two or more. The same shape and renderers as the S6 table (study/table.ts
 * dispStudyTable): Markdown, CSV, JSON and an HTML fragment. For an R-DARTS grid job
 * (rdarts-l2 / rdarts-dp) the search numbers are those of the member the grid selected (the one
 * its training trained), named in the row. Numbers missing from unfinished jobs stay missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mean, std } from '../../analysis/stats.js';
import type { Job, JobGraph } from './job.js';
import { readJsonObjectOrNull, RUN_FILES } from '../run-format.js';

export type RnnColumn = 'validPpl' | 'lambdaMax' | 'testPpl' | 'parametersM';
export const RNN_COLUMNS: RnnColumn[] = ['validPpl', 'lambdaMax', 'testPpl', 'parametersM'];
export const RNN_COLUMN_LABELS: Record<RnnColumn, string> = {
  validPpl: 'search valid ppl',
  lambdaMax: 'final λ_max',
  testPpl: 'test ppl',
  parametersM: 'params (M)',
};

export interface RnnValue {
  mean: number;
  /** sample std over the seeds (null: one value) */
  std: number | null;
  n: number;
}

export interface RnnTableRow {
  benchmark: string;
  /** the method entry's name */
  method: string;
  /** the search method (darts, darts-es, darts-ada, rdarts-l2, rdarts-dp) */
  searchMethod: string;
  /** the entry's `config:` as text (dropouth=0.35), '' without one */
  sweep: string;
  /** a grid job (rdarts-l2 / rdarts-dp): the member it selected (l2_1.5e-06); null otherwise and in mean rows */
  selected: string | null;
  /** the seed, or null for the mean ± std row of the entry */
  seed: number | null;
  values: Record<RnnColumn, RnnValue | null>;
  /** run folders the row was read from */
  sources: string[];
}

export interface RnnStudyTable {
  rows: RnnTableRow[];
  /** jobs whose numbers are missing, with why */
  missing: string[];
}

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const single = (x: number | null): RnnValue | null => (x === null ? null : { mean: x, std: null, n: 1 });

function configText(c: Record<string, unknown> | undefined, prefix = ''): string {
  if (!c) return '';
  return Object.entries(c)
    .map(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) ? configText(v as Record<string, unknown>, `${prefix}${k}.`) : `${prefix}${k}=${Array.isArray(v) ? v.join('×') : String(v)}`))
    .join(', ');
}

/** The last λ_max of a search folder's metrics.jsonl (null: none measured). */
function lastLambda(dir: string): number | null {
  const p = join(dir, RUN_FILES.metrics);
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

/** The search numbers of a finished search folder; for a grid folder, its selected member's. */
function searchNumbers(dir: string): { validPpl: number | null; lambdaMax: number | null; selected: string | null; source: string } | null {
  const r = readJsonObjectOrNull(join(dir, RUN_FILES.result));
  if (!r) return null;
  if (Array.isArray(r.members)) {
    const sel = typeof r.selected === 'string' ? r.selected : null;
    if (!sel) return { validPpl: null, lambdaMax: null, selected: null, source: dir };
    const m = join(dir, RUN_FILES.members, sel);
    const mr = readJsonObjectOrNull(join(m, RUN_FILES.result));
    return { validPpl: finite((mr?.finalValid as { ppl?: unknown } | null | undefined)?.ppl), lambdaMax: lastLambda(m), selected: sel, source: m };
  }
  return { validPpl: finite((r.finalValid as { ppl?: unknown } | null | undefined)?.ppl), lambdaMax: lastLambda(dir), selected: null, source: dir };
}

/** The rnn table of a study's folders (null when the study has no rnn search jobs). */
export function rnnStudyTable(studyDir: string, g: JobGraph): RnnStudyTable | null {
  const searches = g.jobs.filter((j) => j.space === 'rnn' && j.phase === 'search');
  if (!searches.length) return null;
  const trainOf = new Map<string, Job>(g.jobs.filter((j) => j.space === 'rnn' && j.phase === 'train').map((j) => [j.deps[0]!, j]));
  const missing: string[] = [];
  const perSeed: RnnTableRow[] = [];
  for (const s of searches) {
    const dir = join(studyDir, s.dir);
    const sn = searchNumbers(dir);
    if (!sn) missing.push(`${s.id}: not finished`);
    const t = trainOf.get(s.id);
    const tr = t ? readJsonObjectOrNull(join(studyDir, t.dir, RUN_FILES.result)) : null;
    if (t && !tr) missing.push(`${t.id}: not finished`);
    const params = finite(tr?.parameters);
    perSeed.push({
      benchmark: s.benchmark,
      method: s.method,
      searchMethod: s.searchMethod,
      sweep: configText(s.sweep),
      selected: sn?.selected ?? null,
      seed: s.seed,
      values: {
        validPpl: single(sn?.validPpl ?? null),
        lambdaMax: single(sn?.lambdaMax ?? null),
        testPpl: single(finite((tr?.test as { ppl?: unknown } | null | undefined)?.ppl)),
        parametersM: single(params === null ? null : params / 1e6),
      },
      sources: [sn?.source ?? dir, ...(t && tr ? [join(studyDir, t.dir)] : [])],
    });
  }
  const rows: RnnTableRow[] = [];
  const key = (r: RnnTableRow): string => `${r.benchmark}\u0000${r.method}`;
  for (const k of [...new Set(perSeed.map(key))]) {
    const mine = perSeed.filter((r) => key(r) === k);
    rows.push(...mine);
    if (mine.length < 2) continue;
    const agg = Object.fromEntries(
      RNN_COLUMNS.map((c) => {
        const xs = mine.map((r) => r.values[c]?.mean).filter((x): x is number => x !== undefined);
        return [c, xs.length ? { mean: mean(xs), std: xs.length > 1 ? std(xs) : null, n: xs.length } : null];
      }),
    ) as Record<RnnColumn, RnnValue | null>;
    rows.push({ ...mine[0]!, selected: null, seed: null, values: agg, sources: mine.flatMap((r) => r.sources) });
  }
  return { rows, missing };
}

const MISSING = '—';

function valueText(v: RnnValue | null, c: RnnColumn): string {
  if (!v) return MISSING;
  const f = (x: number): string => (c === 'lambdaMax' ? x.toPrecision(4) : c === 'parametersM' ? (Math.abs(x) < 0.1 ? x.toPrecision(3) : x.toFixed(2)) : x.toFixed(2));
  return v.std === null ? f(v.mean) : `${f(v.mean)} ± ${f(v.std)}`;
}

const noteText = (r: RnnTableRow): string => [r.sweep, r.selected ? `selected ${r.selected}` : ''].filter(Boolean).join('; ');
const seedText = (r: RnnTableRow): string => (r.seed === null ? `mean ± std (${Math.max(...RNN_COLUMNS.map((c) => r.values[c]?.n ?? 0))})` : String(r.seed));
const csvField = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

const CAPTION =
  "Search valid ppl: the search model's final validation perplexity (for a grid, of the member it selected); final λ_max: the search's last Hessian measurement (hessian.every); test ppl: the cell trained from scratch, its best model on the test stream; params: the trained model's weights; — = not measured or not finished.";

/** The rnn table as Markdown, CSV (std and n columns) or JSON. */
export function rnnTableText(t: RnnStudyTable, format: 'markdown' | 'csv' | 'json'): string {
  if (format === 'json') return JSON.stringify({ table: 'rnn (paper Table 4 PTB row: test perplexity; + search valid ppl, final λ_max)', columns: RNN_COLUMNS.map((c) => ({ column: c, label: RNN_COLUMN_LABELS[c] })), rows: t.rows, missing: t.missing }, null, 2) + '\n';
  if (format === 'csv') {
    const head = ['benchmark', 'method', 'search_method', 'note', 'seed', ...RNN_COLUMNS.flatMap((c) => [c, `${c}_std`, `${c}_n`])];
    const lines = [head.join(',')];
    for (const r of t.rows) {
      const vals = RNN_COLUMNS.flatMap((c) => {
        const v = r.values[c];
        return v ? [String(v.mean), v.std === null ? '' : String(v.std), String(v.n)] : ['', '', '0'];
      });
      lines.push([r.benchmark, r.method, r.searchMethod, noteText(r), r.seed === null ? 'mean' : String(r.seed), ...vals].map(csvField).join(','));
    }
    return lines.join('\n') + '\n';
  }
  const head = ['benchmark', 'method', 'note', 'seed', ...RNN_COLUMNS.map((c) => RNN_COLUMN_LABELS[c])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of t.rows) lines.push(`| ${[r.benchmark, r.method, noteText(r) || MISSING, seedText(r), ...RNN_COLUMNS.map((c) => valueText(r.values[c], c))].join(' | ')} |`);
  lines.push('', CAPTION);
  return lines.join('\n') + '\n';
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The rnn table as an HTML fragment (a heading, the table and its caption). */
export function rnnTableHtml(t: RnnStudyTable): string {
  const head = ['benchmark', 'method', 'note', 'seed', ...RNN_COLUMNS.map((c) => RNN_COLUMN_LABELS[c])].map((h) => `<th>${esc(h)}</th>`).join('');
  const body = t.rows
    .map((r) => `<tr${r.seed === null ? ' class="mean"' : ''}><th>${esc(r.benchmark)}</th><th>${esc(r.method)}</th><td>${esc(noteText(r) || MISSING)}</td><td>${esc(seedText(r))}</td>${RNN_COLUMNS.map((c) => `<td${r.values[c] ? '' : ' class="missing"'}>${esc(valueText(r.values[c], c))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<h2>Recurrent cell (rnn): search valid perplexity, final λ_max, test perplexity, parameters</h2>
<table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table>
<p>${esc(CAPTION)}${t.missing.length ? ' Missing: ' + esc(t.missing.join('; ')) : ''}</p>`;
}
