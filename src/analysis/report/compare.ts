/**
 * `renderComparison`: several parsed runs side by side (docs/methods.md#cross-run-analyses; the paper's Fig. 4): a table of final genotype,
 * validation accuracy and λ_max (trajectory mean and final value) per run, and the correlation of
 * λ_max with the search model's final validation error across runs (Pearson and Spearman with
 * two-sided p-values, scatter with a least-squares line).
 *
 * The paper correlates λ_max with the *test* error of the retrained architecture; a run folder
 * holds only the search model's validation accuracy, which is what is used here.
 *
 * Pure: it returns the texts of comparison.html, comparison.json and the figures;
 * `experiments/reports` reads the run folders and writes them.
 */
import { ConfigError } from '../../errors.js';
import { correlationScatterSpec, correlationTitle, renderSvg, type ScatterPoint } from '../plots/index.js';
import type { Correlation } from '../stats.js';
import { escapeHtml, inlineSvg, page, pct, svgFile, table, type Cell } from './html.js';
import type { Run } from './records.js';
import type { ReportFile } from './build.js';
import { finalGenotype, summarize, type RunSummary } from './series.js';

export interface ComparisonRow extends RunSummary {
  dir: string;
  repr: string | null;
}

export interface CorrelationResult {
  x: 'meanEigenvalue' | 'finalEigenvalue';
  y: 'finalValidError';
  n: number;
  pearson: Correlation;
  spearman: Correlation;
}

export interface RenderedComparison {
  /** Text of comparison.html. */
  html: string;
  /** Text of comparison.json. */
  json: string;
  /** The correlation scatters, named relative to the plots folder. */
  plots: ReportFile[];
  rows: ComparisonRow[];
  correlations: CorrelationResult[];
}

function jsonSafe(c: Correlation): Record<string, number | null> {
  const f = (v: number) => (Number.isFinite(v) ? v : null);
  return { r: f(c.r), p: f(c.p), t: f(c.t), n: c.n };
}

/** Compare parsed runs: the texts of comparison.html, comparison.json and the scatter figures. */
export async function renderComparison(runs: Run[]): Promise<RenderedComparison> {
  if (runs.length === 0) throw new ConfigError('buildComparison: no run folders given', 'pass at least one run folder (two or more for correlations)');
  const rows: ComparisonRow[] = runs.map((run) => {
    const fin = finalGenotype(run);
    return { ...summarize(run), dir: run.dir, repr: fin?.repr ?? null };
  });
  const plots: ReportFile[] = [];
  const correlations: CorrelationResult[] = [];
  const figures: string[] = [];
  for (const key of ['meanEigenvalue', 'finalEigenvalue'] as const) {
    const pts: ScatterPoint[] = rows
      .filter((r) => r[key] !== null && r.finalValidAcc !== null)
      .map((r) => ({ x: r[key]!, y: 100 * (1 - r.finalValidAcc!), label: r.name }));
    if (pts.length < 2) continue;
    const corr = correlationTitle(pts);
    correlations.push({ x: key, y: 'finalValidError', n: pts.length, pearson: corr.pearson, spearman: corr.spearman });
    const what = key === 'meanEigenvalue' ? 'mean λ_max over the trajectory' : 'final λ_max';
    const svg = await renderSvg(correlationScatterSpec(pts, { title: `Validation error vs ${what}`, xTitle: what, yTitle: 'final validation error of the search model (%)' }));
    plots.push({ name: key === 'meanEigenvalue' ? 'correlation-mean-eigenvalue.svg' : 'correlation-final-eigenvalue.svg', data: svgFile(svg) });
    figures.push(`<div class="figure">${inlineSvg(svg, `corr-${key}`)}</div>`);
  }

  const headers = ['run', 'method', 'space', 'dataset', 'seed', 'L2', 'stop', 'epochs', 'ADA rollbacks', 'final valid acc %', 'best valid acc %', 'mean λ_max', 'final λ_max'];
  const tableRows: Cell[][] = rows.map((r) => [
    r.name,
    r.method,
    r.space,
    r.dataset,
    r.seed,
    r.l2,
    r.stopReason,
    r.epochsRun,
    r.rollbackCount,
    pct(r.finalValidAcc),
    pct(r.bestValidAcc),
    r.meanEigenvalue,
    r.finalEigenvalue,
  ]);
  const corrRows: Cell[][] = correlations.map((c) => [
    c.x === 'meanEigenvalue' ? 'mean λ_max' : 'final λ_max',
    'final validation error',
    c.n,
    c.pearson.r,
    c.pearson.p,
    c.spearman.r,
    c.spearman.p,
  ]);
  const genos = rows.map((r) => `<h3>${escapeHtml(r.name)}</h3><pre class="repr">${escapeHtml(r.repr ?? 'no genotype recorded')}</pre>`).join('\n');
  const body = [
    `<header><h1>rdarts comparison — ${rows.length} run(s)</h1><p class="sub">${escapeHtml(rows.map((r) => r.dir).join(', '))}</p></header>`,
    `<section id="runs"><h2>Runs</h2>${table(headers, tableRows)}</section>`,
    `<section id="correlations"><h2>Curvature vs error</h2>${
      correlations.length
        ? `<p class="note">Error: the search model's final validation error (the paper uses the test error of the retrained architecture). Two-sided p-values, t approximation for Spearman.</p>${table(['x', 'y', 'n', 'Pearson r', 'p', 'Spearman ρ', 'p'], corrRows)}<div class="row">${figures.join('')}</div>`
        : '<p class="note">Fewer than two runs with both λ_max and a validation accuracy: no correlations.</p>'
    }</section>`,
    `<section id="genotypes"><h2>Final genotypes</h2>${genos}</section>`,
  ].join('\n');
  const json =
    JSON.stringify(
      { runs: rows, correlations: correlations.map((c) => ({ x: c.x, y: c.y, n: c.n, pearson: jsonSafe(c.pearson), spearman: jsonSafe(c.spearman) })) },
      (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
      2,
    ) + '\n';
  return { html: page('rdarts comparison', body), json, plots, rows, correlations };
}
