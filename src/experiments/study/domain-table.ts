/**
 * What the tables of the other domains' studies share (study/table.ts dispStudyTable for S6,
 * study/rnn-table.ts for the recurrent cell): per-seed rows of named columns, a mean ± std row per
 * method entry with two or more seeds, and the renderers (Markdown, CSV, JSON, an HTML fragment).
 * Each domain says which columns it has, how a value prints and what its caption says.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mean, std } from '../../analysis/stats.js';
import { RUN_FILES } from '../run-format.js';

export interface TableValue {
  mean: number;
  /** sample std over the seeds (null: one value) */
  std: number | null;
  n: number;
}

/** The fields every domain row has. */
export interface DomainRow<C extends string> {
  benchmark: string;
  method: string;
  searchMethod: string;
  /** the seed, or null for the mean ± std row of the entry */
  seed: number | null;
  values: Record<C, TableValue | null>;
  sources: string[];
}

export const MISSING = '—';

export const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
export const single = (x: number | null): TableValue | null => (x === null ? null : { mean: x, std: null, n: 1 });

/** A method entry's `config:` as text (`augment=1`, nested keys dotted, arrays joined by ×); '' without one. */
export function sweepText(c: Record<string, unknown> | undefined, prefix = ''): string {
  if (!c) return '';
  return Object.entries(c)
    .map(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) ? sweepText(v as Record<string, unknown>, `${prefix}${k}.`) : `${prefix}${k}=${Array.isArray(v) ? v.join('×') : String(v)}`))
    .join(', ');
}

/** The last λ_max of a search folder's metrics (null: none measured). */
export function lastLambdaMax(dir: string): number | null {
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

/** The per-seed rows, each entry's rows followed by its mean ± std row when it has two or more; `meanRow` adjusts that row (fields that name one seed's run). */
export function withSeedMeans<C extends string, R extends DomainRow<C>>(perSeed: R[], columns: readonly C[], meanRow: (r: R) => R = (r) => r): R[] {
  const rows: R[] = [];
  const key = (r: R): string => `${r.benchmark}\u0000${r.method}`;
  for (const k of [...new Set(perSeed.map(key))]) {
    const mine = perSeed.filter((r) => key(r) === k);
    rows.push(...mine);
    if (mine.length < 2) continue;
    const agg = Object.fromEntries(
      columns.map((c) => {
        const xs = mine.map((r) => r.values[c]?.mean).filter((x): x is number => x !== undefined);
        return [c, xs.length ? { mean: mean(xs), std: xs.length > 1 ? std(xs) : null, n: xs.length } : null];
      }),
    ) as Record<C, TableValue | null>;
    rows.push(meanRow({ ...mine[0]!, seed: null, values: agg, sources: mine.flatMap((r) => r.sources) }));
  }
  return rows;
}

/** How one domain's table prints. */
export interface TableSpec<C extends string, R extends DomainRow<C>> {
  columns: readonly C[];
  labels: Record<C, string>;
  /** the JSON document's `table` field */
  title: string;
  /** the header and text of the column between method and seed (S6: the sweep; rnn: a note) */
  noteHeader: string;
  note(r: R): string;
  value(v: number, c: C): string;
  /** the line under the Markdown table */
  caption: string;
  /** the HTML fragment's heading and its closing paragraph (before the missing jobs) */
  htmlTitle: string;
  htmlFooter: string;
}

function valueText<C extends string>(v: TableValue | null, c: C, f: (x: number, c: C) => string): string {
  if (!v) return MISSING;
  return v.std === null ? f(v.mean, c) : `${f(v.mean, c)} ± ${f(v.std, c)}`;
}

const seedText = <C extends string>(r: DomainRow<C>, columns: readonly C[]): string => (r.seed === null ? `mean ± std (${Math.max(...columns.map((c) => r.values[c]?.n ?? 0))})` : String(r.seed));
const csvField = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A domain table as Markdown, CSV (one line per row; std and n columns) or JSON. */
export function domainTableText<C extends string, R extends DomainRow<C>>(spec: TableSpec<C, R>, t: { rows: R[]; missing: string[] }, format: 'markdown' | 'csv' | 'json'): string {
  const cols = spec.columns;
  if (format === 'json') return JSON.stringify({ table: spec.title, columns: cols.map((c) => ({ column: c, label: spec.labels[c] })), rows: t.rows, missing: t.missing }, null, 2) + '\n';
  if (format === 'csv') {
    const head = ['benchmark', 'method', 'search_method', spec.noteHeader, 'seed', ...cols.flatMap((c) => [c, `${c}_std`, `${c}_n`])];
    const lines = [head.join(',')];
    for (const r of t.rows) {
      const vals = cols.flatMap((c) => {
        const v = r.values[c];
        return v ? [String(v.mean), v.std === null ? '' : String(v.std), String(v.n)] : ['', '', '0'];
      });
      lines.push([r.benchmark, r.method, r.searchMethod, spec.note(r), r.seed === null ? 'mean' : String(r.seed), ...vals].map(csvField).join(','));
    }
    return lines.join('\n') + '\n';
  }
  const head = ['benchmark', 'method', spec.noteHeader, 'seed', ...cols.map((c) => spec.labels[c])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of t.rows) lines.push(`| ${[r.benchmark, r.method, spec.note(r) || MISSING, seedText(r, cols), ...cols.map((c) => valueText(r.values[c], c, spec.value))].join(' | ')} |`);
  lines.push('', spec.caption);
  return lines.join('\n') + '\n';
}

/** A domain table as an HTML fragment (a heading, the table and its closing paragraph). */
export function domainTableHtml<C extends string, R extends DomainRow<C>>(spec: TableSpec<C, R>, t: { rows: R[]; missing: string[] }): string {
  const cols = spec.columns;
  const head = ['benchmark', 'method', spec.noteHeader, 'seed', ...cols.map((c) => spec.labels[c])].map((h) => `<th>${esc(h)}</th>`).join('');
  const body = t.rows
    .map((r) => `<tr${r.seed === null ? ' class="mean"' : ''}><th>${esc(r.benchmark)}</th><th>${esc(r.method)}</th><td>${esc(spec.note(r) || MISSING)}</td><td>${esc(seedText(r, cols))}</td>${cols.map((c) => `<td${r.values[c] ? '' : ' class="missing"'}>${esc(valueText(r.values[c], c, spec.value))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<h2>${spec.htmlTitle}</h2>
<table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table>
<p>${spec.htmlFooter}${t.missing.length ? ' Missing: ' + esc(t.missing.join('; ')) : ''}</p>`;
}
