/**
 * Small HTML helpers for self-contained reports: escaping, inlining SVG (prolog and DOCTYPE
 * dropped, ids made unique per figure), tables, number formatting, and the shared stylesheet.
 */

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * SVG text ready to sit inside HTML: XML prolog, DOCTYPE (which links to a DTD on the web) and
 * comments removed; every id, and every reference to one, prefixed with `scope` so that several
 * figures (Graphviz numbers its nodes `node1`, `node2`, … in every figure) do not collide.
 */
export function inlineSvg(svg: string, scope: string): string {
  const s = svg
    .replace(/<\?xml[^>]*\?>/g, '')
    .replace(/<!DOCTYPE[^>]*>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .trim();
  return s
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${scope}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${scope}-${id})`)
    .replace(/\b(xlink:href|href)="#([^"]+)"/g, (_m, attr: string, id: string) => `${attr}="#${scope}-${id}"`);
}

/** A standalone SVG file's text: Graphviz output keeps its prolog; vega output gets one. */
export function svgFile(svg: string): string {
  const s = svg.trim();
  return s.startsWith('<?xml') ? s + '\n' : `<?xml version="1.0" encoding="UTF-8"?>\n${s}\n`;
}

export type Cell = string | number | null | undefined;

/** Format a cell: numbers to `digits` significant places, null/undefined as an en dash. */
export function fmt(v: Cell, digits = 4): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return String(+v.toPrecision(digits));
}

export function pct(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : (100 * v).toFixed(digits);
}

/** An HTML table; cells are escaped; `rowClass` gives an optional class per row. */
export function table(headers: string[], rows: Cell[][], opts: { rowClass?: (i: number) => string | undefined; className?: string } = {}): string {
  const head = `<tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = rows
    .map((r, i) => {
      const cls = opts.rowClass?.(i);
      return `<tr${cls ? ` class="${escapeHtml(cls)}"` : ''}>${r.map((c) => `<td>${escapeHtml(fmt(c))}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<table${opts.className ? ` class="${escapeHtml(opts.className)}"` : ''}>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** Key/value table (definition style). */
export function kvTable(pairs: Array<[string, Cell]>): string {
  return `<table class="kv">\n${pairs.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(fmt(v, 6))}</td></tr>`).join('\n')}\n</table>`;
}

export const STYLE = `
body { font-family: Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1em 2em 4em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1.05em; }
.sub { color: #666; margin-top: 0; }
nav a { margin-right: 1em; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; font-size: 0.85em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
th { background: #f0f0f0; }
table.kv th { text-align: left; }
table.kv td { text-align: left; }
td:first-child, th:first-child { text-align: left; }
tr.discarded td { color: #999; font-style: italic; }
.figure { margin: 1em 0; overflow-x: auto; }
.figure svg { max-width: 100%; height: auto; }
.row { display: flex; flex-wrap: wrap; gap: 2em; align-items: flex-start; }
.cells .figure svg { max-height: 420px; }
.note { color: #666; font-size: 0.9em; }
.warn { color: #a15c00; }
.events li { margin: 0.2em 0; }
`;

/** A complete HTML page (inline CSS, no scripts, no external resources). */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
