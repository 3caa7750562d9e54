/** A cross-run scatter with a least-squares line and Pearson/Spearman (docs/methods.md#cross-run-analyses). */
import { pearson, spearman, type Correlation } from '../stats.js';
import { BASE_CONFIG, VEGA_LITE_SCHEMA, type TopLevelSpec } from './style.js';

export interface ScatterPoint {
  x: number;
  y: number;
  label?: string;
}

export interface ScatterOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
}

/** Least-squares line y = a + b·x (null for fewer than 2 points or constant x). */
export function leastSquares(points: ScatterPoint[]): { intercept: number; slope: number } | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

function fmtCorr(name: string, c: Correlation): string {
  if (!Number.isFinite(c.r)) return `${name} n/a`;
  const p = Number.isFinite(c.p) ? (c.p < 1e-3 ? c.p.toExponential(1) : c.p.toFixed(3)) : 'n/a';
  return `${name} = ${c.r.toFixed(3)} (p = ${p})`;
}

/** Correlation summary used in the scatter's title. */
export function correlationTitle(points: ScatterPoint[]): { text: string; pearson: Correlation; spearman: Correlation } {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const pr = pearson(xs, ys);
  const sp = spearman(xs, ys);
  return { text: `${fmtCorr('Pearson r', pr)}, ${fmtCorr('Spearman ρ', sp)}, n = ${points.length}`, pearson: pr, spearman: sp };
}

/** Scatter with a least-squares line; Pearson and Spearman (with p-values) in the title. */
export function correlationScatterSpec(points: ScatterPoint[], opts: ScatterOptions = {}): TopLevelSpec {
  const corr = correlationTitle(points);
  const fit = leastSquares(points);
  const xs = points.map((p) => p.x);
  const line = fit ? [Math.min(...xs), Math.max(...xs)].map((x) => ({ x, y: fit.intercept + fit.slope * x })) : [];
  const x = { field: 'x', type: 'quantitative' as const, title: opts.xTitle ?? 'x', scale: { zero: false } };
  const y = { field: 'y', type: 'quantitative' as const, title: opts.yTitle ?? 'y', scale: { zero: false } };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: opts.title ?? 'Correlation across runs', subtitle: corr.text },
    width: 420,
    height: 300,
    config: BASE_CONFIG,
    layer: [
      {
        data: { values: points.map((p) => ({ ...p, label: p.label ?? '' })) },
        mark: { type: 'point', filled: true, size: 60 },
        encoding: { x, y, tooltip: [{ field: 'label', type: 'nominal' }, { field: 'x', type: 'quantitative' }, { field: 'y', type: 'quantitative' }] },
      },
      {
        data: { values: points.map((p) => ({ ...p, label: p.label ?? '' })) },
        mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 9, color: '#555' },
        encoding: { x, y, text: { field: 'label', type: 'nominal' } },
      },
      {
        data: { values: line },
        mark: { type: 'line', color: '#d62728', strokeDash: [6, 3] },
        encoding: { x, y },
      },
    ],
  } as TopLevelSpec;
}
