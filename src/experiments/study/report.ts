/**
 * `rdarts study report DIR`: one HTML page with the study's table (study/table.ts) and the
 * cross-run figures of the paper:
 *   - λ_max over epochs per benchmark and method, mean ± std over the seeds (Figure 3 style);
 *   - test error and final λ_max against the regularisation value for rdarts-l2 / rdarts-dp
 *     grid members (Figures 6–8), one point per search;
 *   - final λ_max of each search against the test error of its trained cell, with Pearson and
 *     Spearman coefficients (Figure 4 style; needs a train phase).
 * Collecting reads the run folders (`collectReportData`); the figures are built from those
 * plain records by pure functions here and analysis/plots (scatter, rendering).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mean, std } from '../../analysis/stats.js';
import { correlationScatterSpec, renderSvg, type TopLevelSpec } from '../../analysis/plots/index.js';
import { BASE_CONFIG, VEGA_LITE_SCHEMA } from '../../analysis/plots/style.js';
import { tableToHtml, type TableFigure } from '../../analysis/table.js';
import type { JobGraph } from './graph.js';
import { dispStudyTable, dispTableHtml, studyTable } from './table.js';
import { rnnStudyTable, rnnTableHtml, type RnnStudyTable } from './rnn-table.js';
import { s5StudySpecs } from './truth.js';

export interface SearchRecord {
  job: string;
  benchmark: string;
  method: string;
  seed: number | null;
  grid: { parameter: 'weightDecay' | 'dropPath'; value: number } | null;
  /** λ_max per measured epoch */
  eigen: Array<{ epoch: number; maxEigenvalue: number }>;
  /** test error of the cell trained from this search (train phase), or null */
  testError: number | null;
  /** S6: test EPE (px) of the cell trained from this search, or null (absent for CNN searches) */
  testEpe?: number | null;
}

function lines(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** One record per search job, from its folder and its train job's result.json. */
export function collectReportData(studyDir: string, g: JobGraph): SearchRecord[] {
  const trainOf = new Map(g.jobs.filter((j) => j.phase === 'train').map((j) => [j.deps[0]!, j]));
  return g.jobs
    .filter((j) => j.phase === 'search')
    .map((j) => {
      const eigen = lines(join(studyDir, j.dir, 'metrics.jsonl'))
        .filter((l) => l.kind === 'hessian' && typeof l.maxEigenvalue === 'number' && typeof l.epoch === 'number')
        .map((l) => ({ epoch: l.epoch as number, maxEigenvalue: l.maxEigenvalue as number }));
      const t = trainOf.get(j.id);
      let testError: number | null = null;
      let testEpe: number | null = null;
      if (t && existsSync(join(studyDir, t.dir, 'result.json'))) {
        const r = JSON.parse(readFileSync(join(studyDir, t.dir, 'result.json'), 'utf8')) as { testError?: unknown; testEpe?: unknown };
        testError = typeof r.testError === 'number' ? r.testError : null;
        testEpe = typeof r.testEpe === 'number' ? r.testEpe : null;
      }
      return { job: j.id, benchmark: j.benchmark, method: j.method, seed: j.seed, grid: j.grid, eigen, testError, ...(j.space === 's6' ? { testEpe } : {}) };
    });
}

/** λ_max mean ± std over seeds per epoch, one line per method, for one benchmark (pure). */
export function eigenBandSpec(benchmark: string, recs: SearchRecord[]): TopLevelSpec | null {
  const rows: Array<{ method: string; epoch: number; mean: number; lo: number; hi: number; n: number }> = [];
  const byMethod = new Map<string, SearchRecord[]>();
  for (const r of recs) if (r.benchmark === benchmark && r.eigen.length && !r.grid) byMethod.set(r.method, [...(byMethod.get(r.method) ?? []), r]);
  for (const [method, rs] of byMethod) {
    const epochs = [...new Set(rs.flatMap((r) => r.eigen.map((e) => e.epoch)))].sort((a, b) => a - b);
    for (const epoch of epochs) {
      // the last measurement of that epoch in each seed's search (a DARTS-ADA rollback re-measures)
      const xs = rs.flatMap((r) => r.eigen.filter((e) => e.epoch === epoch).slice(-1).map((e) => e.maxEigenvalue));
      const m = mean(xs);
      const s = xs.length > 1 ? std(xs) : 0;
      rows.push({ method, epoch, mean: m, lo: m - s, hi: m + s, n: xs.length });
    }
  }
  if (!rows.length) return null;
  const x = { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1, format: 'd' } };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: `λ_max over epochs — ${benchmark}`, subtitle: 'mean ± std over seeds (band), per method' },
    width: 520,
    height: 260,
    config: BASE_CONFIG,
    data: { values: rows },
    layer: [
      { mark: { type: 'area', opacity: 0.2 }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'λ_max' }, y2: { field: 'hi' }, color: { field: 'method', type: 'nominal' } } },
      { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color: { field: 'method', type: 'nominal' }, tooltip: [{ field: 'method' }, { field: 'epoch' }, { field: 'mean', format: '.4g' }, { field: 'n' }] } },
    ],
  } as TopLevelSpec;
}

/** The figures' specs with titles (pure). */
export function reportSpecs(recs: SearchRecord[]): Array<{ title: string; spec: TopLevelSpec }> {
  const out: Array<{ title: string; spec: TopLevelSpec }> = [];
  for (const b of [...new Set(recs.map((r) => r.benchmark))]) {
    const s = eigenBandSpec(b, recs);
    if (s) out.push({ title: `λ_max trajectories, ${b} (Figure 3 style)`, spec: s });
  }
  for (const parameter of ['weightDecay', 'dropPath'] as const) {
    const rs = recs.filter((r) => r.grid?.parameter === parameter);
    if (!rs.length) continue;
    const name = parameter === 'weightDecay' ? 'L2' : 'drop path';
    const err = rs.filter((r) => r.testError !== null).map((r) => ({ x: r.grid!.value, y: 100 * r.testError!, label: r.job }));
    if (err.length) out.push({ title: `test error vs ${name} (Figures 6–8)`, spec: correlationScatterSpec(err, { title: `Test error vs ${name}`, xTitle: name, yTitle: 'test error (%)' }) });
    const ev = rs.filter((r) => r.eigen.length).map((r) => ({ x: r.grid!.value, y: r.eigen[r.eigen.length - 1]!.maxEigenvalue, label: r.job }));
    if (ev.length) out.push({ title: `final λ_max vs ${name} (Figures 6–8)`, spec: correlationScatterSpec(ev, { title: `Final λ_max vs ${name}`, xTitle: name, yTitle: 'λ_max' }) });
  }
  const corr = recs.filter((r) => r.testError !== null && r.eigen.length).map((r) => ({ x: r.eigen[r.eigen.length - 1]!.maxEigenvalue, y: 100 * r.testError!, label: r.job }));
  if (corr.length >= 2) out.push({ title: 'final λ_max vs test error of the trained cell (Figure 4 style)', spec: correlationScatterSpec(corr, { title: 'λ_max at the end of search vs test error', xTitle: 'λ_max', yTitle: 'test error (%)' }) });
  // S6: the same for the disparity cells, with their test EPE
  const epe = recs.filter((r) => typeof r.testEpe === 'number' && r.eigen.length).map((r) => ({ x: r.eigen[r.eigen.length - 1]!.maxEigenvalue, y: r.testEpe!, label: r.job }));
  if (epe.length >= 2) out.push({ title: 'S6: final λ_max vs test EPE of the trained cell', spec: correlationScatterSpec(epe, { title: 'λ_max at the end of search vs test EPE (S6)', xTitle: 'λ_max', yTitle: 'test EPE (px)' }) });
  return out;
}

/** The study's report page. */
export async function buildStudyReport(studyDir: string, g: JobGraph): Promise<{ html: string; figures: number; missing: string[] }> {
  const rnn = rnnStudyTable(studyDir, g);
  if (rnn) return rnnStudyReport(studyDir, g, rnn);
  const { table, skipped } = studyTable(studyDir, g);
  const specs = [...reportSpecs(collectReportData(studyDir, g)), ...s5StudySpecs(studyDir, g)];
  const figures: TableFigure[] = [];
  for (const s of specs) figures.push({ title: s.title, svg: await renderSvg(s.spec) });
  const disp = dispStudyTable(studyDir, g);
  const note = skipped.length ? `Missing: ${skipped.join('; ')}` : undefined;
  if (!disp) return { html: tableToHtml(table, { title: `Study ${g.study}`, figures, ...(note ? { note } : {}) }), figures: figures.length, missing: skipped };
  if (g.jobs.every((j) => j.space === 's6')) return { html: dispReportPage(g.study, dispTableHtml(disp), figures), figures: figures.length, missing: disp.missing };
  // CNN and S6 benchmarks in one study: the CNN page with the S6 table after its own
  const html = tableToHtml(table, { title: `Study ${g.study}`, figures, ...(note ? { note } : {}) }).replace(/(<\/tbody><\/table>\n<p>[^\n]*<\/p>)/, `$1\n${dispTableHtml(disp).replace(/\$/g, '$$$$')}`);
  return { html, figures: figures.length, missing: [...skipped, ...disp.missing] };
}

/** The report page of a study of S6 benchmarks only: its table and the figures. */
function dispReportPage(study: string, tableHtml: string, figures: TableFigure[]): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const inline = (svg: string): string => (svg.indexOf('<svg') > 0 ? svg.slice(svg.indexOf('<svg')) : svg);
  const figs = figures.map((f) => `<figure><figcaption>${esc(f.title)}</figcaption>${inline(f.svg)}</figure>`).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Study ${esc(study)}</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:80em}
table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:right}
th{text-align:left}tr.mean td{font-weight:bold}td.missing{color:#aaa;text-align:center}
figure{display:inline-block;margin:1em;vertical-align:top}figcaption{font-size:.9em;color:#444}
</style></head><body>
<h1>Study ${esc(study)}</h1>
${tableHtml}
${figs}
</body></html>
`;
}

/**
 * A study with recurrent (rnn) benchmarks (docs/lm.md#studies): an rnn-only study gets a page of
 * its table (study/rnn-table.ts) and figures (λ_max over epochs per method); in a study that also
 * has other spaces, the page of those (built without the rnn jobs) gains the rnn table and figures.
 */
async function rnnStudyReport(studyDir: string, g: JobGraph, rnn: RnnStudyTable): Promise<{ html: string; figures: number; missing: string[] }> {
  const only = (keep: (space: string) => boolean): JobGraph => {
    const jobs = g.jobs.filter((j) => keep(j.space));
    const ids = new Set(jobs.map((j) => j.id));
    return { study: g.study, jobs, phases: { search: g.phases.search.filter((i) => ids.has(i)), select: g.phases.select.filter((i) => ids.has(i)), train: g.phases.train.filter((i) => ids.has(i)) } };
  };
  const figures: TableFigure[] = [];
  for (const s of reportSpecs(collectReportData(studyDir, only((sp) => sp === 'rnn')))) figures.push({ title: s.title, svg: await renderSvg(s.spec) });
  if (g.jobs.every((j) => j.space === 'rnn')) return { html: dispReportPage(g.study, rnnTableHtml(rnn), figures), figures: figures.length, missing: rnn.missing };
  const rest = await buildStudyReport(studyDir, only((sp) => sp !== 'rnn'));
  const inline = (svg: string): string => (svg.indexOf('<svg') > 0 ? svg.slice(svg.indexOf('<svg')) : svg);
  const extra = [rnnTableHtml(rnn), ...figures.map((f) => `<figure><figcaption>${f.title.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</figcaption>${inline(f.svg)}</figure>`)].join('\n');
  const at = rest.html.lastIndexOf('</body>');
  const html = at >= 0 ? `${rest.html.slice(0, at)}${extra}\n${rest.html.slice(at)}` : `${rest.html}\n${extra}`;
  return { html, figures: rest.figures + figures.length, missing: [...rest.missing, ...rnn.missing] };
}
