/**
 * The paper's comparison table (RobustDARTS Table 3 layout, docs/evaluation.md#tables) built from typed
 * entries: rows dataset × space, columns RS-ws, DARTS, R-DARTS(DP), R-DARTS(L2), DARTS-ES,
 * DARTS-ADA; each cell the test error (%) of that method's evaluated cell. Several entries for
 * one cell are shown as mean ± sample std (Table 1 style). In each row the best (lowest) value
 * is marked 'best' and the next distinct value 'second' (the paper sets the best in bold);
 * missing cells stay missing, never filled. Pure: no files; experiments/table-input.ts reads runs.
 * Renderers: Markdown, CSV (one line per cell), JSON, a self-contained HTML page.
 */

export const TABLE_METHODS = ['rs-ws', 'darts', 'rdarts-dp', 'rdarts-l2', 'darts-es', 'darts-ada'] as const;
export type TableMethod = (typeof TABLE_METHODS)[number];

export const METHOD_LABELS: Record<TableMethod, string> = {
  'rs-ws': 'RS-ws',
  darts: 'DARTS',
  'rdarts-dp': 'R-DARTS(DP)',
  'rdarts-l2': 'R-DARTS(L2)',
  'darts-es': 'DARTS-ES',
  'darts-ada': 'DARTS-ADA',
};

const DATASET_LABELS: Record<string, string> = { cifar10: 'C10', cifar100: 'C100', svhn: 'SVHN', 'fashion-mnist': 'F-MNIST', synthetic: 'synthetic' };
const DATASET_ORDER = ['cifar10', 'cifar100', 'svhn', 'fashion-mnist', 'synthetic'];
const SPACE_ORDER = ['s1', 's2', 's3', 's4', 'darts'];

export function isTableMethod(m: string): m is TableMethod {
  return (TABLE_METHODS as readonly string[]).includes(m);
}

export interface TableEntry {
  dataset: string;
  space: string;
  method: TableMethod;
  /** test error as a fraction in [0, 1] */
  testError: number;
  /** where it came from (a run folder), for the record */
  source: string;
}

export type Mark = 'best' | 'second' | null;

export interface TableCell {
  /** test error in percent (mean over the entries) */
  value: number;
  /** sample standard deviation in percent, null for a single entry */
  std: number | null;
  n: number;
  mark: Mark;
  sources: string[];
}

export interface TableRow {
  dataset: string;
  space: string;
  cells: Record<TableMethod, TableCell | null>;
}

export interface PaperTable {
  columns: TableMethod[];
  rows: TableRow[];
}

function orderOf(list: string[], x: string): number {
  const i = list.indexOf(x);
  return i < 0 ? list.length : i;
}

/** Group the entries into the paper's layout and mark the best and second best of each row. */
export function buildTable(entries: TableEntry[], columns: TableMethod[] = [...TABLE_METHODS]): PaperTable {
  const groups = new Map<string, Map<TableMethod, TableEntry[]>>();
  for (const e of entries) {
    if (!(e.testError >= 0 && e.testError <= 1)) throw new RangeError(`table entry from ${e.source}: test error ${e.testError} is not a fraction in [0, 1]`);
    const key = `${e.dataset}\u0000${e.space}`;
    if (!groups.has(key)) groups.set(key, new Map());
    const g = groups.get(key)!;
    if (!g.has(e.method)) g.set(e.method, []);
    g.get(e.method)!.push(e);
  }
  const rows: TableRow[] = [...groups.entries()].map(([key, g]) => {
    const [dataset, space] = key.split('\u0000') as [string, string];
    const cells = Object.fromEntries(TABLE_METHODS.map((m) => [m, null])) as Record<TableMethod, TableCell | null>;
    for (const m of columns) {
      const es = g.get(m);
      if (!es?.length) continue;
      const xs = es.map((e) => 100 * e.testError);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : null;
      cells[m] = { value: mean, std, n: xs.length, mark: null, sources: es.map((e) => e.source) };
    }
    markRow(columns.map((m) => cells[m]));
    return { dataset, space, cells };
  });
  rows.sort((a, b) => orderOf(DATASET_ORDER, a.dataset) - orderOf(DATASET_ORDER, b.dataset) || a.dataset.localeCompare(b.dataset) || orderOf(SPACE_ORDER, a.space) - orderOf(SPACE_ORDER, b.space) || a.space.localeCompare(b.space));
  return { columns, rows };
}

/** Best = every cell at the row's lowest value (as displayed, 2 decimals); second = the next distinct value. */
function markRow(cells: Array<TableCell | null>): void {
  const present = cells.filter((c): c is TableCell => c !== null);
  const shown = (c: TableCell): number => Math.round(c.value * 100);
  const distinct = [...new Set(present.map(shown))].sort((a, b) => a - b);
  for (const c of present) c.mark = shown(c) === distinct[0] ? 'best' : distinct.length > 1 && shown(c) === distinct[1] ? 'second' : null;
}

function cellText(c: TableCell | null): string {
  if (!c) return '';
  return c.std !== null ? `${c.value.toFixed(2)} ± ${c.std.toFixed(2)}` : c.value.toFixed(2);
}

const MISSING = '—';

export function datasetLabel(d: string): string {
  return DATASET_LABELS[d] ?? d;
}

/** Markdown: best in bold, second best in italics, missing cells as —. */
export function tableToMarkdown(t: PaperTable): string {
  const head = ['data', 'space', ...t.columns.map((m) => METHOD_LABELS[m])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of t.rows) {
    const vals = t.columns.map((m) => {
      const c = r.cells[m];
      if (!c) return MISSING;
      const s = cellText(c);
      return c.mark === 'best' ? `**${s}**` : c.mark === 'second' ? `_${s}_` : s;
    });
    lines.push(`| ${[datasetLabel(r.dataset), r.space.toUpperCase(), ...vals].join(' | ')} |`);
  }
  lines.push('', 'Test error (%) after the last epoch; **best**, _second best_ per row; — = not evaluated.');
  return lines.join('\n') + '\n';
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV, one line per (row, method): dataset,space,method,test_error,std,n,mark (empty fields when missing). */
export function tableToCsv(t: PaperTable): string {
  const lines = ['dataset,space,method,test_error,std,n,mark,sources'];
  for (const r of t.rows) {
    for (const m of t.columns) {
      const c = r.cells[m];
      lines.push(
        [r.dataset, r.space, METHOD_LABELS[m], c ? c.value.toFixed(4) : '', c?.std !== null && c ? c.std.toFixed(4) : '', c ? String(c.n) : '0', c?.mark ?? (c ? '' : 'missing'), c ? c.sources.join(';') : '']
          .map(csvField)
          .join(','),
      );
    }
  }
  return lines.join('\n') + '\n';
}

export function tableToJson(t: PaperTable): string {
  return (
    JSON.stringify(
      {
        columns: t.columns.map((m) => ({ method: m, label: METHOD_LABELS[m] })),
        unit: 'test error (%)',
        rows: t.rows.map((r) => ({ dataset: r.dataset, space: r.space, cells: Object.fromEntries(t.columns.map((m) => [m, r.cells[m]])) })),
      },
      null,
      2,
    ) + '\n'
  );
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface TableFigure {
  title: string;
  /** an inline SVG document */
  svg: string;
}

/** A self-contained HTML page: the table (best bold, second underlined, missing greyed) and figures. */
export function tableToHtml(t: PaperTable, o: { title?: string; figures?: TableFigure[]; note?: string } = {}): string {
  const title = o.title ?? 'Test error of the evaluated cells';
  const head = ['data', 'space', ...t.columns.map((m) => METHOD_LABELS[m])].map((h) => `<th>${esc(h)}</th>`).join('');
  const body = t.rows
    .map((r) => {
      const tds = t.columns
        .map((m) => {
          const c = r.cells[m];
          if (!c) return `<td class="missing">${MISSING}</td>`;
          const tip = esc(`${c.n} run(s): ${c.sources.join(', ')}`);
          return `<td class="${c.mark ?? ''}" title="${tip}">${esc(cellText(c))}</td>`;
        })
        .join('');
      return `<tr><th>${esc(datasetLabel(r.dataset))}</th><th>${esc(r.space.toUpperCase())}</th>${tds}</tr>`;
    })
    .join('\n');
  const inline = (svg: string): string => (svg.indexOf('<svg') > 0 ? svg.slice(svg.indexOf('<svg')) : svg); // drop an XML prolog / doctype
  const figs = (o.figures ?? []).map((f) => `<figure><figcaption>${esc(f.title)}</figcaption>${inline(f.svg)}</figure>`).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:70em}
table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:right}
th{text-align:left}td.best{font-weight:bold}td.second{text-decoration:underline}td.missing{color:#aaa;text-align:center}
figure{display:inline-block;margin:1em;vertical-align:top}figcaption{font-size:.9em;color:#444}
</style></head><body>
<h1>${esc(title)}</h1>
<table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table>
<p>Test error (%) after the last epoch; <b>best</b> and <u>second best</u> per row; — = not evaluated (never filled in).${o.note ? ' ' + esc(o.note) : ''}</p>
${figs}
</body></html>
`;
}
